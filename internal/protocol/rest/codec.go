package rest

import (
	"net/http"
	"sync"

	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/model"
)

// Codec is the rest-json or rest-xml codec. Its zero value is not usable; use
// NewJSON or NewXML. A Codec is safe for concurrent use.
type Codec struct {
	json   bool
	tables sync.Map // *model.API → *table
}

// NewJSON returns the rest-json codec.
func NewJSON() *Codec { return &Codec{json: true} }

// NewXML returns the rest-xml codec.
func NewXML() *Codec { return &Codec{} }

// Name returns protocol.RestJSON or protocol.RestXML.
func (c *Codec) Name() string {
	if c.json {
		return protocol.RestJSON
	}
	return protocol.RestXML
}

func (c *Codec) table(api *model.API) *table {
	if t, ok := c.tables.Load(api); ok {
		return t.(*table)
	}
	t, _ := c.tables.LoadOrStore(api, buildTable(api))
	return t.(*table)
}

// Operation finds the operation r invokes by method, raw path and literal
// query parameters, preferring the most specific match.
func (c *Codec) Operation(r *http.Request, api *model.API) (*model.Operation, error) {
	t := c.table(api)
	path := r.URL.EscapedPath()
	if rt := t.match(r.Method, path, r.URL.RawQuery, r.Header); rt != nil {
		return rt.op, nil
	}
	if c.json {
		return nil, &awserr.Error{Code: awserr.CodeUnknownOperation, Message: "Unknown operation " + r.Method + " " + path, Status: http.StatusNotFound}
	}
	if t.pathExists(path, r.URL.RawQuery) {
		return nil, &awserr.Error{Code: "MethodNotAllowed", Message: "The specified method is not allowed against this resource.", Status: http.StatusMethodNotAllowed,
			Fields: map[string]any{"Method": r.Method, "ResourceType": "OBJECT"}}
	}
	return nil, &awserr.Error{Code: awserr.CodeNotImplemented, Message: "A header you provided implies functionality that is not implemented.", Status: http.StatusNotImplemented}
}

// Interface guard.
var _ protocol.Codec = (*Codec)(nil)
