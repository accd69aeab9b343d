// Package memory implements the storage contracts in process memory, for tests
// and for running Overcast with --memory. Nothing survives Close.
//
// The KV keeps its data in a persistent ordered map: a View holds an immutable
// snapshot without locking, and Updates run one at a time, each building the
// next version copy-on-write and publishing it atomically when it commits.
package memory

import (
	"sync"
	"sync/atomic"

	"github.com/overcast-dev/overcast/internal/storage"
	"github.com/overcast-dev/overcast/internal/storage/internal/ordered"
)

// Store is an in-memory storage.KV.
type Store struct {
	mu     sync.Mutex // serializes Updates
	cur    atomic.Pointer[ordered.Map]
	closed atomic.Bool
}

// New returns an empty Store.
func New() *Store {
	s := &Store{}
	s.cur.Store(&ordered.Map{})
	return s
}

// View implements storage.KV.
func (s *Store) View(fn func(storage.Tx) error) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	tx := ordered.ReadTx(*s.cur.Load())
	defer tx.Finish()
	return fn(tx)
}

// Update implements storage.KV.
func (s *Store) Update(fn func(storage.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return storage.ErrClosed
	}
	tx := ordered.WriteTx(*s.cur.Load(), false)
	defer tx.Finish()
	if err := fn(tx); err != nil {
		return err
	}
	m := tx.Map()
	s.cur.Store(&m)
	return nil
}

// Close implements storage.KV. It waits for a running Update to finish.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed.Store(true)
	s.cur.Store(&ordered.Map{}) // let the data be collected
	return nil
}

var _ storage.KV = (*Store)(nil)
