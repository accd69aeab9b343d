package sns_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/gateway"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/protocol/sigv4"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/sns"
	"github.com/overcast-dev/overcast/internal/service/sqs"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

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

// recorder is a metrics.Publisher that keeps the AWS/SNS totals per topic.
type recorder struct {
	mu   sync.Mutex
	sums map[string]float64 // topic/metric -> sum
	max  map[string]float64
}

func (r *recorder) Publish(account, region, ns string, data []metrics.Datum) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range data {
		if ns != "AWS/SNS" {
			continue
		}
		k := d.Dimensions[0].Value + "/" + d.Name
		r.sums[k] += d.Value
		r.max[k] = max(r.max[k], d.Value)
		if d.Count > 1 {
			r.max[k] = max(r.max[k], d.Max)
		}
	}
}

func (r *recorder) get(k string) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sums[k]
}

// invoker records lambda invocations; fail makes the next ones fail.
type invoker struct {
	mu    sync.Mutex
	calls []string
	fail  error
}

func (f *invoker) InvokeAsync(ctx context.Context, account, region, fn string, payload []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, account+" "+region+" "+fn+" "+string(payload))
	return f.fail
}

// clockEnv is SNS and SQS behind one gateway on a fake clock.
type clockEnv struct {
	env
	clock   *clock.Fake
	metrics *recorder
	lambda  *invoker
}

// parked is how many timers the services' own loops hold while idle: the
// SQS sweep and the SNS metrics publisher.
const parked = 2

func startClock(t *testing.T) *clockEnv {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 5, 6, 7, 8, 0, 0, time.UTC))
	rec := &recorder{sums: map[string]float64{}, max: map[string]float64{}}
	inv := &invoker{}
	q := sqs.New(memory.New(), sqs.WithClock(clk))
	n := sns.New(memory.New(), q, sns.WithClock(clk), sns.WithMetrics(rec), sns.WithFunctionInvoker(inv))
	for _, s := range []service.Starter{q, n} {
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	gw, err := gateway.New(gateway.Config{Auth: testAuth{}}, []service.Service{q, n}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(gw)
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		n.Stop(c)
		q.Stop(c)
		hs.Close()
	})
	cfg := awstest.Config(hs.URL, "test", "test")
	e := &clockEnv{env: env{sns: awssns.NewFromConfig(cfg), sqs: awssqs.NewFromConfig(cfg)}, clock: clk, metrics: rec, lambda: inv}
	e.settle(t)
	return e
}

// settle waits until every loop and delivery parks on the clock; extra are
// timers beyond the services' own loops (deliveries waiting to retry).
func (e *clockEnv) settle(t *testing.T, extra ...int) {
	t.Helper()
	n := parked
	for _, x := range extra {
		n += x
	}
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := e.clock.BlockUntil(c, n); err != nil {
		t.Fatalf("waiting for %d timers: %v", n, err)
	}
}

// until polls cond until it holds or a generous bound (a safety net for a
// loaded machine, not a timing assertion) passes.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		httpSleep()
	}
}

// hook is an HTTP endpoint answering the statuses in plan, then 200.
type hook struct {
	srv    *httptest.Server
	hits   atomic.Int32
	mu     sync.Mutex
	plan   []int
	types  []string
	subURL string
}

func newHook(t *testing.T, plan ...int) *hook {
	h := &hook{plan: plan}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		if r.Header.Get("x-amz-sns-message-type") == "SubscriptionConfirmation" {
			var m map[string]string
			json.Unmarshal(b, &m)
			h.subURL = m["SubscribeURL"]
		}
		h.types = append(h.types, r.Header.Get("x-amz-sns-message-type"))
		status := 200
		if r.Header.Get("x-amz-sns-message-type") == "Notification" && len(h.plan) > 0 {
			status, h.plan = h.plan[0], h.plan[1:]
		}
		h.mu.Unlock()
		w.WriteHeader(status)
		if r.Header.Get("x-amz-sns-message-type") == "Notification" {
			h.hits.Add(1)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// subscribeHTTP subscribes h and confirms it as an endpoint would, by
// visiting the SubscribeURL of the confirmation it received.
func (e *clockEnv) subscribeHTTP(t *testing.T, topic string, h *hook, attrs map[string]string) string {
	t.Helper()
	arn := e.subscribe(t, topic, "http", h.srv.URL, attrs)
	var u string
	until(t, "confirmation", func() bool { h.mu.Lock(); defer h.mu.Unlock(); u = h.subURL; return u != "" })
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("confirm: %s", resp.Status)
	}
	return arn
}

func TestHTTPDeliveryPolicyRetries(t *testing.T) {
	e := startClock(t)
	topic := e.topic(t, "retrying", nil)
	dlqURL, dlqArn := e.queue(t, "hook-dlq", nil)
	h := newHook(t, 500, 503, 500, 500, 500)
	policy := `{"healthyRetryPolicy":{"numRetries":4,"numNoDelayRetries":1,"minDelayTarget":2,"maxDelayTarget":8,"numMinDelayRetries":1,"backoffFunction":"linear"}}`
	sub := e.subscribeHTTP(t, topic, h, map[string]string{"DeliveryPolicy": policy, "RedrivePolicy": `{"deadLetterTargetArn":"` + dlqArn + `"}`})
	attrs, err := e.sns.GetSubscriptionAttributes(ctx, &awssns.GetSubscriptionAttributesInput{SubscriptionArn: &sub})
	if err != nil || !strings.Contains(attrs.Attributes["EffectiveDeliveryPolicy"], `"numRetries":4`) {
		t.Fatalf("effective policy: %v %v", attrs, err)
	}
	if _, err := e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("flaky")}); err != nil {
		t.Fatal(err)
	}
	// Attempt 1 at once, retry 1 without delay (no-delay phase), retry 2
	// after minDelayTarget (min-delay phase), retries 3 and 4 in the linear
	// backoff phase: 2 s then 8 s.
	until(t, "two attempts", func() bool { return h.hits.Load() == 2 })
	for _, step := range []struct {
		wait time.Duration
		hits int32
	}{{2 * time.Second, 3}, {2 * time.Second, 4}, {8 * time.Second, 5}} {
		e.settle(t, 1)
		e.clock.Advance(step.wait - time.Second)
		e.settle(t, 1)
		if got := h.hits.Load(); got != step.hits-1 {
			t.Fatalf("retried early: %d attempts %v before the delay ended", got, step.wait)
		}
		e.clock.Advance(time.Second)
		until(t, "retry", func() bool { return h.hits.Load() == step.hits })
	}
	// Out of retries: the message goes to the subscription's dead-letter queue.
	var got []string
	until(t, "dead letter", func() bool {
		for _, m := range e.drain(t, dlqURL) {
			got = append(got, *m.Body)
			if m.MessageAttributes["ErrorCode"].StringValue == nil || *m.MessageAttributes["TopicArn"].StringValue != topic {
				t.Errorf("dead-letter attributes %v", m.MessageAttributes)
			}
		}
		return len(got) > 0
	})
	var env map[string]string
	if json.Unmarshal([]byte(got[0]), &env); env["Message"] != "flaky" {
		t.Errorf("dead letter body %s", got[0])
	}
	e.settle(t)
	e.clock.Advance(time.Minute)
	until(t, "metrics", func() bool { return e.metrics.get("retrying/NumberOfNotificationsFailed") == 1 })
	if v := e.metrics.get("retrying/NumberOfMessagesPublished"); v != 1 {
		t.Errorf("published %v", v)
	}
}

func TestQueueDeadLetterAndMetrics(t *testing.T) {
	e := startClock(t)
	topic := e.topic(t, "orders", nil)
	okURL, okArn := e.queue(t, "orders-ok", nil)
	_, goneArn := e.queue(t, "orders-gone", nil)
	dlqURL, dlqArn := e.queue(t, "orders-dlq", nil)
	e.subscribe(t, topic, "sqs", okArn, map[string]string{"FilterPolicy": `{"kind":["order"]}`})
	e.subscribe(t, topic, "sqs", goneArn, map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqArn + `"}`, "RawMessageDelivery": "true"})
	goneURL, _ := e.sqs.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String("orders-gone")})
	e.sqs.DeleteQueue(ctx, &awssqs.DeleteQueueInput{QueueUrl: goneURL.QueueUrl})
	for _, kind := range []string{"order", "refund"} {
		if _, err := e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("a " + kind),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String(kind)}}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.drain(t, okURL); len(got) != 1 {
		t.Errorf("filtered queue got %d", len(got))
	}
	dead := e.drain(t, dlqURL)
	if len(dead) != 2 || *dead[0].MessageAttributes["ErrorCode"].StringValue == "" || dead[0].MessageAttributes["kind"].StringValue == nil {
		t.Fatalf("dead letters %+v", dead)
	}
	for _, m := range dead {
		if !strings.HasPrefix(*m.Body, "a ") {
			t.Errorf("raw dead letter body %q", *m.Body)
		}
	}
	if e.metrics.get("orders/NumberOfMessagesPublished") != 0 {
		t.Error("metrics published before the minute ended")
	}
	e.settle(t)
	e.clock.Advance(time.Minute)
	until(t, "metrics", func() bool { return e.metrics.get("orders/NumberOfMessagesPublished") == 2 })
	want := map[string]float64{"NumberOfNotificationsDelivered": 1, "NumberOfNotificationsFailed": 2, "NumberOfNotificationsFilteredOut": 1, "PublishSize": float64(len("a order") + len("a refund") + 2*len("kindString") + len("order") + len("refund"))}
	for k, v := range want {
		if got := e.metrics.get("orders/" + k); got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
}

func TestLambdaSubscription(t *testing.T) {
	e := startClock(t)
	topic := e.topic(t, "events", nil)
	fn := "arn:aws:lambda:us-east-1:000000000000:function:handler"
	sub := e.subscribe(t, topic, "lambda", fn, nil)
	if _, err := e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("to lambda"), Subject: aws.String("hi"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"n": {DataType: aws.String("Number"), StringValue: aws.String("7")}}}); err != nil {
		t.Fatal(err)
	}
	var call string
	until(t, "invocation", func() bool {
		e.lambda.mu.Lock()
		defer e.lambda.mu.Unlock()
		if len(e.lambda.calls) > 0 {
			call = e.lambda.calls[0]
		}
		return call != ""
	})
	prefix := "000000000000 us-east-1 " + fn + " "
	if !strings.HasPrefix(call, prefix) {
		t.Fatalf("call %s", call)
	}
	var ev struct {
		Records []struct {
			EventSource, EventVersion, EventSubscriptionArn string
			Sns                                             map[string]any
		}
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(call, prefix)), &ev); err != nil || len(ev.Records) != 1 {
		t.Fatalf("event %s: %v", call, err)
	}
	r := ev.Records[0]
	if r.EventSource != "aws:sns" || r.EventVersion != "1.0" || r.EventSubscriptionArn != sub {
		t.Errorf("record %+v", r)
	}
	if r.Sns["Message"] != "to lambda" || r.Sns["Subject"] != "hi" || r.Sns["TopicArn"] != topic || r.Sns["Type"] != "Notification" ||
		r.Sns["SigningCertUrl"] == nil || r.Sns["UnsubscribeUrl"] == nil || r.Sns["Signature"] == "" {
		t.Errorf("Sns %v", r.Sns)
	}
	if a, _ := r.Sns["MessageAttributes"].(map[string]any)["n"].(map[string]any); a["Type"] != "Number" || a["Value"] != "7" {
		t.Errorf("attributes %v", r.Sns["MessageAttributes"])
	}
}

// Delivery status logging attributes are stored and read back.
func TestDeliveryStatusAttributes(t *testing.T) {
	e := startClock(t)
	topic := e.topic(t, "logged", map[string]string{"SQSSuccessFeedbackRoleArn": "arn:aws:iam::000000000000:role/ok"})
	set := map[string]string{
		"SQSFailureFeedbackRoleArn":      "arn:aws:iam::000000000000:role/fail",
		"SQSSuccessFeedbackSampleRate":   "50",
		"HTTPSuccessFeedbackRoleArn":     "arn:aws:iam::000000000000:role/ok",
		"LambdaFailureFeedbackRoleArn":   "arn:aws:iam::000000000000:role/fail",
		"FirehoseSuccessFeedbackRoleArn": "arn:aws:iam::000000000000:role/ok",
	}
	for k, v := range set {
		if _, err := e.sns.SetTopicAttributes(ctx, &awssns.SetTopicAttributesInput{TopicArn: &topic, AttributeName: aws.String(k), AttributeValue: aws.String(v)}); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	set["SQSSuccessFeedbackRoleArn"] = "arn:aws:iam::000000000000:role/ok"
	out, err := e.sns.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: &topic})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if out.Attributes[k] != v {
			t.Errorf("%s = %q, want %q", k, out.Attributes[k], v)
		}
	}
	// Bad delivery and redrive policies are refused.
	if _, err := e.sns.SetTopicAttributes(ctx, &awssns.SetTopicAttributesInput{TopicArn: &topic, AttributeName: aws.String("DeliveryPolicy"),
		AttributeValue: aws.String(`{"http":{"defaultHealthyRetryPolicy":{"numRetries":500}}}`)}); apiCode(err) != "InvalidParameter" {
		t.Errorf("numRetries 500: %v", err)
	}
	_, qarn := e.queue(t, "logged-q", nil)
	sub := e.subscribe(t, topic, "sqs", qarn, nil)
	for _, bad := range []struct{ name, value string }{
		{"RedrivePolicy", `{"deadLetterTargetArn":"not-an-arn"}`},
		{"DeliveryPolicy", `{"healthyRetryPolicy":{"minDelayTarget":30,"maxDelayTarget":10}}`},
		{"DeliveryPolicy", `{"healthyRetryPolicy":{"backoffFunction":"cubic"}}`},
	} {
		if _, err := e.sns.SetSubscriptionAttributes(ctx, &awssns.SetSubscriptionAttributesInput{SubscriptionArn: &sub, AttributeName: &bad.name, AttributeValue: &bad.value}); apiCode(err) != "InvalidParameter" {
			t.Errorf("%s %s: %v", bad.name, bad.value, err)
		}
	}
}
