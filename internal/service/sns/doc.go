// Package sns implements Amazon Simple Notification Service (query
// protocol): topics, subscriptions, publishing and delivery.
//
// Delivery to SQS goes through QueueSender, an interface SQS implements, so
// this package never imports SQS; the server wires the two. Queue deliveries
// happen before Publish answers, so a message acknowledged by Publish is
// already committed to every subscribed queue.
//
// # Fidelity
//
// Emulated: standard and FIFO topics with attribute validation, tags, data
// protection policies (stored), subscriptions for sqs, http, https, email,
// email-json, sms, lambda, firehose and application endpoints with the
// confirmation flow (sqs, lambda, firehose and application are confirmed at
// once; http/https receive a signed SubscriptionConfirmation whose
// SubscribeURL confirms through this server; email confirmations are
// recorded), subscription attributes (RawMessageDelivery, FilterPolicy,
// FilterPolicyScope, DeliveryPolicy, RedrivePolicy), Publish and
// PublishBatch with message attributes and MessageStructure=json, FIFO
// deduplication (explicit and content-based, 5 minutes) and sequence
// numbers, and filter policies on attributes or on the message body with
// exact string/number/boolean/null matches, prefix, suffix,
// equals-ignore-case, anything-but (values, prefix, suffix), numeric ranges,
// exists, cidr, nested keys and $or, validated as AWS validates them.
//
// Queue deliveries carry the SNS JSON envelope (Type, MessageId, TopicArn,
// Subject, Message, Timestamp, SignatureVersion, Signature, SigningCertURL,
// UnsubscribeURL, MessageAttributes) or, with RawMessageDelivery, the bare
// message with its attributes as SQS message attributes. Messages are signed
// (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) with a key made at
// start; its self-signed certificate is served at SigningCertURL.
//
// Deviations:
//   - The signing key and certificate are new on every start and are not
//     issued by Amazon: verifiers that pin the certificate's host or chain to
//     amazonaws.com reject them.
//   - HTTP deliveries are retried three times, one, two and three seconds
//     apart, whatever the delivery policy; failed deliveries are logged, not
//     sent to a subscription dead-letter queue.
//   - Email, email-json, SMS, Lambda, Firehose and mobile push deliveries are
//     recorded (see Service.Deliveries), not sent.
//   - Platform applications, SMS sandbox and opt-out operations, and
//     AddPermission/RemovePermission answer NotImplemented.
//   - FIFO deduplication state is not kept across restarts.
package sns
