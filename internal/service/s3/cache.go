package s3

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"

	"github.com/overcast-dev/overcast/internal/storage"
)

// bucketCache keeps decoded bucket records next to the bytes they were
// decoded from: a request still reads the record in its transaction, and
// reuses the decoded value only when the stored bytes are unchanged, so the
// KV stays the only source of truth.
type bucketCache struct {
	mu sync.RWMutex
	m  map[string]cachedBucket
}

type cachedBucket struct {
	raw []byte
	b   bucketRecord
}

// getBucket reads the bucket record under key into b. The record's maps and
// slices are shared with the cache: callers MUST NOT modify them.
func (s *Service) getBucket(tx storage.Tx, key []byte, b *bucketRecord) (bool, error) {
	raw, err := tx.Get(key)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.buckets.mu.RLock()
	c, ok := s.buckets.m[string(key)]
	s.buckets.mu.RUnlock()
	if ok && bytes.Equal(c.raw, raw) {
		*b = c.b
		return true, nil
	}
	var fresh bucketRecord
	if err := json.Unmarshal(raw, &fresh); err != nil {
		return false, err
	}
	s.buckets.mu.Lock()
	if s.buckets.m == nil || len(s.buckets.m) > 100000 {
		s.buckets.m = map[string]cachedBucket{}
	}
	s.buckets.m[string(key)] = cachedBucket{raw: raw, b: fresh}
	s.buckets.mu.Unlock()
	*b = fresh
	return true, nil
}
