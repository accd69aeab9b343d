package s3

import (
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
)

func TestRateLimiter(t *testing.T) {
	clk := clock.NewFake(time.Unix(1000, 0))
	r := newRateLimiter(clk)
	for i := 0; i < readsPerSecond; i++ {
		if !r.allow("b", "logs/x", false) {
			t.Fatalf("read %d refused", i)
		}
	}
	if r.allow("b", "logs/y", false) {
		t.Error("read beyond 5,500/s in one prefix admitted")
	}
	if !r.allow("b", "img/x", false) || !r.allow("b", "logs/x", true) || !r.allow("other", "logs/x", false) {
		t.Error("other prefixes, writes or buckets were limited")
	}
	for i := 0; i < writesPerSecond-1; i++ {
		r.allow("b", "logs/x", true)
	}
	if r.allow("b", "logs/z", true) {
		t.Error("write beyond 3,500/s admitted")
	}
	clk.Advance(100 * time.Millisecond)
	n := 0
	for r.allow("b", "logs/x", false) {
		n++
	}
	if n != readsPerSecond/10 {
		t.Errorf("after 100ms, %d reads admitted, want %d", n, readsPerSecond/10)
	}
}
