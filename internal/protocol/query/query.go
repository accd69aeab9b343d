// Package query implements the AWS query protocol (form-encoded requests, XML
// responses; IAM, STS, SNS, SQS-query, CloudWatch-query, Auto Scaling, RDS,
// ElastiCache, ELB) and its ec2 variant, driven by the API model.
package query

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/model"
	"github.com/overcast-dev/overcast/internal/protocol/xmlenc"
)

// Codec is the query or ec2 protocol.
type Codec struct {
	ec2 bool
}

// New returns the query protocol codec.
func New() *Codec { return &Codec{} }

// NewEC2 returns the ec2 protocol codec.
func NewEC2() *Codec { return &Codec{ec2: true} }

// Name implements protocol.Codec.
func (c *Codec) Name() string {
	if c.ec2 {
		return protocol.EC2
	}
	return protocol.Query
}

// Form parses the request's form values: the URL query merged with a
// form-encoded body. It caches the result in r.Form.
func Form(r *http.Request) (url.Values, error) {
	if r.Form != nil {
		return r.Form, nil
	}
	form, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, awserr.New(awserr.CodeMalformedQueryString, "The query string is malformed: %v", err)
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		ct := r.Header.Get("Content-Type")
		mt, _, _ := mime.ParseMediaType(ct)
		if mt == "application/x-www-form-urlencoded" || ct == "" {
			raw, err := protocol.ReadRawBody(r)
			if err != nil {
				return nil, err
			}
			// Later readers (signature verification) see the bytes as sent.
			r.Body = io.NopCloser(bytes.NewReader(raw))
			body, err := protocol.DecodeContent(r, raw)
			if err != nil {
				return nil, err
			}
			if len(body) > 0 {
				bf, err := url.ParseQuery(string(body))
				if err != nil {
					return nil, awserr.New(awserr.CodeMalformedQueryString, "The request body is not valid form encoding: %v", err)
				}
				for k, v := range bf {
					form[k] = append(form[k], v...)
				}
			}
		}
	}
	r.Form = form
	return form, nil
}

// Operation implements protocol.Codec: the operation is the Action parameter.
func (c *Codec) Operation(r *http.Request, api *model.API) (*model.Operation, error) {
	form, err := Form(r)
	if err != nil {
		return nil, err
	}
	action := form.Get("Action")
	if action == "" {
		return nil, awserr.New("MissingAction", "Missing Action")
	}
	op := api.Operations[action]
	if op == nil {
		return nil, awserr.New(awserr.CodeInvalidAction, "The action %s is not valid for this web service.", action)
	}
	return op, nil
}

// DecodeRequest implements protocol.Codec.
func (c *Codec) DecodeRequest(r *http.Request, api *model.API, op *model.Operation) (map[string]any, error) {
	form, err := Form(r)
	if err != nil {
		return nil, err
	}
	if op.Input == nil {
		return map[string]any{}, nil
	}
	d := decoder{form: form, ec2: c.ec2, prefixes: make(map[string]struct{}, len(form)*2)}
	for k := range form {
		for i := 0; i < len(k); i++ {
			if k[i] == '.' {
				d.prefixes[k[:i]] = struct{}{}
			}
		}
		d.prefixes[k] = struct{}{}
	}
	v, err := d.structure("", op.Input.Shape)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{}, nil
	}
	return v.(map[string]any), nil
}

type decoder struct {
	form     url.Values
	ec2      bool
	prefixes map[string]struct{}
	depth    int
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func (d *decoder) has(key string) bool {
	_, ok := d.prefixes[key]
	return ok
}

// memberName is the wire name of a structure member.
func (d *decoder) memberName(name string, ref *model.Ref) string {
	if d.ec2 {
		if ref.QueryName != "" {
			return ref.QueryName
		}
		if ref.LocationName != "" {
			return strings.ToUpper(ref.LocationName[:1]) + ref.LocationName[1:]
		}
		return name
	}
	if ref.LocationName == "" && ref.IsFlattened() && ref.Shape.LocationName != "" {
		// A flattened list or map may carry its name on the shape
		// (SQS TagQueue's Tag.N.Key).
		return ref.Shape.LocationName
	}
	return ref.WireName(name)
}

func (d *decoder) value(key string, ref *model.Ref) (any, error) {
	if d.depth > 64 {
		return nil, awserr.New(awserr.CodeValidation, "Request nesting is too deep.")
	}
	d.depth++
	defer func() { d.depth-- }()
	s := ref.Shape
	switch s.Type {
	case "structure":
		return d.structure(key, s)
	case "list":
		return d.list(key, ref)
	case "map":
		return d.mapValue(key, ref)
	default:
		vals, ok := d.form[key]
		if !ok {
			return nil, nil
		}
		return scalar(key, vals[0], ref)
	}
}

func (d *decoder) structure(prefix string, s *model.Shape) (any, error) {
	if prefix != "" && !d.has(prefix) {
		return nil, nil
	}
	out := make(map[string]any, len(s.Members))
	for _, name := range s.MemberNames {
		ref := s.Members[name]
		v, err := d.value(join(prefix, d.memberName(name, ref)), ref)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out[name] = v
		}
	}
	return out, nil
}

// indices returns the sorted positive integer N for which "prefix.N" is present.
func (d *decoder) indices(prefix string) []int {
	var idx []int
	p := prefix + "."
	for k := range d.prefixes {
		if !strings.HasPrefix(k, p) {
			continue
		}
		rest := k[len(p):]
		if strings.IndexByte(rest, '.') >= 0 {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 {
			continue
		}
		idx = append(idx, n)
	}
	sort.Ints(idx)
	return idx
}

func (d *decoder) list(key string, ref *model.Ref) (any, error) {
	s := ref.Shape
	var itemPrefix string
	switch {
	case d.ec2:
		itemPrefix = key
	case ref.IsFlattened():
		itemPrefix = key
		if s.Member.LocationName != "" {
			// Flattened lists whose member has a name replace the last segment.
			if i := strings.LastIndexByte(key, '.'); i >= 0 {
				itemPrefix = key[:i+1] + s.Member.LocationName
			} else {
				itemPrefix = s.Member.LocationName
			}
		}
	default:
		itemPrefix = key + "." + s.Member.WireName("member")
	}
	idx := d.indices(itemPrefix)
	if len(idx) == 0 {
		// An empty list is sent as "Key=" with no members.
		if vals, ok := d.form[key]; ok && len(vals) > 0 && vals[0] == "" {
			return []any{}, nil
		}
		return nil, nil
	}
	out := make([]any, 0, len(idx))
	for _, i := range idx {
		v, err := d.value(itemPrefix+"."+strconv.Itoa(i), s.Member)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		out = append(out, v)
	}
	return out, nil
}

func (d *decoder) mapValue(key string, ref *model.Ref) (any, error) {
	s := ref.Shape
	prefix := key + ".entry"
	if ref.IsFlattened() || d.ec2 {
		prefix = key
	}
	keyName := s.Key.WireName("key")
	valName := s.Value.WireName("value")
	idx := d.indices(prefix)
	if len(idx) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(idx))
	for _, i := range idx {
		ep := prefix + "." + strconv.Itoa(i)
		k, ok := d.form[ep+"."+keyName]
		if !ok {
			continue
		}
		v, err := d.value(ep+"."+valName, s.Value)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out[k[0]] = v
		}
	}
	return out, nil
}

func invalid(key, value, what string) error {
	return awserr.New(awserr.CodeValidation, "Value '%s' for parameter %s is invalid: expected %s.", value, key, what)
}

func scalar(key, v string, ref *model.Ref) (any, error) {
	switch ref.Shape.Type {
	case "string", "character":
		return v, nil
	case "boolean":
		switch strings.ToLower(v) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, invalid(key, v, "a boolean")
	case "integer", "long", "short", "byte":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, invalid(key, v, "an integer")
		}
		return n, nil
	case "float", "double":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, invalid(key, v, "a number")
		}
		return f, nil
	case "timestamp":
		t, err := ParseTimestamp(v)
		if err != nil {
			return nil, invalid(key, v, "a timestamp")
		}
		return t, nil
	case "blob":
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, invalid(key, v, "base64-encoded data")
		}
		return b, nil
	}
	return v, nil
}

// ParseTimestamp accepts ISO 8601 (with or without fractional seconds and
// zone), epoch seconds and RFC 1123 dates, as AWS query services do.
func ParseTimestamp(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02", time.RFC1123, time.RFC1123Z} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("bad timestamp %q", v)
}

var bufPool = sync.Pool{New: func() any { return &xmlenc.Writer{B: make([]byte, 0, 1024)} }}

func namespace(api *model.API) string {
	if api.Metadata.XMLNamespace != "" {
		return api.Metadata.XMLNamespace
	}
	if api.Metadata.EndpointPrefix == "" {
		return ""
	}
	return "https://" + api.Metadata.EndpointPrefix + ".amazonaws.com/doc/" + api.Metadata.APIVersion + "/"
}

// WriteResponse implements protocol.Codec.
func (c *Codec) WriteResponse(w http.ResponseWriter, r *http.Request, api *model.API, op *model.Operation, out map[string]any, requestID string) error {
	xw := bufPool.Get().(*xmlenc.Writer)
	defer func() { xw.B = xw.B[:0]; bufPool.Put(xw) }()
	xw.Header()
	root := op.Name + "Response"
	if ns := namespace(api); ns != "" {
		xw.OpenAttrs(root, "xmlns", ns)
	} else {
		xw.Open(root)
	}
	if c.ec2 {
		xw.Element("requestId", requestID)
		if op.Output != nil {
			c.members(xw, op.Output.Shape, out)
		}
	} else if op.Output != nil && op.Output.ResultWrapper == "" {
		// Without a result wrapper the members sit directly in the root.
		c.members(xw, op.Output.Shape, out)
		xw.Element("RequestId", requestID)
	} else {
		if op.Output != nil {
			xw.Open(op.Output.ResultWrapper)
			c.members(xw, op.Output.Shape, out)
			xw.Close(op.Output.ResultWrapper)
		}
		xw.Open("ResponseMetadata")
		xw.Element("RequestId", requestID)
		xw.Close("ResponseMetadata")
	}
	xw.Close(root)
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(len(xw.B)))
	h.Set("x-amzn-RequestId", requestID)
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(xw.B)
	return err
}

func (c *Codec) members(xw *xmlenc.Writer, s *model.Shape, v map[string]any) {
	for _, name := range s.MemberNames {
		mv, ok := v[name]
		if !ok || mv == nil {
			continue
		}
		ref := s.Members[name]
		wire := ref.WireName(name)
		if ref.LocationName == "" && ref.IsFlattened() && ref.Shape.LocationName != "" {
			wire = ref.Shape.LocationName
		}
		c.value(xw, wire, ref, mv)
	}
}

func (c *Codec) value(xw *xmlenc.Writer, name string, ref *model.Ref, v any) {
	s := ref.Shape
	switch s.Type {
	case "structure":
		m, _ := v.(map[string]any)
		xw.Open(name)
		c.members(xw, s, m)
		xw.Close(name)
	case "list":
		items, _ := v.([]any)
		if ref.IsFlattened() {
			itemName := name
			if s.Member.LocationName != "" {
				itemName = s.Member.LocationName
			}
			for _, it := range items {
				c.value(xw, itemName, s.Member, it)
			}
			return
		}
		xw.Open(name)
		itemName := s.Member.WireName("member")
		for _, it := range items {
			c.value(xw, itemName, s.Member, it)
		}
		xw.Close(name)
	case "map":
		m, _ := v.(map[string]any)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		kn, vn := s.Key.WireName("key"), s.Value.WireName("value")
		flat := ref.IsFlattened()
		if !flat {
			xw.Open(name)
		}
		for _, k := range keys {
			entry := "entry"
			if flat {
				entry = name
			}
			xw.Open(entry)
			xw.Element(kn, k)
			c.value(xw, vn, s.Value, m[k])
			xw.Close(entry)
		}
		if !flat {
			xw.Close(name)
		}
	default:
		xw.Open(name)
		xw.Text(FormatScalar(v, ref))
		xw.Close(name)
	}
}

// FormatScalar renders a scalar value as query/XML text.
func FormatScalar(v any, ref *model.Ref) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case int:
		return strconv.Itoa(t)
	case int32:
		return strconv.FormatInt(int64(t), 10)
	case float64:
		return formatFloat(t)
	case float32:
		return formatFloat(float64(t))
	case time.Time:
		format := ref.TimestampFormat
		if format == "" {
			format = ref.Shape.TimestampFormat
		}
		switch format {
		case "unixTimestamp":
			return formatFloat(float64(t.UnixNano()) / 1e9)
		case "rfc822":
			return t.UTC().Format(http.TimeFormat)
		}
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	case []byte:
		return base64.StdEncoding.EncodeToString(t)
	}
	return fmt.Sprint(v)
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// WriteError implements protocol.Codec.
func (c *Codec) WriteError(w http.ResponseWriter, r *http.Request, api *model.API, e *awserr.Error, requestID string) {
	xw := bufPool.Get().(*xmlenc.Writer)
	defer func() { xw.B = xw.B[:0]; bufPool.Put(xw) }()
	code := e.Code
	if e.QueryCode != "" {
		code = e.QueryCode
	}
	xw.Header()
	if c.ec2 {
		xw.Open("Response")
		xw.Open("Errors")
		xw.Open("Error")
		xw.Element("Code", code)
		xw.Element("Message", e.Message)
		xw.Close("Error")
		xw.Close("Errors")
		xw.Element("RequestID", requestID)
		xw.Close("Response")
	} else {
		if ns := namespace(api); ns != "" {
			xw.OpenAttrs("ErrorResponse", "xmlns", ns)
		} else {
			xw.Open("ErrorResponse")
		}
		xw.Open("Error")
		xw.Element("Type", e.Fault())
		xw.Element("Code", code)
		xw.Element("Message", e.Message)
		for _, k := range sortedKeys(e.Fields) {
			xw.Element(k, fmt.Sprint(e.Fields[k]))
		}
		xw.Close("Error")
		xw.Element("RequestId", requestID)
		xw.Close("ErrorResponse")
	}
	h := w.Header()
	for k, vs := range e.Header {
		h[k] = vs
	}
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(len(xw.B)))
	h.Set("x-amzn-RequestId", requestID)
	w.WriteHeader(e.HTTPStatus())
	w.Write(xw.B)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var _ protocol.Codec = (*Codec)(nil)
