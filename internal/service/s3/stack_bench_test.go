package s3_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/overcast-dev/overcast/internal/metrics"
)

// The full-stack benchmarks run the gateway as the server builds it (every
// layer a client's request crosses: SigV4 parsing, routing, the rest-xml
// codec, the S3 handler, the disk store) and replay requests the Go SDK really sent,
// captured once, so the figures are the server's alone.
//
//	go test ./internal/service/s3 -run '^$' -bench Stack -benchmem
//
// BenchmarkStack* call the server's handler directly (allocations, and the
// process CPU per request, cpu-µs/op, which unlike ns/op holds still on a
// busy machine);
// BenchmarkLoopback* write the same requests over a kept-alive loopback
// connection and report the process CPU per request (cpu-µs/op): the HTTP
// server's and the handler's, plus a raw client that parses next to nothing
// (BenchmarkLoopbackFloor, a bare net/http handler, shows what that costs).

// dropMetrics is a metrics.Publisher that is not metrics.Discard, so the
// service aggregates its request metrics as it does in the server.
type dropMetrics struct{}

func (dropMetrics) Publish(account, region, namespace string, data []metrics.Datum) {}

// capture records the requests an SDK client sends.
type capture struct {
	mu   sync.Mutex
	next http.RoundTripper
	reqs []captured
}

type captured struct {
	method, url string
	header      http.Header
	body        []byte
}

func (c *capture) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	c.mu.Lock()
	c.reqs = append(c.reqs, captured{r.Method, r.URL.String(), r.Header.Clone(), body})
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

func (c *capture) last() captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reqs[len(c.reqs)-1]
}

// stackServer starts the whole server on a disk data directory and returns
// it with the SDK's PutObject and GetObject requests of a 4 KiB object.
func stackServer(b *testing.B, size int) (srv *testServer, put, get captured) {
	// As in the server, request metrics are on and the store fsyncs
	// (OVERCAST_BENCH_NOSYNC=1 turns that off).
	srv = start(b, withDisk(b.TempDir()), func(h *harness) {
		h.opts.Metrics = dropMetrics{}
		h.sync = os.Getenv("OVERCAST_BENCH_NOSYNC") == ""
	})
	cfg := srv.cfg.Copy()
	cp := &capture{next: cfg.HTTPClient.(*http.Client).Transport}
	cfg.HTTPClient = &http.Client{Transport: cp}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte("x"), size)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("dir/k"), Body: bytes.NewReader(body)}); err != nil {
		b.Fatal(err)
	}
	put = cp.last()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String("dir/k")})
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, out.Body)
	out.Body.Close()
	get = cp.last()
	return srv, put, get
}

// request rebuilds a captured request as the HTTP server would hand it over.
func (c captured) request() *http.Request {
	r := httptest.NewRequest(c.method, c.url, nil)
	r.RequestURI = r.URL.RequestURI()
	r.Header = c.header.Clone()
	r.Body = io.NopCloser(bytes.NewReader(c.body))
	r.ContentLength = int64(len(c.body))
	return r
}

// replay drives h with copies of c and checks each answer's status.
func replay(b *testing.B, h http.Handler, c captured) {
	hdr := make(http.Header, 16)
	w := &statusWriter{h: hdr}
	r := c.request()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		rq := *r
		rq.Header = make(http.Header, len(c.header))
		for k, v := range c.header {
			rq.Header[k] = v
		}
		rq.Body = io.NopCloser(bytes.NewReader(c.body))
		clear(hdr)
		w.code = 0
		h.ServeHTTP(w, &rq)
		if w.code != 200 {
			b.Fatalf("status %d", w.code)
		}
	}
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/1000/float64(b.N), "cpu-µs/op")
}

type statusWriter struct {
	h    http.Header
	code int
}

func (w *statusWriter) Header() http.Header { return w.h }
func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	return len(p), nil
}
func (w *statusWriter) WriteHeader(code int) { w.code = code }

func BenchmarkStackPut4K(b *testing.B) {
	srv, put, _ := stackServer(b, 4096)
	replay(b, srv.handler, put)
}

func BenchmarkStackGet4K(b *testing.B) {
	srv, _, get := stackServer(b, 4096)
	replay(b, srv.handler, get)
}

func BenchmarkLoopbackPut4K(b *testing.B) {
	srv, put, _ := stackServer(b, 4096)
	loopback(b, srv.addr, put)
}

func BenchmarkLoopbackGet4K(b *testing.B) {
	srv, _, get := stackServer(b, 4096)
	loopback(b, srv.addr, get)
}

// loopback sends c's bytes over one kept-alive connection per goroutine and
// reports the process CPU time per request.
func loopback(b *testing.B, addr string, c captured) {
	var raw bytes.Buffer
	r := c.request()
	r.Header.Del("Content-Length")
	r.Write(&raw)
	msg := raw.Bytes()
	const conns = 4
	b.ResetTimer()
	cpu0 := processCPU()
	var wg sync.WaitGroup
	per := b.N / conns
	for g := range conns {
		n := per
		if g == 0 {
			n += b.N % conns
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close()
			br := bufio.NewReaderSize(conn, 64<<10)
			for range n {
				if _, err := conn.Write(msg); err != nil {
					b.Error(err)
					return
				}
				status, err := readResponse(br)
				if err != nil {
					b.Error(err)
					return
				}
				if status != 200 {
					b.Errorf("status %d", status)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// readResponse reads one response with a Content-Length body and returns
// its status, parsing no more than it must so the client costs little.
func readResponse(br *bufio.Reader) (int, error) {
	status, n := 0, int64(-1)
	for first := true; ; first = false {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if first {
			if len(line) < 12 {
				return 0, fmt.Errorf("status line %q", line)
			}
			status, _ = strconv.Atoi(string(line[9:12]))
			continue
		}
		if len(line) == 0 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
			n, _ = strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
		}
	}
	if n < 0 {
		return 0, fmt.Errorf("no Content-Length")
	}
	_, err := br.Discard(int(n))
	return status, err
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoopbackFloor is the floor of the loopback figures: a bare
// net/http handler that reads the body and answers with 4 KiB.
func BenchmarkLoopbackFloor(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 4096)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Length", "4096")
		w.Write(body)
	}))
	defer srv.Close()
	_, _, get := stackServer(b, 4096)
	loopback(b, srv.Listener.Addr().String(), get)
}

// The 1 MiB figures are throughput (MB/s), GET against the floor of
// net/http's file server serving the same bytes from a file.
func BenchmarkLoopbackPut1MiB(b *testing.B) {
	srv, put, _ := stackServer(b, 1<<20)
	b.SetBytes(1 << 20)
	loopback(b, srv.addr, put)
}

func BenchmarkLoopbackGet1MiB(b *testing.B) {
	srv, _, get := stackServer(b, 1<<20)
	b.SetBytes(1 << 20)
	loopback(b, srv.addr, get)
}

func BenchmarkLoopbackFileServer1MiB(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(dir+"/k", bytes.Repeat([]byte("x"), 1<<20), 0o644); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	get := captured{method: "GET", url: srv.URL + "/k", header: http.Header{"User-Agent": {"bench"}}}
	b.SetBytes(1 << 20)
	loopback(b, srv.Listener.Addr().String(), get)
}
