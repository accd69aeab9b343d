package sns

import (
	"net/url"
	"strings"
	"testing"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

func FuzzPublishSMS(f *testing.F) {
	f.Add("+15555550100", "hello", "")
	f.Add("15555550100", `{"default":"a","sms":"b"}`, "json")
	f.Add("+0123", "x", "")
	f.Add("+1555555010012345678", `{"sms":1}`, "json")
	f.Add("", "", "xml")
	s := New(memory.New(), nil)
	f.Fuzz(func(t *testing.T, phone, msg, structure string) {
		out, err := s.publishSMS(phone, publishInput{message: msg, structure: structure})
		if err != nil {
			if ae, ok := err.(*awserr.Error); !ok || ae.Code != codeInvalidParameter || ae.Status != 400 {
				t.Fatalf("error %v", err)
			}
			return
		}
		if !validPhone(phone) || msg == "" || out["MessageId"] == "" {
			t.Fatalf("accepted %q %q: %v", phone, msg, out)
		}
		d := s.Deliveries()
		if last := d[len(d)-1]; last.Endpoint != phone || last.MessageID != out["MessageId"] {
			t.Fatalf("recorded %+v", last)
		}
	})
}

func FuzzDeliveryFilter(f *testing.F) {
	f.Add("protocol=sms&topic=orders", "arn:aws:sns:us-east-1:000000000000:orders", "sms")
	f.Add("topic=arn:aws:sns:us-east-1:000000000000:orders", "arn:aws:sns:us-east-1:000000000000:orders", "email")
	f.Add("%zz", "", "")
	f.Fuzz(func(t *testing.T, query, topic, protocol string) {
		q, _ := url.ParseQuery(query)
		d := Delivery{TopicArn: topic, Protocol: protocol}
		if deliveryFilter(url.Values{})(&d) != true {
			t.Fatal("empty filter refused a delivery")
		}
		keep := deliveryFilter(q)(&d)
		if p := q.Get("protocol"); keep && p != "" && !strings.EqualFold(p, protocol) {
			t.Fatalf("kept protocol %q for filter %q", protocol, p)
		}
	})
}
