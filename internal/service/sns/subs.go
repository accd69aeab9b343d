package sns

import (
	"encoding/json"
	"net/url"
	"strings"
	"sync"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

type subRecord struct {
	Arn       string            `json:"arn"`
	TopicArn  string            `json:"topic"`
	Protocol  string            `json:"protocol"`
	Endpoint  string            `json:"endpoint"`
	Owner     string            `json:"owner"`
	Attrs     map[string]string `json:"attrs"`
	Confirmed bool              `json:"confirmed"`
	Token     string            `json:"token,omitempty"`
}

type subscription struct {
	mu     sync.Mutex
	rec    subRecord
	filter *filterPolicy // nil: everything matches
	scope_ string
}

func newSubscription(rec subRecord) *subscription {
	sub := &subscription{rec: rec}
	sub.applyAttrs()
	return sub
}

func (sub *subscription) applyAttrs() {
	sub.scope_ = sub.rec.Attrs["FilterPolicyScope"]
	if sub.scope_ == "" {
		sub.scope_ = scopeAttributes
	}
	sub.filter = nil
	if p := sub.rec.Attrs["FilterPolicy"]; p != "" {
		sub.filter, _ = parseFilterPolicy(p, sub.scope_)
	}
}

func (sub *subscription) confirmed() bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.rec.Confirmed
}

func (sub *subscription) id() string {
	return sub.rec.Arn[strings.LastIndexByte(sub.rec.Arn, ':')+1:]
}

func (sub *subscription) scope() storage.Scope {
	region, account, _, _ := parseArn(sub.rec.TopicArn)
	return storage.Scope{Service: "sns", Account: account, Region: region}
}

var subAttrNames = map[string]bool{
	"DeliveryPolicy": true, "FilterPolicy": true, "FilterPolicyScope": true, "RawMessageDelivery": true,
	"RedrivePolicy": true, "SubscriptionRoleArn": true, "ReplayPolicy": true,
}

// validateSubAttrs checks subscription attributes (merged with the current
// ones) and returns the result.
func validateSubAttrs(protocol string, cur, in map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(cur)+len(in))
	for k, v := range cur {
		out[k] = v
	}
	for k, v := range in {
		if !subAttrNames[k] {
			return nil, errParamf("Invalid parameter: AttributeName")
		}
		switch k {
		case "RawMessageDelivery":
			b := strings.ToLower(v)
			if b != "true" && b != "false" {
				return nil, errParamf("Invalid parameter: RawMessageDelivery")
			}
			switch protocol {
			case "sqs", "http", "https", "firehose":
			default:
				return nil, errParamf("Invalid parameter: Attributes Reason: Delivery protocol [%s] does not support raw message delivery.", protocol)
			}
			v = b
		case "FilterPolicyScope":
			if v != scopeAttributes && v != scopeBody {
				return nil, errParamf("Invalid parameter: FilterPolicyScope: Invalid filter policy scope, only MessageAttributes or MessageBody are supported")
			}
		case "DeliveryPolicy", "RedrivePolicy", "ReplayPolicy":
			if v != "" && !json.Valid([]byte(v)) {
				return nil, errParamf("Invalid parameter: %s: failed to parse JSON", k)
			}
			switch k {
			case "DeliveryPolicy":
				if err := validateDeliveryPolicy(v, false); err != nil {
					return nil, err
				}
			case "RedrivePolicy":
				if err := validateRedrivePolicy(v); err != nil {
					return nil, err
				}
			}
		}
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	if p := out["FilterPolicy"]; p != "" {
		scope := out["FilterPolicyScope"]
		if scope == "" {
			scope = scopeAttributes
		}
		if _, err := parseFilterPolicy(p, scope); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) saveSub(sub *subscription) error {
	return s.put(sub.scope(), "sub", sub.id(), &sub.rec)
}

func (s *Service) subscribe(r *service.Request) (map[string]any, error) {
	t, err := s.topicFor(r, "TopicArn")
	if err != nil {
		return nil, err
	}
	protocol := strings.ToLower(service.Str(r.Input, "Protocol"))
	endpoint := service.Str(r.Input, "Endpoint")
	switch protocol {
	case "sqs":
		if !strings.HasPrefix(endpoint, "arn:") || len(strings.Split(endpoint, ":")) != 6 || strings.Split(endpoint, ":")[2] != "sqs" {
			return nil, errParam("Invalid parameter: SQS endpoint ARN")
		}
	case "http", "https":
		u, err := url.Parse(endpoint)
		if err != nil || u.Scheme != protocol || u.Host == "" {
			return nil, errParamf("Invalid parameter: Endpoint must match the specified protocol")
		}
	case "lambda", "firehose", "application":
		if !strings.HasPrefix(endpoint, "arn:") {
			return nil, errParamf("Invalid parameter: %s endpoint ARN", protocol)
		}
	case "email", "email-json":
		if !strings.Contains(endpoint, "@") {
			return nil, errParam("Invalid parameter: Email address")
		}
	case "sms":
		if endpoint == "" {
			return nil, errParam("Invalid parameter: Invalid SMS endpoint")
		}
	default:
		return nil, errParam("Invalid parameter: Amazon SNS does not support this protocol string: " + protocol)
	}
	if t.fifo() && protocol != "sqs" && protocol != "firehose" {
		return nil, errParamf("Invalid parameter: Invalid protocol type: %s", protocol)
	}
	in := map[string]string{}
	if m, ok := r.Input["Attributes"].(map[string]any); ok {
		for k, v := range m {
			in[k], _ = v.(string)
		}
	}
	attrs, err := validateSubAttrs(protocol, nil, in)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	for _, sub := range s.subs {
		if sub.rec.TopicArn == t.rec.Arn && sub.rec.Protocol == protocol && sub.rec.Endpoint == endpoint {
			s.mu.Unlock()
			sub.mu.Lock()
			defer sub.mu.Unlock()
			for k, v := range attrs {
				if sub.rec.Attrs[k] != v {
					return nil, errParam("Invalid parameter: Attributes Reason: Subscription already exists with different attributes")
				}
			}
			if !sub.rec.Confirmed && !service.Bool(r.Input, "ReturnSubscriptionArn") {
				return map[string]any{"SubscriptionArn": "pending confirmation"}, nil
			}
			return map[string]any{"SubscriptionArn": sub.rec.Arn}, nil
		}
	}
	rec := subRecord{
		Arn: t.rec.Arn + ":" + newUUID(), TopicArn: t.rec.Arn, Protocol: protocol, Endpoint: endpoint,
		Owner: r.Account, Attrs: attrs,
	}
	switch protocol {
	case "sqs", "lambda", "firehose", "application":
		rec.Confirmed = true
	default:
		rec.Token = newToken()
	}
	sub := newSubscription(rec)
	if err := s.saveSub(sub); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.subs[rec.Arn] = sub
	s.mu.Unlock()
	if !rec.Confirmed {
		s.sendConfirmation(r, sub)
		if !service.Bool(r.Input, "ReturnSubscriptionArn") {
			return map[string]any{"SubscriptionArn": "pending confirmation"}, nil
		}
	}
	return map[string]any{"SubscriptionArn": rec.Arn}, nil
}

func newToken() string {
	return strings.ReplaceAll(newUUID()+newUUID()+newUUID(), "-", "")
}

func (s *Service) confirmSubscription(r *service.Request) (map[string]any, error) {
	t, err := s.topicFor(r, "TopicArn")
	if err != nil {
		return nil, err
	}
	token := service.Str(r.Input, "Token")
	if token == "" {
		return nil, errParam("Invalid parameter: Token")
	}
	s.mu.RLock()
	var found *subscription
	for _, sub := range s.subs {
		if sub.rec.TopicArn == t.rec.Arn && sub.rec.Token == token {
			found = sub
			break
		}
	}
	s.mu.RUnlock()
	if found == nil {
		return nil, errParam("Invalid token")
	}
	found.mu.Lock()
	defer found.mu.Unlock()
	if !found.rec.Confirmed {
		found.rec.Confirmed = true
		if err := s.saveSub(found); err != nil {
			found.rec.Confirmed = false
			return nil, err
		}
	}
	return map[string]any{"SubscriptionArn": found.rec.Arn}, nil
}

func (s *Service) subFor(r *service.Request) (*subscription, error) {
	arn := service.Str(r.Input, "SubscriptionArn")
	if _, _, _, ok := parseArn(arn); !ok {
		return nil, errParam("Invalid parameter: SubscriptionArn")
	}
	s.mu.RLock()
	sub := s.subs[arn]
	s.mu.RUnlock()
	if sub == nil {
		return nil, errNotFound("Subscription")
	}
	return sub, nil
}

func (s *Service) unsubscribe(r *service.Request) (map[string]any, error) {
	sub, err := s.subFor(r)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	delete(s.subs, sub.rec.Arn)
	s.mu.Unlock()
	if err := s.kv.Update(func(tx storage.Tx) error { return tx.Delete(sub.scope().Key("sub", sub.id())) }); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func subEntry(sub *subscription) map[string]any {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	arn := sub.rec.Arn
	if !sub.rec.Confirmed {
		arn = "PendingConfirmation"
	}
	return map[string]any{"SubscriptionArn": arn, "Owner": sub.rec.Owner, "Protocol": sub.rec.Protocol, "Endpoint": sub.rec.Endpoint, "TopicArn": sub.rec.TopicArn}
}

func (s *Service) listSubs(r *service.Request, topicArn string) (map[string]any, error) {
	prefix := "arn:" + service.Partition(r.Region) + ":sns:" + r.Region + ":" + r.Account + ":"
	var arns []string
	s.mu.RLock()
	for arn, sub := range s.subs {
		if topicArn != "" && sub.rec.TopicArn != topicArn || topicArn == "" && !strings.HasPrefix(arn, prefix) {
			continue
		}
		arns = append(arns, arn)
	}
	s.mu.RUnlock()
	arns, next, err := pageOf(r, arns)
	if err != nil {
		return nil, err
	}
	list := make([]any, 0, len(arns))
	s.mu.RLock()
	for _, a := range arns {
		if sub := s.subs[a]; sub != nil {
			list = append(list, subEntry(sub))
		}
	}
	s.mu.RUnlock()
	out := map[string]any{"Subscriptions": list}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Service) listSubscriptions(r *service.Request) (map[string]any, error) {
	return s.listSubs(r, "")
}

func (s *Service) listSubscriptionsByTopic(r *service.Request) (map[string]any, error) {
	t, err := s.topicFor(r, "TopicArn")
	if err != nil {
		return nil, err
	}
	return s.listSubs(r, t.rec.Arn)
}

func (s *Service) getSubscriptionAttributes(r *service.Request) (map[string]any, error) {
	sub, err := s.subFor(r)
	if err != nil {
		return nil, err
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	out := map[string]any{
		"SubscriptionArn": sub.rec.Arn, "TopicArn": sub.rec.TopicArn, "Owner": sub.rec.Owner,
		"Protocol": sub.rec.Protocol, "Endpoint": sub.rec.Endpoint,
		"ConfirmationWasAuthenticated": boolStr(sub.rec.Confirmed),
		"PendingConfirmation":          boolStr(!sub.rec.Confirmed),
		"RawMessageDelivery":           "false",
		"SubscriptionPrincipal":        "arn:aws:iam::" + sub.rec.Owner + ":root",
	}
	if sub.rec.Protocol == "http" || sub.rec.Protocol == "https" {
		s.mu.RLock()
		t := s.topics[sub.rec.TopicArn]
		s.mu.RUnlock()
		p := defaultHTTPPolicy
		if t != nil {
			sub.mu.Unlock()
			p = s.effectivePolicy(t, sub)
			sub.mu.Lock()
		}
		out["EffectiveDeliveryPolicy"] = effectivePolicyJSON(p)
	}
	for k, v := range sub.rec.Attrs {
		out[k] = v
	}
	if _, ok := sub.rec.Attrs["FilterPolicy"]; ok && sub.rec.Attrs["FilterPolicyScope"] == "" {
		out["FilterPolicyScope"] = scopeAttributes
	}
	return map[string]any{"Attributes": out}, nil
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func (s *Service) setSubscriptionAttributes(r *service.Request) (map[string]any, error) {
	sub, err := s.subFor(r)
	if err != nil {
		return nil, err
	}
	name := service.Str(r.Input, "AttributeName")
	v := service.Str(r.Input, "AttributeValue")
	sub.mu.Lock()
	defer sub.mu.Unlock()
	attrs, err := validateSubAttrs(sub.rec.Protocol, sub.rec.Attrs, map[string]string{name: v})
	if err != nil {
		return nil, err
	}
	old := sub.rec.Attrs
	sub.rec.Attrs = attrs
	if err := s.saveSub(sub); err != nil {
		sub.rec.Attrs = old
		return nil, err
	}
	sub.applyAttrs()
	return map[string]any{}, nil
}
