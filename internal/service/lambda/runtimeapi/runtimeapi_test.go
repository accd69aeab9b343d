package runtimeapi

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestInvocationRoundTrip(t *testing.T) {
	s, err := Start(16)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := s.Invoke(Invocation{RequestID: "r1", Payload: []byte(`{"a":1}`), Deadline: time.Unix(100, 0), FunctionARN: "arn:x"})
	resp, err := http.Get("http://" + s.Addr() + Base + "/invocation/next")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"a":1}` || resp.Header.Get("Lambda-Runtime-Aws-Request-Id") != "r1" || resp.Header.Get("Lambda-Runtime-Deadline-Ms") != "100000" {
		t.Fatalf("next: %s %v", body, resp.Header)
	}
	select {
	case <-s.Ready():
	default:
		t.Fatal("not ready after /next")
	}
	bad, _ := http.Post("http://"+s.Addr()+Base+"/invocation/other/response", "application/json", bytes.NewReader([]byte("{}")))
	if bad.StatusCode != 400 {
		t.Fatalf("unknown request id: %d", bad.StatusCode)
	}
	big, _ := http.Post("http://"+s.Addr()+Base+"/invocation/r1/response", "application/json", bytes.NewReader(bytes.Repeat([]byte("x"), 17)))
	if big.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized response: %d", big.StatusCode)
	}
	if r := <-done; !r.TooLarge {
		t.Fatalf("result %+v", r)
	}
}

// FuzzServe checks the API answers any request without panicking.
func FuzzServe(f *testing.F) {
	f.Add("POST", "/2018-06-01/runtime/invocation/x/error", []byte(`{"errorType":"E"}`))
	f.Add("POST", "/2018-06-01/runtime/init/error", []byte(`nope`))
	f.Add("GET", "/2018-06-01/runtime/invocation//response", []byte(nil))
	s := &Server{maxResponse: 64, next: make(chan *pending, 1), ready: make(chan struct{}), initErr: make(chan Result, 1), closed: make(chan struct{})}
	close(s.closed)
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		req, err := http.NewRequest(method, "http://x"+path, bytes.NewReader(body))
		if err != nil {
			return
		}
		s.ServeHTTP(httptest.NewRecorder(), req)
	})
}
