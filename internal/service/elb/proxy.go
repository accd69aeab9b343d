package elb

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
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
	if g.lambda {
		l.forwardLambda(w, r, g, t, start)
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

	// The inbound request's header map is the outbound one: the server
	// hands each request its own map and never reads it back, so the
	// headers the proxy does not change are never copied.
	h := r.Header
	stripHop(h)
	delete(h, "Expect")         // the server answered 100-continue already
	delete(h, "Content-Length") // written from r.ContentLength
	ip := clientIP(r.RemoteAddr)
	if prior, ok := h["X-Forwarded-For"]; ok && len(prior) > 0 {
		h["X-Forwarded-For"] = []string{strings.Join(prior, ", ") + ", " + ip}
	} else {
		h["X-Forwarded-For"] = []string{ip}
	}
	h["X-Forwarded-Proto"] = l.fwdProto
	h["X-Forwarded-Port"] = l.fwdPort
	if _, ok := h["X-Amzn-Trace-Id"]; !ok {
		h["X-Amzn-Trace-Id"] = l.traceID(start)
	}
	uri := r.RequestURI
	if uri == "" || (uri[0] != '/' && uri != "*") {
		uri = r.URL.RequestURI()
	}

	timeout := time.Duration(g.up.timeout.Load())
	dst := w.Header()
	var (
		uc   *upConn
		resp upResponse
		err  error
	)
	for attempt := 0; ; attempt++ {
		if uc, err = g.up.get(addr, start); err != nil {
			break
		}
		if err = uc.writeRequest(r, h, uri); err == nil {
			uc.armRead(start, timeout)
			if resp, err = readHead(uc.br, r.Method, dst); err == nil {
				break
			}
			clear(dst)
		}
		// A kept-alive connection the target closed meanwhile fails before
		// any answer: an idempotent request without a body goes again on a
		// new connection, as http.Transport does.
		retry := attempt == 0 && uc.reused && r.ContentLength == 0 && idempotent(r) && closedByPeer(err)
		uc.close()
		uc = nil
		if !retry {
			break
		}
	}
	if err != nil {
		g.m.elb5xx.Add(1)
		if r.Context().Err() != nil {
			return // the client went away (ALB logs 460)
		}
		status := http.StatusBadGateway
		var ne net.Error
		if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			status = http.StatusGatewayTimeout
		}
		l.fail(w, status)
		return
	}
	g.m.observe(resp.status, time.Since(start))
	if stickyDur > 0 && cookie(r, "AWSALB") != t.cookie {
		setSticky(dst, "AWSALB", t.cookie, time.Duration(stickyDur))
	}
	if act.sticky {
		setSticky(dst, "AWSALBTG", g.dim, act.stickyDur)
	}
	w.WriteHeader(resp.status)
	n, complete := copyBody(w, uc.body(resp), resp.length < 0, uc, timeout)
	l.lb.m.bytes.Add(n)
	if complete && resp.chunked {
		complete = skipTrailer(uc.br) == nil
	}
	if complete && !resp.close {
		g.up.put(uc, time.Now())
	} else {
		uc.close()
	}
}

func idempotent(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, ok := r.Header["Idempotency-Key"]
	return ok
}

// closedByPeer reports whether err is a target closing a kept-alive
// connection.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// copyBody streams the response body to w through a pooled buffer,
// flushing each chunk when the length is unknown so streamed responses
// reach the client as they are produced. Reads from the target keep its
// idle timeout armed. complete reports that the body was read to its end
// (the connection may then serve another request).
func copyBody(w http.ResponseWriter, body io.Reader, flush bool, uc *upConn, timeout time.Duration) (n int64, complete bool) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	fl, _ := w.(http.Flusher)
	for reads := 0; ; reads++ {
		if reads > 0 {
			uc.armRead(time.Now(), timeout)
		}
		k, err := body.Read(buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return n, false
			}
			n += int64(k)
			if flush && fl != nil {
				fl.Flush()
			}
		}
		if err != nil {
			return n, err == io.EOF
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

// traceIDs makes X-Amzn-Trace-Id values: Root=1-<epoch seconds>-<24 hex
// digits>, the digits a per-listener random base plus a counter, so a new
// ID costs one allocation and no system call.
type traceIDs struct {
	hi   uint32 // random
	base uint64 // random
	n    atomic.Uint64
}

// traceValue holds a header value and its bytes in one allocation.
type traceValue struct {
	v [1]string
	b [40]byte
}

func (l *listenerRuntime) traceID(now time.Time) []string {
	id := l.trace.n.Add(1) + l.trace.base
	tv := new(traceValue)
	b := tv.b[:]
	copy(b, "Root=1-")
	const hexd = "0123456789abcdef"
	sec := uint32(now.Unix())
	for i := 0; i < 8; i++ {
		b[7+i] = hexd[(sec>>(28-4*i))&15]
	}
	b[15] = '-'
	for i := 0; i < 8; i++ {
		b[16+i] = hexd[(l.trace.hi>>(28-4*i))&15]
	}
	for i := 0; i < 16; i++ {
		b[24+i] = hexd[(id>>(60-4*i))&15]
	}
	tv.v[0] = unsafe.String(&tv.b[0], len(tv.b))
	return tv.v[:]
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
	for code, text := range map[int]string{400: "400 Bad Request", 413: "413 Request Entity Too Large", 502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable", 504: "504 Gateway Time-out", 500: "500 Internal Server Error"} {
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
