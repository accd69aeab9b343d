package disk

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/overcast-dev/overcast/internal/storage"
	"github.com/overcast-dev/overcast/internal/storage/storagetest"
)

func open(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestKV(t *testing.T) {
	storagetest.RunKV(t, func(t *testing.T) storage.KV { return open(t, t.TempDir(), Options{}) })
}

func TestKVNoSyncSmallLog(t *testing.T) {
	// Rotation and snapshots run constantly underneath the suite.
	storagetest.RunKV(t, func(t *testing.T) storage.KV {
		return open(t, t.TempDir(), Options{NoSync: true, CompactBytes: 4 << 10})
	})
}

func TestBlobs(t *testing.T) {
	storagetest.RunBlobs(t, func(t *testing.T) storage.Blobs { return open(t, t.TempDir(), Options{}).Blobs() },
		storagetest.BlobOptions{Streaming: true})
}

func putN(t *testing.T, s *Store, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := s.Update(func(tx storage.Tx) error {
			if i%7 == 3 {
				if err := tx.Delete(key(i - 3)); err != nil {
					return err
				}
			}
			return tx.Put(key(i), value(i))
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func key(i int) []byte   { return []byte(fmt.Sprintf("key-%06d", i)) }
func value(i int) []byte { return bytes.Repeat([]byte{byte(i)}, i%300) }

// checkN asserts the state putN(0, n) leaves.
func checkN(t *testing.T, s *Store, n int) {
	t.Helper()
	err := s.View(func(tx storage.Tx) error {
		count := 0
		if err := tx.Scan(nil, nil, func(k, v []byte) bool { count++; return true }); err != nil {
			return err
		}
		want := 0
		for i := 0; i < n; i++ {
			deleted := i+3 < n && (i+3)%7 == 3
			v, err := tx.Get(key(i))
			if deleted {
				if !errors.Is(err, storage.ErrNotFound) {
					return fmt.Errorf("%s: deleted key present (%v)", key(i), err)
				}
				continue
			}
			want++
			if err != nil || !bytes.Equal(v, value(i)) {
				return fmt.Errorf("%s = %d bytes, %v", key(i), len(v), err)
			}
		}
		if count != want {
			return fmt.Errorf("%d keys, want %d", count, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReopen(t *testing.T) {
	for _, opts := range []Options{{}, {CompactBytes: 8 << 10}, {NoSync: true, CompactBytes: -1}} {
		t.Run(fmt.Sprintf("%+v", opts), func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, opts)
			putN(t, s, 0, 300)
			if _, err := s.Blobs().Put("b", bytes.NewReader([]byte("body"))); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open(t, dir, opts)
			checkN(t, s, 300)
			putN(t, s, 300, 600)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open(t, dir, opts)
			checkN(t, s, 600)
			bl, err := s.Blobs().Open("b")
			if err != nil {
				t.Fatal(err)
			}
			bl.Close()
			if opts.CompactBytes > 0 {
				snaps, _ := filepath.Glob(filepath.Join(dir, "kv", "*.snap"))
				wals, _ := filepath.Glob(filepath.Join(dir, "kv", "*.log"))
				if len(snaps) != 1 || len(wals) != 1 {
					t.Fatalf("after compaction: snapshots %v, logs %v; want one of each", snaps, wals)
				}
			}
		})
	}
}

func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{NoSync: true, CompactBytes: -1})
	putN(t, s, 0, 100)
	s.Close()
	logPath := filepath.Join(dir, "kv", walName(0))
	fi, err := os.Stat(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// Cut into the last record, as a crash mid-write would, then add garbage.
	for _, cut := range []int64{1, headerSize, 20} {
		if err := os.Truncate(logPath, fi.Size()-cut); err != nil {
			t.Fatal(err)
		}
		s = open(t, dir, Options{})
		checkN(t, s, 99)
		s.Close()
	}
	f, _ := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte("garbage that is not a record"))
	f.Close()
	s = open(t, dir, Options{})
	checkN(t, s, 99)
	putN(t, s, 99, 120) // appends after the truncated tail replay
	s.Close()
	s = open(t, dir, Options{})
	checkN(t, s, 120)
}

func TestLocked(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	s.Close()
	open(t, dir, Options{}) // the lock is released by Close
}

func TestCorruptOlderLogIsAnError(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{NoSync: true, CompactBytes: -1})
	putN(t, s, 0, 10)
	s.Close()
	kv := filepath.Join(dir, "kv")
	// A log followed by a newer one cannot have a torn tail.
	if err := os.WriteFile(filepath.Join(kv, walName(1)), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(kv, walName(0)))
	data[len(data)/2] ^= 0xff
	os.WriteFile(filepath.Join(kv, walName(0)), data, 0o644)
	if s, err := Open(dir, Options{}); err == nil {
		s.Close()
		t.Fatal("Open accepted a corrupt log that is not the last")
	}
}

func TestBlobIsFiler(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	if _, err := s.Blobs().Put("k", bytes.NewReader([]byte("body"))); err != nil {
		t.Fatal(err)
	}
	bl, err := s.Blobs().Open("k")
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	f, ok := bl.(storage.Filer)
	if !ok {
		t.Fatal("disk blob does not implement storage.Filer")
	}
	if fi, err := f.File().Stat(); err != nil || fi.Size() != 4 {
		t.Fatalf("File().Stat() = %v, %v", fi, err)
	}
}

// Views running while the first Updates after Open commit must not share
// the writer's head (a regression the race detector caught).
func TestViewDuringFirstCommits(t *testing.T) {
	for _, noSync := range []bool{true, false} {
		s, err := Open(t.TempDir(), Options{NoSync: noSync})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; i < 200; i++ {
				s.View(func(tx storage.Tx) error { _, _ = tx.Get([]byte("k")); return nil })
			}
		}()
		for i := 0; i < 50; i++ {
			if err := s.Update(func(tx storage.Tx) error { return tx.Put([]byte("k"), []byte{byte(i)}) }); err != nil {
				t.Fatal(err)
			}
		}
		<-done
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
