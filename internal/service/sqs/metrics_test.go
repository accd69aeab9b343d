package sqs_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/clock"
)

// The AWS/SQS metrics reach CloudWatch once a minute of the server's clock.
func TestMetricsInCloudWatch(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC))
	srv := awstest.Start(t, awstest.WithServices("sqs", "cloudwatch"), awstest.WithClock(clk))
	c := newClient(srv)
	cw := cloudwatch.NewFromConfig(srv.Config)
	url := mustCreate(t, c, "metered", map[string]string{"VisibilityTimeout": "600"})
	for _, body := range []string{"a", "bbb", "ccccc"} {
		if _, err := c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 2})
	if err != nil || len(got.Messages) != 2 {
		t.Fatalf("receive: %v %v", got, err)
	}
	if _, err := c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: got.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	empty := mustCreate(t, c, "idle", nil)
	c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &empty})

	stat := func(queue, name string, s cwtypes.Statistic) (float64, bool) {
		out, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
			Namespace: aws.String("AWS/SQS"), MetricName: aws.String(name),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String(queue)}},
			StartTime:  aws.Time(clk.Now().Add(-10 * time.Minute)), EndTime: aws.Time(clk.Now().Add(time.Minute)),
			Period: aws.Int32(60), Statistics: []cwtypes.Statistic{s},
		})
		if err != nil {
			t.Fatalf("GetMetricStatistics %s: %v", name, err)
		}
		total, found := 0.0, false
		for _, p := range out.Datapoints {
			found = true
			switch s {
			case cwtypes.StatisticSum:
				total += *p.Sum
			case cwtypes.StatisticMaximum:
				total = max(total, *p.Maximum)
			case cwtypes.StatisticSampleCount:
				total += *p.SampleCount
			}
		}
		return total, found
	}
	// Nothing is published before the minute is up.
	if _, found := stat("metered", "NumberOfMessagesSent", cwtypes.StatisticSum); found {
		t.Fatal("published before the period ended")
	}
	clk.Advance(time.Minute)
	eventually(t, "metrics published", func() bool {
		_, found := stat("idle", "NumberOfEmptyReceives", cwtypes.StatisticSum)
		return found
	})
	want := []struct {
		queue, name string
		stat        cwtypes.Statistic
		v           float64
	}{
		{"metered", "NumberOfMessagesSent", cwtypes.StatisticSum, 3},
		{"metered", "NumberOfMessagesReceived", cwtypes.StatisticSum, 2},
		{"metered", "NumberOfMessagesDeleted", cwtypes.StatisticSum, 1},
		{"metered", "NumberOfEmptyReceives", cwtypes.StatisticSum, 0},
		{"metered", "ApproximateNumberOfMessagesVisible", cwtypes.StatisticMaximum, 1},
		{"metered", "ApproximateNumberOfMessagesNotVisible", cwtypes.StatisticMaximum, 1},
		{"metered", "ApproximateNumberOfMessagesDelayed", cwtypes.StatisticMaximum, 0},
		{"metered", "ApproximateAgeOfOldestMessage", cwtypes.StatisticMaximum, 60},
		{"metered", "SentMessageSize", cwtypes.StatisticSum, 9},
		{"metered", "SentMessageSize", cwtypes.StatisticMaximum, 5},
		{"metered", "SentMessageSize", cwtypes.StatisticSampleCount, 3},
		{"idle", "NumberOfEmptyReceives", cwtypes.StatisticSum, 1},
	}
	for _, w := range want {
		if v, found := stat(w.queue, w.name, w.stat); !found || v != w.v {
			t.Errorf("%s %s %s = %v (found %v), want %v", w.queue, w.name, w.stat, v, found, w.v)
		}
	}
}
