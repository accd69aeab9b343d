package sns

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

// FunctionInvoker invokes Lambda functions for lambda subscriptions. Lambda
// implements it; the server wires it with SetFunctionInvoker.
type FunctionInvoker interface {
	// InvokeAsync queues an asynchronous (Event) invocation of functionARN
	// in account and region with payload. It MUST return once the
	// invocation is accepted, and an error when the function does not
	// exist or refuses the event.
	InvokeAsync(ctx context.Context, account, region, functionARN string, payload []byte) error
}

// SetFunctionInvoker sets (or, with nil, clears) what delivers to lambda
// subscriptions; without one, lambda deliveries are only recorded (see
// Deliveries). It is safe to call while the service runs.
func (s *Service) SetFunctionInvoker(f FunctionInvoker) {
	if f == nil {
		s.invoker.Store(nil)
		return
	}
	s.invoker.Store(&invokerBox{f})
}

type invokerBox struct{ FunctionInvoker }

// WithFunctionInvoker is SetFunctionInvoker as an option.
func WithFunctionInvoker(f FunctionInvoker) Option {
	return func(s *Service) { s.SetFunctionInvoker(f) }
}

// retryPolicy is a delivery policy's healthyRetryPolicy.
type retryPolicy struct {
	MinDelayTarget     int    `json:"minDelayTarget"`
	MaxDelayTarget     int    `json:"maxDelayTarget"`
	NumRetries         int    `json:"numRetries"`
	NumNoDelayRetries  int    `json:"numNoDelayRetries"`
	NumMinDelayRetries int    `json:"numMinDelayRetries"`
	NumMaxDelayRetries int    `json:"numMaxDelayRetries"`
	BackoffFunction    string `json:"backoffFunction"`
}

// defaultHTTPPolicy is SNS's default for HTTP/S endpoints: three retries
// twenty seconds apart.
var defaultHTTPPolicy = retryPolicy{MinDelayTarget: 20, MaxDelayTarget: 20, NumRetries: 3, BackoffFunction: "linear"}

// managedPolicy is what Overcast applies to Lambda deliveries: AWS's
// immediate and pre-backoff phases (three retries at once, two a second
// apart), without the days-long tail.
var managedPolicy = retryPolicy{MinDelayTarget: 1, MaxDelayTarget: 1, NumRetries: 5, NumNoDelayRetries: 3, NumMinDelayRetries: 2, BackoffFunction: "linear"}

var backoffFunctions = map[string]bool{"linear": true, "arithmetic": true, "geometric": true, "exponential": true}

// validate checks a retry policy as SNS does.
func (p *retryPolicy) validate() error {
	switch {
	case p.NumRetries < 0 || p.NumRetries > 100:
		return fmt.Errorf("healthyRetryPolicy: numRetries must be between 0 and 100")
	case p.MinDelayTarget < 1 || p.MinDelayTarget > p.MaxDelayTarget:
		return fmt.Errorf("healthyRetryPolicy: minDelayTarget must be between 1 and maxDelayTarget")
	case p.MaxDelayTarget > 3600:
		return fmt.Errorf("healthyRetryPolicy: maxDelayTarget must be at most 3600")
	case p.NumNoDelayRetries < 0 || p.NumMinDelayRetries < 0 || p.NumMaxDelayRetries < 0:
		return fmt.Errorf("healthyRetryPolicy: retry counts must not be negative")
	case p.NumNoDelayRetries+p.NumMinDelayRetries+p.NumMaxDelayRetries > p.NumRetries:
		return fmt.Errorf("healthyRetryPolicy: numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must not exceed numRetries")
	case p.BackoffFunction != "" && !backoffFunctions[p.BackoffFunction]:
		return fmt.Errorf("healthyRetryPolicy: backoffFunction must be one of arithmetic, exponential, geometric, linear")
	}
	return nil
}

// delay is the wait before retry i (1-based): the no-delay phase, the
// minimum-delay phase, the backoff phase from minDelayTarget to
// maxDelayTarget shaped by backoffFunction, then the maximum-delay phase.
func (p *retryPolicy) delay(i int) time.Duration {
	sec := func(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }
	if i <= p.NumNoDelayRetries {
		return 0
	}
	i -= p.NumNoDelayRetries
	if i <= p.NumMinDelayRetries {
		return sec(float64(p.MinDelayTarget))
	}
	i -= p.NumMinDelayRetries
	backoff := p.NumRetries - p.NumNoDelayRetries - p.NumMinDelayRetries - p.NumMaxDelayRetries
	if i > backoff {
		return sec(float64(p.MaxDelayTarget))
	}
	lo, hi := float64(p.MinDelayTarget), float64(p.MaxDelayTarget)
	x := 1.0
	if backoff > 1 {
		x = float64(i-1) / float64(backoff-1)
	}
	var f float64
	switch p.BackoffFunction {
	case "arithmetic":
		f = x * x
	case "geometric":
		f = x * x * x
	case "exponential":
		f = (math.Pow(2, 10*x) - 1) / (math.Pow(2, 10) - 1)
	default:
		f = x
	}
	return sec(math.Round(lo + (hi-lo)*f))
}

// deliveryPolicyDoc is the JSON of a subscription's DeliveryPolicy, or the
// "http" section of a topic's.
type deliveryPolicyDoc struct {
	HealthyRetryPolicy        *retryPolicy    `json:"healthyRetryPolicy"`
	DefaultHealthyRetryPolicy *retryPolicy    `json:"defaultHealthyRetryPolicy"`
	DisableOverrides          bool            `json:"disableSubscriptionOverrides"`
	ThrottlePolicy            json.RawMessage `json:"throttlePolicy,omitempty"`
	HTTP                      *struct {
		DefaultHealthyRetryPolicy *retryPolicy `json:"defaultHealthyRetryPolicy"`
		DisableOverrides          bool         `json:"disableSubscriptionOverrides"`
	} `json:"http"`
}

// parseRetry reads the retry policy a delivery policy document sets (nil
// when it sets none), filling unset numbers from the default.
func parseRetry(doc string, topic bool) (*retryPolicy, bool, error) {
	if doc == "" {
		return nil, false, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, false, fmt.Errorf("failed to parse JSON")
	}
	pick := func(b json.RawMessage) (*retryPolicy, error) {
		if len(b) == 0 || string(b) == "null" {
			return nil, nil
		}
		p := defaultHTTPPolicy
		p.MinDelayTarget, p.MaxDelayTarget, p.NumRetries = 0, 0, 0
		var have map[string]json.RawMessage
		if err := json.Unmarshal(b, &have); err != nil {
			return nil, fmt.Errorf("healthyRetryPolicy must be an object")
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("healthyRetryPolicy: %v", err)
		}
		if _, ok := have["numRetries"]; !ok {
			p.NumRetries = defaultHTTPPolicy.NumRetries
		}
		if _, ok := have["minDelayTarget"]; !ok {
			p.MinDelayTarget = min(defaultHTTPPolicy.MinDelayTarget, max(p.MaxDelayTarget, 1))
		}
		if _, ok := have["maxDelayTarget"]; !ok {
			p.MaxDelayTarget = max(defaultHTTPPolicy.MaxDelayTarget, p.MinDelayTarget)
		}
		if p.BackoffFunction == "" {
			p.BackoffFunction = "linear"
		}
		return &p, p.validate()
	}
	if topic {
		var sect map[string]json.RawMessage
		if b, ok := raw["http"]; ok {
			if err := json.Unmarshal(b, &sect); err != nil {
				return nil, false, fmt.Errorf("http must be an object")
			}
		}
		var disable bool
		if b, ok := sect["disableSubscriptionOverrides"]; ok {
			json.Unmarshal(b, &disable)
		}
		p, err := pick(sect["defaultHealthyRetryPolicy"])
		return p, disable, err
	}
	p, err := pick(raw["healthyRetryPolicy"])
	return p, false, err
}

// validateDeliveryPolicy checks a DeliveryPolicy attribute.
func validateDeliveryPolicy(doc string, topic bool) error {
	if _, _, err := parseRetry(doc, topic); err != nil {
		return errParamf("Invalid parameter: DeliveryPolicy: %v", err)
	}
	return nil
}

// validateRedrivePolicy checks a subscription's RedrivePolicy.
func validateRedrivePolicy(doc string) error {
	if doc == "" {
		return nil
	}
	var p struct {
		Target string `json:"deadLetterTargetArn"`
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return errParam("Invalid parameter: RedrivePolicy: failed to parse JSON")
	}
	parts := strings.Split(p.Target, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" {
		return errParam("Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn")
	}
	return nil
}

// effectivePolicy is the retry policy for an HTTP/S subscription: its own,
// unless the topic's disables overrides, then the topic's, then the
// default.
func (s *Service) effectivePolicy(t *topic, sub *subscription) retryPolicy {
	t.mu.Lock()
	topicDoc := t.rec.Attrs["DeliveryPolicy"]
	t.mu.Unlock()
	sub.mu.Lock()
	subDoc := sub.rec.Attrs["DeliveryPolicy"]
	sub.mu.Unlock()
	tp, disable, _ := parseRetry(topicDoc, true)
	if !disable {
		if sp, _, _ := parseRetry(subDoc, false); sp != nil {
			return *sp
		}
	}
	if tp != nil {
		return *tp
	}
	return defaultHTTPPolicy
}

// effectivePolicyJSON is the EffectiveDeliveryPolicy attribute.
func effectivePolicyJSON(p retryPolicy) string {
	b, _ := json.Marshal(map[string]any{
		"healthyRetryPolicy": p, "sicklyRetryPolicy": nil, "throttlePolicy": nil, "guaranteed": false,
	})
	return string(b)
}

// redriveTarget is the dead-letter queue of a subscription, or "".
func (sub *subscription) redriveTarget() string {
	sub.mu.Lock()
	doc := sub.rec.Attrs["RedrivePolicy"]
	sub.mu.Unlock()
	if doc == "" {
		return ""
	}
	var p struct {
		Target string `json:"deadLetterTargetArn"`
	}
	json.Unmarshal([]byte(doc), &p)
	return p.Target
}

// failed counts a failed delivery and sends the message to the
// subscription's dead-letter queue, if it has one.
func (s *Service) failed(t *topic, sub *subscription, p *prepared, body string, attrs map[string]service.MessageAttribute, cause error) {
	t.stats.failed.Add(1)
	s.logger.Warn("sns: delivery failed", "subscription", sub.rec.Arn, "err", cause)
	dlq := sub.redriveTarget()
	if dlq == "" || s.queues == nil {
		return
	}
	code, msg := "EndpointError", cause.Error()
	if ae, ok := cause.(*awserr.Error); ok {
		code, msg = ae.Code, ae.Message
	}
	a := make(map[string]service.MessageAttribute, len(attrs)+4)
	for k, v := range attrs {
		a[k] = v
	}
	for k, v := range map[string]string{"ErrorCode": code, "ErrorMessage": msg, "RequestID": newUUID(), "TopicArn": t.rec.Arn} {
		if len(a) < 10 || k == "ErrorCode" {
			a[k] = service.MessageAttribute{DataType: "String", StringValue: v}
		}
	}
	if err := s.queues.SendToQueue(context.Background(), dlq, body, a, p.groupID, p.dedupID); err != nil {
		s.logger.Warn("sns: dead-letter queue refused the message", "subscription", sub.rec.Arn, "queue", dlq, "err", err)
	}
}

// retry runs attempt until it succeeds or the policy's retries run out,
// waiting on the service clock, in a goroutine the service owns. done is
// called with the last error (nil on success) unless the service stops.
func (s *Service) retry(policy retryPolicy, attempt func() (retryable bool, err error), done func(error)) {
	select {
	case <-s.done:
		return
	default:
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var err error
		for i := 0; i <= policy.NumRetries; i++ {
			if i > 0 {
				if d := policy.delay(i); d > 0 {
					t := s.clock.NewTimer(d)
					select {
					case <-t.C():
					case <-s.done:
						t.Stop()
						return
					}
				}
			}
			var retryable bool
			retryable, err = attempt()
			if err == nil || !retryable {
				break
			}
		}
		done(err)
	}()
}

// postHTTP makes one HTTP/S delivery attempt.
func (s *Service) postHTTP(sub *subscription, msgType, id, topicArn, body string, raw bool) (retryable bool, status int, err error) {
	req, err := http.NewRequest(http.MethodPost, sub.rec.Endpoint, strings.NewReader(body))
	if err != nil {
		return false, 0, err
	}
	req.Header.Set("Content-Type", "text/plain; charset=UTF-8")
	req.Header.Set("User-Agent", "Amazon Simple Notification Service Agent")
	req.Header.Set("x-amz-sns-message-type", msgType)
	req.Header.Set("x-amz-sns-message-id", id)
	req.Header.Set("x-amz-sns-topic-arn", topicArn)
	if msgType == "Notification" {
		req.Header.Set("x-amz-sns-subscription-arn", sub.rec.Arn)
	}
	if raw {
		req.Header.Set("x-amz-sns-rawdelivery", "true")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return true, 0, err
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return true, resp.StatusCode, fmt.Errorf("endpoint answered %s", resp.Status)
	}
	if resp.StatusCode >= 300 {
		// Client errors are not retried.
		return false, resp.StatusCode, fmt.Errorf("endpoint answered %s", resp.Status)
	}
	return false, resp.StatusCode, nil
}

// lambdaRecord is one record of the event SNS sends to Lambda.
type lambdaRecord struct {
	EventSource          string    `json:"EventSource"`
	EventVersion         string    `json:"EventVersion"`
	EventSubscriptionArn string    `json:"EventSubscriptionArn"`
	Sns                  lambdaSNS `json:"Sns"`
}

type lambdaSNS struct {
	Type              string                    `json:"Type"`
	MessageID         string                    `json:"MessageId"`
	TopicArn          string                    `json:"TopicArn"`
	Subject           *string                   `json:"Subject"`
	Message           string                    `json:"Message"`
	Timestamp         string                    `json:"Timestamp"`
	SignatureVersion  string                    `json:"SignatureVersion"`
	Signature         string                    `json:"Signature"`
	SigningCertURL    string                    `json:"SigningCertUrl"`
	UnsubscribeURL    string                    `json:"UnsubscribeUrl"`
	MessageAttributes map[string]lambdaSNSValue `json:"MessageAttributes"`
}

type lambdaSNSValue struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// lambdaEvent is the event a lambda subscription's function receives.
func (s *Service) lambdaEvent(t *topic, sub *subscription, p *prepared, msg string, now time.Time) []byte {
	ts := now.UTC().Format("2006-01-02T15:04:05.000Z")
	sigVersion := t.rec.Attrs["SignatureVersion"]
	if sigVersion == "" {
		sigVersion = "1"
	}
	signed := [][2]string{{"Message", msg}, {"MessageId", p.id}}
	if p.subject != "" {
		signed = append(signed, [2]string{"Subject", p.subject})
	}
	signed = append(signed, [2]string{"Timestamp", ts}, [2]string{"TopicArn", t.rec.Arn}, [2]string{"Type", "Notification"})
	e := lambdaSNS{
		Type: "Notification", MessageID: p.id, TopicArn: t.rec.Arn, Message: msg, Timestamp: ts,
		SignatureVersion: sigVersion, Signature: s.sign(sigVersion, signed),
		SigningCertURL:    s.base() + certPath,
		UnsubscribeURL:    s.base() + "/?Action=Unsubscribe&Version=2010-03-31&SubscriptionArn=" + sub.rec.Arn,
		MessageAttributes: map[string]lambdaSNSValue{},
	}
	if p.subject != "" {
		e.Subject = &p.subject
	}
	for k, a := range p.attrs {
		v := a.StringValue
		if strings.HasPrefix(a.DataType, "Binary") {
			v = base64.StdEncoding.EncodeToString(a.BinaryValue)
		}
		e.MessageAttributes[k] = lambdaSNSValue{Type: a.DataType, Value: v}
	}
	b, _ := json.Marshal(map[string][]lambdaRecord{"Records": {{
		EventSource: "aws:sns", EventVersion: "1.0", EventSubscriptionArn: sub.rec.Arn, Sns: e,
	}}})
	return b
}

// deliverLambda invokes a lambda subscription's function in the background.
func (s *Service) deliverLambda(t *topic, sub *subscription, p *prepared, msg string, now time.Time) bool {
	box := s.invoker.Load()
	if box == nil {
		return false
	}
	payload := s.lambdaEvent(t, sub, p, msg, now)
	fn := sub.rec.Endpoint
	region, account := t.rec.Region, t.rec.Account
	if parts := strings.SplitN(fn, ":", 7); len(parts) >= 7 && parts[2] == "lambda" {
		region, account = parts[3], parts[4]
	}
	var o outcome
	s.retry(managedPolicy, func() (bool, error) {
		o.attempts++
		err := box.InvokeAsync(context.Background(), account, region, fn, payload)
		o.status = http.StatusAccepted
		if err != nil {
			o.status = http.StatusInternalServerError
			if ae, ok := err.(*awserr.Error); ok {
				o.status = ae.Status
			}
		}
		if ae, ok := err.(*awserr.Error); ok && ae.Status < 500 && ae.Status != http.StatusTooManyRequests {
			return false, err
		}
		return err != nil, err
	}, func(err error) {
		if err != nil {
			o.response = lambdaError(err)
		} else {
			o.response = providerJSON("lambdaRequestId", newUUID())
		}
		s.logStatus(t, sub, p, msg, now, err, o)
		if err != nil {
			s.failed(t, sub, p, string(payload), nil, err)
			return
		}
		t.stats.delivered.Add(1)
	})
	return true
}
