package cloudwatch_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/gateway"
	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/rest"
	"github.com/overcast-dev/overcast/internal/protocol/sigv4"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/cloudwatch"
	"github.com/overcast-dev/overcast/internal/storage"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

// testAuth verifies SigV4 with the key pair test/test.
type testAuth struct{ v *sigv4.Verifier }

func newTestAuth() testAuth {
	return testAuth{v: &sigv4.Verifier{Secret: func(k string) (string, bool) { return "test", k == "test" }}}
}

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

var twelve = regexp.MustCompile(`^[0-9]{12}$`)

func (testAuth) Account(k string) string {
	if twelve.MatchString(k) {
		return k
	}
	return gateway.DefaultAccount
}

type env struct {
	svc *cloudwatch.Service
	kv  storage.KV
	url string
	cfg aws.Config
}

type envOpt struct {
	clk      clock.Clock
	kv       storage.KV
	notifier cloudwatch.AlarmNotifier
	scaler   cloudwatch.ScalingPolicyExecutor
}

// start runs CloudWatch behind a verifying gateway on a test HTTP server.
func start(t *testing.T, o envOpt) *env {
	t.Helper()
	os.Unsetenv("AWS_CA_BUNDLE")
	if o.clk == nil {
		o.clk = clock.Real()
	}
	if o.kv == nil {
		o.kv = memory.New()
	}
	svc := cloudwatch.New(cloudwatch.Options{KV: o.kv, Clock: o.clk, Notifier: o.notifier, Scaler: o.scaler})
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Config{Auth: newTestAuth(), Verify: true, DefaultRegion: "us-east-1"},
		[]service.Service{svc}, map[string]protocol.Codec{protocol.RestJSON: rest.NewJSON(), protocol.RestXML: rest.NewXML()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(gw)
	t.Cleanup(func() {
		hs.Close()
		if err := svc.Stop(context.Background()); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	// awstest's client configuration: its transport keeps the SDK's request
	// writer from dropping a connection under a fast answer.
	return &env{svc: svc, kv: o.kv, url: hs.URL, cfg: awstest.Config(hs.URL, "test", "test")}
}

// fakeNotifier records SNS publishes.
type fakeNotifier struct {
	mu   sync.Mutex
	msgs []published
}

type published struct{ Topic, Subject, Message string }

func (f *fakeNotifier) PublishToTopic(_ context.Context, topic, subject, message string, _ map[string]service.MessageAttribute) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, published{topic, subject, message})
	return "msg-" + time.Now().Format("150405.000000"), nil
}

func (f *fakeNotifier) all() []published {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]published(nil), f.msgs...)
}

// eventually polls cond until it holds or a bound is reached.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
