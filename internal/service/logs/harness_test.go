package logs_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/gateway"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/rest"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/logs"
	"github.com/overcast-dev/overcast/internal/storage"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

type noAuth struct{}

func (noAuth) Identify(*http.Request) (*gateway.Credential, error) { return nil, nil }
func (noAuth) Verify(*http.Request, *gateway.Credential) error     { return nil }
func (noAuth) Account(string) string                               { return gateway.DefaultAccount }

// recorder is a metrics.Publisher that keeps what it is given.
type recorder struct {
	mu   sync.Mutex
	data map[string][]metrics.Datum
}

func (r *recorder) Publish(_, _, ns string, d []metrics.Datum) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.data == nil {
		r.data = map[string][]metrics.Datum{}
	}
	r.data[ns] = append(r.data[ns], d...)
}

func (r *recorder) get(ns string) []metrics.Datum {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]metrics.Datum(nil), r.data[ns]...)
}

type env struct {
	svc    *logs.Service
	kv     storage.KV
	url    string
	client *cwl.Client
	rec    *recorder
	clk    clock.Clock
}

type opts struct {
	clk clock.Clock
	kv  storage.KV
	del logs.SubscriptionDeliverer
}

func start(t *testing.T, o opts) *env {
	t.Helper()
	os.Unsetenv("AWS_CA_BUNDLE")
	if o.clk == nil {
		o.clk = clock.Real()
	}
	if o.kv == nil {
		o.kv = memory.New()
	}
	rec := &recorder{}
	svc := logs.New(logs.Options{KV: o.kv, Clock: o.clk, Metrics: rec, Deliverer: o.del})
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Config{Auth: noAuth{}, DefaultRegion: "us-east-1"},
		[]service.Service{svc}, map[string]protocol.Codec{protocol.RestJSON: rest.NewJSON(), protocol.RestXML: rest.NewXML()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(gw)
	t.Cleanup(func() {
		hs.Close()
		svc.Stop(context.Background())
	})
	// awstest's client configuration: its transport keeps the SDK's request
	// writer from dropping a connection under a fast answer.
	cfg := awstest.Config(hs.URL, "test", "test")
	return &env{svc: svc, kv: o.kv, url: hs.URL, client: cwl.NewFromConfig(cfg), rec: rec, clk: o.clk}
}

// wantErr checks err is the API error code (and, if msg != "", message).
func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || (msg != "" && ae.ErrorMessage() != msg) {
		t.Fatalf("got %s: %s, want %s: %s", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

func ms(t time.Time) *int64 { v := t.UnixMilli(); return &v }

var ctx = context.Background()
