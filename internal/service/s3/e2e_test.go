package s3_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/overcast-dev/overcast/internal/awstest"
)

// TestNotificationToSQS runs the whole server: S3 events land in an SQS
// queue in AWS's event shape.
func TestNotificationToSQS(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("s3", "sqs"))
	c := s3.NewFromConfig(srv.Config, func(o *s3.Options) { o.UsePathStyle = true })
	q := sqs.NewFromConfig(srv.Config)
	cq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: cq.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	arn := attrs.Attributes["QueueArn"]
	mustBucket(t, c, "evt")
	if _, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("evt"),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{QueueArn: aws.String(arn), Events: []types.Event{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("evt"),
		NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{QueueArn: aws.String(arn + "-missing"), Events: []types.Event{"s3:ObjectCreated:*"}}}}})
	if apiCode(err) != "InvalidArgument" {
		t.Errorf("missing queue: %v", err)
	}
	put(t, c, "evt", "photos/cat.jpg", "meow")
	c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("evt"), Key: aws.String("photos/cat.jpg")})
	var names []string
	for i := 0; i < 10 && len(names) < 3; i++ {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: cq.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var ev struct {
				Event   string
				Records []struct {
					EventName string `json:"eventName"`
					S3        struct {
						Bucket struct{ Name string } `json:"bucket"`
						Object struct {
							Key  string `json:"key"`
							Size int64  `json:"size"`
						} `json:"object"`
					} `json:"s3"`
				}
			}
			if err := json.Unmarshal([]byte(*m.Body), &ev); err != nil {
				t.Fatalf("body %s: %v", *m.Body, err)
			}
			if ev.Event != "" {
				names = append(names, ev.Event)
			}
			for _, r := range ev.Records {
				names = append(names, r.EventName+" "+r.S3.Bucket.Name+"/"+r.S3.Object.Key)
			}
		}
	}
	want := "s3:TestEvent|ObjectCreated:Put evt/photos/cat.jpg|ObjectRemoved:Delete evt/photos/cat.jpg"
	if got := strings.Join(names, "|"); got != want {
		t.Errorf("events %s, want %s", got, want)
	}
}

// TestNotificationToSNS: an S3 event published to a topic reaches the
// topic's SQS subscriber inside SNS's envelope.
func TestNotificationToSNS(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("s3", "sqs", "sns"))
	c := s3.NewFromConfig(srv.Config, func(o *s3.Options) { o.UsePathStyle = true })
	q := sqs.NewFromConfig(srv.Config)
	n := sns.NewFromConfig(srv.Config)
	cq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("fanout")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: cq.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	topic, err := n.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("s3-events")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"]),
		Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		t.Fatal(err)
	}
	mustBucket(t, c, "topic-evt")
	if _, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("topic-evt"),
		NotificationConfiguration: &types.NotificationConfiguration{TopicConfigurations: []types.TopicConfiguration{{TopicArn: topic.TopicArn, Events: []types.Event{"s3:ObjectCreated:*"},
			Filter: &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{FilterRules: []types.FilterRule{{Name: types.FilterRuleNameSuffix, Value: aws.String(".csv")}}}}}}}}); err != nil {
		t.Fatal(err)
	}
	put(t, c, "topic-evt", "skip.txt", "x")
	put(t, c, "topic-evt", "data/report.csv", "a,b")
	var got []string
	for i := 0; i < 10 && len(got) < 2; i++ {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: cq.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var ev struct {
				Event   string
				Records []struct {
					EventName string `json:"eventName"`
					S3        struct {
						Object struct {
							Key string `json:"key"`
						} `json:"object"`
					} `json:"s3"`
				}
			}
			json.Unmarshal([]byte(*m.Body), &ev)
			if ev.Event != "" {
				got = append(got, ev.Event)
			}
			for _, r := range ev.Records {
				got = append(got, r.EventName+" "+r.S3.Object.Key)
			}
		}
	}
	if want := "s3:TestEvent|ObjectCreated:Put data/report.csv"; strings.Join(got, "|") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}
