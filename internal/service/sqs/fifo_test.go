package sqs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func TestFIFOGroupsAndDedup(t *testing.T) {
	e := startFake(t)
	c := e.client
	url := mustCreate(t, c, "jobs.fifo", map[string]string{"FifoQueue": "true"})
	// No dedup id and no content-based dedup: refused.
	if _, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x"), MessageGroupId: aws.String("g")}); apiCode(err) != "InvalidParameterValue" {
		t.Errorf("no dedup id: %v", err)
	}
	if _, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")}); apiCode(err) != "MissingParameter" {
		t.Errorf("no group: %v", err)
	}
	if _, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d"), DelaySeconds: 3}); apiCode(err) != "InvalidParameterValue" {
		t.Errorf("per-message delay: %v", err)
	}
	var seqs []string
	send := func(group, dedup, body string) *awssqs.SendMessageOutput {
		out, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(body), MessageGroupId: aws.String(group), MessageDeduplicationId: aws.String(dedup)})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, *out.SequenceNumber)
		return out
	}
	a1 := send("A", "a1", "A1")
	send("A", "a2", "A2")
	send("B", "b1", "B1")
	send("A", "a3", "A3")
	dup := send("A", "a1", "A1 again")
	if *dup.MessageId != *a1.MessageId || *dup.SequenceNumber != *a1.SequenceNumber {
		t.Errorf("duplicate got a new message: %s vs %s", *dup.MessageId, *a1.MessageId)
	}
	for i := 1; i < 4; i++ {
		if len(seqs[i]) != 20 || seqs[i] <= seqs[i-1] {
			t.Errorf("sequence numbers not increasing: %v", seqs)
		}
	}
	// One receive: group A in order (up to 10), then group B.
	got := e.receive(t, url, 10)
	var bodies []string
	for _, m := range got {
		bodies = append(bodies, *m.Body)
	}
	if fmt.Sprint(bodies) != "[A1 A2 A3 B1]" {
		t.Fatalf("bodies %v", bodies)
	}
	if got[0].Attributes["MessageGroupId"] != "A" || got[0].Attributes["SequenceNumber"] != seqs[0] || got[0].Attributes["MessageDeduplicationId"] != "a1" {
		t.Errorf("fifo attributes %v", got[0].Attributes)
	}
	// While group A has messages in flight, its later messages are held back.
	send("A", "a4", "A4")
	send("C", "c1", "C1")
	got = e.receive(t, url, 10)
	if len(got) != 1 || *got[0].Body != "C1" {
		t.Fatalf("with A in flight: %+v", got)
	}
	// Deleting A's in-flight messages releases A4.
	e.clock.Advance(30 * time.Second) // everything in flight comes back
	got = e.receive(t, url, 10)
	perGroup := map[string][]string{}
	for _, m := range got {
		g := m.Attributes["MessageGroupId"]
		perGroup[g] = append(perGroup[g], *m.Body)
	}
	if fmt.Sprint(perGroup) != "map[A:[A1 A2 A3 A4] B:[B1] C:[C1]]" {
		t.Fatalf("after timeout: %v", perGroup)
	}
	for _, m := range got {
		if m.Attributes["MessageGroupId"] == "A" && *m.Body != "A4" {
			c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle})
		}
	}
	// A4 stays held while it is itself in flight; its visibility expiring
	// makes it the next message of group A.
	if got := e.receive(t, url, 10); len(got) != 0 {
		t.Fatalf("received while every group is in flight: %+v", got)
	}
	e.clock.Advance(30 * time.Second)
	got = e.receive(t, url, 10)
	perGroup = map[string][]string{}
	for _, m := range got {
		perGroup[m.Attributes["MessageGroupId"]] = append(perGroup[m.Attributes["MessageGroupId"]], *m.Body)
	}
	if fmt.Sprint(perGroup) != "map[A:[A4] B:[B1] C:[C1]]" {
		t.Fatalf("after deleting A1-A3: %v", perGroup)
	}
	// The deduplication window is five minutes.
	e.clock.Advance(5 * time.Minute)
	if again := send("A", "a1", "A1 later"); *again.MessageId == *a1.MessageId {
		t.Error("deduplicated after the window")
	}
}

func TestFIFOContentBasedDedup(t *testing.T) {
	e := startFake(t)
	c := e.client
	url := mustCreate(t, c, "cb.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	var ids []string
	for i := 0; i < 3; i++ {
		out, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("same"), MessageGroupId: aws.String("g")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, *out.MessageId)
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("content dedup: %v", ids)
	}
	b, err := c.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("1"), MessageBody: aws.String("x"), MessageGroupId: aws.String("g")},
		{Id: aws.String("2"), MessageBody: aws.String("x"), MessageGroupId: aws.String("g")},
		{Id: aws.String("3"), MessageBody: aws.String("y"), MessageGroupId: aws.String("g")},
	}})
	if err != nil || len(b.Successful) != 3 || *b.Successful[0].MessageId != *b.Successful[1].MessageId || *b.Successful[2].MessageId == *b.Successful[0].MessageId {
		t.Errorf("batch dedup: %+v %v", b, err)
	}
	if v, _, _ := e.count(t, url); v != "3" {
		t.Errorf("visible %s, want 3", v)
	}
	// Standard-only and FIFO-only attributes are checked.
	if _, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("std"), Attributes: map[string]string{"ContentBasedDeduplication": "true"}}); apiCode(err) != "InvalidAttributeName" {
		t.Errorf("fifo attribute on standard: %v", err)
	}
	if _, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("nofifo"), Attributes: map[string]string{"FifoQueue": "true"}}); apiCode(err) != "InvalidParameterValue" {
		t.Errorf("fifo without suffix: %v", err)
	}
}

func TestDeadLetterQueue(t *testing.T) {
	e := startFake(t)
	c := e.client
	dlqURL := mustCreate(t, c, "dead", nil)
	dlqArn := "arn:aws:sqs:us-east-1:000000000000:dead"
	if _, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("src"), Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:missing","maxReceiveCount":"2"}`}}); apiCode(err) != "InvalidParameterValue" {
		t.Errorf("missing target: %v", err)
	}
	if _, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("src"), Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqArn + `","maxReceiveCount":0}`}}); apiCode(err) != "InvalidParameterValue" {
		t.Errorf("maxReceiveCount 0: %v", err)
	}
	src := mustCreate(t, c, "src", map[string]string{"VisibilityTimeout": "10",
		"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqArn + `","maxReceiveCount":2}`})
	sent, _ := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &src, MessageBody: aws.String("poison"),
		MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}})
	for i := 0; i < 2; i++ {
		if got := e.receive(t, src, 1); len(got) != 1 {
			t.Fatalf("receive %d: none", i+1)
		}
		e.advance(t, 10*time.Second)
	}
	if got := e.receive(t, src, 1); len(got) != 0 {
		t.Fatalf("received a third time")
	}
	got := e.receive(t, dlqURL, 1)
	if len(got) != 1 || *got[0].MessageId != *sent.MessageId || got[0].Attributes["DeadLetterQueueSourceArn"] != "arn:aws:sqs:us-east-1:000000000000:src" {
		t.Fatalf("dead letter: %+v", got)
	}
	srcs, err := c.ListDeadLetterSourceQueues(ctx, &awssqs.ListDeadLetterSourceQueuesInput{QueueUrl: &dlqURL})
	if err != nil || len(srcs.QueueUrls) != 1 || srcs.QueueUrls[0] != src {
		t.Errorf("sources %+v %v", srcs, err)
	}
	// Redrive back to the source with a message move task.
	e.clock.Advance(30 * time.Second)
	task, err := c.StartMessageMoveTask(ctx, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqArn)})
	if err != nil {
		t.Fatal(err)
	}
	_ = task
	var tasks *awssqs.ListMessageMoveTasksOutput
	eventually(t, "move task completed", func() bool {
		tasks, err = c.ListMessageMoveTasks(ctx, &awssqs.ListMessageMoveTasksInput{SourceArn: aws.String(dlqArn)})
		return err == nil && len(tasks.Results) == 1 && *tasks.Results[0].Status == "COMPLETED"
	})
	if tasks.Results[0].ApproximateNumberOfMessagesMoved != 1 {
		t.Errorf("tasks %+v %v", tasks, err)
	}
	got = e.receive(t, src, 1)
	if len(got) != 1 || *got[0].MessageId != *sent.MessageId || got[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("redriven: %+v", got)
	}
	// RedriveAllowPolicy denyAll refuses new sources.
	if _, err := c.SetQueueAttributes(ctx, &awssqs.SetQueueAttributesInput{QueueUrl: &dlqURL, Attributes: map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"denyAll"}`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("src2"), Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqArn + `","maxReceiveCount":2}`}}); apiCode(err) != "InvalidParameterValue" {
		t.Errorf("denyAll: %v", err)
	}
}
