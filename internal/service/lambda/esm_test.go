package lambda_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/overcast-dev/overcast/internal/awstest"
)

// TestSQSEventSource: messages sent to a queue are delivered to the
// function in batches; with ReportBatchItemFailures the ones it reports stay
// in the queue and the others are deleted.
func TestSQSEventSource(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("lambda", "sqs"))
	c := awslambda.NewFromConfig(srv.Config)
	q := sqs.NewFromConfig(srv.Config)
	ctx := context.Background()
	cq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("work"), Attributes: map[string]string{"VisibilityTimeout": "300"}})
	if err != nil {
		t.Fatal(err)
	}
	queueARN := "arn:aws:sqs:us-east-1:000000000000:work"
	createGo(t, c, "worker", nil)
	m, err := c.CreateEventSourceMapping(ctx, &awslambda.CreateEventSourceMappingInput{FunctionName: aws.String("worker"), EventSourceArn: aws.String(queueARN),
		BatchSize: aws.Int32(10), FunctionResponseTypes: nil})
	if err != nil {
		t.Fatal(err)
	}
	if *m.State != "Creating" || *m.BatchSize != 10 || *m.FunctionArn != "arn:aws:lambda:us-east-1:000000000000:function:worker" {
		t.Fatalf("mapping %+v", m)
	}
	if _, err := c.UpdateEventSourceMapping(ctx, &awslambda.UpdateEventSourceMappingInput{UUID: m.UUID,
		FunctionResponseTypes: []types.FunctionResponseType{types.FunctionResponseTypeReportBatchItemFailures}}); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"one", "two", "please fail"} {
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: cq.QueueUrl, MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	// The two good messages are deleted; the failed one stays in flight.
	for deadline := time.Now().Add(60 * time.Second); ; {
		a, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: cq.QueueUrl,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			t.Fatal(err)
		}
		visible, inflight := a.Attributes["ApproximateNumberOfMessages"], a.Attributes["ApproximateNumberOfMessagesNotVisible"]
		if visible == "0" && inflight == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue still has %s visible and %s in flight", visible, inflight)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got, err := c.GetEventSourceMapping(ctx, &awslambda.GetEventSourceMappingInput{UUID: m.UUID})
	if err != nil || *got.State != "Enabled" || len(got.FunctionResponseTypes) != 1 {
		t.Fatalf("get mapping: %v %+v", err, got)
	}
	list, err := c.ListEventSourceMappings(ctx, &awslambda.ListEventSourceMappingsInput{FunctionName: aws.String("worker")})
	if err != nil || len(list.EventSourceMappings) != 1 {
		t.Fatalf("list mappings: %v", err)
	}
	if _, err := c.DeleteEventSourceMapping(ctx, &awslambda.DeleteEventSourceMappingInput{UUID: m.UUID}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetEventSourceMapping(ctx, &awslambda.GetEventSourceMappingInput{UUID: m.UUID})
	apiError(t, err, "ResourceNotFoundException")
}
