// Package clock abstracts the passage of time so that background work —
// reconcile loops, restart backoff, TTLs, visibility timeouts, alarm periods —
// can run against the wall clock in production and against a [Fake] clock,
// stepped explicitly, in tests.
//
// Code that waits should take a [Clock] and use its timers rather than the
// time package. A loop that parks on a timer can then be driven from a test:
//
//	clk := clock.NewFake(start)
//	go loop(ctx, clk)
//	clk.BlockUntil(ctx, 1) // the loop is waiting on one timer
//	clk.Advance(time.Minute)
//
// Tickers stay armed between ticks, so a test cannot tell from the waiter
// count whether a ticker-driven loop has finished its work; loops meant to be
// stepped in tests should re-arm a [Timer] after each iteration instead.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and makes timers. Implementations MUST be safe for
// concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Since returns the time elapsed since t; it is Now().Sub(t).
	Since(t time.Time) time.Duration
	// NewTimer returns a timer that sends the current time on its channel
	// once, after at least d.
	NewTimer(d time.Duration) Timer
	// NewTicker returns a ticker that sends the current time on its channel
	// every d. It panics if d <= 0, like time.NewTicker. Ticks a slow
	// receiver misses are dropped.
	NewTicker(d time.Duration) Ticker
	// AfterFunc calls f once, after at least d. The returned timer's C is nil.
	// The real clock calls f in its own goroutine; the fake clock calls f
	// from the goroutine that advances it.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a single event, like [time.Timer].
type Timer interface {
	// C returns the channel on which the time is delivered; nil for timers
	// made by AfterFunc.
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether the call
	// stopped the timer, false if it had already fired or been stopped.
	// After Stop returns, no stale value is received from C.
	Stop() bool
	// Reset re-arms the timer to fire after d, as if newly made. It
	// reports whether the timer had been armed. No stale value from the
	// previous arming is received from C after Reset returns.
	Reset(d time.Duration) bool
}

// Ticker delivers ticks at intervals, like [time.Ticker].
type Ticker interface {
	// C returns the channel on which ticks are delivered.
	C() <-chan time.Time
	// Stop turns the ticker off; no more ticks are sent.
	Stop()
	// Reset stops the ticker and restarts it with period d. It panics if
	// d <= 0.
	Reset(d time.Duration)
}

// Sleep waits for d on c, or until ctx is done, in which case it returns
// ctx.Err().
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Real returns the wall clock, backed by the time package.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time                  { return time.Now() }
func (realClock) Since(t time.Time) time.Duration { return time.Since(t) }

func (realClock) NewTimer(d time.Duration) Timer {
	t := time.NewTimer(d)
	return realTimer{t: t, c: t.C}
}

func (realClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{t: time.AfterFunc(d, f)}
}

type realTimer struct {
	t *time.Timer
	c <-chan time.Time
}

func (r realTimer) C() <-chan time.Time        { return r.c }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time   { return r.t.C }
func (r realTicker) Stop()                 { r.t.Stop() }
func (r realTicker) Reset(d time.Duration) { r.t.Reset(d) }

var (
	_ Clock  = realClock{}
	_ Timer  = realTimer{}
	_ Ticker = realTicker{}
)
