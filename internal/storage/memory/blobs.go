package memory

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/overcast-dev/overcast/internal/storage"
)

// Blobs is an in-memory storage.Blobs. Bodies are held whole in memory.
type Blobs struct {
	mu sync.RWMutex
	m  map[string][]byte // values are never modified once stored
}

// NewBlobs returns an empty Blobs.
func NewBlobs() *Blobs { return &Blobs{m: make(map[string][]byte)} }

// Put implements storage.Blobs.
func (b *Blobs) Put(key string, r io.Reader) (int64, error) {
	if key == "" {
		return 0, storage.ErrEmptyKey
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(r)
	if err != nil {
		return 0, fmt.Errorf("put blob %q: %w", key, err)
	}
	b.mu.Lock()
	b.m[key] = buf.Bytes()
	b.mu.Unlock()
	return n, nil
}

// Open implements storage.Blobs.
func (b *Blobs) Open(key string) (storage.Blob, error) {
	b.mu.RLock()
	data, ok := b.m[key]
	b.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("open blob %q: %w", key, storage.ErrNotFound)
	}
	return &blob{bytes.NewReader(data)}, nil
}

// Delete implements storage.Blobs.
func (b *Blobs) Delete(key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[key]; !ok {
		return fmt.Errorf("delete blob %q: %w", key, storage.ErrNotFound)
	}
	delete(b.m, key)
	return nil
}

type blob struct{ *bytes.Reader }

func (b *blob) Close() error { return nil }

var (
	_ storage.Blobs = (*Blobs)(nil)
	_ storage.Blob  = (*blob)(nil)
)
