package tsdb

import (
	"math"
	"testing"
	"time"
)

func TestRollUpKeepsTotals(t *testing.T) {
	db := New()
	s, _ := db.Series("a", "r", "n", "m", nil)
	t0 := time.Unix(1_700_000_000, 0).Truncate(time.Hour)
	for i := 0; i < 120; i++ {
		db.Add(s, t0, Sample{T: t0.Add(time.Duration(i) * time.Minute), Value: float64(i), HighRes: i%2 == 0})
	}
	// 20 days later the 60 s buckets have rolled into 5 min ones.
	db.Compact(t0.Add(20 * 24 * time.Hour))
	if n := len(s.tiers[0]) + len(s.tiers[1]); n != 0 {
		t.Fatalf("%d fine buckets survive retention", n)
	}
	if n := len(s.tiers[2]); n != 24 {
		t.Fatalf("%d 5-minute buckets, want 24", n)
	}
	aggs := s.Query(t0.Unix(), t0.Add(2*time.Hour).Unix(), 7200, nil, true)
	if len(aggs) != 1 || aggs[0].Count != 120 || aggs[0].Sum != 119*120/2 || aggs[0].Min != 0 || aggs[0].Max != 119 {
		t.Fatalf("aggregate after roll-up %+v", aggs)
	}
	// Blocks round-trip.
	for _, st := range s.BlockStarts(2) {
		b, err := DecodeBlock(s.EncodeBlock(2, st), st)
		if err != nil || len(b) == 0 {
			t.Fatalf("block %d: %v", st, err)
		}
	}
}

func TestSketchQuantiles(t *testing.T) {
	var sk Sketch
	for i := 1; i <= 40; i++ {
		sk.Add(float64(i), 1)
	}
	for q, want := range map[float64]float64{0.5: 20, 0.9: 36, 1: 40, 0.01: 1} {
		if v, _ := sk.Quantile(q); v != want {
			t.Errorf("q%v = %v, want %v", q, v, want)
		}
	}
	if v, _ := sk.TrimmedMean(0, 0.5); math.Abs(v-10.5) > 1e-9 {
		t.Errorf("TM50 = %v", v)
	}
}

func FuzzDecodeBlock(f *testing.F) {
	db := New()
	s, _ := db.Series("a", "r", "n", "m", nil)
	db.Add(s, time.Unix(0, 0), Sample{T: time.Unix(120, 0), Value: 3}, Sample{T: time.Unix(180, 0), Set: true, Count: 2, Sum: 4, Min: 1, Max: 3})
	f.Add(s.EncodeBlock(1, 0))
	f.Add([]byte{1, 2, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		bs, err := DecodeBlock(b, 0)
		if err != nil {
			return
		}
		s2, _ := New().Series("a", "r", "n", "m", nil)
		s2.LoadBlock(1, bs)
		s2.Query(-1<<40, 1<<40, 3600, nil, true)
	})
}
