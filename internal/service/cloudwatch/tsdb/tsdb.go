// Package tsdb is the CloudWatch metric store: per-series, time-bucketed
// aggregates (sample count, sum, minimum, maximum and a percentile sketch)
// at CloudWatch's storage resolutions, with its retention roll-ups.
//
// A series is one metric: (account, region, namespace, name, dimensions).
// Each series keeps four tiers of buckets:
//
//	tier 0: 1-second buckets, only for high-resolution data, kept 3 hours
//	tier 1: 60-second buckets for all data, kept 15 days
//	tier 2: 5-minute buckets rolled up from tier 1, kept 63 days
//	tier 3: 1-hour buckets rolled up from tier 2, kept 455 days
//
// Tiers 1–3 hold disjoint time ranges (a roll-up moves data), so a query at
// a period of 60 s or more reads them together; a query below 60 s reads
// tier 0. Buckets are grouped into blocks of BlockBuckets buckets, the unit
// in which the owner persists them (see DB.TakeDirty and EncodeBlock).
//
// The store is in memory and safe for concurrent use; persistence is the
// caller's (package cloudwatch writes a log of puts and snapshots blocks).
package tsdb

import (
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// Tier resolutions in seconds, and how long each tier keeps data.
var (
	TierRes       = [4]int64{1, 60, 300, 3600}
	TierRetention = [4]time.Duration{3 * time.Hour, 15 * 24 * time.Hour, 63 * 24 * time.Hour, 455 * 24 * time.Hour}
)

// BlockBuckets is the number of buckets in a persistence block.
const BlockBuckets = 1024

// Dim is a metric dimension.
type Dim struct{ Name, Value string }

// Bucket aggregates every sample in [T, T+resolution).
type Bucket struct {
	T                    int64 // unix seconds
	Count, Sum, Min, Max float64
	// Unit is the index of the unit (see Units) of the latest data.
	Unit uint8
	// Sk summarises raw values; its weight is below Count when statistic
	// sets contributed, and percentiles are then unavailable.
	Sk Sketch
}

func (b *Bucket) add(v, w float64, unit uint8) {
	if b.Count == 0 {
		b.Min, b.Max = v, v
	} else {
		b.Min, b.Max = math.Min(b.Min, v), math.Max(b.Max, v)
	}
	b.Count += w
	b.Sum += v * w
	b.Unit = unit
	b.Sk.Add(v, w)
}

func (b *Bucket) addSet(count, sum, mn, mx float64, unit uint8) {
	if b.Count == 0 {
		b.Min, b.Max = mn, mx
	} else {
		b.Min, b.Max = math.Min(b.Min, mn), math.Max(b.Max, mx)
	}
	b.Count += count
	b.Sum += sum
	b.Unit = unit
}

func (b *Bucket) merge(o *Bucket) {
	if o.Count == 0 {
		return
	}
	b.addSet(o.Count, o.Sum, o.Min, o.Max, o.Unit)
	b.Sk.Merge(o.Sk)
}

// Units lists CloudWatch's standard units; a bucket stores an index.
var Units = []string{"None", "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second"}

// UnitIndex returns the index of unit (0, "None", when unknown or empty).
func UnitIndex(unit string) uint8 {
	for i, u := range Units {
		if u == unit {
			return uint8(i)
		}
	}
	return 0
}

// Series is one metric's data.
type Series struct {
	Key       string // see SeriesKey
	Account   string
	Region    string
	Namespace string
	Name      string
	Dims      []Dim // sorted by name

	mu      sync.Mutex
	tiers   [4][]Bucket // sorted by T
	lastPut int64       // unix seconds of the latest put (wall clock)
}

// SeriesKey builds the identity of a series; dims MUST be sorted by name.
func SeriesKey(account, region, namespace, name string, dims []Dim) string {
	var b strings.Builder
	b.Grow(len(account) + len(region) + len(namespace) + len(name) + 4 + 24*len(dims))
	b.WriteString(account)
	b.WriteByte(0x1f)
	b.WriteString(region)
	b.WriteByte(0x1f)
	b.WriteString(namespace)
	b.WriteByte(0x1f)
	b.WriteString(name)
	for _, d := range dims {
		b.WriteByte(0x1f)
		b.WriteString(d.Name)
		b.WriteByte(0x1e)
		b.WriteString(d.Value)
	}
	return b.String()
}

// SortDims sorts dims by name (then value) in place.
func SortDims(dims []Dim) {
	sort.Slice(dims, func(i, j int) bool {
		if dims[i].Name != dims[j].Name {
			return dims[i].Name < dims[j].Name
		}
		return dims[i].Value < dims[j].Value
	})
}

// BlockRef names a persistence block of a series.
type BlockRef struct {
	Series *Series
	Tier   int
	Start  int64 // unix seconds of the block's first bucket
}

// DB holds every series. It is safe for concurrent use.
type DB struct {
	mu     sync.RWMutex
	series map[string]*Series

	dmu   sync.Mutex
	dirty map[BlockRef]struct{}
}

// New returns an empty store.
func New() *DB {
	return &DB{series: make(map[string]*Series), dirty: make(map[BlockRef]struct{})}
}

// Get returns the series with key, or nil.
func (db *DB) Get(key string) *Series {
	db.mu.RLock()
	s := db.series[key]
	db.mu.RUnlock()
	return s
}

// Series returns the series for the given identity, creating it. dims MUST
// be sorted by name. The second result reports whether it was created.
func (db *DB) Series(account, region, namespace, name string, dims []Dim) (*Series, bool) {
	key := SeriesKey(account, region, namespace, name, dims)
	if s := db.Get(key); s != nil {
		return s, false
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if s := db.series[key]; s != nil {
		return s, false
	}
	s := &Series{Key: key, Account: account, Region: region, Namespace: namespace, Name: name, Dims: append([]Dim(nil), dims...)}
	db.series[key] = s
	return s, true
}

// Each calls fn for every series of account and region until fn returns false.
func (db *DB) Each(account, region string, fn func(*Series) bool) {
	db.mu.RLock()
	list := make([]*Series, 0, len(db.series))
	for _, s := range db.series {
		if s.Account == account && s.Region == region {
			list = append(list, s)
		}
	}
	db.mu.RUnlock()
	for _, s := range list {
		if !fn(s) {
			return
		}
	}
}

// All returns every series.
func (db *DB) All() []*Series {
	db.mu.RLock()
	defer db.mu.RUnlock()
	out := make([]*Series, 0, len(db.series))
	for _, s := range db.series {
		out = append(out, s)
	}
	return out
}

func (db *DB) markDirty(s *Series, tier int, t int64) {
	span := TierRes[tier] * BlockBuckets
	start := floorDiv(t, span) * span
	db.dmu.Lock()
	db.dirty[BlockRef{Series: s, Tier: tier, Start: start}] = struct{}{}
	db.dmu.Unlock()
}

// TakeDirty returns the blocks changed since the last call and forgets them.
func (db *DB) TakeDirty() []BlockRef {
	db.dmu.Lock()
	defer db.dmu.Unlock()
	out := make([]BlockRef, 0, len(db.dirty))
	for r := range db.dirty {
		out = append(out, r)
	}
	clear(db.dirty)
	return out
}

// Sample is one datum to add: a value with a weight, or (Set) a statistic set.
type Sample struct {
	T          time.Time
	Value      float64
	Weight     float64 // Values/Counts weight; 0 means 1
	Set        bool
	Count, Sum float64
	Min, Max   float64
	Unit       uint8
	HighRes    bool
}

// Add adds samples to s; now is the wall time of the put (for RecentlyActive).
func (db *DB) Add(s *Series, now time.Time, samples ...Sample) {
	s.mu.Lock()
	s.lastPut = max(s.lastPut, now.Unix())
	for i := range samples {
		sm := &samples[i]
		ts := sm.T.Unix()
		tiers := [2]int{1, -1}
		if sm.HighRes {
			tiers[1] = 0
		}
		for _, tier := range tiers {
			if tier < 0 {
				continue
			}
			bt := floorDiv(ts, TierRes[tier]) * TierRes[tier]
			b := s.bucket(tier, bt)
			if sm.Set {
				b.addSet(sm.Count, sm.Sum, sm.Min, sm.Max, sm.Unit)
			} else {
				w := sm.Weight
				if w == 0 {
					w = 1
				}
				b.add(sm.Value, w, sm.Unit)
			}
			db.markDirty(s, tier, bt)
		}
	}
	s.mu.Unlock()
}

// bucket returns the bucket starting at t in tier, inserting it. s.mu is held.
func (s *Series) bucket(tier int, t int64) *Bucket {
	bs := s.tiers[tier]
	n := len(bs)
	if n > 0 && bs[n-1].T == t {
		return &bs[n-1]
	}
	if n == 0 || bs[n-1].T < t {
		s.tiers[tier] = append(bs, Bucket{T: t})
		return &s.tiers[tier][n]
	}
	i := sort.Search(n, func(i int) bool { return bs[i].T >= t })
	if bs[i].T == t {
		return &bs[i]
	}
	bs = append(bs, Bucket{})
	copy(bs[i+1:], bs[i:])
	bs[i] = Bucket{T: t}
	s.tiers[tier] = bs
	return &bs[i]
}

// LastPut returns when data was last put into s.
func (s *Series) LastPut() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Unix(s.lastPut, 0)
}

// Agg is the aggregate of a period.
type Agg struct {
	T                    int64
	Count, Sum, Min, Max float64
	Unit                 uint8
	Sk                   Sketch
	// Exact reports whether Sk covers every sample (no statistic sets).
	Exact bool
}

// Query aggregates s over [start, end) into periods of period seconds
// beginning at start, using the finest tier that covers the range. When
// unit is non-nil only buckets of that unit count. Periods without data
// are omitted. withSketch merges the percentile sketches.
func (s *Series) Query(start, end, period int64, unit *uint8, withSketch bool) []Agg {
	if period <= 0 || end <= start {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tiers := []int{1, 2, 3}
	if period < 60 {
		tiers = []int{0}
	}
	var out []Agg
	idx := map[int64]int{}
	for _, tier := range tiers {
		bs := s.tiers[tier]
		i := sort.Search(len(bs), func(i int) bool { return bs[i].T+TierRes[tier] > start })
		for ; i < len(bs) && bs[i].T < end; i++ {
			b := &bs[i]
			if unit != nil && b.Unit != *unit {
				continue
			}
			bt := max(b.T, start)
			p := start + (bt-start)/period*period
			j, ok := idx[p]
			if !ok {
				j = len(out)
				idx[p] = j
				out = append(out, Agg{T: p, Min: b.Min, Max: b.Max, Exact: true})
			}
			a := &out[j]
			a.Min, a.Max = math.Min(a.Min, b.Min), math.Max(a.Max, b.Max)
			a.Count += b.Count
			a.Sum += b.Sum
			a.Unit = b.Unit
			if b.Sk.Weight() < b.Count-1e-9 {
				a.Exact = false
			}
			if withSketch {
				a.Sk.Merge(b.Sk)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].T < out[j].T })
	return out
}

// Compact applies retention at now: it drops expired 1-second buckets and
// rolls 60-second buckets into 5-minute ones, and those into 1-hour ones,
// as CloudWatch does, and removes data past the last tier's retention. It
// returns the series that hold no data any more (and removes them).
func (db *DB) Compact(now time.Time) []*Series {
	var empty []*Series
	for _, s := range db.All() {
		s.mu.Lock()
		for tier := 0; tier < 4; tier++ {
			cut := now.Add(-TierRetention[tier]).Unix()
			bs := s.tiers[tier]
			n := 0
			for n < len(bs) && bs[n].T+TierRes[tier] <= cut {
				n++
			}
			if n == 0 {
				continue
			}
			for i := 0; i < n; i++ {
				b := &bs[i]
				db.markDirty(s, tier, b.T)
				if tier >= 1 && tier < 3 {
					up := tier + 1
					ut := floorDiv(b.T, TierRes[up]) * TierRes[up]
					s.bucket(up, ut).merge(b)
					db.markDirty(s, up, ut)
				}
			}
			s.tiers[tier] = append(bs[:0:0], bs[n:]...)
		}
		isEmpty := true
		for _, t := range s.tiers {
			if len(t) > 0 {
				isEmpty = false
			}
		}
		s.mu.Unlock()
		if isEmpty && now.Unix()-s.LastPut().Unix() > int64(TierRetention[3]/time.Second) {
			db.mu.Lock()
			delete(db.series, s.Key)
			db.mu.Unlock()
			empty = append(empty, s)
		}
	}
	return empty
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// MarkDirty marks a block changed again (after a failed write).
func (db *DB) MarkDirty(r BlockRef) {
	db.dmu.Lock()
	db.dirty[r] = struct{}{}
	db.dmu.Unlock()
}

// BlockStarts returns the start of every block of tier that holds buckets.
func (s *Series) BlockStarts(tier int) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	span := TierRes[tier] * BlockBuckets
	for _, b := range s.tiers[tier] {
		st := floorDiv(b.T, span) * span
		if len(out) == 0 || out[len(out)-1] != st {
			out = append(out, st)
		}
	}
	return out
}
