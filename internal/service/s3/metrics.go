package s3

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

// metricsInterval is the period of S3 request metrics (one minute, as S3
// publishes them).
const metricsInterval = time.Minute

// S3 request metrics (AWS/S3 with the BucketName and FilterId=EntireBucket
// dimensions) are aggregated in memory per bucket and published once a
// period as statistic sets, so the request path never waits on CloudWatch.
type metricsAgg struct {
	mu sync.Mutex
	m  map[aggKey]map[string]*stat
}

type aggKey struct{ account, region, bucket string }

type stat struct{ n, sum, min, max float64 }

func (a *metricsAgg) add(k aggKey, name string, v float64) {
	a.mu.Lock()
	if a.m == nil {
		a.m = map[aggKey]map[string]*stat{}
	}
	byName := a.m[k]
	if byName == nil {
		byName = map[string]*stat{}
		a.m[k] = byName
	}
	st := byName[name]
	if st == nil {
		st = &stat{min: v, max: v}
		byName[name] = st
	}
	st.n++
	st.sum += v
	st.min = min(st.min, v)
	st.max = max(st.max, v)
	a.mu.Unlock()
}

func (a *metricsAgg) take() map[aggKey]map[string]*stat {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.m
	a.m = nil
	return m
}

var metricUnits = map[string]string{"BytesDownloaded": "Bytes", "BytesUploaded": "Bytes", "FirstByteLatency": "Milliseconds", "TotalRequestLatency": "Milliseconds"}

// flushMetrics publishes what was aggregated since the last flush.
func (s *Service) flushMetrics(context.Context) error {
	now := s.clk.Now().UTC()
	for k, byName := range s.agg.take() {
		dims := []metrics.Dimension{{Name: "BucketName", Value: k.bucket}, {Name: "FilterId", Value: "EntireBucket"}}
		data := make([]metrics.Datum, 0, len(byName))
		for name, st := range byName {
			unit := metricUnits[name]
			if unit == "" {
				unit = "Count"
			}
			d := metrics.Datum{Name: name, Dimensions: dims, Unit: unit, Timestamp: now, Value: st.sum}
			if st.n > 1 {
				d.Count, d.Min, d.Max = st.n, st.min, st.max
			}
			data = append(data, d)
		}
		s.metrics.Publish(k.account, k.region, "AWS/S3", data)
	}
	return nil
}

func (s *Service) metricsOn() bool {
	_, discard := s.metrics.(metrics.Discard)
	return !discard
}

// instrument wraps a handler to count S3's request metrics.
func (s *Service) instrument(op string, h service.Handler) service.Handler {
	if !s.metricsOn() {
		return h
	}
	kind := ""
	switch op {
	case "GetObject":
		kind = "GetRequests"
	case "PutObject", "UploadPart":
		kind = "PutRequests"
	case "HeadObject", "HeadBucket":
		kind = "HeadRequests"
	case "DeleteObject", "DeleteObjects":
		kind = "DeleteRequests"
	case "ListObjects", "ListObjectsV2", "ListObjectVersions":
		kind = "ListRequests"
	case "CopyObject", "UploadPartCopy", "CompleteMultipartUpload", "CreateMultipartUpload":
		kind = "PostRequests"
	}
	return func(req *service.Request) (map[string]any, error) {
		start := time.Now()
		out, err := h(req)
		bucket := service.Str(req.Input, "Bucket")
		if bucket == "" {
			return out, err
		}
		k := aggKey{req.Account, req.Region, bucket}
		s.agg.add(k, "AllRequests", 1)
		s.agg.add(k, "FirstByteLatency", float64(time.Since(start).Microseconds())/1000)
		if kind != "" {
			s.agg.add(k, kind, 1)
		}
		if err != nil {
			if e := awserr.As(err); e.HTTPStatus() >= 500 {
				s.agg.add(k, "5xxErrors", 1)
			} else if e.HTTPStatus() >= 400 {
				s.agg.add(k, "4xxErrors", 1)
			}
		} else if n := req.HTTP.ContentLength; n > 0 && (strings.HasPrefix(op, "Put") || op == "UploadPart") {
			s.agg.add(k, "BytesUploaded", float64(n))
		}
		return out, err
	}
}

// countBytes counts BytesDownloaded for a GET.
func (s *Service) countBytes(req *service.Request, bucket, name string, n int64) {
	if s.metricsOn() {
		s.agg.add(aggKey{req.Account, req.Region, bucket}, name, float64(n))
	}
}
