package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// sqsDefs are the SQS and SNS workloads (issue 4).
func sqsDefs() []workloadDef {
	return []workloadDef{
		{name: "sqs-send", doc: "SQS SendMessage, 256-byte body, json protocol (aws-sdk-go-v2, which checks MD5OfMessageBody)",
			service: "sqs", concurrency: defaultSmallConc, duration: defaultDuration, unit: "messages/s", perOp: 1,
			new:   func() Workload { return &sqsSend{} },
			goals: goals{cpuUs: targetSmallCallCPUUs, vsMotoRate: 20, aheadOfPeers: true}},
		{name: "sqs-recv-delete-10k", doc: "SQS ReceiveMessage (1 message) + DeleteMessage; the queue holds 10,000 messages at the start of each run (filled with SendMessageBatch, topped up between runs)",
			service: "sqs", concurrency: defaultSmallConc, duration: defaultDuration, heavySetup: true, unit: "messages/s", perOp: 1,
			extras: []string{"depth at end"},
			new:    func() Workload { return &sqsRecvDelete{depth: 10_000} },
			goals:  goals{cpuUs: 100, vsMotoRate: 20, aheadOfPeers: true}},
		{name: "sqs-recv-delete-100k", doc: "SQS ReceiveMessage (1 message) + DeleteMessage; the queue holds 100,000 messages at the start of each run (filled with SendMessageBatch, topped up between runs)",
			service: "sqs", concurrency: defaultSmallConc, duration: defaultDuration, heavySetup: true, unit: "messages/s", perOp: 1,
			extras: []string{"depth at end"},
			new:    func() Workload { return &sqsRecvDelete{depth: 100_000} },
			goals:  goals{cpuUs: 100, vsMotoRate: 20, aheadOfPeers: true}},
		{name: "sns-fanout", doc: "SNS Publish to a topic with 10 subscribed SQS queues (envelope delivery), paced at -fanout-rate publishes/s; latency from just before Publish to receipt by a long-polling receiver on each queue; server CPU per publish includes the 10 deliveries and their receive+delete",
			service: "sns", concurrency: defaultFanoutPublish, duration: defaultDuration, heavySetup: true,
			unit: "deliveries/s", perOp: fanoutQueues,
			extras: []string{"p50 ms", "p99 ms", "max ms"},
			new:    func() Workload { return &snsFanout{} },
			goals:  goals{p50Ms: 0.5, p99Ms: 5}},
	}
}

// sqsBody is the 256-byte message body the SQS workloads send.
var sqsBody = func() string {
	s := `{"order":"0000000000","items":[{"sku":"ABC-123","qty":1}],"note":"`
	return s + strings.Repeat("x", 256-len(s)-2) + `"}`
}()

func newSQS(env Env) *sqs.Client { return sqs.NewFromConfig(awsConfig(env)) }

// createQueue creates a standard queue and returns its URL.
func createQueue(ctx context.Context, c *sqs.Client, name string) (string, error) {
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return "", classify("CreateQueue", err)
	}
	if aws.ToString(out.QueueUrl) == "" {
		return "", errors.New("CreateQueue: no QueueUrl")
	}
	return *out.QueueUrl, nil
}

// sqsSend sends one message per op.
type sqsSend struct {
	c   *sqs.Client
	url string
}

func (*sqsSend) Name() string { return "sqs-send" }

func (w *sqsSend) Setup(ctx context.Context, env Env) error {
	if env.Floor {
		return errors.ErrUnsupported
	}
	w.c = newSQS(env)
	var err error
	if w.url, err = createQueue(ctx, w.c, "bench-send"); err != nil {
		return err
	}
	return classify("first SendMessage", w.Op(ctx))
}

func (w *sqsSend) Op(ctx context.Context) error {
	out, err := w.c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &w.url, MessageBody: &sqsBody})
	if err != nil {
		return err
	}
	if aws.ToString(out.MessageId) == "" {
		return errors.New("SendMessage: no MessageId")
	}
	return nil
}

// sqsRecvDelete receives one message and deletes it per op, from a queue
// kept at depth messages at the start of every run.
type sqsRecvDelete struct {
	depth   int
	c       *sqs.Client
	url     string
	sent    atomic.Int64 // messages acknowledged by SendMessageBatch
	deleted atomic.Int64 // messages deleted by ops
	seen    sync.Map     // message ids received, to catch a message handed out twice
	notes   noteSet
}

func (w *sqsRecvDelete) Notes() []string { return w.notes.list() }

func (w *sqsRecvDelete) Name() string { return fmt.Sprintf("sqs-recv-delete-%dk", w.depth/1000) }

func (w *sqsRecvDelete) Setup(ctx context.Context, env Env) error {
	if env.Floor {
		return errors.ErrUnsupported
	}
	w.c = newSQS(env)
	var err error
	if w.url, err = createQueue(ctx, w.c, fmt.Sprintf("bench-recv-%d", w.depth)); err != nil {
		return err
	}
	return w.fill(ctx)
}

// fill sends batches of 10 from 16 goroutines until the queue holds depth
// messages (by the count of messages sent and deleted here).
func (w *sqsRecvDelete) fill(ctx context.Context) error {
	need := int64(w.depth) - (w.sent.Load() - w.deleted.Load())
	if need <= 0 {
		return nil
	}
	entries := make([]sqstypes.SendMessageBatchRequestEntry, 10)
	for i := range entries {
		entries[i] = sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: &sqsBody}
	}
	err := fillParallel(ctx, "messages", (need+9)/10, 10, 16, func(ctx context.Context, _ int64) error {
		out, err := w.c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &w.url, Entries: entries})
		if err != nil {
			return err
		}
		// Entries not listed as failed were sent. A server that lists
		// neither (goaws answers json clients with its XML result shape)
		// is noted: its messages do arrive.
		w.sent.Add(int64(len(entries) - len(out.Failed)))
		if len(out.Successful)+len(out.Failed) != len(entries) {
			w.notes.once("SendMessageBatch answered %d Successful and %d Failed entries for %d sent; the rest were counted as sent",
				len(out.Successful), len(out.Failed), len(entries))
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("SendMessageBatch: %d entries failed: %s", len(out.Failed), aws.ToString(out.Failed[0].Code))
		}
		return nil
	})
	return classify("fill queue", err)
}

func (w *sqsRecvDelete) BeforeRun(ctx context.Context) error { return w.fill(ctx) }

func (w *sqsRecvDelete) AfterRun(context.Context) runExtras {
	return runExtras{Figures: map[string]float64{"depth at end": float64(w.sent.Load() - w.deleted.Load())}}
}

func (w *sqsRecvDelete) Op(ctx context.Context) error {
	out, err := w.c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &w.url, MaxNumberOfMessages: 1})
	if err != nil {
		return err
	}
	if len(out.Messages) != 1 {
		return fmt.Errorf("ReceiveMessage: %d messages from a queue of about %d", len(out.Messages), w.sent.Load()-w.deleted.Load())
	}
	m := out.Messages[0]
	if aws.ToString(m.Body) != sqsBody || aws.ToString(m.ReceiptHandle) == "" || aws.ToString(m.MessageId) == "" {
		return errors.New("ReceiveMessage: wrong body, or no receipt handle or message id")
	}
	_, dup := w.seen.LoadOrStore(*m.MessageId, struct{}{})
	if _, err := w.c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &w.url, ReceiptHandle: m.ReceiptHandle}); err != nil {
		return err
	}
	if dup {
		// Received before, within its visibility timeout (30 s), or deleted
		// before: SQS hands a message to one consumer at a time.
		return fmt.Errorf("ReceiveMessage: message %s received a second time", *m.MessageId)
	}
	w.deleted.Add(1)
	return nil
}

// fanoutQueues is how many queues the fan-out topic delivers to.
const fanoutQueues = 10

// snsFanout publishes to a topic with fanoutQueues SQS subscriptions. One
// long-polling receiver per queue, running only during runs, timestamps
// each delivery; AfterRun waits (bounded) for every delivery of the run and
// reports the latency percentiles.
type snsFanout struct {
	sns    *sns.Client
	sqs    *sqs.Client
	topic  string
	queues []string
	pace   pacer

	published atomic.Int64 // publishes acknowledged in this run
	mu        sync.Mutex
	lat       []time.Duration // delivery latencies in this run
	got       int64           // deliveries of this run's messages
	recvErr   error
	recvErrs  int64
	runID     atomic.Int64 // messages of older runs are deleted, not counted
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

func (*snsFanout) Name() string { return "sns-fanout" }

func (w *snsFanout) Setup(ctx context.Context, env Env) error {
	if env.Floor {
		return errors.ErrUnsupported
	}
	rate := env.Opts.FanoutRate
	if rate <= 0 {
		rate = 100
	}
	w.pace = pacer{interval: time.Duration(float64(time.Second) / rate)}
	cfg := awsConfig(env)
	w.sns, w.sqs = sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	t, err := w.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("bench-fanout")})
	if err != nil {
		return classify("CreateTopic", err)
	}
	w.topic = aws.ToString(t.TopicArn)
	for i := range fanoutQueues {
		url, err := createQueue(ctx, w.sqs, fmt.Sprintf("bench-fanout-%d", i))
		if err != nil {
			return err
		}
		attrs, err := w.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			return classify("GetQueueAttributes", err)
		}
		arn := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
		if arn == "" {
			return errors.New("GetQueueAttributes: no QueueArn")
		}
		// The policy real SQS needs before SNS may deliver; emulators that
		policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":%q,"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}]}`, arn, w.topic)
		// do not check it ignore it, or refuse it (goaws): either is fine.
		_, _ = w.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url,
			Attributes: map[string]string{"Policy": policy}})
		if _, err := w.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &w.topic, Protocol: aws.String("sqs"), Endpoint: &arn}); err != nil {
			return classify("Subscribe", err)
		}
		w.queues = append(w.queues, url)
	}
	// One message end to end, so that a target that accepts the calls but
	// never delivers is reported at set-up.
	if err := w.BeforeRun(ctx); err != nil {
		return err
	}
	err = w.Op(ctx)
	ex := w.AfterRun(ctx)
	if err != nil {
		return classify("first Publish", err)
	}
	if ex.Errors > 0 {
		return fmt.Errorf("first Publish: %s", ex.FirstError)
	}
	return nil
}

// fanoutBody is what is published: run id and send time, padded to 256
// bytes like the SQS workloads' body.
func fanoutBody(run int64, t time.Time) string {
	s := strconv.FormatInt(run, 10) + " " + strconv.FormatInt(t.UnixNano(), 10) + " "
	return s + strings.Repeat("x", 256-len(s))
}

func (w *snsFanout) Op(ctx context.Context) error {
	if err := w.pace.wait(ctx); err != nil {
		return err
	}
	msg := fanoutBody(w.runID.Load(), time.Now())
	out, err := w.sns.Publish(ctx, &sns.PublishInput{TopicArn: &w.topic, Message: &msg})
	if err != nil {
		return err
	}
	if aws.ToString(out.MessageId) == "" {
		return errors.New("Publish: no MessageId")
	}
	w.published.Add(1)
	return nil
}

// BeforeRun starts a new run: counters reset, one receiver per queue.
func (w *snsFanout) BeforeRun(ctx context.Context) error {
	run := w.runID.Add(1)
	w.published.Store(0)
	w.mu.Lock()
	w.lat, w.got, w.recvErr, w.recvErrs = w.lat[:0], 0, nil, 0
	w.mu.Unlock()
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.cancel = cancel
	for _, q := range w.queues {
		w.wg.Go(func() { w.receive(rctx, q, run) })
	}
	return nil
}

// AfterRun waits up to 3 s for every delivery of the run, stops the
// receivers and reports the latencies; deliveries that never came are
// errors.
func (w *snsFanout) AfterRun(ctx context.Context) runExtras {
	want := w.published.Load() * fanoutQueues
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		w.mu.Lock()
		got := w.got
		w.mu.Unlock()
		if got >= want {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	w.cancel()
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	ex := runExtras{Figures: map[string]float64{}, Errors: w.recvErrs}
	if w.recvErr != nil {
		ex.FirstError = w.recvErr.Error()
	}
	if missing := want - w.got; missing > 0 {
		ex.Errors += missing
		if ex.FirstError == "" {
			ex.FirstError = fmt.Sprintf("%d of %d deliveries not received within 3 s of the run's end", missing, want)
		}
	}
	if len(w.lat) > 0 {
		slices.Sort(w.lat)
		ex.Figures["p50 ms"] = ms(percentile(w.lat, 0.50))
		ex.Figures["p99 ms"] = ms(percentile(w.lat, 0.99))
		ex.Figures["max ms"] = ms(w.lat[len(w.lat)-1])
	}
	return ex
}

// receive long-polls one queue until ctx ends, recording the latency of
// each message of run and deleting every message it gets.
func (w *snsFanout) receive(ctx context.Context, url string, run int64) {
	for ctx.Err() == nil {
		out, err := w.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url,
			MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		now := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				w.noteErr(fmt.Errorf("ReceiveMessage: %w", err))
				time.Sleep(10 * time.Millisecond)
			}
			continue
		}
		if len(out.Messages) == 0 {
			continue
		}
		var lats []time.Duration
		entries := make([]sqstypes.DeleteMessageBatchRequestEntry, 0, len(out.Messages))
		for i, m := range out.Messages {
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
			r, sent, err := parseFanout(aws.ToString(m.Body))
			if err != nil {
				w.noteErr(err)
				continue
			}
			if r == run {
				lats = append(lats, now.Sub(sent))
			}
		}
		w.mu.Lock()
		w.lat = append(w.lat, lats...)
		w.got += int64(len(lats))
		w.mu.Unlock()
		del, err := w.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: entries})
		if err == nil && len(del.Failed) > 0 {
			err = fmt.Errorf("%d entries failed", len(del.Failed))
		}
		if err != nil && ctx.Err() == nil {
			w.noteErr(fmt.Errorf("DeleteMessageBatch: %w", err))
		}
	}
}

func (w *snsFanout) noteErr(err error) {
	w.mu.Lock()
	w.recvErrs++
	if w.recvErr == nil {
		w.recvErr = err
	}
	w.mu.Unlock()
}

// parseFanout reads run id and send time from a delivered body: the SNS
// envelope's Message, or the raw message.
func parseFanout(body string) (run int64, sent time.Time, err error) {
	msg := body
	if strings.HasPrefix(body, "{") {
		var env struct {
			Type    string
			Message string
		}
		if err := json.Unmarshal([]byte(body), &env); err != nil {
			return 0, time.Time{}, fmt.Errorf("delivered body is not an SNS envelope: %v", err)
		}
		msg = env.Message
	}
	f := strings.SplitN(msg, " ", 3)
	if len(f) < 3 {
		return 0, time.Time{}, fmt.Errorf("delivered message %.40q is not what was published", msg)
	}
	run, err1 := strconv.ParseInt(f[0], 10, 64)
	ns, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || len(msg) != 256 {
		return 0, time.Time{}, fmt.Errorf("delivered message %.40q is not what was published", msg)
	}
	return run, time.Unix(0, ns), nil
}

// pacer spaces operations from many goroutines interval apart. A pacer
// that falls behind does not burst to catch up.
type pacer struct {
	interval time.Duration
	mu       sync.Mutex
	next     time.Time
}

func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	slot := p.next
	p.next = p.next.Add(p.interval)
	p.mu.Unlock()
	if d := time.Until(slot); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

var (
	_ Workload = (*sqsSend)(nil)
	_ Workload = (*sqsRecvDelete)(nil)
	_ Workload = (*snsFanout)(nil)
	_ runHooks = (*sqsRecvDelete)(nil)
	_ runHooks = (*snsFanout)(nil)
)
