package logs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

func benchService(b *testing.B) (*Service, *service.Request) {
	s := New(Options{KV: memory.New()})
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Stop(context.Background()) })
	req := &service.Request{Context: context.Background(), Account: "000000000000", Region: "us-east-1",
		Input: map[string]any{"logGroupName": "g", "logStreamName": "s"}}
	if _, err := s.createLogGroup(req); err != nil {
		b.Fatal(err)
	}
	if _, err := s.createLogStream(req); err != nil {
		b.Fatal(err)
	}
	return s, req
}

// BenchmarkPutLogEvents measures a 100-event batch (the handler, without
// HTTP), reported per event.
func BenchmarkPutLogEvents(b *testing.B) {
	s, req := benchService(b)
	now := time.Now().UnixMilli()
	evs := make([]any, 100)
	for i := range evs {
		evs[i] = map[string]any{"timestamp": now, "message": fmt.Sprintf("GET /index.html 200 %d bytes in 3 ms", i)}
	}
	in := map[string]any{"logGroupName": "g", "logStreamName": "s", "logEvents": evs}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.putLogEvents(&service.Request{Context: req.Context, Account: req.Account, Region: req.Region, Input: in}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}

// BenchmarkFilterLogEvents searches 100,000 stored events for a term.
func BenchmarkFilterLogEvents(b *testing.B) {
	s, req := benchService(b)
	now := time.Now().UnixMilli() - 3600_000
	for j := 0; j < 100; j++ {
		evs := make([]any, 1000)
		for i := range evs {
			msg := "INFO ok"
			if i%100 == 0 {
				msg = "ERROR failed"
			}
			evs[i] = map[string]any{"timestamp": now + int64(j*1000+i), "message": msg}
		}
		if _, err := s.putLogEvents(&service.Request{Account: req.Account, Region: req.Region,
			Input: map[string]any{"logGroupName": "g", "logStreamName": "s", "logEvents": evs}}); err != nil {
			b.Fatal(err)
		}
	}
	in := map[string]any{"logGroupName": "g", "filterPattern": "ERROR"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := s.filterLogEvents(&service.Request{Account: req.Account, Region: req.Region, Input: in})
		if err != nil || len(out["events"].([]any)) != 1000 {
			b.Fatal(err)
		}
	}
}
