package sigv4

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// received is what the test S3 endpoint saw of one upload.
type received struct {
	payloadHash string
	body        []byte
	trailer     http.Header
	header      http.Header
}

// s3Endpoint is a minimal S3 PUT/GET endpoint that authenticates with a
// Verifier and records what it decoded.
func s3Endpoint(t *testing.T, tls bool) (*httptest.Server, func() []received) {
	var mu sync.Mutex
	var got []received
	v := &Verifier{Secret: func(ak string) (string, bool) { return testSecret, ak == testAKID }}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(err error) {
			ae := awserr.As(err)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(ae.HTTPStatus())
			fmt.Fprintf(w, "<Error><Code>%s</Code><Message>%s</Message></Error>", ae.Code, ae.Message)
		}
		cred, err := Parse(r)
		if err != nil {
			fail(err)
			return
		}
		if err := v.Verify(r, cred); err != nil {
			fail(err)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			fail(err)
			return
		}
		rec := received{payloadHash: r.Header.Get("X-Amz-Content-Sha256"), body: body, header: r.Header.Clone()}
		if cr, ok := r.Body.(*ChunkedReader); ok {
			rec.trailer = cr.Trailer()
		}
		mu.Lock()
		got = append(got, rec)
		mu.Unlock()
		w.Header().Set("ETag", `"etag"`)
		if r.Method == http.MethodGet {
			w.Write([]byte("object"))
		}
	})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv, func() []received { mu.Lock(); defer mu.Unlock(); return append([]received(nil), got...) }
}

func s3Client(srv *httptest.Server) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(testAKID, testSecret, ""),
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		HTTPClient:   srv.Client(),
	})
}

// TestS3ClientUploads drives the verifier with the real aws-sdk-go-v2 S3
// client: over TLS it sends aws-chunked bodies with an unsigned checksum
// trailer, over plain HTTP a signed payload hash and a checksum header.
func TestS3ClientUploads(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "")
	payload := bytes.Repeat([]byte("overcast "), 20000)
	for _, tls := range []bool{true, false} {
		for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256} {
			t.Run(fmt.Sprintf("tls=%v/%s", tls, alg), func(t *testing.T) {
				srv, got := s3Endpoint(t, tls)
				client := s3Client(srv)
				_, err := client.PutObject(context.Background(), &s3.PutObjectInput{
					Bucket: aws.String("bucket"), Key: aws.String("dir/a key+.txt"),
					Body: bytes.NewReader(payload), ChecksumAlgorithm: alg,
				})
				if err != nil {
					t.Fatal(err)
				}
				recs := got()
				if len(recs) != 1 || !bytes.Equal(recs[0].body, payload) {
					t.Fatalf("server decoded %d uploads", len(recs))
				}
				if tls && recs[0].payloadHash != StreamingUnsignedPayloadTrailer {
					t.Errorf("over TLS the client sent %q", recs[0].payloadHash)
				}
				hdr := "X-Amz-Checksum-" + string(alg)
				if recs[0].payloadHash == StreamingUnsignedPayloadTrailer {
					if recs[0].trailer.Get(hdr) == "" {
						t.Errorf("no %s trailer: %v", hdr, recs[0].trailer)
					}
				} else if recs[0].header.Get(hdr) == "" {
					t.Logf("payload hash %s, no %s header", recs[0].payloadHash, hdr)
				}
			})
		}
	}
}

func TestS3ClientPresignAndErrors(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "")
	srv, _ := s3Endpoint(t, false)
	client := s3Client(srv)
	ps := s3.NewPresignClient(client, func(o *s3.PresignOptions) { o.Expires = time.Minute })
	req, err := ps.PresignGetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k ü")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Get(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned GET: %s", resp.Status)
	}

	bad := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, HTTPClient: srv.Client(),
		Credentials: credentials.NewStaticCredentialsProvider(testAKID, "wrong", ""),
	})
	_, err = bad.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))})
	var apiErr interface{ ErrorCode() string }
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %v", err)
	}
}
