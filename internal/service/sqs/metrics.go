package sqs

import (
	"context"
	"time"

	"github.com/overcast-dev/overcast/internal/metrics"
)

// metricsInterval is how often AWS/SQS metrics are published: once a
// minute, as SQS does.
const metricsInterval = time.Minute

// activeFor is how long a queue keeps its metrics published after its last
// API activity while it holds no messages (SQS: up to six hours).
const activeFor = 6 * time.Hour

// queueStats are the per-queue counters behind the AWS/SQS metrics. They
// are kept under the queue's mutex, which every request path already
// holds, so counting costs a few increments; the metrics controller reads
// and resets them once a period.
type queueStats struct {
	sent, received, deleted, empty int64
	sizeN                          int64
	sizeSum, sizeMin, sizeMax      int64
	lastActive                     int64 // unix ns of the last period with activity
}

func (st *queueStats) addSent(size int) {
	st.sent++
	n := int64(size)
	if st.sizeN == 0 || n < st.sizeMin {
		st.sizeMin = n
	}
	if n > st.sizeMax {
		st.sizeMax = n
	}
	st.sizeN++
	st.sizeSum += n
}

// flushMetrics publishes every active queue's AWS/SQS metrics for the
// period that just ended and resets the counters.
func (s *Service) flushMetrics(context.Context) error {
	if _, discard := s.metrics.(metrics.Discard); discard {
		return nil
	}
	now := s.clock.Now()
	ts := now.UTC()
	for _, q := range s.allQueues() {
		q.mu.Lock()
		if q.deleted {
			q.mu.Unlock()
			continue
		}
		q.promote(now)
		st := q.stats
		q.stats = queueStats{lastActive: st.lastActive}
		active := st.sent+st.received+st.deleted+st.empty > 0
		if active {
			q.stats.lastActive = now.UnixNano()
		}
		visible, notVisible, delayed := q.counts[stReady], q.counts[stInflight], q.counts[stDelayed]
		var oldest int64
		if q.ahead != nil {
			oldest = max(0, (now.UnixMilli()-q.ahead.sent)/1000)
		}
		name, account, region := q.rec.Name, q.scope.Account, q.scope.Region
		q.mu.Unlock()
		if !active && visible+notVisible+delayed == 0 && now.UnixNano()-st.lastActive > int64(activeFor) {
			continue
		}
		dims := []metrics.Dimension{{Name: "QueueName", Value: name}}
		gauge := func(n string, v int64, unit string) metrics.Datum {
			return metrics.Datum{Name: n, Dimensions: dims, Unit: unit, Timestamp: ts, Value: float64(v)}
		}
		data := []metrics.Datum{
			gauge("ApproximateNumberOfMessagesVisible", int64(visible), "Count"),
			gauge("ApproximateNumberOfMessagesNotVisible", int64(notVisible), "Count"),
			gauge("ApproximateNumberOfMessagesDelayed", int64(delayed), "Count"),
			gauge("ApproximateAgeOfOldestMessage", oldest, "Seconds"),
			gauge("NumberOfMessagesSent", st.sent, "Count"),
			gauge("NumberOfMessagesReceived", st.received, "Count"),
			gauge("NumberOfMessagesDeleted", st.deleted, "Count"),
			gauge("NumberOfEmptyReceives", st.empty, "Count"),
		}
		if st.sizeN > 0 {
			d := gauge("SentMessageSize", st.sizeSum, "Bytes")
			if st.sizeN > 1 {
				d.Count, d.Min, d.Max = float64(st.sizeN), float64(st.sizeMin), float64(st.sizeMax)
			}
			data = append(data, d)
		}
		s.metrics.Publish(account, region, "AWS/SQS", data)
	}
	return nil
}

// allQueues returns a snapshot of the live queues.
func (s *Service) allQueues() []*queue {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*queue, 0, len(s.queues))
	for _, q := range s.queues {
		out = append(out, q)
	}
	return out
}
