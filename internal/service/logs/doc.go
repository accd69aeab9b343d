// Package logs implements Amazon CloudWatch Logs (json 1.1, target prefix
// Logs_20140328): log groups with retention, KMS key ids, classes and tags;
// log streams; PutLogEvents with AWS's batch rules; GetLogEvents with
// forward and backward tokens; FilterLogEvents with the filter pattern
// syntax (package pattern); metric filters that publish CloudWatch metrics
// as events arrive; the embedded metric format; subscription filters;
// retention enforced by a controller; and Logs Insights queries for the
// commands fields, filter, stats, sort, limit and parse.
//
// # Storage
//
// Group, stream and filter metadata live under the "logs" scope and are
// mirrored in memory (rebuilt at Start). Events live under a separate
// "logs.events" scope keyed group/stream/timestamp+sequence, so every read
// is a range scan in time order and start-up never walks the events.
// PutLogEvents writes its events and the stream's new metadata in one
// KV.Update before answering.
//
// # Fidelity
//
//   - PutLogEvents enforces the batch rules (10,000 events, 1,048,576 bytes
//     counting 26 bytes per event, events in chronological order, a span of
//     at most 24 hours) with InvalidParameterException, and reports events
//     more than 14 days old, older than the retention period or more than
//     2 hours in the future in rejectedLogEventsInfo (end indexes are
//     exclusive, start indexes inclusive). Sequence tokens are ignored, as
//     AWS now does: DataAlreadyAcceptedException and
//     InvalidSequenceTokenException are never returned.
//   - Event ids are 56 decimal digits like AWS's but encode the timestamp,
//     the stream and a sequence number; tokens are opaque but not AWS's.
//   - FilterLogEvents always searches the whole time range before answering
//     (no partial pages); searchedLogStreams lists every stream searched.
//   - Metric filters publish one datum per matching event through the
//     metrics publisher (no per-minute pre-aggregation); dimensions are
//     read from the event's fields; emitSystemFieldDimensions and
//     fieldSelectionCriteria are stored but not applied.
//   - Subscription filters are stored and delivered through a
//     SubscriptionDeliverer when one is wired (Lambda); other destinations
//     (Kinesis, Firehose) are accepted and not delivered.
//   - Retention deletes whole events older than the retention period on a
//     controller pass (every 10 minutes and at start); AWS deletes lazily.
//   - StartLiveTail is an event-stream operation and answers
//     NotImplemented; `aws logs tail --follow` works by polling
//     FilterLogEvents. Logs Insights runs the query synchronously when it
//     is started; queries live in memory only. Data protection, transformers,
//     anomaly detection, deliveries, destinations, account policies, export
//     tasks and field indexes answer NotImplemented.
//   - KMS key ids are stored and returned, never used.
package logs
