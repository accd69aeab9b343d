package pattern

import (
	"errors"
	"testing"
)

func TestMatch(t *testing.T) {
	apache := `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534`
	cases := []struct {
		pattern, msg string
		want         bool
	}{
		{"", "anything", true},
		{"ERROR", "2024 ERROR: disk full", true},
		{"ERROR", "2024 error: disk full", false},
		{"ERROR disk", "ERROR: disk full", true},
		{"ERROR memory", "ERROR: disk full", false},
		{`"disk full"`, "ERROR: disk full", true},
		{`"full disk"`, "ERROR: disk full", false},
		{"?ERROR ?WARN", "WARN: slow", true},
		{"?ERROR ?WARN", "INFO: ok", false},
		{"ERROR -Exiting", "ERROR: retrying", true},
		{"ERROR -Exiting", "ERROR: Exiting", false},
		{"-DEBUG", "INFO x", true},
		{`?"ERROR" "MainThread" ?"WARN" "Deadlock"`, "WARN Deadlock here", true},
		{`?"ERROR" "MainThread" ?"WARN" "Deadlock"`, "WARN MainThread", false},
		{"%ERR[O]+R%", "an ERROOR", true},
		{"%^INFO%", "an INFO", false},
		{`{ $.eventType = "UpdateTrail" }`, `{"eventType":"UpdateTrail"}`, true},
		{`{ $.eventType = UpdateTrail }`, `{"eventType":"CreateTrail"}`, false},
		{`{ $.eventType = Update* }`, `{"eventType":"UpdateTrail"}`, true},
		{`{ $.eventType != "UpdateTrail" }`, `{"eventType":"CreateTrail"}`, true},
		{`{ $.eventType != "UpdateTrail" }`, `{"other":1}`, false},
		{`{ $.sourceIPAddress != 123.123.* }`, `{"sourceIPAddress":"123.123.1.1"}`, false},
		{`{ $.latency > 500 }`, `{"latency": 501}`, true},
		{`{ $.latency >= 500 }`, `{"latency": 500}`, true},
		{`{ $.latency < 500 }`, `{"latency": 500}`, false},
		{`{ $.latency <= 5e2 }`, `{"latency": 500}`, true},
		{`{ $.status = 200 }`, `{"status": 200.0}`, true},
		{`{ $.arrayKey[0] = "value" }`, `{"arrayKey":["value","x"]}`, true},
		{`{ $.objectList[1].id = 2 }`, `{"objectList":[{"id":1},{"id":2}]}`, true},
		{`{ $.objectList[5].id = 2 }`, `{"objectList":[{"id":1},{"id":2}]}`, false},
		{`{ ($.user.id = 1) && ($.users[0].email = "a@b.c") }`, `{"user":{"id":1},"users":[{"email":"a@b.c"}]}`, true},
		{`{ ($.user.id = 2 && $.x = 1) || $.y = "z" }`, `{"user":{"id":1},"y":"z"}`, true},
		{`{ $.user.id = 2 && ($.x = 1 || $.y = "z") }`, `{"user":{"id":1},"y":"z"}`, false},
		{`{ $.e IS NULL }`, `{"e": null}`, true},
		{`{ $.e IS NULL }`, `{}`, false},
		{`{ $.e NOT EXISTS }`, `{}`, true},
		{`{ $.e NOT EXISTS }`, `{"e": null}`, false},
		{`{ $.ok IS TRUE }`, `{"ok": true}`, true},
		{`{ $.ok IS FALSE }`, `{"ok": true}`, false},
		{`{ $.a = 1 }`, `not json`, false},
		{`{ $.msg = %fail.*now% }`, `{"msg":"it failed now"}`, true},
		{`[ip, user, username, timestamp, request, status_code, bytes]`, apache, true},
		{`[ip, user, username, timestamp, request, status_code, bytes, extra]`, apache, false},
		{`[ip, user, ..., status_code=404, bytes]`, apache, true},
		{`[ip, user, ..., status_code=4*, bytes>1000]`, apache, true},
		{`[ip, user, ..., status_code=4*, bytes>2000]`, apache, false},
		{`[..., status_code = 5* || status_code = 4*, bytes]`, apache, true},
		{`[ip=127.0.0.*, ...]`, apache, true},
		{`[ip!=127.0.0.*, ...]`, apache, false},
		{`[..., request="GET /apache_pb.gif HTTP/1.0", status, bytes]`, apache, true},
		{`[...]`, apache, true},
	}
	for _, c := range cases {
		p, err := Parse(c.pattern)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.pattern, err)
			continue
		}
		if got := p.Match(c.msg); got != c.want {
			t.Errorf("%q on %q = %v, want %v", c.pattern, c.msg, got, c.want)
		}
		if _, ok := p.MatchFields(c.msg); ok != c.want {
			t.Errorf("MatchFields %q on %q = %v, want %v", c.pattern, c.msg, ok, c.want)
		}
	}
}

func TestExtract(t *testing.T) {
	p, err := Parse(`[ip, user, ..., status_code=4*, bytes]`)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := p.MatchFields(`1.2.3.4 bob x y 404 77`)
	if !ok {
		t.Fatal("no match")
	}
	if v, _ := r.Value("$bytes"); v != "77" {
		t.Errorf("$bytes = %q", v)
	}
	ex := r.Extracted()
	if ex["$ip"] != "1.2.3.4" || ex["$status_code"] != "404" || len(ex) != 4 {
		t.Errorf("extracted %v", ex)
	}
	p, _ = Parse(`{ $.latency > 1 && $.user.name = * }`)
	r, ok = p.MatchFields(`{"latency": 12.5, "user": {"name": "ann"}, "n": [1, 2]}`)
	if !ok {
		t.Fatal("no JSON match")
	}
	if v, _ := r.Value("$.latency"); v != "12.5" {
		t.Errorf("$.latency = %q", v)
	}
	if v, _ := r.Value("$.n[1]"); v != "2" {
		t.Errorf("$.n[1] = %q", v)
	}
	if ex := r.Extracted(); ex["$.latency"] != "12.5" || ex["$.user.name"] != "ann" {
		t.Errorf("extracted %v", ex)
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, s := range []string{
		`{ $.a = }`, `{ $.a > abc }`, `{ a = 1 }`, `{ $.a = 1`, `{ ($.a = 1 }`, `{ $.a IS MAYBE }`,
		`"unterminated`, `%unterminated`, `[a, b`, `[a, a]`, `[a=1 && b=2]`, `{ $. = 1 }`, `{ $.a[x] = 1 }`,
		`%a% %b% %c%`, `{ $.a = 1 } junk`, `?`, `{ $.a < %x% }`,
	} {
		if _, err := Parse(s); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want a syntax error", s, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "ERROR", `?a -b "c d"`, `{ $.a = 1 && ($.b[0].c != x* || $.d IS NULL) }`,
		`[ip, ..., s=4* || s=5*, b>10]`, `%re%`, `{ $.a NOT EXISTS }`, `[a="x,y", ...]`} {
		f.Add(s, `{"a":1,"b":[{"c":"xy"}],"d":null} 1 2 3`)
	}
	f.Fuzz(func(t *testing.T, pat, msg string) {
		p, err := Parse(pat)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		m := p.Match(msg)
		r, ok := p.MatchFields(msg)
		if m != ok {
			t.Fatalf("Match %v, MatchFields %v", m, ok)
		}
		if ok {
			r.Extracted()
		}
	})
}
