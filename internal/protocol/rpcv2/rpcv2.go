// Package rpcv2 implements the Smithy RPC v2 CBOR protocol (CloudWatch for
// current aws-sdk-go-v2 clients): POST /service/<Service>/operation/<Op> with
// a CBOR body, answered in CBOR with the Smithy-Protocol header.
package rpcv2

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/cbor"
	"github.com/overcast-dev/overcast/internal/protocol/jsonrpc"
	"github.com/overcast-dev/overcast/internal/protocol/model"
)

// Codec is the rpc-v2-cbor protocol.
type Codec struct{}

// New returns the rpc-v2-cbor codec.
func New() *Codec { return &Codec{} }

// Name implements protocol.Codec.
func (*Codec) Name() string { return protocol.RPCv2CBOR }

// ParsePath splits "/service/<svc>/operation/<op>" into its parts.
func ParsePath(path string) (service, op string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/service/")
	if !ok {
		return "", "", false
	}
	service, op, ok = strings.Cut(rest, "/operation/")
	if !ok || service == "" || op == "" || strings.Contains(op, "/") {
		return "", "", false
	}
	return service, op, true
}

// Operation implements protocol.Codec.
func (*Codec) Operation(r *http.Request, api *model.API) (*model.Operation, error) {
	_, name, ok := ParsePath(r.URL.Path)
	if !ok {
		return nil, awserr.New(awserr.CodeUnknownOperation, "The request path is not a Smithy RPC v2 operation path.")
	}
	op := api.Operations[name]
	if op == nil {
		return nil, awserr.WithStatus(http.StatusNotFound, awserr.CodeUnknownOperation, "Operation %s is not supported by this service.", name)
	}
	return op, nil
}

// DecodeRequest implements protocol.Codec.
func (*Codec) DecodeRequest(r *http.Request, api *model.API, op *model.Operation) (map[string]any, error) {
	body, err := protocol.ReadBody(r)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 || op.Input == nil {
		return map[string]any{}, nil
	}
	raw, err := cbor.Unmarshal(body)
	if err != nil {
		return nil, awserr.New(awserr.CodeSerialization, "The request body is not valid CBOR: %v", err)
	}
	if _, ok := raw.(map[string]any); !ok {
		return nil, awserr.New(awserr.CodeSerialization, "The request body must be a CBOR map.")
	}
	v, err := protocol.Coerce(raw, op.Input, protocol.WireCBOR)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// prune keeps only the members the shape declares, so nothing a handler
// keeps for itself reaches the wire.
func prune(s *model.Shape, v any) any {
	switch s.Type {
	case "structure":
		m, ok := v.(map[string]any)
		if !ok {
			return map[string]any{}
		}
		out := make(map[string]any, len(m))
		for k, mv := range m {
			if ref, ok := s.Members[k]; ok && mv != nil {
				out[k] = prune(ref.Shape, mv)
			}
		}
		return out
	case "list":
		l, _ := v.([]any)
		out := make([]any, len(l))
		for i, it := range l {
			out[i] = prune(s.Member.Shape, it)
		}
		return out
	case "map":
		m, _ := v.(map[string]any)
		out := make(map[string]any, len(m))
		for k, mv := range m {
			out[k] = prune(s.Value.Shape, mv)
		}
		return out
	case "double":
		switch f := v.(type) {
		case int64:
			return float64(f)
		case int:
			return float64(f)
		}
	case "float":
		// smithy-go reads a float shape only from a single-precision item.
		switch f := v.(type) {
		case float64:
			return float32(f)
		case int64:
			return float32(f)
		case int:
			return float32(f)
		}
	}
	return v
}

func writeHeaders(h http.Header, n int, requestID string) {
	h.Set("Content-Type", "application/cbor")
	h.Set("Smithy-Protocol", "rpc-v2-cbor")
	h.Set("Content-Length", strconv.Itoa(n))
	h.Set("x-amzn-RequestId", requestID)
}

// WriteResponse implements protocol.Codec.
func (*Codec) WriteResponse(w http.ResponseWriter, r *http.Request, api *model.API, op *model.Operation, out map[string]any, requestID string) error {
	var v any = map[string]any{}
	if op.Output != nil {
		v = prune(op.Output.Shape, out)
	}
	b, err := cbor.Marshal(v)
	if err != nil {
		return err
	}
	writeHeaders(w.Header(), len(b), requestID)
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	return err
}

// WriteError implements protocol.Codec.
func (*Codec) WriteError(w http.ResponseWriter, r *http.Request, api *model.API, e *awserr.Error, requestID string) {
	body := map[string]any{"__type": e.Code, "message": e.Message}
	for k, v := range e.Fields {
		body[k] = v
	}
	b, err := cbor.Marshal(body)
	if err != nil {
		b, _ = cbor.Marshal(map[string]any{"__type": e.Code, "message": e.Message})
	}
	h := w.Header()
	for k, vs := range e.Header {
		h[k] = vs
	}
	writeHeaders(h, len(b), requestID)
	if api.Metadata.QueryCompatible {
		h.Set("x-amzn-query-error", jsonrpc.QueryErrorHeader(e))
	}
	w.WriteHeader(e.HTTPStatus())
	w.Write(b)
}

var _ protocol.Codec = (*Codec)(nil)
