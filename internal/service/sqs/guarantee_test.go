package sqs_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/overcast-dev/overcast/internal/awstest"
)

// No message is handed to two consumers within its visibility timeout.
func TestConcurrentConsumersNeverShareAMessage(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("sqs"))
	c := newClient(srv)
	for _, name := range []string{"many", "many.fifo"} {
		t.Run(name, func(t *testing.T) {
			attrs := map[string]string{"VisibilityTimeout": "600"}
			fifo := name == "many.fifo"
			if fifo {
				attrs["FifoQueue"] = "true"
				attrs["ContentBasedDeduplication"] = "true"
			}
			url := mustCreate(t, c, name, attrs)
			const total = 400
			for i := 0; i < total; i += 10 {
				var entries []types.SendMessageBatchRequestEntry
				for j := i; j < i+10; j++ {
					e := types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("m", j)), MessageBody: aws.String(fmt.Sprint("message ", j))}
					if fifo {
						e.MessageGroupId = aws.String(fmt.Sprint("g", j%7))
					}
					entries = append(entries, e)
				}
				if out, err := c.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries}); err != nil || len(out.Failed) > 0 {
					t.Fatalf("send: %v %+v", err, out)
				}
			}
			var mu sync.Mutex
			seen := map[string]int{}
			var wg sync.WaitGroup
			for w := 0; w < 16; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for empty := 0; empty < 3; {
						out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10})
						if err != nil {
							t.Error(err)
							return
						}
						if len(out.Messages) == 0 {
							empty++
							continue
						}
						mu.Lock()
						for _, m := range out.Messages {
							seen[*m.Body]++
						}
						mu.Unlock()
						if fifo {
							// Release the groups so every message is reachable.
							var del []types.DeleteMessageBatchRequestEntry
							for i, m := range out.Messages {
								del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
							}
							if _, err := c.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: del}); err != nil {
								t.Error(err)
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			if len(seen) != total {
				t.Errorf("received %d distinct messages, want %d", len(seen), total)
			}
			for body, n := range seen {
				if n != 1 {
					t.Errorf("%s received %d times", body, n)
				}
			}
		})
	}
}

// Acknowledged messages survive a restart; deleted ones never come back;
// in-flight ones stay in flight.
func TestRestartKeepsAcknowledgedMessages(t *testing.T) {
	dir := t.TempDir()
	var deleted []string
	t.Run("before", func(t *testing.T) {
		srv := awstest.Start(t, awstest.WithServices("sqs"), awstest.WithDataDir(dir))
		c := newClient(srv)
		url := mustCreate(t, c, "durable", map[string]string{"VisibilityTimeout": "3600"})
		fifo := mustCreate(t, c, "durable.fifo", map[string]string{"FifoQueue": "true"})
		for i := 0; i < 10; i++ {
			if _, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(fmt.Sprint("m", i)),
				MessageAttributes: map[string]types.MessageAttributeValue{"i": {DataType: aws.String("Number"), StringValue: aws.String(fmt.Sprint(i))}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &fifo, MessageBody: aws.String(fmt.Sprint("f", i)), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String(fmt.Sprint(i))}); err != nil {
				t.Fatal(err)
			}
		}
		out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 4})
		if err != nil || len(out.Messages) != 4 {
			t.Fatalf("receive: %v %d", err, len(out.Messages))
		}
		for _, m := range out.Messages[:2] {
			if _, err := c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
			deleted = append(deleted, *m.Body)
		}
		if _, err := c.TagQueue(ctx, &awssqs.TagQueueInput{QueueUrl: &url, Tags: map[string]string{"k": "v"}}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("after", func(t *testing.T) {
		srv := awstest.Start(t, awstest.WithServices("sqs"), awstest.WithDataDir(dir))
		c := newClient(srv)
		url := mustCreate(t, c, "durable", nil)
		a, err := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if a.Attributes["ApproximateNumberOfMessages"] != "6" || a.Attributes["ApproximateNumberOfMessagesNotVisible"] != "2" || a.Attributes["VisibilityTimeout"] != "3600" {
			t.Errorf("after restart: %v", a.Attributes)
		}
		tags, _ := c.ListQueueTags(ctx, &awssqs.ListQueueTagsInput{QueueUrl: &url})
		if tags.Tags["k"] != "v" {
			t.Errorf("tags %v", tags.Tags)
		}
		got := map[string]bool{}
		for {
			out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) == 0 {
				break
			}
			for _, m := range out.Messages {
				got[*m.Body] = true
			}
		}
		if len(got) != 6 {
			t.Errorf("received %d messages after restart: %v", len(got), got)
		}
		for _, d := range deleted {
			if got[d] {
				t.Errorf("deleted message %s came back", d)
			}
		}
		fifo := mustCreate(t, c, "durable.fifo", map[string]string{"FifoQueue": "true"})
		out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &fifo, MaxNumberOfMessages: 10})
		if err != nil || len(out.Messages) != 10 || *out.Messages[0].Body != "f0" || *out.Messages[9].Body != "f9" {
			t.Fatalf("fifo after restart: %v %+v", err, out)
		}
		// Deduplication ids of messages still queued are remembered.
		dup, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &fifo, MessageBody: aws.String("again"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("0")})
		if err != nil || *dup.MessageId != *out.Messages[0].MessageId {
			t.Errorf("dedup after restart: %v", err)
		}
	})
}
