package s3_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/server"
)

// TestSlowDownEndToEnd runs the whole server with S3's request-rate mode and
// a fake clock: within one clock second a prefix admits 5,500 reads, the
// next one reaches the SDK (retryer limited to one attempt) as 503 SlowDown,
// another prefix is unaffected, and the next second admits reads again.
func TestSlowDownEndToEnd(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	srv := awstest.Start(t, awstest.WithServices("s3"), awstest.WithClock(clk),
		func(c *server.Config) { c.S3RateLimit = true })
	cfg := srv.Config.Copy()
	cfg.Retryer = func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("rates")}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"logs/a", "img/a"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("rates"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	head := func(key string) error {
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("rates"), Key: aws.String(key)})
		return err
	}

	// 5,500 reads of "logs/" in one clock second, eight clients at a time.
	const reads = 5500
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= reads {
				if err := head("logs/a"); err != nil {
					if failed.Add(1) == 1 {
						t.Errorf("read within the rate: %v", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.Fatalf("%d of %d reads within the rate failed", failed.Load(), reads)
	}

	err := head("logs/b")
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) {
		t.Fatalf("read 5,501: %v, want 503 SlowDown", err)
	}
	// HEAD answers carry no body, so the SDK names the error by its status.
	if re.HTTPStatusCode() != http.StatusServiceUnavailable {
		t.Errorf("read 5,501: status %d, want 503", re.HTTPStatusCode())
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("rates"), Key: aws.String("logs/a")}); !errors.As(err, &ae) || ae.ErrorCode() != "SlowDown" {
		t.Errorf("GET beyond the rate: %v, want SlowDown", err)
	}
	if err := head("img/a"); err != nil {
		t.Errorf("read of another prefix: %v", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("rates"), Key: aws.String("logs/c")}); err != nil {
		t.Errorf("write to the prefix (writes have their own rate): %v", err)
	}

	clk.Advance(time.Second)
	if err := head("logs/a"); err != nil {
		t.Errorf("read a clock second later: %v", err)
	}
}
