package s3

import (
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

// instrument wraps a handler to emit S3's request metrics (AWS/S3, with
// the BucketName and FilterId=EntireBucket dimensions).
func (s *Service) instrument(op string, h service.Handler) service.Handler {
	if _, discard := s.metrics.(metrics.Discard); discard {
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
	case "DeleteObject":
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
		now := s.clk.Now()
		dims := []metrics.Dimension{{Name: "BucketName", Value: bucket}, {Name: "FilterId", Value: "EntireBucket"}}
		data := []metrics.Datum{{Name: "AllRequests", Dimensions: dims, Unit: "Count", Timestamp: now, Value: 1},
			{Name: "FirstByteLatency", Dimensions: dims, Unit: "Milliseconds", Timestamp: now, Value: float64(time.Since(start).Microseconds()) / 1000}}
		if kind != "" {
			data = append(data, metrics.Datum{Name: kind, Dimensions: dims, Unit: "Count", Timestamp: now, Value: 1})
		}
		if err != nil {
			if e := awserr.As(err); e.HTTPStatus() >= 500 {
				data = append(data, metrics.Datum{Name: "5xxErrors", Dimensions: dims, Unit: "Count", Timestamp: now, Value: 1})
			} else if e.HTTPStatus() >= 400 {
				data = append(data, metrics.Datum{Name: "4xxErrors", Dimensions: dims, Unit: "Count", Timestamp: now, Value: 1})
			}
		} else if n := req.HTTP.ContentLength; n > 0 && (strings.HasPrefix(op, "Put") || op == "UploadPart") {
			data = append(data, metrics.Datum{Name: "BytesUploaded", Dimensions: dims, Unit: "Bytes", Timestamp: now, Value: float64(n)})
		}
		s.metrics.Publish(req.Account, req.Region, "AWS/S3", data)
		return out, err
	}
}

// countBytes emits BytesDownloaded for a GET.
func (s *Service) countBytes(req *service.Request, bucket, name string, n int64) {
	if _, discard := s.metrics.(metrics.Discard); discard {
		return
	}
	s.metrics.Publish(req.Account, req.Region, "AWS/S3", []metrics.Datum{{Name: name, Unit: "Bytes", Timestamp: s.clk.Now(), Value: float64(n),
		Dimensions: []metrics.Dimension{{Name: "BucketName", Value: bucket}, {Name: "FilterId", Value: "EntireBucket"}}}})
}
