package clock

import (
	"context"
	"sync"
	"time"
)

// Fake is a [Clock] whose time moves only when [Fake.Advance] is called. It
// is meant for tests. The zero value is not usable; call [NewFake].
//
// Timers, tickers and AfterFunc calls that are armed are called waiters;
// [Fake.BlockUntil] lets a test wait until the code under test has parked
// on the clock before advancing it.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	seq     uint64              // arming order, to fire equal deadlines in order
	armed   map[*fakeTimer]bool // the waiters
	changed chan struct{}       // closed and replaced whenever armed changes
}

// NewFake returns a fake clock reading start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, armed: make(map[*fakeTimer]bool), changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Since returns f.Now().Sub(t).
func (f *Fake) Since(t time.Time) time.Duration { return f.Now().Sub(t) }

// NewTimer returns a timer that fires when the clock has been advanced by d.
// A timer with d <= 0 fires on the next call to Advance, even Advance(0).
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	f.arm(t, d)
	return t
}

// NewTicker returns a ticker that fires each time the clock passes a
// multiple of d from now.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	t := &fakeTimer{f: f, c: make(chan time.Time, 1), period: d}
	f.arm(t, d)
	return fakeTicker{t}
}

// AfterFunc arranges for f to be called by Advance once the clock has been
// advanced by d. Advance calls fn synchronously, without holding any lock of
// the clock, so fn may use the clock.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	t := &fakeTimer{f: f, fn: fn}
	f.arm(t, d)
	return t
}

// Advance moves the clock forward by d, firing, in deadline order, every
// waiter due at or before the new time; the clock reads each deadline while
// its waiter fires. A ticker fires once for every period passed, but its
// channel holds at most one tick, as with time.Ticker. Advance returns after
// every due channel send and AfterFunc call has been made; it does not wait
// for receivers to act on them.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	target := f.now.Add(d)
	for {
		t := f.nextDue(target)
		if t == nil {
			break
		}
		if t.when.After(f.now) {
			f.now = t.when
		}
		if t.period > 0 {
			t.when = t.when.Add(t.period)
			f.seq++
			t.seq = f.seq
		} else {
			delete(f.armed, t)
			f.notifyLocked()
		}
		if t.fn != nil {
			fn := t.fn
			f.mu.Unlock()
			fn()
			f.mu.Lock()
			continue
		}
		select {
		case t.c <- f.now:
		default: // a tick the receiver has not taken yet; drop this one
		}
	}
	if target.After(f.now) {
		f.now = target
	}
	f.mu.Unlock()
}

// Waiters returns the number of armed timers, tickers and AfterFunc calls.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.armed)
}

// BlockUntil blocks until at least n waiters are armed, or ctx is done, in
// which case it returns ctx.Err().
func (f *Fake) BlockUntil(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		if len(f.armed) >= n {
			f.mu.Unlock()
			return nil
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// nextDue returns the armed waiter with the earliest deadline not after
// target, or nil. f.mu is held.
func (f *Fake) nextDue(target time.Time) *fakeTimer {
	var next *fakeTimer
	for t := range f.armed {
		if t.when.After(target) {
			continue
		}
		if next == nil || t.when.Before(next.when) || (t.when.Equal(next.when) && t.seq < next.seq) {
			next = t
		}
	}
	return next
}

// arm (re)arms t to fire d from now and reports whether it was armed.
func (f *Fake) arm(t *fakeTimer, d time.Duration) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	was := f.armed[t]
	t.drain()
	t.when = f.now.Add(d)
	f.seq++
	t.seq = f.seq
	f.armed[t] = true
	if !was {
		f.notifyLocked()
	}
	return was
}

// disarm stops t and reports whether it was armed.
func (f *Fake) disarm(t *fakeTimer) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	was := f.armed[t]
	t.drain()
	if was {
		delete(f.armed, t)
		f.notifyLocked()
	}
	return was
}

func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

type fakeTimer struct {
	f      *Fake
	c      chan time.Time // nil for AfterFunc
	fn     func()         // nil unless AfterFunc
	period time.Duration  // > 0 for tickers
	when   time.Time      // guarded by f.mu
	seq    uint64         // guarded by f.mu
}

func (t *fakeTimer) C() <-chan time.Time        { return t.c }
func (t *fakeTimer) Stop() bool                 { return t.f.disarm(t) }
func (t *fakeTimer) Reset(d time.Duration) bool { return t.f.arm(t, d) }

// drain discards an undelivered value, so no stale time is received after
// Stop or Reset. f.mu is held.
func (t *fakeTimer) drain() {
	if t.c == nil {
		return
	}
	select {
	case <-t.c:
	default:
	}
}

type fakeTicker struct{ t *fakeTimer }

func (k fakeTicker) C() <-chan time.Time { return k.t.c }
func (k fakeTicker) Stop()               { k.t.f.disarm(k.t) }

func (k fakeTicker) Reset(d time.Duration) {
	if d <= 0 {
		panic("clock: non-positive interval for Ticker.Reset")
	}
	k.t.f.mu.Lock()
	k.t.period = d
	k.t.f.mu.Unlock()
	k.t.f.arm(k.t, d)
}

var (
	_ Clock  = (*Fake)(nil)
	_ Timer  = (*fakeTimer)(nil)
	_ Ticker = fakeTicker{}
)
