package sqs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/overcast-dev/overcast/internal/storage"
)

// storedMessages counts the message records SQS keeps in the store: what a
// restart would bring back.
func (e *fakeEnv) storedMessages(t *testing.T) int {
	t.Helper()
	n := 0
	start, end := storage.ServiceRange("sqs")
	err := e.kv.View(func(tx storage.Tx) error {
		return tx.Scan(start, end, func(k, _ []byte) bool {
			if _, parts, err := storage.DecodeKey(k); err == nil && len(parts) > 0 && parts[0] == "msg" {
				n++
			}
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Messages past the retention period are deleted even when nobody touches
// their queue.
func TestRetentionInBackground(t *testing.T) {
	e := startFake(t)
	url := mustCreate(t, e.client, "forgotten", map[string]string{"MessageRetentionPeriod": "60"})
	e.client.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("old")})
	if n := e.storedMessages(t); n != 1 {
		t.Fatalf("stored %d", n)
	}
	e.advance(t, 59*time.Second)
	if n := e.storedMessages(t); n != 1 {
		t.Fatalf("expired early: stored %d", n)
	}
	e.advance(t, 2*time.Second)
	if n := e.storedMessages(t); n != 0 {
		t.Fatalf("after retention: stored %d", n)
	}
}

// A message that used up its receives moves to the dead-letter queue when
// its visibility timeout ends, without another receive on the source.
func TestDeadLetterMoveInBackground(t *testing.T) {
	e := startFake(t)
	dlq := mustCreate(t, e.client, "graveyard", nil)
	src := mustCreate(t, e.client, "worker", map[string]string{"VisibilityTimeout": "10",
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:graveyard","maxReceiveCount":1}`})
	e.client.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &src, MessageBody: aws.String("poison")})
	if got := e.receive(t, src, 1); len(got) != 1 {
		t.Fatal("not received")
	}
	e.advance(t, 10*time.Second)
	out, err := e.client.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: &dlq, AttributeNames: []types.QueueAttributeName{"ApproximateNumberOfMessages"}})
	if err != nil || out.Attributes["ApproximateNumberOfMessages"] != "1" {
		t.Fatalf("dead-letter queue: %v %v", out, err)
	}
	got := e.receive(t, dlq, 1)
	if len(got) != 1 || got[0].Attributes["DeadLetterQueueSourceArn"] != "arn:aws:sqs:us-east-1:000000000000:worker" {
		t.Fatalf("moved: %+v", got)
	}
}

// Message move tasks run in the background at MaxNumberOfMessagesPerSecond.
func TestMessageMoveTaskRate(t *testing.T) {
	e := startFake(t)
	c := e.client
	dlqArn := "arn:aws:sqs:us-east-1:000000000000:parked"
	dlq := mustCreate(t, c, "parked", nil)
	mustCreate(t, c, "origin", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqArn + `","maxReceiveCount":3}`})
	dst := mustCreate(t, c, "retry", nil)
	for i := 0; i < 5; i++ {
		c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &dlq, MessageBody: aws.String(fmt.Sprint("m", i))})
	}
	if _, err := c.StartMessageMoveTask(ctx, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqArn),
		DestinationArn: aws.String("arn:aws:sqs:us-east-1:000000000000:retry"), MaxNumberOfMessagesPerSecond: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartMessageMoveTask(ctx, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqArn)}); apiCode(err) != "AWS.SimpleQueueService.UnsupportedOperation" {
		t.Errorf("second task: %v", err)
	}
	task := func() types.ListMessageMoveTasksResultEntry {
		out, err := c.ListMessageMoveTasks(ctx, &awssqs.ListMessageMoveTasksInput{SourceArn: aws.String(dlqArn)})
		if err != nil || len(out.Results) != 1 {
			t.Fatalf("list: %+v %v", out, err)
		}
		return out.Results[0]
	}
	for _, want := range []struct {
		moved  int64
		status string
	}{{2, "RUNNING"}, {4, "RUNNING"}, {5, "COMPLETED"}} {
		eventually(t, fmt.Sprint(want.moved, " moved"), func() bool { return task().ApproximateNumberOfMessagesMoved == want.moved })
		if err := e.clock.BlockUntil(ctx, sweepLoops); err != nil {
			t.Fatal(err)
		}
		got := task()
		if *got.Status != want.status || got.ApproximateNumberOfMessagesToMove == nil || *got.ApproximateNumberOfMessagesToMove != 5 || got.MaxNumberOfMessagesPerSecond == nil || *got.MaxNumberOfMessagesPerSecond != 2 {
			t.Fatalf("after %d moved: %+v", want.moved, got)
		}
		if want.status == "RUNNING" && got.TaskHandle == nil {
			t.Error("running task without a handle")
		}
		e.advance(t, time.Second)
	}
	if got := e.receive(t, dst, 10); len(got) != 5 {
		t.Errorf("destination holds %d", len(got))
	}
}

func TestCancelMessageMoveTask(t *testing.T) {
	e := startFake(t)
	c := e.client
	dlqArn := "arn:aws:sqs:us-east-1:000000000000:held"
	dlq := mustCreate(t, c, "held", nil)
	mustCreate(t, c, "feeder", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqArn + `","maxReceiveCount":3}`})
	dst := mustCreate(t, c, "out", nil)
	for i := 0; i < 3; i++ {
		c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &dlq, MessageBody: aws.String(fmt.Sprint("m", i))})
	}
	start, err := c.StartMessageMoveTask(ctx, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqArn),
		DestinationArn: aws.String("arn:aws:sqs:us-east-1:000000000000:out"), MaxNumberOfMessagesPerSecond: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	list := func() types.ListMessageMoveTasksResultEntry {
		out, err := c.ListMessageMoveTasks(ctx, &awssqs.ListMessageMoveTasksInput{SourceArn: aws.String(dlqArn)})
		if err != nil || len(out.Results) != 1 {
			t.Fatalf("list: %+v %v", out, err)
		}
		return out.Results[0]
	}
	eventually(t, "first move", func() bool { return list().ApproximateNumberOfMessagesMoved == 1 })
	if err := e.clock.BlockUntil(ctx, sweepLoops); err != nil {
		t.Fatal(err)
	}
	cancel, err := c.CancelMessageMoveTask(ctx, &awssqs.CancelMessageMoveTaskInput{TaskHandle: start.TaskHandle})
	if err != nil || cancel.ApproximateNumberOfMessagesMoved != 1 {
		t.Fatalf("cancel: %+v %v", cancel, err)
	}
	if _, err := c.CancelMessageMoveTask(ctx, &awssqs.CancelMessageMoveTaskInput{TaskHandle: start.TaskHandle}); apiCode(err) != "AWS.SimpleQueueService.UnsupportedOperation" {
		t.Errorf("second cancel: %v", err)
	}
	e.advance(t, 5*time.Second)
	if got := list(); *got.Status != "CANCELLED" || got.ApproximateNumberOfMessagesMoved != 1 {
		t.Errorf("after cancel: %+v", got)
	}
	if got := e.receive(t, dst, 10); len(got) != 1 {
		t.Errorf("destination holds %d", len(got))
	}
}
