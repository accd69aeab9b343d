package sigv4

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func TestVerifyHeaderSignedBySDK(t *testing.T) {
	cases := []struct {
		name, service, method, url string
		body                       string
		header                     http.Header
	}{
		{name: "s3 odd key", service: "s3", method: "PUT",
			url:  "http://127.0.0.1:4566/bucket/a%20b/c%2Fd/%C3%BC/plus%2Bsign/~t_-.x/%21%27%28%29%2A",
			body: "hello object", header: http.Header{"X-Amz-Meta-Note": {"  two   spaces  "}, "Content-Type": {"text/plain"}}},
		{name: "s3 double slash and dots", service: "s3", method: "GET",
			url: "http://localhost:4566/bucket//x/../y/./z?list-type=2&prefix=a%20b&delimiter=%2F&empty="},
		{name: "s3 virtual host", service: "s3", method: "GET",
			url: "http://bucket.s3.localhost.localstack.cloud:4566/k?versions&max-keys=3&key-marker=z&key-marker=a"},
		{name: "sqs query form", service: "sqs", method: "POST", url: "http://127.0.0.1:4566/",
			body:   "Action=SendMessage&MessageBody=hi%20there&QueueUrl=http%3A%2F%2Fq",
			header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}},
		{name: "lambda arn path", service: "lambda", method: "POST",
			url:  "http://127.0.0.1:4566/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations?Qualifier=%24LATEST",
			body: `{"x":1}`, header: http.Header{"X-Amz-Invocation-Type": {"RequestResponse"}}},
		{name: "apigateway space path", service: "execute-api", method: "GET",
			url: "http://127.0.0.1:4566/a%20b/c%2Bd/e+f?q=a+b&z=%7E"},
		{name: "dynamodb json", service: "dynamodb", method: "POST", url: "http://127.0.0.1:4566",
			body:   `{"TableName":"t"}`,
			header: http.Header{"X-Amz-Target": {"DynamoDB_20120810.DescribeTable"}, "Accept-Encoding": {"identity"}, "Amz-Sdk-Request": {"attempt=1; max=3"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := signTime.Add(time.Minute)
			v := newVerifier(&now)
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, err := http.NewRequest(c.method, c.url, body)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range c.header {
				req.Header[k] = vs
			}
			hash := sha256Hex([]byte(c.body))
			if c.service == "s3" {
				req.Header.Set("X-Amz-Content-Sha256", hash)
			}
			sdkSign(t, req, hash, c.service, testSecret)
			sr, err := verify(t, v, req)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := io.ReadAll(sr.Body)
			if err != nil || string(got) != c.body {
				t.Fatalf("body %q, %v", got, err)
			}

			// The same request signed with another secret must fail.
			req2, _ := http.NewRequest(c.method, c.url, strings.NewReader(c.body))
			for k, vs := range c.header {
				req2.Header[k] = vs
			}
			if c.service == "s3" {
				req2.Header.Set("X-Amz-Content-Sha256", hash)
			}
			sdkSign(t, req2, hash, c.service, "other-secret")
			_, err = verify(t, v, req2)
			ae := wantCode(t, err, "SignatureDoesNotMatch", 403)
			if ae.Message != msgSignatureMismatch {
				t.Errorf("message %q", ae.Message)
			}
			if c.service == "s3" && ae.Fields["CanonicalRequest"] == nil {
				t.Error("S3 mismatch lacks CanonicalRequest")
			}
		})
	}
}

func TestVerifyTamperedAndUnknown(t *testing.T) {
	now := signTime
	v := newVerifier(&now)

	// S3: the signed hex payload hash is checked while the body is read.
	req, _ := http.NewRequest("PUT", "http://127.0.0.1:4566/b/k", strings.NewReader("tampered"))
	req.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte("original")))
	sdkSign(t, req, sha256Hex([]byte("original")), "s3", testSecret)
	sr, err := verify(t, v, req)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(sr.Body)
	wantCode(t, err, "XAmzContentSHA256Mismatch", 400)

	// Non-S3: the body is hashed before the signature is checked.
	req, _ = http.NewRequest("POST", "http://127.0.0.1:4566/", strings.NewReader("Action=A&B=tampered"))
	sdkSign(t, req, sha256Hex([]byte("Action=A&B=original")), "sqs", testSecret)
	_, err = verify(t, v, req)
	wantCode(t, err, "SignatureDoesNotMatch", 403)

	// Unknown access keys.
	for service, code := range map[string]string{"s3": "InvalidAccessKeyId", "sts": "InvalidClientTokenId"} {
		req, _ = http.NewRequest("GET", "http://127.0.0.1:4566/", nil)
		req.Header.Set("X-Amz-Content-Sha256", sha256Hex(nil))
		s := v4.NewSigner()
		s.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIAUNKNOWN", SecretAccessKey: "x"}, req, sha256Hex(nil), service, "us-east-1", signTime)
		_, err = verify(t, v, req)
		wantCode(t, err, code, 403)
	}

	// A body larger than MaxBodyBytes is refused for non-S3 hashing.
	v.MaxBodyBytes = 4
	req, _ = http.NewRequest("POST", "http://127.0.0.1:4566/", strings.NewReader("12345"))
	sdkSign(t, req, sha256Hex([]byte("12345")), "sqs", testSecret)
	_, err = verify(t, v, req)
	wantCode(t, err, "RequestEntityTooLarge", 413)
}

func TestVerifySkew(t *testing.T) {
	cases := []struct {
		service string
		offset  time.Duration
		code    string
		status  int
		msg     string
	}{
		{"s3", 14 * time.Minute, "", 0, ""},
		{"s3", -14 * time.Minute, "", 0, ""},
		{"s3", 16 * time.Minute, "RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large."},
		{"s3", -16 * time.Minute, "RequestTimeTooSkewed", 403, ""},
		{"sqs", 16 * time.Minute, "SignatureDoesNotMatch", 403, "Signature expired: 20260102T030405Z is now earlier than 20260102T030505Z (20260102T032005Z - 15 min.)"},
		{"sqs", -16 * time.Minute, "SignatureDoesNotMatch", 403, "Signature not yet current: 20260102T030405Z is still later than 20260102T030305Z (20260102T024805Z + 15 min.)"},
		{"ec2", 16 * time.Minute, "RequestExpired", 400, "Request has expired."},
	}
	for _, c := range cases {
		now := signTime.Add(c.offset)
		v := newVerifier(&now)
		req, _ := http.NewRequest("GET", "http://127.0.0.1:4566/x", nil)
		if c.service == "s3" {
			req.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
		}
		payload := UnsignedPayload
		if c.service != "s3" {
			payload = sha256Hex(nil)
		}
		sdkSign(t, req, payload, c.service, testSecret)
		_, err := verify(t, v, req)
		if c.code == "" {
			if err != nil {
				t.Errorf("%s %v: %v", c.service, c.offset, err)
			}
			continue
		}
		ae := wantCode(t, err, c.code, c.status)
		if c.msg != "" && ae.Message != c.msg {
			t.Errorf("%s %v: message %q, want %q", c.service, c.offset, ae.Message, c.msg)
		}
	}
}

func TestVerifyPresigned(t *testing.T) {
	presign := func(t *testing.T, service, rawURL string, header http.Header) string {
		req, _ := http.NewRequest("GET", rawURL, nil)
		for k, v := range header {
			req.Header[k] = v
		}
		s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
		payload := UnsignedPayload
		if service != "s3" {
			payload = sha256Hex(nil)
		}
		u, _, err := s.PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: "tok"}, req, payload, service, "eu-west-1", signTime)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	run := func(t *testing.T, rawURL string, header http.Header, now time.Time) (*Credential, error) {
		v := newVerifier(&now)
		req, _ := http.NewRequest("GET", rawURL, nil)
		for k, vs := range header {
			req.Header[k] = vs
		}
		sr := serverSide(t, req)
		cred, err := Parse(sr)
		if err != nil {
			return cred, err
		}
		return cred, v.Verify(sr, cred)
	}

	t.Run("s3 expiry", func(t *testing.T) {
		hdr := http.Header{"X-Amz-Meta-A": {"b"}}
		u := presign(t, "s3", "http://127.0.0.1:4566/bucket/some%20key.txt?X-Amz-Expires=60&x-id=GetObject", hdr)
		if _, err := run(t, u, nil, signTime); err == nil {
			t.Fatal("accepted without the signed x-amz-meta-a header")
		}
		cred, err := run(t, u, hdr, signTime.Add(30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if !cred.Presigned || cred.Region != "eu-west-1" || cred.Service != "s3" || cred.Expires != 60 || cred.SessionToken != "tok" {
			t.Errorf("cred %+v", cred)
		}
		_, err = run(t, u, hdr, signTime.Add(61*time.Second))
		ae := wantCode(t, err, "AccessDenied", 403)
		if ae.Message != "Request has expired" || ae.Fields["X-Amz-Expires"] != "60" {
			t.Errorf("%+v", ae)
		}
		// Tampering with the query breaks the signature.
		_, err = run(t, strings.Replace(u, "x-id=GetObject", "x-id=PutObject", 1), hdr, signTime)
		wantCode(t, err, "SignatureDoesNotMatch", 403)
		// A week is the limit.
		long := strings.Replace(u, "X-Amz-Expires=60", "X-Amz-Expires=604801", 1)
		_, err = run(t, long, hdr, signTime)
		wantCode(t, err, "AuthorizationQueryParametersError", 400)
	})

	t.Run("sts presigned get caller identity", func(t *testing.T) {
		hdr := http.Header{"X-K8s-Aws-Id": {"cluster"}}
		u := presign(t, "sts", "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", hdr)
		if _, err := run(t, u, hdr, signTime.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		_, err := run(t, u, hdr, signTime.Add(16*time.Minute))
		wantCode(t, err, "SignatureDoesNotMatch", 403)
		// The signed header is required.
		_, err = run(t, u, nil, signTime)
		wantCode(t, err, "SignatureDoesNotMatch", 403)
	})
}

func TestParse(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://127.0.0.1:4566/", nil)
	if c, err := Parse(req); c != nil || !errors.Is(err, ErrUnsigned) {
		t.Fatalf("unsigned: %v %v", c, err)
	}
	req, _ = http.NewRequest("GET", "http://127.0.0.1:4566/?X-Amz-Meta=1", nil)
	if _, err := Parse(req); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("unsigned with X-Amz- query: %v", err)
	}

	good := "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-west-2/monitoring/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd"
	c, err := ParseAuthorization(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKey != "AKID" || c.Date != "20260101" || c.Region != "us-west-2" || c.Service != "monitoring" ||
		strings.Join(c.SignedHeaders, ";") != "host;x-amz-date" || c.Signature != "abcd" || c.Presigned {
		t.Errorf("%+v", c)
	}
	if c.Scope() != "20260101/us-west-2/monitoring/aws4_request" {
		t.Errorf("scope %s", c.Scope())
	}

	sigv4a := "AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/s3/aws4_request, SignedHeaders=host, Signature=00"
	req, _ = http.NewRequest("GET", "http://127.0.0.1:4566/", nil)
	req.Header.Set("Authorization", sigv4a)
	req.Header.Set("X-Amz-Region-Set", "*")
	c, err = Parse(req)
	if err != nil || c.Service != "s3" || c.Region != "*" {
		t.Fatalf("sigv4a: %+v %v", c, err)
	}
	now := signTime
	wantCode(t, newVerifier(&now).Verify(req, c), "NotImplemented", 501)

	bad := []struct{ auth, code string }{
		{"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, Signature=ab", "AuthorizationHeaderMalformed"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request, Signature=ab", "IncompleteSignature"},
		{"AWS4-HMAC-SHA256 Credential=AKID/2026/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab", "AuthorizationHeaderMalformed"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws5_request, SignedHeaders=host, Signature=ab", "IncompleteSignature"},
		{"AWS4-HMAC-SHA256 Credential=AKID/us-east-1/sqs, SignedHeaders=host, Signature=ab", "IncompleteSignature"},
		{"AWS AKID:c2lnbmF0dXJl", "InvalidArgument"},
		{"Bearer token", "IncompleteSignature"},
	}
	for _, b := range bad {
		_, err := ParseAuthorization(b.auth)
		if code, _ := awsCode(err); code != b.code {
			t.Errorf("%q: got %v, want %s", b.auth, err, b.code)
		}
	}
	// A malformed signature still names its service for error routing.
	c, _ = ParseAuthorization(bad[0].auth)
	if c == nil || c.Service != "s3" {
		t.Errorf("partial credential %+v", c)
	}

	q := url.Values{"X-Amz-Algorithm": {AlgorithmHMAC}, "X-Amz-Credential": {"AKID/20260101/us-east-1/s3/aws4_request"}}
	req, _ = http.NewRequest("GET", "http://127.0.0.1:4566/b/k?"+q.Encode(), nil)
	_, err = Parse(req)
	wantCode(t, err, "AuthorizationQueryParametersError", 400)
}

func TestVerifyDateAndMissingHeaders(t *testing.T) {
	now := signTime
	v := newVerifier(&now)
	// S3 requires x-amz-content-sha256 with header auth.
	req, _ := http.NewRequest("GET", "http://127.0.0.1:4566/b", nil)
	sdkSign(t, req, UnsignedPayload, "s3", testSecret)
	_, err := verify(t, v, req)
	wantCode(t, err, "InvalidRequest", 400)

	// A scope date that is not the request date.
	req, _ = http.NewRequest("GET", "http://127.0.0.1:4566/", nil)
	sdkSign(t, req, sha256Hex(nil), "sqs", testSecret)
	req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "/20260102/", "/20260103/", 1))
	_, err = verify(t, v, req)
	wantCode(t, err, "SignatureDoesNotMatch", 403)

	// No date at all.
	req, _ = http.NewRequest("GET", "http://127.0.0.1:4566/b", nil)
	req.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	sdkSign(t, req, UnsignedPayload, "s3", testSecret)
	req.Header.Del("X-Amz-Date")
	_, err = verify(t, v, req)
	wantCode(t, err, "AccessDenied", 403)

	// A bogus x-amz-content-sha256 value.
	req, _ = http.NewRequest("GET", "http://127.0.0.1:4566/b", nil)
	req.Header.Set("X-Amz-Content-Sha256", "nope")
	sdkSign(t, req, "nope", "s3", testSecret)
	_, err = verify(t, v, req)
	wantCode(t, err, "InvalidArgument", 400)
}

func TestSigningKeyCacheBounded(t *testing.T) {
	v := &Verifier{}
	for i := range keyCacheSize * 2 {
		v.signingKey("s", "20260101", "r"+string(rune('a'+i%26))+string(rune('a'+i/26)), "s3")
	}
	if len(v.keys) > keyCacheSize {
		t.Fatalf("cache holds %d keys", len(v.keys))
	}
	k1 := v.signingKey("s", "20260101", "us-east-1", "s3")
	if k1 != deriveKey("s", "20260101", "us-east-1", "s3") {
		t.Fatal("cached key differs")
	}
}

func TestCanonicalHelpers(t *testing.T) {
	if got := string(appendTrimmed(nil, "  a   b  c ")); got != "a b c" {
		t.Errorf("trim %q", got)
	}
	if got := string(appendCanonicalQuery(nil, "b=2&a=%20x+y&a=1&X-Amz-Signature=zz&c", true)); got != "a=%20x%20y&a=1&b=2&c=" {
		t.Errorf("query %q", got)
	}
	if got := StripAWSChunked("gzip, aws-chunked"); got != "gzip" {
		t.Errorf("strip %q", got)
	}
	if got := StripAWSChunked("aws-chunked"); got != "" {
		t.Errorf("strip %q", got)
	}
}

func BenchmarkVerifyHeader(b *testing.B) {
	now := signTime
	v := newVerifier(&now)
	req, _ := http.NewRequest("GET", "http://127.0.0.1:4566/bucket/key?list-type=2&prefix=x", nil)
	req.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	s.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}, req, UnsignedPayload, "s3", "us-east-1", signTime)
	sr := serverSide(b, req)
	b.ReportAllocs()
	for b.Loop() {
		cred, err := Parse(sr)
		if err != nil {
			b.Fatal(err)
		}
		if err := v.Verify(sr, cred); err != nil {
			b.Fatal(err)
		}
	}
}
