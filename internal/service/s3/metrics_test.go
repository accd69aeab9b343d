package s3_test

import (
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/overcast-dev/overcast/internal/metrics"
)

type countingPublisher struct {
	mu     sync.Mutex
	totals map[string]float64
}

func (p *countingPublisher) Publish(account, region, ns string, data []metrics.Datum) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, d := range data {
		if ns == "AWS/S3" && d.Dimensions[0].Value == "bkt" {
			p.totals[d.Name] += d.Value // Value is the Sum of a statistic set
		}
	}
}

func TestRequestMetrics(t *testing.T) {
	pub := &countingPublisher{totals: map[string]float64{}}
	srv := start(t, func(h *harness) { h.opts.Metrics = pub })
	c := srv.client()
	mustBucket(t, c, "bkt")
	put(t, c, "bkt", "k", "12345")
	get(t, c, "bkt", "k")
	c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("missing")})
	if len(pub.totals) != 0 {
		t.Errorf("published before the period ended: %v", pub.totals)
	}
	srv.Svc.FlushMetrics(ctx)
	pub.mu.Lock()
	defer pub.mu.Unlock()
	want := map[string]float64{"AllRequests": 4, "PutRequests": 1, "GetRequests": 2, "4xxErrors": 1, "BytesUploaded": 5, "BytesDownloaded": 5}
	for k, v := range want {
		if pub.totals[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, pub.totals[k], v, pub.totals)
		}
	}
}
