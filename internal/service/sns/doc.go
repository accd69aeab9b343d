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
// HTTP/S deliveries follow the effective delivery policy (the
// subscription's healthyRetryPolicy, or the topic's
// http.defaultHealthyRetryPolicy when it sets disableSubscriptionOverrides
// or the subscription has none, or SNS's default of three retries 20 s
// apart): numRetries, the no-delay, minimum-delay, backoff and
// maximum-delay phases, minDelayTarget/maxDelayTarget and backoffFunction,
// all timed on the injected clock. 2xx is delivered; 5xx, 429 and
// connection errors are retried; other statuses fail at once. Lambda
// subscriptions are delivered through FunctionInvoker (SetFunctionInvoker)
// with the event AWS sends ({"Records":[{"EventSource":"aws:sns",...,
// "Sns":{...}}]}). A delivery that fails for good goes to the
// subscription's RedrivePolicy deadLetterTargetArn with the message as it
// would have been delivered and ErrorCode, ErrorMessage, RequestID and
// TopicArn message attributes. The AWS/SNS metrics NumberOfMessagesPublished,
// NumberOfNotificationsDelivered, NumberOfNotificationsFailed,
// NumberOfNotificationsFilteredOut and PublishSize (per TopicName) go to
// the metrics publisher once a minute, from a controller.
//
// Deviations:
//   - The signing key and certificate are new on every start and are not
//     issued by Amazon: verifiers that pin the certificate's host or chain to
//     amazonaws.com reject them.
//   - The backoff phase's curves are Overcast's own (linear x, arithmetic
//     x², geometric x³, exponential 2^(10x) between the two targets);
//     sicklyRetryPolicy and throttlePolicy are stored, not applied; retries
//     in progress are lost on restart.
//   - Lambda deliveries are retried three times at once and twice a second
//     apart (AWS keeps trying for days); SQS deliveries are not retried
//     (a missing queue is a client error for AWS too).
//   - Delivery status logs: for http/s, sqs, lambda, application and
//     firehose subscriptions, a topic with <Protocol>SuccessFeedbackRoleArn
//     gets a status event for a sample of successful deliveries
//     (<Protocol>SuccessFeedbackSampleRate, 0-100; 100 when unset) in the
//     CloudWatch Logs group sns/<region>/<account>/<topic-name>, and with
//     <Protocol>FailureFeedbackRoleArn one for every failed delivery in
//     .../<topic-name>/Failure, in AWS's JSON shape (notification
//     messageMD5Sum, messageId, topicArn, timestamp; delivery deliveryId,
//     destination, providerResponse, dwellTimeMs, attempts, statusCode;
//     status SUCCESS or FAILURE), through StatusLogger. The roles are not
//     assumed or checked; one log stream per server run; sqsMessageId and
//     lambdaRequestId in providerResponse are "Unrecorded"; SMS status
//     logging (SetSMSAttributes) is not emulated.
//   - Without a FunctionInvoker, and for email, email-json, SMS, Firehose
//     and mobile push, deliveries are recorded (see Service.Deliveries,
//     the last 1,000 in memory), not sent, and count as delivered. They are
//     served at GET /_overcast/sns/deliveries (JSON array; filters
//     protocol, endpoint, topic, subscription) and cleared with DELETE.
//     Email and email-json subscriptions stay PendingConfirmation until
//     ConfirmSubscription with the token of the recorded
//     SubscriptionConfirmation (both record the JSON confirmation document
//     email-json receives; AWS mails email endpoints a text version), and
//     email notifications are the bare message without AWS's unsubscribe
//     footer. Publish with PhoneNumber (E.164) is recorded the same way.
//   - Platform applications, SMS sandbox and opt-out operations, and
//     AddPermission/RemovePermission answer NotImplemented.
//   - FIFO deduplication state is not kept across restarts.
package sns
