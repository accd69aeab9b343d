// Package awstest starts a whole Overcast server inside a test, on
// 127.0.0.1:0 with in-memory state, and hands back an aws.Config whose
// clients talk to it.
package awstest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/server"
)

// Server is a running test server.
type Server struct {
	*server.Server
	// Config talks to the server with the root test credentials.
	Config aws.Config
}

// Option changes the server configuration.
type Option func(*server.Config)

// WithServices limits the server to the named services.
func WithServices(names ...string) Option {
	return func(c *server.Config) { c.Services = names }
}

// WithVerify turns on signature verification.
func WithVerify() Option { return func(c *server.Config) { c.Auth = "verify" } }

// WithClock drives the server's time-based behaviour (controllers, health
// checks, alarms, metrics) with c, typically a *clock.Fake the test steps.
func WithClock(c clock.Clock) Option { return func(cfg *server.Config) { cfg.Clock = c } }

// WithDataDir keeps state on disk in dir instead of memory.
func WithDataDir(dir string) Option {
	return func(c *server.Config) { c.Memory = false; c.DataDir = dir; c.NoSync = true }
}

// Start runs a server for the duration of the test.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := server.Config{Addr: "127.0.0.1:0", Memory: true, Region: "us-east-1"}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return &Server{Server: srv, Config: Config(srv.URL(), "test", "test")}
}

// Config returns an aws.Config for endpoint with static credentials. It does
// not read the environment, so AWS_CA_BUNDLE and profiles cannot interfere.
func Config(endpoint, accessKey, secretKey string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   &http.Client{Transport: sdkTransport{http.DefaultTransport.(*http.Transport).Clone()}},
		// No retries: tests see exactly what the server answered, once.
		Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// sdkTransport hands net/http the SDK's request bodies without their
// io.WriterTo. smithy-go closes a request body as soon as the response head
// arrives, and its closed body's WriteTo returns io.EOF. net/http flushes
// the head of a request whose body is not an in-memory reader and writes
// the body straight to the socket, so the server may answer before the
// request writer has checked the body for bytes beyond Content-Length; that
// check's io.Copy takes the WriteTo path, reports the io.EOF as a failed
// request write, and the transport closes the connection under the
// response body the SDK is still reading ("use of closed network
// connection" after a 200, which no retry may repeat). Through Read, a
// closed body is a plain end of stream.
type sdkTransport struct{ next http.RoundTripper }

// readOnlyBody hides the body's io.WriterTo.
type readOnlyBody struct{ io.ReadCloser }

func (t sdkTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if _, ok := r.Body.(io.WriterTo); ok {
		r2 := r.WithContext(r.Context()) // RoundTrip must not change r
		r2.Body = readOnlyBody{r.Body}
		r = r2
	}
	return t.next.RoundTrip(r)
}
