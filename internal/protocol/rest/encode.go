package rest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/jsonenc"
	"github.com/overcast-dev/overcast/internal/protocol/model"
	"github.com/overcast-dev/overcast/internal/protocol/xmlenc"
)

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

func isS3(api *model.API) bool { return api.Metadata.EndpointPrefix == "s3" }

// WriteResponse writes out, the value of op's output shape: header and
// status members, then the payload member or the remaining body members as
// a JSON object or XML document. Nothing is written when out does not fit
// the shape; the error says why.
func (c *Codec) WriteResponse(w http.ResponseWriter, r *http.Request, api *model.API, op *model.Operation, out map[string]any, requestID string) error {
	h := w.Header()
	c.requestIDHeaders(h, requestID)
	status := op.HTTP.ResponseCode
	if status == 0 {
		status = http.StatusOK
	}
	var (
		body     []byte
		stream   *protocol.Stream
		haveBody bool
	)
	if op.Output != nil && op.Output.Shape != nil {
		sh := op.Output.Shape
		b := c.binding(api, op)
		hasBodyMembers := b.outBody
		// One backing array holds every header value written.
		var vals []string
		setHeader := func(m member, v any) error {
			s, err := headerValue(m.ref, v)
			if err != nil {
				return fmt.Errorf("output %s: %w", m.name, err)
			}
			if vals == nil {
				vals = make([]string, 0, len(out))
			}
			vals = append(vals, s)
			h[m.key] = vals[len(vals)-1 : len(vals) : len(vals)]
			return nil
		}
		for name, v := range out {
			m, ok := b.outMembers[name]
			if !ok || m.shared {
				continue
			}
			switch m.ref.Location {
			case "header":
				if v == nil {
					continue
				}
				if err := setHeader(m, v); err != nil {
					return err
				}
			case "headers":
				mv, _ := v.(map[string]any)
				for k, e := range mv {
					s, err := headerValue(m.ref.Shape.Value, e)
					if err != nil {
						return fmt.Errorf("output %s: %w", name, err)
					}
					// As sent by AWS (x-amz-meta-color): clients keep the
					// suffix's case as it appears on the wire.
					h[m.key+k] = []string{s}
				}
			case "statusCode":
				if n, ok := toInt(v); ok && n >= 100 && n <= 999 {
					status = int(n)
				}
			}
		}
		for _, m := range b.outShared {
			if v, ok := out[m.name]; ok && v != nil {
				if err := setHeader(m, v); err != nil {
					return err
				}
			}
		}
		if sh.Payload != "" {
			m := sh.Members[sh.Payload]
			if v, ok := out[sh.Payload]; ok && v != nil && m != nil {
				switch x := v.(type) {
				case *protocol.Stream:
					stream, haveBody = x, true
				case []byte:
					body, haveBody = x, true
				case string:
					body, haveBody = []byte(x), true
				case io.Reader:
					rc, ok := x.(io.ReadCloser)
					if !ok {
						rc = io.NopCloser(x)
					}
					stream, haveBody = &protocol.Stream{Body: rc, Length: -1}, true
				default:
					var err error
					if c.json {
						body, err = appendJSONValue(nil, m, v)
					} else {
						var xw xmlenc.Writer
						err = writeXMLElement(&xw, m, localName(m.WireName(m.ShapeName)), v, xmlNS(api, m.Shape, m), true)
						body = xw.B
					}
					if err != nil {
						return fmt.Errorf("output %s: %w", sh.Payload, err)
					}
					haveBody = true
					setContentType(h, c.contentType())
				}
			}
		} else if hasBodyMembers {
			var err error
			if c.json {
				body, err = appendJSONStruct(nil, sh, out, true)
			} else {
				var xw xmlenc.Writer
				xw.Header()
				if isS3(api) && op.Name == "GetBucketLocation" {
					// S3's location document is the bare element:
					// <LocationConstraint>eu-west-1</LocationConstraint>.
					xw.OpenAttrs("LocationConstraint", "xmlns", s3Namespace)
					if lc, _ := out["LocationConstraint"].(string); lc != "" {
						xw.Text(lc)
					}
					xw.Close("LocationConstraint")
				} else {
					err = writeXMLElement(&xw, op.Output, rootName(api, op), out, xmlNS(api, sh, op.Output), true)
				}
				body = xw.B
			}
			if err != nil {
				return fmt.Errorf("output: %w", err)
			}
			haveBody = true
			setContentType(h, c.contentType())
		}
	}
	if stream != nil {
		defer stream.Body.Close()
		if stream.Length >= 0 {
			h["Content-Length"] = []string{strconv.FormatInt(stream.Length, 10)}
		}
		if stream.Status != 0 {
			status = stream.Status
		}
		w.WriteHeader(status)
		if r == nil || r.Method != http.MethodHead {
			if _, err := io.Copy(w, stream.Body); err != nil {
				return err
			}
		}
		return nil
	}
	if haveBody {
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	} else if status != http.StatusNoContent && status != http.StatusNotModified && len(h["Content-Length"]) == 0 {
		h["Content-Length"] = zeroLength
	}
	w.WriteHeader(status)
	if haveBody && (r == nil || r.Method != http.MethodHead) {
		_, err := w.Write(body)
		return err
	}
	return nil
}

func setContentType(h http.Header, ct string) {
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", ct)
	}
}

func (c *Codec) contentType() string {
	if c.json {
		return "application/json"
	}
	return "application/xml"
}

// zeroLength is the Content-Length of an empty answer; net/http only reads it.
var zeroLength = []string{"0"}

func (c *Codec) requestIDHeaders(h http.Header, id string) {
	if c.json {
		h["X-Amzn-Requestid"] = []string{id}
		return
	}
	v := make([]string, 2)
	v[0], v[1] = id, hostID(id)
	h["X-Amz-Request-Id"] = v[0:1:1]
	h["X-Amz-Id-2"] = v[1:2:2]
}

// hostID derives S3's x-amz-id-2 from the request ID.
func hostID(id string) string {
	const prefix = "overcast/"
	var src [64]byte
	raw := append(append(src[:0], prefix...), id...)
	var dst [88]byte
	if base64.StdEncoding.EncodedLen(len(raw)) > len(dst) {
		return base64.StdEncoding.EncodeToString(raw)
	}
	n := base64.StdEncoding.EncodedLen(len(raw))
	base64.StdEncoding.Encode(dst[:n], raw)
	return string(dst[:n])
}

// rootName names an output document: the output shape's locationName, the
// output ref's, S3's well-known names, or the shape name.
func rootName(api *model.API, op *model.Operation) string {
	if op.Output.Shape.LocationName != "" {
		return op.Output.Shape.LocationName
	}
	if op.Output.LocationName != "" {
		return op.Output.LocationName
	}
	if isS3(api) {
		if n, ok := s3RootNames[op.Name]; ok {
			return n
		}
	}
	return op.Output.Shape.Name
}

// s3RootNames are the root elements S3 uses for output documents the model
// does not name.
var s3RootNames = map[string]string{
	"ListBuckets":                        "ListAllMyBucketsResult",
	"ListDirectoryBuckets":               "ListAllMyDirectoryBucketsResult",
	"ListObjects":                        "ListBucketResult",
	"ListObjectsV2":                      "ListBucketResult",
	"ListObjectVersions":                 "ListVersionsResult",
	"ListMultipartUploads":               "ListMultipartUploadsResult",
	"ListParts":                          "ListPartsResult",
	"CreateMultipartUpload":              "InitiateMultipartUploadResult",
	"CompleteMultipartUpload":            "CompleteMultipartUploadResult",
	"DeleteObjects":                      "DeleteResult",
	"GetBucketAcl":                       "AccessControlPolicy",
	"GetObjectAcl":                       "AccessControlPolicy",
	"GetBucketLocation":                  "LocationConstraint",
	"GetBucketVersioning":                "VersioningConfiguration",
	"GetBucketTagging":                   "Tagging",
	"GetObjectTagging":                   "Tagging",
	"GetBucketCors":                      "CORSConfiguration",
	"GetBucketLifecycleConfiguration":    "LifecycleConfiguration",
	"GetBucketWebsite":                   "WebsiteConfiguration",
	"GetBucketNotificationConfiguration": "NotificationConfiguration",
	"GetBucketLogging":                   "BucketLoggingStatus",
	"GetBucketRequestPayment":            "RequestPaymentConfiguration",
	"GetBucketAccelerateConfiguration":   "AccelerateConfiguration",
	"GetObjectAttributes":                "GetObjectAttributesResponse",
	"GetObjectLockConfiguration":         "ObjectLockConfiguration",
}

func xmlNS(api *model.API, sh *model.Shape, ref *model.Ref) *model.XMLNamespace {
	if ref != nil && ref.XMLNamespace != nil {
		return ref.XMLNamespace
	}
	if sh.XMLNamespace != nil {
		return sh.XMLNamespace
	}
	if api.Metadata.XMLNamespace != "" {
		return &model.XMLNamespace{URI: api.Metadata.XMLNamespace}
	}
	if isS3(api) {
		return &model.XMLNamespace{URI: s3Namespace}
	}
	return nil
}

// WriteError writes e in the protocol's error form: rest-json's
// {"__type","message"} with X-Amzn-ErrorType, S3's <Error> document or the
// <ErrorResponse> document of other rest-xml services.
func (c *Codec) WriteError(w http.ResponseWriter, r *http.Request, api *model.API, e *awserr.Error, requestID string) {
	h := w.Header()
	for k, vs := range e.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	c.requestIDHeaders(h, requestID)
	status := e.HTTPStatus()
	var body []byte
	if c.json {
		h.Set("X-Amzn-Errortype", e.Code)
		msgKey := "message"
		if api != nil {
			if s := api.ErrorShape(e.Code); s != nil {
				if _, ok := s.Members["Message"]; ok {
					msgKey = "Message"
				}
			}
		}
		body = append(body, `{"__type":`...)
		body = appendJSONString(body, e.Code)
		body = append(body, ',')
		body = appendJSONString(body, msgKey)
		body = append(body, ':')
		body = appendJSONString(body, e.Message)
		for _, k := range sortedKeys(e.Fields) {
			if k == "__type" || k == msgKey {
				continue
			}
			b, err := json.Marshal(plainValue(e.Fields[k]))
			if err != nil {
				continue
			}
			body = append(body, ',')
			body = appendJSONString(body, k)
			body = append(body, ':')
			body = append(body, b...)
		}
		body = append(body, '}')
	} else {
		var xw xmlenc.Writer
		xw.Header()
		if api == nil || isS3(api) {
			xw.Open("Error")
			xw.Element("Code", e.Code)
			xw.Element("Message", e.Message)
			writeXMLFields(&xw, e.Fields)
			xw.Element("RequestId", requestID)
			xw.Element("HostId", hostID(requestID))
			xw.Close("Error")
		} else {
			ns := api.Metadata.XMLNamespace
			if ns == "" {
				ns = "https://" + api.Metadata.EndpointPrefix + ".amazonaws.com/doc/" + api.Metadata.APIVersion + "/"
			}
			xw.OpenAttrs("ErrorResponse", "xmlns", ns)
			xw.Open("Error")
			xw.Element("Type", e.Fault())
			xw.Element("Code", e.Code)
			xw.Element("Message", e.Message)
			writeXMLFields(&xw, e.Fields)
			xw.Close("Error")
			xw.Element("RequestId", requestID)
			xw.Close("ErrorResponse")
		}
		body = xw.B
	}
	h.Set("Content-Type", c.contentType())
	if r != nil && r.Method == http.MethodHead {
		h.Set("Content-Length", "0")
		w.WriteHeader(status)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func writeXMLFields(xw *xmlenc.Writer, fields map[string]any) {
	for _, k := range sortedKeys(fields) {
		switch k {
		case "Code", "Message", "RequestId", "HostId", "Type":
			continue
		}
		xw.Element(k, scalarText(fields[k]))
	}
}

func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case time.Time:
		return x.UTC().Format(isoMillis)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case float64:
		return formatFloat(x)
	}
	if n, ok := toInt(v); ok {
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprint(v)
}

// plainValue prepares an error field for encoding/json.
func plainValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return float64(x.UnixMilli()) / 1000
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return formatFloat(x)
		}
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

const isoMillis = "2006-01-02T15:04:05.000Z"

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	if n, ok := toInt(v); ok {
		return float64(n), true
	}
	return 0, false
}

// formatTime writes t in a timestampFormat.
func formatTime(t time.Time, format string) string {
	t = t.UTC()
	switch format {
	case fmtRFC822:
		return t.Format(http.TimeFormat)
	case fmtUnix:
		return formatEpoch(t)
	}
	return t.Format(isoMillis)
}

func formatEpoch(t time.Time) string {
	if t.Nanosecond() == 0 {
		return strconv.FormatInt(t.Unix(), 10)
	}
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)
}

// headerValue formats a header member.
func headerValue(m *model.Ref, v any) (string, error) {
	if m.JSONValue {
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(b), nil
	}
	switch m.Shape.Type {
	case "list":
		l, ok := v.([]any)
		if !ok {
			return "", fmt.Errorf("want a list, have %T", v)
		}
		parts := make([]string, 0, len(l))
		for _, e := range l {
			s, err := headerValue(m.Shape.Member, e)
			if err != nil {
				return "", err
			}
			if strings.ContainsAny(s, `,"`) {
				s = strconv.Quote(s)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	case "timestamp":
		t, ok := v.(time.Time)
		if !ok {
			return "", fmt.Errorf("want a time.Time, have %T", v)
		}
		return formatTime(t, tsFormat(m, fmtRFC822)), nil
	case "blob":
		b, ok := v.([]byte)
		if !ok {
			if s, isStr := v.(string); isStr {
				b = []byte(s)
			} else {
				return "", fmt.Errorf("want []byte, have %T", v)
			}
		}
		return base64.StdEncoding.EncodeToString(b), nil
	}
	return scalarString(m, v)
}

// scalarString formats a string, boolean or number value.
func scalarString(m *model.Ref, v any) (string, error) {
	switch m.Shape.Type {
	case "string", "character":
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("want a string, have %T", v)
		}
		return s, nil
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return "", fmt.Errorf("want a bool, have %T", v)
		}
		return strconv.FormatBool(b), nil
	case "byte", "short", "integer", "long":
		n, ok := toInt(v)
		if !ok {
			return "", fmt.Errorf("want an integer, have %T", v)
		}
		return strconv.FormatInt(n, 10), nil
	case "float", "double":
		f, ok := toFloat(v)
		if !ok {
			return "", fmt.Errorf("want a float64, have %T", v)
		}
		return formatFloat(f), nil
	}
	return "", fmt.Errorf("cannot write a %s as text", m.Shape.Type)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte { return jsonenc.AppendString(b, s) }
