package elb

import (
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzLambdaResponse feeds arbitrary function answers to the response
// mapping: it never panics, and what it accepts has a valid status.
func FuzzLambdaResponse(f *testing.F) {
	f.Add([]byte(`{"statusCode":200,"headers":{"a":"b"},"body":"x"}`), false)
	f.Add([]byte(`{"statusCode":200,"multiValueHeaders":{"a":["b","c"]},"body":"AAE=","isBase64Encoded":true}`), true)
	f.Add([]byte(`"not a response"`), false)
	f.Add([]byte(`{"statusCode":99}`), false)
	f.Fuzz(func(t *testing.T, doc []byte, multi bool) {
		st, h, _, ok := parseALBResponse(doc, multi)
		if !ok {
			return
		}
		if st < 100 || st > 599 {
			t.Fatalf("status %d accepted", st)
		}
		for k, vs := range h {
			if !validHeader(k, vs...) {
				t.Fatalf("invalid header %q accepted", k)
			}
		}
	})
}

// FuzzLambdaEvent builds events from arbitrary queries and bodies: always
// valid JSON with the request's method.
func FuzzLambdaEvent(f *testing.F) {
	f.Add("a=1&b=2&a=3", "text/plain", []byte("hi"), false)
	f.Add("&&=x&y", "application/octet-stream", []byte{0, 0xff}, true)
	f.Fuzz(func(t *testing.T, q, ct string, body []byte, multi bool) {
		doc, err := buildALBEvent("arn", "GET", "/", q, http.Header{"Content-Type": {ct}}, body, multi)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(doc, &m); err != nil || m["httpMethod"] != "GET" {
			t.Fatalf("event %s: %v", doc, err)
		}
	})
}
