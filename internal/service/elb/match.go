package elb

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// compiledCond is a rule condition ready to test requests. Within a
// condition the values are alternatives; a rule needs all its conditions.
type compiledCond struct {
	field    string
	values   []string
	header   string // canonical header name
	query    []kvPair
	prefixes []netip.Prefix
}

func compileCondition(c condition) compiledCond {
	cc := compiledCond{field: c.Field, values: c.Values, query: c.Query}
	if c.Field == "http-header" {
		cc.header = http.CanonicalHeaderKey(c.HeaderName)
	}
	if c.Field == "source-ip" {
		for _, v := range c.Values {
			if p, err := netip.ParsePrefix(v); err == nil {
				cc.prefixes = append(cc.prefixes, p.Masked())
			}
		}
	}
	return cc
}

func (c *compiledCond) match(r *http.Request) bool {
	switch c.field {
	case "host-header":
		host := r.Host
		if i := lastColon(host); i >= 0 {
			host = host[:i]
		}
		for _, v := range c.values {
			if wildcard(v, host, true) {
				return true
			}
		}
	case "path-pattern":
		for _, v := range c.values {
			if wildcard(v, r.URL.Path, false) {
				return true
			}
		}
	case "http-header":
		for _, hv := range r.Header[c.header] {
			for _, v := range c.values {
				if wildcard(v, hv, true) {
					return true
				}
			}
		}
	case "http-request-method":
		for _, v := range c.values {
			if r.Method == v {
				return true
			}
		}
	case "source-ip":
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil {
			return false
		}
		a := ap.Addr().Unmap()
		for _, p := range c.prefixes {
			if p.Contains(a) {
				return true
			}
		}
	case "query-string":
		q := r.URL.RawQuery
		for _, kv := range c.query {
			if queryHas(q, kv) {
				return true
			}
		}
	}
	return false
}

// queryHas reports whether the raw query has a parameter matching kv (an
// empty key matches any parameter's value).
func queryHas(raw string, kv kvPair) bool {
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(part, "=")
		if strings.ContainsAny(k, "%+") {
			k, _ = url.QueryUnescape(k)
		}
		if strings.ContainsAny(v, "%+") {
			v, _ = url.QueryUnescape(v)
		}
		if (kv.Key == "" || wildcard(kv.Key, k, true)) && wildcard(kv.Value, v, true) {
			return true
		}
	}
	return false
}

// wildcard matches s against pattern, where * matches any run of
// characters and ? exactly one; fold makes it ASCII case-insensitive. It
// does not allocate.
func wildcard(pattern, s string, fold bool) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		if p < len(pattern) && (pattern[p] == '?' || eqByte(pattern[p], s[i], fold)) {
			p++
			i++
			continue
		}
		if p < len(pattern) && pattern[p] == '*' {
			star, mark = p, i
			p++
			continue
		}
		if star >= 0 {
			p = star + 1
			mark++
			i = mark
			continue
		}
		return false
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func eqByte(a, b byte, fold bool) bool {
	if a == b {
		return true
	}
	if !fold {
		return false
	}
	if 'A' <= a && a <= 'Z' {
		a += 'a' - 'A'
	}
	if 'A' <= b && b <= 'Z' {
		b += 'a' - 'A'
	}
	return a == b
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if !eqByte(a[i], b[i], true) {
			return false
		}
	}
	return true
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
