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
// (one record per message body, one per receive state), and Start rebuilds
// the indexes from the store, so a restart loses no acknowledged message and
// never brings back a deleted one.
//
// Time (delays, visibility timeouts, retention, long polling, the FIFO
// deduplication window) comes from an injected clock.
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
// DeadLetterQueueSourceArn) and message move tasks.
//
// Deviations:
//   - Retention expiry and dead-letter moves happen when the queue is next
//     touched (receive, attribute read), not in the background.
//   - Message move tasks run to completion when started, ignoring
//     MaxNumberOfMessagesPerSecond, and move messages not in flight; tasks
//     are not persisted across restarts.
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
