package s3_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

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
	_ = io.Discard
}
