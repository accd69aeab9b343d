package s3

import (
	"strings"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/service"
)

// S3's documented per-prefix request rates.
const (
	writesPerSecond = 3500
	readsPerSecond  = 5500
)

// rateLimiter admits requests per bucket prefix with token buckets that
// refill at S3's rates and hold one second's worth.
type rateLimiter struct {
	clk clock.Clock
	mu  sync.Mutex
	m   map[string]*tokenBucket
}

type tokenBucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(clk clock.Clock) *rateLimiter {
	return &rateLimiter{clk: clk, m: map[string]*tokenBucket{}}
}

// prefixOf is the prefix a key's requests are counted against: everything
// up to its last '/'.
func prefixOf(key string) string {
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		return key[:i+1]
	}
	return ""
}

func (r *rateLimiter) allow(bucket, key string, write bool) bool {
	rate := float64(readsPerSecond)
	k := "r\x00" + bucket + "\x00" + prefixOf(key)
	if write {
		rate = writesPerSecond
		k = "w" + k[1:]
	}
	now := r.clk.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	tb := r.m[k]
	if tb == nil {
		if len(r.m) > 100000 {
			clear(r.m)
		}
		tb = &tokenBucket{tokens: rate, last: now}
		r.m[k] = tb
	}
	tb.tokens += now.Sub(tb.last).Seconds() * rate
	if tb.tokens > rate {
		tb.tokens = rate
	}
	tb.last = now
	if tb.tokens < 1 {
		return false
	}
	tb.tokens--
	return true
}

func (s *Service) checkRate(req *service.Request, bucket, key string, write bool) error {
	if s.rate == nil || s.rate.allow(bucket, key, write) {
		return nil
	}
	return s3err(503, "SlowDown", "Please reduce your request rate.")
}
