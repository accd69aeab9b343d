package sqs

import (
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

// moveTask is a message move task. Tasks run to completion when started
// (see the package documentation), so they are kept in memory only.
type moveTask struct {
	handle      string
	source      string
	destination string
	rate        int64
	moved       int64
	toMove      int64
	status      string
	started     int64
	seq         int
}

func (t *moveTask) cancel() {}

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
	var dst *queue
	if dstArn != "" {
		if dst = s.queueByARN(dstArn); dst == nil {
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
	t := &moveTask{
		handle: base64.StdEncoding.EncodeToString(hb), source: srcArn, destination: dstArn,
		rate: rate, status: "RUNNING", started: s.clock.Now().UnixMilli(), seq: len(s.tasks),
	}
	s.tasks[t.handle] = t
	// Take every message not in flight, grouped by destination.
	src.mu.Lock()
	src.promote(s.clock.Now())
	byDst := map[string][]*message{}
	for m := src.ahead; m != nil; {
		next := m.anext
		if m.state != stInflight {
			d := dstArn
			if d == "" {
				d = m.sourceArn
			}
			if d != "" {
				src.remove(m)
				byDst[d] = append(byDst[d], m)
				t.toMove++
			}
		}
		m = next
	}
	src.mu.Unlock()
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
		t.moved += int64(len(msgs))
	}
	if len(back) > 0 {
		// Destinations that vanished: the messages stay in the source.
		src.mu.Lock()
		sort.Slice(back, func(i, j int) bool { return back[i].seq < back[j].seq })
		for _, m := range back {
			m.prev, m.next, m.aprev, m.anext, m.heapIdx = nil, nil, nil, nil, -1
			if m.state == stDelayed {
				m.state = stReady
			}
			src.insert(m)
		}
		src.mu.Unlock()
	}
	t.status = "COMPLETED"
	return map[string]any{"TaskHandle": t.handle}, nil
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
	t.status = "CANCELLED"
	return map[string]any{"ApproximateNumberOfMessagesMoved": t.moved}, nil
}
