package sns_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/awstest"
)

var ctx = context.Background()

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

type env struct {
	srv *awstest.Server
	sns *awssns.Client
	sqs *awssqs.Client
}

func start(t *testing.T) *env {
	srv := awstest.Start(t, awstest.WithServices("sns"))
	return &env{srv: srv, sns: awssns.NewFromConfig(srv.Config), sqs: awssqs.NewFromConfig(srv.Config)}
}

func (e *env) topic(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := e.sns.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return *out.TopicArn
}

// queue creates a queue and returns its URL and ARN.
func (e *env) queue(t *testing.T, name string, attrs map[string]string) (string, string) {
	t.Helper()
	out, err := e.sqs.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return *out.QueueUrl, "arn:aws:sqs:us-east-1:000000000000:" + name
}

func (e *env) subscribe(t *testing.T, topic, protocol, endpoint string, attrs map[string]string) string {
	t.Helper()
	out, err := e.sns.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: &protocol, Endpoint: &endpoint, Attributes: attrs, ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatal(err)
	}
	return *out.SubscriptionArn
}

func (e *env) drain(t *testing.T, url string) []sqstypes.Message {
	t.Helper()
	var all []sqstypes.Message
	for {
		out, err := e.sqs.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return all
		}
		all = append(all, out.Messages...)
		for _, m := range out.Messages {
			e.sqs.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle})
		}
	}
}

func TestTopicLifecycle(t *testing.T) {
	e := start(t)
	arn := e.topic(t, "alerts", map[string]string{"DisplayName": "Alerts"})
	if arn != "arn:aws:sns:us-east-1:000000000000:alerts" {
		t.Errorf("arn %s", arn)
	}
	if again := e.topic(t, "alerts", map[string]string{"DisplayName": "Alerts"}); again != arn {
		t.Errorf("idempotent create: %s", again)
	}
	if _, err := e.sns.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("alerts"), Attributes: map[string]string{"DisplayName": "Other"}}); apiCode(err) != "InvalidParameter" {
		t.Errorf("conflicting create: %v", err)
	}
	if _, err := e.sns.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("bad name")}); apiCode(err) != "InvalidParameter" {
		t.Errorf("bad name: %v", err)
	}
	if _, err := e.sns.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("x.fifo")}); apiCode(err) != "InvalidParameter" {
		t.Errorf(".fifo without FifoTopic: %v", err)
	}
	a, err := e.sns.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	if a.Attributes["DisplayName"] != "Alerts" || a.Attributes["TopicArn"] != arn || a.Attributes["Owner"] != "000000000000" || a.Attributes["SubscriptionsConfirmed"] != "0" || a.Attributes["Policy"] == "" {
		t.Errorf("attributes %v", a.Attributes)
	}
	if _, err := e.sns.SetTopicAttributes(ctx, &awssns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("Bogus"), AttributeValue: aws.String("1")}); apiCode(err) != "InvalidParameter" {
		t.Errorf("bogus attribute: %v", err)
	}
	if _, err := e.sns.SetTopicAttributes(ctx, &awssns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("DisplayName"), AttributeValue: aws.String("New")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sns.TagResource(ctx, &awssns.TagResourceInput{ResourceArn: &arn, Tags: []snstypes.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}); err != nil {
		t.Fatal(err)
	}
	e.sns.UntagResource(ctx, &awssns.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"a"}})
	tags, err := e.sns.ListTagsForResource(ctx, &awssns.ListTagsForResourceInput{ResourceArn: &arn})
	if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].Key != "b" {
		t.Errorf("tags %+v %v", tags, err)
	}
	for i := 0; i < 105; i++ {
		e.topic(t, fmt.Sprintf("t%03d", i), nil)
	}
	var arns []string
	p := awssns.NewListTopicsPaginator(e.sns, &awssns.ListTopicsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range out.Topics {
			arns = append(arns, *x.TopicArn)
		}
	}
	if len(arns) != 106 {
		t.Errorf("listed %d topics", len(arns))
	}
	if _, err := e.sns.DeleteTopic(ctx, &awssns.DeleteTopicInput{TopicArn: &arn}); err != nil {
		t.Fatal(err)
	}
	_, err = e.sns.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: &arn})
	var nf *snstypes.NotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("after delete: %v", err)
	}
}

type envelope struct {
	Type, MessageId, TopicArn, Subject, Message, Timestamp, SignatureVersion, Signature, SigningCertURL, UnsubscribeURL, SequenceNumber string
	MessageAttributes                                                                                                                   map[string]struct{ Type, Value string }
}

func verifySignature(t *testing.T, env envelope) {
	t.Helper()
	resp, err := http.Get(env.SigningCertURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("certificate at %s: %q", env.SigningCertURL, b)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	s := "Message\n" + env.Message + "\nMessageId\n" + env.MessageId + "\n"
	if env.Subject != "" {
		s += "Subject\n" + env.Subject + "\n"
	}
	s += "Timestamp\n" + env.Timestamp + "\nTopicArn\n" + env.TopicArn + "\nType\n" + env.Type + "\n"
	sig, _ := base64.StdEncoding.DecodeString(env.Signature)
	h := sha1.Sum([]byte(s))
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA1, h[:], sig); err != nil {
		t.Errorf("signature: %v", err)
	}
}

func TestFanOutToQueues(t *testing.T) {
	e := start(t)
	topic := e.topic(t, "orders", nil)
	envURL, envArn := e.queue(t, "enveloped", nil)
	rawURL, rawArn := e.queue(t, "raw", nil)
	sub := e.subscribe(t, topic, "sqs", envArn, nil)
	e.subscribe(t, topic, "sqs", rawArn, map[string]string{"RawMessageDelivery": "true"})
	if again := e.subscribe(t, topic, "sqs", envArn, nil); again != sub {
		t.Errorf("duplicate subscribe: %s vs %s", again, sub)
	}
	out, err := e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String(`order "42" placed`), Subject: aws.String("New order"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String("order")},
			"n":    {DataType: aws.String("Number"), StringValue: aws.String("3")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	got := e.drain(t, envURL)
	if len(got) != 1 {
		t.Fatalf("enveloped queue got %d", len(got))
	}
	var env envelope
	if err := json.Unmarshal([]byte(*got[0].Body), &env); err != nil {
		t.Fatalf("envelope %s: %v", *got[0].Body, err)
	}
	if env.Type != "Notification" || env.MessageId != *out.MessageId || env.TopicArn != topic || env.Message != `order "42" placed` ||
		env.Subject != "New order" || env.SignatureVersion != "1" || env.MessageAttributes["kind"].Value != "order" || env.MessageAttributes["n"].Type != "Number" ||
		!strings.Contains(env.UnsubscribeURL, "Action=Unsubscribe") {
		t.Errorf("envelope %+v", env)
	}
	verifySignature(t, env)
	raw := e.drain(t, rawURL)
	if len(raw) != 1 || *raw[0].Body != `order "42" placed` || *raw[0].MessageAttributes["kind"].StringValue != "order" {
		t.Fatalf("raw delivery %+v", raw)
	}
	subs, err := e.sns.ListSubscriptionsByTopic(ctx, &awssns.ListSubscriptionsByTopicInput{TopicArn: &topic})
	if err != nil || len(subs.Subscriptions) != 2 {
		t.Fatalf("subscriptions %+v %v", subs, err)
	}
	attrs, err := e.sns.GetSubscriptionAttributes(ctx, &awssns.GetSubscriptionAttributesInput{SubscriptionArn: &sub})
	if err != nil || attrs.Attributes["Protocol"] != "sqs" || attrs.Attributes["Endpoint"] != envArn || attrs.Attributes["PendingConfirmation"] != "false" {
		t.Errorf("subscription attributes %v %v", attrs, err)
	}
	if _, err := e.sns.Unsubscribe(ctx, &awssns.UnsubscribeInput{SubscriptionArn: &sub}); err != nil {
		t.Fatal(err)
	}
	e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("second")})
	if got := e.drain(t, envURL); len(got) != 0 {
		t.Errorf("delivered after unsubscribe")
	}
	// MessageStructure=json: the sqs entry, else default.
	e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, MessageStructure: aws.String("json"), Message: aws.String(`{"default":"d","sqs":"for queues"}`)})
	if got := e.drain(t, rawURL); len(got) != 2 || *got[1].Body != "for queues" {
		t.Errorf("structured: %+v", got)
	}
	if _, err := e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, MessageStructure: aws.String("json"), Message: aws.String(`{"sqs":"x"}`)}); apiCode(err) != "InvalidParameter" {
		t.Errorf("no default: %v", err)
	}
	if _, err := e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String(strings.Repeat("x", 262145))}); apiCode(err) != "InvalidParameter" {
		t.Errorf("too long: %v", err)
	}
	if _, err := e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(topic + "-missing"), Message: aws.String("x")}); apiCode(err) != "NotFound" {
		t.Errorf("missing topic: %v", err)
	}
	if _, err := e.sns.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"), Endpoint: aws.String("not-an-arn")}); apiCode(err) != "InvalidParameter" {
		t.Errorf("bad sqs endpoint: %v", err)
	}
}

func TestFilterPolicies(t *testing.T) {
	e := start(t)
	topic := e.topic(t, "events", nil)
	type q struct{ url, policy, scope string }
	queues := map[string]*q{
		"red":     {policy: `{"color":["red"]}`},
		"big":     {policy: `{"size":[{"numeric":[">",10,"<=",100]}]}`},
		"notblue": {policy: `{"color":[{"anything-but":["blue"]}]}`},
		"pre":     {policy: `{"region":[{"prefix":"eu-"}]}`},
		"exists":  {policy: `{"trace":[{"exists":false}]}`},
		"or":      {policy: `{"$or":[{"color":["green"]},{"size":[{"numeric":["=",1]}]}]}`},
		"body":    {policy: `{"order":{"status":["paid"],"total":[{"numeric":[">=",50]}]}}`, scope: "MessageBody"},
	}
	for name, x := range queues {
		url, arn := e.queue(t, "f-"+name, nil)
		x.url = url
		attrs := map[string]string{"FilterPolicy": x.policy, "RawMessageDelivery": "true"}
		if x.scope != "" {
			attrs["FilterPolicyScope"] = x.scope
		}
		e.subscribe(t, topic, "sqs", arn, attrs)
	}
	str := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	numv := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(v)}
	}
	pubs := []struct {
		body  string
		attrs map[string]snstypes.MessageAttributeValue
	}{
		{"m1", map[string]snstypes.MessageAttributeValue{"color": str("red"), "size": numv("50")}},
		{"m2", map[string]snstypes.MessageAttributeValue{"color": str("blue"), "size": numv("5"), "trace": str("t")}},
		{"m3", map[string]snstypes.MessageAttributeValue{"color": str("green"), "region": str("eu-west-1")}},
		{"m4", map[string]snstypes.MessageAttributeValue{"size": numv("1"), "trace": str("t")}},
		{`{"order":{"status":"paid","total":75}}`, nil},
		{`{"order":{"status":"paid","total":20}}`, nil},
	}
	for _, p := range pubs {
		if _, err := e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String(p.body), MessageAttributes: p.attrs}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{
		"red":     "[m1]",
		"big":     "[m1]",
		"notblue": "[m1 m3]",
		"pre":     "[m3]",
		"exists":  `[m1 m3 {"order":{"status":"paid","total":20}} {"order":{"status":"paid","total":75}}]`,
		"or":      "[m3 m4]",
		"body":    `[{"order":{"status":"paid","total":75}}]`,
	}
	for name, x := range queues {
		var bodies []string
		for _, m := range e.drain(t, x.url) {
			bodies = append(bodies, *m.Body)
		}
		sort.Strings(bodies)
		if fmt.Sprint(bodies) != want[name] {
			t.Errorf("%s got %v, want %s", name, bodies, want[name])
		}
	}
	// Invalid policies are refused.
	_, arn := e.queue(t, "f-bad", nil)
	for _, bad := range []string{`{"a":"b"}`, `{"a":[{"numeric":[">",5,">",6]}]}`, `{"a":[{"bogus":1}]}`, `not json`, `{"a":[]}`} {
		_, err := e.sns.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("sqs"), Endpoint: &arn, Attributes: map[string]string{"FilterPolicy": bad}})
		if apiCode(err) != "InvalidParameter" {
			t.Errorf("policy %s: %v", bad, err)
		}
	}
}

func TestFIFOTopicToFIFOQueue(t *testing.T) {
	e := start(t)
	topic := e.topic(t, "t.fifo", map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"})
	url, arn := e.queue(t, "q.fifo", map[string]string{"FifoQueue": "true"})
	e.subscribe(t, topic, "sqs", arn, map[string]string{"RawMessageDelivery": "true"})
	if _, err := e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("x")}); apiCode(err) != "InvalidParameter" {
		t.Errorf("no group id: %v", err)
	}
	a, err := e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("one"), MessageGroupId: aws.String("g")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("one"), MessageGroupId: aws.String("g")})
	e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("two"), MessageGroupId: aws.String("g")})
	if *a.MessageId != *b.MessageId || a.SequenceNumber == nil {
		t.Errorf("dedup: %v %v", *a.MessageId, *b.MessageId)
	}
	got := e.drain(t, url)
	if len(got) != 2 || *got[0].Body != "one" || *got[1].Body != "two" || got[0].Attributes["MessageGroupId"] != "g" {
		t.Errorf("fifo delivery %+v", got)
	}
	batch, err := e.sns.PublishBatch(ctx, &awssns.PublishBatchInput{TopicArn: &topic, PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{
		{Id: aws.String("a"), Message: aws.String("three"), MessageGroupId: aws.String("g")},
		{Id: aws.String("b"), Message: aws.String("four")},
	}})
	if err != nil || len(batch.Successful) != 1 || len(batch.Failed) != 1 || *batch.Failed[0].Id != "b" {
		t.Errorf("batch %+v %v", batch, err)
	}
	if _, err := e.sns.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("email"), Endpoint: aws.String("a@b.c")}); apiCode(err) != "InvalidParameter" {
		t.Errorf("email on fifo topic: %v", err)
	}
}

func TestHTTPSubscription(t *testing.T) {
	e := start(t)
	topic := e.topic(t, "hooks", nil)
	var mu sync.Mutex
	var received []map[string]string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]string
		json.Unmarshal(b, &m)
		if m == nil {
			m = map[string]string{"raw": string(b)}
		}
		m["header-type"] = r.Header.Get("x-amz-sns-message-type")
		mu.Lock()
		received = append(received, m)
		mu.Unlock()
	}))
	defer hook.Close()
	wait := func(n int) []map[string]string {
		var out []map[string]string
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			mu.Lock()
			out = append([]map[string]string(nil), received...)
			mu.Unlock()
			if len(out) >= n {
				return out
			}
			httpSleep()
		}
		t.Fatalf("only %d of %d deliveries", len(out), n)
		return nil
	}
	out, err := e.sns.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: &topic, Protocol: aws.String("http"), Endpoint: aws.String(hook.URL + "/hook")})
	if err != nil || *out.SubscriptionArn != "pending confirmation" {
		t.Fatalf("subscribe %v %v", out, err)
	}
	conf := wait(1)[0]
	if conf["Type"] != "SubscriptionConfirmation" || conf["header-type"] != "SubscriptionConfirmation" || conf["Token"] == "" {
		t.Fatalf("confirmation %v", conf)
	}
	// Unconfirmed subscriptions get nothing.
	e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("early")})
	// Visiting SubscribeURL confirms, as a browser or SDK helper would.
	resp, err := http.Get(conf["SubscribeURL"])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "SubscriptionArn") {
		t.Fatalf("SubscribeURL: %d %s", resp.StatusCode, body)
	}
	e.sns.Publish(ctx, &awssns.PublishInput{TopicArn: &topic, Message: aws.String("hello hook")})
	got := wait(2)
	if got[1]["Type"] != "Notification" || got[1]["Message"] != "hello hook" || got[1]["header-type"] != "Notification" {
		t.Errorf("notification %v", got[1])
	}
	subs, _ := e.sns.ListSubscriptions(ctx, &awssns.ListSubscriptionsInput{})
	if len(subs.Subscriptions) != 1 || !strings.HasPrefix(*subs.Subscriptions[0].SubscriptionArn, topic+":") {
		t.Errorf("subscriptions %+v", subs.Subscriptions)
	}
}
