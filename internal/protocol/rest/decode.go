package rest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/model"
)

// Timestamp formats of the timestampFormat trait.
const (
	fmtISO8601 = "iso8601"
	fmtRFC822  = "rfc822"
	fmtUnix    = "unixTimestamp"
)

func (c *Codec) badInput(format string, args ...any) *awserr.Error {
	if c.json {
		return awserr.New(awserr.CodeSerialization, format, args...)
	}
	return awserr.New("InvalidArgument", format, args...)
}

func (c *Codec) malformedBody(detail string) *awserr.Error {
	if c.json {
		return awserr.New(awserr.CodeSerialization, "%s", detail)
	}
	return awserr.New("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
}

// DecodeRequest decodes r's URI labels, query string, headers and body into
// the value of op's input shape.
func (c *Codec) DecodeRequest(r *http.Request, api *model.API, op *model.Operation) (map[string]any, error) {
	if op.Input == nil || op.Input.Shape == nil {
		return map[string]any{}, nil
	}
	sh := op.Input.Shape
	b := c.binding(api, op)
	out := make(map[string]any, 8)
	if b.labels != nil {
		if rt := c.table(api).byOp[op]; rt != nil {
			var lerr error
			rt.matchPath(r.URL.EscapedPath(), func(l, raw string) {
				m, ok := b.labels[l]
				if !ok || lerr != nil {
					return
				}
				s, err := url.PathUnescape(raw)
				if err != nil {
					lerr = c.badInput("Invalid URI encoding in %s.", m.name)
					return
				}
				v, err := c.parseString(m.ref, s, fmtISO8601)
				if err != nil {
					lerr = err
					return
				}
				out[m.name] = v
			})
			if lerr != nil {
				return nil, lerr
			}
		}
	}
	if b.hasQuery {
		if err := c.decodeQuery(r.URL.RawQuery, sh, b, out); err != nil {
			return nil, err
		}
	}
	if b.headers != nil || b.prefixes != nil {
		if err := c.decodeHeaders(r.Header, b, out); err != nil {
			return nil, err
		}
	}
	if sh.Payload != "" {
		return out, c.decodePayload(r, sh, out)
	}
	if !b.hasBody {
		return out, nil
	}
	body, err := protocol.ReadBody(r)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return out, nil
	}
	if c.json {
		return out, c.decodeJSONMembers(body, sh, out)
	}
	return out, c.decodeXMLMembers(body, sh, out)
}

func malformedQuery(raw string) error {
	_, err := url.ParseQuery(raw)
	if err == nil {
		err = errors.New("invalid query")
	}
	return awserr.New(awserr.CodeMalformedQueryString, "The query string is malformed: %v", err)
}

// decodeQuery decodes the querystring members, walking the raw query once.
func (c *Codec) decodeQuery(raw string, sh *model.Shape, b *binding, out map[string]any) error {
	if b.queryMap {
		return c.decodeQueryValues(raw, sh, out)
	}
	var lists map[string][]any
	for rest := raw; rest != ""; {
		var kv string
		kv, rest, _ = strings.Cut(rest, "&")
		if kv == "" {
			continue
		}
		if strings.IndexByte(kv, ';') >= 0 {
			return malformedQuery(raw)
		}
		k, v, _ := strings.Cut(kv, "=")
		if strings.ContainsAny(k, "%+") {
			uk, err := url.QueryUnescape(k)
			if err != nil {
				return malformedQuery(raw)
			}
			k = uk
		}
		if strings.ContainsAny(v, "%+") {
			uv, err := url.QueryUnescape(v)
			if err != nil {
				return malformedQuery(raw)
			}
			v = uv
		}
		m, ok := b.query[k]
		if !ok {
			continue
		}
		if m.ref.Shape.Type == "list" {
			pv, err := c.parseString(m.ref.Shape.Member, v, fmtISO8601)
			if err != nil {
				return err
			}
			if lists == nil {
				lists = map[string][]any{}
			}
			lists[m.name] = append(lists[m.name], pv)
			continue
		}
		if _, seen := out[m.name]; seen {
			continue // the first value counts
		}
		pv, err := c.parseString(m.ref, v, fmtISO8601)
		if err != nil {
			return err
		}
		out[m.name] = pv
	}
	for name, l := range lists {
		out[name] = l
	}
	return nil
}

// decodeQueryValues decodes the querystring members of a shape with a map
// member, which takes every parameter no other member names.
func (c *Codec) decodeQueryValues(raw string, sh *model.Shape, out map[string]any) error {
	query, err := url.ParseQuery(raw)
	if err != nil {
		return awserr.New(awserr.CodeMalformedQueryString, "The query string is malformed: %v", err)
	}
	for _, name := range sh.MemberNames {
		m := sh.Members[name]
		if m.Location != "querystring" {
			continue
		}
		if m.Shape.Type == "map" {
			v, err := c.queryMap(sh, m, query)
			if err != nil {
				return err
			}
			if v != nil {
				out[name] = v
			}
			continue
		}
		vs, ok := query[m.WireName(name)]
		if !ok {
			continue
		}
		if m.Shape.Type == "list" {
			l := make([]any, 0, len(vs))
			for _, s := range vs {
				v, err := c.parseString(m.Shape.Member, s, fmtISO8601)
				if err != nil {
					return err
				}
				l = append(l, v)
			}
			out[name] = l
			continue
		}
		v, err := c.parseString(m, vs[0], fmtISO8601)
		if err != nil {
			return err
		}
		out[name] = v
	}
	return nil
}

// decodeHeaders decodes the header and prefixed-header members, looking at
// each request header once.
func (c *Codec) decodeHeaders(h http.Header, b *binding, out map[string]any) error {
	var prefixed []map[string]any
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		for _, m := range b.headers[k] {
			if err := c.decodeHeader(m, vs, out); err != nil {
				return err
			}
		}
		for i, p := range b.prefixes {
			if !hasPrefixFold(k, p.key) {
				continue
			}
			if prefixed == nil {
				prefixed = make([]map[string]any, len(b.prefixes))
			}
			if prefixed[i] == nil {
				prefixed[i] = map[string]any{}
			}
			prefixed[i][strings.ToLower(k[len(p.key):])] = joinValues(vs)
		}
	}
	for i, hm := range prefixed {
		if hm != nil {
			out[b.prefixes[i].name] = hm
		}
	}
	return nil
}

func joinValues(vs []string) string {
	if len(vs) == 1 {
		return vs[0]
	}
	return strings.Join(vs, ",")
}

func (c *Codec) decodeHeader(m member, vs []string, out map[string]any) error {
	s := joinValues(vs)
	if m.ref.Shape.Type == "list" {
		l := []any{}
		for _, p := range splitHeaderList(s) {
			v, err := c.parseHeader(m.ref.Shape.Member, p)
			if err != nil {
				return err
			}
			l = append(l, v)
		}
		out[m.name] = l
		return nil
	}
	v, err := c.parseHeader(m.ref, strings.TrimSpace(s))
	if err != nil {
		return err
	}
	out[m.name] = v
	return nil
}

func (c *Codec) decodePayload(r *http.Request, sh *model.Shape, out map[string]any) error {
	m := sh.Members[sh.Payload]
	if m == nil {
		return nil
	}
	if m.Streaming && (m.Shape.Type == "blob" || m.Shape.Type == "string") {
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			out[sh.Payload] = io.Reader(r.Body)
		}
		return nil
	}
	body, err := protocol.ReadBody(r)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return nil
	}
	switch m.Shape.Type {
	case "blob":
		out[sh.Payload] = body
	case "string":
		out[sh.Payload] = string(body)
	default:
		var v any
		if c.json {
			v, err = c.decodeJSONValue(body, m)
		} else {
			v, err = c.decodeXMLValue(body, m)
		}
		if err != nil {
			return err
		}
		// Clients send "{}" for an absent structure payload.
		if mv, ok := v.(map[string]any); ok && len(mv) == 0 && c.json {
			v = nil
		}
		if v != nil {
			out[sh.Payload] = v
		}
	}
	return nil
}

// queryMap collects the query parameters that no other querystring member
// names into a map member.
func (c *Codec) queryMap(sh *model.Shape, m *model.Ref, q url.Values) (map[string]any, error) {
	named := map[string]bool{}
	for n, o := range sh.Members {
		if o.Location == "querystring" && o.Shape.Type != "map" {
			named[o.WireName(n)] = true
		}
	}
	var out map[string]any
	for k, vs := range q {
		if named[k] {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		vr := m.Shape.Value
		if vr.Shape.Type == "list" {
			l := make([]any, 0, len(vs))
			for _, s := range vs {
				v, err := c.parseString(vr.Shape.Member, s, fmtISO8601)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			out[k] = l
			continue
		}
		v, err := c.parseString(vr, vs[0], fmtISO8601)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// splitHeaderList splits a comma-separated header list; values may be
// double-quoted to contain commas.
func splitHeaderList(s string) []string {
	var out []string
	for s != "" {
		s = strings.TrimLeft(s, " \t")
		if strings.HasPrefix(s, `"`) {
			if end := strings.IndexByte(s[1:], '"'); end >= 0 {
				out = append(out, s[1:1+end])
				s = s[2+end:]
				_, s, _ = strings.Cut(s, ",")
				continue
			}
		}
		var p string
		p, s, _ = strings.Cut(s, ",")
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

func (c *Codec) parseHeader(m *model.Ref, s string) (any, error) {
	if m.JSONValue {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, c.badInput("Header value is not base64-encoded JSON.")
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, c.badInput("Header value is not base64-encoded JSON.")
		}
		return v, nil
	}
	if m.Shape.Type == "blob" {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, c.badInput("Header value is not base64-encoded.")
		}
		return b, nil
	}
	return c.parseString(m, s, fmtRFC822)
}

// parseString converts a label, query or header value to m's type.
func (c *Codec) parseString(m *model.Ref, s, defaultTS string) (any, error) {
	switch m.Shape.Type {
	case "string", "character":
		if m.JSONValue {
			var v any
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				return nil, c.badInput("Value is not valid JSON.")
			}
			return v, nil
		}
		return s, nil
	case "boolean":
		switch s {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, c.badInput("Invalid boolean value %q.", s)
	case "byte", "short", "integer", "long":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, c.badInput("Invalid integer value %q.", s)
		}
		return n, nil
	case "float", "double":
		f, err := parseFloat(s)
		if err != nil {
			return nil, c.badInput("Invalid number value %q.", s)
		}
		return f, nil
	case "timestamp":
		t, err := parseTime(s, tsFormat(m, defaultTS))
		if err != nil {
			return nil, c.badInput("Invalid timestamp value %q.", s)
		}
		return t, nil
	case "blob":
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, c.badInput("Invalid base64 value.")
		}
		return b, nil
	}
	return s, nil
}

func parseFloat(s string) (float64, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, 64)
}

func tsFormat(m *model.Ref, def string) string {
	if m.TimestampFormat != "" {
		return m.TimestampFormat
	}
	if m.Shape.TimestampFormat != "" {
		return m.Shape.TimestampFormat
	}
	return def
}

// parseTime parses a timestamp in format, accepting the other AWS formats too
// (clients are not always faithful to the model).
func parseTime(s, format string) (time.Time, error) {
	try := func(f string) (time.Time, bool) {
		switch f {
		case fmtUnix:
			if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && math.Abs(f) < 1e15 {
				sec, frac := math.Modf(f)
				return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), true
			}
		case fmtRFC822:
			for _, l := range []string{time.RFC1123, time.RFC1123Z, "Mon, 2 Jan 2006 15:04:05 GMT"} {
				if t, err := time.Parse(l, s); err == nil {
					return t.UTC(), true
				}
			}
		default:
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t.UTC(), true
			}
			if t, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
				return t.UTC(), true
			}
		}
		return time.Time{}, false
	}
	if t, ok := try(format); ok {
		return t, nil
	}
	for _, f := range []string{fmtISO8601, fmtRFC822, fmtUnix} {
		if f != format {
			if t, ok := try(f); ok {
				return t, nil
			}
		}
	}
	return time.Time{}, &time.ParseError{Value: s, Message: ": not a timestamp"}
}
