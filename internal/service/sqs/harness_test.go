package sqs_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/gateway"
	"github.com/overcast-dev/overcast/internal/protocol/sigv4"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/sqs"
	"github.com/overcast-dev/overcast/internal/storage"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

// testAuth accepts any signature; the account is the default one.
type testAuth struct{}

func (testAuth) Identify(r *http.Request) (*gateway.Credential, error) {
	c, err := sigv4.Parse(r)
	if errors.Is(err, sigv4.ErrUnsigned) {
		return nil, nil
	}
	if c == nil {
		return nil, err
	}
	return &gateway.Credential{AccessKey: c.AccessKey, Region: c.Region, Service: c.Service}, nil
}
func (testAuth) Verify(*http.Request, *gateway.Credential) error { return nil }
func (testAuth) Account(string) string                           { return gateway.DefaultAccount }

// fakeEnv is SQS alone behind a gateway, driven by a fake clock.
type fakeEnv struct {
	svc    *sqs.Service
	kv     storage.KV
	clock  *clock.Fake
	client *awssqs.Client
	url    string
}

func startFake(t *testing.T) *fakeEnv {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	kv := memory.New()
	svc := sqs.New(kv, sqs.WithClock(clk))
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Config{Auth: testAuth{}}, []service.Service{svc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(gw)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		svc.Stop(ctx)
		hs.Close()
	})
	return &fakeEnv{svc: svc, kv: kv, clock: clk, client: awssqs.NewFromConfig(testConfig(hs.URL)), url: hs.URL}
}

func mustCreate(t *testing.T, c *awssqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateQueue(context.Background(), &awssqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return *out.QueueUrl
}

// eventually polls cond until it holds or a generous bound (a safety net
// for a loaded machine, not a timing assertion) passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// testConfig is awstest's client configuration: its transport keeps the
// SDK's request writer from dropping a connection under a fast answer.
func testConfig(endpoint string) aws.Config {
	return awstest.Config(endpoint, "test", "test")
}

// sweepLoops is how many timers SQS's own controllers hold on the fake
// clock while parked (the sweep; metrics are off without a publisher).
const sweepLoops = 1

// advance steps the clock and waits until the sweep controller has finished
// any run the step started.
func (e *fakeEnv) advance(t *testing.T, d time.Duration) {
	t.Helper()
	e.clock.Advance(d)
	if err := e.clock.BlockUntil(ctx, sweepLoops); err != nil {
		t.Fatal(err)
	}
}
