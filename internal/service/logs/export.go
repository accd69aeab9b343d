package logs

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/overcast-dev/overcast/internal/storage"
)

// Event is a log event handed to PutEvents by another service.
type Event struct {
	Timestamp time.Time
	Message   string
}

// PutEvents appends events to stream in group for account and region,
// creating the group and the stream when they do not exist (as Lambda and
// other services do when they write their logs). Events need not be in
// order; they are sorted, split into batches within AWS's limits, and
// events outside the accepted time window (or empty messages) are dropped
// as PutLogEvents would reject them. Metric filters, the embedded metric
// format and subscription filters apply as for PutLogEvents.
func (s *Service) PutEvents(ctx context.Context, account, region, group, stream string, events []Event) error {
	if err := validGroupName("logGroupName", group); err != nil {
		return err
	}
	if err := validStreamName(stream); err != nil {
		return err
	}
	r := s.region(account, region)
	r.mu.Lock()
	g := r.groups[group]
	if g == nil {
		m := groupMeta{Name: group, Created: s.clk.Now().UnixMilli(), Class: "STANDARD"}
		if err := s.kv.Update(func(tx storageTx) error { return s.saveGroup(tx, account, region, &m) }); err != nil {
			r.mu.Unlock()
			return fmt.Errorf("create log group: %w", err)
		}
		g = newGroup(m)
		r.groups[group] = g
	}
	r.mu.Unlock()
	g.mu.Lock()
	st := g.streams[stream]
	var err error
	if st == nil && !g.deleted {
		st, err = s.createStream(account, region, g, stream)
	}
	retention := g.meta.Retention
	deleted := g.deleted
	g.mu.Unlock()
	if err != nil {
		return fmt.Errorf("create log stream: %w", err)
	}
	if deleted {
		return groupNotFound()
	}
	evs := make([]inEvent, 0, len(events))
	for _, e := range events {
		if e.Message != "" {
			evs = append(evs, inEvent{ts: e.Timestamp.UnixMilli(), msg: e.Message})
		}
	}
	sortEvents(evs)
	now := s.clk.Now().UnixMilli()
	for len(evs) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, size := 0, 0
		for n < len(evs) && n < maxBatchEvents && size+len(evs[n].msg)+eventOverhead <= maxBatchBytes &&
			time.Duration(evs[n].ts-evs[0].ts)*time.Millisecond <= maxSpan {
			size += len(evs[n].msg) + eventOverhead
			n++
		}
		if n == 0 { // a single oversized message
			evs = evs[1:]
			continue
		}
		batch := evs[:n]
		evs = evs[n:]
		_, first, end := classify(batch, now, retention)
		if _, err := s.store(account, region, group, st, batch[first:end], now); err != nil {
			return err
		}
		s.afterPut(account, region, g, stream, batch[first:end])
	}
	return nil
}

type storageTx = storage.Tx

func sortEvents(evs []inEvent) {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].ts < evs[j].ts })
}
