package s3_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/overcast-dev/overcast/internal/gateway"
	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/rest"
	"github.com/overcast-dev/overcast/internal/service"
	s3svc "github.com/overcast-dev/overcast/internal/service/s3"
	"github.com/overcast-dev/overcast/internal/storage/disk"
)

// benchGateway is the server side of S3 without a network: what it costs
// the server to answer one request.
func benchGateway(b *testing.B) http.Handler {
	st, err := disk.Open(b.TempDir(), disk.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc := s3svc.New(s3svc.Options{KV: st, Blobs: st.Blobs()})
	svc.Start(context.Background())
	b.Cleanup(func() { svc.Stop(context.Background()) })
	gw, err := gateway.New(gateway.Config{Auth: testAuth{}}, []service.Service{svc}, map[string]protocol.Codec{protocol.RestXML: rest.NewXML()})
	if err != nil {
		b.Fatal(err)
	}
	w := httptest.NewRecorder()
	gw.ServeHTTP(w, httptest.NewRequest("PUT", "/bench", nil))
	if w.Code != 200 {
		b.Fatalf("create bucket: %d %s", w.Code, w.Body)
	}
	return gw
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func BenchmarkPut4K(b *testing.B) {
	gw := benchGateway(b)
	body := bytes.Repeat([]byte("x"), 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r := httptest.NewRequest("PUT", "/bench/k"+strconv.Itoa(i%100), bytes.NewReader(body))
		w := &discardWriter{h: http.Header{}}
		gw.ServeHTTP(w, r)
	}
}

func BenchmarkGet4K(b *testing.B) {
	gw := benchGateway(b)
	body := bytes.Repeat([]byte("x"), 4096)
	gw.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PUT", "/bench/k", bytes.NewReader(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/bench/k", nil)
		w := &discardWriter{h: http.Header{}}
		gw.ServeHTTP(w, r)
	}
}

// BenchmarkGet1MiB fetches a 1 MiB object over loopback; BenchmarkFileServer1MiB
// is the floor: net/http serving the same bytes from a file.
func BenchmarkGet1MiB(b *testing.B) {
	gw := benchGateway(b)
	body := bytes.Repeat([]byte("x"), 1<<20)
	gw.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PUT", "/bench/big", bytes.NewReader(body)))
	srv := httptest.NewServer(gw)
	defer srv.Close()
	benchFetch(b, srv.URL+"/bench/big")
}

func BenchmarkFileServer1MiB(b *testing.B) {
	dir := b.TempDir()
	os.WriteFile(dir+"/big", bytes.Repeat([]byte("x"), 1<<20), 0o644)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	benchFetch(b, srv.URL+"/big")
}

func benchFetch(b *testing.B, url string) {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	c := &http.Client{Transport: tr}
	b.SetBytes(1 << 20)
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// BenchmarkSDKPut4K drives PutObject through aws-sdk-go-v2 over loopback
// (memory store): client and server CPU together.
func BenchmarkSDKPut4K(b *testing.B) {
	srv := start(b)
	c := srv.client()
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")})
	body := bytes.Repeat([]byte("x"), 4096)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("k" + strconv.Itoa(i%100)), Body: bytes.NewReader(body)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
