// Package s3 implements Amazon S3: buckets and their configuration
// sub-resources, objects with versioning, multipart uploads, listings,
// conditional and ranged requests, checksums, event notifications,
// lifecycle expiration, static website hosting, CORS and virtual-hosted,
// accelerate and website host names.
//
// Object metadata lives in the KV store (in a compact binary record) and
// bodies in the blob store: every version gets a fresh random blob key
// (never derived from the object key, so no key can reach outside the data
// directory), the body is streamed into it while its MD5 ETag and any
// declared checksum are computed in the same pass, and only then is the
// metadata committed.
// A blob that is replaced is deleted after the commit; readers that opened
// it keep reading what they opened, so no reader sees a torn object and the
// last complete write wins. GET bodies are handed to the HTTP server as files,
// so the kernel sends them (sendfile). Bodies of at most Options.InlineMax
// bytes (4 KiB) are kept inside the object's record instead: one KV write
// per small PUT, no file (the KV keeps them in memory, as it keeps all
// metadata). Decoded bucket records are cached next to the
// bytes they came from and reused only while the stored bytes are unchanged.
//
// Bodies larger than that are read, hashed and written through pooled
// 256 KiB buffers, and CompleteMultipartUpload concatenates the parts into
// the final blob file by file (a kernel copy on disk), so a 5 GiB upload
// holds no more than a few buffers in memory.
//
// # Measuring
//
//	go test ./internal/service/s3 -run '^$' -bench 'Stack|Loopback' -benchmem
//
// replays requests the Go SDK sent (captured once, SigV4-signed) against the
// gateway as the server builds it on a disk store: BenchmarkStack* call the
// handler (allocations and process CPU per request, cpu-µs/op),
// BenchmarkLoopback* go through net/http over loopback, next to a bare
// net/http handler and net/http's file server as floors.
//
//	OVERCAST_S3_BIG=1 go test ./internal/service/s3 -run TestBigMultipartRSS -v -timeout 30m
//
// uploads 5 GiB through the SDK's upload manager to a server in a child
// process and reports the server's largest resident set size.
//
// The request-rate mode (Options.RateLimit, `overcast --s3-rate-limit`)
// admits 3,500 writes (PUT, COPY, POST, DELETE) and 5,500 reads (GET, HEAD,
// LIST) per second per bucket prefix and answers the excess with
// 503 SlowDown, as S3 does before it scales a prefix out; the SDKs retry
// SlowDown with backoff, so a client that pushes too hard slows down
// rather than fails.
//
// # Fidelity
//
//   - Bucket names are global per partition; another account's bucket answers
//     AccessDenied. Requests are not redirected by bucket region, and bucket
//     policies and ACLs are stored and read back but not enforced (the IAM
//     engine enforces policies).
//   - Re-creating one's own bucket in us-east-1 succeeds, as in S3; elsewhere
//     it answers BucketAlreadyOwnedByYou.
//   - Objects without a client checksum get none (S3 now adds CRC64NVME by
//     default); every object reports SSE-S3 (AES256) unless SSE-KMS or SSE-C
//     headers were sent; encryption is not applied to the bytes at rest.
//   - Multipart parts are concatenated into one blob at completion (constant
//     memory, kernel copy on disk). Composite checksums follow S3's rules;
//     CRC64NVME is always full-object.
//   - Lifecycle: Expiration (Days, Date, ExpiredObjectDeleteMarker),
//     NoncurrentVersionExpiration and AbortIncompleteMultipartUpload are
//     applied by a controller every minute (S3 runs once a day); transitions
//     are stored but not applied.
//   - Event notifications are delivered synchronously after the commit, to
//     whatever NotificationSink the server wires (Sinks: SQS queues, SNS
//     topics, Lambda functions); a failed delivery
//     is logged and dropped. Putting a notification configuration sends
//     s3:TestEvent to each destination, as S3 does.
//   - The request-rate mode counts prefixes as the key up to its last '/'
//     with token buckets holding one second's worth; S3 splits and scales
//     partitions over time, this does not.
//   - Lifecycle passes scan every object of the buckets that have rules.
//   - Request metrics (AllRequests, Get/Put/Head/Delete/List/PostRequests,
//     4xxErrors, 5xxErrors, BytesDownloaded, BytesUploaded,
//     FirstByteLatency) are always on for every bucket (S3 needs a metrics
//     configuration), aggregated in memory and published each minute as
//     statistic sets; FirstByteLatency is the time to the handler's answer,
//     and TotalRequestLatency is not emitted.
//   - HEAD with a Range answers 200 with the full length (S3 answers 206).
//   - A crash between storing a body and committing its metadata leaves an
//     unreferenced blob file behind (never a visible half-object).
//   - Presigned URLs and POST policies are checked with Signature Version 4
//     only; SigV2 presigned URLs (botocore's default for some regions without
//     signature_version="s3v4") are not accepted in verify mode.
//   - Object Lock settings are stored and echoed, not enforced. Directory
//     buckets, S3 Select, restore, inventory/analytics/metrics configurations
//     and access points answer NotImplemented.
//   - POST uploads check the policy document's expiration and conditions; the
//     signature is checked only when the server verifies signatures.
package s3
