package sqs_test

import (
	"context"
	"errors"

	"github.com/aws/smithy-go"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

var ctx = context.Background()

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func (e *fakeEnv) count(t *testing.T, url string) (visible, inflight, delayed string) {
	t.Helper()
	a, err := e.client.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	return a.Attributes["ApproximateNumberOfMessages"], a.Attributes["ApproximateNumberOfMessagesNotVisible"], a.Attributes["ApproximateNumberOfMessagesDelayed"]
}

func (e *fakeEnv) receive(t *testing.T, url string, n int32) []types.Message {
	t.Helper()
	out, err := e.client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: n,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

func TestVisibilityTimeoutExpires(t *testing.T) {
	e := startFake(t)
	url := mustCreate(t, e.client, "vis", map[string]string{"VisibilityTimeout": "30"})
	e.client.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("m")})
	if got := e.receive(t, url, 1); len(got) != 1 {
		t.Fatalf("first receive %d", len(got))
	}
	e.clock.Advance(29 * time.Second)
	if got := e.receive(t, url, 1); len(got) != 0 {
		t.Fatalf("visible before timeout")
	}
	e.clock.Advance(time.Second)
	got := e.receive(t, url, 1)
	if len(got) != 1 || got[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after timeout: %+v", got)
	}
	// A per-receive visibility timeout overrides the queue's.
	e.client.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: got[0].ReceiptHandle, VisibilityTimeout: 0})
	out, _ := e.client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, VisibilityTimeout: 5})
	if len(out.Messages) != 1 {
		t.Fatal("not visible after ChangeMessageVisibility 0")
	}
	e.clock.Advance(5 * time.Second)
	if v, inf, _ := e.count(t, url); v != "1" || inf != "0" {
		t.Errorf("counts after 5s: visible %s in flight %s", v, inf)
	}
}

func TestDelays(t *testing.T) {
	e := startFake(t)
	url := mustCreate(t, e.client, "delayed", map[string]string{"DelaySeconds": "10"})
	e.client.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("queue delay")})
	e.client.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("own delay"), DelaySeconds: 20})
	if v, _, d := e.count(t, url); v != "0" || d != "2" {
		t.Errorf("visible %s delayed %s", v, d)
	}
	if got := e.receive(t, url, 10); len(got) != 0 {
		t.Fatalf("at 0s: %+v", got)
	}
	e.clock.Advance(10 * time.Second)
	if got := e.receive(t, url, 10); len(got) != 1 || *got[0].Body != "queue delay" {
		t.Fatalf("at 10s: %+v", got)
	}
	e.clock.Advance(10 * time.Second)
	if got := e.receive(t, url, 10); len(got) != 1 || *got[0].Body != "own delay" {
		t.Fatalf("at 20s: %+v", got)
	}
}

func TestRetention(t *testing.T) {
	e := startFake(t)
	url := mustCreate(t, e.client, "short", map[string]string{"MessageRetentionPeriod": "60"})
	e.client.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("old")})
	e.clock.Advance(30 * time.Second)
	e.client.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("new")})
	e.clock.Advance(31 * time.Second)
	got := e.receive(t, url, 10)
	if len(got) != 1 || *got[0].Body != "new" {
		t.Fatalf("after 61s: %+v", got)
	}
}

func TestLongPollWokenBySend(t *testing.T) {
	e := startFake(t)
	url := mustCreate(t, e.client, "lp", nil)
	type result struct {
		msgs []types.Message
		err  error
	}
	done := make(chan result, 1)
	go func() {
		out, err := e.client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 20})
		if err != nil {
			done <- result{err: err}
			return
		}
		done <- result{msgs: out.Messages}
	}()
	// The receiver parks on the clock (its 20 s deadline timer).
	if err := e.clock.BlockUntil(ctx, 1+sweepLoops); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("wake")}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || len(r.msgs) != 1 || *r.msgs[0].Body != "wake" {
		t.Fatalf("long poll: %+v", r)
	}
}

func TestLongPollTimesOutAndSeesDelayed(t *testing.T) {
	e := startFake(t)
	url := mustCreate(t, e.client, "lp2", map[string]string{"ReceiveMessageWaitTimeSeconds": "20"})
	done := make(chan []types.Message, 1)
	go func() {
		out, err := e.client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url})
		if err != nil {
			t.Error(err)
		}
		done <- out.Messages
	}()
	e.clock.BlockUntil(ctx, 1+sweepLoops)
	e.clock.Advance(20 * time.Second)
	if got := <-done; len(got) != 0 {
		t.Fatalf("empty queue returned %d", len(got))
	}
	// A delayed message that becomes visible during the wait is returned.
	e.client.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("later"), DelaySeconds: 5})
	go func() {
		out, err := e.client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url})
		if err != nil {
			t.Error(err)
		}
		done <- out.Messages
	}()
	e.clock.BlockUntil(ctx, 1+sweepLoops)
	e.clock.Advance(5 * time.Second)
	if got := <-done; len(got) != 1 || *got[0].Body != "later" {
		t.Fatalf("delayed during wait: %+v", got)
	}
}
