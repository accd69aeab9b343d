package sns

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

const maxMessageSize = 262144

// publishInput is one message to publish, before validation.
type publishInput struct {
	message, subject, structure string
	attrs                       map[string]service.MessageAttribute
	groupID, dedupID            string
}

func attrsFromInput(v any) map[string]service.MessageAttribute {
	m, _ := v.(map[string]any)
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]service.MessageAttribute, len(m))
	for k, x := range m {
		a, _ := x.(map[string]any)
		b, _ := a["BinaryValue"].([]byte)
		out[k] = service.MessageAttribute{DataType: service.Str(a, "DataType"), StringValue: service.Str(a, "StringValue"), BinaryValue: b}
	}
	return out
}

func inputFrom(in map[string]any) publishInput {
	return publishInput{
		message: service.Str(in, "Message"), subject: service.Str(in, "Subject"),
		structure: service.Str(in, "MessageStructure"), attrs: attrsFromInput(in["MessageAttributes"]),
		groupID: service.Str(in, "MessageGroupId"), dedupID: service.Str(in, "MessageDeduplicationId"),
	}
}

func errValue(format string, args ...any) *awserr.Error {
	return snsErr(http.StatusBadRequest, codeInvalidParameterValue, format, args...)
}

func validateAttributes(attrs map[string]service.MessageAttribute) error {
	if len(attrs) > 10 {
		return errValue("Number of message attributes [%d] exceeds the allowed maximum [10].", len(attrs))
	}
	for n, a := range attrs {
		if n == "" || len(n) > 256 || strings.HasPrefix(strings.ToLower(n), "aws.") || strings.HasPrefix(strings.ToLower(n), "amazon.") {
			return errValue("The message attribute name '%s' is invalid.", n)
		}
		base, _, _ := strings.Cut(a.DataType, ".")
		switch {
		case a.DataType == "String.Array":
			var arr []any
			if json.Unmarshal([]byte(a.StringValue), &arr) != nil {
				return errValue("The message attribute '%s' has an invalid value. The value must be a JSON array.", n)
			}
		case base == "String":
			if a.StringValue == "" {
				return errValue("The message attribute '%s' must contain non-empty message attribute value for message attribute type 'String'.", n)
			}
		case base == "Number":
			if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
				return errValue("Could not cast message attribute '%s' value to number.", n)
			}
		case base == "Binary":
			if len(a.BinaryValue) == 0 {
				return errValue("The message attribute '%s' must contain non-empty message attribute value for message attribute type 'Binary'.", n)
			}
		default:
			return errValue("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", n)
		}
	}
	return nil
}

// prepared is a validated message ready for delivery.
type prepared struct {
	publishInput
	perProtocol map[string]string // MessageStructure=json
	id          string
	seq         uint64
	dup         bool

	// sigs memoises envelope signatures: every subscription of one
	// publish signs the same fields, and an RSA signature is costly.
	sigMu sync.Mutex
	sigs  map[string]string
}

// signature returns the envelope signature of fields, signing once per
// distinct input within this publish.
func (p *prepared) signature(s *Service, sigVersion string, fields [][2]string) string {
	var kb strings.Builder
	kb.WriteString(sigVersion)
	for _, f := range fields {
		kb.WriteByte(0)
		kb.WriteString(f[1])
	}
	key := kb.String()
	p.sigMu.Lock()
	defer p.sigMu.Unlock()
	if sig, ok := p.sigs[key]; ok {
		return sig
	}
	sig := s.sign(sigVersion, fields)
	if p.sigs == nil {
		p.sigs = map[string]string{}
	}
	p.sigs[key] = sig
	return sig
}

func (p *prepared) messageFor(protocol string) string {
	if p.perProtocol == nil {
		return p.message
	}
	if m, ok := p.perProtocol[protocol]; ok {
		return m
	}
	return p.perProtocol["default"]
}

func validatePublish(t *topic, in publishInput) (*prepared, error) {
	if in.message == "" {
		return nil, errParam("Invalid parameter: Empty message")
	}
	size := len(in.message)
	for k, a := range in.attrs {
		size += len(k) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	if size > maxMessageSize {
		return nil, errParam("Invalid parameter: Message too long")
	}
	if len(in.subject) > 100 || strings.ContainsAny(in.subject, "\n\r") {
		return nil, errParam("Invalid parameter: Subject")
	}
	if err := validateAttributes(in.attrs); err != nil {
		return nil, err
	}
	p := &prepared{publishInput: in}
	if in.structure != "" {
		if in.structure != "json" {
			return nil, errParam("Invalid parameter: MessageStructure")
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(in.message), &m); err != nil {
			return nil, errParam("Invalid parameter: Message Structure - JSON message body failed to parse")
		}
		if _, ok := m["default"]; !ok {
			return nil, errParam("Invalid parameter: Message Structure - No default entry in JSON message body")
		}
		p.perProtocol = make(map[string]string, len(m))
		for k, v := range m {
			s, ok := v.(string)
			if !ok {
				return nil, errParam("Invalid parameter: Message Structure - JSON message body failed to parse")
			}
			p.perProtocol[k] = s
		}
	}
	if t.fifo() {
		if in.groupID == "" {
			return nil, errParam("Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
		}
		if in.dedupID == "" {
			if t.rec.Attrs["ContentBasedDeduplication"] != "true" {
				return nil, errParam("Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
			}
			sum := sha256.Sum256([]byte(in.message))
			p.dedupID = hex.EncodeToString(sum[:])
		}
	} else if in.dedupID != "" {
		return nil, errParam("Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
	}
	return p, nil
}

// assign gives p its message id (and, for FIFO topics, sequence number and
// deduplication).
func (s *Service) assign(t *topic, p *prepared) {
	p.id = newUUID()
	if !t.fifo() {
		return
	}
	now := s.clock.Now().UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dedup == nil {
		t.dedup = map[string]dedupEntry{}
	}
	for k, e := range t.dedup {
		if e.expires <= now {
			delete(t.dedup, k)
		}
	}
	key := p.dedupID
	if t.rec.Attrs["FifoThroughputScope"] == "MessageGroup" {
		key = p.groupID + "\x00" + key
	}
	if e, ok := t.dedup[key]; ok {
		p.id, p.seq, p.dup = e.id, e.seq, true
		return
	}
	p.seq = uint64(now)
	if last := s.lastSeq.Load(); p.seq <= last {
		p.seq = last + 1
	}
	s.lastSeq.Store(p.seq)
	t.dedup[key] = dedupEntry{id: p.id, seq: p.seq, expires: now + int64(5*time.Minute)}
}

func (s *Service) publish(r *service.Request) (map[string]any, error) {
	s.noteBase(r)
	arn := service.Str(r.Input, "TopicArn")
	if arn == "" {
		arn = service.Str(r.Input, "TargetArn")
	}
	if arn == "" {
		if phone := service.Str(r.Input, "PhoneNumber"); phone != "" {
			return s.publishSMS(phone, inputFrom(r.Input))
		}
		return nil, errParam("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
	}
	r.Input["TopicArn"] = arn
	t, err := s.topicFor(r, "TopicArn")
	if err != nil {
		return nil, err
	}
	p, err := validatePublish(t, inputFrom(r.Input))
	if err != nil {
		return nil, err
	}
	s.assign(t, p)
	if !p.dup {
		s.fanOut(t, p)
	}
	out := map[string]any{"MessageId": p.id}
	if t.fifo() {
		out["SequenceNumber"] = fmt.Sprintf("%020d", p.seq)
	}
	return out, nil
}

func validBatchID(id string) bool {
	if id == "" || len(id) > 80 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (s *Service) publishBatch(r *service.Request) (map[string]any, error) {
	s.noteBase(r)
	t, err := s.topicFor(r, "TopicArn")
	if err != nil {
		return nil, err
	}
	l, _ := r.Input["PublishBatchRequestEntries"].([]any)
	if len(l) == 0 {
		return nil, snsErr(http.StatusBadRequest, codeEmptyBatch, "The batch request doesn't contain any entries")
	}
	if len(l) > 10 {
		return nil, snsErr(http.StatusBadRequest, codeTooManyEntries, "The batch request contains more entries than permissible")
	}
	seen := map[string]bool{}
	total := 0
	for _, x := range l {
		e, _ := x.(map[string]any)
		id := service.Str(e, "Id")
		if !validBatchID(id) {
			return nil, snsErr(http.StatusBadRequest, codeInvalidBatchEntryID, "The Id of a batch entry in a batch request doesn't abide by the specification")
		}
		if seen[id] {
			return nil, snsErr(http.StatusBadRequest, codeBatchIDsNotDistinct, "Two or more batch entries in the request have the same Id")
		}
		seen[id] = true
		total += len(service.Str(e, "Message"))
	}
	if total > maxMessageSize {
		return nil, snsErr(http.StatusBadRequest, codeBatchTooLong, "The length of all the messages put together is more than the limit")
	}
	ok, failed := []any{}, []any{}
	for _, x := range l {
		e := x.(map[string]any)
		id := service.Str(e, "Id")
		p, err := validatePublish(t, inputFrom(e))
		if err != nil {
			ae := awserr.As(err)
			failed = append(failed, map[string]any{"Id": id, "Code": ae.Code, "Message": ae.Message, "SenderFault": !ae.Receiver})
			continue
		}
		s.assign(t, p)
		if !p.dup {
			s.fanOut(t, p)
		}
		o := map[string]any{"Id": id, "MessageId": p.id}
		if t.fifo() {
			o["SequenceNumber"] = fmt.Sprintf("%020d", p.seq)
		}
		ok = append(ok, o)
	}
	return map[string]any{"Successful": ok, "Failed": failed}, nil
}

// PublishToTopic publishes a message to a topic for other services
// (CloudWatch alarm actions, S3 event notifications). It returns the
// message id, or an *awserr.Error such as NotFound.
func (s *Service) PublishToTopic(ctx context.Context, topicARN, subject, message string, attrs map[string]service.MessageAttribute) (string, error) {
	s.mu.RLock()
	t := s.topics[topicARN]
	s.mu.RUnlock()
	if t == nil {
		return "", errNotFound("Topic")
	}
	in := publishInput{message: message, subject: subject, attrs: attrs}
	if t.fifo() {
		in.groupID = "default"
		if t.rec.Attrs["ContentBasedDeduplication"] != "true" {
			in.dedupID = newUUID()
		}
	}
	p, err := validatePublish(t, in)
	if err != nil {
		return "", err
	}
	s.assign(t, p)
	if !p.dup {
		s.fanOut(t, p)
	}
	return p.id, nil
}

// matches applies sub's filter policy to p; unconfirmed subscriptions get
// nothing (and are not counted as filtered out).
func (sub *subscription) matches(p *prepared) (confirmed, match bool) {
	sub.mu.Lock()
	f, scope, ok := sub.filter, sub.scope_, sub.rec.Confirmed
	sub.mu.Unlock()
	if !ok {
		return false, false
	}
	if f == nil {
		return true, true
	}
	if scope == scopeBody {
		var body map[string]any
		dec := json.NewDecoder(strings.NewReader(p.messageFor(sub.rec.Protocol)))
		dec.UseNumber()
		if dec.Decode(&body) != nil {
			return true, false
		}
		return true, f.matchBody(body)
	}
	return true, f.matchAttributes(p.attrs)
}

// size is what PublishSize measures: the message and its attributes.
func (p *prepared) size() int {
	n := len(p.message)
	for k, a := range p.attrs {
		n += len(k) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	return n
}

// fanOut delivers p to every matching subscription of t: queues at once,
// HTTP endpoints and functions in the background.
func (s *Service) fanOut(t *topic, p *prepared) {
	t.stats.addPublished(p.size())
	now := s.clock.Now()
	s.mu.RLock()
	var targets []*subscription
	for _, sub := range s.subs {
		if sub.rec.TopicArn == t.rec.Arn {
			targets = append(targets, sub)
		}
	}
	s.mu.RUnlock()
	sort.Slice(targets, func(i, j int) bool { return targets[i].rec.Arn < targets[j].rec.Arn })
	for _, sub := range targets {
		confirmed, match := sub.matches(p)
		if !confirmed {
			continue
		}
		if !match {
			t.stats.filtered.Add(1)
			continue
		}
		sub.mu.Lock()
		raw := sub.rec.Attrs["RawMessageDelivery"] == "true"
		sub.mu.Unlock()
		msg := p.messageFor(sub.rec.Protocol)
		switch sub.rec.Protocol {
		case "sqs":
			body, attrs := msg, p.attrs
			if !raw {
				body, attrs = s.envelope(t, sub, p, msg, now), nil
			}
			if s.queues == nil {
				err := errParam("SQS is not running")
				s.failed(t, sub, p, body, attrs, err)
				s.logStatus(t, sub, p, msg, now, err, sqsOutcome(err))
				continue
			}
			if err := s.queues.SendToQueue(context.Background(), sub.rec.Endpoint, body, attrs, p.groupID, p.dedupID); err != nil {
				s.failed(t, sub, p, body, attrs, err)
				s.logStatus(t, sub, p, msg, now, err, sqsOutcome(err))
				continue
			}
			t.stats.delivered.Add(1)
			s.logStatus(t, sub, p, msg, now, nil, sqsOutcome(nil))
		case "http", "https":
			body, attrs := msg, p.attrs
			if !raw {
				body, attrs = s.envelope(t, sub, p, msg, now), nil
			}
			s.postAsync(t, sub, "Notification", p.id, body, raw, func(err error, o outcome) {
				s.logStatus(t, sub, p, msg, now, err, o)
				if err != nil {
					s.failed(t, sub, p, body, attrs, err)
					return
				}
				t.stats.delivered.Add(1)
			})
		case "lambda":
			if s.deliverLambda(t, sub, p, msg, now) {
				continue
			}
			s.record(s.notification(t, sub, p, string(s.lambdaEvent(t, sub, p, msg, now)), now))
			t.stats.delivered.Add(1)
			s.logStatus(t, sub, p, msg, now, nil, outcome{attempts: 1, status: 202, response: providerJSON("lambdaRequestId", "Unrecorded")})
		case "email", "email-json", "sms", "firehose", "application":
			body := msg
			if sub.rec.Protocol == "email-json" {
				body = s.envelope(t, sub, p, msg, now)
			}
			s.record(s.notification(t, sub, p, body, now))
			t.stats.delivered.Add(1)
			s.logStatus(t, sub, p, msg, now, nil, outcome{attempts: 1, status: 200, response: providerJSON("requestId", newUUID())})
		}
	}
}

func (s *Service) noteBase(r *service.Request) {
	if r.HTTP == nil || r.HTTP.Host == "" {
		return
	}
	scheme := "http://"
	if r.HTTP.TLS != nil {
		scheme = "https://"
	}
	if b, _ := s.baseURL.Load().(string); b != scheme+r.HTTP.Host {
		s.baseURL.Store(scheme + r.HTTP.Host)
	}
}

// base is the http://host of the latest API request, for the URLs in
// messages.
func (s *Service) base() string {
	if b, _ := s.baseURL.Load().(string); b != "" {
		return b
	}
	return "http://localhost:4566"
}

// jsonField appends `  "k" : v` (v a JSON-encoded string) as AWS formats it.
func jsonField(b *bytes.Buffer, first bool, k, v string) {
	if !first {
		b.WriteString(",\n")
	}
	b.WriteString("  ")
	kb, _ := json.Marshal(k)
	b.Write(kb)
	b.WriteString(" : ")
	vb, _ := json.Marshal(v)
	b.Write(vb)
}

func (s *Service) sign(sigVersion string, fields [][2]string) string {
	var sb strings.Builder
	for _, f := range fields {
		sb.WriteString(f[0])
		sb.WriteByte('\n')
		sb.WriteString(f[1])
		sb.WriteByte('\n')
	}
	key, err := s.signingKey()
	if err != nil {
		return ""
	}
	var sig []byte
	if sigVersion == "2" {
		h := sha256.Sum256([]byte(sb.String()))
		sig, err = rsa.SignPKCS1v15(nil, key, crypto.SHA256, h[:])
	} else {
		h := sha1.Sum([]byte(sb.String()))
		sig, err = rsa.SignPKCS1v15(nil, key, crypto.SHA1, h[:])
	}
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// envelope is the JSON document SNS delivers to queues and endpoints.
func (s *Service) envelope(t *topic, sub *subscription, p *prepared, msg string, now time.Time) string {
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
	var b bytes.Buffer
	b.WriteString("{\n")
	jsonField(&b, true, "Type", "Notification")
	jsonField(&b, false, "MessageId", p.id)
	if t.fifo() {
		jsonField(&b, false, "SequenceNumber", fmt.Sprintf("%020d", p.seq))
	}
	jsonField(&b, false, "TopicArn", t.rec.Arn)
	if p.subject != "" {
		jsonField(&b, false, "Subject", p.subject)
	}
	jsonField(&b, false, "Message", msg)
	jsonField(&b, false, "Timestamp", ts)
	jsonField(&b, false, "SignatureVersion", sigVersion)
	jsonField(&b, false, "Signature", p.signature(s, sigVersion, signed))
	jsonField(&b, false, "SigningCertURL", s.base()+certPath)
	jsonField(&b, false, "UnsubscribeURL", s.base()+"/?Action=Unsubscribe&Version=2010-03-31&SubscriptionArn="+url.QueryEscape(sub.rec.Arn))
	if len(p.attrs) > 0 {
		names := make([]string, 0, len(p.attrs))
		for k := range p.attrs {
			names = append(names, k)
		}
		sort.Strings(names)
		b.WriteString(",\n  \"MessageAttributes\" : {")
		for i, k := range names {
			a := p.attrs[k]
			if i > 0 {
				b.WriteString(",")
			}
			v := a.StringValue
			if strings.HasPrefix(a.DataType, "Binary") {
				v = base64.StdEncoding.EncodeToString(a.BinaryValue)
			}
			kb, _ := json.Marshal(k)
			tb, _ := json.Marshal(a.DataType)
			vb, _ := json.Marshal(v)
			b.WriteString("\n    ")
			b.Write(kb)
			b.WriteString(" : {\"Type\":")
			b.Write(tb)
			b.WriteString(",\"Value\":")
			b.Write(vb)
			b.WriteString("}")
		}
		b.WriteString("\n  }")
	}
	b.WriteString("\n}")
	return b.String()
}

// sendConfirmation sends (or records) the SubscriptionConfirmation message.
func (s *Service) sendConfirmation(r *service.Request, sub *subscription) {
	s.noteBase(r)
	s.mu.RLock()
	t := s.topics[sub.rec.TopicArn]
	s.mu.RUnlock()
	if t == nil {
		return
	}
	ts := s.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	id := newUUID()
	msg := "You have chosen to subscribe to the topic " + t.rec.Arn + ".\nTo confirm the subscription, visit the SubscribeURL included in this message."
	subURL := s.base() + "/?Action=ConfirmSubscription&Version=2010-03-31&TopicArn=" + url.QueryEscape(t.rec.Arn) + "&Token=" + sub.rec.Token
	sigVersion := t.rec.Attrs["SignatureVersion"]
	if sigVersion == "" {
		sigVersion = "1"
	}
	sig := s.sign(sigVersion, [][2]string{{"Message", msg}, {"MessageId", id}, {"SubscribeURL", subURL}, {"Timestamp", ts}, {"Token", sub.rec.Token}, {"TopicArn", t.rec.Arn}, {"Type", "SubscriptionConfirmation"}})
	var b bytes.Buffer
	b.WriteString("{\n")
	jsonField(&b, true, "Type", "SubscriptionConfirmation")
	jsonField(&b, false, "MessageId", id)
	jsonField(&b, false, "Token", sub.rec.Token)
	jsonField(&b, false, "TopicArn", t.rec.Arn)
	jsonField(&b, false, "Message", msg)
	jsonField(&b, false, "SubscribeURL", subURL)
	jsonField(&b, false, "Timestamp", ts)
	jsonField(&b, false, "SignatureVersion", sigVersion)
	jsonField(&b, false, "Signature", sig)
	jsonField(&b, false, "SigningCertURL", s.base()+certPath)
	b.WriteString("\n}")
	switch sub.rec.Protocol {
	case "http", "https":
		s.postAsync(t, sub, "SubscriptionConfirmation", id, b.String(), false, nil)
	default:
		s.record(Delivery{
			Time: s.clock.Now(), Type: "SubscriptionConfirmation", Protocol: sub.rec.Protocol, Endpoint: sub.rec.Endpoint,
			TopicArn: t.rec.Arn, SubscriptionArn: sub.rec.Arn, MessageID: id, Subject: "AWS Notification - Subscription Confirmation",
			Body: b.String(), Token: sub.rec.Token, SubscribeURL: subURL,
		})
	}
}

// postAsync POSTs a message to an HTTP(S) subscription in the background,
// retrying by the effective delivery policy on the service clock; done (if
// set) gets the outcome.
func (s *Service) postAsync(t *topic, sub *subscription, msgType, id, body string, raw bool, done func(error, outcome)) {
	policy := s.effectivePolicy(t, sub)
	var o outcome
	s.retry(policy, func() (bool, error) {
		o.attempts++
		retryable, status, err := s.postHTTP(sub, msgType, id, t.rec.Arn, body, raw)
		o.status, o.response = status, ""
		if err != nil {
			o.response = err.Error()
		}
		return retryable, err
	}, func(err error) {
		if done != nil {
			done(err, o)
		} else if err != nil {
			s.logger.Warn("sns: HTTP delivery failed", "subscription", sub.rec.Arn, "err", err)
		}
	})
}
