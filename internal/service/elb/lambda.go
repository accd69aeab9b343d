package elb

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

// FunctionInvoker invokes Lambda functions for target groups of type
// lambda.
type FunctionInvoker interface {
	// InvokeFunction invokes function (an ARN, optionally qualified)
	// synchronously with payload and returns the function's response. A
	// throttled invocation returns an error wrapping ErrFunctionThrottled;
	// any other error (a function error, an unknown function) is answered
	// 502.
	InvokeFunction(ctx context.Context, account, region, function string, payload []byte) ([]byte, error)
}

// ErrFunctionThrottled is wrapped by FunctionInvoker errors of throttled
// invocations; the load balancer answers them 503.
var ErrFunctionThrottled = errors.New("function invocation throttled")

// errNoFunctions answers every invocation when no invoker is wired.
var errNoFunctions = errors.New("lambda is not available")

// SetFunctions sets the invoker of lambda targets (for wiring after New).
func (s *Service) SetFunctions(f FunctionInvoker) {
	if f != nil {
		s.fns.Store(&f)
	}
}

func (s *Service) invokeFunction(ctx context.Context, account, region, fn string, payload []byte) ([]byte, error) {
	p := s.fns.Load()
	if p == nil {
		return nil, errNoFunctions
	}
	return (*p).InvokeFunction(ctx, account, region, fn, payload)
}

// Lambda payload limits: the request body and the response document.
const (
	lambdaMaxRequestBody = 1 << 20
	lambdaMaxResponse    = 1 << 20
)

// createLambdaTargetGroup creates a target group of type lambda: no
// protocol, port, VPC or health check protocol and port.
func (s *Service) createLambdaTargetGroup(r *service.Request, name string) (map[string]any, error) {
	in := r.Input
	for _, f := range []struct{ key, what string }{
		{"Protocol", "A protocol"}, {"Port", "A port"}, {"VpcId", "A VPC ID"}, {"ProtocolVersion", "A protocol version"},
	} {
		if has(in, f.key) {
			return nil, validation("%s cannot be specified for target groups with target type 'lambda'", f.what)
		}
	}
	if e := lambdaHCInput(in); e != nil {
		return nil, e
	}
	if v := str(in, "IpAddressType"); v != "" && v != "ipv4" {
		return nil, validation("The IP address type cannot be specified for target groups with target type 'lambda'")
	}
	hc := defaultHC("", "lambda")
	if err := applyHC(&hc, in, ""); err != nil {
		return nil, err
	}
	tags, terr := parseTags(in)
	if terr != nil {
		return nil, terr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tg := range s.tgs {
		if tg.Account == r.Account && tg.Region == r.Region && tg.Name == name && tg.Classic == "" {
			if tg.TargetType == "lambda" {
				return map[string]any{"TargetGroups": []any{s.tgOut(tg)}}, nil
			}
			return nil, apiErr("DuplicateTargetGroupNameException", "A target group with the same name '%s' exists, but with different settings", name)
		}
	}
	tg := &targetGroup{
		ARN:     tgARN(r, name),
		Account: r.Account, Region: r.Region, Name: name, TargetType: "lambda", IPAddressType: "ipv4",
		HC: hc, Attrs: defaultTGAttrs("", "lambda"), Tags: tags,
	}
	if err := s.commit(putW(r.Account, r.Region, kindTG, tg.ARN, tg)); err != nil {
		return nil, err
	}
	s.tgs[tg.ARN] = tg
	s.syncLocked()
	return map[string]any{"TargetGroups": []any{s.tgOut(tg)}}, nil
}

func tgARN(r *service.Request, name string) string {
	return "arn:" + service.Partition(r.Region) + ":elasticloadbalancing:" + r.Region + ":" + r.Account + ":targetgroup/" + name + "/" + hexID(16)
}

// lambdaHCInput rejects the health check members lambda target groups do
// not take.
func lambdaHCInput(in map[string]any) *awserr.Error {
	if has(in, "HealthCheckProtocol") {
		return validation("A health check protocol cannot be specified for target groups with target type 'lambda'")
	}
	if has(in, "HealthCheckPort") {
		return validation("A health check port cannot be specified for target groups with target type 'lambda'")
	}
	return nil
}

// validFunctionARN reports whether id is a Lambda function ARN,
// arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>].
func validFunctionARN(id string) bool {
	p := strings.Split(id, ":")
	if len(p) != 7 && len(p) != 8 {
		return false
	}
	if p[0] != "arn" || p[1] == "" || p[2] != "lambda" || p[3] == "" || len(p[4]) != 12 || p[5] != "function" || p[6] == "" {
		return false
	}
	return len(p) == 7 || p[7] != ""
}

// lambdaTargetCount counts the distinct functions tg would hold with ts
// registered.
func lambdaTargetCount(tg *targetGroup, ts []targetReg) int {
	set := map[string]bool{}
	for _, t := range tg.Targets {
		set[t.ID] = true
	}
	for _, t := range ts {
		set[t.ID] = true
	}
	return len(set)
}

// albEvent is the event a load balancer invokes a function with.
type albEvent struct {
	RequestContext struct {
		ELB struct {
			TargetGroupARN string `json:"targetGroupArn"`
		} `json:"elb"`
	} `json:"requestContext"`
	HTTPMethod string `json:"httpMethod"`
	Path       string `json:"path"`
	// One of each pair is set (an empty object when there are none).
	QueryStringParameters           any    `json:"queryStringParameters,omitempty"`
	MultiValueQueryStringParameters any    `json:"multiValueQueryStringParameters,omitempty"`
	Headers                         any    `json:"headers,omitempty"`
	MultiValueHeaders               any    `json:"multiValueHeaders,omitempty"`
	Body                            string `json:"body"`
	IsBase64Encoded                 bool   `json:"isBase64Encoded"`
}

// albResponse is the document a function answers with.
type albResponse struct {
	StatusCode        *int                `json:"statusCode"`
	StatusDescription string              `json:"statusDescription"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// textType reports whether a request body of this Content-Type is passed
// to the function as is (else it is base64-encoded).
func textType(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.ToLower(strings.TrimSpace(ct))
	if strings.HasPrefix(ct, "text/") {
		return true
	}
	switch ct {
	case "application/json", "application/javascript", "application/xml":
		return true
	}
	return false
}

// buildALBEvent makes the invocation event of a request. rawQuery is
// passed without decoding, as the load balancer does; duplicated headers
// and parameters keep their last value unless multi is set.
func buildALBEvent(tgARN, method, path, rawQuery string, h http.Header, body []byte, multi bool) ([]byte, error) {
	var ev albEvent
	ev.RequestContext.ELB.TargetGroupARN = tgARN
	ev.HTTPMethod, ev.Path = method, path
	var (
		qs, hs map[string]string
		qm, hm map[string][]string
	)
	if multi {
		qm, hm = map[string][]string{}, make(map[string][]string, len(h)+1)
		ev.MultiValueQueryStringParameters, ev.MultiValueHeaders = qm, hm
	} else {
		qs, hs = map[string]string{}, make(map[string]string, len(h)+1)
		ev.QueryStringParameters, ev.Headers = qs, hs
	}
	for rawQuery != "" {
		var part string
		part, rawQuery, _ = strings.Cut(rawQuery, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if multi {
			qm[k] = append(qm[k], v)
		} else {
			qs[k] = v
		}
	}
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		lk := strings.ToLower(k)
		if multi {
			hm[lk] = append(hm[lk], vs...)
		} else {
			hs[lk] = vs[len(vs)-1]
		}
	}
	if len(body) > 0 {
		if textType(h.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return json.Marshal(&ev)
}

// parseALBResponse reads a function's answer: status, headers and body.
// ok is false for a document the load balancer rejects (502).
func parseALBResponse(doc []byte, multi bool) (status int, h http.Header, body []byte, ok bool) {
	var res albResponse
	if len(doc) > lambdaMaxResponse || json.Unmarshal(doc, &res) != nil || res.StatusCode == nil {
		return 0, nil, nil, false
	}
	status = *res.StatusCode
	if status < 100 || status > 599 {
		return 0, nil, nil, false
	}
	h = http.Header{}
	if multi {
		for k, vs := range res.MultiValueHeaders {
			if !validHeader(k, vs...) {
				return 0, nil, nil, false
			}
			ck := http.CanonicalHeaderKey(k)
			h[ck] = append(h[ck], vs...)
		}
	} else {
		for k, v := range res.Headers {
			if !validHeader(k, v) {
				return 0, nil, nil, false
			}
			h[http.CanonicalHeaderKey(k)] = []string{v}
		}
	}
	if res.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(res.Body)
		if err != nil {
			return 0, nil, nil, false
		}
		body = b
	} else {
		body = []byte(res.Body)
	}
	return status, h, body, true
}

func validHeader(k string, vs ...string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	for _, v := range vs {
		if strings.ContainsAny(v, "\r\n\x00") {
			return false
		}
	}
	return true
}

// hop-by-hop and framing headers a function's answer cannot set.
var lambdaDropHeaders = [...]string{"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Trailer"}

// forwardLambda serves a request with the target group's function.
func (l *listenerRuntime) forwardLambda(w http.ResponseWriter, r *http.Request, g *tgRuntime, t *target, start time.Time) {
	if r.Header.Get("Upgrade") != "" {
		l.fail(w, http.StatusBadRequest)
		return
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		if r.ContentLength > lambdaMaxRequestBody {
			l.fail(w, http.StatusRequestEntityTooLarge)
			return
		}
		var buf bytes.Buffer
		if r.ContentLength > 0 {
			buf.Grow(int(r.ContentLength))
		}
		if _, err := io.Copy(&buf, io.LimitReader(r.Body, lambdaMaxRequestBody+1)); err != nil {
			return // the client went away
		}
		if buf.Len() > lambdaMaxRequestBody {
			l.fail(w, http.StatusRequestEntityTooLarge)
			return
		}
		body = buf.Bytes()
	}
	t.outstanding.Add(1)
	defer t.outstanding.Add(-1)
	g.m.requests.Add(1)
	g.mu.Lock()
	multi := g.cfg.Attrs["lambda.multi_value_headers.enabled"] == "true"
	g.mu.Unlock()

	h := r.Header
	stripHop(h)
	delete(h, "Expect")
	if r.Host != "" {
		h["Host"] = []string{r.Host}
	}
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
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	ev, err := buildALBEvent(g.arn, r.Method, path, r.URL.RawQuery, h, body, multi)
	if err != nil {
		g.m.elb5xx.Add(1)
		l.fail(w, http.StatusBadGateway)
		return
	}
	doc, err := l.s.invokeFunction(r.Context(), g.account, g.region, t.id, ev)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client went away
		}
		g.m.elb5xx.Add(1)
		if errors.Is(err, ErrFunctionThrottled) {
			l.fail(w, http.StatusServiceUnavailable)
			return
		}
		l.fail(w, http.StatusBadGateway)
		return
	}
	status, rh, rb, ok := parseALBResponse(doc, multi)
	if !ok {
		g.m.elb5xx.Add(1)
		l.fail(w, http.StatusBadGateway)
		return
	}
	g.m.observe(status, time.Since(start))
	dst := w.Header()
	for k, vs := range rh {
		dst[k] = vs
	}
	for _, k := range lambdaDropHeaders {
		delete(dst, k)
	}
	if _, ok := dst["Content-Type"]; !ok {
		dst["Content-Type"] = nil // no sniffing: the function's answer as it is
	}
	dst["Content-Length"] = []string{strconv.Itoa(len(rb))}
	w.WriteHeader(status)
	if r.Method != http.MethodHead && len(rb) > 0 {
		w.Write(rb)
		l.lb.m.bytes.Add(int64(len(rb)))
	}
}

// checkLambda runs one health check of a lambda target: an invocation with
// a GET / event whose answer's status must match the matcher.
func (g *tgRuntime) checkLambda(ctx context.Context, hc healthCheck, t *target) (bool, *reason) {
	cctx, cancel := context.WithTimeout(ctx, time.Duration(hc.Timeout)*time.Second)
	defer cancel()
	g.mu.Lock()
	multi := g.cfg.Attrs["lambda.multi_value_headers.enabled"] == "true"
	g.mu.Unlock()
	path := hc.Path
	if path == "" {
		path = "/"
	}
	ev, err := buildALBEvent(g.arn, http.MethodGet, path, "", http.Header{"User-Agent": {"ELB-HealthChecker/2.0"}}, nil, multi)
	if err != nil {
		return false, rsFailed
	}
	doc, err := g.s.invokeFunction(cctx, g.account, g.region, t.id, ev)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return false, rsTimeout
		}
		return false, rsLambdaUnhandled
	}
	status, _, _, ok := parseALBResponse(doc, multi)
	if !ok {
		return false, rsLambdaInvalid
	}
	ranges, _ := parseMatcher(hc.Matcher)
	for _, rg := range ranges {
		if status >= rg[0] && status <= rg[1] {
			return true, nil
		}
	}
	return false, &reason{"Target.ResponseCodeMismatch", "Health checks failed with these codes: [" + strconv.Itoa(status) + "]"}
}

var (
	rsLambdaUnhandled = &reason{"Target.FailedHealthChecks", "The Lambda function invocation failed"}
	rsLambdaInvalid   = &reason{"Target.FailedHealthChecks", "The Lambda function returned an invalid response"}
)
