package tsdb

import (
	"encoding/binary"
	"errors"
	"math"
	"sort"
)

var errCorrupt = errors.New("tsdb: corrupt encoding")

// EncodeBlock encodes the buckets of s in the block ref names; it returns
// nil when the block holds none (the owner then deletes it).
func (s *Series) EncodeBlock(tier int, start int64) []byte {
	if tier < 0 || tier > 3 {
		return nil
	}
	end := start + TierRes[tier]*BlockBuckets
	s.mu.Lock()
	defer s.mu.Unlock()
	bs := s.tiers[tier]
	i := sort.Search(len(bs), func(i int) bool { return bs[i].T >= start })
	j := sort.Search(len(bs), func(i int) bool { return bs[i].T >= end })
	if i >= j {
		return nil
	}
	buf := make([]byte, 0, (j-i)*48)
	buf = append(buf, 1) // format version
	buf = binary.AppendUvarint(buf, uint64(j-i))
	prev := start
	for _, b := range bs[i:j] {
		buf = binary.AppendVarint(buf, b.T-prev)
		prev = b.T
		for _, f := range [4]float64{b.Count, b.Sum, b.Min, b.Max} {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(f))
		}
		buf = append(buf, b.Unit)
		buf = binary.AppendUvarint(buf, uint64(len(b.Sk)))
		for _, c := range b.Sk {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(c.V))
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(c.W))
		}
	}
	return buf
}

// DecodeBlock decodes a block encoded by EncodeBlock whose first bucket
// time is not before start.
func DecodeBlock(data []byte, start int64) ([]Bucket, error) {
	if len(data) < 1 || data[0] != 1 {
		return nil, errCorrupt
	}
	r := reader{b: data[1:]}
	n := r.uvarint()
	if n > BlockBuckets || r.err != nil {
		return nil, errCorrupt
	}
	out := make([]Bucket, 0, n)
	prev := start
	for k := uint64(0); k < n; k++ {
		var b Bucket
		b.T = prev + r.varint()
		prev = b.T
		b.Count, b.Sum, b.Min, b.Max = r.f64(), r.f64(), r.f64(), r.f64()
		b.Unit = r.byte()
		nc := r.uvarint()
		if nc > MaxCentroids+1 {
			return nil, errCorrupt
		}
		for c := uint64(0); c < nc && r.err == nil; c++ {
			b.Sk = append(b.Sk, Centroid{V: r.f64(), W: r.f64()})
		}
		if r.err != nil {
			return nil, r.err
		}
		if int(b.Unit) >= len(Units) {
			b.Unit = 0
		}
		out = append(out, b)
	}
	return out, nil
}

// LoadBlock merges decoded buckets into tier of s (used at start-up, before
// replaying the put log).
func (s *Series) LoadBlock(tier int, buckets []Bucket) {
	if tier < 0 || tier > 3 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range buckets {
		b := &buckets[i]
		t := floorDiv(b.T, TierRes[tier]) * TierRes[tier]
		s.bucket(tier, t).merge(b)
	}
}

// SetLastPut records when data was last put (restored from a snapshot).
func (s *Series) SetLastPut(unix int64) {
	s.mu.Lock()
	s.lastPut = max(s.lastPut, unix)
	s.mu.Unlock()
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) f64() float64 {
	if r.err != nil || len(r.b) < 8 {
		r.err = errCorrupt
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) < 1 {
		r.err = errCorrupt
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}
