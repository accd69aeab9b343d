// Package protocol defines the contract every AWS wire codec implements and the
// pieces they share. A codec is driven entirely by a service's API model
// (package model): it finds the operation a request names, decodes the
// request into generic values (see package model for the value types), and
// encodes results and errors the way AWS does for that protocol.
//
// Codecs live in sub-packages: query (query and ec2), jsonrpc (json 1.0/1.1),
// rest (rest-json and rest-xml) and rpcv2 (smithy-rpc-v2-cbor).
package protocol

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/model"
)

// Protocol names, as in the models' metadata.
const (
	Query     = "query"
	EC2       = "ec2"
	JSON      = "json"
	RestJSON  = "rest-json"
	RestXML   = "rest-xml"
	RPCv2CBOR = "smithy-rpc-v2-cbor"
)

// Codec is one AWS protocol.
type Codec interface {
	// Name returns the protocol name (one of the constants above).
	Name() string
	// Operation returns the operation r invokes, or an *awserr.Error
	// (InvalidAction / UnknownOperationException) when the model has none.
	Operation(r *http.Request, api *model.API) (*model.Operation, error)
	// DecodeRequest decodes r's input for op. It MUST NOT panic on any input
	// and MUST return an *awserr.Error (a 4xx) for malformed input. Streaming
	// payload members are left unread as io.Reader values over r.Body.
	DecodeRequest(r *http.Request, api *model.API, op *model.Operation) (map[string]any, error)
	// WriteResponse encodes out, the value of op's output shape (nil when op
	// has none), with status 200 or the operation's responseCode.
	WriteResponse(w http.ResponseWriter, r *http.Request, api *model.API, op *model.Operation, out map[string]any, requestID string) error
	// WriteError encodes e in the protocol's error format.
	WriteError(w http.ResponseWriter, r *http.Request, api *model.API, e *awserr.Error, requestID string)
}

// Stream is the value of a streaming blob output member (an S3 object body,
// a Lambda response): the codec copies it to the response and closes it.
type Stream struct {
	Body io.ReadCloser
	// Length is the number of bytes Body yields, or -1 when unknown.
	Length int64
	// Status, when not 0, replaces the operation's success status (S3 answers
	// a ranged GET with 206 Partial Content).
	Status int
}

// MaxBodyBytes bounds the non-streaming request bodies codecs read.
const MaxBodyBytes = 32 << 20

// ErrBodyTooLarge is returned for non-streaming bodies over MaxBodyBytes.
var ErrBodyTooLarge = &awserr.Error{Code: "RequestEntityTooLarge", Message: "Request body is too large.", Status: http.StatusRequestEntityTooLarge}

// ReadBody reads a whole non-streaming request body, bounded by MaxBodyBytes,
// turning a short body into a 400 rather than a hang or a 5xx.
func ReadBody(r *http.Request) ([]byte, error) {
	raw, err := ReadRawBody(r)
	if err != nil {
		return nil, err
	}
	return DecodeContent(r, raw)
}

// DecodeContent undoes the request's Content-Encoding (gzip) on a body read
// with ReadRawBody.
func DecodeContent(r *http.Request, raw []byte) ([]byte, error) {
	if isGzip(r.Header.Get("Content-Encoding")) && len(raw) > 0 {
		return gunzip(raw)
	}
	return raw, nil
}

// ReadRawBody is ReadBody without content decoding: the bytes as sent, which
// are the bytes the signature covers.
func ReadRawBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, ErrBodyTooLarge
	}
	n := r.ContentLength
	if n < 0 || n > 1<<20 {
		n = 512
	}
	buf := make([]byte, 0, n)
	lr := io.LimitReader(r.Body, MaxBodyBytes+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			break
		}
		if err != nil {
			if e, ok := err.(*awserr.Error); ok {
				return nil, e
			}
			return nil, &awserr.Error{Code: "IncompleteBody", Message: "The request body could not be read: " + err.Error(), Status: http.StatusBadRequest}
		}
	}
	if len(buf) > MaxBodyBytes {
		return nil, ErrBodyTooLarge
	}
	return buf, nil
}

// isGzip reports whether a Content-Encoding value names gzip as the only
// content coding (as AWS SDKs send for request compression, e.g. CloudWatch
// PutMetricData); "aws-chunked" framing is ignored.
func isGzip(ce string) bool {
	if ce == "" {
		return false
	}
	gz := false
	for _, c := range strings.Split(ce, ",") {
		switch strings.ToLower(strings.TrimSpace(c)) {
		case "gzip":
			gz = true
		case "", "aws-chunked", "identity":
		default:
			return false
		}
	}
	return gz
}

// gunzip decompresses a gzip request body (after its signature has been
// verified over the compressed bytes), bounded by MaxBodyBytes.
func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, &awserr.Error{Code: "SerializationException", Message: "The gzip-encoded request body is invalid: " + err.Error(), Status: http.StatusBadRequest}
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxBodyBytes+1))
	if err != nil {
		return nil, &awserr.Error{Code: "SerializationException", Message: "The gzip-encoded request body is invalid: " + err.Error(), Status: http.StatusBadRequest}
	}
	if len(out) > MaxBodyBytes {
		return nil, ErrBodyTooLarge
	}
	return out, nil
}
