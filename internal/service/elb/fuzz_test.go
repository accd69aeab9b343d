package elb

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// FuzzWildcard checks the rule wildcard matcher against a regexp oracle.
func FuzzWildcard(f *testing.F) {
	for _, s := range [][2]string{{"/api/*", "/api/users"}, {"*.example.com", "a.example.com"}, {"a?c", "abc"}, {"**", ""}, {"*a*b", "xxaxxb"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 64 || len(s) > 64 {
			return
		}
		var re strings.Builder
		re.WriteString("(?s)^")
		for _, c := range []byte(pattern) {
			switch c {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string([]byte{c})))
			}
		}
		re.WriteString("$")
		rx, err := regexp.Compile(re.String())
		if err != nil {
			return
		}
		// The matcher is bytewise; compare on ASCII-only input so '.' and a
		// byte agree.
		for _, c := range []byte(pattern + s) {
			if c >= 0x80 {
				return
			}
		}
		if got, want := wildcard(pattern, s, false), rx.MatchString(s); got != want {
			t.Fatalf("wildcard(%q, %q) = %v, want %v", pattern, s, got, want)
		}
	})
}

// FuzzParsers feeds the matcher, health-check target, cookie and query
// parsers arbitrary input: they must not panic.
func FuzzParsers(f *testing.F) {
	f.Add("200-299,302", "HTTP:80/index.html", "a=1; AWSALB=abc", "v=2&x=%41")
	f.Fuzz(func(t *testing.T, matcher, target, cookieLine, rawQuery string) {
		if rs, ok := parseMatcher(matcher); ok {
			for _, r := range rs {
				if r[0] > r[1] || r[0] < 200 || r[1] > 499 {
					t.Fatalf("bad range %v from %q", r, matcher)
				}
			}
		}
		parseHealthTarget(target)
		r := &http.Request{Header: http.Header{"Cookie": {cookieLine}}, URL: &url.URL{RawQuery: rawQuery}, RemoteAddr: cookieLine}
		cookie(r, "AWSALB")
		queryHas(rawQuery, kvPair{Key: "v", Value: "2*"})
		clientIP(cookieLine)
		c := compileCondition(condition{Field: "source-ip", Values: []string{"10.0.0.0/8"}})
		c.match(r)
	})
}
