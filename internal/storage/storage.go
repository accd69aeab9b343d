// Package storage defines the state contracts every Overcast service stores its
// resources through: KV, an ordered transactional key-value store for resource
// metadata, and Blobs, a streaming store for large bodies such as S3 objects and
// Lambda code packages.
//
// The contracts are small on purpose. Implementations live in sub-packages
// (memory for tests and --memory, disk for the default embedded store) and are
// all held to the same conformance suite in package storagetest. Capabilities
// beyond the contract are optional one-method interfaces, such as Filer.
//
// Keys are compared bytewise. Services build keys with Scope, which partitions
// the key space by service, account and region the way AWS partitions resources.
package storage

import (
	"errors"
	"io"
	"os"
)

var (
	// ErrNotFound is returned by Tx.Get, Blobs.Open and Blobs.Delete when the key
	// does not exist. Implementations MUST return it (possibly wrapped) so callers
	// can test it with errors.Is.
	ErrNotFound = errors.New("storage: not found")

	// ErrClosed is returned by every operation on a store after Close.
	ErrClosed = errors.New("storage: store closed")

	// ErrReadOnly is returned by Tx.Put and Tx.Delete inside KV.View.
	ErrReadOnly = errors.New("storage: read-only transaction")

	// ErrTxDone is returned by every Tx method called after the function the Tx
	// was passed to has returned.
	ErrTxDone = errors.New("storage: transaction already finished")

	// ErrEmptyKey is returned when a key is empty: the empty key is reserved so
	// that nil can mean "unbounded" in Scan.
	ErrEmptyKey = errors.New("storage: empty key")
)

// KV is an ordered, transactional key-value store.
//
// Implementations MUST be safe for concurrent use by many goroutines.
type KV interface {
	// View runs fn in a read-only transaction over a consistent snapshot of the
	// store: fn sees every Update that returned before View was called and none
	// that commits after the snapshot is taken. View MUST NOT block, or be blocked
	// by, concurrent Updates beyond the time needed to take the snapshot. The Tx
	// MUST NOT be used after fn returns. View returns fn's error unchanged.
	View(fn func(Tx) error) error

	// Update runs fn in a serializable read-write transaction. Updates behave as
	// if run one at a time in some order; fn sees its own writes. If fn returns
	// nil the transaction commits; if fn returns an error or panics, none of its
	// writes become visible and Update returns fn's error unchanged (or re-panics).
	// When Update returns nil from a durable implementation, the transaction MUST
	// survive a crash of the process or the machine. A View started after Update
	// returns MUST see the transaction's writes. fn MAY run while other goroutines
	// View, and MUST NOT call View or Update on the same store (it would deadlock).
	Update(fn func(Tx) error) error

	// Close releases the store's resources and waits for its background work.
	// Transactions still running MUST NOT be interrupted; after Close returns,
	// View and Update return ErrClosed. Calling Close again returns nil.
	Close() error
}

// Tx is a transaction passed to KV.View or KV.Update. A Tx is not safe for
// concurrent use; it is valid only until the function it was passed to returns.
//
// Byte slices are never shared between the caller and the store: Put and Delete
// copy their arguments before returning, and every key and value handed to the
// caller (by Get or to a Scan callback) is a fresh copy the caller may keep and
// modify.
type Tx interface {
	// Get returns the value stored under key, or an error wrapping ErrNotFound.
	// An existing empty value is returned as a non-nil empty slice.
	Get(key []byte) ([]byte, error)

	// Put stores value under key, replacing any previous value. It returns
	// ErrReadOnly in a View and ErrEmptyKey for an empty key.
	Put(key, value []byte) error

	// Delete removes key. Deleting a missing key is not an error. It returns
	// ErrReadOnly in a View.
	Delete(key []byte) error

	// Scan calls fn for each key in [start, end) in ascending bytewise order,
	// until fn returns false. A nil start or end means unbounded on that side.
	// Scan sees the transaction's state when Scan was called: fn MAY call Put or
	// Delete on the same Tx, and those writes do not affect the running Scan.
	Scan(start, end []byte, fn func(key, value []byte) bool) error

	// ReverseScan is Scan in descending order: it starts at the greatest key
	// below end and stops at start (inclusive).
	ReverseScan(start, end []byte, fn func(key, value []byte) bool) error
}

// Blobs stores large bodies as streams: an implementation MUST NOT require a
// whole body in memory (the memory implementation is the obvious exception).
// Blobs is safe for concurrent use by many goroutines.
//
// Keys are opaque non-empty strings; a blob store is not listable, so the
// resource that owns a blob (an S3 object's metadata in KV, say) records its key.
type Blobs interface {
	// Put stores the bytes read from r under key and returns how many there were.
	// The new blob MUST become visible atomically, and only once r has returned
	// io.EOF and the body is durable: until then Open sees the previous blob (or
	// ErrNotFound). If r returns any other error, Put stores nothing and returns
	// an error wrapping r's error.
	//
	// Put reads r exactly once, sequentially, to io.EOF, and never after it
	// returns. Callers therefore compute checksums in the same pass by wrapping r
	// (io.TeeReader(body, hash)), and enforce them by having the wrapper return an
	// error instead of io.EOF when the digest does not match: the body is then
	// never visible.
	Put(key string, r io.Reader) (size int64, err error)

	// Open returns the blob stored under key, or an error wrapping ErrNotFound.
	// An open Blob MUST keep reading the content it was opened with, even if the
	// key is overwritten or deleted meanwhile. The caller MUST Close it.
	Open(key string) (Blob, error)

	// Delete removes the blob under key; it returns an error wrapping ErrNotFound
	// if there is none. Blobs already open stay readable.
	Delete(key string) error
}

// Blob is an open, immutable blob. Read and Seek share one offset and are not
// safe for concurrent use; ReadAt is, as with *os.File.
type Blob interface {
	io.Reader
	io.ReaderAt
	io.Seeker
	io.Closer

	// Size returns the blob's length in bytes.
	Size() int64
}

// Filer is implemented by a Blob backed by a file. File returns that file,
// positioned where the Blob is, so that an HTTP server can hand it to
// http.ServeContent or io.Copy and let the kernel send it (sendfile). The file
// is owned by the Blob: the caller MUST NOT close it, and MUST NOT use it after
// closing the Blob.
type Filer interface {
	File() *os.File
}
