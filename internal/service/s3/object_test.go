package s3_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

var ctx = context.Background()

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func mustBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

func put(t *testing.T, c *s3.Client, bucket, key, body string) *s3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	return out
}

func get(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBuckets(t *testing.T) {
	srv := start(t)
	c := srv.client()
	mustBucket(t, c, "alpha")
	mustBucket(t, c, "beta")
	for _, bad := range []string{"UPPER", "ab", "a..b", "192.168.1.1", "-abc", "xn--abc"} {
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bad)})
		if apiCode(err) != "InvalidBucketName" {
			t.Errorf("create %q: %v", bad, err)
		}
	}
	// Another account cannot take the name.
	other := s3.NewFromConfig(srv.cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.Credentials = aws.NewCredentialsCache(staticCreds("111122223333"))
	})
	if _, err := other.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alpha")}); apiCode(err) != "BucketAlreadyExists" {
		t.Errorf("other account create: %v", err)
	}
	if _, err := other.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("alpha")}); err == nil {
		t.Errorf("other account head succeeded")
	}
	// Location constraint.
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("gamma"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}}); err != nil {
		t.Fatal(err)
	}
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("gamma")})
	if err != nil || loc.LocationConstraint != "eu-west-1" {
		t.Errorf("location: %v %v", loc, err)
	}
	loc, err = c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("alpha")})
	if err != nil || loc.LocationConstraint != "" {
		t.Errorf("location us-east-1: %+v %v", loc, err)
	}
	list, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(list.Buckets) != 3 || *list.Buckets[0].Name != "alpha" {
		t.Fatalf("list: %+v %v", list, err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nope")}); err == nil {
		t.Error("head of missing bucket succeeded")
	}
	put(t, c, "beta", "k", "v")
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("beta")}); apiCode(err) != "BucketNotEmpty" {
		t.Errorf("delete non-empty: %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("beta"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("beta")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("beta")}); apiCode(err) != "NoSuchBucket" {
		t.Errorf("delete missing: %v", err)
	}
}

func TestObjectRoundTrip(t *testing.T) {
	srv := start(t)
	c := srv.client()
	mustBucket(t, c, "bkt")
	body := strings.Repeat("hello world ", 1000)
	sum := md5.Sum([]byte(body))
	out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/file.txt"), Body: strings.NewReader(body),
		ContentType: aws.String("text/plain"), Metadata: map[string]string{"Color": "blue"}, CacheControl: aws.String("max-age=60"),
		StorageClass: types.StorageClassStandardIa, ServerSideEncryption: types.ServerSideEncryptionAwsKms})
	if err != nil {
		t.Fatal(err)
	}
	if *out.ETag != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("etag %s", *out.ETag)
	}
	if out.ServerSideEncryption != types.ServerSideEncryptionAwsKms {
		t.Errorf("sse %v", out.ServerSideEncryption)
	}
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/file.txt"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(g.Body)
	g.Body.Close()
	if string(got) != body || *g.ContentType != "text/plain" || g.Metadata["color"] != "blue" || *g.CacheControl != "max-age=60" ||
		g.StorageClass != types.StorageClassStandardIa || *g.ContentLength != int64(len(body)) {
		t.Errorf("get: %+v", g)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/file.txt")})
	if err != nil || *h.ContentLength != int64(len(body)) || *h.ETag != *out.ETag {
		t.Errorf("head: %+v %v", h, err)
	}
	// Missing key.
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("missing")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("missing key: %v", err)
	}
	// Empty body.
	put(t, c, "bkt", "empty", "")
	if s := get(t, c, "bkt", "empty"); s != "" {
		t.Errorf("empty: %q", s)
	}
}

func TestAwkwardKeys(t *testing.T) {
	srv := start(t, withDisk(t.TempDir()))
	c := srv.client()
	mustBucket(t, c, "bkt")
	keys := []string{"../../etc/passwd", "a//b", "a/./b", "a/../b", "ünïcødé/日本語", "a", "a/b", "with space+plus", "percent%2Fslash", "?query#frag",
		strings.Repeat("k", 1024), "/leading", "trailing/"}
	for i, k := range keys {
		put(t, c, "bkt", k, "body"+k[:min(len(k), 3)]+string(rune('0'+i)))
	}
	for i, k := range keys {
		if got := get(t, c, "bkt", k); got != "body"+k[:min(len(k), 3)]+string(rune('0'+i)) {
			t.Errorf("key %q: got %q", k, got)
		}
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("x")})
	if apiCode(err) != "KeyTooLongError" {
		t.Errorf("1025-byte key: %v", err)
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	if err != nil || len(list.Contents) != len(keys) {
		t.Fatalf("list: %d %v", len(list.Contents), err)
	}
}

func TestRangesAndConditions(t *testing.T) {
	srv := start(t, withDisk(t.TempDir()))
	c := srv.client()
	mustBucket(t, c, "bkt")
	p := put(t, c, "bkt", "k", "0123456789")
	cases := []struct{ rng, want, cr string }{
		{"bytes=0-3", "0123", "bytes 0-3/10"},
		{"bytes=7-", "789", "bytes 7-9/10"},
		{"bytes=-2", "89", "bytes 8-9/10"},
		{"bytes=5-100", "56789", "bytes 5-9/10"},
	}
	for _, tc := range cases {
		g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Range: aws.String(tc.rng)})
		if err != nil {
			t.Fatalf("%s: %v", tc.rng, err)
		}
		b, _ := io.ReadAll(g.Body)
		g.Body.Close()
		if string(b) != tc.want || aws.ToString(g.ContentRange) != tc.cr {
			t.Errorf("%s: got %q %q", tc.rng, b, aws.ToString(g.ContentRange))
		}
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Range: aws.String("bytes=10-")})
	if apiCode(err) != "InvalidRange" {
		t.Errorf("unsatisfiable range: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), IfMatch: aws.String(`"nope"`)})
	if apiCode(err) != "PreconditionFailed" {
		t.Errorf("if-match: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), IfNoneMatch: p.ETag})
	if apiCode(err) != "NotModified" {
		t.Errorf("if-none-match: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), IfModifiedSince: aws.Time(time.Now().Add(time.Hour))})
	if apiCode(err) != "NotModified" {
		t.Errorf("if-modified-since: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), IfUnmodifiedSince: aws.Time(time.Now().Add(-time.Hour))})
	if apiCode(err) != "PreconditionFailed" {
		t.Errorf("if-unmodified-since: %v", err)
	}
	if g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), IfMatch: p.ETag}); err != nil {
		t.Errorf("if-match true: %v", err)
	} else {
		g.Body.Close()
	}
	// Conditional writes.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")})
	if apiCode(err) != "PreconditionFailed" {
		t.Errorf("if-none-match * on existing: %v", err)
	}
	if _, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("new"), Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")}); err != nil {
		t.Errorf("if-none-match * on new: %v", err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("x"), IfMatch: aws.String(`"bad"`)})
	if apiCode(err) != "PreconditionFailed" {
		t.Errorf("if-match on put: %v", err)
	}
	if got := get(t, c, "bkt", "k"); got != "0123456789" {
		t.Errorf("failed conditional writes changed the object: %q", got)
	}
}

func TestDigests(t *testing.T) {
	srv := start(t)
	c := srv.client()
	mustBucket(t, c, "bkt")
	put(t, c, "bkt", "k", "original")
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("changed"),
		ContentMD5: aws.String("1B2M2Y8AsgTpgAmY7PhCfg==")})
	if apiCode(err) != "BadDigest" {
		t.Errorf("wrong Content-MD5: %v", err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("changed"),
		ChecksumSHA256: aws.String("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")})
	if apiCode(err) != "BadDigest" {
		t.Errorf("wrong sha256: %v", err)
	}
	if got := get(t, c, "bkt", "k"); got != "original" {
		t.Errorf("bad digests changed the object: %q", got)
	}
	for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("sum"), Body: strings.NewReader("checksummed"), ChecksumAlgorithm: alg}); err != nil {
			t.Errorf("%s: %v", alg, err)
			continue
		}
		g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("sum"), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Errorf("%s get: %v", alg, err)
			continue
		}
		io.ReadAll(g.Body) // the SDK validates the checksum while reading
		if err := g.Body.Close(); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
	}
}

func TestDeleteObjectsAndCopy(t *testing.T) {
	srv := start(t)
	c := srv.client()
	mustBucket(t, c, "bkt")
	mustBucket(t, c, "cpy")
	for _, k := range []string{"a", "b", "c"} {
		put(t, c, "bkt", k, "v-"+k)
	}
	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("a")}, {Key: aws.String("bkt")}, {Key: aws.String("zz")}}}})
	if err != nil || len(out.Deleted) != 3 {
		t.Fatalf("delete objects: %+v %v", out, err)
	}
	cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("cpy"), Key: aws.String("copy"), CopySource: aws.String("bkt/c")})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, c, "cpy", "copy"); got != "v-c" {
		t.Errorf("copy body %q", got)
	}
	if *cp.CopyObjectResult.ETag == "" {
		t.Error("no etag")
	}
	// REPLACE metadata; copying onto itself without changes is refused.
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("cpy"), Key: aws.String("copy"), CopySource: aws.String("cpy/copy")})
	if apiCode(err) != "InvalidRequest" {
		t.Errorf("self copy: %v", err)
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("cpy"), Key: aws.String("copy"), CopySource: aws.String("cpy/copy"),
		MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"x": "y"}, ContentType: aws.String("a/b")})
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("cpy"), Key: aws.String("copy")})
	if err != nil || h.Metadata["x"] != "y" || *h.ContentType != "a/b" {
		t.Errorf("replace: %+v %v", h, err)
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("cpy"), Key: aws.String("x"), CopySource: aws.String("bkt/missing")})
	if apiCode(err) != "NoSuchKey" {
		t.Errorf("copy missing: %v", err)
	}
}

func TestConcurrentPuts(t *testing.T) {
	srv := start(t, withDisk(t.TempDir()))
	c := srv.client()
	mustBucket(t, c, "bkt")
	bodies := make([]string, 8)
	for i := range bodies {
		bodies[i] = strings.Repeat(string(rune('a'+i)), 64<<10)
	}
	put(t, c, "bkt", "k", bodies[0])
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan string, 100)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
			if err != nil {
				errs <- err.Error()
				return
			}
			b, _ := io.ReadAll(g.Body)
			g.Body.Close()
			if len(b) != 64<<10 || !bytes.Equal(b, bytes.Repeat(b[:1], len(b))) {
				errs <- "torn read"
				return
			}
		}
	}()
	var pw sync.WaitGroup
	for i := range bodies {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for range 5 {
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader(bodies[i])}); err != nil {
					errs <- err.Error()
				}
			}
		}()
	}
	pw.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
