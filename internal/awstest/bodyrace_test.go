package awstest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// stallConn holds the client's request writer right after it has put the
// request body on the wire, until the SDK has closed the request body (or
// a bound passes): the ordering a loaded machine produces by chance.
type stallConn struct {
	net.Conn
	closed <-chan struct{}
	writes int
}

func (c *stallConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.writes++
	if c.writes == 2 { // the first write is the flushed head, the second the body
		select {
		case <-c.closed:
		case <-time.After(5 * time.Second):
		}
	}
	return n, err
}

// closeSignal reports the first Close of the request body the SDK built,
// keeping its io.WriterTo.
type closeSignal struct {
	io.ReadCloser
	once *sync.Once
	ch   chan struct{}
}

func (b closeSignal) WriteTo(w io.Writer) (int64, error) {
	return b.ReadCloser.(io.WriterTo).WriteTo(w)
}

func (b closeSignal) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { close(b.ch) })
	return err
}

type signalTransport struct {
	next http.RoundTripper
	ch   chan struct{}
}

func (s signalTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		if _, ok := r.Body.(io.WriterTo); ok {
			r.Body = closeSignal{ReadCloser: r.Body, once: &sync.Once{}, ch: s.ch}
		}
	}
	return s.next.RoundTrip(r)
}

// TestResponseOutlivesRequestWriter: the SDK closes its request body as
// soon as the response head arrives, while net/http may still be checking
// that body for bytes beyond Content-Length; the response must still read
// to its end through the client Config builds. (Without sdkTransport most
// calls fail with "use of closed network connection" after a 200.)
func TestResponseOutlivesRequestWriter(t *testing.T) {
	for range 20 {
		if err := callWithStalledWriter(); err != nil {
			t.Fatal(err)
		}
	}
}

func callWithStalledWriter() error {
	closed := make(chan struct{})
	const answer = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:root</Arn><UserId>000000000000</UserId><Account>000000000000</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml")
		// Answer in two parts, the second once the SDK has closed the
		// request body, so the client is still reading the response when
		// its request writer resumes.
		io.WriteString(w, answer[:40])
		w.(http.Flusher).Flush()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
		}
		io.WriteString(w, answer[40:])
	}))
	defer srv.Close()

	cfg := Config(srv.URL, "test", "test")
	rt := cfg.HTTPClient.(*http.Client).Transport
	tr, ok := rt.(*http.Transport)
	if g, isGuard := rt.(sdkTransport); isGuard {
		tr, ok = g.next.(*http.Transport)
	}
	if !ok {
		return fmt.Errorf("unexpected transport %T", rt)
	}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &stallConn{Conn: c, closed: closed}, nil
	}
	cfg.HTTPClient = &http.Client{Transport: signalTransport{next: rt, ch: closed}}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		return err
	}
	if !strings.HasSuffix(*out.Arn, ":root") {
		return fmt.Errorf("Arn = %s", *out.Arn)
	}
	return nil
}
