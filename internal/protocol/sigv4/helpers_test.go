package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

const (
	testAKID   = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

var signTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newVerifier returns a Verifier knowing testAKID whose clock reads *now.
func newVerifier(now *time.Time) *Verifier {
	return &Verifier{
		Secret: func(ak string) (string, bool) {
			if ak == testAKID || ak == "AKIAIOSFODNN7EXAMPLE" {
				if ak == "AKIAIOSFODNN7EXAMPLE" {
					return "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", true
				}
				return testSecret, true
			}
			return "", false
		},
		Now: func() time.Time { return *now },
	}
}

// sdkSign signs req the way aws-sdk-go-v2 does for service.
func sdkSign(t *testing.T, req *http.Request, payloadHash, service, secret string) {
	t.Helper()
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: secret}
	if err := s.SignHTTP(context.Background(), creds, req, payloadHash, service, "us-east-1", signTime); err != nil {
		t.Fatal(err)
	}
}

// serverSide serializes a client request and reads it back as Go's server
// would see it (RequestURI, Host, TransferEncoding, decoded HTTP chunking).
func serverSide(t testing.TB, req *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	sr, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	return sr
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// awsCode returns the AWS code and status of err, or "" if it is not one.
func awsCode(err error) (string, int) {
	var ae *awserr.Error
	if errors.As(err, &ae) {
		return ae.Code, ae.HTTPStatus()
	}
	return "", 0
}

func wantCode(t *testing.T, err error, code string, status int) *awserr.Error {
	t.Helper()
	var ae *awserr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("got %v (%T), want %s", err, err, code)
	}
	if ae.Code != code || ae.HTTPStatus() != status {
		t.Fatalf("got %s %d (%s), want %s %d", ae.Code, ae.HTTPStatus(), ae.Message, code, status)
	}
	return ae
}

// verify runs Parse and Verify on the server-side view of req.
func verify(t *testing.T, v *Verifier, req *http.Request) (*http.Request, error) {
	t.Helper()
	sr := serverSide(t, req)
	cred, err := Parse(sr)
	if err != nil {
		return sr, err
	}
	return sr, v.Verify(sr, cred)
}

// --- an independent aws-chunked encoder, following the S3 documentation ---

func testHMAC(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

func testSigningKey(secret, date, region, service string) []byte {
	k := testHMAC([]byte("AWS4"+secret), date)
	k = testHMAC(k, region)
	k = testHMAC(k, service)
	return testHMAC(k, "aws4_request")
}

type chunkSpec struct {
	signed    bool
	chunkSize int
	trailers  []string // "name:value" lines; nil = no trailer section
}

// chunkedLen returns the encoded length of a payload of n bytes.
func chunkedLen(spec chunkSpec, n int) int {
	sizes := chunkSizes(spec, n)
	total := 0
	for _, s := range sizes {
		total += len(fmt.Sprintf("%x", s)) + 2 + s + 2
		if spec.signed {
			total += len(";chunk-signature=") + 64
		}
	}
	total -= 2 // the final chunk has no data CRLF before the trailer section
	for _, tr := range spec.trailers {
		total += len(tr) + 2
	}
	if spec.signed && spec.trailers != nil {
		total += len("x-amz-trailer-signature:") + 64 + 2
	}
	return total + 2
}

func chunkSizes(spec chunkSpec, n int) []int {
	var sizes []int
	for n > 0 {
		s := min(n, spec.chunkSize)
		sizes = append(sizes, s)
		n -= s
	}
	return append(sizes, 0)
}

// encodeChunked frames payload; seed, key, stamp and scope are used when signed.
func encodeChunked(spec chunkSpec, payload []byte, key []byte, stamp, scope, seed string) []byte {
	var out bytes.Buffer
	prev := seed
	off := 0
	for _, s := range chunkSizes(spec, len(payload)) {
		data := payload[off : off+s]
		off += s
		if spec.signed {
			sts := strings.Join([]string{"AWS4-HMAC-SHA256-PAYLOAD", stamp, scope, prev, sha256Hex(nil), sha256Hex(data)}, "\n")
			prev = hex.EncodeToString(testHMAC(key, sts))
			fmt.Fprintf(&out, "%x;chunk-signature=%s\r\n", s, prev)
		} else {
			fmt.Fprintf(&out, "%x\r\n", s)
		}
		if s > 0 {
			out.Write(data)
			out.WriteString("\r\n")
		}
	}
	if spec.trailers != nil {
		var canon strings.Builder
		for _, tr := range spec.trailers {
			out.WriteString(tr + "\r\n")
			canon.WriteString(tr + "\n")
		}
		if spec.signed {
			sts := strings.Join([]string{"AWS4-HMAC-SHA256-TRAILER", stamp, scope, prev, sha256Hex([]byte(canon.String()))}, "\n")
			fmt.Fprintf(&out, "x-amz-trailer-signature:%s\r\n", hex.EncodeToString(testHMAC(key, sts)))
		}
	}
	out.WriteString("\r\n")
	return out.Bytes()
}

// signedChunkedRequest builds an S3 PUT with an aws-chunked body signed by the
// SDK signer (seed) and the independent encoder (chunks, trailer).
func signedChunkedRequest(t *testing.T, mode string, payload []byte, spec chunkSpec, trailerHeader string) *http.Request {
	t.Helper()
	encLen := chunkedLen(spec, len(payload))
	req, _ := http.NewRequest(http.MethodPut, "http://127.0.0.1:4566/bucket/key", nil)
	req.ContentLength = int64(encLen)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Content-Sha256", mode)
	req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(payload)))
	if trailerHeader != "" {
		req.Header.Set("X-Amz-Trailer", trailerHeader)
	}
	sdkSign(t, req, mode, "s3", testSecret)
	cred, err := ParseAuthorization(req.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	key := testSigningKey(testSecret, "20260102", "us-east-1", "s3")
	body := encodeChunked(spec, payload, key, signTime.Format(TimeFormat), "20260102/us-east-1/s3/aws4_request", cred.Signature)
	if len(body) != encLen {
		t.Fatalf("encoded %d bytes, computed %d", len(body), encLen)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	return req
}
