package logs

import (
	"context"
	"time"

	"github.com/overcast-dev/overcast/internal/storage"
)

// enforceRetention deletes events older than their group's retention.
func (s *Service) enforceRetention(ctx context.Context) error {
	now := s.clk.Now().UnixMilli()
	for rk, r := range s.allRegions() {
		for _, g := range r.sortedGroups() {
			if err := ctx.Err(); err != nil {
				return err
			}
			g.mu.Lock()
			days := g.meta.Retention
			gname := g.meta.Name
			streams := make([]*stream, 0, len(g.streams))
			for _, st := range g.streams {
				streams = append(streams, st)
			}
			g.mu.Unlock()
			if days <= 0 {
				continue
			}
			cutoff := now - days*int64(24*time.Hour/time.Millisecond)
			for _, st := range streams {
				if err := s.expireStream(rk, gname, st, cutoff); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *Service) expireStream(rk regionKey, group string, st *stream, cutoff int64) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.deleted || st.meta.Seq == 0 || st.meta.First >= cutoff {
		return nil
	}
	ec, sc := eventScope(rk.account, rk.region), scopeOf(rk.account, rk.region)
	m := st.meta
	err := s.kv.Update(func(tx storage.Tx) error {
		lo, hi := ec.Range(group, m.Name)
		var keys [][]byte
		first := int64(0)
		err := tx.Scan(lo, hi, func(k, v []byte) bool {
			e, ok := decodeEvent(k, v)
			if !ok {
				return true
			}
			if e.ts >= cutoff {
				first = e.ts
				return false
			}
			keys = append(keys, k)
			m.Stored -= int64(len(e.msg))
			return true
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		m.Stored = max(m.Stored, 0)
		if first == 0 {
			m.First, m.Last = 0, 0
		} else {
			m.First = first
		}
		return saveStream(tx, sc, group, &m)
	})
	if err != nil {
		return err
	}
	st.meta = m
	return nil
}
