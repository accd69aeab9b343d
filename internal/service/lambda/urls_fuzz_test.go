package lambda

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzURLResponse: any function output maps to an HTTP response without
// panicking; a structured response's status is kept only when valid.
func FuzzURLResponse(f *testing.F) {
	for _, s := range []string{`{"statusCode":201,"headers":{"a":"b"},"cookies":["c=1"],"body":"aGk=","isBase64Encoded":true}`,
		`{"statusCode":99}`, `{"statusCode":"x"}`, `"hello"`, `[1,2]`, `null`, `{"body":"x"}`, `{"statusCode":200,"body":"%%%","isBase64Encoded":true}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		w := httptest.NewRecorder()
		writeURLResponse(w, out)
		if w.Code < 100 || w.Code > 999 {
			t.Fatalf("status %d", w.Code)
		}
	})
}

// FuzzURLEvent: any request builds a payload format 2.0 event that is
// valid JSON.
func FuzzURLEvent(f *testing.F) {
	f.Add("/a/b", "x=1&x=2", "session=1; t=2", "application/json", []byte(`{"a":1}`))
	f.Add("/", "", "", "application/octet-stream", []byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, path, query, cookie, ct string, body []byte) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		r, err := http.NewRequest("POST", "http://id.lambda-url.us-east-1.localhost"+path+"?"+query, nil)
		if err != nil {
			return
		}
		r.Header.Set("Cookie", cookie)
		r.Header.Set("Content-Type", ct)
		ev := urlEvent(r, "000000000000", "id", "id.lambda-url.us-east-1.localhost", "req", body, nil, time.Unix(0, 0))
		b, err := json.Marshal(ev)
		if err != nil || !json.Valid(b) {
			t.Fatalf("event %v: %v", ev, err)
		}
	})
}
