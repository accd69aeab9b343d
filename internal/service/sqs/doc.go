// Package sqs implements Amazon Simple Queue Service over both of its wire
// protocols: json 1.0 (current SDKs and CLIs) and query (older clients such
// as AWS CLI 2.9 and boto3 1.26), with the query-compatible error codes
// (AWS.SimpleQueueService.NonExistentQueue, ...) in the x-amzn-query-error
// header and the query error document.
//
// Each queue keeps in-memory indexes — receivable messages in order (for
// FIFO queues: per message group, with a list of groups whose head can be
// received), a min-heap of delayed and in-flight messages keyed by the time
// they become visible, and the messages by sequence number — so send,
// receive, delete and visibility changes cost O(log n) whatever the depth.
// Every acknowledged change is committed to the KV store before the answer
// (one record per message body and, right after it in key order, one per
// receive state, so a delete rewrites one path of the store), and Start rebuilds
// the indexes from the store, so a restart loses no acknowledged message and
// never brings back a deleted one.
//
// Time (delays, visibility timeouts, retention, long polling, the FIFO
// deduplication window) comes from an injected clock. Background work runs
// in controller loops on that clock: a sweep every second (retention
// expiry, dead-letter moves of messages whose visibility timeout ended
// after their last allowed receive, message move task steps) and, with a
// metrics publisher, the AWS/SQS metrics once a minute. Requests only bump
// per-queue counters under the queue lock they already hold.
//
// # Fidelity
//
// Emulated: standard and FIFO queues with every attribute validated as AWS
// does; queue URLs built from the Host the client used
// (http://<host>/<account>/<name>), accepting full URLs, the path form and
// bare names; ListQueues and ListDeadLetterSourceQueues pagination; tags;
// AddPermission/RemovePermission editing the Policy; send and batch send
// with per-entry failures, the MaximumMessageSize limit over body and
// attributes, body character validation, MD5OfMessageBody,
// MD5OfMessageAttributes and MD5OfMessageSystemAttributes computed as AWS
// computes them; receive with MaxNumberOfMessages, VisibilityTimeout, long
// polling (WaitTimeSeconds, woken by sends, no polling loop), message
// attribute name filters (All, .*, prefix.*) and system attributes;
// delete, visibility changes and their batches; delay queues and
// per-message delays; retention expiry; FIFO deduplication (explicit and
// content-based, 5 minutes, queue or message-group scope), message groups
// delivered in order with one group in flight at a time, sequence numbers;
// dead-letter queues (RedrivePolicy maxReceiveCount, RedriveAllowPolicy,
// DeadLetterQueueSourceArn) and message move tasks running in the
// background at MaxNumberOfMessagesPerSecond (RUNNING, then COMPLETED,
// CANCELLING/CANCELLED or FAILED). Metrics in AWS/SQS per QueueName, once a
// minute: ApproximateNumberOfMessagesVisible, ...NotVisible, ...Delayed,
// ApproximateAgeOfOldestMessage, NumberOfMessagesSent, ...Received,
// ...Deleted, NumberOfEmptyReceives and SentMessageSize (a statistic set).
//
// Deviations:
//   - Retention expiry and dead-letter moves happen within a second of
//     being due (on the sweep), or sooner when the queue is touched.
//   - Message move tasks move the messages that were in the source when the
//     task started and are not in flight; without a rate they move up to
//     1000 messages a step; tasks are not persisted across restarts.
//   - Metrics are published for queues that hold messages or saw activity
//     in the last six hours; NumberOfMessagesDeleted counts every accepted
//     receipt handle, stale or not; ApproximateAgeOfOldestMessage counts
//     from the original send time, also in dead-letter queues.
//   - The FIFO deduplication window is rebuilt on restart only from messages
//     still in the queue; ReceiveRequestAttemptId is accepted and ignored;
//     FIFO high-throughput settings are stored but do not change behaviour.
//   - Deleting with a stale receipt handle deletes the message (AWS may or
//     may not); DeleteQueue takes effect at once and a queue of the same
//     name can be created again immediately.
//   - KMS attributes are stored, nothing is encrypted; Policy is stored, not
//     enforced; there are no throughput limits.
//   - MaximumMessageSize is at most 262144 bytes.
package sqs
