package sns

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// StatusLogger writes delivery status logs. CloudWatch Logs implements it
// (through an adapter the server wires).
type StatusLogger interface {
	// PutEvents appends events to stream in group for account and region.
	// It MUST create the group and the stream when they do not exist.
	PutEvents(ctx context.Context, account, region, group, stream string, events []StatusEvent) error
}

// StatusEvent is one delivery status log event.
type StatusEvent struct {
	Timestamp time.Time
	Message   string // the JSON status document
}

// StatusLoggerFunc adapts a function to StatusLogger.
type StatusLoggerFunc func(ctx context.Context, account, region, group, stream string, events []StatusEvent) error

// PutEvents implements StatusLogger.
func (f StatusLoggerFunc) PutEvents(ctx context.Context, account, region, group, stream string, events []StatusEvent) error {
	return f(ctx, account, region, group, stream, events)
}

// WithStatusLogger sets where delivery status logs go; without one, the
// delivery status logging attributes are stored but nothing is logged.
func WithStatusLogger(l StatusLogger) Option { return func(s *Service) { s.status = l } }

// feedbackPrefix is the topic attribute prefix of a protocol's delivery
// status logging, or "" for protocols SNS does not log.
func feedbackPrefix(protocol string) string {
	switch protocol {
	case "http", "https":
		return "HTTP"
	case "sqs":
		return "SQS"
	case "lambda":
		return "Lambda"
	case "application":
		return "Application"
	case "firehose":
		return "Firehose"
	}
	return ""
}

// outcome is how a delivery ended.
type outcome struct {
	attempts int
	status   int    // the endpoint's status code (0: none)
	response string // providerResponse
}

type statusNotification struct {
	MessageMD5Sum string `json:"messageMD5Sum"`
	MessageID     string `json:"messageId"`
	TopicArn      string `json:"topicArn"`
	Timestamp     string `json:"timestamp"`
}

type statusDelivery struct {
	DeliveryID       string `json:"deliveryId"`
	Destination      string `json:"destination"`
	ProviderResponse string `json:"providerResponse"`
	DwellTimeMs      int64  `json:"dwellTimeMs"`
	Attempts         int    `json:"attempts"`
	StatusCode       int    `json:"statusCode"`
}

type statusDoc struct {
	Notification statusNotification `json:"notification"`
	Delivery     statusDelivery     `json:"delivery"`
	Status       string             `json:"status"`
}

// logStatus writes the delivery status log event of one delivery when the
// topic's attributes ask for it: failures to the .../Failure group when a
// FailureFeedbackRoleArn is set, a sample of successes when a
// SuccessFeedbackRoleArn is set.
func (s *Service) logStatus(t *topic, sub *subscription, p *prepared, msg string, published time.Time, cause error, o outcome) {
	if s.status == nil {
		return
	}
	prefix := feedbackPrefix(sub.rec.Protocol)
	if prefix == "" {
		return
	}
	t.mu.Lock()
	role := t.rec.Attrs[prefix+"FailureFeedbackRoleArn"]
	rate := 100.0
	if cause == nil {
		role = t.rec.Attrs[prefix+"SuccessFeedbackRoleArn"]
		if v, ok := t.rec.Attrs[prefix+"SuccessFeedbackSampleRate"]; ok {
			rate, _ = strconv.ParseFloat(v, 64)
		}
	}
	arn, name, account, region := t.rec.Arn, t.rec.Name, t.rec.Account, t.rec.Region
	t.mu.Unlock()
	if role == "" || rate <= 0 || rate < 100 && rand.Float64()*100 >= rate {
		return
	}
	now := s.clock.Now()
	sum := md5.Sum([]byte(msg))
	doc := statusDoc{
		Notification: statusNotification{
			MessageMD5Sum: hex.EncodeToString(sum[:]), MessageID: p.id, TopicArn: arn,
			Timestamp: published.UTC().Format("2006-01-02 15:04:05.000"),
		},
		Delivery: statusDelivery{
			DeliveryID: newUUID(), Destination: sub.rec.Endpoint, ProviderResponse: o.response,
			DwellTimeMs: now.Sub(published).Milliseconds(), Attempts: max(o.attempts, 1), StatusCode: o.status,
		},
		Status: "SUCCESS",
	}
	group := "sns/" + region + "/" + account + "/" + name
	if cause != nil {
		doc.Status = "FAILURE"
		group += "/Failure"
		if doc.Delivery.ProviderResponse == "" {
			doc.Delivery.ProviderResponse = cause.Error()
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return
	}
	if err := s.status.PutEvents(context.Background(), account, region, group, s.streamName, []StatusEvent{{Timestamp: now, Message: string(b)}}); err != nil {
		s.logger.Warn("sns: delivery status log", "group", group, "err", err)
	}
}

// providerJSON is a providerResponse document.
func providerJSON(kv ...string) string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// sqsOutcome is the status of an SQS delivery that ended with err.
func sqsOutcome(err error) outcome {
	if err == nil {
		return outcome{attempts: 1, status: 200, response: providerJSON("sqsRequestId", newUUID(), "sqsMessageId", "Unrecorded")}
	}
	o := outcome{attempts: 1, status: 400}
	code, msg := "EndpointError", err.Error()
	if ae, ok := err.(*awserr.Error); ok {
		code, msg, o.status = ae.Code, ae.Message, ae.Status
		if ae.QueryCode != "" {
			code = ae.QueryCode
		}
	}
	o.response = providerJSON("ErrorCode", code, "ErrorMessage", msg, "sqsRequestId", "Unrecorded", "sqsMessageId", "Unrecorded")
	return o
}

// lambdaError is the providerResponse of a failed Lambda delivery.
func lambdaError(err error) string {
	code, msg := "ServiceException", err.Error()
	if ae, ok := err.(*awserr.Error); ok {
		code, msg = ae.Code, ae.Message
	}
	return providerJSON("ErrorCode", code, "ErrorMessage", msg, "lambdaRequestId", "Unrecorded")
}

// notification is the recorded form of a delivered notification.
func (s *Service) notification(t *topic, sub *subscription, p *prepared, body string, now time.Time) Delivery {
	subject := p.subject
	if subject == "" && sub.rec.Protocol == "email" {
		subject = "AWS Notification Message"
	}
	return Delivery{
		Time: now, Type: "Notification", Protocol: sub.rec.Protocol, Endpoint: sub.rec.Endpoint,
		TopicArn: t.rec.Arn, SubscriptionArn: sub.rec.Arn, MessageID: p.id, Subject: subject, Body: body,
	}
}
