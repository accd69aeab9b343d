package sqs

import (
	"testing"

	"github.com/overcast-dev/overcast/internal/service"
)

func FuzzMessageRecord(f *testing.F) {
	m := &message{id: "id", body: "body", md5Body: md5Hex("body"), sent: 5, groupID: "g",
		attrs: map[string]service.MessageAttribute{"a": {DataType: "String", StringValue: "v"}, "b": {DataType: "Binary", BinaryValue: []byte{1}}}}
	f.Add(m.encode(), m.encodeState())
	f.Add([]byte{1}, []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, rec, state []byte) {
		m, err := decodeMessage(1, rec)
		if err != nil {
			return
		}
		again, err := decodeMessage(1, m.encode())
		if err != nil || again.body != m.body || again.id != m.id || len(again.attrs) != len(m.attrs) {
			t.Fatalf("round trip: %v", err)
		}
		m.decodeState(state)
	})
}

func FuzzQueueURL(f *testing.F) {
	for _, s := range []string{"http://localhost:4566/000000000000/q", "/000000000000/q", "q", "https://sqs.us-east-1.amazonaws.com/1/q?x", "", "http://h", "a/b/c/d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		account, name, ok := parseQueueURL(u, "000000000000")
		if ok && (account == "" || name == "") {
			t.Fatalf("%q parsed to %q %q", u, account, name)
		}
	})
}

func FuzzAttributes(f *testing.F) {
	f.Add("RedrivePolicy", `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:d","maxReceiveCount":"3"}`)
	f.Add("RedriveAllowPolicy", `{"redrivePermission":"byQueue","sourceQueueArns":["a"]}`)
	f.Add("DelaySeconds", "10")
	f.Fuzz(func(t *testing.T, name, value string) {
		for _, fifo := range []bool{false, true} {
			out, err := validateAttrs(map[string]string{name: value}, fifo, true)
			if err != nil {
				continue
			}
			// Normalised values validate again unchanged.
			again, err := validateAttrs(out, fifo, true)
			if err != nil {
				t.Fatalf("normalised %v rejected: %v", out, err)
			}
			for k, v := range out {
				if again[k] != v {
					t.Fatalf("%s: %q then %q", k, v, again[k])
				}
			}
		}
	})
}
