package dynamodb

import (
	"time"

	"github.com/overcast-dev/overcast/internal/storage"
)

// ttlInterval is how often the TTL controller sweeps tables.
const ttlInterval = 10 * time.Second

func (s *Service) ttlLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tk := s.clock.NewTicker(ttlInterval)
	defer tk.Stop()
	mt := s.clock.NewTicker(metricsInterval)
	defer mt.Stop()
	for {
		select {
		case <-stop:
			s.flushMetrics(s.now())
			return
		case <-tk.C():
			s.sweep()
		case now := <-mt.C():
			s.flushMetrics(now)
		}
	}
}

// sweep deletes expired items of every table with TTL enabled, trims stream
// records past retention and forgets expired idempotency tokens.
func (s *Service) sweep() {
	now := s.now()
	s.tokens.Range(func(k, v any) bool {
		if now.Sub(v.(tokenEntry).at) > 10*time.Minute {
			s.tokens.Delete(k)
		}
		return true
	})
	s.mu.RLock()
	var tables []*table
	for _, t := range s.tables {
		tables = append(tables, t)
	}
	s.mu.RUnlock()
	for _, t := range tables {
		if t.meta.TTLAttr != "" {
			s.expire(t, now)
		}
		if t.stream != nil {
			s.trim(t.stream, now)
		}
	}
}

// expired reports whether it's TTL attribute is an epoch-seconds number in
// the past (and not more than five years in the past, which DynamoDB ignores).
func expired(it item, attr string, now time.Time) bool {
	a, ok := it[attr]
	if !ok || a.t != tN {
		return false
	}
	n, e := parseNum(a.s)
	if e != numOK {
		return false
	}
	exp := n.String()
	var secs float64
	for i := 0; i < len(exp); i++ {
		c := exp[i]
		if c == '.' {
			break
		}
		if c == '-' {
			return false
		}
		secs = secs*10 + float64(c-'0')
	}
	nowS := float64(now.Unix())
	return secs < nowS && secs > nowS-5*365*24*3600
}

func (s *Service) expire(t *table, now time.Time) {
	var keys []item
	s.kv.View(func(tx storage.Tx) error {
		return tx.Scan(t.prefix, storage.PrefixEnd(t.prefix), func(k, v []byte) bool {
			it, err := decodeItem(v)
			if err == nil && expired(it, t.meta.TTLAttr, now) {
				keys = append(keys, t.keyOf(it))
			}
			return true
		})
	})
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 100)]
		keys = keys[len(batch):]
		var deltas []*delta
		err := s.kv.Update(func(tx storage.Tx) error {
			deltas = deltas[:0]
			cur := s.lookup(t.scope, t.meta.Name)
			if cur == nil || cur.meta.ID != t.meta.ID {
				return errStop
			}
			for _, k := range batch {
				op := &writeOp{t: cur, kind: wDelete, key: k}
				if err := op.prepare(tx); err != nil {
					return err
				}
				if op.old == nil || !expired(op.old, cur.meta.TTLAttr, now) {
					continue
				}
				d := newDelta(cur)
				if err := tx.Delete(op.storeKey); err != nil {
					return err
				}
				d.items--
				d.bytes -= int64(op.old.size())
				if err := cur.writeIndexes(tx, op.old, nil, d); err != nil {
					return err
				}
				if cur.stream != nil {
					if err := s.appendRecord(tx, cur, k, op.old, nil, true); err != nil {
						return err
					}
				}
				deltas = append(deltas, d)
			}
			return nil
		})
		if err != nil {
			return
		}
		for _, d := range deltas {
			d.apply()
		}
	}
}

func (s *Service) trim(st *stream, now time.Time) {
	cutoff := now.Add(-streamRetention).UnixMilli()
	var old [][]byte
	s.kv.View(func(tx storage.Tx) error {
		return tx.Scan(st.prefix, storage.PrefixEnd(st.prefix), func(k, v []byte) bool {
			if len(v) >= 10 && int64(uint64(v[2])<<56|uint64(v[3])<<48|uint64(v[4])<<40|uint64(v[5])<<32|uint64(v[6])<<24|uint64(v[7])<<16|uint64(v[8])<<8|uint64(v[9])) < cutoff {
				old = append(old, k)
				return len(old) < 10000
			}
			return false
		})
	})
	if len(old) == 0 {
		return
	}
	s.kv.Update(func(tx storage.Tx) error {
		for _, k := range old {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
