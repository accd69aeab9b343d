package tsdb

import (
	"math"
	"sort"
)

// MaxCentroids bounds a Sketch: up to this many distinct values are kept
// exactly; beyond it the two closest centroids are merged.
const MaxCentroids = 48

// Centroid is a value and how many samples it stands for.
type Centroid struct {
	V, W float64
}

// Sketch is a compact percentile summary of raw samples: a sorted list of
// centroids. It is exact while a bucket holds at most MaxCentroids distinct
// values, and an approximation (merging nearest neighbours) beyond that.
type Sketch []Centroid

// Add records w samples of value v.
func (s *Sketch) Add(v, w float64) {
	c := *s
	i := sort.Search(len(c), func(i int) bool { return c[i].V >= v })
	if i < len(c) && c[i].V == v {
		c[i].W += w
		return
	}
	c = append(c, Centroid{})
	copy(c[i+1:], c[i:])
	c[i] = Centroid{V: v, W: w}
	if len(c) > MaxCentroids {
		c = compress(c)
	}
	*s = c
}

// Merge adds every centroid of o.
func (s *Sketch) Merge(o Sketch) {
	for _, c := range o {
		s.Add(c.V, c.W)
	}
}

// Weight is the number of samples the sketch summarises.
func (s Sketch) Weight() float64 {
	var w float64
	for _, c := range s {
		w += c.W
	}
	return w
}

// compress merges the two adjacent centroids closest in value.
func compress(c []Centroid) []Centroid {
	best, gap := 0, math.Inf(1)
	for i := 0; i+1 < len(c); i++ {
		if d := c[i+1].V - c[i].V; d < gap {
			best, gap = i, d
		}
	}
	a, b := c[best], c[best+1]
	w := a.W + b.W
	c[best] = Centroid{V: (a.V*a.W + b.V*b.W) / w, W: w}
	return append(c[:best+1], c[best+2:]...)
}

// Quantile returns the nearest-rank q-quantile (0 ≤ q ≤ 1) and false when
// the sketch is empty.
func (s Sketch) Quantile(q float64) (float64, bool) {
	total := s.Weight()
	if total == 0 {
		return 0, false
	}
	rank := math.Ceil(q * total)
	if rank < 1 {
		rank = 1
	}
	var cum float64
	for _, c := range s {
		cum += c.W
		if cum >= rank-1e-9 {
			return c.V, true
		}
	}
	return s[len(s)-1].V, true
}

// TrimmedMean returns the mean of the samples between the lo and hi
// quantiles (TM stat), false when none fall inside.
func (s Sketch) TrimmedMean(lo, hi float64) (float64, bool) {
	total := s.Weight()
	if total == 0 {
		return 0, false
	}
	from, to := lo*total, hi*total
	var cum, sum, n float64
	for _, c := range s {
		a, b := cum, cum+c.W
		cum = b
		ov := math.Min(b, to) - math.Max(a, from)
		if ov > 0 {
			sum += ov * c.V
			n += ov
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / n, true
}
