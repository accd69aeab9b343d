package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// Asynchronous invocation defaults, as Lambda's.
const (
	defaultMaxRetries = 2
	defaultMaxAge     = 6 * time.Hour
	throttleRetry     = time.Second
	asyncWorkers      = 64
)

// asyncEvent is one queued Event invocation.
type asyncEvent struct {
	key       fnKey
	qualifier string
	payload   []byte
	requestID string
	enqueued  time.Time
	attempts  int // executions so far
	notBefore time.Time
}

// asyncQueue holds Event invocations until a worker runs them. It lives in
// memory: events queued when the server stops are lost.
type asyncQueue struct {
	mu     sync.Mutex
	events []*asyncEvent
	wake   chan struct{}
}

func newAsyncQueue() *asyncQueue { return &asyncQueue{wake: make(chan struct{}, 1)} }

func (q *asyncQueue) push(ev *asyncEvent) {
	q.mu.Lock()
	q.events = append(q.events, ev)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// ready removes and returns up to n events due at now, and the earliest
// time a remaining event is due.
func (q *asyncQueue) ready(now time.Time, n int) (out []*asyncEvent, next time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	rest := q.events[:0]
	for _, ev := range q.events {
		if len(out) < n && !ev.notBefore.After(now) {
			out = append(out, ev)
			continue
		}
		rest = append(rest, ev)
		if !ev.notBefore.After(now) {
			next = now
		} else if next.IsZero() || ev.notBefore.Before(next) {
			next = ev.notBefore
		}
	}
	clear(q.events[len(rest):])
	q.events = rest
	return out, next
}

// forget drops the queued events of a deleted function.
func (q *asyncQueue) forget(k fnKey) {
	q.mu.Lock()
	defer q.mu.Unlock()
	rest := q.events[:0]
	for _, ev := range q.events {
		if ev.key != k {
			rest = append(rest, ev)
		}
	}
	clear(q.events[len(rest):])
	q.events = rest
}

// Len returns the number of queued events.
func (q *asyncQueue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.events)
}

func (s *Service) enqueue(f *function, qualifier string, payload []byte) string {
	id := newID()
	now := s.clk.Now()
	s.async.push(&asyncEvent{key: f.key(), qualifier: qualifier, payload: payload, requestID: id, enqueued: now, notBefore: now})
	return id
}

// runAsync dispatches queued events to workers until Stop.
func (s *Service) runAsync() {
	defer s.wg.Done()
	sem := make(chan struct{}, asyncWorkers)
	var workers sync.WaitGroup
	defer workers.Wait()
	for {
		free := asyncWorkers - len(sem)
		evs, next := s.async.ready(s.clk.Now(), free)
		for _, ev := range evs {
			sem <- struct{}{}
			workers.Add(1)
			go func() {
				defer workers.Done()
				defer func() { <-sem }()
				s.runEvent(ev)
				select {
				case s.async.wake <- struct{}{}:
				default:
				}
			}()
		}
		var timer <-chan time.Time
		var t interface{ Stop() bool }
		if !next.IsZero() && len(sem) < asyncWorkers {
			d := next.Sub(s.clk.Now())
			if d <= 0 {
				continue
			}
			ct := s.clk.NewTimer(d)
			t, timer = ct, ct.C()
		}
		select {
		case <-s.done:
			if t != nil {
				t.Stop()
			}
			return
		case <-s.async.wake:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// runEvent makes one attempt at an event and requeues it, or sends it to
// its destination.
func (s *Service) runEvent(ev *asyncEvent) {
	f := s.lookup(ev.key)
	if f == nil {
		return
	}
	cfg := f.EventInvoke[orDefault(ev.qualifier, latest)]
	maxRetries, maxAge := int64(defaultMaxRetries), defaultMaxAge
	var onSuccess, onFailure string
	if cfg != nil {
		if cfg.MaxRetries != nil {
			maxRetries = *cfg.MaxRetries
		}
		if cfg.MaxAge != nil {
			maxAge = time.Duration(*cfg.MaxAge) * time.Second
		}
		onSuccess, onFailure = cfg.OnSuccess, cfg.OnFailure
	}
	now := s.clk.Now()
	t, err := s.resolveTarget(fnRef{key: ev.key, qualifier: ev.qualifier})
	if err != nil {
		return
	}
	if now.Sub(ev.enqueued) > maxAge {
		s.deliverFailure(t, ev, onFailure, "EventAgeExceeded", nil)
		return
	}
	o, err := s.execute(t, ev.payload, false, "")
	if err != nil {
		var ae *awserr.Error
		if errors.As(err, &ae) && ae.Code == codeTooManyRequests {
			ev.notBefore = s.clk.Now().Add(throttleRetry)
			s.async.push(ev)
			return
		}
		s.log.Warn("lambda async invocation failed", "function", f.Name, "err", err)
		ev.attempts++
		if int64(ev.attempts) <= maxRetries {
			ev.notBefore = s.clk.Now().Add(s.retryDelay << (ev.attempts - 1))
			s.async.push(ev)
			return
		}
		s.deliverFailure(t, ev, onFailure, "RetriesExhausted", nil)
		return
	}
	ev.attempts++
	if o.funcError != "" {
		if int64(ev.attempts) <= maxRetries {
			ev.notBefore = s.clk.Now().Add(s.retryDelay << (ev.attempts - 1))
			s.async.push(ev)
			return
		}
		s.deliverFailure(t, ev, onFailure, "RetriesExhausted", &o)
		return
	}
	if onSuccess != "" {
		s.deliver(t, ev, onSuccess, "Success", &o)
	}
}

func (s *Service) deliverFailure(t target, ev *asyncEvent, dest, condition string, o *outcome) {
	if dest != "" {
		s.deliver(t, ev, dest, condition, o)
		return
	}
	if dl := t.v.DeadLetter; dl != "" && s.dest != nil {
		if err := s.dest.Deliver(context.Background(), dl, ev.payload); err != nil {
			s.log.Warn("lambda dead-letter delivery failed", "target", dl, "err", err)
		}
	}
}

// deliver sends an invocation record to a destination.
func (s *Service) deliver(t target, ev *asyncEvent, dest, condition string, o *outcome) {
	var reqPayload any = json.RawMessage(ev.payload)
	rec := map[string]any{
		"version":   "1.0",
		"timestamp": s.clk.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"requestContext": map[string]any{
			"requestId":              ev.requestID,
			"functionArn":            t.f.arn() + ":" + orDefault(ev.qualifier, latest),
			"condition":              condition,
			"approximateInvokeCount": ev.attempts,
		},
		"requestPayload": reqPayload,
	}
	if o != nil {
		rc := map[string]any{"statusCode": 200, "executedVersion": o.version}
		if o.funcError != "" {
			rc["functionError"] = o.funcError
		}
		rec["responseContext"] = rc
		if json.Valid(o.payload) && len(o.payload) > 0 {
			rec["responsePayload"] = json.RawMessage(o.payload)
		} else {
			rec["responsePayload"] = string(o.payload)
		}
	}
	body, _ := json.Marshal(rec)
	if strings.Contains(dest, ":lambda:") {
		if _, err := s.Invoke(context.Background(), t.f.Account, t.f.Region, dest, body, true); err != nil {
			s.log.Warn("lambda destination failed", "destination", dest, "err", err)
		}
		return
	}
	if s.dest == nil {
		s.log.Warn("lambda destination not wired", "destination", dest)
		return
	}
	if err := s.dest.Deliver(context.Background(), dest, body); err != nil {
		s.log.Warn("lambda destination failed", "destination", dest, "err", err)
	}
}
