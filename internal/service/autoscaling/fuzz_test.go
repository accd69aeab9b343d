package autoscaling

import (
	"testing"
	"time"
)

func FuzzCron(f *testing.F) {
	for _, s := range []string{"0 9 * * MON-FRI", "*/15 * * * *", "0 0 1 JAN ?", "5,10-20/5 1-3 * * 0,7", "61 * * * *", "* * * *"} {
		f.Add(s)
	}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string) {
		c, err := parseCron(expr)
		if err != nil {
			return
		}
		n := c.next(start, time.UTC)
		if !n.IsZero() && !n.After(start) {
			t.Fatalf("%q: next %v not after %v", expr, n, start)
		}
	})
}

func TestCronNext(t *testing.T) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	c, err := parseCron("0 9 * * MON-FRI")
	if err != nil {
		t.Fatal(err)
	}
	// Saturday 2026-03-07 10:00 UTC → Monday 09:00 New York time.
	got := c.next(time.Date(2026, 3, 7, 10, 0, 0, 0, time.UTC), loc)
	if want := time.Date(2026, 3, 9, 9, 0, 0, 0, loc); !got.Equal(want) {
		t.Errorf("next = %v, want %v", got, want)
	}
}

func TestAdjust(t *testing.T) {
	mag := int64(2)
	for _, c := range []struct {
		cap  int
		typ  string
		adj  int64
		mag  *int64
		want int
	}{
		{4, "ChangeInCapacity", 2, nil, 6},
		{4, "ExactCapacity", 2, nil, 2},
		{4, "PercentChangeInCapacity", 10, nil, 5},
		{4, "PercentChangeInCapacity", -10, nil, 3},
		{10, "PercentChangeInCapacity", 25, nil, 12},
		{4, "PercentChangeInCapacity", 10, &mag, 6},
	} {
		if got := adjust(c.cap, c.typ, c.adj, c.mag); got != c.want {
			t.Errorf("adjust(%d, %s, %d) = %d, want %d", c.cap, c.typ, c.adj, got, c.want)
		}
	}
}
