package sqs

import (
	"context"
	"sort"
	"time"
)

// sweepInterval is how often the sweep controller looks at every queue:
// retention expiry, dead-letter moves and message move task steps happen
// within a second of being due even when no client touches the queue.
const sweepInterval = time.Second

// sweepLoop is the name of the sweep controller's loop.
const sweepLoop = "sqs-sweep"

// sweep is one pass of the sweep controller.
func (s *Service) sweep(ctx context.Context) error {
	now := s.clock.Now()
	for _, q := range s.allQueues() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.sweepQueue(q, now)
	}
	if s.stepTasks(now) {
		// More to move without a rate limit: go again at once.
		s.mgr.Trigger(sweepLoop)
	}
	return nil
}

// sweepQueue expires messages past the retention period and moves messages
// that exhausted their receives to the dead-letter queue.
func (s *Service) sweepQueue(q *queue, now time.Time) {
	q.mu.Lock()
	if q.deleted {
		q.mu.Unlock()
		return
	}
	q.promote(now)
	expired := q.expired(now)
	var moves []*message
	var target string
	if q.redrive != nil && len(q.redriveDue) > 0 {
		maxRC := uint32(q.redrive.MaxReceiveCount)
		target = q.redrive.TargetArn
		for _, m := range q.redriveDue {
			if q.msgs[m.seq] == m && m.state == stReady && m.receives >= maxRC {
				q.remove(m)
				moves = append(moves, m)
			}
		}
	}
	clear(q.redriveDue)
	q.redriveDue = q.redriveDue[:0]
	q.mu.Unlock()
	s.dropExpired(q, expired)
	if len(moves) > 0 {
		dlq := s.queueByARN(target)
		if dlq == nil || !s.moveMessages(q, dlq, moves, q.arn) {
			s.restore(q, moves)
		}
	}
}

// restore puts messages taken out of q's indexes for a move that could not
// happen back, receivable.
func (s *Service) restore(q *queue, msgs []*message) {
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].seq < msgs[j].seq })
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted {
		return
	}
	for _, m := range msgs {
		m.prev, m.next, m.aprev, m.anext, m.grp, m.heapIdx = nil, nil, nil, nil, nil, -1
		m.state = stReady
		q.insert(m)
	}
}
