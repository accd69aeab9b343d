package sns

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/overcast-dev/overcast/internal/metrics"
)

// metricsInterval is how often AWS/SNS metrics are published.
const metricsInterval = time.Minute

// topicStats count a topic's activity between two metrics periods.
// Deliveries finish on their own goroutines, so the counts are atomic.
type topicStats struct {
	published, delivered, failed, filtered atomic.Int64

	sizeMu                           sync.Mutex
	sizeN, sizeSum, sizeMin, sizeMax int64
}

func (st *topicStats) addPublished(size int) {
	st.published.Add(1)
	n := int64(size)
	st.sizeMu.Lock()
	if st.sizeN == 0 || n < st.sizeMin {
		st.sizeMin = n
	}
	st.sizeMax = max(st.sizeMax, n)
	st.sizeN++
	st.sizeSum += n
	st.sizeMu.Unlock()
}

// flushMetrics publishes the AWS/SNS metrics of every topic with activity
// in the period that just ended.
func (s *Service) flushMetrics(context.Context) error {
	ts := s.clock.Now().UTC()
	s.mu.RLock()
	topics := make([]*topic, 0, len(s.topics))
	for _, t := range s.topics {
		topics = append(topics, t)
	}
	s.mu.RUnlock()
	for _, t := range topics {
		st := &t.stats
		pub, del, fail, filt := st.published.Swap(0), st.delivered.Swap(0), st.failed.Swap(0), st.filtered.Swap(0)
		st.sizeMu.Lock()
		n, sum, lo, hi := st.sizeN, st.sizeSum, st.sizeMin, st.sizeMax
		st.sizeN, st.sizeSum, st.sizeMin, st.sizeMax = 0, 0, 0, 0
		st.sizeMu.Unlock()
		if pub+del+fail+filt == 0 {
			continue
		}
		dims := []metrics.Dimension{{Name: "TopicName", Value: t.rec.Name}}
		count := func(name string, v int64) metrics.Datum {
			return metrics.Datum{Name: name, Dimensions: dims, Unit: "Count", Timestamp: ts, Value: float64(v)}
		}
		data := []metrics.Datum{
			count("NumberOfMessagesPublished", pub),
			count("NumberOfNotificationsDelivered", del),
			count("NumberOfNotificationsFailed", fail),
			count("NumberOfNotificationsFilteredOut", filt),
		}
		if n > 0 {
			d := metrics.Datum{Name: "PublishSize", Dimensions: dims, Unit: "Bytes", Timestamp: ts, Value: float64(sum)}
			if n > 1 {
				d.Count, d.Min, d.Max = float64(n), float64(lo), float64(hi)
			}
			data = append(data, d)
		}
		s.metrics.Publish(t.rec.Account, t.rec.Region, "AWS/SNS", data)
	}
	return nil
}
