// Package jsonrpc implements the AWS json 1.0 and 1.1 protocols (DynamoDB,
// SQS, CloudWatch, CloudWatch Logs, ECS, WAFv2, ...): POST with
// X-Amz-Target "<TargetPrefix>.<Operation>" and a JSON body, answered in
// JSON; errors carry "__type" and, for query-compatible services, the
// x-amzn-query-error header.
package jsonrpc

import (
	"bytes"
	"encoding/json"
	"hash/crc32"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/jsonenc"
	"github.com/overcast-dev/overcast/internal/protocol/model"
)

// Codec is the json protocol.
type Codec struct{}

// New returns the json protocol codec.
func New() *Codec { return &Codec{} }

// Name implements protocol.Codec.
func (*Codec) Name() string { return protocol.JSON }

// Operation implements protocol.Codec.
func (*Codec) Operation(r *http.Request, api *model.API) (*model.Operation, error) {
	target := r.Header.Get("X-Amz-Target")
	if target == "" {
		return nil, awserr.New(awserr.CodeUnknownOperation, "Missing X-Amz-Target header.")
	}
	i := strings.LastIndexByte(target, '.')
	prefix, name := target[:max(i, 0)], target[i+1:]
	if prefix != api.Metadata.TargetPrefix {
		return nil, awserr.New(awserr.CodeUnknownOperation, "Operation %s is not supported by this service.", target)
	}
	op := api.Operations[name]
	if op == nil {
		return nil, awserr.New(awserr.CodeUnknownOperation, "Operation %s is not supported by this service.", target)
	}
	return op, nil
}

// DecodeRequest implements protocol.Codec.
func (*Codec) DecodeRequest(r *http.Request, api *model.API, op *model.Operation) (map[string]any, error) {
	body, err := protocol.ReadBody(r)
	if err != nil {
		return nil, err
	}
	return DecodeBody(body, op.Input)
}

// DecodeBody decodes a JSON object into the values of the input shape.
func DecodeBody(body []byte, input *model.Ref) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 || input == nil {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, awserr.New(awserr.CodeSerialization, "Start of structure or map found where not expected.")
	}
	if dec.More() {
		return nil, awserr.New(awserr.CodeSerialization, "Unexpected content after the JSON document.")
	}
	if _, ok := raw.(map[string]any); !ok {
		return nil, awserr.New(awserr.CodeSerialization, "The request body must be a JSON object.")
	}
	v, err := protocol.Coerce(raw, input, protocol.WireJSON)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func contentType(api *model.API) string {
	v := api.Metadata.JSONVersion
	if v == "" {
		v = "1.0"
	}
	return "application/x-amz-json-" + v
}

// WriteResponse implements protocol.Codec.
func (*Codec) WriteResponse(w http.ResponseWriter, r *http.Request, api *model.API, op *model.Operation, out map[string]any, requestID string) error {
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	if op.Output != nil {
		b = jsonenc.AppendStruct(b, op.Output.Shape, out)
	} else {
		b = append(b, "{}"...)
	}
	h := w.Header()
	h.Set("Content-Type", contentType(api))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("x-amzn-RequestId", requestID)
	if api.Metadata.EndpointPrefix == "dynamodb" || api.Metadata.EndpointPrefix == "streams.dynamodb" {
		h.Set("x-amz-crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	*bp = b
	bufPool.Put(bp)
	return err
}

// WriteError implements protocol.Codec.
func (*Codec) WriteError(w http.ResponseWriter, r *http.Request, api *model.API, e *awserr.Error, requestID string) {
	b := make([]byte, 0, 128)
	b = append(b, `{"__type":`...)
	b = jsonenc.AppendString(b, ErrorType(api, e.Code))
	b = append(b, `,"message":`...)
	b = jsonenc.AppendString(b, e.Message)
	for _, k := range sortedKeys(e.Fields) {
		b = append(b, ',')
		b = jsonenc.AppendString(b, k)
		b = append(b, ':')
		b = jsonenc.AppendAny(b, e.Fields[k])
	}
	b = append(b, '}')
	h := w.Header()
	for k, vs := range e.Header {
		h[k] = vs
	}
	h.Set("Content-Type", contentType(api))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("x-amzn-RequestId", requestID)
	h.Set("X-Amzn-ErrorType", e.Code)
	if api.Metadata.QueryCompatible {
		h.Set("x-amzn-query-error", QueryErrorHeader(e))
	}
	if api.Metadata.EndpointPrefix == "dynamodb" || api.Metadata.EndpointPrefix == "streams.dynamodb" {
		h.Set("x-amz-crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	}
	w.WriteHeader(e.HTTPStatus())
	w.Write(b)
}

// ErrorType is the "__type" value for code: DynamoDB qualifies it with its
// namespace as AWS does; other services send the bare shape name.
func ErrorType(api *model.API, code string) string {
	if api.Metadata.EndpointPrefix == "dynamodb" {
		return "com.amazonaws.dynamodb.v20120810#" + code
	}
	return code
}

// QueryErrorHeader is the x-amzn-query-error value: "<legacy code>;<fault>".
func QueryErrorHeader(e *awserr.Error) string {
	code := e.QueryCode
	if code == "" {
		code = e.Code
	}
	return code + ";" + e.Fault()
}

func sortedKeys(m map[string]any) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

var _ protocol.Codec = (*Codec)(nil)
