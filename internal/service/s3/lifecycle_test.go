package s3_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/overcast-dev/overcast/internal/clock"
)

func TestLifecycleExpiration(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	srv := start(t, withClock(clk))
	c := srv.client()
	mustBucket(t, c, "bkt")
	mustBucket(t, c, "ver")
	c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("ver"), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	put(t, c, "bkt", "logs/a", "x")
	put(t, c, "bkt", "keep/a", "x")
	put(t, c, "ver", "logs/a", "v1")
	put(t, c, "ver", "logs/a", "v2")
	cr, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("logs/mpu")})
	rules := []types.LifecycleRule{{ID: aws.String("logs"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("logs/")},
		Expiration:                     &types.LifecycleExpiration{Days: aws.Int32(1)},
		NoncurrentVersionExpiration:    &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)},
		AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)}}}
	for _, b := range []string{"bkt", "ver"} {
		if _, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(b),
			LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: rules}}); err != nil {
			t.Fatal(err)
		}
	}
	// One day later it is not yet midnight after creation + 1 day.
	clk.Advance(24 * time.Hour)
	if err := srv.Svc.RunLifecycle(ctx); err != nil {
		t.Fatal(err)
	}
	if l, _ := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")}); len(l.Contents) != 2 {
		t.Fatalf("expired too early: %v", keysOf(l.Contents))
	}
	clk.Advance(14 * time.Hour) // past midnight of March 3rd
	if err := srv.Svc.RunLifecycle(ctx); err != nil {
		t.Fatal(err)
	}
	if l, _ := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")}); len(l.Contents) != 1 || *l.Contents[0].Key != "keep/a" {
		t.Errorf("after expiry: %v", keysOf(l.Contents))
	}
	if _, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("bkt"), Key: aws.String("logs/mpu"), UploadId: cr.UploadId}); apiCode(err) != "NoSuchUpload" {
		t.Errorf("incomplete upload not aborted: %v", err)
	}
	// In the versioned bucket: v1 (noncurrent) is gone, v2 is behind a delete marker.
	lv, _ := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("ver")})
	if len(lv.Versions) != 1 || len(lv.DeleteMarkers) != 1 {
		t.Errorf("versioned: %d versions, %d markers", len(lv.Versions), len(lv.DeleteMarkers))
	}
}
