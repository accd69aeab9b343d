package sqs

import (
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
)

// moveTask is a message move task. The sweep controller moves its messages
// in steps, at most rate a second (unlimited when rate is 0). Tasks are kept
// in memory only.
type moveTask struct {
	handle      string
	source      string
	destination string
	rate        int64
	moved       int64
	toMove      int64
	status      string // RUNNING, COMPLETED, CANCELLING, CANCELLED, FAILED
	failure     string
	started     int64
	seq         int
	// cutoff: only messages sent to the source before the task started
	// (sequence numbers up to it) are moved.
	cutoff uint64
}

func (t *moveTask) cancel() {
	if t.status == "RUNNING" {
		t.status = "CANCELLED"
	}
}

// unlimitedStep is how many messages a task without a rate limit moves in
// one step.
const unlimitedStep = 1000

func (s *Service) startMessageMoveTask(r *service.Request) (map[string]any, error) {
	srcArn := service.Str(r.Input, "SourceArn")
	if srcArn == "" {
		return nil, errMissing("SourceArn")
	}
	src := s.queueByARN(srcArn)
	if src == nil {
		return nil, sqsErr(codeResourceNotFound, "The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	rate, hasRate := service.Int(r.Input, "MaxNumberOfMessagesPerSecond")
	if hasRate && (rate < 1 || rate > 500) {
		return nil, errParam(rate, "MaxNumberOfMessagesPerSecond", "Must be between 1 and 500.")
	}
	if !s.isDeadLetterQueue(src) {
		return nil, sqsErr(codeInvalidParameterValue, "Source queue must be configured as a Dead Letter Queue.")
	}
	dstArn := service.Str(r.Input, "DestinationArn")
	if dstArn != "" {
		if s.queueByARN(dstArn) == nil {
			return nil, sqsErr(codeResourceNotFound, "The resource that you specified for the DestinationArn parameter doesn't exist.")
		}
	}
	s.tasksMu.Lock()
	defer s.tasksMu.Unlock()
	for _, t := range s.tasks {
		if t.source == srcArn && t.status == "RUNNING" {
			return nil, sqsErr(codeUnsupportedOperation, "There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
		}
	}
	id := newMessageID()
	hb, _ := json.Marshal(map[string]string{"taskId": id, "sourceArn": srcArn})
	now := s.clock.Now()
	t := &moveTask{
		handle: base64.StdEncoding.EncodeToString(hb), source: srcArn, destination: dstArn,
		rate: rate, status: "RUNNING", started: now.UnixMilli(), seq: len(s.tasks),
	}
	src.mu.Lock()
	src.promote(now)
	t.cutoff = src.lastSeq.Load()
	t.toMove = int64(src.counts[stReady] + src.counts[stDelayed])
	src.mu.Unlock()
	s.tasks[t.handle] = t
	if s.mgr != nil {
		s.mgr.Trigger(sweepLoop)
	}
	return map[string]any{"TaskHandle": t.handle}, nil
}

// stepTasks moves the next messages of every running task, reporting
// whether a task without a rate limit has more to move.
func (s *Service) stepTasks(now time.Time) (more bool) {
	s.tasksMu.Lock()
	var running []*moveTask
	for _, t := range s.tasks {
		switch t.status {
		case "RUNNING":
			running = append(running, t)
		case "CANCELLING":
			t.status = "CANCELLED"
		}
	}
	s.tasksMu.Unlock()
	for _, t := range running {
		if s.stepTask(t, now) && t.rate == 0 {
			more = true
		}
	}
	return more
}

// stepTask moves up to one second's worth of t's messages and reports
// whether t is still running.
func (s *Service) stepTask(t *moveTask, now time.Time) bool {
	fail := func(reason string) bool {
		s.tasksMu.Lock()
		if t.status == "RUNNING" {
			t.status, t.failure = "FAILED", reason
		}
		s.tasksMu.Unlock()
		return false
	}
	src := s.queueByARN(t.source)
	if src == nil {
		return fail("AWS.SimpleQueueService.NonExistentQueue")
	}
	var dst *queue
	if t.destination != "" {
		if dst = s.queueByARN(t.destination); dst == nil {
			return fail("AWS.SimpleQueueService.NonExistentQueue")
		}
	}
	limit := t.rate
	if limit == 0 {
		limit = unlimitedStep
	}
	// Take the next messages not in flight, grouped by destination.
	src.mu.Lock()
	src.promote(now)
	byDst := map[string][]*message{}
	var taken int64
	for m := src.ahead; m != nil && taken < limit && m.seq <= t.cutoff; {
		next := m.anext
		d := t.destination
		if d == "" {
			d = m.sourceArn
		}
		// In-flight messages, and messages that did not come from a
		// source queue when there is no destination, stay.
		if m.state != stInflight && d != "" {
			src.remove(m)
			byDst[d] = append(byDst[d], m)
			taken++
		}
		m = next
	}
	exhausted := taken < limit
	src.mu.Unlock()
	var moved int64
	var back []*message
	for d, msgs := range byDst {
		q := dst
		if q == nil {
			q = s.queueByARN(d)
		}
		if q == nil || !s.moveMessages(src, q, msgs, "") {
			back = append(back, msgs...)
			continue
		}
		moved += int64(len(msgs))
	}
	if len(back) > 0 {
		// Messages with nowhere to go stay in the source.
		s.restore(src, back)
	}
	s.tasksMu.Lock()
	defer s.tasksMu.Unlock()
	t.moved += moved
	if t.status != "RUNNING" {
		return false
	}
	if exhausted || t.moved >= t.toMove || len(back) > 0 && moved == 0 {
		t.status = "COMPLETED"
		if len(back) > 0 && moved == 0 {
			t.status, t.failure = "FAILED", "AWS.SimpleQueueService.NonExistentQueue"
		}
		return false
	}
	return true
}

func (s *Service) isDeadLetterQueue(dlq *queue) bool {
	prefix := dlq.scope.Account + "\x00" + dlq.scope.Region + "\x00"
	s.mu.RLock()
	defer s.mu.RUnlock()
	for k, q := range s.queues {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		q.mu.Lock()
		is := q.redrive != nil && q.redrive.TargetArn == dlq.arn
		q.mu.Unlock()
		if is {
			return true
		}
	}
	return false
}

func (s *Service) listMessageMoveTasks(r *service.Request) (map[string]any, error) {
	srcArn := service.Str(r.Input, "SourceArn")
	if srcArn == "" {
		return nil, errMissing("SourceArn")
	}
	if s.queueByARN(srcArn) == nil {
		return nil, sqsErr(codeResourceNotFound, "The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	max := int64(1)
	if n, ok := service.Int(r.Input, "MaxResults"); ok {
		if n < 1 || n > 10 {
			return nil, errParam(n, "MaxResults", "Must be between 1 and 10.")
		}
		max = n
	}
	s.tasksMu.Lock()
	var list []*moveTask
	for _, t := range s.tasks {
		if t.source == srcArn {
			list = append(list, t)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq > list[j].seq })
	if int64(len(list)) > max {
		list = list[:max]
	}
	out := make([]any, len(list))
	for i, t := range list {
		e := map[string]any{
			"Status": t.status, "SourceArn": t.source, "ApproximateNumberOfMessagesMoved": t.moved,
			"ApproximateNumberOfMessagesToMove": t.toMove, "StartedTimestamp": t.started,
		}
		if t.status == "RUNNING" {
			e["TaskHandle"] = t.handle
		}
		if t.failure != "" {
			e["FailureReason"] = t.failure
		}
		if t.destination != "" {
			e["DestinationArn"] = t.destination
		}
		if t.rate > 0 {
			e["MaxNumberOfMessagesPerSecond"] = t.rate
		}
		out[i] = e
	}
	s.tasksMu.Unlock()
	return map[string]any{"Results": out}, nil
}

func (s *Service) cancelMessageMoveTask(r *service.Request) (map[string]any, error) {
	h := service.Str(r.Input, "TaskHandle")
	if h == "" {
		return nil, errMissing("TaskHandle")
	}
	s.tasksMu.Lock()
	defer s.tasksMu.Unlock()
	t := s.tasks[h]
	if t == nil {
		return nil, sqsErr(codeResourceNotFound, "Task does not exist.")
	}
	if t.status != "RUNNING" {
		return nil, sqsErr(codeUnsupportedOperation, "Only active tasks can be cancelled.")
	}
	t.status = "CANCELLING"
	return map[string]any{"ApproximateNumberOfMessagesMoved": t.moved}, nil
}
