package s3_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/gateway"
	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/rest"
	"github.com/overcast-dev/overcast/internal/protocol/sigv4"
	"github.com/overcast-dev/overcast/internal/service"
	s3svc "github.com/overcast-dev/overcast/internal/service/s3"
	"github.com/overcast-dev/overcast/internal/storage"
	"github.com/overcast-dev/overcast/internal/storage/disk"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

// testServer is an S3-only gateway on a loopback listener.
type testServer struct {
	URL     string
	Svc     *s3svc.Service
	cfg     aws.Config
	handler http.Handler
	addr    string
}

type harness struct {
	verify bool
	tls    bool
	dir    string
	sync   bool // fsync on the disk store, as the server does by default
	opts   s3svc.Options
}

type option func(*harness)

func withVerify() option         { return func(h *harness) { h.verify = true } }
func withDisk(dir string) option { return func(h *harness) { h.dir = dir } }
func withSink(s s3svc.NotificationSink) option {
	return func(h *harness) { h.opts.Sink = s }
}
func withRateLimit() option { return func(h *harness) { h.opts.RateLimit = true } }
func withTLS() option       { return func(h *harness) { h.tls = true } }
func withClock(c clock.Clock) option {
	return func(h *harness) { h.opts.Clock = c }
}

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
	sc, _ := c.Raw.(*sigv4.Credential)
	return a.v.Verify(r, sc)
}
func (a testAuth) Account(k string) string {
	if len(k) == 12 {
		return k
	}
	return gateway.DefaultAccount
}

func start(t testing.TB, opts ...option) *testServer {
	t.Helper()
	h := &harness{}
	for _, o := range opts {
		o(h)
	}
	var kv storage.KV
	var blobs storage.Blobs
	if h.dir != "" {
		st, err := disk.Open(h.dir, disk.Options{NoSync: !h.sync})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		kv, blobs = st, st.Blobs()
	} else {
		kv, blobs = memory.New(), memory.NewBlobs()
	}
	h.opts.KV, h.opts.Blobs = kv, blobs
	if h.verify {
		h.opts.Secret = func(k string) (string, bool) { return "test", k == "test" || len(k) == 12 }
		h.opts.Account = testAuth{}.Account
	}
	svc := s3svc.New(h.opts)
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Stop(context.Background()) })
	auth := testAuth{v: &sigv4.Verifier{Secret: func(k string) (string, bool) {
		if k == "test" || len(k) == 12 {
			return "test", true
		}
		return "", false
	}}}
	gw, err := gateway.New(gateway.Config{Auth: auth, Verify: h.verify, DefaultRegion: "us-east-1"},
		[]service.Service{svc}, map[string]protocol.Codec{protocol.RestXML: rest.NewXML(), protocol.RestJSON: rest.NewJSON()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(gw)
	if h.tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if h.tls {
		tr = srv.Client().Transport.(*http.Transport).Clone()
	}
	// Every host name (virtual-hosted buckets included) reaches the server.
	addr := srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   &http.Client{Transport: tr},
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	return &testServer{URL: srv.URL, Svc: svc, cfg: cfg, handler: gw, addr: addr}
}

func (s *testServer) client() *s3.Client {
	return s3.NewFromConfig(s.cfg, func(o *s3.Options) { o.UsePathStyle = true })
}
