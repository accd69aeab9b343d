// Package storagetest is the conformance suite for the storage contracts. Every
// implementation runs it from its own tests:
//
//	func TestKV(t *testing.T) {
//		storagetest.RunKV(t, func(t *testing.T) storage.KV { return memory.New() })
//	}
//
// The suite checks only what the contracts in package storage promise, so a
// failure here is a bug in the implementation (or in the contract's wording).
package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/overcast-dev/overcast/internal/storage"
)

// RunKV runs the KV conformance suite. newKV MUST return a new, empty store;
// the suite closes it (the factory may also register a Cleanup that closes it,
// since Close is idempotent).
func RunKV(t *testing.T, newKV func(t *testing.T) storage.KV) {
	tests := []struct {
		name string
		fn   func(*testing.T, storage.KV)
	}{
		{"GetPutDelete", testGetPutDelete},
		{"EmptyAndLargeValues", testEmptyAndLargeValues},
		{"BinaryKeys", testBinaryKeys},
		{"Scan", testScan},
		{"ScanWhileWriting", testScanWhileWriting},
		{"Rollback", testRollback},
		{"ReadOnlyAndDone", testReadOnlyAndDone},
		{"NoAliasing", testNoAliasing},
		{"SnapshotIsolation", testSnapshotIsolation},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"Close", testClose},
		{"CloseWhileUpdating", testCloseWhileUpdating},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kv := newKV(t)
			defer kv.Close()
			tc.fn(t, kv)
		})
	}
}

func put(t *testing.T, kv storage.KV, kvs ...string) {
	t.Helper()
	if err := kv.Update(func(tx storage.Tx) error {
		for i := 0; i+1 < len(kvs); i += 2 {
			if err := tx.Put([]byte(kvs[i]), []byte(kvs[i+1])); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// get returns the value of key, or "<nil>" if it does not exist.
func get(t *testing.T, kv storage.KV, key string) string {
	t.Helper()
	var v []byte
	err := kv.View(func(tx storage.Tx) error {
		var err error
		v, err = tx.Get([]byte(key))
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return "<nil>"
	}
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(v)
}

func testGetPutDelete(t *testing.T, kv storage.KV) {
	if got := get(t, kv, "a"); got != "<nil>" {
		t.Fatalf("Get on empty store = %q", got)
	}
	put(t, kv, "a", "1", "b", "2")
	put(t, kv, "a", "3")
	if got := get(t, kv, "a"); got != "3" {
		t.Fatalf("Get(a) = %q, want 3", got)
	}
	if err := kv.Update(func(tx storage.Tx) error {
		if err := tx.Delete([]byte("a")); err != nil {
			return err
		}
		if _, err := tx.Get([]byte("a")); !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("in the same tx, Get after Delete: %v", err)
		}
		return tx.Delete([]byte("missing")) // not an error
	}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, kv, "a"); got != "<nil>" {
		t.Fatalf("Get(a) after Delete = %q", got)
	}
	if got := get(t, kv, "b"); got != "2" {
		t.Fatalf("Get(b) = %q", got)
	}
	err := kv.Update(func(tx storage.Tx) error { return tx.Put(nil, []byte("x")) })
	if !errors.Is(err, storage.ErrEmptyKey) {
		t.Fatalf("Put(empty key) = %v, want ErrEmptyKey", err)
	}
}

func testEmptyAndLargeValues(t *testing.T, kv storage.KV) {
	large := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB
	if err := kv.Update(func(tx storage.Tx) error {
		if err := tx.Put([]byte("empty"), nil); err != nil {
			return err
		}
		return tx.Put([]byte("large"), large)
	}); err != nil {
		t.Fatal(err)
	}
	if err := kv.View(func(tx storage.Tx) error {
		v, err := tx.Get([]byte("empty"))
		if err != nil || v == nil || len(v) != 0 {
			return fmt.Errorf("Get(empty) = %q (nil=%v), %v; want non-nil empty", v, v == nil, err)
		}
		v, err = tx.Get([]byte("large"))
		if err != nil || !bytes.Equal(v, large) {
			return fmt.Errorf("Get(large): len %d, %v", len(v), err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func testBinaryKeys(t *testing.T, kv storage.KV) {
	keys := [][]byte{{0x00}, {0x00, 0x00}, {0x00, 0xff}, {0x01}, {0x7f}, {0x80}, {0xff}, {0xff, 0x00}, {0xff, 0xff}}
	if err := kv.Update(func(tx storage.Tx) error {
		for i := len(keys) - 1; i >= 0; i-- {
			if err := tx.Put(keys[i], keys[i]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	if err := kv.View(func(tx storage.Tx) error {
		return tx.Scan(nil, nil, func(k, v []byte) bool {
			if !bytes.Equal(k, v) {
				t.Errorf("value of %x = %x", k, v)
			}
			got = append(got, k)
			return true
		})
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, keys, bytes.Equal) {
		t.Fatalf("binary keys scanned as %x, want %x", got, keys)
	}
}

func scan(t *testing.T, kv storage.KV, reverse bool, start, end string, limit int) []string {
	t.Helper()
	var s, e []byte
	if start != "" {
		s = []byte(start)
	}
	if end != "" {
		e = []byte(end)
	}
	var got []string
	fn := func(k, v []byte) bool {
		if string(v) != "v"+string(k) {
			t.Errorf("value of %q = %q", k, v)
		}
		got = append(got, string(k))
		return limit <= 0 || len(got) < limit
	}
	if err := kv.View(func(tx storage.Tx) error {
		if reverse {
			return tx.ReverseScan(s, e, fn)
		}
		return tx.Scan(s, e, fn)
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func testScan(t *testing.T, kv storage.KV) {
	var kvs []string
	for _, k := range []string{"b", "a", "c", "ab", "ba", "d"} {
		kvs = append(kvs, k, "v"+k)
	}
	put(t, kv, kvs...)
	for _, tc := range []struct {
		reverse    bool
		start, end string
		limit      int
		want       []string
	}{
		{false, "", "", 0, []string{"a", "ab", "b", "ba", "c", "d"}},
		{true, "", "", 0, []string{"d", "c", "ba", "b", "ab", "a"}},
		{false, "ab", "c", 0, []string{"ab", "b", "ba"}},
		{true, "ab", "c", 0, []string{"ba", "b", "ab"}},
		{false, "aa", "bb", 0, []string{"ab", "b", "ba"}},
		{true, "aa", "bb", 0, []string{"ba", "b", "ab"}},
		{false, "b", "", 0, []string{"b", "ba", "c", "d"}},
		{true, "", "b", 0, []string{"ab", "a"}},
		{false, "", "", 2, []string{"a", "ab"}},
		{true, "", "", 2, []string{"d", "c"}},
		{true, "b", "", 1, []string{"d"}},
		{false, "c", "c", 0, nil},
		{false, "d", "a", 0, nil},
		{true, "d", "a", 0, nil},
		{false, "e", "", 0, nil},
	} {
		got := scan(t, kv, tc.reverse, tc.start, tc.end, tc.limit)
		if !slices.Equal(got, tc.want) {
			t.Errorf("scan(reverse=%v, %q, %q, limit %d) = %q, want %q", tc.reverse, tc.start, tc.end, tc.limit, got, tc.want)
		}
	}
}

func testScanWhileWriting(t *testing.T, kv storage.KV) {
	put(t, kv, "a", "1", "b", "2", "c", "3")
	if err := kv.Update(func(tx storage.Tx) error {
		var seen []string
		err := tx.Scan(nil, nil, func(k, v []byte) bool {
			seen = append(seen, string(k))
			// Writes during a scan are allowed and do not affect it.
			if err := tx.Delete([]byte("c")); err != nil {
				t.Error(err)
			}
			if err := tx.Put(append(k, 'x'), v); err != nil {
				t.Error(err)
			}
			return true
		})
		if err != nil {
			return err
		}
		if !slices.Equal(seen, []string{"a", "b", "c"}) {
			return fmt.Errorf("scan during writes saw %q", seen)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var all []string
	kv.View(func(tx storage.Tx) error {
		return tx.Scan(nil, nil, func(k, v []byte) bool { all = append(all, string(k)+"="+string(v)); return true })
	})
	if want := []string{"a=1", "ax=1", "b=2", "bx=2", "cx=3"}; !slices.Equal(all, want) {
		t.Fatalf("after scan-with-writes: %q, want %q", all, want)
	}
}

func testRollback(t *testing.T, kv storage.KV) {
	put(t, kv, "keep", "1")
	boom := errors.New("boom")
	err := kv.Update(func(tx storage.Tx) error {
		tx.Put([]byte("keep"), []byte("2"))
		tx.Put([]byte("new"), []byte("x"))
		tx.Delete([]byte("keep"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Update swallowed a panic")
			}
		}()
		kv.Update(func(tx storage.Tx) error {
			tx.Put([]byte("new"), []byte("y"))
			panic("boom")
		})
	}()
	if got := get(t, kv, "keep"); got != "1" {
		t.Fatalf("keep = %q after rollback", got)
	}
	if got := get(t, kv, "new"); got != "<nil>" {
		t.Fatalf("new = %q after rollback", got)
	}
	put(t, kv, "after", "ok") // the store is still usable
	if got := get(t, kv, "after"); got != "ok" {
		t.Fatalf("after = %q", got)
	}
}

func testReadOnlyAndDone(t *testing.T, kv storage.KV) {
	var leaked storage.Tx
	err := kv.View(func(tx storage.Tx) error {
		leaked = tx
		if err := tx.Put([]byte("a"), nil); !errors.Is(err, storage.ErrReadOnly) {
			t.Errorf("Put in View = %v, want ErrReadOnly", err)
		}
		if err := tx.Delete([]byte("a")); !errors.Is(err, storage.ErrReadOnly) {
			t.Errorf("Delete in View = %v, want ErrReadOnly", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaked.Get([]byte("a")); !errors.Is(err, storage.ErrTxDone) {
		t.Errorf("Get after View = %v, want ErrTxDone", err)
	}
	kv.Update(func(tx storage.Tx) error { leaked = tx; return nil })
	if err := leaked.Put([]byte("a"), nil); !errors.Is(err, storage.ErrTxDone) {
		t.Errorf("Put after Update = %v, want ErrTxDone", err)
	}
	if got := get(t, kv, "a"); got != "<nil>" {
		t.Errorf("a leaked write became visible: %q", got)
	}
}

func testNoAliasing(t *testing.T, kv storage.KV) {
	k, v := []byte("key"), []byte("value")
	if err := kv.Update(func(tx storage.Tx) error { return tx.Put(k, v) }); err != nil {
		t.Fatal(err)
	}
	k[0], v[0] = 'X', 'X'
	kv.View(func(tx storage.Tx) error {
		got, _ := tx.Get([]byte("key"))
		got[0] = 'Y'
		tx.Scan(nil, nil, func(k, v []byte) bool { k[0], v[0] = 'Z', 'Z'; return true })
		return nil
	})
	if got := get(t, kv, "key"); got != "value" {
		t.Fatalf("stored value changed through a caller's slice: %q", got)
	}
}

func testSnapshotIsolation(t *testing.T, kv storage.KV) {
	put(t, kv, "k", "old", "gone", "x")
	inView, committed := make(chan struct{}), make(chan error)
	go func() {
		<-inView
		committed <- kv.Update(func(tx storage.Tx) error {
			tx.Delete([]byte("gone"))
			tx.Put([]byte("added"), []byte("y"))
			return tx.Put([]byte("k"), []byte("new"))
		})
	}()
	err := kv.View(func(tx storage.Tx) error {
		close(inView)
		// The Update must be able to commit while this View is open.
		if err := <-committed; err != nil {
			return err
		}
		v, err := tx.Get([]byte("k"))
		if err != nil || string(v) != "old" {
			return fmt.Errorf("the view saw k = %q, %v after a later commit; want old", v, err)
		}
		var keys []string
		tx.Scan(nil, nil, func(k, v []byte) bool { keys = append(keys, string(k)); return true })
		if !slices.Equal(keys, []string{"gone", "k"}) {
			return fmt.Errorf("the view scanned %q after a later commit", keys)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, kv, "k"); got != "new" {
		t.Fatalf("View after commit saw %q", got)
	}
}

func testConcurrentUpdates(t *testing.T, kv storage.KV) {
	const workers, perWorker = 16, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				err := kv.Update(func(tx storage.Tx) error {
					n := 0
					if v, err := tx.Get([]byte("counter")); err == nil {
						n, _ = strconv.Atoi(string(v))
					} else if !errors.Is(err, storage.ErrNotFound) {
						return err
					}
					if err := tx.Put([]byte("counter"), []byte(strconv.Itoa(n+1))); err != nil {
						return err
					}
					return tx.Put([]byte(fmt.Sprintf("w%02d-%03d", w, i)), []byte("v"))
				})
				if err != nil {
					errs <- err
					return
				}
				// Readers run alongside the writers.
				if err := kv.View(func(tx storage.Tx) error {
					_, err := tx.Get([]byte(fmt.Sprintf("w%02d-%03d", w, i)))
					return err
				}); err != nil {
					errs <- fmt.Errorf("own committed write not visible: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := get(t, kv, "counter"); got != strconv.Itoa(workers*perWorker) {
		t.Fatalf("counter = %s, want %d: an Update lost another's write", got, workers*perWorker)
	}
	n := 0
	kv.View(func(tx storage.Tx) error {
		return tx.Scan([]byte("w"), []byte("x"), func(k, v []byte) bool { n++; return true })
	})
	if n != workers*perWorker {
		t.Fatalf("%d keys, want %d", n, workers*perWorker)
	}
}

func testClose(t *testing.T, kv storage.KV) {
	put(t, kv, "a", "1")
	if err := kv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := kv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := kv.View(func(storage.Tx) error { return nil }); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("View after Close = %v", err)
	}
	if err := kv.Update(func(storage.Tx) error { return nil }); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Update after Close = %v", err)
	}
}

func testCloseWhileUpdating(t *testing.T, kv storage.KV) {
	const workers = 8
	committed := make(chan struct{}, 1000)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				err := kv.Update(func(tx storage.Tx) error {
					return tx.Put([]byte(fmt.Sprintf("w%d-%d", w, i)), []byte("v"))
				})
				if errors.Is(err, storage.ErrClosed) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				select {
				case committed <- struct{}{}:
				default:
				}
			}
		}()
	}
	for i := 0; i < 100; i++ {
		<-committed
	}
	if err := kv.Close(); err != nil {
		t.Fatalf("Close during Updates: %v", err)
	}
	wg.Wait() // every writer must see ErrClosed and stop
	close(errs)
	for err := range errs {
		t.Fatalf("Update racing Close: %v", err)
	}
}
