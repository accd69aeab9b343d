package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/clock"
)

// An alarm on metrics put with a stepped clock goes OK → ALARM → OK, keeps
// that history, and its SNS notifications land in a subscribed SQS queue in
// the shape CloudWatch publishes.
func TestAlarmNotifiesThroughSNSIntoSQS(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Minute).Add(5 * time.Second)
	clk := clock.NewFake(start)
	srv := awstest.Start(t, awstest.WithServices("cloudwatch", "sns", "sqs"), awstest.WithClock(clk))
	ctx := context.Background()
	cwc, snsc, sqsc := cw.NewFromConfig(srv.Config), sns.NewFromConfig(srv.Config), sqs.NewFromConfig(srv.Config)

	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alarms")})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("alarm-inbox")})
	if err != nil {
		t.Fatal(err)
	}
	qa, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qa.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	dims := []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String("orders")}}
	_, err = cwc.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{
		AlarmName: aws.String("backlog"), Namespace: aws.String("App"), MetricName: aws.String("Backlog"), Dimensions: dims,
		Statistic: cwtypes.StatisticMaximum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(2), DatapointsToAlarm: aws.Int32(2),
		Threshold: aws.Float64(100), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		TreatMissingData: aws.String("notBreaching"), AlarmActions: []string{*topic.TopicArn}, OKActions: []string{*topic.TopicArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	state := func() cwtypes.StateValue {
		out, err := cwc.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{AlarmNames: []string{"backlog"}})
		if err != nil || len(out.MetricAlarms) != 1 {
			t.Fatalf("describe: %v", err)
		}
		return out.MetricAlarms[0].StateValue
	}
	put := func(v float64) {
		t.Helper()
		_, err := cwc.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{
			{MetricName: aws.String("Backlog"), Dimensions: dims, Value: aws.Float64(v), Timestamp: aws.Time(clk.Now())}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// advanceUntil steps the clock a second at a time (at most limit) until
	// the alarm reaches want, letting the evaluation loop run in between.
	advanceUntil := func(want cwtypes.StateValue, limit time.Duration) {
		t.Helper()
		for stepped := time.Duration(0); state() != want; stepped += time.Second {
			if stepped > limit {
				t.Fatalf("alarm is %s after %s, want %s", state(), stepped, want)
			}
			clk.Advance(time.Second)
			waitBriefly(t, func() bool { return state() == want })
		}
	}
	// receive waits for the next notification in the queue.
	receive := func() (subject string, alarm map[string]any) {
		t.Helper()
		// Alarm actions run after the state change is stored: poll (the
		// queue's long polling would wait on the stepped clock).
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) == 0 {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			m := out.Messages[0]
			if _, err := sqsc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
			var env struct{ Type, Subject, Message, TopicArn, Signature string }
			if err := json.Unmarshal([]byte(*m.Body), &env); err != nil {
				t.Fatalf("envelope %s: %v", *m.Body, err)
			}
			if env.Type != "Notification" || env.TopicArn != *topic.TopicArn || env.Signature == "" {
				t.Fatalf("envelope %+v", env)
			}
			if err := json.Unmarshal([]byte(env.Message), &alarm); err != nil {
				t.Fatalf("alarm message %s: %v", env.Message, err)
			}
			return env.Subject, alarm
		}
		t.Fatal("no notification arrived")
		return "", nil
	}

	advanceUntil(cwtypes.StateValueOk, 2*time.Minute)
	if subj, msg := receive(); msg["NewStateValue"] != "OK" || msg["OldStateValue"] != "INSUFFICIENT_DATA" || subj == "" {
		t.Fatalf("first notification %q %v", subj, msg)
	}
	put(150)
	clk.Advance(time.Minute)
	put(180)
	advanceUntil(cwtypes.StateValueAlarm, 3*time.Minute)
	subj, msg := receive()
	if msg["AlarmName"] != "backlog" || msg["NewStateValue"] != "ALARM" || msg["OldStateValue"] != "OK" ||
		msg["AlarmArn"] != "arn:aws:cloudwatch:us-east-1:000000000000:alarm:backlog" {
		t.Errorf("ALARM notification %v", msg)
	}
	if want := `ALARM: "backlog" in US East (N. Virginia)`; subj != want {
		t.Errorf("subject %q, want %q", subj, want)
	}
	put(5)
	advanceUntil(cwtypes.StateValueOk, 3*time.Minute)
	if _, msg := receive(); msg["NewStateValue"] != "OK" || msg["OldStateValue"] != "ALARM" {
		t.Errorf("recovery notification %v", msg)
	}
	hist, err := cwc.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{AlarmName: aws.String("backlog"),
		HistoryItemType: cwtypes.HistoryItemTypeStateUpdate, ScanBy: cwtypes.ScanByTimestampAscending})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hist.AlarmHistoryItems {
		got = append(got, *h.HistorySummary)
	}
	want := []string{"Alarm updated from INSUFFICIENT_DATA to OK", "Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"}
	if len(got) != len(want) {
		t.Fatalf("history %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("history[%d] = %q, want %q", i, got[i], want[i])
		}
	}
}

// waitBriefly polls cond a bounded number of times, yielding between tries,
// so that loops woken by a clock step can run before the next step.
func waitBriefly(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 20 && !cond(); i++ {
		time.Sleep(time.Millisecond)
	}
}
