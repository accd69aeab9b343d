// Package model loads the official AWS API models (the C2J "service-2.json"
// format shared by botocore and the AWS SDKs) that drive every protocol codec.
//
// The models are committed, trimmed of documentation and gzip-compressed, under
// data/; `make models` regenerates them (see cmd/modelgen). A model is parsed the
// first time a service needs it, so an idle server holds none of them in memory.
//
// # Values
//
// Codecs decode requests into, and encode responses from, generic values whose
// Go types follow the shape types:
//
//	structure, map       map[string]any
//	list                 []any
//	string (and enums)   string
//	boolean              bool
//	byte, short, integer, long   int64
//	float, double        float64
//	timestamp            time.Time
//	blob                 []byte (a streaming payload blob is an io.Reader on input
//	                     and a *Stream on output)
//	document             any (decoded JSON)
//
// A member that was absent on the wire is absent from the map.
package model

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// API is one service's model. It is immutable once loaded.
type API struct {
	Metadata   Metadata
	Operations map[string]*Operation
	Shapes     map[string]*Shape

	opsLower map[string]*Operation
}

// Metadata is the model's metadata block.
type Metadata struct {
	APIVersion       string   `json:"apiVersion"`
	EndpointPrefix   string   `json:"endpointPrefix"`
	JSONVersion      string   `json:"jsonVersion"`
	Protocol         string   `json:"protocol"`
	Protocols        []string `json:"protocols"`
	ServiceID        string   `json:"serviceId"`
	SigningName      string   `json:"signingName"`
	TargetPrefix     string   `json:"targetPrefix"`
	XMLNamespace     string   `json:"xmlNamespace"`
	UID              string   `json:"uid"`
	GlobalEndpoint   string   `json:"globalEndpoint"`
	QueryCompatible  bool     `json:"-"`
	RawQueryCompat   any      `json:"awsQueryCompatible"`
	ServiceFullName  string   `json:"serviceFullName"`
	SignatureVersion string   `json:"signatureVersion"`
}

// Operation is one API operation.
type Operation struct {
	Name   string
	HTTP   HTTP
	Input  *Ref
	Output *Ref
	Errors []*Ref
	// HTTPChecksumRequired is set for operations that require Content-MD5 or a checksum.
	HTTPChecksumRequired bool
	// RequestAlgorithmMember names the input member carrying the checksum algorithm.
	RequestAlgorithmMember string
	// Path is RequestURI's path split into literal and label segments.
	Path []PathSegment
	// Query holds literal query parameters from RequestURI ("?uploads", "?x-id=GetObject").
	Query map[string]string
	// Deprecated marks an operation superseded by another on the same route
	// (S3's PutBucketLifecycle by PutBucketLifecycleConfiguration).
	Deprecated bool
}

// HTTP is an operation's HTTP binding.
type HTTP struct {
	Method       string `json:"method"`
	RequestURI   string `json:"requestUri"`
	ResponseCode int    `json:"responseCode"`
}

// PathSegment is a segment of a REST request URI: a literal or a {label}
// ({label+} is Greedy and spans the rest of the path).
type PathSegment struct {
	Literal string
	Label   string
	Greedy  bool
}

// Ref is a reference to a shape with the member-level traits of its use.
type Ref struct {
	Shape           *Shape
	ShapeName       string
	Location        string // "", "uri", "querystring", "header", "headers", "statusCode"
	LocationName    string
	QueryName       string
	Flattened       bool
	XMLAttribute    bool
	XMLNamespace    *XMLNamespace
	TimestampFormat string
	JSONValue       bool
	IdempotencyTok  bool
	HostLabel       bool
	Streaming       bool
	EventPayload    bool
	ResultWrapper   string
	Deprecated      bool
}

// XMLNamespace is an xmlNamespace trait.
type XMLNamespace struct {
	Prefix string `json:"prefix"`
	URI    string `json:"uri"`
}

// ErrorInfo is the error trait of an exception shape.
type ErrorInfo struct {
	Code           string `json:"code"`
	HTTPStatusCode int    `json:"httpStatusCode"`
	SenderFault    bool   `json:"senderFault"`
}

// Shape is a named shape.
type Shape struct {
	Name            string
	Type            string
	Members         map[string]*Ref
	MemberNames     []string // in model order
	Required        []string
	Member          *Ref // list
	Key, Value      *Ref // map
	Flattened       bool
	LocationName    string
	XMLNamespace    *XMLNamespace
	Payload         string
	Exception       bool
	Fault           bool
	Error           *ErrorInfo
	TimestampFormat string
	Streaming       bool
	EventStream     bool
	Event           bool
	Union           bool
	Document        bool
	Enum            []string
	Min, Max        *float64
	Pattern         string
	Sensitive       bool
}

// MemberByLocationName finds a member by its wire name (locationName, or the
// member name when it has none); the comparison is exact.
func (s *Shape) MemberByLocationName(name string) (string, *Ref) {
	for _, n := range s.MemberNames {
		m := s.Members[n]
		if m.WireName(n) == name {
			return n, m
		}
	}
	return "", nil
}

// WireName returns the ref's locationName, or fallback when it has none.
func (r *Ref) WireName(fallback string) string {
	if r.LocationName != "" {
		return r.LocationName
	}
	return fallback
}

// IsFlattened reports whether a list or map ref is serialised flattened.
func (r *Ref) IsFlattened() bool { return r.Flattened || r.Shape.Flattened }

// Operation returns the named operation; names are matched exactly and then
// case-insensitively.
func (a *API) Operation(name string) *Operation {
	if op, ok := a.Operations[name]; ok {
		return op
	}
	return a.opsLower[strings.ToLower(name)]
}

// HasProtocol reports whether the service answers in protocol p.
func (a *API) HasProtocol(p string) bool {
	if a.Metadata.Protocol == p {
		return true
	}
	for _, q := range a.Metadata.Protocols {
		if q == p {
			return true
		}
	}
	return false
}

// SigningName is the SigV4 signing name of the service.
func (a *API) SigningName() string {
	if a.Metadata.SigningName != "" {
		return a.Metadata.SigningName
	}
	return a.Metadata.EndpointPrefix
}

// ErrorShape finds an exception shape by error code (its error trait code or its name).
func (a *API) ErrorShape(code string) *Shape {
	if s, ok := a.Shapes[code]; ok && s.Exception {
		return s
	}
	for _, s := range a.Shapes {
		if s.Exception && s.Error != nil && s.Error.Code == code {
			return s
		}
	}
	return nil
}

//go:embed data/*.json.gz
var data embed.FS

var (
	mu     sync.Mutex
	loaded = map[string]*API{}
)

// Names lists the models committed in data/.
func Names() []string {
	ents, _ := data.ReadDir("data")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".json.gz"))
	}
	sort.Strings(out)
	return out
}

// Load returns the named committed model ("sts", "sqs", "sqs-query", ...),
// parsing it on first use. The result is shared and must not be modified.
func Load(name string) (*API, error) {
	mu.Lock()
	defer mu.Unlock()
	if a, ok := loaded[name]; ok {
		return a, nil
	}
	f, err := data.Open("data/" + name + ".json.gz")
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	a, err := Parse(zr)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	loaded[name] = a
	return a, nil
}

// MustLoad is Load for models known to be committed; it panics otherwise.
func MustLoad(name string) *API {
	a, err := Load(name)
	if err != nil {
		panic(err)
	}
	return a
}

type rawRef struct {
	Shape           string        `json:"shape"`
	Location        string        `json:"location"`
	LocationName    string        `json:"locationName"`
	QueryName       string        `json:"queryName"`
	Flattened       bool          `json:"flattened"`
	XMLAttribute    bool          `json:"xmlAttribute"`
	XMLNamespace    *XMLNamespace `json:"xmlNamespace"`
	TimestampFormat string        `json:"timestampFormat"`
	JSONValue       bool          `json:"jsonvalue"`
	IdempotencyTok  bool          `json:"idempotencyToken"`
	HostLabel       bool          `json:"hostLabel"`
	Streaming       bool          `json:"streaming"`
	EventPayload    bool          `json:"eventpayload"`
	ResultWrapper   string        `json:"resultWrapper"`
	Deprecated      bool          `json:"deprecated"`
}

type rawShape struct {
	Type            string          `json:"type"`
	Members         json.RawMessage `json:"members"`
	Required        []string        `json:"required"`
	Member          *rawRef         `json:"member"`
	Key             *rawRef         `json:"key"`
	Value           *rawRef         `json:"value"`
	Flattened       bool            `json:"flattened"`
	LocationName    string          `json:"locationName"`
	XMLNamespace    json.RawMessage `json:"xmlNamespace"`
	Payload         string          `json:"payload"`
	Exception       bool            `json:"exception"`
	Fault           bool            `json:"fault"`
	Error           *ErrorInfo      `json:"error"`
	TimestampFormat string          `json:"timestampFormat"`
	Streaming       bool            `json:"streaming"`
	EventStream     bool            `json:"eventstream"`
	Event           bool            `json:"event"`
	Union           bool            `json:"union"`
	Document        bool            `json:"document"`
	Enum            []string        `json:"enum"`
	Min             *float64        `json:"min"`
	Max             *float64        `json:"max"`
	Pattern         string          `json:"pattern"`
	Sensitive       bool            `json:"sensitive"`
	ResultWrapper   string          `json:"resultWrapper"`
}

type rawOp struct {
	Name         string   `json:"name"`
	HTTP         HTTP     `json:"http"`
	Input        *rawRef  `json:"input"`
	Output       *rawRef  `json:"output"`
	Errors       []rawRef `json:"errors"`
	HTTPChecksum *struct {
		RequestChecksumRequired bool   `json:"requestChecksumRequired"`
		RequestAlgorithmMember  string `json:"requestAlgorithmMember"`
	} `json:"httpChecksum"`
	HTTPChecksumRequired bool `json:"httpChecksumRequired"`
	Deprecated           bool `json:"deprecated"`
}

type rawAPI struct {
	Metadata   Metadata            `json:"metadata"`
	Operations map[string]rawOp    `json:"operations"`
	Shapes     map[string]rawShape `json:"shapes"`
}

// Parse reads a C2J model.
func Parse(r io.Reader) (*API, error) {
	var raw rawAPI
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, err
	}
	return build(raw)
}

// ParseParts builds an API from separately decoded metadata, operations and
// shapes; protocol test suites ship models in this form.
func ParseParts(metadata, operations, shapes json.RawMessage) (*API, error) {
	var raw rawAPI
	if err := json.Unmarshal(metadata, &raw.Metadata); err != nil {
		return nil, err
	}
	if len(operations) > 0 {
		if err := json.Unmarshal(operations, &raw.Operations); err != nil {
			return nil, err
		}
	}
	if err := json.Unmarshal(shapes, &raw.Shapes); err != nil {
		return nil, err
	}
	return build(raw)
}

func build(raw rawAPI) (*API, error) {
	a := &API{Metadata: raw.Metadata, Operations: map[string]*Operation{}, Shapes: map[string]*Shape{}, opsLower: map[string]*Operation{}}
	a.Metadata.QueryCompatible = raw.Metadata.RawQueryCompat != nil
	for name, rs := range raw.Shapes {
		s := &Shape{
			Name: name, Type: rs.Type, Required: rs.Required, Flattened: rs.Flattened,
			LocationName: rs.LocationName, Payload: rs.Payload, Exception: rs.Exception, Fault: rs.Fault,
			Error: rs.Error, TimestampFormat: rs.TimestampFormat, Streaming: rs.Streaming,
			EventStream: rs.EventStream, Event: rs.Event, Union: rs.Union, Document: rs.Document,
			Enum: rs.Enum, Min: rs.Min, Max: rs.Max, Pattern: rs.Pattern, Sensitive: rs.Sensitive,
		}
		if len(rs.XMLNamespace) > 0 {
			s.XMLNamespace = parseNS(rs.XMLNamespace)
		}
		a.Shapes[name] = s
	}
	for name, rs := range raw.Shapes {
		s := a.Shapes[name]
		var err error
		if s.Member, err = a.ref(rs.Member); err != nil {
			return nil, fmt.Errorf("shape %s: %w", name, err)
		}
		if s.Key, err = a.ref(rs.Key); err != nil {
			return nil, fmt.Errorf("shape %s: %w", name, err)
		}
		if s.Value, err = a.ref(rs.Value); err != nil {
			return nil, fmt.Errorf("shape %s: %w", name, err)
		}
		if len(rs.Members) > 0 {
			names, refs, err := orderedRefs(rs.Members)
			if err != nil {
				return nil, fmt.Errorf("shape %s members: %w", name, err)
			}
			s.Members = make(map[string]*Ref, len(names))
			s.MemberNames = names
			for i, n := range names {
				r, err := a.ref(&refs[i])
				if err != nil {
					return nil, fmt.Errorf("shape %s member %s: %w", name, n, err)
				}
				s.Members[n] = r
			}
		} else if s.Type == "structure" {
			s.Members = map[string]*Ref{}
		}
	}
	for name, ro := range raw.Operations {
		if ro.Name == "" {
			ro.Name = name
		}
		op := &Operation{Name: ro.Name, HTTP: ro.HTTP, Deprecated: ro.Deprecated}
		if ro.HTTP.Method == "" {
			op.HTTP.Method = "POST"
		}
		if ro.HTTP.RequestURI == "" {
			op.HTTP.RequestURI = "/"
		}
		var err error
		if op.Input, err = a.ref(ro.Input); err != nil {
			return nil, fmt.Errorf("operation %s: %w", name, err)
		}
		if op.Output, err = a.ref(ro.Output); err != nil {
			return nil, fmt.Errorf("operation %s: %w", name, err)
		}
		if op.Output != nil && op.Output.ResultWrapper == "" {
			// Older models put the result wrapper on the shape.
			op.Output.ResultWrapper = raw.Shapes[op.Output.ShapeName].ResultWrapper
		}
		for i := range ro.Errors {
			e, err := a.ref(&ro.Errors[i])
			if err != nil {
				return nil, fmt.Errorf("operation %s: %w", name, err)
			}
			op.Errors = append(op.Errors, e)
		}
		if ro.HTTPChecksum != nil {
			op.HTTPChecksumRequired = ro.HTTPChecksum.RequestChecksumRequired
			op.RequestAlgorithmMember = ro.HTTPChecksum.RequestAlgorithmMember
		}
		op.HTTPChecksumRequired = op.HTTPChecksumRequired || ro.HTTPChecksumRequired
		op.Path, op.Query = parseURI(op.HTTP.RequestURI)
		a.Operations[name] = op
		a.opsLower[strings.ToLower(name)] = op
	}
	return a, nil
}

func parseNS(raw json.RawMessage) *XMLNamespace {
	var ns XMLNamespace
	if err := json.Unmarshal(raw, &ns); err == nil {
		return &ns
	}
	var uri string
	if err := json.Unmarshal(raw, &uri); err == nil {
		return &XMLNamespace{URI: uri}
	}
	return nil
}

func (a *API) ref(r *rawRef) (*Ref, error) {
	if r == nil {
		return nil, nil
	}
	s, ok := a.Shapes[r.Shape]
	if !ok {
		return nil, fmt.Errorf("unknown shape %q", r.Shape)
	}
	return &Ref{
		Shape: s, ShapeName: r.Shape, Location: r.Location, LocationName: r.LocationName,
		QueryName: r.QueryName, Flattened: r.Flattened, XMLAttribute: r.XMLAttribute,
		XMLNamespace: r.XMLNamespace, TimestampFormat: r.TimestampFormat, JSONValue: r.JSONValue,
		IdempotencyTok: r.IdempotencyTok, HostLabel: r.HostLabel, Streaming: r.Streaming || s.Streaming,
		EventPayload: r.EventPayload, ResultWrapper: r.ResultWrapper, Deprecated: r.Deprecated,
	}, nil
}

// orderedRefs decodes a JSON object of refs keeping its key order.
func orderedRefs(raw json.RawMessage) ([]string, []rawRef, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	var names []string
	var refs []rawRef
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		name, _ := t.(string)
		var r rawRef
		if err := dec.Decode(&r); err != nil {
			return nil, nil, err
		}
		names = append(names, name)
		refs = append(refs, r)
	}
	return names, refs, nil
}

func parseURI(uri string) ([]PathSegment, map[string]string) {
	path, query, _ := strings.Cut(uri, "?")
	var segs []PathSegment
	for _, part := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			l := part[1 : len(part)-1]
			greedy := strings.HasSuffix(l, "+")
			segs = append(segs, PathSegment{Label: strings.TrimSuffix(l, "+"), Greedy: greedy})
			continue
		}
		segs = append(segs, PathSegment{Literal: part})
	}
	var q map[string]string
	if query != "" {
		q = map[string]string{}
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			q[k] = v
		}
	}
	return segs, q
}

//go:embed data/index.json
var indexJSON []byte

// IndexEntry is the routing metadata of one committed model.
type IndexEntry struct {
	Name           string   `json:"name"`
	SigningName    string   `json:"signingName"`
	EndpointPrefix string   `json:"endpointPrefix"`
	TargetPrefix   string   `json:"targetPrefix"`
	APIVersion     string   `json:"apiVersion"`
	Protocols      []string `json:"protocols"`
	ServiceID      string   `json:"serviceId"`
}

// HasProtocol reports whether the model answers protocol p.
func (e IndexEntry) HasProtocol(p string) bool {
	for _, q := range e.Protocols {
		if q == p {
			return true
		}
	}
	return false
}

// Index returns the routing metadata of every committed model without
// parsing the models.
func Index() (map[string]IndexEntry, error) {
	var entries []IndexEntry
	if err := json.Unmarshal(indexJSON, &entries); err != nil {
		return nil, err
	}
	out := make(map[string]IndexEntry, len(entries))
	for _, e := range entries {
		out[e.Name] = e
	}
	return out, nil
}
