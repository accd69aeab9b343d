package cloudwatch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/service/cloudwatch/tsdb"
	"github.com/overcast-dev/overcast/internal/storage"
)

// Key layout (all under Scope{Service: "cloudwatch"}; series keys carry
// their account and region):
//
//	("log", %016x seq)            a put-log record (putRecord)
//	("ms", seriesKey)             series metadata: last put (unix seconds)
//	("mb", seriesKey, tier, %016x start)  an encoded block of buckets
var metricScope = storage.Scope{Service: "cloudwatch"}

// putEntry is one series' samples in a put.
type putEntry struct {
	account, region, namespace, name string
	dims                             []tsdb.Dim
	samples                          []tsdb.Sample
}

func encodeRecord(now time.Time, entries []putEntry) []byte {
	buf := make([]byte, 0, 256)
	buf = append(buf, 1)
	buf = binary.AppendVarint(buf, now.Unix())
	buf = binary.AppendUvarint(buf, uint64(len(entries)))
	str := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	f64 := func(f float64) { buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(f)) }
	for _, e := range entries {
		str(e.account)
		str(e.region)
		str(e.namespace)
		str(e.name)
		buf = binary.AppendUvarint(buf, uint64(len(e.dims)))
		for _, d := range e.dims {
			str(d.Name)
			str(d.Value)
		}
		buf = binary.AppendUvarint(buf, uint64(len(e.samples)))
		for _, sm := range e.samples {
			buf = binary.AppendVarint(buf, sm.T.UnixMilli())
			var flags byte
			if sm.Set {
				flags |= 1
			}
			if sm.HighRes {
				flags |= 2
			}
			buf = append(buf, flags, sm.Unit)
			if sm.Set {
				f64(sm.Count)
				f64(sm.Sum)
				f64(sm.Min)
				f64(sm.Max)
			} else {
				f64(sm.Value)
				f64(sm.Weight)
			}
		}
	}
	return buf
}

var errBadRecord = errors.New("cloudwatch: corrupt put-log record")

func decodeRecord(b []byte) (time.Time, []putEntry, error) {
	if len(b) < 1 || b[0] != 1 {
		return time.Time{}, nil, errBadRecord
	}
	b = b[1:]
	fail := false
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			fail = true
			return 0
		}
		b = b[n:]
		return v
	}
	sv := func() int64 {
		v, n := binary.Varint(b)
		if n <= 0 {
			fail = true
			return 0
		}
		b = b[n:]
		return v
	}
	str := func() string {
		n := uv()
		if fail || n > uint64(len(b)) {
			fail = true
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	f64 := func() float64 {
		if len(b) < 8 {
			fail = true
			return 0
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(b))
		b = b[8:]
		return v
	}
	now := time.Unix(sv(), 0)
	n := uv()
	var out []putEntry
	for i := uint64(0); i < n && !fail; i++ {
		e := putEntry{account: str(), region: str(), namespace: str(), name: str()}
		nd := uv()
		if nd > 30 {
			fail = true
			break
		}
		for j := uint64(0); j < nd && !fail; j++ {
			e.dims = append(e.dims, tsdb.Dim{Name: str(), Value: str()})
		}
		ns := uv()
		if ns > uint64(len(b)) {
			fail = true
			break
		}
		for j := uint64(0); j < ns && !fail; j++ {
			sm := tsdb.Sample{T: time.UnixMilli(sv())}
			if len(b) < 2 {
				fail = true
				break
			}
			flags, unit := b[0], b[1]
			b = b[2:]
			sm.Set, sm.HighRes, sm.Unit = flags&1 != 0, flags&2 != 0, unit
			if int(unit) >= len(tsdb.Units) {
				sm.Unit = 0
			}
			if sm.Set {
				sm.Count, sm.Sum, sm.Min, sm.Max = f64(), f64(), f64(), f64()
			} else {
				sm.Value, sm.Weight = f64(), f64()
			}
			e.samples = append(e.samples, sm)
		}
		out = append(out, e)
	}
	if fail {
		return time.Time{}, nil, errBadRecord
	}
	return now, out, nil
}

// applyEntries adds entries to the in-memory store.
func (s *Service) applyEntries(now time.Time, entries []putEntry) {
	for _, e := range entries {
		ser, _ := s.db.Series(e.account, e.region, e.namespace, e.name, e.dims)
		s.db.Add(ser, now, e.samples...)
	}
}

// commitPut makes a put durable, then applies it.
func (s *Service) commitPut(now time.Time, entries []putEntry) error {
	rec := encodeRecord(now, entries)
	s.flushMu.RLock()
	defer s.flushMu.RUnlock()
	seq := s.seq.Add(1)
	key := metricScope.Key("log", fmt.Sprintf("%016x", seq))
	if err := s.kv.Update(func(tx storage.Tx) error { return tx.Put(key, rec) }); err != nil {
		return err
	}
	s.applyEntries(now, entries)
	return nil
}

func seriesFromKey(key string) (account, region, namespace, name string, dims []tsdb.Dim, ok bool) {
	parts := strings.Split(key, "\x1f")
	if len(parts) < 4 {
		return "", "", "", "", nil, false
	}
	for _, p := range parts[4:] {
		n, v, found := strings.Cut(p, "\x1e")
		if !found {
			return "", "", "", "", nil, false
		}
		dims = append(dims, tsdb.Dim{Name: n, Value: v})
	}
	return parts[0], parts[1], parts[2], parts[3], dims, true
}

// load rebuilds the store from the snapshot blocks and the put log.
func (s *Service) load() error {
	var maxSeq uint64
	return s.kv.View(func(tx storage.Tx) error {
		start, end := metricScope.Range("ms")
		err := tx.Scan(start, end, func(k, v []byte) bool {
			parts, err := metricScope.Parts(k)
			if err != nil || len(parts) != 2 {
				return true
			}
			acct, region, ns, name, dims, ok := seriesFromKey(parts[1])
			if !ok {
				return true
			}
			ser, _ := s.db.Series(acct, region, ns, name, dims)
			if last, n := binary.Varint(v); n > 0 {
				ser.SetLastPut(last)
			}
			return true
		})
		if err != nil {
			return err
		}
		start, end = metricScope.Range("mb")
		err = tx.Scan(start, end, func(k, v []byte) bool {
			parts, err := metricScope.Parts(k)
			if err != nil || len(parts) != 4 {
				return true
			}
			ser := s.db.Get(parts[1])
			tier, err1 := strconv.Atoi(parts[2])
			bstart, err2 := strconv.ParseInt(parts[3], 16, 64)
			if ser == nil || err1 != nil || err2 != nil {
				return true
			}
			buckets, err := tsdb.DecodeBlock(v, bstart)
			if err != nil {
				s.log.Warn("cloudwatch: skipping corrupt metric block", "series", parts[1], "err", err)
				return true
			}
			ser.LoadBlock(tier, buckets)
			return true
		})
		if err != nil {
			return err
		}
		start, end = metricScope.Range("log")
		err = tx.Scan(start, end, func(k, v []byte) bool {
			parts, err := metricScope.Parts(k)
			if err != nil || len(parts) != 2 {
				return true
			}
			seq, err := strconv.ParseUint(parts[1], 16, 64)
			if err != nil {
				return true
			}
			maxSeq = max(maxSeq, seq)
			now, entries, err := decodeRecord(v)
			if err != nil {
				s.log.Warn("cloudwatch: skipping corrupt put-log record", "seq", seq)
				return true
			}
			s.applyEntries(now, entries)
			return true
		})
		s.seq.Store(maxSeq)
		s.db.TakeDirty() // everything loaded is already stored...
		// ...except what came from the log: mark it by flushing below.
		if maxSeq > 0 {
			s.replayed = true
		}
		return err
	})
}

// flush writes changed blocks and drops the put-log records they cover.
func (s *Service) flush() error {
	now := s.clk.Now()
	s.flushMu.Lock()
	seq := s.seq.Load()
	var gone []*tsdb.Series
	if s.lastCompact.IsZero() || now.Sub(s.lastCompact) >= time.Minute {
		gone = s.db.Compact(now)
		s.lastCompact = now
	}
	dirty := s.db.TakeDirty()
	replayed := s.replayed
	s.replayed = false
	if replayed {
		// The log was replayed into memory at start-up: snapshot every series.
		dirty = dirty[:0]
		for _, ser := range s.db.All() {
			for tier := 0; tier < 4; tier++ {
				for _, b := range ser.BlockStarts(tier) {
					dirty = append(dirty, tsdb.BlockRef{Series: ser, Tier: tier, Start: b})
				}
			}
		}
	}
	type write struct {
		key, val []byte
	}
	writes := make([]write, 0, len(dirty)+8)
	seen := map[*tsdb.Series]bool{}
	for _, r := range dirty {
		key := metricScope.Key("mb", r.Series.Key, strconv.Itoa(r.Tier), fmt.Sprintf("%016x", r.Start))
		writes = append(writes, write{key, r.Series.EncodeBlock(r.Tier, r.Start)})
		if !seen[r.Series] {
			seen[r.Series] = true
			writes = append(writes, write{metricScope.Key("ms", r.Series.Key), binary.AppendVarint(nil, r.Series.LastPut().Unix())})
		}
	}
	for _, ser := range gone {
		writes = append(writes, write{metricScope.Key("ms", ser.Key), nil})
	}
	s.flushMu.Unlock()
	if len(writes) == 0 && seq == s.flushedSeq {
		return nil
	}
	logStart, _ := metricScope.Range("log")
	logEnd := metricScope.Key("log", fmt.Sprintf("%016x", seq+1))
	err := s.kv.Update(func(tx storage.Tx) error {
		for _, w := range writes {
			var err error
			if w.val == nil {
				err = tx.Delete(w.key)
			} else {
				err = tx.Put(w.key, w.val)
			}
			if err != nil {
				return err
			}
		}
		var dels [][]byte
		if err := tx.Scan(logStart, logEnd, func(k, _ []byte) bool {
			dels = append(dels, k)
			return true
		}); err != nil {
			return err
		}
		for _, k := range dels {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// Put the blocks back so the next flush retries them.
		for _, r := range dirty {
			s.db.MarkDirty(r)
		}
		return err
	}
	s.flushedSeq = seq
	return nil
}
