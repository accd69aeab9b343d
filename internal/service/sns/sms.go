package sns

import (
	"encoding/json"
	"strings"
)

// validPhone reports whether n is an E.164 phone number: "+" and up to 15
// digits, the first not zero (the "+" may be left out, as SNS allows).
func validPhone(n string) bool {
	d := strings.TrimPrefix(n, "+")
	if len(d) < 2 || len(d) > 15 || d[0] == '0' {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// publishSMS records a message published straight to a phone number.
func (s *Service) publishSMS(phone string, in publishInput) (map[string]any, error) {
	if !validPhone(phone) {
		return nil, errParamf("Invalid parameter: PhoneNumber Reason: %s is not valid to publish to", phone)
	}
	if in.message == "" {
		return nil, errParam("Invalid parameter: Empty message")
	}
	if len(in.message) > maxMessageSize {
		return nil, errParam("Invalid parameter: Message too long")
	}
	msg := in.message
	switch in.structure {
	case "":
	case "json":
		var m map[string]any
		if err := json.Unmarshal([]byte(in.message), &m); err != nil {
			return nil, errParam("Invalid parameter: Message Structure - JSON message body failed to parse")
		}
		v, ok := m["sms"]
		if !ok {
			v, ok = m["default"]
		}
		if !ok {
			return nil, errParam("Invalid parameter: Message Structure - No default entry in JSON message body")
		}
		if msg, ok = v.(string); !ok {
			return nil, errParam("Invalid parameter: Message Structure - JSON message body failed to parse")
		}
	default:
		return nil, errParam("Invalid parameter: MessageStructure")
	}
	id := newUUID()
	s.record(Delivery{Time: s.clock.Now(), Type: "Notification", Protocol: "sms", Endpoint: phone, MessageID: id, Body: msg})
	return map[string]any{"MessageId": id}, nil
}
