// Package disk is Overcast's default embedded store: a storage.KV and a
// storage.Blobs kept under one data directory, which survive restarts and
// crashes.
//
// # Layout
//
//	<dir>/LOCK                    flock held while a Store is open
//	<dir>/kv/snap-<gen>.snap      the whole key space as of the start of log <gen>
//	<dir>/kv/wal-<gen>.log        transactions committed after that
//	<dir>/blobs/ab/cd/<sha256>    one file per blob
//
// # KV design
//
// The whole key space lives in memory in the same persistent ordered map as
// package memory, so reads never touch the disk and a View is a pointer load.
// Durability comes from an append-only write-ahead log: each committed Update
// appends one CRC-32C-framed record holding its writes, and returns only once
// that record is fsynced. Concurrent Updates share fsyncs (group commit): fn
// runs under a writer lock, the record is written, the lock is released, and
// the first committer to find no fsync in progress fsyncs everything written so
// far on behalf of all of them. Views see only fsynced state, so nothing a
// reader observed can be lost by a crash.
//
// On open the newest snapshot is loaded and the logs after it are replayed. A
// bad record in the last log (a write torn by a crash) ends replay and the log
// is truncated there; that record's Update never returned, so nothing
// acknowledged is lost. A bad record in an older log, or a damaged snapshot,
// is reported as corruption.
//
// When the log exceeds Options.CompactBytes, the writer fsyncs it, starts the
// next log, and a background goroutine writes the in-memory state at that
// point (a free snapshot, since the map is persistent) to a temporary file,
// fsyncs it, renames it into place and fsyncs the directory; only then are
// the older logs and snapshots removed. A crash at any step leaves a complete
// older snapshot plus the logs after it.
//
// # Why this design
//
// Overcast's state is resource metadata — queues, buckets, object and item
// records — where bodies go to Blobs, so the key space fits in memory many
// times over and the costs that matter are commit latency and throughput on
// one machine. A log-plus-memory engine pays one sequential append and one
// shared fsync per commit and never reads the disk; a B+tree engine such as
// bbolt rewrites and fsyncs dirty pages and its meta page on every commit and
// admits one writer at a time, so concurrent committers cannot share an fsync.
//
// Measured with BenchmarkPeers* in ./peerbench (go test -tags benchpeers;
// 2 vCPU VM, ext4 on a virtual disk shared with other builds, so absolute
// figures vary from run to run; the ratios held), one 100-byte Put per
// transaction against bbolt v1.5.0:
//
//	                                  this store          bbolt
//	Update, fsync, 1 writer           0.21 ms/op          0.38 ms/op
//	Update, fsync, 128 writers        18 us/op (56k/s)    427 us/op (2.3k/s)
//	Update, no fsync, 1 writer        8.5 us/op           34 us/op
//	Update, no fsync, 128 writers     10 us/op            48 us/op
//	Get in a View, 100k keys          1.2 us/op           1.4 us/op
//
// Group commit is what separates the concurrent rows: bbolt allows one writer
// and one fsync per transaction, so its throughput is bounded by fsync
// latency whatever the concurrency.
//
// The cost is start-up time and memory proportional to the data set: opening
// a store of one million 100-byte entries takes about 0.3 s, from a snapshot
// or from the log alike; a typical emulator data set opens in milliseconds.
package disk
