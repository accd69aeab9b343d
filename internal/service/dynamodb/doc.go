// Package dynamodb implements Amazon DynamoDB and DynamoDB Streams: tables
// with global and local secondary indexes, items with the full expression
// language, Query and Scan, batches, transactions, TTL and streams.
//
// # Storage
//
// Items live in the ordered KV store under
// Scope.Key("item", tableID) + hash16(pk) + enc(pk) + enc(sk), where enc is
// an order-preserving, self-delimiting encoding (numbers are encoded so that
// bytewise order is numeric order; strings and binaries compare as unsigned
// bytes, as DynamoDB orders them). A Query is therefore one range scan, and
// parallel Scan segments are ranges of the 16-bit partition hash. Index
// entries (the projected item) are kept under Scope.Key("index", tableID,
// name) in the same transaction as the item, and so are stream records
// (Scope.Key("srec", streamID) + big-endian sequence number), so records
// follow commit order. Every write is one KV.Update; conditional writes and
// transactions are serializable because the store's updates are.
//
// # Fidelity
//
// Emulated: CreateTable/UpdateTable/DeleteTable/DescribeTable/ListTables with
// key schema, attribute definition and billing validation, GSIs (created and
// deleted by UpdateTable, with backfill) and LSIs with projections, stream
// specification, SSE description, tags, deletion protection, TTL with a
// background expiry that writes service-identity REMOVE stream records,
// continuous-backup description; PutItem, GetItem, UpdateItem, DeleteItem with
// ConditionExpression, UpdateExpression, ProjectionExpression, every function
// and comparator, ReturnValues and ReturnValuesOnConditionCheckFailure, and the
// legacy Expected, AttributeUpdates, AttributesToGet, KeyConditions,
// QueryFilter and ScanFilter parameters; Query and Scan (indexes,
// ScanIndexForward, Limit, ExclusiveStartKey/LastEvaluatedKey, the 1 MB page,
// Select=COUNT, Segment/TotalSegments); BatchGetItem, BatchWriteItem,
// TransactWriteItems (with ClientRequestToken idempotency for 10 minutes) and
// TransactGetItems; ListStreams, DescribeStream, GetShardIterator and
// GetRecords for every StreamViewType with 24-hour retention; PartiQL
// (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction): SELECT with
// projections and nested paths, WHERE on key and non-key attributes (a
// partition-key equality or IN becomes a Query, anything else a Scan), ORDER
// BY the sort key, Limit/NextToken; INSERT (DuplicateItemException on an
// existing key), UPDATE with SET/REMOVE/set_add/set_delete/list_append and
// RETURNING, DELETE (a missing item is a no-op), ? parameters, comments.
//
// Capacity: ConsumedCapacity (TOTAL and INDEXES) reports the units a request
// really consumed, in both billing modes: reads are 1 unit per 4 KB of item
// (rounded up per item for GetItem and batches, over the evaluated total for
// Query and Scan) and half that when eventually consistent; writes are 1 unit
// per KB of the larger of the old and new item, plus each index entry
// written (2 entries when an index key changes); transactions cost double.
// With WithThrottle (the server's --dynamodb-throttle), tables and global
// secondary indexes in PROVISIONED mode get token buckets refilled at their
// RCU/WCU per second and holding 300 seconds of burst, timed by the
// injected clock: a request is admitted while its bucket is not empty and
// its actual cost is taken afterwards. Beyond that, requests answer
// ProvisionedThroughputExceededException; BatchWriteItem and BatchGetItem
// return the throttled tables' items in UnprocessedItems/UnprocessedKeys
// (and the exception when nothing could be processed).
//
// Metrics: AWS/DynamoDB ConsumedReadCapacityUnits, ConsumedWriteCapacityUnits,
// ReadThrottleEvents and WriteThrottleEvents (TableName, and
// GlobalSecondaryIndexName for indexes), ThrottledRequests,
// SuccessfulRequestLatency and ReturnedItemCount (TableName, Operation) are
// counted per table with atomics on the request path and published once a
// minute on the injected clock (and on Stop).
//
// Deviations:
//   - Tables and indexes are ACTIVE as soon as they are created; GSI backfill
//     happens inside UpdateTable.
//   - ItemCount, TableSizeBytes and index sizes are exact and live (DynamoDB
//     refreshes them about every six hours). Item sizes follow DynamoDB's rules
//     approximately (numbers count about one byte per two digits).
//   - Throttling is off unless enabled, and then applies per table and
//     global index, not per partition (no hot-partition or adaptive
//     capacity behaviour). Buckets start full. A write is refused while any
//     of the table's global indexes is out of write capacity. Throttled
//     transactions answer ProvisionedThroughputExceededException rather than
//     a cancellation reason. PartiQL reads in ExecuteTransaction are charged
//     but not throttled.
//   - SuccessfulRequestLatency covers the single-table operations (GetItem,
//     PutItem, UpdateItem, DeleteItem, Query, Scan) and is the service's own
//     time, without the network.
//   - Each stream has one shard that never splits. Disabling a stream deletes
//     its records, and deleting a table deletes its stream.
//   - Transactions never conflict with each other (they are serialized), so
//     TransactionConflict never appears in CancellationReasons. Idempotency
//     tokens are remembered in memory only.
//   - PartiQL error messages follow DynamoDB's for the common refusals
//     (malformed statements, aliases, parameters, numbers, keys, set
//     functions); rarer refusals may word things differently. An
//     ExecuteTransaction may not mix reads and writes. NextToken is an opaque
//     position that does not expire.
//   - Backups, global tables, imports, exports and Kinesis destinations
//     answer NotImplemented.
package dynamodb
