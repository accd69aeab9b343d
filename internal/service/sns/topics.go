package sns

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

type topicRecord struct {
	Arn                  string            `json:"arn"`
	Name                 string            `json:"name"`
	Account              string            `json:"account"`
	Region               string            `json:"region"`
	Attrs                map[string]string `json:"attrs"`
	Tags                 map[string]string `json:"tags,omitempty"`
	DataProtectionPolicy string            `json:"dpp,omitempty"`
}

type topic struct {
	mu  sync.Mutex
	rec topicRecord
	// dedup for FIFO topics: deduplication id -> message id.
	dedup map[string]dedupEntry
	stats topicStats
}

type dedupEntry struct {
	id      string
	seq     uint64
	expires int64
}

func (t *topic) scope() storage.Scope {
	return storage.Scope{Service: "sns", Account: t.rec.Account, Region: t.rec.Region}
}

func (t *topic) fifo() bool { return t.rec.Attrs["FifoTopic"] == "true" }

var settableTopicAttrs = map[string]bool{
	"DisplayName": true, "Policy": true, "DeliveryPolicy": true, "KmsMasterKeyId": true,
	"SignatureVersion": true, "TracingConfig": true, "ContentBasedDeduplication": true,
	"FifoTopic": true, "ArchivePolicy": true, "FifoThroughputScope": true,
	"HTTPSuccessFeedbackRoleArn": true, "HTTPFailureFeedbackRoleArn": true, "HTTPSuccessFeedbackSampleRate": true,
	"SQSSuccessFeedbackRoleArn": true, "SQSFailureFeedbackRoleArn": true, "SQSSuccessFeedbackSampleRate": true,
	"LambdaSuccessFeedbackRoleArn": true, "LambdaFailureFeedbackRoleArn": true, "LambdaSuccessFeedbackSampleRate": true,
	"ApplicationSuccessFeedbackRoleArn": true, "ApplicationFailureFeedbackRoleArn": true, "ApplicationSuccessFeedbackSampleRate": true,
	"FirehoseSuccessFeedbackRoleArn": true, "FirehoseFailureFeedbackRoleArn": true, "FirehoseSuccessFeedbackSampleRate": true,
}

func validateTopicAttr(name, v string, fifo, create bool) (string, error) {
	if !settableTopicAttrs[name] {
		return "", errParamf("Invalid parameter: AttributeName")
	}
	switch name {
	case "FifoTopic":
		if !create {
			return "", errParamf("Invalid parameter: AttributeName")
		}
		b := strings.ToLower(v)
		if b != "true" && b != "false" {
			return "", errParamf("Invalid parameter: FifoTopic Reason: Invalid value [%s] for attribute FifoTopic", v)
		}
		return b, nil
	case "ContentBasedDeduplication":
		if !fifo {
			return "", errParamf("Invalid parameter: ContentBasedDeduplication Reason: Content based deduplication can only be set for FIFO topics")
		}
		b := strings.ToLower(v)
		if b != "true" && b != "false" {
			return "", errParamf("Invalid parameter: ContentBasedDeduplication Reason: Invalid value [%s] for attribute ContentBasedDeduplication", v)
		}
		return b, nil
	case "SignatureVersion":
		if v != "1" && v != "2" {
			return "", errParamf("Invalid parameter: SignatureVersion")
		}
	case "Policy", "DeliveryPolicy", "TracingConfig", "ArchivePolicy":
		if name == "TracingConfig" {
			if v != "Active" && v != "PassThrough" {
				return "", errParamf("Invalid parameter: TracingConfig")
			}
			break
		}
		if v != "" && !json.Valid([]byte(v)) {
			return "", errParamf("Invalid parameter: %s", name)
		}
		if name == "DeliveryPolicy" {
			if err := validateDeliveryPolicy(v, true); err != nil {
				return "", err
			}
		}
	case "FifoThroughputScope":
		if !fifo || (v != "Topic" && v != "MessageGroup") {
			return "", errParamf("Invalid parameter: FifoThroughputScope")
		}
	case "DisplayName":
		if len(v) > 100 {
			return "", errParamf("Invalid parameter: DisplayName")
		}
	default:
		if strings.HasSuffix(name, "SuccessFeedbackSampleRate") && v != "" {
			if n, err := strconv.Atoi(v); err != nil || n < 0 || n > 100 {
				return "", errParamf("Invalid parameter: Attributes Reason: %s: must be an integer between 0 and 100", name)
			}
		}
	}
	return v, nil
}

func validTopicName(name string, fifo bool) bool {
	base := name
	if fifo {
		if !strings.HasSuffix(name, ".fifo") {
			return false
		}
		base = strings.TrimSuffix(name, ".fifo")
	}
	if base == "" || len(name) > 256 {
		return false
	}
	for i := 0; i < len(base); i++ {
		c := base[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func tagsFromInput(v any) (map[string]string, error) {
	l, _ := v.([]any)
	out := map[string]string{}
	for _, x := range l {
		m, _ := x.(map[string]any)
		k := service.Str(m, "Key")
		if k == "" || len(k) > 128 || len(service.Str(m, "Value")) > 256 {
			return nil, errParamf("Invalid parameter: Tags")
		}
		out[k] = service.Str(m, "Value")
	}
	if len(out) > 50 {
		return nil, snsErr(http.StatusBadRequest, codeTagLimitExceeded, "Could not complete request: tag quota of per resource exceeded")
	}
	return out, nil
}

func (s *Service) createTopic(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "Name")
	in := map[string]string{}
	if m, ok := r.Input["Attributes"].(map[string]any); ok {
		for k, v := range m {
			in[k], _ = v.(string)
		}
	}
	fifo := strings.EqualFold(in["FifoTopic"], "true")
	if !validTopicName(name, fifo) {
		if strings.HasSuffix(name, ".fifo") && !fifo {
			return nil, errParam("Invalid parameter: Topic Name")
		}
		return nil, errParam("Invalid parameter: Topic Name")
	}
	attrs := map[string]string{}
	for k, v := range in {
		nv, err := validateTopicAttr(k, v, fifo, true)
		if err != nil {
			return nil, err
		}
		attrs[k] = nv
	}
	if !fifo {
		delete(attrs, "FifoTopic")
	}
	tags, err := tagsFromInput(r.Input["Tags"])
	if err != nil {
		return nil, err
	}
	dpp := service.Str(r.Input, "DataProtectionPolicy")
	if dpp != "" && !json.Valid([]byte(dpp)) {
		return nil, errParam("Invalid parameter: DataProtectionPolicy")
	}
	arn := "arn:" + service.Partition(r.Region) + ":sns:" + r.Region + ":" + r.Account + ":" + name
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.topics[arn]; t != nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		for k, v := range attrs {
			if t.rec.Attrs[k] != v {
				return nil, errParam("Invalid parameter: Attributes Reason: Topic already exists with different attributes")
			}
		}
		return map[string]any{"TopicArn": arn}, nil
	}
	if fifo {
		if attrs["ContentBasedDeduplication"] == "" {
			attrs["ContentBasedDeduplication"] = "false"
		}
	}
	t := &topic{rec: topicRecord{Arn: arn, Name: name, Account: r.Account, Region: r.Region, Attrs: attrs, DataProtectionPolicy: dpp}}
	if len(tags) > 0 {
		t.rec.Tags = tags
	}
	if err := s.put(t.scope(), "topic", name, &t.rec); err != nil {
		return nil, err
	}
	s.topics[arn] = t
	return map[string]any{"TopicArn": arn}, nil
}

// topicFor returns the topic named by the input member.
func (s *Service) topicFor(r *service.Request, member string) (*topic, error) {
	arn := service.Str(r.Input, member)
	if arn == "" {
		return nil, errParamf("Invalid parameter: %s", member)
	}
	if _, _, _, ok := parseArn(arn); !ok {
		return nil, errParamf("Invalid parameter: %s Reason: An ARN must have at least 6 elements, not %d", member, len(strings.Split(arn, ":")))
	}
	s.mu.RLock()
	t := s.topics[arn]
	s.mu.RUnlock()
	if t == nil {
		return nil, errNotFound("Topic")
	}
	return t, nil
}

func (s *Service) deleteTopic(r *service.Request) (map[string]any, error) {
	t, err := s.topicFor(r, "TopicArn")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	delete(s.topics, t.rec.Arn)
	var subs []*subscription
	for arn, sub := range s.subs {
		if sub.rec.TopicArn == t.rec.Arn {
			subs = append(subs, sub)
			delete(s.subs, arn)
		}
	}
	s.mu.Unlock()
	err = s.kv.Update(func(tx storage.Tx) error {
		if err := tx.Delete(t.scope().Key("topic", t.rec.Name)); err != nil {
			return err
		}
		for _, sub := range subs {
			if err := tx.Delete(sub.scope().Key("sub", sub.id())); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func defaultPolicy(arn, account string) string {
	p := map[string]any{
		"Version": "2008-10-17", "Id": "__default_policy_ID",
		"Statement": []any{map[string]any{
			"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": map[string]any{"AWS": "*"},
			"Action":    []any{"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"},
			"Resource":  arn,
			"Condition": map[string]any{"StringEquals": map[string]any{"AWS:SourceOwner": account}},
		}},
	}
	b, _ := json.Marshal(p)
	return string(b)
}

const defaultDeliveryPolicy = `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}`

func (s *Service) getTopicAttributes(r *service.Request) (map[string]any, error) {
	t, err := s.topicFor(r, "TopicArn")
	if err != nil {
		return nil, err
	}
	confirmed, pending := 0, 0
	s.mu.RLock()
	for _, sub := range s.subs {
		if sub.rec.TopicArn == t.rec.Arn {
			if sub.confirmed() {
				confirmed++
			} else {
				pending++
			}
		}
	}
	s.mu.RUnlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]any{
		"TopicArn": t.rec.Arn, "Owner": t.rec.Account, "DisplayName": "",
		"Policy":                  defaultPolicy(t.rec.Arn, t.rec.Account),
		"SubscriptionsConfirmed":  strconv.Itoa(confirmed),
		"SubscriptionsPending":    strconv.Itoa(pending),
		"SubscriptionsDeleted":    "0",
		"EffectiveDeliveryPolicy": defaultDeliveryPolicy,
	}
	for k, v := range t.rec.Attrs {
		out[k] = v
	}
	return map[string]any{"Attributes": out}, nil
}

func (s *Service) setTopicAttributes(r *service.Request) (map[string]any, error) {
	t, err := s.topicFor(r, "TopicArn")
	if err != nil {
		return nil, err
	}
	name := service.Str(r.Input, "AttributeName")
	v := service.Str(r.Input, "AttributeValue")
	t.mu.Lock()
	defer t.mu.Unlock()
	nv, err := validateTopicAttr(name, v, t.fifo(), false)
	if err != nil {
		return nil, err
	}
	old := t.rec.Attrs
	na := make(map[string]string, len(old)+1)
	for k, x := range old {
		na[k] = x
	}
	if nv == "" {
		delete(na, name)
	} else {
		na[name] = nv
	}
	t.rec.Attrs = na
	if err := s.put(t.scope(), "topic", t.rec.Name, &t.rec); err != nil {
		t.rec.Attrs = old
		return nil, err
	}
	return map[string]any{}, nil
}

// pageOf returns up to 100 items after the NextToken position.
func pageOf(r *service.Request, keys []string) ([]string, string, error) {
	sort.Strings(keys)
	start := 0
	if tok := service.Str(r.Input, "NextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return nil, "", errParam("Invalid parameter: NextToken")
		}
		start = sort.SearchStrings(keys, string(b))
		if start < len(keys) && keys[start] == string(b) {
			start++
		}
	}
	keys = keys[start:]
	next := ""
	if len(keys) > 100 {
		keys = keys[:100]
		next = base64.RawURLEncoding.EncodeToString([]byte(keys[99]))
	}
	return keys, next, nil
}

func (s *Service) listTopics(r *service.Request) (map[string]any, error) {
	prefix := "arn:" + service.Partition(r.Region) + ":sns:" + r.Region + ":" + r.Account + ":"
	var arns []string
	s.mu.RLock()
	for arn := range s.topics {
		if strings.HasPrefix(arn, prefix) {
			arns = append(arns, arn)
		}
	}
	s.mu.RUnlock()
	arns, next, err := pageOf(r, arns)
	if err != nil {
		return nil, err
	}
	list := make([]any, len(arns))
	for i, a := range arns {
		list[i] = map[string]any{"TopicArn": a}
	}
	out := map[string]any{"Topics": list}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Service) resourceTopic(r *service.Request) (*topic, error) {
	arn := service.Str(r.Input, "ResourceArn")
	s.mu.RLock()
	t := s.topics[arn]
	s.mu.RUnlock()
	if t == nil {
		return nil, snsErr(http.StatusNotFound, codeResourceNotFound, "Resource does not exist")
	}
	return t, nil
}

func (s *Service) updateTopic(t *topic, fn func(rec *topicRecord) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	rec := t.rec
	rec.Tags = make(map[string]string, len(t.rec.Tags))
	for k, v := range t.rec.Tags {
		rec.Tags[k] = v
	}
	if err := fn(&rec); err != nil {
		return err
	}
	if err := s.put(t.scope(), "topic", rec.Name, &rec); err != nil {
		return err
	}
	t.rec = rec
	return nil
}

func (s *Service) tagResource(r *service.Request) (map[string]any, error) {
	t, err := s.resourceTopic(r)
	if err != nil {
		return nil, err
	}
	tags, err := tagsFromInput(r.Input["Tags"])
	if err != nil {
		return nil, err
	}
	err = s.updateTopic(t, func(rec *topicRecord) error {
		for k, v := range tags {
			rec.Tags[k] = v
		}
		if len(rec.Tags) > 50 {
			return snsErr(http.StatusBadRequest, codeTagLimitExceeded, "Could not complete request: tag quota of per resource exceeded")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) untagResource(r *service.Request) (map[string]any, error) {
	t, err := s.resourceTopic(r)
	if err != nil {
		return nil, err
	}
	keys := service.Strings(r.Input, "TagKeys")
	if err := s.updateTopic(t, func(rec *topicRecord) error {
		for _, k := range keys {
			delete(rec.Tags, k)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) listTagsForResource(r *service.Request) (map[string]any, error) {
	t, err := s.resourceTopic(r)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.rec.Tags))
	for k := range t.rec.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	list := make([]any, len(keys))
	for i, k := range keys {
		list[i] = map[string]any{"Key": k, "Value": t.rec.Tags[k]}
	}
	return map[string]any{"Tags": list}, nil
}

func (s *Service) getDataProtectionPolicy(r *service.Request) (map[string]any, error) {
	t, err := s.topicFor(r, "ResourceArn")
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rec.DataProtectionPolicy == "" {
		return map[string]any{}, nil
	}
	return map[string]any{"DataProtectionPolicy": t.rec.DataProtectionPolicy}, nil
}

func (s *Service) putDataProtectionPolicy(r *service.Request) (map[string]any, error) {
	t, err := s.topicFor(r, "ResourceArn")
	if err != nil {
		return nil, err
	}
	p := service.Str(r.Input, "DataProtectionPolicy")
	if !json.Valid([]byte(p)) {
		return nil, errParam("Invalid parameter: DataProtectionPolicy")
	}
	if err := s.updateTopic(t, func(rec *topicRecord) error { rec.DataProtectionPolicy = p; return nil }); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}
