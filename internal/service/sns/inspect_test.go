package sns_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslogs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/service/sns"
)

// deliveries reads /_overcast/sns/deliveries with query q.
func deliveries(t *testing.T, srv *awstest.Server, q string) []sns.Delivery {
	t.Helper()
	resp, err := http.Get(srv.URL() + sns.DeliveriesPath + q)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET deliveries: %s", resp.Status)
	}
	var out []sns.Delivery
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEmailAndSMSDeliveriesInspectable(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("sns"))
	ctx := context.Background()
	c := awssns.NewFromConfig(srv.Config)
	topic := *must(c.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("mail")})).TopicArn

	sub, err := c.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("email"), Endpoint: aws.String("ops@example.com")})
	if err != nil || *sub.SubscriptionArn != "pending confirmation" {
		t.Fatalf("subscribe: %v %v", sub, err)
	}
	list := must(c.ListSubscriptionsByTopic(ctx, &awssns.ListSubscriptionsByTopicInput{TopicArn: &topic}))
	if len(list.Subscriptions) != 1 || *list.Subscriptions[0].SubscriptionArn != "PendingConfirmation" {
		t.Fatalf("subscriptions before confirmation: %+v", list.Subscriptions)
	}
	// Nothing is delivered before confirmation.
	must(c.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("too early")}))

	got := deliveries(t, srv, "?protocol=email&endpoint=ops@example.com")
	if len(got) != 1 || got[0].Type != "SubscriptionConfirmation" || got[0].Token == "" || got[0].TopicArn != topic {
		t.Fatalf("confirmation: %+v", got)
	}
	var doc struct{ Token, SubscribeURL string }
	if err := json.Unmarshal([]byte(got[0].Body), &doc); err != nil || doc.Token != got[0].Token || !strings.Contains(doc.SubscribeURL, "Token="+doc.Token) {
		t.Fatalf("confirmation body %q: %v", got[0].Body, err)
	}
	conf, err := c.ConfirmSubscription(ctx, &awssns.ConfirmSubscriptionInput{TopicArn: &topic, Token: &doc.Token})
	if err != nil {
		t.Fatal(err)
	}
	attrs := must(c.GetSubscriptionAttributes(ctx, &awssns.GetSubscriptionAttributesInput{SubscriptionArn: conf.SubscriptionArn}))
	if attrs.Attributes["PendingConfirmation"] != "false" {
		t.Errorf("attributes after confirmation: %v", attrs.Attributes)
	}

	pub := must(c.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("disk full"), Subject: aws.String("alert")}))
	got = deliveries(t, srv, "?topic=mail&protocol=email")
	if len(got) != 2 {
		t.Fatalf("deliveries: %+v", got)
	}
	d := got[1]
	if d.Type != "Notification" || d.Body != "disk full" || d.Subject != "alert" || d.MessageID != *pub.MessageId ||
		d.SubscriptionArn != *conf.SubscriptionArn || d.Endpoint != "ops@example.com" {
		t.Errorf("notification: %+v", d)
	}

	// SMS straight to a phone number.
	sms := must(c.Publish(ctx, &awssns.PublishInput{PhoneNumber: aws.String("+15555550100"), Message: aws.String("code 1234")}))
	got = deliveries(t, srv, "?protocol=sms")
	if len(got) != 1 || got[0].Endpoint != "+15555550100" || got[0].Body != "code 1234" || got[0].MessageID != *sms.MessageId {
		t.Fatalf("sms: %+v", got)
	}
	if _, err := c.Publish(ctx, &awssns.PublishInput{PhoneNumber: aws.String("not-a-number"), Message: aws.String("x")}); apiCode(err) != "InvalidParameter" {
		t.Errorf("bad phone number: %v", err)
	}
	if n := len(deliveries(t, srv, "")); n != 3 {
		t.Errorf("%d deliveries, want 3", n)
	}

	// DELETE clears what the filters select, then everything.
	del := func(q string) {
		req, _ := http.NewRequest(http.MethodDelete, srv.URL()+sns.DeliveriesPath+q, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("DELETE: %s", resp.Status)
		}
	}
	del("?protocol=sms")
	if got := deliveries(t, srv, ""); len(got) != 2 || got[0].Protocol != "email" {
		t.Errorf("after deleting sms: %+v", got)
	}
	del("")
	if got := deliveries(t, srv, ""); len(got) != 0 {
		t.Errorf("after clearing: %+v", got)
	}
}

func TestDeliveryStatusLogs(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("sns", "sqs", "logs"))
	ctx := context.Background()
	c := awssns.NewFromConfig(srv.Config)
	q := awssqs.NewFromConfig(srv.Config)
	cwl := awslogs.NewFromConfig(srv.Config)

	topic := *must(c.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("orders")})).TopicArn
	url := *must(q.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("orders")})).QueueUrl
	qarn := must(q.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})).Attributes["QueueArn"]
	must(c.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"), Endpoint: &qarn}))
	// A subscription to a queue that does not exist fails.
	missing := strings.TrimSuffix(qarn, "orders") + "gone"
	must(c.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"), Endpoint: &missing}))

	role := "arn:aws:iam::000000000000:role/sns-logs"
	for _, a := range []string{"SQSSuccessFeedbackRoleArn", "SQSFailureFeedbackRoleArn"} {
		must(c.SetTopicAttributes(ctx, &awssns.SetTopicAttributesInput{TopicArn: &topic, AttributeName: aws.String(a), AttributeValue: &role}))
	}
	pub := must(c.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("order 7")}))

	type statusEvent struct {
		Notification struct{ MessageID, TopicArn, Timestamp string } `json:"notification"`
		Delivery     struct {
			DeliveryID, Destination, ProviderResponse string
			DwellTimeMs                               *int64
			Attempts, StatusCode                      int
		} `json:"delivery"`
		Status string `json:"status"`
	}
	read := func(group string) statusEvent {
		t.Helper()
		out, err := cwl.FilterLogEvents(ctx, &awslogs.FilterLogEventsInput{LogGroupName: &group})
		if err != nil {
			t.Fatalf("FilterLogEvents %s: %v", group, err)
		}
		if len(out.Events) != 1 {
			t.Fatalf("%s: %d events", group, len(out.Events))
		}
		var e statusEvent
		if err := json.Unmarshal([]byte(*out.Events[0].Message), &e); err != nil {
			t.Fatalf("event %q: %v", *out.Events[0].Message, err)
		}
		return e
	}
	ok := read("sns/us-east-1/000000000000/orders")
	if ok.Status != "SUCCESS" || ok.Notification.MessageID != *pub.MessageId || ok.Notification.TopicArn != topic ||
		ok.Delivery.Destination != qarn || ok.Delivery.StatusCode != 200 || ok.Delivery.Attempts != 1 ||
		ok.Delivery.DeliveryID == "" || ok.Delivery.DwellTimeMs == nil || ok.Notification.Timestamp == "" {
		t.Errorf("success event: %+v", ok)
	}
	bad := read("sns/us-east-1/000000000000/orders/Failure")
	if bad.Status != "FAILURE" || bad.Delivery.Destination != missing || bad.Delivery.StatusCode != 400 ||
		!strings.Contains(bad.Delivery.ProviderResponse, "NonExistentQueue") {
		t.Errorf("failure event: %+v", bad)
	}

	// A sample rate of 0 logs no successes.
	must(c.SetTopicAttributes(ctx, &awssns.SetTopicAttributesInput{TopicArn: &topic, AttributeName: aws.String("SQSSuccessFeedbackSampleRate"), AttributeValue: aws.String("0")}))
	must(c.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("order 8")}))
	read("sns/us-east-1/000000000000/orders")
	if _, err := c.SetTopicAttributes(ctx, &awssns.SetTopicAttributesInput{TopicArn: &topic, AttributeName: aws.String("SQSSuccessFeedbackSampleRate"), AttributeValue: aws.String("101")}); apiCode(err) != "InvalidParameter" {
		t.Errorf("sample rate 101: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
