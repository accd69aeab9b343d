package clock_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
)

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func received(c <-chan time.Time) (time.Time, bool) {
	select {
	case v := <-c:
		return v, true
	default:
		return time.Time{}, false
	}
}

func TestFakeTimerFiresWhenDue(t *testing.T) {
	clk := clock.NewFake(epoch)
	tm := clk.NewTimer(10 * time.Second)
	clk.Advance(9 * time.Second)
	if _, ok := received(tm.C()); ok {
		t.Fatal("timer fired early")
	}
	clk.Advance(time.Second)
	v, ok := received(tm.C())
	if !ok {
		t.Fatal("timer did not fire")
	}
	if want := epoch.Add(10 * time.Second); !v.Equal(want) {
		t.Errorf("fired with %v, want %v", v, want)
	}
	if tm.Stop() {
		t.Error("Stop after firing reported true")
	}
	if clk.Waiters() != 0 {
		t.Errorf("Waiters = %d, want 0", clk.Waiters())
	}
}

func TestFakeStopAndResetDiscardStaleValues(t *testing.T) {
	clk := clock.NewFake(epoch)
	tm := clk.NewTimer(time.Second)
	clk.Advance(time.Second) // fired, value pending in the channel
	if tm.Reset(time.Second) {
		t.Error("Reset of a fired timer reported armed")
	}
	if _, ok := received(tm.C()); ok {
		t.Fatal("stale value after Reset")
	}
	if !tm.Stop() {
		t.Error("Stop of an armed timer reported false")
	}
	clk.Advance(time.Hour)
	if _, ok := received(tm.C()); ok {
		t.Fatal("stopped timer fired")
	}
}

func TestFakeTickerFiresEachPeriod(t *testing.T) {
	clk := clock.NewFake(epoch)
	tk := clk.NewTicker(time.Minute)
	defer tk.Stop()
	for i := 1; i <= 3; i++ {
		clk.Advance(time.Minute)
		v, ok := received(tk.C())
		if !ok {
			t.Fatalf("tick %d missing", i)
		}
		if want := epoch.Add(time.Duration(i) * time.Minute); !v.Equal(want) {
			t.Errorf("tick %d at %v, want %v", i, v, want)
		}
	}
	// Several periods at once leave one tick, like time.Ticker.
	clk.Advance(5 * time.Minute)
	if _, ok := received(tk.C()); !ok {
		t.Fatal("no tick after a long advance")
	}
	if _, ok := received(tk.C()); ok {
		t.Fatal("more than one tick buffered")
	}
	tk.Reset(time.Second)
	clk.Advance(time.Second)
	if _, ok := received(tk.C()); !ok {
		t.Fatal("no tick after Reset")
	}
}

func TestFakeFiresInDeadlineOrder(t *testing.T) {
	clk := clock.NewFake(epoch)
	var order []int
	var seen []time.Time
	for _, d := range []int{3, 1, 2, 1} {
		clk.AfterFunc(time.Duration(d)*time.Second, func() {
			order = append(order, d)
			seen = append(seen, clk.Now())
		})
	}
	clk.Advance(time.Hour)
	want := []int{1, 1, 2, 3}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order = %v, want %v", order, want)
		}
		if w := epoch.Add(time.Duration(want[i]) * time.Second); !seen[i].Equal(w) {
			t.Errorf("call %d saw %v, want %v", i, seen[i], w)
		}
	}
	if got := clk.Now(); !got.Equal(epoch.Add(time.Hour)) {
		t.Errorf("Now = %v after advance", got)
	}
}

func TestFakeAfterFuncMayArmTimers(t *testing.T) {
	clk := clock.NewFake(epoch)
	calls := 0
	var again func()
	again = func() {
		calls++
		if calls < 3 {
			clk.AfterFunc(time.Second, again)
		}
	}
	clk.AfterFunc(time.Second, again)
	clk.Advance(10 * time.Second)
	if calls != 3 {
		t.Errorf("calls = %d, want 3", calls)
	}
}

func TestFakeBlockUntilAndSleep(t *testing.T) {
	clk := clock.NewFake(epoch)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() { errs <- clock.Sleep(ctx, clk, time.Minute) })
	}
	if err := clk.BlockUntil(ctx, 2); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Sleep: %v", err)
		}
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := clk.BlockUntil(cctx, 1); err != context.Canceled {
		t.Errorf("BlockUntil on a cancelled context = %v", err)
	}
	if err := clock.Sleep(cctx, clk, time.Minute); err != context.Canceled {
		t.Errorf("Sleep on a cancelled context = %v", err)
	}
	if n := clk.Waiters(); n != 0 {
		t.Errorf("Waiters = %d after Sleep returned", n)
	}
}

func TestFakeConcurrentUse(t *testing.T) {
	clk := clock.NewFake(epoch)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				tm := clk.NewTimer(time.Millisecond)
				tk := clk.NewTicker(time.Millisecond)
				clk.Advance(time.Millisecond)
				tm.Reset(time.Millisecond)
				tm.Stop()
				tk.Stop()
				_ = clk.Now()
			}
		})
	}
	for range 1000 {
		clk.Advance(time.Millisecond)
	}
	cancel()
	wg.Wait()
}

func TestRealClock(t *testing.T) {
	clk := clock.Real()
	if err := clock.Sleep(context.Background(), clk, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	clk.AfterFunc(0, func() { close(done) })
	<-done
	tk := clk.NewTicker(time.Millisecond)
	<-tk.C()
	tk.Stop()
	if clk.Since(clk.Now()) < 0 {
		t.Error("Since went backwards")
	}
}
