package elb_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestALBResponseFraming sends, over the load balancer's pooled target
// connections, responses framed every way a target may frame them, several
// times in a row, and checks what the client receives.
func TestALBResponseFraming(t *testing.T) {
	e := newEnv(t)
	b := newBackend(t, "framing", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			w.Header()["Set-Cookie"] = []string{"a=1", "b=2"}
			w.Header().Set("Connection", "X-Private")
			w.Header().Set("X-Private", "secret")
			io.WriteString(w, "part1,")
			w.(http.Flusher).Flush()
			io.WriteString(w, "part2")
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "closing")
		default:
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "fixed")
		}
	})
	lb := e.lb("framing", "")
	tg := e.tg("framing", "HTTP", 80)
	e.register(tg, b)
	_, addr := e.listener(*lb.LoadBalancerArn, "HTTP", 18091, forward(tg))
	e.waitState(tg, b.ip, "healthy")
	for i := 0; i < 3; i++ {
		for _, c := range []struct {
			method, path, body string
			status             int
		}{
			{"GET", "/chunked", "part1,part2", 200},
			{"GET", "/fixed", "fixed", 200},
			{"HEAD", "/fixed", "", 200},
			{"GET", "/empty", "", 204},
			{"GET", "/close", "closing", 200},
			{"POST", "/fixed", "fixed", 200},
		} {
			req, _ := http.NewRequest(c.method, "http://"+addr+c.path, strings.NewReader(strings.Repeat("y", 100*i)))
			resp, err := plain.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", c.method, c.path, err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || string(got) != c.body {
				t.Fatalf("%s %s: %d %q, want %d %q", c.method, c.path, resp.StatusCode, got, c.status, c.body)
			}
			if c.path == "/chunked" {
				if v := resp.Header.Values("Set-Cookie"); len(v) != 2 || v[0] != "a=1" || v[1] != "b=2" {
					t.Errorf("Set-Cookie = %q", v)
				}
				if v := resp.Header.Get("X-Private"); v != "" {
					t.Errorf("header named by Connection passed on: %q", v)
				}
			}
			if c.method == "HEAD" && resp.ContentLength != 5 {
				t.Errorf("HEAD Content-Length = %d", resp.ContentLength)
			}
		}
	}
}
