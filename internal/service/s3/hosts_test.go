package s3_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func (s *testServer) port() string { return s.URL[strings.LastIndexByte(s.URL, ':')+1:] }

func (s *testServer) httpClient() *http.Client {
	c := *s.cfg.HTTPClient.(*http.Client)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func TestVirtualHostedStyle(t *testing.T) {
	srv := start(t, withVerify())
	for _, domain := range []string{"s3.localhost.localstack.cloud", "s3.localhost"} {
		cfg := srv.cfg.Copy()
		cfg.BaseEndpoint = aws.String("http://" + domain + ":" + srv.port())
		c := s3.NewFromConfig(cfg) // virtual-hosted addressing
		bucket := "vh-" + strings.ReplaceAll(domain, ".", "-")
		mustBucket(t, c, bucket)
		put(t, c, bucket, "dir//a b/../c", "virtual")
		if got := get(t, c, bucket, "dir//a b/../c"); got != "virtual" {
			t.Errorf("%s: %q", domain, got)
		}
		l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		if err != nil || len(l.Contents) != 1 || *l.Contents[0].Key != "dir//a b/../c" {
			t.Errorf("%s list: %v", domain, err)
		}
		// The same object path style.
		if got := get(t, srv.client(), bucket, "dir//a b/../c"); got != "virtual" {
			t.Errorf("path style: %q", got)
		}
	}
}

func TestVerifiedTLSChunkedUploads(t *testing.T) {
	for _, verify := range []bool{false, true} {
		opts := []option{withTLS()}
		if verify {
			opts = append(opts, withVerify())
		}
		srv := start(t, opts...)
		c := srv.client()
		mustBucket(t, c, "bkt")
		// Over TLS the SDK streams with aws-chunked and a trailing checksum.
		data := randomBytes(300 << 10)
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
		if err != nil {
			t.Fatalf("verify=%v: %v", verify, err)
		}
		g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(g.Body)
		if err := g.Body.Close(); err != nil || !bytes.Equal(got, data) {
			t.Errorf("verify=%v: read back %d bytes: %v", verify, len(got), err)
		}
		if aws.ToString(g.ChecksumCRC32C) != aws.ToString(out.ChecksumCRC32C) || g.ContentEncoding != nil {
			t.Errorf("checksum %v vs %v, content-encoding %v", aws.ToString(g.ChecksumCRC32C), aws.ToString(out.ChecksumCRC32C), aws.ToString(g.ContentEncoding))
		}
	}
}

func TestPresigned(t *testing.T) {
	srv := start(t, withVerify())
	c := srv.client()
	mustBucket(t, c, "bkt")
	ps := s3.NewPresignClient(c)
	req, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("pre")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	hreq, _ := http.NewRequest(req.Method, req.URL, strings.NewReader("presigned body"))
	for k, vs := range req.SignedHeader {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	resp, err := srv.httpClient().Do(hreq)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("presigned put: %v %v", resp, err)
	}
	resp.Body.Close()
	greq, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("pre")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err = srv.httpClient().Get(greq.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "presigned body" {
		t.Errorf("presigned get: %d %q", resp.StatusCode, b)
	}
	// Tampering with the URL fails.
	resp, _ = srv.httpClient().Get(strings.Replace(greq.URL, "/pre?", "/other?", 1))
	if resp.StatusCode != 403 {
		t.Errorf("tampered presigned get: %d", resp.StatusCode)
	}
	resp.Body.Close()
	// Unsigned requests are refused in verify mode.
	resp, _ = srv.httpClient().Get(srv.URL + "/bkt/pre")
	if resp.StatusCode != 403 {
		t.Errorf("unsigned get: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestCORS(t *testing.T) {
	srv := start(t)
	c := srv.client()
	mustBucket(t, c, "bkt")
	put(t, c, "bkt", "k", "cors")
	hc := srv.httpClient()
	preflight := func() *http.Response {
		req, _ := http.NewRequest("OPTIONS", srv.URL+"/bkt/k", nil)
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Access-Control-Request-Method", "PUT")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := preflight(); r.StatusCode != 403 {
		t.Errorf("preflight without CORS: %d", r.StatusCode)
	}
	_, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("bkt"), CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{{
		AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: aws.Int32(300)}}}})
	if err != nil {
		t.Fatal(err)
	}
	gc, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("bkt")})
	if err != nil || len(gc.CORSRules) != 1 || gc.CORSRules[0].AllowedOrigins[0] != "https://*.example.com" || aws.ToInt32(gc.CORSRules[0].MaxAgeSeconds) != 300 {
		t.Fatalf("get cors: %+v %v", gc, err)
	}
	r := preflight()
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || r.Header.Get("Access-Control-Max-Age") != "300" {
		t.Errorf("preflight: %d %v", r.StatusCode, r.Header)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/bkt/k", nil)
	req.Header.Set("Origin", "https://app.example.com")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || resp.Header.Get("Access-Control-Expose-Headers") != "ETag" {
		t.Errorf("actual request headers: %v", resp.Header)
	}
	if _, err := c.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("bkt")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("bkt")}); apiCode(err) != "NoSuchCORSConfiguration" {
		t.Errorf("after delete: %v", err)
	}
}

func TestWebsite(t *testing.T) {
	srv := start(t)
	c := srv.client()
	mustBucket(t, c, "site")
	for k, v := range map[string]string{"index.html": "home", "docs/index.html": "docs", "404.html": "not here"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("site"), Key: aws.String(k), Body: strings.NewReader(v), ContentType: aws.String("text/html")}); err != nil {
			t.Fatal(err)
		}
	}
	hc := srv.httpClient()
	fetch := func(path string) (int, string, http.Header) {
		resp, err := hc.Get("http://site.s3-website.localhost.localstack.cloud:" + srv.port() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if code, _, _ := fetch("/"); code != 404 {
		t.Errorf("website without configuration: %d", code)
	}
	_, err := c.PutBucketWebsite(ctx, &s3.PutBucketWebsiteInput{Bucket: aws.String("site"), WebsiteConfiguration: &types.WebsiteConfiguration{
		IndexDocument: &types.IndexDocument{Suffix: aws.String("index.html")}, ErrorDocument: &types.ErrorDocument{Key: aws.String("404.html")},
		RoutingRules: []types.RoutingRule{{Condition: &types.Condition{KeyPrefixEquals: aws.String("old/")}, Redirect: &types.Redirect{ReplaceKeyPrefixWith: aws.String("docs/")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if w, err := c.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: aws.String("site")}); err != nil || *w.IndexDocument.Suffix != "index.html" {
		t.Fatalf("get website: %v", err)
	}
	cases := []struct {
		path, body string
		code       int
	}{{"/", "home", 200}, {"/docs/", "docs", 200}, {"/missing", "not here", 404}, {"/index.html", "home", 200}}
	for _, tc := range cases {
		code, body, _ := fetch(tc.path)
		if code != tc.code || body != tc.body {
			t.Errorf("%s: %d %q", tc.path, code, body)
		}
	}
	if code, _, h := fetch("/docs"); code != 302 || h.Get("Location") != "/docs/" {
		t.Errorf("folder redirect: %d %v", code, h.Get("Location"))
	}
	if code, _, h := fetch("/old/x.html"); code != 301 || h.Get("Location") != "/docs/x.html" {
		t.Errorf("routing rule: %d %v", code, h.Get("Location"))
	}
}

func TestAccelerate(t *testing.T) {
	srv := start(t)
	c := srv.client()
	mustBucket(t, c, "fast")
	put(t, c, "fast", "k", "accelerated")
	hc := srv.httpClient()
	url := "http://fast.s3-accelerate.localhost.localstack.cloud:" + srv.port() + "/k"
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("accelerate host before enabling: %d", resp.StatusCode)
	}
	if _, err := c.PutBucketAccelerateConfiguration(ctx, &s3.PutBucketAccelerateConfigurationInput{Bucket: aws.String("fast"),
		AccelerateConfiguration: &types.AccelerateConfiguration{Status: types.BucketAccelerateStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	a, err := c.GetBucketAccelerateConfiguration(ctx, &s3.GetBucketAccelerateConfigurationInput{Bucket: aws.String("fast")})
	if err != nil || a.Status != types.BucketAccelerateStatusEnabled {
		t.Fatalf("get accelerate: %+v %v", a, err)
	}
	cfg := srv.cfg.Copy()
	cfg.BaseEndpoint = aws.String("http://s3-accelerate.localhost.localstack.cloud:" + srv.port())
	ac := s3.NewFromConfig(cfg)
	if got := get(t, ac, "fast", "k"); got != "accelerated" {
		t.Errorf("accelerated get: %q", got)
	}
}

func TestBucketSubresources(t *testing.T) {
	srv := start(t)
	c := srv.client()
	mustBucket(t, c, "bkt")
	if _, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("bkt")}); apiCode(err) != "NoSuchTagSet" {
		t.Errorf("no tags: %v", err)
	}
	c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("bkt"), Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}}})
	if tg, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("bkt")}); err != nil || *tg.TagSet[0].Value != "1" {
		t.Errorf("tags: %v", err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}]}`
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("bkt"), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if p, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("bkt")}); err != nil || *p.Policy != policy {
		t.Errorf("policy: %v", err)
	}
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("bkt"), Policy: aws.String("nope")}); apiCode(err) != "MalformedPolicy" {
		t.Errorf("bad policy: %v", err)
	}
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("bkt"), LifecycleConfiguration: &types.BucketLifecycleConfiguration{
		Rules: []types.LifecycleRule{{ID: aws.String("r1"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("logs/")}, Expiration: &types.LifecycleExpiration{Date: &exp}}}}})
	if err != nil {
		t.Fatal(err)
	}
	lc, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("bkt")})
	if err != nil || len(lc.Rules) != 1 || !lc.Rules[0].Expiration.Date.Equal(exp) || *lc.Rules[0].Filter.Prefix != "logs/" {
		t.Errorf("lifecycle: %+v %v", lc, err)
	}
	if o, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String("bkt")}); err != nil || o.OwnershipControls.Rules[0].ObjectOwnership != types.ObjectOwnershipBucketOwnerEnforced {
		t.Errorf("ownership: %v", err)
	}
	if a, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("bkt")}); err != nil || len(a.Grants) != 1 || a.Grants[0].Permission != types.PermissionFullControl {
		t.Errorf("acl: %v", err)
	}
	if e, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("bkt")}); err != nil || e.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 {
		t.Errorf("encryption: %v", err)
	}
	put(t, c, "bkt", "k", "v")
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("x"), Value: aws.String("y")}}}}); err != nil {
		t.Fatal(err)
	}
	if ot, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("bkt"), Key: aws.String("k")}); err != nil || len(ot.TagSet) != 1 {
		t.Errorf("object tagging: %v", err)
	}
	h, _ := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if h == nil || h.TagCount != nil && *h.TagCount != 1 {
		t.Errorf("head tag count")
	}
	if _, err := c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("bkt"), Key: aws.String("k")}); err != nil {
		t.Errorf("object acl: %v", err)
	}
}

// recordingSink records delivered notifications.
type recordingSink struct {
	mu   sync.Mutex
	msgs map[string][]string
}

func (r *recordingSink) Deliver(_ context.Context, arn, body string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.msgs == nil {
		r.msgs = map[string][]string{}
	}
	r.msgs[arn] = append(r.msgs[arn], body)
	return nil
}

func (r *recordingSink) events(arn string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs[arn] {
		var doc struct {
			Event   string
			Records []struct {
				EventName string
				S3        struct{ Object struct{ Key string } }
			}
		}
		json.Unmarshal([]byte(m), &doc)
		if doc.Event != "" {
			out = append(out, doc.Event)
		}
		for _, rec := range doc.Records {
			out = append(out, rec.EventName+" "+rec.S3.Object.Key)
		}
	}
	return out
}

func TestNotifications(t *testing.T) {
	sink := &recordingSink{}
	srv := start(t, withSink(sink))
	c := srv.client()
	mustBucket(t, c, "bkt")
	queue := "arn:aws:sqs:us-east-1:000000000000:q"
	topic := "arn:aws:sns:us-east-1:000000000000:t"
	_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("bkt"), NotificationConfiguration: &types.NotificationConfiguration{
		QueueConfigurations: []types.QueueConfiguration{{QueueArn: aws.String(queue), Events: []types.Event{"s3:ObjectCreated:*"},
			Filter: &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: []types.FilterRule{{Name: "prefix", Value: aws.String("img/")}, {Name: "suffix", Value: aws.String(".jpg")}}}}}},
		TopicConfigurations: []types.TopicConfiguration{{TopicArn: aws.String(topic), Events: []types.Event{"s3:ObjectRemoved:*"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	put(t, c, "bkt", "img/a b.jpg", "x")
	put(t, c, "bkt", "img/a.png", "x")
	put(t, c, "bkt", "doc/a.jpg", "x")
	c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("img/a.png")})
	want := []string{"s3:TestEvent", "ObjectCreated:Put img/a+b.jpg"}
	if got := sink.events(queue); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("queue events %v, want %v", got, want)
	}
	want = []string{"s3:TestEvent", "ObjectRemoved:Delete img/a.png"}
	if got := sink.events(topic); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("topic events %v, want %v", got, want)
	}
	nc, err := c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("bkt")})
	if err != nil || len(nc.QueueConfigurations) != 1 || len(nc.TopicConfigurations) != 1 {
		t.Errorf("get notification: %+v %v", nc, err)
	}
}

func TestPresignedExpiry(t *testing.T) {
	srv := start(t, withVerify())
	c := srv.client()
	mustBucket(t, c, "bkt")
	put(t, c, "bkt", "k", "v")
	signer := v4.NewSigner()
	creds, _ := srv.cfg.Credentials.Retrieve(ctx)
	presign := func(signedAt time.Time, expires string) int {
		req, _ := http.NewRequest("GET", srv.URL+"/bkt/k?X-Amz-Expires="+expires, nil)
		url, _, err := signer.PresignHTTP(ctx, creds, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", signedAt)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.httpClient().Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := presign(time.Now(), "60"); code != 200 {
		t.Errorf("fresh presigned URL: %d", code)
	}
	if code := presign(time.Now().Add(-2*time.Minute), "60"); code != 403 {
		t.Errorf("expired presigned URL: %d", code)
	}
}
