package sqs_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/overcast-dev/overcast/internal/awstest"
)

func newClient(srv *awstest.Server) *awssqs.Client { return awssqs.NewFromConfig(srv.Config) }

func TestQueueLifecycle(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("sqs"))
	c := newClient(srv)
	url := mustCreate(t, c, "orders", map[string]string{"VisibilityTimeout": "45"})
	host := strings.TrimPrefix(srv.URL(), "http://")
	if url != "http://"+host+"/000000000000/orders" {
		t.Errorf("queue url %q", url)
	}
	// Same attributes: same queue; different ones: QueueNameExists.
	if again := mustCreate(t, c, "orders", map[string]string{"VisibilityTimeout": "45"}); again != url {
		t.Errorf("second create: %q", again)
	}
	_, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("orders"), Attributes: map[string]string{"VisibilityTimeout": "10"}})
	var exists *types.QueueNameExists
	if !errors.As(err, &exists) {
		t.Errorf("conflicting create: %v", err)
	}
	got, err := c.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	if err != nil || *got.QueueUrl != url {
		t.Fatalf("GetQueueUrl: %v %v", got, err)
	}
	_, err = c.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	var dne *types.QueueDoesNotExist
	if !errors.As(err, &dne) || apiCode(err) != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Errorf("missing queue: %v (code %q)", err, apiCode(err))
	}
	attrs, err := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"VisibilityTimeout": "45", "DelaySeconds": "0", "MaximumMessageSize": "262144",
		"MessageRetentionPeriod": "345600", "ReceiveMessageWaitTimeSeconds": "0",
		"QueueArn": "arn:aws:sqs:us-east-1:000000000000:orders", "ApproximateNumberOfMessages": "0",
	}
	for k, v := range want {
		if attrs.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, attrs.Attributes[k], v)
		}
	}
	if _, ok := attrs.Attributes["FifoQueue"]; ok {
		t.Error("standard queue reports FifoQueue")
	}
	// The path form of the URL and a foreign host are accepted.
	if _, err := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: aws.String("http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/orders")}); err != nil {
		t.Errorf("localstack-style url: %v", err)
	}
	if _, err := c.SetQueueAttributes(ctx, &awssqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{"DelaySeconds": "901"}}); apiCode(err) != "InvalidAttributeValue" {
		t.Errorf("DelaySeconds 901: %v", err)
	}
	if _, err := c.SetQueueAttributes(ctx, &awssqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{"Bogus": "1"}}); apiCode(err) != "InvalidAttributeName" {
		t.Errorf("unknown attribute: %v", err)
	}
	if _, err := c.SetQueueAttributes(ctx, &awssqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: map[string]string{"DelaySeconds": "5"}}); err != nil {
		t.Fatal(err)
	}
	attrs, _ = c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"DelaySeconds"}})
	if len(attrs.Attributes) != 1 || attrs.Attributes["DelaySeconds"] != "5" {
		t.Errorf("after set: %v", attrs.Attributes)
	}

	// Tags.
	if _, err := c.TagQueue(ctx, &awssqs.TagQueueInput{QueueUrl: &url, Tags: map[string]string{"team": "a", "env": "dev"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagQueue(ctx, &awssqs.UntagQueueInput{QueueUrl: &url, TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListQueueTags(ctx, &awssqs.ListQueueTagsInput{QueueUrl: &url})
	if err != nil || len(tags.Tags) != 1 || tags.Tags["team"] != "a" {
		t.Errorf("tags %v %v", tags, err)
	}

	// Bad names.
	for _, n := range []string{"bad name", strings.Repeat("a", 81), "x.fifo"} {
		if _, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(n)}); apiCode(err) != "InvalidParameterValue" {
			t.Errorf("create %q: %v", n, err)
		}
	}

	if _, err := c.DeleteQueue(ctx, &awssqs.DeleteQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String("orders")}); !errors.As(err, &dne) {
		t.Errorf("after delete: %v", err)
	}
}

func TestListQueuesPaging(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("sqs"))
	c := newClient(srv)
	for i := 0; i < 7; i++ {
		mustCreate(t, c, fmt.Sprintf("app-%d", i), nil)
	}
	mustCreate(t, c, "other", nil)
	var all []string
	var token *string
	for pages := 0; ; pages++ {
		out, err := c.ListQueues(ctx, &awssqs.ListQueuesInput{QueueNamePrefix: aws.String("app-"), MaxResults: aws.Int32(3), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out.QueueUrls...)
		if out.NextToken == nil {
			break
		}
		if pages > 5 {
			t.Fatal("too many pages")
		}
		token = out.NextToken
	}
	if len(all) != 7 || !strings.HasSuffix(all[0], "/app-0") || !strings.HasSuffix(all[6], "/app-6") {
		t.Errorf("paged list: %v", all)
	}
	out, err := c.ListQueues(ctx, &awssqs.ListQueuesInput{})
	if err != nil || len(out.QueueUrls) != 8 || out.NextToken != nil {
		t.Errorf("full list: %v %v", out, err)
	}
	if _, err := c.ListQueues(ctx, &awssqs.ListQueuesInput{MaxResults: aws.Int32(1001)}); apiCode(err) != "InvalidParameterValue" {
		t.Errorf("MaxResults 1001: %v", err)
	}
}

func TestSendReceiveDelete(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("sqs"))
	c := newClient(srv)
	url := mustCreate(t, c, "work", nil)
	// The SDK verifies MD5OfMessageBody and MD5OfMessageAttributes.
	sent, err := c.SendMessage(ctx, &awssqs.SendMessageInput{
		QueueUrl: &url, MessageBody: aws.String("hello ☃"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"color":  {DataType: aws.String("String"), StringValue: aws.String("blue")},
			"n":      {DataType: aws.String("Number"), StringValue: aws.String("42")},
			"bin":    {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2}},
			"custom": {DataType: aws.String("String.label"), StringValue: aws.String("x")},
		},
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String("Root=1-5759e988-bd862e3fe1be46a994272793")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if *sent.MD5OfMessageBody != "c8b4b2bb8cf23ed0a0fa6e5d2e0fa9d7" && len(*sent.MD5OfMessageBody) != 32 {
		t.Errorf("md5 %s", *sent.MD5OfMessageBody)
	}
	out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
		QueueUrl: &url, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("got %d messages", len(out.Messages))
	}
	m := out.Messages[0]
	if *m.Body != "hello ☃" || *m.MessageId != *sent.MessageId || len(m.MessageAttributes) != 4 {
		t.Errorf("message %+v", m)
	}
	if string(m.MessageAttributes["bin"].BinaryValue) != "\x00\x01\x02" {
		t.Errorf("binary attribute %v", m.MessageAttributes["bin"])
	}
	if m.Attributes["ApproximateReceiveCount"] != "1" || m.Attributes["AWSTraceHeader"] == "" || m.Attributes["SentTimestamp"] == "" {
		t.Errorf("system attributes %v", m.Attributes)
	}
	// Invisible now.
	again, _ := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url})
	if len(again.Messages) != 0 {
		t.Errorf("received an in-flight message")
	}
	attrs, _ := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"All"}})
	if attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "1" || attrs.Attributes["ApproximateNumberOfMessages"] != "0" {
		t.Errorf("counts %v", attrs.Attributes)
	}
	// Back to visible with ChangeMessageVisibility 0.
	if _, err := c.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	again, _ = c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, MessageSystemAttributeNames: []types.MessageSystemAttributeName{"ApproximateReceiveCount"}})
	if len(again.Messages) != 1 || again.Messages[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("re-receive: %+v", again.Messages)
	}
	if _, err := c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: again.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: aws.String("garbage")}); apiCode(err) != "ReceiptHandleIsInvalid" {
		t.Errorf("bad handle: %v", err)
	}
	if _, err := c.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: again.Messages[0].ReceiptHandle, VisibilityTimeout: 5}); apiCode(err) != "InvalidParameterValue" {
		t.Errorf("visibility of a deleted message: %v", err)
	}
	attrs, _ = c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" || attrs.Attributes["ApproximateNumberOfMessages"] != "0" {
		t.Errorf("counts after delete %v", attrs.Attributes)
	}
}

func TestSendValidation(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("sqs"))
	c := newClient(srv)
	url := mustCreate(t, c, "v", nil)
	cases := []struct {
		name string
		in   awssqs.SendMessageInput
		code string
	}{
		{"too large", awssqs.SendMessageInput{MessageBody: aws.String(strings.Repeat("x", 262145))}, "InvalidParameterValue"},
		{"attrs count toward size", awssqs.SendMessageInput{MessageBody: aws.String(strings.Repeat("x", 262140)), MessageAttributes: map[string]types.MessageAttributeValue{"a": {DataType: aws.String("String"), StringValue: aws.String("long")}}}, "InvalidParameterValue"},
		{"bad char", awssqs.SendMessageInput{MessageBody: aws.String("a\x00b")}, "InvalidMessageContents"},
		{"delay", awssqs.SendMessageInput{MessageBody: aws.String("x"), DelaySeconds: 901}, "InvalidParameterValue"},
		{"bad number", awssqs.SendMessageInput{MessageBody: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{"n": {DataType: aws.String("Number"), StringValue: aws.String("abc")}}}, "InvalidParameterValue"},
		{"bad type", awssqs.SendMessageInput{MessageBody: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{"n": {DataType: aws.String("Blob"), StringValue: aws.String("abc")}}}, "InvalidParameterValue"},
		{"reserved name", awssqs.SendMessageInput{MessageBody: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{"AWS.x": {DataType: aws.String("String"), StringValue: aws.String("abc")}}}, "InvalidParameterValue"},
		{"dedup on standard", awssqs.SendMessageInput{MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")}, "InvalidParameterValue"},
	}
	for _, tc := range cases {
		in := tc.in
		in.QueueUrl = &url
		if _, err := c.SendMessage(ctx, &in); apiCode(err) != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	// Exactly the limit is accepted.
	if _, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(strings.Repeat("x", 262144))}); err != nil {
		t.Errorf("262144 bytes: %v", err)
	}
	attrs, _ := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"ApproximateNumberOfMessages"}})
	if attrs.Attributes["ApproximateNumberOfMessages"] != "1" {
		t.Errorf("rejected sends changed the queue: %v", attrs.Attributes)
	}
	if _, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(url + "-missing"), MessageBody: aws.String("x")}); apiCode(err) != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Errorf("missing queue: %v", err)
	}
}

func TestBatches(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("sqs"))
	c := newClient(srv)
	url := mustCreate(t, c, "b", nil)
	var entries []types.SendMessageBatchRequestEntry
	for i := 0; i < 10; i++ {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("e", i)), MessageBody: aws.String(fmt.Sprint("body ", i)),
			MessageAttributes: map[string]types.MessageAttributeValue{"i": {DataType: aws.String("Number"), StringValue: aws.String(fmt.Sprint(i))}}})
	}
	entries[3].MessageBody = aws.String("bad\x01")
	out, err := c.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 9 || len(out.Failed) != 1 || *out.Failed[0].Id != "e3" || !out.Failed[0].SenderFault {
		t.Fatalf("batch result %+v", out)
	}
	_, err = c.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: &url, Entries: append(entries, types.SendMessageBatchRequestEntry{Id: aws.String("x"), MessageBody: aws.String("x")})})
	var tooMany *types.TooManyEntriesInBatchRequest
	if !errors.As(err, &tooMany) {
		t.Errorf("11 entries: %v", err)
	}
	_, err = c.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{{Id: aws.String("a"), MessageBody: aws.String("1")}, {Id: aws.String("a"), MessageBody: aws.String("2")}}})
	var dup *types.BatchEntryIdsNotDistinct
	if !errors.As(err, &dup) {
		t.Errorf("repeated ids: %v", err)
	}
	_, err = c.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{{Id: aws.String("a"), MessageBody: aws.String(strings.Repeat("x", 200000))}, {Id: aws.String("b"), MessageBody: aws.String(strings.Repeat("x", 200000))}}})
	var tooLong *types.BatchRequestTooLong
	if !errors.As(err, &tooLong) {
		t.Errorf("too long: %v", err)
	}

	var handles []types.DeleteMessageBatchRequestEntry
	var vis []types.ChangeMessageVisibilityBatchRequestEntry
	for len(handles) < 9 {
		r, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"i"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Messages) == 0 {
			t.Fatalf("only %d messages received", len(handles))
		}
		for _, m := range r.Messages {
			id := aws.String(fmt.Sprint("d", len(handles)))
			handles = append(handles, types.DeleteMessageBatchRequestEntry{Id: id, ReceiptHandle: m.ReceiptHandle})
			vis = append(vis, types.ChangeMessageVisibilityBatchRequestEntry{Id: id, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 100})
		}
	}
	cv, err := c.ChangeMessageVisibilityBatch(ctx, &awssqs.ChangeMessageVisibilityBatchInput{QueueUrl: &url, Entries: append(vis[:2:2], types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String("bad"), ReceiptHandle: aws.String("nope"), VisibilityTimeout: 1})})
	if err != nil || len(cv.Successful) != 2 || len(cv.Failed) != 1 || *cv.Failed[0].Code != "ReceiptHandleIsInvalid" {
		t.Errorf("visibility batch %+v %v", cv, err)
	}
	handles = append(handles, types.DeleteMessageBatchRequestEntry{Id: aws.String("bad"), ReceiptHandle: aws.String("nope")})
	del, err := c.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: handles[:10]})
	if err != nil || len(del.Successful) != 9 || len(del.Failed) != 1 {
		t.Errorf("delete batch %+v %v", del, err)
	}
	attrs, _ := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"All"}})
	if attrs.Attributes["ApproximateNumberOfMessages"] != "0" || attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Errorf("counts %v", attrs.Attributes)
	}
}

func TestPurge(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("sqs"))
	c := newClient(srv)
	url := mustCreate(t, c, "p", nil)
	for i := 0; i < 5; i++ {
		c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x")})
	}
	if _, err := c.PurgeQueue(ctx, &awssqs.PurgeQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PurgeQueue(ctx, &awssqs.PurgeQueueInput{QueueUrl: &url})
	var inProgress *types.PurgeQueueInProgress
	if !errors.As(err, &inProgress) {
		t.Errorf("second purge: %v", err)
	}
	r, _ := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10})
	if len(r.Messages) != 0 {
		t.Errorf("%d messages after purge", len(r.Messages))
	}
}
