package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/overcast-dev/overcast/internal/storage"
	"github.com/overcast-dev/overcast/internal/storage/internal/ordered"
)

// ErrLocked is returned by Open when another Store holds the directory.
var ErrLocked = errors.New("data directory is locked")

// DefaultCompactBytes is the log size that triggers a snapshot by default.
const DefaultCompactBytes = 64 << 20

// Options configures a Store. The zero value is the production setting.
type Options struct {
	// NoSync skips every fsync. Writes then survive a crash of the process but
	// not of the machine. For tests and benchmarks.
	NoSync bool

	// CompactBytes is the write-ahead log size at which the Store writes a
	// snapshot and starts a new log. 0 means DefaultCompactBytes; a negative
	// value disables compaction.
	CompactBytes int64
}

// Store is the embedded on-disk storage.KV, with its storage.Blobs under the
// same directory (see Blobs). See the package documentation for the design.
type Store struct {
	kvDir string
	opts  Options
	lock  *os.File
	blobs *Blobs

	// wmu serializes writers and guards the fields below it. Lock order: wmu, then smu.
	wmu        sync.Mutex
	head       ordered.Map // latest committed state, possibly not yet durable
	seq        uint64      // commit sequence number of head
	gen        uint64      // generation of the current log
	walSize    int64
	buf        []byte // record encoding buffer
	compacting bool
	closing    bool
	compactErr error

	// smu guards group commit. cond is signalled when syncing ends.
	smu        sync.Mutex
	cond       sync.Cond
	wal        *os.File    // current log; replaced under both wmu and smu
	written    uint64      // seq of the last record written to wal
	writtenMap ordered.Map // state as of written
	durable    uint64      // seq of the last fsynced record
	syncing    bool        // a leader is fsyncing wal
	err        error       // sticky failure: the log can no longer be trusted

	visible atomic.Pointer[ordered.Map] // durable state, what View reads
	closed  atomic.Bool
	wg      sync.WaitGroup // the compaction goroutine
}

// Open opens (creating if needed) the store in dir, replaying its log. It
// holds an exclusive lock on dir until Close.
func Open(dir string, opts Options) (*Store, error) {
	if opts.CompactBytes == 0 {
		opts.CompactBytes = DefaultCompactBytes
	}
	kvDir := filepath.Join(dir, "kv")
	if err := os.MkdirAll(kvDir, 0o755); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, "LOCK"))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{kvDir: kvDir, opts: opts, lock: lock}
	s.cond.L = &s.smu
	if err := s.recover(); err != nil {
		lock.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	if s.blobs, err = openBlobs(filepath.Join(dir, "blobs"), opts.NoSync); err != nil {
		s.wal.Close()
		lock.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return s, nil
}

// recover loads the newest snapshot, replays the logs after it and opens the
// last log for appending. Files a finished compaction left behind are removed.
func (s *Store) recover() error {
	entries, err := os.ReadDir(s.kvDir)
	if err != nil {
		return err
	}
	var snaps, wals []uint64
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			os.Remove(filepath.Join(s.kvDir, name))
		} else if gen, ok := parseGen(name, "snap-", ".snap"); ok {
			snaps = append(snaps, gen)
		} else if gen, ok := parseGen(name, "wal-", ".log"); ok {
			wals = append(wals, gen)
		}
	}
	slices.Sort(snaps)
	slices.Sort(wals)
	txn := ordered.Map{}.Txn()
	var base uint64 // the snapshot generation replay starts from
	if len(snaps) > 0 {
		base = snaps[len(snaps)-1]
		if err := loadSnapshot(filepath.Join(s.kvDir, snapName(base)), txn); err != nil {
			return err
		}
		for _, g := range snaps[:len(snaps)-1] {
			os.Remove(filepath.Join(s.kvDir, snapName(g)))
		}
	}
	var live []uint64
	for _, g := range wals {
		if g < base {
			os.Remove(filepath.Join(s.kvDir, walName(g)))
		} else {
			live = append(live, g)
		}
	}
	if len(live) == 0 {
		f, err := s.createWAL(base)
		if err != nil {
			return err
		}
		s.wal, s.gen = f, base
	} else {
		for i, g := range live {
			last := i == len(live)-1
			size, err := replayLog(filepath.Join(s.kvDir, walName(g)), txn, last, s.opts.NoSync)
			if err != nil {
				return err
			}
			s.walSize = size
		}
		s.gen = live[len(live)-1]
		f, err := os.OpenFile(filepath.Join(s.kvDir, walName(s.gen)), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		s.wal = f
	}
	s.head = txn.Map()
	s.writtenMap = s.head
	initial := s.head // a copy: commit reassigns s.head while readers hold this
	s.visible.Store(&initial)
	return nil
}

// parseGen parses a file name made by walName or snapName.
func parseGen(name, prefix, suffix string) (uint64, bool) {
	hex, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	if hex, ok = strings.CutSuffix(hex, suffix); !ok || len(hex) != 16 {
		return 0, false
	}
	gen, err := strconv.ParseUint(hex, 16, 64)
	return gen, err == nil
}

// removeBefore removes the logs and snapshots older than gen.
func (s *Store) removeBefore(gen uint64) error {
	entries, err := os.ReadDir(s.kvDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		g, ok := parseGen(e.Name(), "wal-", ".log")
		if !ok {
			g, ok = parseGen(e.Name(), "snap-", ".snap")
		}
		if ok && g < gen {
			if err := os.Remove(filepath.Join(s.kvDir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// createWAL creates an empty log for gen and makes its directory entry durable.
func (s *Store) createWAL(gen uint64) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(s.kvDir, walName(gen)), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	if !s.opts.NoSync {
		if err := syncDir(s.kvDir); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// Blobs returns the blob store kept under the Store's directory. It is valid
// until the Store is closed.
func (s *Store) Blobs() *Blobs { return s.blobs }

// View implements storage.KV. It reads the latest durable state.
func (s *Store) View(fn func(storage.Tx) error) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	tx := ordered.ReadTx(*s.visible.Load())
	defer tx.Finish()
	return fn(tx)
}

// Update implements storage.KV. The transaction's record is appended to the
// log and Update returns once it is fsynced; concurrent Updates share fsyncs
// (group commit). After a failed log write or fsync the Store refuses every
// further Update, since the log's tail can no longer be trusted; reopening it
// recovers. A transaction whose log record would exceed 1 GiB is refused.
func (s *Store) Update(fn func(storage.Tx) error) error {
	seq, err := s.commit(fn)
	if err != nil {
		return err
	}
	return s.waitDurable(seq)
}

// commit runs fn and, if it succeeds, writes its log record and makes it the
// new head. It returns the sequence number that must become durable.
func (s *Store) commit(fn func(storage.Tx) error) (uint64, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closing {
		return 0, storage.ErrClosed
	}
	if err := s.failure(); err != nil {
		return 0, err
	}
	tx := ordered.WriteTx(s.head, true)
	defer tx.Finish()
	if err := fn(tx); err != nil {
		return 0, err
	}
	ops := tx.Ops()
	if len(ops) == 0 {
		// Read-only: it may have read state that is not durable yet.
		return s.seq, nil
	}
	s.buf = appendRecord(s.buf[:0], ops)
	if len(s.buf)-headerSize > maxRecord {
		s.buf = nil
		return 0, errTooLarge
	}
	if _, err := s.wal.Write(s.buf); err != nil {
		s.fail(fmt.Errorf("write log: %w", err))
		return 0, s.failure()
	}
	s.walSize += int64(len(s.buf))
	if cap(s.buf) > 1<<20 {
		s.buf = nil // do not pin a large transaction's buffer
	}
	s.seq++
	s.head = tx.Map()
	s.smu.Lock()
	s.written, s.writtenMap = s.seq, s.head
	if s.opts.NoSync {
		s.durable = s.seq
		m := s.head
		s.visible.Store(&m)
	}
	s.smu.Unlock()
	if s.opts.CompactBytes > 0 && s.walSize >= s.opts.CompactBytes && !s.compacting {
		s.rotate()
	}
	return s.seq, nil
}

// waitDurable returns once record seq is fsynced. The first waiter to find no
// fsync in progress becomes the leader: it fsyncs everything written so far,
// publishes that state to readers and wakes the others.
func (s *Store) waitDurable(seq uint64) error {
	s.smu.Lock()
	defer s.smu.Unlock()
	for {
		if s.durable >= seq {
			return nil
		}
		if s.err != nil {
			return s.err
		}
		if s.syncing {
			s.cond.Wait()
			continue
		}
		s.syncing = true
		target, m, f := s.written, s.writtenMap, s.wal
		s.smu.Unlock()
		err := f.Sync()
		s.smu.Lock()
		s.syncing = false
		if err != nil {
			if s.err == nil {
				s.err = fmt.Errorf("sync log: %w", err)
			}
		} else if target > s.durable {
			s.durable = target
			s.visible.Store(&m)
		}
		s.cond.Broadcast()
	}
}

func (s *Store) fail(err error) {
	s.smu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.smu.Unlock()
}

func (s *Store) failure() error {
	s.smu.Lock()
	defer s.smu.Unlock()
	return s.err
}

// rotate, called with wmu held, fsyncs the current log, starts the next one
// and snapshots head in the background; the snapshot then lets the old logs go.
func (s *Store) rotate() {
	s.smu.Lock()
	for s.syncing {
		s.cond.Wait()
	}
	s.syncing = true // no leader may touch the old log now
	old := s.wal
	s.smu.Unlock()

	var err error
	if !s.opts.NoSync {
		err = old.Sync()
	}
	var next *os.File
	var nextErr error
	if err == nil {
		next, nextErr = s.createWAL(s.gen + 1)
	}

	s.smu.Lock()
	s.syncing = false
	if err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("sync log: %w", err)
		}
	} else {
		s.durable = s.written
		m := s.writtenMap
		s.visible.Store(&m)
		if nextErr == nil {
			s.wal = next
		}
	}
	s.cond.Broadcast()
	s.smu.Unlock()

	if err != nil {
		return
	}
	if nextErr != nil {
		s.compactErr = fmt.Errorf("start new log: %w", nextErr) // keep appending to the old one
		return
	}
	old.Close()
	s.gen++
	s.walSize = 0
	s.compacting = true
	s.wg.Add(1)
	go s.compact(s.head, s.gen)
}

// compact writes m, the state at the start of log gen, as snapshot gen and
// removes the logs and snapshots it supersedes.
func (s *Store) compact(m ordered.Map, gen uint64) {
	defer s.wg.Done()
	err := writeSnapshot(s.kvDir, gen, m, s.opts.NoSync)
	if err == nil {
		err = s.removeBefore(gen)
	}
	s.wmu.Lock()
	s.compacting = false
	if err != nil {
		s.compactErr = fmt.Errorf("snapshot: %w", err)
	}
	s.wmu.Unlock()
}

// Close implements storage.KV. It waits for a running snapshot, fsyncs the
// log and releases the directory lock. It reports a failed background
// snapshot, which loses no data (the logs it would have replaced remain).
func (s *Store) Close() error {
	s.wmu.Lock()
	if s.closing {
		s.wmu.Unlock()
		return nil
	}
	s.closing = true
	s.closed.Store(true)
	s.wmu.Unlock()
	s.wg.Wait()

	s.smu.Lock()
	for s.syncing {
		s.cond.Wait()
	}
	err := s.wal.Sync()
	if err == nil {
		s.durable = s.written // releases any Update still waiting
	} else if s.err == nil {
		s.err = err
	}
	s.cond.Broadcast()
	s.smu.Unlock()

	err = errors.Join(err, s.wal.Close(), s.compactErr, s.lock.Close())
	if err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

var _ storage.KV = (*Store)(nil)
