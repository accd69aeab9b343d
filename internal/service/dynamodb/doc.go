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
// Deviations:
//   - Tables and indexes are ACTIVE as soon as they are created; GSI backfill
//     happens inside UpdateTable.
//   - ItemCount, TableSizeBytes and index sizes are exact and live (DynamoDB
//     refreshes them about every six hours). Item sizes follow DynamoDB's rules
//     approximately (numbers count about one byte per two digits).
//   - Nothing is throttled: BatchWriteItem and BatchGetItem never return
//     unprocessed items, and ConsumedCapacity is a nominal figure.
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
