package controller_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/controller"
)

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// eventually fails t unless cond becomes true within a generous bound,
// polling without assuming any timing of the code under test.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition never met: %s", msg)
		}
		time.Sleep(time.Millisecond)
	}
}

// parked waits until n loops are parked on the fake clock.
func parked(t *testing.T, clk *clock.Fake, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clk.BlockUntil(ctx, n); err != nil {
		t.Fatalf("loops never parked on the clock: %v", err)
	}
}

func newManager(t *testing.T) (*controller.Manager, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(epoch)
	m := controller.NewManager(clk, nil)
	t.Cleanup(m.Stop)
	return m, clk
}

func status(t *testing.T, m *controller.Manager, name string) controller.LoopStatus {
	t.Helper()
	for _, s := range m.Status() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no status for %q", name)
	return controller.LoopStatus{}
}

func TestIntervalRuns(t *testing.T) {
	m, clk := newManager(t)
	var runs atomic.Int64
	err := m.Start(controller.Loop{Name: "tick", Interval: time.Minute, Reconcile: func(context.Context) error {
		runs.Add(1)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	parked(t, clk, 1) // the first run happens at start
	if got := runs.Load(); got != 1 {
		t.Fatalf("runs after start = %d, want 1", got)
	}
	if s := status(t, m, "tick"); !s.NextRun.Equal(epoch.Add(time.Minute)) {
		t.Errorf("NextRun = %v", s.NextRun)
	}

	const n = 5
	for range n {
		clk.Advance(59 * time.Second)
		if clk.Waiters() != 1 {
			t.Fatal("loop woke before its interval")
		}
		clk.Advance(time.Second)
		parked(t, clk, 1)
	}
	if got := runs.Load(); got != n+1 {
		t.Errorf("runs = %d after %d intervals, want %d", got, n, n+1)
	}
	s := status(t, m, "tick")
	if s.Runs != n+1 || s.Failures != 0 || s.LastError != nil {
		t.Errorf("status = %+v", s)
	}
	if want := epoch.Add(n * time.Minute); !s.LastRun.Equal(want) {
		t.Errorf("LastRun = %v, want %v", s.LastRun, want)
	}
}

func TestTrigger(t *testing.T) {
	m, clk := newManager(t)
	var runs atomic.Int64
	m.Start(controller.Loop{Name: "asg", Interval: time.Hour, Reconcile: func(context.Context) error {
		runs.Add(1)
		return nil
	}})
	parked(t, clk, 1)
	if !m.Trigger("asg") {
		t.Fatal("Trigger did not find the loop")
	}
	eventually(t, func() bool { return runs.Load() == 2 }, "triggered run")
	parked(t, clk, 1)
	if m.Trigger("nope") {
		t.Error("Trigger of an unknown loop reported true")
	}
	if got := runs.Load(); got != 2 {
		t.Errorf("runs = %d, want 2", got)
	}
}

func TestTriggerDuringRunRunsAgain(t *testing.T) {
	m, clk := newManager(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	var runs atomic.Int64
	m.Start(controller.Loop{Name: "l", Interval: time.Hour, Reconcile: func(context.Context) error {
		if runs.Add(1) == 1 {
			close(entered)
			<-release
		}
		return nil
	}})
	<-entered
	m.Trigger("l")
	m.Trigger("l") // coalesced
	close(release)
	eventually(t, func() bool { return runs.Load() == 2 }, "run after a trigger during a run")
	parked(t, clk, 1)
	if got := runs.Load(); got != 2 {
		t.Errorf("runs = %d, want 2 (triggers coalesce)", got)
	}
}

func TestErrorsBackOff(t *testing.T) {
	var logs syncBuffer
	clk := clock.NewFake(epoch)
	m := controller.NewManager(clk, slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(m.Stop)
	var runs atomic.Int64
	boom := errors.New("boom")
	m.Start(controller.Loop{
		Name: "flaky", Interval: time.Hour,
		MinBackoff: time.Second, MaxBackoff: 4 * time.Second,
		Reconcile: func(context.Context) error {
			if runs.Add(1) <= 4 {
				return boom
			}
			return nil
		},
	})
	// Retries come after 1s, 2s, 4s, 4s (capped).
	for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
		parked(t, clk, 1)
		s := status(t, m, "flaky")
		if !errors.Is(s.LastError, boom) {
			t.Fatalf("LastError = %v", s.LastError)
		}
		if got := s.NextRun.Sub(clk.Now()); got != d {
			t.Fatalf("after %d failures, retry in %v, want %v", s.ConsecutiveFailures, got, d)
		}
		clk.Advance(d)
	}
	parked(t, clk, 1)
	s := status(t, m, "flaky")
	if s.Runs != 5 || s.Failures != 4 || s.ConsecutiveFailures != 0 || s.LastError != nil {
		t.Errorf("status after recovery = %+v", s)
	}
	if got := s.NextRun.Sub(clk.Now()); got != time.Hour {
		t.Errorf("after success, next run in %v, want the interval", got)
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Errorf("error not logged: %s", logs.String())
	}
}

func TestPanicIsRecovered(t *testing.T) {
	var logs syncBuffer
	clk := clock.NewFake(epoch)
	m := controller.NewManager(clk, slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(m.Stop)
	var runs atomic.Int64
	m.Start(controller.Loop{Name: "p", Interval: time.Minute, MinBackoff: time.Second, Reconcile: func(context.Context) error {
		if runs.Add(1) == 1 {
			panic("kaboom")
		}
		return nil
	}})
	parked(t, clk, 1)
	s := status(t, m, "p")
	if s.LastError == nil || !strings.Contains(s.LastError.Error(), "kaboom") {
		t.Fatalf("LastError = %v, want the panic", s.LastError)
	}
	if !strings.Contains(logs.String(), "kaboom") {
		t.Errorf("panic not logged: %s", logs.String())
	}
	clk.Advance(time.Second)
	parked(t, clk, 1)
	if s := status(t, m, "p"); s.Runs != 2 || s.LastError != nil {
		t.Errorf("loop did not keep running after a panic: %+v", s)
	}
}

func TestStopCancelsAndJoinsInReverseOrder(t *testing.T) {
	clk := clock.NewFake(epoch)
	m := controller.NewManager(clk, nil)
	var mu sync.Mutex
	var stopped []string
	var inRun sync.WaitGroup
	// Each loop blocks in Reconcile until cancelled, then records its name.
	for _, name := range []string{"a", "b", "c"} {
		inRun.Add(1)
		m.Start(controller.Loop{Name: name, Interval: time.Minute, Reconcile: func(ctx context.Context) error {
			inRun.Done()
			<-ctx.Done()
			mu.Lock()
			stopped = append(stopped, name)
			mu.Unlock()
			return ctx.Err()
		}})
	}
	inRun.Wait()
	m.Stop()
	// Stop has joined every goroutine, so every Reconcile has returned.
	mu.Lock()
	if got := strings.Join(stopped, ","); got != "c,b,a" {
		t.Errorf("stop order = %s, want c,b,a", got)
	}
	mu.Unlock()
	if n := clk.Waiters(); n != 0 {
		t.Errorf("%d timers left armed after Stop", n)
	}
	if s := status(t, m, "b"); s.Runs != 0 {
		t.Errorf("a run cancelled by Stop was recorded: %+v", s)
	}
	if err := m.Start(controller.Loop{Name: "d", Interval: time.Minute, Reconcile: func(context.Context) error { return nil }}); !errors.Is(err, controller.ErrStopped) {
		t.Errorf("Start after Stop = %v", err)
	}
	m.Stop() // idempotent
}

func TestStopWhileParked(t *testing.T) {
	clk := clock.NewFake(epoch)
	m := controller.NewManager(clk, nil)
	m.Start(controller.Loop{Name: "a", Interval: time.Minute, Reconcile: func(context.Context) error { return nil }})
	parked(t, clk, 1)
	m.Stop()
	if n := clk.Waiters(); n != 0 {
		t.Errorf("%d timers left armed after Stop", n)
	}
	if s := status(t, m, "a"); !s.NextRun.IsZero() || s.Runs != 1 {
		t.Errorf("status after Stop = %+v", s)
	}
}

func TestStartValidates(t *testing.T) {
	m, _ := newManager(t)
	ok := func(context.Context) error { return nil }
	for _, l := range []controller.Loop{
		{Interval: time.Second, Reconcile: ok},
		{Name: "x", Reconcile: ok},
		{Name: "x", Interval: time.Second},
	} {
		if err := m.Start(l); err == nil {
			t.Errorf("Start(%+v) succeeded", l)
		}
	}
	if err := m.Start(controller.Loop{Name: "x", Interval: time.Second, Reconcile: ok}); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(controller.Loop{Name: "x", Interval: time.Second, Reconcile: ok}); err == nil {
		t.Error("duplicate name accepted")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
