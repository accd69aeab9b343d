package elb

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

	serverHeader = []string{"awselb/2.0"}
	htmlType     = []string{"text/html"}
)

// hop-by-hop headers, removed in both directions.
var hopHeaders = [...]string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func stripHop(h http.Header) {
	if c, ok := h["Connection"]; ok {
		for _, v := range c {
			for _, f := range strings.Split(v, ",") {
				if f = strings.TrimSpace(f); f != "" {
					delete(h, http.CanonicalHeaderKey(f))
				}
			}
		}
	}
	for _, k := range hopHeaders {
		if _, ok := h[k]; ok {
			delete(h, k)
		}
	}
}

// ServeHTTP is the ALB hot path: match a rule, run its action.
func (l *listenerRuntime) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	lb := l.lb
	lb.m.requests.Add(1)
	if r.ContentLength > 0 {
		lb.m.bytes.Add(r.ContentLength)
	}
	act := l.table.Load().match(r)
	if act == nil {
		l.fail(w, http.StatusServiceUnavailable)
		return
	}
	switch act.kind {
	case actFixed:
		h := w.Header()
		h["Server"] = serverHeader
		if len(act.ctype) > 0 {
			h["Content-Type"] = act.ctype
		}
		h["Content-Length"] = []string{strconv.Itoa(len(act.body))}
		w.WriteHeader(act.status)
		w.Write(act.body)
		lb.m.fixed.Add(1)
		lb.m.bytes.Add(int64(len(act.body)))
		return
	case actRedirect:
		h := w.Header()
		h["Server"] = serverHeader
		h["Location"] = []string{l.redirectURL(r, act.redirect)}
		h["Content-Type"] = htmlType
		w.WriteHeader(act.status)
		lb.m.redirects.Add(1)
		return
	}
	l.forward(w, r, act, start)
}

// forward proxies r to a target of the action's target groups.
func (l *listenerRuntime) forward(w http.ResponseWriter, r *http.Request, act *compiledAction, start time.Time) {
	var g *tgRuntime
	if act.sticky {
		if v := cookie(r, "AWSALBTG"); v != "" {
			for _, f := range act.fwd {
				if f.weight > 0 && f.tg.dim == v {
					g = f.tg
				}
			}
		}
	}
	if g == nil {
		g = act.pickGroup()
	}
	if g == nil {
		l.fail(w, http.StatusServiceUnavailable)
		return
	}
	var t *target
	stickyDur := g.stickyDur.Load()
	if stickyDur > 0 {
		if v := cookie(r, "AWSALB"); v != "" {
			t = g.byCookie(v)
		}
	}
	if t == nil {
		t = g.pick()
	}
	if t == nil {
		g.m.elb5xx.Add(1)
		l.fail(w, http.StatusServiceUnavailable)
		return
	}
	addr := t.address()
	if act.portOverride > 0 {
		host, _, _ := net.SplitHostPort(addr)
		addr = net.JoinHostPort(host, strconv.Itoa(act.portOverride))
	}
	t.outstanding.Add(1)
	defer t.outstanding.Add(-1)
	g.m.requests.Add(1)

	// The outgoing request shares the incoming one's header map: the
	// server hands each request its own map and never reads it back.
	out := new(http.Request)
	*out = *r
	out.URL = &url.URL{Scheme: "http", Host: addr, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	out.RequestURI = ""
	out.Close = false
	if r.ContentLength == 0 {
		out.Body = nil
	}
	h := out.Header
	stripHop(h)
	ip := clientIP(r.RemoteAddr)
	if prior, ok := h["X-Forwarded-For"]; ok && len(prior) > 0 {
		h["X-Forwarded-For"] = []string{strings.Join(prior, ", ") + ", " + ip}
	} else {
		h["X-Forwarded-For"] = []string{ip}
	}
	h["X-Forwarded-Proto"] = l.fwdProto
	h["X-Forwarded-Port"] = l.fwdPort
	if _, ok := h["X-Amzn-Trace-Id"]; !ok {
		h["X-Amzn-Trace-Id"] = []string{traceID(start)}
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = nil // not Go's default
	}

	resp, err := g.transport.Load().RoundTrip(out)
	if err != nil {
		status := http.StatusBadGateway
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			status = http.StatusGatewayTimeout
		} else if r.Context().Err() != nil {
			g.m.elb5xx.Add(1)
			return // the client went away (ALB logs 460)
		}
		g.m.elb5xx.Add(1)
		l.fail(w, status)
		return
	}
	g.m.observe(resp.StatusCode, time.Since(start))
	dst := w.Header()
	stripHop(resp.Header)
	for k, vv := range resp.Header {
		dst[k] = vv
	}
	if stickyDur > 0 && cookie(r, "AWSALB") != t.cookie {
		setSticky(dst, "AWSALB", t.cookie, time.Duration(stickyDur))
	}
	if act.sticky {
		setSticky(dst, "AWSALBTG", g.dim, act.stickyDur)
	}
	w.WriteHeader(resp.StatusCode)
	n := copyBody(w, resp.Body, resp.ContentLength < 0)
	resp.Body.Close()
	l.lb.m.bytes.Add(n)
}

// copyBody streams body to w, flushing each chunk when the length is
// unknown so streamed responses reach the client as they are produced.
func copyBody(w http.ResponseWriter, body io.Reader, flush bool) int64 {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	var n int64
	fl, _ := w.(http.Flusher)
	for {
		k, err := body.Read(buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return n
			}
			n += int64(k)
			if flush && fl != nil {
				fl.Flush()
			}
		}
		if err != nil {
			return n
		}
	}
}

func setSticky(h http.Header, name, value string, d time.Duration) {
	exp := time.Now().Add(d).UTC().Format(http.TimeFormat)
	h["Set-Cookie"] = append(h["Set-Cookie"],
		name+"="+value+"; Expires="+exp+"; Path=/",
		name+"CORS="+value+"; Expires="+exp+"; Path=/; SameSite=None")
}

// cookie returns the value of the named cookie without parsing the others.
func cookie(r *http.Request, name string) string {
	for _, line := range r.Header["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			if len(part) > len(name) && part[len(name)] == '=' && part[:len(name)] == name {
				return part[len(name)+1:]
			}
		}
	}
	return ""
}

func clientIP(remote string) string {
	if i := lastColon(remote); i >= 0 {
		remote = remote[:i]
	}
	return strings.Trim(remote, "[]")
}

// traceID returns a new X-Amzn-Trace-Id value.
func traceID(now time.Time) string {
	var b [46]byte
	copy(b[:], "Root=1-")
	sec := uint32(now.Unix())
	const hexd = "0123456789abcdef"
	for i := 0; i < 8; i++ {
		b[7+i] = hexd[(sec>>(28-4*i))&15]
	}
	b[15] = '-'
	var rnd [12]byte
	x, y := rand.Uint64(), rand.Uint32()
	for i := 0; i < 8; i++ {
		rnd[i] = byte(x >> (8 * i))
	}
	for i := 0; i < 4; i++ {
		rnd[8+i] = byte(y >> (8 * i))
	}
	hex.Encode(b[16:], rnd[:])
	return string(b[:40])
}

// redirectURL builds the Location of a redirect action.
func (l *listenerRuntime) redirectURL(r *http.Request, c *redirectConfig) string {
	proto := l.fwdProto[0]
	host := r.Host
	if i := lastColon(host); i >= 0 {
		host = host[:i]
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	sub := func(s string) string {
		if !strings.Contains(s, "#{") {
			return s
		}
		return strings.NewReplacer("#{protocol}", proto, "#{host}", host, "#{port}", l.portStr, "#{path}", path, "#{query}", r.URL.RawQuery).Replace(s)
	}
	p := strings.ToLower(sub(c.Protocol))
	port := sub(c.Port)
	var b strings.Builder
	b.WriteString(p)
	b.WriteString("://")
	b.WriteString(sub(c.Host))
	if !(p == "http" && port == "80" || p == "https" && port == "443") {
		b.WriteString(":")
		b.WriteString(port)
	}
	b.WriteString(sub(c.Path))
	if q := sub(c.Query); q != "" {
		b.WriteString("?")
		b.WriteString(q)
	}
	return b.String()
}

// fail answers with the load balancer's own error page.
func (l *listenerRuntime) fail(w http.ResponseWriter, status int) {
	l.lb.m.elb5xx.Add(1)
	if status == http.StatusServiceUnavailable {
		l.lb.m.elb503.Add(1)
	}
	writeELBError(w, status)
}

var errorPages = map[int][]byte{}

func init() {
	for code, text := range map[int]string{502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable", 504: "504 Gateway Time-out", 500: "500 Internal Server Error"} {
		errorPages[code] = []byte("<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text + "</h1></center>\r\n</body>\r\n</html>\r\n")
	}
}

func writeELBError(w http.ResponseWriter, status int) {
	h := w.Header()
	for k := range h {
		delete(h, k)
	}
	body := errorPages[status]
	h["Server"] = serverHeader
	h["Content-Type"] = htmlType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}
