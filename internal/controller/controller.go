// Package controller runs reconcile loops: the background behaviour of
// Overcast's services (alarm evaluation, Auto Scaling groups, target health
// checks, SQS visibility, DynamoDB TTL, event-source pollers).
//
// A [Loop] is a named function that brings the world in line with the stored
// state. A [Manager] runs each loop once at start and then every Interval, runs
// it again at once when [Manager.Trigger] says something changed, retries
// failures with capped exponential backoff, recovers panics, and records each
// loop's last outcome for the health endpoint. All waiting goes through an
// injected [clock.Clock], so tests step loops with a fake clock: a loop parks
// on exactly one timer between runs.
package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
)

// Default backoff bounds used when a Loop leaves them zero.
const (
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// ErrStopped is returned by [Manager.Start] once the manager has been stopped.
var ErrStopped = errors.New("controller: manager stopped")

// Loop describes a reconcile loop.
type Loop struct {
	// Name identifies the loop in logs, Status and Trigger; it MUST be
	// unique within a Manager.
	Name string
	// Interval is the time between the end of one successful run and the
	// start of the next; it MUST be positive.
	Interval time.Duration
	// Reconcile does one pass of the loop's work. It MUST return promptly
	// once ctx is done. A returned error or a panic is logged, recorded and
	// retried after a backoff.
	Reconcile func(ctx context.Context) error
	// MinBackoff is the delay before the first retry after a failure; each
	// further consecutive failure doubles it, up to MaxBackoff. Zero means
	// DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
}

// LoopStatus is a snapshot of a loop's health.
type LoopStatus struct {
	Name     string
	Interval time.Duration
	// Runs counts completed runs; Failures counts those that failed, and
	// ConsecutiveFailures those since the last success.
	Runs, Failures, ConsecutiveFailures int
	// LastRun is when the last completed run started, and LastDuration how
	// long it took; both are zero before the first run completes.
	LastRun      time.Time
	LastDuration time.Duration
	// LastError is the error of the last run, nil if it succeeded.
	LastError error
	// NextRun is when the loop will next run unless triggered; zero while
	// a run is in progress or after the loop has stopped.
	NextRun time.Time
}

// Manager starts reconcile loops and owns their goroutines. Its methods are
// safe for concurrent use.
type Manager struct {
	clk clock.Clock
	log *slog.Logger

	mu      sync.Mutex
	stopped bool
	loops   []*loop // in start order
	byName  map[string]*loop
}

// NewManager returns a Manager whose loops wait on clk and log to logger.
// A nil clk means clock.Real(); a nil logger discards logs.
func NewManager(clk clock.Clock, logger *slog.Logger) *Manager {
	if clk == nil {
		clk = clock.Real()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{clk: clk, log: logger, byName: make(map[string]*loop)}
}

// Start validates l and starts running it in its own goroutine; the first
// run begins at once. The loop runs until [Manager.Stop].
func (m *Manager) Start(l Loop) error {
	switch {
	case l.Name == "":
		return errors.New("controller: loop has no name")
	case l.Interval <= 0:
		return fmt.Errorf("controller: loop %q: interval must be positive", l.Name)
	case l.Reconcile == nil:
		return fmt.Errorf("controller: loop %q: no Reconcile func", l.Name)
	}
	if l.MinBackoff <= 0 {
		l.MinBackoff = DefaultMinBackoff
	}
	if l.MaxBackoff <= 0 {
		l.MaxBackoff = max(DefaultMaxBackoff, l.MinBackoff)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return ErrStopped
	}
	if _, dup := m.byName[l.Name]; dup {
		return fmt.Errorf("controller: loop %q already started", l.Name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	lp := &loop{
		spec:    l,
		clk:     m.clk,
		log:     m.log.With("loop", l.Name),
		cancel:  cancel,
		trigger: make(chan struct{}, 1),
		done:    make(chan struct{}),
		status:  LoopStatus{Name: l.Name, Interval: l.Interval},
	}
	m.loops = append(m.loops, lp)
	m.byName[l.Name] = lp
	go lp.run(ctx)
	return nil
}

// Trigger asks the named loop to run as soon as it can, without waiting for
// its interval or backoff. Triggers that arrive while a run is pending are
// coalesced into one run. Trigger reports whether the loop exists.
func (m *Manager) Trigger(name string) bool {
	m.mu.Lock()
	lp, ok := m.byName[name]
	m.mu.Unlock()
	if !ok {
		return false
	}
	select {
	case lp.trigger <- struct{}{}:
	default:
	}
	return true
}

// Stop stops every loop in reverse start order, cancelling the context of a
// run in progress and waiting for the loop's goroutine to return. After
// Stop, Start returns ErrStopped. Stop is idempotent.
func (m *Manager) Stop() {
	m.mu.Lock()
	m.stopped = true
	loops := slices.Clone(m.loops)
	m.mu.Unlock()
	for _, lp := range slices.Backward(loops) {
		lp.cancel()
		<-lp.done
	}
}

// Status returns a snapshot of every loop, in start order.
func (m *Manager) Status() []LoopStatus {
	m.mu.Lock()
	loops := slices.Clone(m.loops)
	m.mu.Unlock()
	out := make([]LoopStatus, 0, len(loops))
	for _, lp := range loops {
		lp.mu.Lock()
		out = append(out, lp.status)
		lp.mu.Unlock()
	}
	return out
}

type loop struct {
	spec    Loop
	clk     clock.Clock
	log     *slog.Logger
	cancel  context.CancelFunc
	trigger chan struct{}
	done    chan struct{}

	mu     sync.Mutex
	status LoopStatus
}

func (l *loop) run(ctx context.Context) {
	defer close(l.done)
	defer func() {
		l.mu.Lock()
		l.status.NextRun = time.Time{}
		l.mu.Unlock()
	}()
	// The timer is armed only while the loop waits, so a fake clock's
	// waiter count tells a test when the loop is parked.
	var timer clock.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		delay := l.runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		l.mu.Lock()
		l.status.NextRun = l.clk.Now().Add(delay)
		l.mu.Unlock()
		if timer == nil {
			timer = l.clk.NewTimer(delay)
		} else {
			timer.Reset(delay)
		}
		select {
		case <-ctx.Done():
			return
		case <-l.trigger:
			timer.Stop()
		case <-timer.C():
		}
		l.mu.Lock()
		l.status.NextRun = time.Time{}
		l.mu.Unlock()
	}
}

// runOnce runs Reconcile once, records the outcome and returns the delay
// before the next run.
func (l *loop) runOnce(ctx context.Context) time.Duration {
	start := l.clk.Now()
	err := l.call(ctx)
	took := l.clk.Since(start)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return 0 // stopped mid-run; not a failure
	}

	l.mu.Lock()
	s := &l.status
	s.Runs++
	s.LastRun, s.LastDuration, s.LastError = start, took, err
	if err == nil {
		s.ConsecutiveFailures = 0
		l.mu.Unlock()
		return l.spec.Interval
	}
	s.Failures++
	s.ConsecutiveFailures++
	failures := s.ConsecutiveFailures
	l.mu.Unlock()
	delay := backoff(l.spec.MinBackoff, l.spec.MaxBackoff, failures)
	l.log.Error("reconcile failed", "err", err, "failures", failures, "retry_in", delay)
	return delay
}

// call runs Reconcile, turning a panic into an error.
func (l *loop) call(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
			l.log.Error("reconcile panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	return l.spec.Reconcile(ctx)
}

// backoff returns min * 2^(failures-1), capped at max.
func backoff(lo, hi time.Duration, failures int) time.Duration {
	d := lo
	for i := 1; i < failures && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}
