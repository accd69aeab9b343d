package lambda

import (
	"context"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

type sink struct {
	mu     sync.Mutex
	groups map[string][]string
}

func (s *sink) PutLogEvents(account, region, group, stream string, events []LogEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range events {
		s.groups[group] = append(s.groups[group], e.Message)
	}
}

func (s *sink) text(group string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.groups[group], "\n")
}

type recorder struct {
	mu   sync.Mutex
	seen map[string]float64
}

func (r *recorder) Publish(account, region, ns string, data []metrics.Datum) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range data {
		if ns == "AWS/Lambda" && len(d.Dimensions) == 1 {
			r.seen[d.Name] += d.Value
		}
	}
}

func (r *recorder) get(name string) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[name]
}

// TestLogsMetricsAndReaping runs a Python function on a fake clock: its
// logs reach the sink with START/END/REPORT, metrics are published, and the
// idle environment is reaped once the clock passes the idle timeout.
func TestLogsMetricsAndReaping(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	logs := &sink{groups: map[string][]string{}}
	rec := &recorder{seen: map[string]float64{}}
	s := New(memory.New(), memory.NewBlobs(), WithClock(clk), WithLogSink(logs), WithMetrics(rec), WithIdleTimeout(time.Minute))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	req := func(in map[string]any) *service.Request {
		return &service.Request{Context: context.Background(), Account: "000000000000", Region: "us-east-1", Operation: "CreateFunction", Input: in}
	}
	code := zipOf(t, map[string]string{"app.py": "def handler(event, context):\n    print('hello from python')\n    return {'ok': True}\n"})
	if _, err := s.createFunction(req(map[string]any{"FunctionName": "pyfn", "Runtime": "python3.12", "Handler": "app.handler",
		"Role": "arn:aws:iam::000000000000:role/r", "Code": map[string]any{"ZipFile": code}})); err != nil {
		t.Fatal(err)
	}
	out, err := s.Invoke(context.Background(), "000000000000", "us-east-1", "pyfn", []byte(`{}`), false)
	if err != nil || string(out) != `{"ok": true}` {
		t.Fatalf("invoke: %s %v", out, err)
	}
	if running, started := s.Environments("000000000000", "us-east-1", "pyfn"); running != 1 || started != 1 {
		t.Fatalf("environments running %d started %d", running, started)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		text := logs.text("/aws/lambda/pyfn")
		if strings.Contains(text, "REPORT RequestId:") {
			for _, want := range []string{"START RequestId:", "hello from python", "END RequestId:", "Init Duration:"} {
				if !strings.Contains(text, want) {
					t.Fatalf("log lacks %q:\n%s", want, text)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no REPORT line reached the sink:\n%s", text)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if rec.get("Invocations") != 1 || rec.get("Errors") != 0 || rec.get("Duration") <= 0 {
		t.Fatalf("metrics %v", rec.seen)
	}

	// Past the idle timeout the reaper closes the environment.
	for deadline := time.Now().Add(30 * time.Second); ; {
		clk.Advance(30 * time.Second)
		if running, _ := s.Environments("000000000000", "us-east-1", "pyfn"); running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("idle environment was not reaped")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
