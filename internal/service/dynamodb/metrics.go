package dynamodb

import (
	"time"

	"github.com/overcast-dev/overcast/internal/metrics"
)

// metricsInterval is how often the per-minute counters are published.
const metricsInterval = time.Minute

const namespace = "AWS/DynamoDB"

// flushMetrics publishes, per table, what the counters gathered since the
// last flush: consumed capacity, throttle events, throttled requests,
// returned items and request latency, with AWS's dimensions.
func (s *Service) flushMetrics(now time.Time) {
	ts := now.Truncate(time.Minute)
	s.mu.RLock()
	tables := make([]*table, 0, len(s.tables))
	for _, t := range s.tables {
		tables = append(tables, t)
	}
	s.mu.RUnlock()
	for _, t := range tables {
		var data []metrics.Datum
		tdim := metrics.Dimension{Name: "TableName", Value: t.meta.Name}
		data = appendCap(data, t.cap, []metrics.Dimension{tdim}, ts)
		for _, ix := range t.indexes {
			if !ix.meta.Local {
				data = appendCap(data, ix.cap, []metrics.Dimension{tdim, {Name: "GlobalSecondaryIndexName", Value: ix.meta.Name}}, ts)
			}
		}
		for i := range t.stats.ops {
			o := &t.stats.ops[i]
			dims := []metrics.Dimension{tdim, {Name: "Operation", Value: statOps[i]}}
			if n := o.throttled.Swap(0); n > 0 {
				data = append(data, metrics.Datum{Name: "ThrottledRequests", Dimensions: dims, Unit: "Count", Timestamp: ts, Value: float64(n)})
			}
			if o.retSeen.Swap(false) {
				data = append(data, metrics.Datum{Name: "ReturnedItemCount", Dimensions: dims, Unit: "Count", Timestamp: ts, Value: float64(o.returned.Swap(0))})
			}
			o.mu.Lock()
			cnt, sum, mn, mx := o.n, o.sum, o.min, o.max
			o.n, o.sum, o.min, o.max = 0, 0, 0, 0
			o.mu.Unlock()
			if cnt > 0 {
				d := metrics.Datum{Name: "SuccessfulRequestLatency", Dimensions: dims, Unit: "Milliseconds", Timestamp: ts, Value: sum}
				if cnt > 1 {
					d.Count, d.Min, d.Max = float64(cnt), mn, mx
				}
				data = append(data, d)
			}
		}
		if len(data) > 0 {
			s.metrics.Publish(t.scope.Account, t.scope.Region, namespace, data)
		}
	}
}

func appendCap(data []metrics.Datum, c *capState, dims []metrics.Dimension, ts time.Time) []metrics.Datum {
	if c.readSeen.Swap(false) {
		data = append(data, metrics.Datum{Name: "ConsumedReadCapacityUnits", Dimensions: dims, Unit: "Count", Timestamp: ts, Value: float64(c.rcu.Swap(0)) / 1000})
		if n := c.readThr.Swap(0); n > 0 {
			data = append(data, metrics.Datum{Name: "ReadThrottleEvents", Dimensions: dims, Unit: "Count", Timestamp: ts, Value: float64(n)})
		}
	}
	if c.writeSeen.Swap(false) {
		data = append(data, metrics.Datum{Name: "ConsumedWriteCapacityUnits", Dimensions: dims, Unit: "Count", Timestamp: ts, Value: float64(c.wcu.Swap(0)) / 1000})
		if n := c.writeThr.Swap(0); n > 0 {
			data = append(data, metrics.Datum{Name: "WriteThrottleEvents", Dimensions: dims, Unit: "Count", Timestamp: ts, Value: float64(n)})
		}
	}
	return data
}
