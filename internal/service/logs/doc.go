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
//     exclusive, the start index inclusive) while storing the rest. Sequence
//     tokens are ignored, as AWS now does: DataAlreadyAcceptedException and
//     InvalidSequenceTokenException are never returned. The entity member is
//     ignored.
//   - GetLogEvents tokens are "f/<56 digits>/s" and "b/<56 digits>/s" like
//     AWS's and follow AWS's rules (a token at the end of the stream comes
//     back unchanged), but encode our own positions. Pages stop at 10,000
//     events or 1 MB. Event ids are 56 digits encoding timestamp, stream and
//     sequence; FilterLogEvents tokens are opaque.
//   - FilterLogEvents searches the whole time range before answering (no
//     partial pages) and lists every searched stream in searchedLogStreams;
//     it holds up to limit events per stream in memory while merging.
//   - DescribeLogGroups pages by name; DescribeLogStreams,
//     DescribeMetricFilters and DescribeSubscriptionFilters page by offset.
//   - Metric filters publish one datum per matching event as it arrives (no
//     per-minute aggregation before CloudWatch) and one defaultValue datum
//     per non-matching event; dimensions are read from the event's fields.
//     emitSystemFieldDimensions, fieldSelectionCriteria and
//     applyOnTransformedLogs are stored and returned but not applied.
//   - The embedded metric format is read from every event holding an "_aws"
//     member, with or without the x-amzn-logs-format header; directives in
//     AWS/ namespaces, over 30 dimensions or over 100 metrics are skipped.
//   - Subscription filters (at most 2 per group) are stored and delivered
//     synchronously, after the events are stored, through a
//     SubscriptionDeliverer when one is wired (Lambda), as the gzipped
//     DATA_MESSAGE document AWS sends; other destinations (Kinesis,
//     Firehose) are accepted and not delivered.
//   - Retention is enforced by a controller every 10 minutes, and at once
//     after PutRetentionPolicy, deleting events older than the period; AWS
//     deletes lazily. DELIVERY-class groups have a fixed 2-day retention.
//   - DeleteLogGroup refuses groups with deletionProtectionEnabled
//     (InvalidOperationException); PutLogGroupDeletionProtection is not
//     implemented. Tags apply to log groups only.
//   - Logs Insights (CWLI only) supports fields/display (with as), filter
//     (comparisons, like/not like with "text" or /regex/, =~, in [...],
//     and/or/not, ispresent, isempty), stats (count, count_distinct, sum,
//     avg, min, max by fields and bin(period)), sort, limit and parse (glob
//     and named-group regex). JSON messages are flattened into dotted
//     fields; Lambda START/END/REPORT lines give @type, @requestId,
//     @duration, @billedDuration, @memorySize, @maxMemoryUsed and
//     @initDuration. Queries run synchronously in StartQuery over at most 1,000,000
//     events and are kept in memory (the last 1,000); GetQueryResults answers
//     Complete at once; StopQuery on a finished query answers success=false.
//     Results without sort come newest first; stats rows are ordered by
//     their group key.
//   - StartLiveTail is an event-stream operation and answers NotImplemented;
//     `aws logs tail --follow` works by polling FilterLogEvents. Data
//     protection, transformers, anomaly detection, deliveries, destinations,
//     account and resource policies, export tasks, field indexes and
//     integrations answer NotImplemented.
//   - KMS key ids are stored and returned, never used.
//   - CreateLogGroup and DeleteLogGroup hold their region's lock across the
//     KV write; puts hold only their stream's lock.
package logs
