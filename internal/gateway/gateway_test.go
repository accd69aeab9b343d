package gateway_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/overcast-dev/overcast/internal/gateway"
	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/rest"
	"github.com/overcast-dev/overcast/internal/protocol/sigv4"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/sts"
)

type testAuth struct{ v *sigv4.Verifier }

func (a testAuth) Identify(r *http.Request) (*gateway.Credential, error) {
	c, err := sigv4.Parse(r)
	if errors.Is(err, sigv4.ErrUnsigned) {
		return nil, nil
	}
	if c == nil {
		return nil, err
	}
	return &gateway.Credential{AccessKey: c.AccessKey, Region: c.Region, Service: c.Service, Raw: c}, err
}
func (a testAuth) Verify(r *http.Request, c *gateway.Credential) error {
	return a.v.Verify(r, c.Raw.(*sigv4.Credential))
}
func (testAuth) Account(string) string { return gateway.DefaultAccount }

// bodyReader is an S3 stand-in whose PutObject reads the whole body, so the
// streaming signature checks run.
type bodyReader struct{ got chan []byte }

func (bodyReader) Name() string   { return "s3" }
func (bodyReader) APIs() []string { return []string{"s3"} }
func (b bodyReader) Handlers() map[string]service.Handler {
	return map[string]service.Handler{"PutObject": func(r *service.Request) (map[string]any, error) {
		data, err := io.ReadAll(r.Input["Body"].(io.Reader))
		if err != nil {
			return nil, err
		}
		b.got <- data
		return map[string]any{"ETag": `"x"`}, nil
	}}
}

func newGateway(t *testing.T, now time.Time, svcs ...service.Service) http.Handler {
	t.Helper()
	v := &sigv4.Verifier{
		Secret: func(k string) (string, bool) { return "secret", k == "AKIDEXAMPLE" },
		Now:    func() time.Time { return now },
	}
	g, err := gateway.New(gateway.Config{Auth: testAuth{v}, Verify: true}, svcs, map[string]protocol.Codec{
		protocol.RestXML: rest.NewXML(), protocol.RestJSON: rest.NewJSON(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func do(h http.Handler, r *http.Request) (*http.Response, string) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	resp := w.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestExpiredPresignedURL(t *testing.T) {
	signedAt := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := httptest.NewRequest(http.MethodGet, "http://localhost/?Action=GetCallerIdentity&Version=2011-06-15", nil)
	url, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"},
		r, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sts", "us-east-1", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	stsSvc := sts.New(sts.Config{})

	fresh := newGateway(t, signedAt.Add(time.Minute), stsSvc)
	resp, body := do(fresh, httptest.NewRequest(http.MethodGet, url, nil))
	if resp.StatusCode != 200 || !strings.Contains(body, "<Account>000000000000</Account>") {
		t.Fatalf("fresh presigned URL: %d %s", resp.StatusCode, body)
	}
	late := newGateway(t, signedAt.Add(time.Hour), stsSvc)
	resp, body = do(late, httptest.NewRequest(http.MethodGet, url, nil))
	if resp.StatusCode != 403 || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") || !strings.Contains(body, "expired") {
		t.Errorf("expired presigned URL: %d %s", resp.StatusCode, body)
	}
}

func TestExpiredPresignedS3URL(t *testing.T) {
	signedAt := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := httptest.NewRequest(http.MethodPut, "http://localhost/bucket/key?X-Amz-Expires=60", nil)
	url, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"},
		r, "UNSIGNED-PAYLOAD", "s3", "us-east-1", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	put := func(now time.Time) (*http.Response, string) {
		req := httptest.NewRequest(http.MethodPut, url, strings.NewReader("hello"))
		for k, vs := range hdr {
			req.Header[k] = vs
		}
		return do(newGateway(t, now, bodyReader{got}), req)
	}
	if resp, body := put(signedAt.Add(30 * time.Second)); resp.StatusCode != 200 {
		t.Fatalf("within expiry: %d %s", resp.StatusCode, body)
	}
	if b := <-got; string(b) != "hello" {
		t.Fatalf("body %q", b)
	}
	resp, body := put(signedAt.Add(2 * time.Minute))
	if resp.StatusCode != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") || !strings.Contains(body, "Request has expired") {
		t.Errorf("expired: %d %s", resp.StatusCode, body)
	}
}

func hmacSHA256(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// chunkedPut builds a STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload of payload in
// chunks of size, optionally corrupting one chunk's data after signing.
func chunkedPut(t *testing.T, now time.Time, payload []byte, size int, tamper bool) *http.Request {
	t.Helper()
	stamp := now.Format("20060102T150405Z")
	date := now.Format("20060102")
	scope := date + "/us-east-1/s3/aws4_request"
	key := hmacSHA256(hmacSHA256(hmacSHA256(hmacSHA256([]byte("AWS4secret"), date), "us-east-1"), "s3"), "aws4_request")

	var n int
	for i := 0; i < len(payload); i += size {
		c := min(size, len(payload)-i)
		n += len(fmt.Sprintf("%x;chunk-signature=", c)) + 64 + 2 + c + 2
	}
	n += len("0;chunk-signature=") + 64 + 4

	r := httptest.NewRequest(http.MethodPut, "http://localhost/bucket/key", nil)
	r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(payload)))
	r.ContentLength = int64(n)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, r,
		"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "s3", "us-east-1", now)
	if err != nil {
		t.Fatal(err)
	}
	auth := r.Header.Get("Authorization")
	prev := auth[strings.Index(auth, "Signature=")+len("Signature="):]
	emptyHash := hex.EncodeToString(func() []byte { h := sha256.Sum256(nil); return h[:] }())
	var body bytes.Buffer
	chunk := func(data []byte) {
		h := sha256.Sum256(data)
		sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + stamp + "\n" + scope + "\n" + prev + "\n" + emptyHash + "\n" + hex.EncodeToString(h[:])
		sig := hex.EncodeToString(hmacSHA256(key, sts))
		prev = sig
		fmt.Fprintf(&body, "%x;chunk-signature=%s\r\n", len(data), sig)
		body.Write(data)
		body.WriteString("\r\n")
	}
	for i := 0; i < len(payload); i += size {
		chunk(payload[i:min(i+size, len(payload))])
	}
	chunk(nil)
	raw := body.Bytes()
	if tamper {
		i := bytes.Index(raw, []byte("\r\n")) + 2 + 10
		raw[i] ^= 0x20
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return r
}

func TestChunkSignatures(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	payload := bytes.Repeat([]byte("overcast "), 3000)
	got := make(chan []byte, 1)
	g := newGateway(t, now, bodyReader{got})

	resp, body := do(g, chunkedPut(t, now, payload, 8192, false))
	if resp.StatusCode != 200 {
		t.Fatalf("signed chunks refused: %d %s", resp.StatusCode, body)
	}
	if b := <-got; !bytes.Equal(b, payload) {
		t.Fatalf("decoded body differs: %d bytes", len(b))
	}
	resp, body = do(g, chunkedPut(t, now, payload, 8192, true))
	if resp.StatusCode != 403 || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
		t.Errorf("tampered chunk: %d %s", resp.StatusCode, body)
	}
	select {
	case b := <-got:
		t.Errorf("tampered body reached the service (%d bytes)", len(b))
	default:
	}
}
