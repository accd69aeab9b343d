package prototest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/model"
	"github.com/overcast-dev/overcast/internal/protocol/xmlenc"
)

// Result counts the cases of one run.
type Result struct {
	Passed, Failed, Skipped int
	// Known counts cases listed in Runner.KnownFailures that failed as expected.
	Known int
}

func (r Result) String() string {
	return fmt.Sprintf("passed %d, failed %d, skipped %d, known failures %d", r.Passed, r.Failed, r.Skipped, r.Known)
}

// Runner runs protocol test suites. The zero value runs every case strictly.
type Runner struct {
	// KnownFailures maps case names (as in the subtest name before Go
	// rewrites spaces, e.g. "Greedy keys 19.0") to why they fail. Listed
	// cases still run: a failure is logged, not reported; a pass fails the
	// test so the entry gets removed.
	KnownFailures map[string]string
}

// RunInput runs the input cases of file against c with a zero Runner.
func RunInput(t *testing.T, file string, c protocol.Codec) Result {
	t.Helper()
	return (&Runner{}).RunInput(t, file, c)
}

// RunOutput runs the output cases of file against c with a zero Runner.
func RunOutput(t *testing.T, file string, c protocol.Codec) Result {
	t.Helper()
	return (&Runner{}).RunOutput(t, file, c)
}

type suite struct {
	Description string          `json:"description"`
	Metadata    json.RawMessage `json:"metadata"`
	Shapes      json.RawMessage `json:"shapes"`
	Cases       []tcase         `json:"cases"`
}

type tcase struct {
	Given      json.RawMessage `json:"given"`
	Params     json.RawMessage `json:"params"`
	Result     json.RawMessage `json:"result"`
	Serialized *struct {
		Method  string            `json:"method"`
		URI     string            `json:"uri"`
		Body    string            `json:"body"`
		Headers map[string]string `json:"headers"`
		Host    string            `json:"host"`
	} `json:"serialized"`
	Response *struct {
		StatusCode int               `json:"status_code"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	} `json:"response"`
}

type given struct {
	Name string `json:"name"`
}

func loadSuites(t *testing.T, file string) []suite {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var suites []suite
	if err := json.Unmarshal(data, &suites); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return suites
}

// caseAPI builds the API of one case: the suite's shapes plus the case's
// operation (cases of one suite reuse an operation name with different
// bindings, so each case gets its own API).
func caseAPI(s *suite, c *tcase) (*model.API, *model.Operation, error) {
	var g given
	if err := json.Unmarshal(c.Given, &g); err != nil {
		return nil, nil, err
	}
	ops, err := json.Marshal(map[string]json.RawMessage{g.Name: c.Given})
	if err != nil {
		return nil, nil, err
	}
	shapes, err := normalizeShapes(s.Shapes, c.Given)
	if err != nil {
		return nil, nil, err
	}
	api, err := model.ParseParts(s.Metadata, ops, shapes)
	if err != nil {
		return nil, nil, err
	}
	return api, api.Operations[g.Name], nil
}

// normalizeShapes rewrites two legacy forms of the suites into the form of
// real models, which package model reads: a location trait written on a
// shape (instead of on the member that uses it) moves to the members, and a
// payload trait written on the operation's input/output reference moves to
// the shape. Member order is not kept; nothing the runner compares depends
// on it.
func normalizeShapes(raw, givenRaw json.RawMessage) (json.RawMessage, error) {
	shapes := map[string]map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &shapes); err != nil {
			return nil, err
		}
	}
	for _, sh := range shapes {
		members, _ := sh["members"].(map[string]any)
		for _, mv := range members {
			m, _ := mv.(map[string]any)
			if m == nil {
				continue
			}
			name, _ := m["shape"].(string)
			target := shapes[name]
			loc, ok := target["location"]
			if !ok {
				continue
			}
			if _, has := m["location"]; !has {
				m["location"] = loc
				if ln, ok := target["locationName"]; ok {
					if _, has := m["locationName"]; !has {
						m["locationName"] = ln
					}
				}
			}
		}
	}
	var g struct {
		Input, Output map[string]any
	}
	if err := json.Unmarshal(givenRaw, &g); err != nil {
		return nil, err
	}
	for _, ref := range []map[string]any{g.Input, g.Output} {
		if p, ok := ref["payload"]; ok {
			name, _ := ref["shape"].(string)
			if sh := shapes[name]; sh != nil {
				sh["payload"] = p
			}
		}
	}
	return json.Marshal(shapes)
}

type outcome struct {
	skip     string
	problems []string
}

func (o *outcome) failf(format string, args ...any) {
	o.problems = append(o.problems, fmt.Sprintf(format, args...))
}

func (r *Runner) run(t *testing.T, file string, fn func(s *suite, c *tcase) outcome) Result {
	t.Helper()
	var res Result
	suites := loadSuites(t, file)
	for si := range suites {
		s := &suites[si]
		for ci := range s.Cases {
			c := &s.Cases[ci]
			name := fmt.Sprintf("%s %d.%d", s.Description, si, ci)
			t.Run(name, func(t *testing.T) {
				o := fn(s, c)
				reason, known := r.KnownFailures[name]
				switch {
				case o.skip != "":
					res.Skipped++
					t.Skip(o.skip)
				case len(o.problems) == 0 && known:
					res.Failed++
					t.Errorf("listed as a known failure (%s) but passes: remove it from the list", reason)
				case len(o.problems) == 0:
					res.Passed++
				case known:
					res.Known++
					t.Logf("known failure (%s):\n%s", reason, strings.Join(o.problems, "\n"))
				default:
					res.Failed++
					t.Error(strings.Join(o.problems, "\n"))
				}
			})
		}
	}
	t.Logf("%s: %v", file, res)
	return res
}

// RunInput runs the input cases of file against c: each case's serialized
// request must route to its operation and decode to its params.
func (r *Runner) RunInput(t *testing.T, file string, c protocol.Codec) Result {
	t.Helper()
	return r.run(t, file, func(s *suite, tc *tcase) (o outcome) {
		defer func() {
			if p := recover(); p != nil {
				o.failf("panic: %v", p)
			}
		}()
		api, op, err := caseAPI(s, tc)
		if err != nil {
			o.failf("model: %v", err)
			return o
		}
		if tc.Serialized == nil {
			o.skip = "case has no serialized request"
			return o
		}
		for k, v := range tc.Serialized.Headers {
			if strings.TrimSpace(k) != k || strings.TrimSpace(v) != v {
				o.skip = "header names or values with surrounding whitespace do not survive HTTP parsing (RFC 9110 trims it), so no server sees them"
				return o
			}
		}
		req, err := buildRequest(api, op, tc)
		if err != nil {
			o.failf("request: %v", err)
			return o
		}
		got, err := c.Operation(req, api)
		if err != nil {
			o.failf("Operation: %v", err)
			return o
		}
		if got != op {
			o.failf("Operation = %s, want %s", got.Name, op.Name)
			return o
		}
		vals, err := c.DecodeRequest(req, api, op)
		if err != nil {
			o.failf("DecodeRequest: %v", err)
			return o
		}
		var want map[string]any
		if op.Input != nil {
			raw, err := decodeJSON(tc.Params)
			if err != nil {
				o.failf("params: %v", err)
				return o
			}
			v, err := convert(op.Input, raw, true)
			if err != nil {
				o.failf("params: %v", err)
				return o
			}
			want, _ = v.(map[string]any)
		}
		if reason := untrimmedHeaders(op.Input, want); reason != "" {
			o.skip = reason
			return o
		}
		dropAutoTokens(op.Input, vals, want)
		compareValues(&o, "input", vals, want)
		if req.Body != nil {
			req.Body.Close()
		}
		return o
	})
}

func buildRequest(api *model.API, op *model.Operation, tc *tcase) (*http.Request, error) {
	sz := tc.Serialized
	method := sz.Method
	if method == "" {
		method = op.HTTP.Method
	}
	uri := sz.URI
	if uri == "" {
		uri = "/"
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, err
	}
	host := sz.Host
	if host == "" {
		host = "service.region.amazonaws.com"
	}
	u.Host = host
	req := &http.Request{
		Method:     method,
		URL:        u,
		RequestURI: uri,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Host:       host,
		Header:     http.Header{},
	}
	for k, v := range sz.Headers {
		req.Header.Set(k, v)
	}
	if api.Metadata.Protocol == "json" && req.Header.Get("X-Amz-Target") == "" {
		// Every json client sends the target; some cases leave it out
		// because they test something else.
		req.Header.Set("X-Amz-Target", targetFor(api.Metadata.TargetPrefix, op.Name))
	}
	req.ContentLength = int64(len(sz.Body))
	if sz.Body != "" {
		req.Header.Set("Content-Length", strconv.Itoa(len(sz.Body)))
		req.Body = io.NopCloser(strings.NewReader(sz.Body))
	} else {
		req.Body = http.NoBody
	}
	return req, nil
}

// untrimmedHeaders reports header-bound params with surrounding whitespace:
// clients trim it when they serialize, so a server cannot see it.
func untrimmedHeaders(ref *model.Ref, want map[string]any) string {
	if ref == nil {
		return ""
	}
	spaced := func(s string) bool { return strings.TrimSpace(s) != s }
	for name, m := range ref.Shape.Members {
		switch v := want[name].(type) {
		case string:
			if m.Location == "header" && spaced(v) {
				return "header " + name + " has surrounding whitespace, which clients trim on the wire"
			}
		case map[string]any:
			if m.Location != "headers" {
				continue
			}
			for k, e := range v {
				if s, _ := e.(string); spaced(k) || spaced(s) {
					return "header map " + name + " has whitespace around names or values, which clients trim on the wire"
				}
			}
		}
	}
	return ""
}

// dropAutoTokens removes idempotency-token members the client filled in by
// itself: present on the wire, absent from params.
func dropAutoTokens(ref *model.Ref, got, want map[string]any) {
	if ref == nil || ref.Shape == nil || got == nil {
		return
	}
	for name, m := range ref.Shape.Members {
		if !m.IdempotencyTok {
			continue
		}
		if _, ok := want[name]; !ok {
			delete(got, name)
		}
	}
}

// RunOutput runs the output cases of file against c: each case's result,
// written by the codec, must match its response.
func (r *Runner) RunOutput(t *testing.T, file string, c protocol.Codec) Result {
	t.Helper()
	return r.run(t, file, func(s *suite, tc *tcase) (o outcome) {
		defer func() {
			if p := recover(); p != nil {
				o.failf("panic: %v", p)
			}
		}()
		api, op, err := caseAPI(s, tc)
		if err != nil {
			o.failf("model: %v", err)
			return o
		}
		if tc.Response == nil {
			o.skip = "case has no response"
			return o
		}
		exp := tc.Response
		var out map[string]any
		if op.Output != nil {
			raw, err := decodeJSON(tc.Result)
			if err != nil {
				o.failf("result: %v", err)
				return o
			}
			v, err := convert(op.Output, raw, false)
			if err != nil {
				o.failf("result: %v", err)
				return o
			}
			out, _ = v.(map[string]any)
		} else if exp.Body != "" {
			o.skip = "the operation has no output shape; the body is data a client ignores"
			return o
		}
		if reason := unmodeledBody(api, op, exp.Body); reason != "" {
			o.skip = reason
			return o
		}
		req := httptest.NewRequest(op.HTTP.Method, "/", nil)
		rec := httptest.NewRecorder()
		if err := c.WriteResponse(rec, req, api, op, out, expectedRequestID(exp.Headers, exp.Body)); err != nil {
			o.failf("WriteResponse: %v", err)
			return o
		}
		if exp.StatusCode != 0 && rec.Code != exp.StatusCode {
			o.failf("status = %d, want %d", rec.Code, exp.StatusCode)
		}
		names := make([]string, 0, len(exp.Headers))
		for k := range exp.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			want := exp.Headers[k]
			vs := rec.Header().Values(k)
			if len(vs) == 0 {
				o.failf("header %s missing, want %q", k, want)
				continue
			}
			got := strings.Join(vs, ", ")
			if got != want && !sameInstant(got, want) {
				o.failf("header %s = %q, want %q", k, got, want)
			}
		}
		compareBody(&o, api.Metadata.Protocol, rec.Body.Bytes(), []byte(exp.Body), op.Output)
		return o
	})
}

// unmodeledBody reports a JSON response body whose top-level keys the output
// shape does not define: clients ignore such data, and a server generating
// the body from the result cannot reproduce it.
func unmodeledBody(api *model.API, op *model.Operation, body string) string {
	if op.Output == nil || !strings.Contains(api.Metadata.Protocol, "json") || body == "" {
		return ""
	}
	sh := op.Output.Shape
	if sh.Payload != "" {
		return ""
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(body), &obj) != nil {
		return "the body is not JSON, which clients of a JSON protocol ignore"
	}
	for k := range obj {
		if n, _ := sh.MemberByLocationName(k); n == "" {
			return "the body carries " + strconv.Quote(k) + ", which the output shape does not define; clients ignore it"
		}
	}
	return ""
}

func decodeJSON(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return map[string]any{}, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// convert turns a params/result JSON value into the generic value the
// codecs use for ref's shape.
func convert(ref *model.Ref, v any, input bool) (any, error) {
	if v == nil {
		return nil, nil
	}
	sh := ref.Shape
	if ref.JSONValue {
		return plainJSON(v), nil
	}
	switch sh.Type {
	case "structure":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: want an object, have %T", sh.Name, v)
		}
		if sh.Document {
			return plainJSON(v), nil
		}
		out := make(map[string]any, len(m))
		for k, mv := range m {
			mr := sh.Members[k]
			if mr == nil {
				return nil, fmt.Errorf("%s has no member %s", sh.Name, k)
			}
			if mv == nil {
				continue
			}
			cv, err := convert(mr, mv, input)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", sh.Name, k, err)
			}
			out[k] = cv
		}
		return out, nil
	case "list":
		l, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: want an array, have %T", sh.Name, v)
		}
		out := make([]any, 0, len(l))
		for _, e := range l {
			cv, err := convert(sh.Member, e, input)
			if err != nil {
				return nil, err
			}
			out = append(out, cv)
		}
		return out, nil
	case "map":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: want an object, have %T", sh.Name, v)
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			cv, err := convert(sh.Value, e, input)
			if err != nil {
				return nil, err
			}
			out[k] = cv
		}
		return out, nil
	case "timestamp":
		switch x := v.(type) {
		case json.Number:
			f, err := x.Float64()
			if err != nil {
				return nil, err
			}
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
		case string:
			tm, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return nil, err
			}
			return tm.UTC(), nil
		}
		return nil, fmt.Errorf("timestamp: unexpected %T", v)
	case "blob":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("blob: unexpected %T", v)
		}
		if ref.Streaming && !input {
			return &protocol.Stream{Body: io.NopCloser(strings.NewReader(s)), Length: int64(len(s))}, nil
		}
		return []byte(s), nil
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("boolean: unexpected %T", v)
		}
		return b, nil
	case "byte", "short", "integer", "long":
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("integer: unexpected %T", v)
		}
		return n.Int64()
	case "float", "double":
		switch x := v.(type) {
		case json.Number:
			return x.Float64()
		case string: // "NaN", "Infinity", "-Infinity"
			switch x {
			case "NaN":
				return math.NaN(), nil
			case "Infinity":
				return math.Inf(1), nil
			case "-Infinity":
				return math.Inf(-1), nil
			}
		}
		return nil, fmt.Errorf("float: unexpected %v", v)
	case "string", "character":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("string: unexpected %T", v)
		}
		return s, nil
	}
	return plainJSON(v), nil
}

// plainJSON turns json.Number into float64, as encoding/json decodes a
// document or jsonvalue into any.
func plainJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plainJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainJSON(e)
		}
		return out
	}
	return v
}

// compareValues compares decoded generic values with the expected ones.
func compareValues(o *outcome, path string, got, want any) {
	if r, ok := got.(io.Reader); ok {
		if _, isBytes := got.([]byte); !isBytes {
			b, err := io.ReadAll(r)
			if err != nil {
				o.failf("%s: read stream: %v", path, err)
				return
			}
			got = b
		}
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			o.failf("%s = %#v (%T), want a map %#v", path, got, got, want)
			return
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			gv, gok := g[k]
			wv, wok := w[k]
			switch {
			case !gok:
				o.failf("%s.%s missing, want %#v", path, k, wv)
			case !wok:
				o.failf("%s.%s = %#v, want absent", path, k, gv)
			default:
				compareValues(o, path+"."+k, gv, wv)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			o.failf("%s = %#v (%T), want a list %#v", path, got, got, want)
			return
		}
		if len(g) != len(w) {
			o.failf("%s has %d elements, want %d: %#v vs %#v", path, len(g), len(w), got, want)
			return
		}
		for i := range w {
			compareValues(o, path+"["+strconv.Itoa(i)+"]", g[i], w[i])
		}
	case time.Time:
		g, ok := got.(time.Time)
		if !ok || !g.Equal(w) {
			o.failf("%s = %#v, want %v", path, got, w)
		}
	case []byte:
		g, ok := got.([]byte)
		if !ok || !bytes.Equal(g, w) {
			o.failf("%s = %#v, want %q", path, got, w)
		}
	case float64:
		g, ok := got.(float64)
		if !ok || !(g == w || math.IsNaN(g) && math.IsNaN(w)) {
			o.failf("%s = %#v (%T), want %v", path, got, got, w)
		}
	default:
		if got != want {
			o.failf("%s = %#v (%T), want %#v (%T)", path, got, got, want, want)
		}
	}
}

func compareBody(o *outcome, proto string, got, want []byte, out *model.Ref) {
	if len(bytes.TrimSpace(want)) == 0 {
		if len(bytes.TrimSpace(got)) != 0 {
			o.failf("body = %q, want empty", got)
		}
		return
	}
	if strings.Contains(proto, "json") {
		wv, werr := decodeJSON(want)
		if werr == nil {
			gv, err := decodeJSON(got)
			if err != nil {
				o.failf("body is not JSON (%v): %q", err, got)
				return
			}
			before := len(o.problems)
			compareJSON(o, "body", gv, wv)
			if len(o.problems) > before {
				o.failf("body = %s\nwant   %s", got, want)
			}
			return
		}
	} else if bytes.HasPrefix(bytes.TrimSpace(want), []byte("<")) {
		wn, err := xmlenc.Parse(want)
		if err == nil {
			gn, err := xmlenc.Parse(got)
			if err != nil {
				o.failf("body is not XML (%v): %q", err, got)
				return
			}
			before := len(o.problems)
			x := &xmlCompare{o: o, unordered: map[string]bool{}}
			if out != nil {
				mapElementNames(out.Shape, x.unordered, map[*model.Shape]bool{})
				if _, ok := out.Shape.Members["RequestId"]; !ok {
					// Clients lift a root-level request id into response
					// metadata; where it sits is not part of the result.
					dropRequestID(wn)
					dropRequestID(gn)
				}
			}
			x.compare("/", gn, wn, true)
			if len(o.problems) > before {
				o.failf("body = %s\nwant   %s", got, want)
			}
			return
		}
	}
	if !bytes.Equal(got, want) {
		o.failf("body = %q, want %q", got, want)
	}
}

func compareJSON(o *outcome, path string, got, want any) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			o.failf("%s = %v, want an object", path, got)
			return
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				o.failf("%s.%s missing", path, k)
				continue
			}
			compareJSON(o, path+"."+k, gv, wv)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				o.failf("%s.%s = %v, want absent", path, k, g[k])
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			o.failf("%s = %v, want %v", path, got, want)
			return
		}
		for i := range w {
			compareJSON(o, path+"["+strconv.Itoa(i)+"]", g[i], w[i])
		}
	case json.Number:
		wf, _ := w.Float64()
		switch g := got.(type) {
		case json.Number:
			gf, _ := g.Float64()
			if gf != wf {
				o.failf("%s = %v, want %v", path, g, w)
			}
		default:
			o.failf("%s = %v, want %v", path, got, w)
		}
	case string:
		if n, ok := got.(json.Number); ok && sameInstant(string(n), w) {
			return // a timestamp written as epoch seconds; clients read both forms
		}
		g, ok := got.(string)
		if !ok || (g != w && !sameInstant(g, w) && !sameJSONText(g, w)) {
			o.failf("%s = %#v, want %q", path, got, w)
		}
	default:
		if got != want {
			o.failf("%s = %#v, want %#v", path, got, want)
		}
	}
}

// sameJSONText reports whether two strings hold equal JSON documents (the
// jsonvalue trait puts JSON text inside JSON strings; key order may differ).
func sameJSONText(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// xmlCompare compares element trees. Elements named in unordered hold map
// entries, whose order carries no meaning; they are matched as a multiset.
type xmlCompare struct {
	o         *outcome
	unordered map[string]bool
}

// mapElementNames collects the element names that carry map entries in sh.
func mapElementNames(sh *model.Shape, names map[string]bool, seen map[*model.Shape]bool) {
	if sh == nil || seen[sh] {
		return
	}
	seen[sh] = true
	switch sh.Type {
	case "structure":
		for n, m := range sh.Members {
			if m.Shape.Type == "map" {
				if m.IsFlattened() {
					names[m.WireName(n)] = true
				} else {
					names["entry"] = true
				}
			}
			mapElementNames(m.Shape, names, seen)
		}
	case "list":
		mapElementNames(sh.Member.Shape, names, seen)
	case "map":
		names["entry"] = true
		mapElementNames(sh.Value.Shape, names, seen)
	}
}

func (x *xmlCompare) compare(path string, got, want *xmlenc.Node, root bool) {
	o := x.o
	if !root && got.Name != want.Name {
		o.failf("%s: element %s, want %s", path, got.Name, want.Name)
		return
	}
	here := path + want.Name
	wa := attrMap(want)
	ga := attrMap(got)
	for k, v := range wa {
		if gv, ok := ga[k]; !ok || gv != v {
			o.failf("%s@%s = %q, want %q", here, k, ga[k], v)
		}
	}
	for k := range ga {
		if _, ok := wa[k]; !ok {
			o.failf("%s@%s = %q, want absent", here, k, ga[k])
		}
	}
	gt, wt := strings.TrimSpace(got.Text), strings.TrimSpace(want.Text)
	if len(want.Children) == 0 && len(got.Children) == 0 {
		gt, wt = got.Text, want.Text
		if strings.TrimSpace(gt) == "" && strings.TrimSpace(wt) == "" {
			gt, wt = "", ""
		}
	}
	if gt != wt && !sameInstant(gt, wt) && !sameNumber(gt, wt) {
		o.failf("%s text = %q, want %q", here, got.Text, want.Text)
	}
	gc := childGroups(got)
	wc := childGroups(want)
	for name, ws := range wc {
		gs := gc[name]
		if len(gs) != len(ws) {
			o.failf("%s has %d <%s>, want %d", here, len(gs), name, len(ws))
			continue
		}
		if x.unordered[name] {
			x.compareUnordered(here+"/", gs, ws)
			continue
		}
		for i := range ws {
			x.compare(here+"/", gs[i], ws[i], false)
		}
	}
	for name, gs := range gc {
		if _, ok := wc[name]; !ok {
			o.failf("%s has %d unexpected <%s>", here, len(gs), name)
		}
	}
}

// compareUnordered matches each wanted element with a distinct equal one.
func (x *xmlCompare) compareUnordered(path string, gs, ws []*xmlenc.Node) {
	used := make([]bool, len(gs))
	for _, w := range ws {
		found := false
		for i, g := range gs {
			if used[i] {
				continue
			}
			probe := &xmlCompare{o: &outcome{}, unordered: x.unordered}
			probe.compare(path, g, w, false)
			if len(probe.o.problems) == 0 {
				used[i], found = true, true
				break
			}
		}
		if !found {
			x.o.failf("%s%s: no element matches %+v", path, w.Name, w)
		}
	}
}

func attrMap(n *xmlenc.Node) map[string]string {
	m := map[string]string{}
	for _, a := range n.Attrs {
		m[a.Name] = a.Value
	}
	return m
}

func childGroups(n *xmlenc.Node) map[string][]*xmlenc.Node {
	m := map[string][]*xmlenc.Node{}
	for _, c := range n.Children {
		m[c.Name] = append(m[c.Name], c)
	}
	return m
}

// sameInstant reports whether a and b are the same time written in any of
// the formats AWS uses (ISO 8601, RFC 1123, epoch seconds).
func sameInstant(a, b string) bool {
	ta, ok1 := parseInstant(a)
	tb, ok2 := parseInstant(b)
	return ok1 && ok2 && ta.Equal(tb)
}

func parseInstant(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, time.RFC1123, time.RFC1123Z} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "eEnN") && strings.Count(s, ".") <= 1 && len(s) >= 9 {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))), true
	}
	return time.Time{}, false
}

func sameNumber(a, b string) bool {
	fa, err1 := strconv.ParseFloat(a, 64)
	fb, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && fa == fb
}

var requestIDElement = regexp.MustCompile(`<(?:RequestId|requestId|RequestID)>([^<]*)</`)

// expectedRequestID is the request id a case's response carries, so the
// codec under test writes the same one.
func expectedRequestID(headers map[string]string, body string) string {
	for k, v := range headers {
		switch strings.ToLower(k) {
		case "x-amzn-requestid", "x-amz-request-id":
			return v
		}
	}
	if m := requestIDElement.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return "req-1"
}

// dropRequestID removes root-level request id elements (RequestId in query
// responses, requestId in ec2 responses).
func dropRequestID(n *xmlenc.Node) {
	kept := n.Children[:0]
	for _, c := range n.Children {
		if c.Name != "RequestId" && c.Name != "requestId" {
			kept = append(kept, c)
		}
	}
	n.Children = kept
}

func targetFor(prefix, op string) string {
	if prefix == "" {
		return op
	}
	return prefix + "." + op
}
