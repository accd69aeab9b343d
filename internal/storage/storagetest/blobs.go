package storagetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/overcast-dev/overcast/internal/storage"
)

// BlobOptions tunes RunBlobs for an implementation.
type BlobOptions struct {
	// Streaming asserts that a large Put and read-back allocate far less than
	// the body's size, i.e. that the implementation never holds a body whole.
	Streaming bool
}

// RunBlobs runs the Blobs conformance suite. newBlobs MUST return a new, empty
// store whose resources the factory releases (with t.Cleanup).
func RunBlobs(t *testing.T, newBlobs func(t *testing.T) storage.Blobs, opts BlobOptions) {
	tests := []struct {
		name string
		fn   func(*testing.T, storage.Blobs)
	}{
		{"PutOpenDelete", testBlobBasics},
		{"Empty", testBlobEmpty},
		{"FailedPut", testBlobFailedPut},
		{"OpenSurvivesOverwriteAndDelete", testBlobOpenSurvives},
		{"Concurrent", testBlobConcurrent},
		{"Large", func(t *testing.T, b storage.Blobs) { testBlobLarge(t, b, opts.Streaming) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newBlobs(t)) })
	}
}

func putBlob(t *testing.T, b storage.Blobs, key, body string) {
	t.Helper()
	n, err := b.Put(key, bytes.NewReader([]byte(body)))
	if err != nil || n != int64(len(body)) {
		t.Fatalf("Put(%q) = %d, %v", key, n, err)
	}
}

func readBlob(t *testing.T, b storage.Blobs, key string) string {
	t.Helper()
	bl, err := b.Open(key)
	if errors.Is(err, storage.ErrNotFound) {
		return "<nil>"
	}
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer bl.Close()
	data, err := io.ReadAll(bl)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	if int64(len(data)) != bl.Size() {
		t.Fatalf("%q: Size %d, read %d bytes", key, bl.Size(), len(data))
	}
	return string(data)
}

func testBlobBasics(t *testing.T, b storage.Blobs) {
	if got := readBlob(t, b, "k"); got != "<nil>" {
		t.Fatalf("Open on empty store = %q", got)
	}
	if err := b.Delete("k"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Delete missing = %v, want ErrNotFound", err)
	}
	putBlob(t, b, "k", "hello, world")
	putBlob(t, b, "bucket/dir/key with spaces/\x00", "other")
	if got := readBlob(t, b, "k"); got != "hello, world" {
		t.Fatalf("read = %q", got)
	}
	if got := readBlob(t, b, "bucket/dir/key with spaces/\x00"); got != "other" {
		t.Fatalf("read odd key = %q", got)
	}
	bl, err := b.Open("k")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if n, err := bl.ReadAt(buf, 7); n != 5 || string(buf) != "world" || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt = %d %q %v", n, buf, err)
	}
	if off, err := bl.Seek(-5, io.SeekEnd); off != 7 || err != nil {
		t.Fatalf("Seek = %d %v", off, err)
	}
	if rest, _ := io.ReadAll(bl); string(rest) != "world" {
		t.Fatalf("read after Seek = %q", rest)
	}
	bl.Close()
	putBlob(t, b, "k", "replaced")
	if got := readBlob(t, b, "k"); got != "replaced" {
		t.Fatalf("after overwrite = %q", got)
	}
	if err := b.Delete("k"); err != nil {
		t.Fatal(err)
	}
	if got := readBlob(t, b, "k"); got != "<nil>" {
		t.Fatalf("after Delete = %q", got)
	}
	if _, err := b.Put("", bytes.NewReader(nil)); err == nil {
		t.Fatal("Put with an empty key succeeded")
	}
}

func testBlobEmpty(t *testing.T, b storage.Blobs) {
	putBlob(t, b, "empty", "")
	if got := readBlob(t, b, "empty"); got != "" {
		t.Fatalf("empty blob read as %q", got)
	}
}

// failingReader yields n bytes and then fails.
type failingReader struct {
	n   int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	p = p[:min(len(p), r.n)]
	for i := range p {
		p[i] = 'x'
	}
	r.n -= len(p)
	return len(p), nil
}

func testBlobFailedPut(t *testing.T, b storage.Blobs) {
	boom := errors.New("client went away")
	if _, err := b.Put("new", &failingReader{n: 1 << 20, err: boom}); !errors.Is(err, boom) {
		t.Fatalf("Put with failing reader = %v, want the reader's error", err)
	}
	if got := readBlob(t, b, "new"); got != "<nil>" {
		t.Fatalf("failed Put left a blob of %d bytes", len(got))
	}
	putBlob(t, b, "old", "original")
	if _, err := b.Put("old", &failingReader{n: 100, err: boom}); !errors.Is(err, boom) {
		t.Fatalf("overwriting Put with failing reader = %v", err)
	}
	if got := readBlob(t, b, "old"); got != "original" {
		t.Fatalf("failed overwrite changed the blob to %q", got)
	}
	// A checksum-verifying wrapper aborts the Put by failing at EOF.
	badSum := errors.New("checksum mismatch")
	r := io.MultiReader(bytes.NewReader([]byte("body")), &failingReader{err: badSum})
	if _, err := b.Put("verified", r); !errors.Is(err, badSum) {
		t.Fatalf("Put = %v, want checksum error", err)
	}
	if got := readBlob(t, b, "verified"); got != "<nil>" {
		t.Fatalf("unverified body became visible: %q", got)
	}
}

func testBlobOpenSurvives(t *testing.T, b storage.Blobs) {
	putBlob(t, b, "k", "first")
	bl, err := b.Open("k")
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	putBlob(t, b, "k", "second, longer")
	if got, _ := io.ReadAll(bl); string(got) != "first" {
		t.Fatalf("open blob read %q after overwrite", got)
	}
	bl2, err := b.Open("k")
	if err != nil {
		t.Fatal(err)
	}
	defer bl2.Close()
	if err := b.Delete("k"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, bl2.Size())
	if _, err := bl2.ReadAt(buf, 0); err != nil && err != io.EOF || string(buf) != "second, longer" {
		t.Fatalf("open blob read %q, %v after Delete", buf, err)
	}
}

func testBlobConcurrent(t *testing.T, b storage.Blobs) {
	bodies := []string{string(bytes.Repeat([]byte("a"), 100<<10)), string(bytes.Repeat([]byte("b"), 150<<10))}
	putBlob(t, b, "k", bodies[0])
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 4; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if _, err := b.Put("k", bytes.NewReader([]byte(bodies[(w+i)%2]))); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				bl, err := b.Open("k")
				if err != nil {
					errs <- err
					return
				}
				data, err := io.ReadAll(bl)
				bl.Close()
				if err != nil {
					errs <- err
					return
				}
				if string(data) != bodies[0] && string(data) != bodies[1] {
					errs <- fmt.Errorf("reader saw a torn blob of %d bytes", len(data))
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
}

// patternReader yields n pseudo-random bytes without holding them.
type patternReader struct {
	rng *rand.ChaCha8
	n   int64
}

func newPatternReader(seed byte, n int64) *patternReader {
	return &patternReader{rng: rand.NewChaCha8([32]byte{seed}), n: n}
}

func (r *patternReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	r.rng.Read(p)
	r.n -= int64(len(p))
	return len(p), nil
}

func testBlobLarge(t *testing.T, b storage.Blobs, streaming bool) {
	const size = 64 << 20
	want := sha256.New()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	// The caller hashes in the same pass, as the contract allows.
	n, err := b.Put("big", io.TeeReader(newPatternReader(7, size), want))
	if err != nil || n != size {
		t.Fatalf("Put 64 MiB = %d, %v", n, err)
	}
	bl, err := b.Open("big")
	if err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	if bl.Size() != size {
		t.Fatalf("Size = %d", bl.Size())
	}
	got := sha256.New()
	if _, err := io.CopyBuffer(got, bl, make([]byte, 256<<10)); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatal("64 MiB blob read back differently")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; streaming && alloc > size/4 {
		t.Fatalf("Put and read of a %d-byte blob allocated %d bytes: the body is being buffered", size, alloc)
	}
}
