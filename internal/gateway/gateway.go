// Package gateway is Overcast's single HTTP front door for the AWS APIs. For
// each request it finds the service (SigV4 signing name, then X-Amz-Target,
// the rpc-v2-cbor path, the Action/Version form fields, the host and the
// path, in that order), picks the API model and codec that match how the
// request was sent, authenticates it, decodes it, calls the service's
// handler and encodes the answer in the request's own protocol.
package gateway

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/jsonrpc"
	"github.com/overcast-dev/overcast/internal/protocol/model"
	"github.com/overcast-dev/overcast/internal/protocol/query"
	"github.com/overcast-dev/overcast/internal/protocol/rpcv2"
	"github.com/overcast-dev/overcast/internal/service"
)

// DefaultAccount is the account of access keys that do not name one.
const DefaultAccount = "000000000000"

// Credential is what a request's signature says about its caller, read
// without verifying anything.
type Credential struct {
	AccessKey string
	Region    string
	Service   string // the SigV4 signing name
	// Raw is the Auth implementation's own parsed form, handed back to Verify.
	Raw any
}

// Auth identifies and verifies callers.
type Auth interface {
	// Identify parses r's SigV4 Authorization header or presigned query. It
	// returns nil, nil for an unsigned request and an *awserr.Error for a
	// malformed signature.
	Identify(r *http.Request) (*Credential, error)
	// Verify checks r's signature; it may wrap r.Body to verify streamed
	// payloads as they are read. It returns an *awserr.Error on failure.
	Verify(r *http.Request, c *Credential) error
	// Account returns the account an access key belongs to.
	Account(accessKey string) string
}

// Config configures a Gateway.
type Config struct {
	Logger *slog.Logger
	Auth   Auth
	// Verify makes every request's signature checked; otherwise any
	// well-formed (or absent) signature is accepted.
	Verify bool
	// DefaultRegion is used for unsigned requests.
	DefaultRegion string
	// Internal answers /_overcast/ and /_localstack/ paths.
	Internal http.Handler
	// Authorizer, when set, decides every decoded request before its
	// handler runs.
	Authorizer Authorizer
}

// Authorizer decides whether a decoded request may run.
type Authorizer interface {
	// Authorize returns nil to let req run, or the error to answer with (an
	// *awserr.Error in the service's AccessDenied shape). svc is the
	// Overcast service name and signingName the service's SigV4 signing
	// name; req carries the operation, account, caller's access key, input
	// and HTTP request. It MUST be safe for concurrent use.
	Authorize(svc, signingName string, req *service.Request) error
}

type binding struct {
	svc      service.Service
	index    model.IndexEntry
	handlers map[string]service.Handler

	once sync.Once
	api  *model.API
	err  error
}

func (b *binding) load() (*model.API, error) {
	b.once.Do(func() { b.api, b.err = model.Load(b.index.Name) })
	return b.api, b.err
}

// Gateway routes AWS API requests to services.
type Gateway struct {
	cfg       Config
	bindings  []*binding
	bySigning map[string][]*binding
	byTarget  map[string]*binding
	hosts     []service.Host
	codecs    map[string]protocol.Codec
	reqBase   uint64
}

// New builds a gateway over services. codecs maps protocol names to codecs
// (see package protocol); query, ec2, json and rpc-v2-cbor are built in.
func New(cfg Config, services []service.Service, codecs map[string]protocol.Codec) (*Gateway, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DefaultRegion == "" {
		cfg.DefaultRegion = "us-east-1"
	}
	idx, err := model.Index()
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg:       cfg,
		bySigning: map[string][]*binding{},
		byTarget:  map[string]*binding{},
		codecs: map[string]protocol.Codec{
			protocol.Query:     query.New(),
			protocol.EC2:       query.NewEC2(),
			protocol.JSON:      jsonrpc.New(),
			protocol.RPCv2CBOR: rpcv2.New(),
		},
		reqBase: rand.Uint64(),
	}
	for name, c := range codecs {
		g.codecs[name] = c
	}
	for _, s := range services {
		handlers := s.Handlers()
		for _, name := range s.APIs() {
			ie, ok := idx[name]
			if !ok {
				return nil, fmt.Errorf("service %s: no model %q", s.Name(), name)
			}
			b := &binding{svc: s, index: ie, handlers: handlers}
			g.bindings = append(g.bindings, b)
			g.bySigning[ie.SigningName] = append(g.bySigning[ie.SigningName], b)
			if ie.TargetPrefix != "" {
				g.byTarget[ie.TargetPrefix] = b
			}
		}
		if h, ok := s.(service.Host); ok {
			g.hosts = append(g.hosts, h)
		}
	}
	return g, nil
}

// requestID returns a fresh request id in UUID form.
func (g *Gateway) requestID() string {
	var b [16]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := 0; i < 8; i++ {
		b[i] = byte(hi >> (8 * i))
		b[8+i] = byte(lo >> (8 * i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// kind is the shape of a request on the wire, before the model is known.
type kind int

const (
	kindRest kind = iota
	kindQuery
	kindJSON
	kindCBOR
)

func requestKind(r *http.Request) kind {
	if r.Header.Get("X-Amz-Target") != "" {
		return kindJSON
	}
	if r.Method == http.MethodPost {
		if _, _, ok := rpcv2.ParsePath(r.URL.Path); ok {
			return kindCBOR
		}
		ct := r.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "application/x-amz-json") {
			return kindJSON
		}
		if strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			return kindQuery
		}
	}
	if r.URL.Path == "/" && strings.Contains(r.URL.RawQuery, "Action=") {
		return kindQuery
	}
	return kindRest
}

func (k kind) protocols() []string {
	switch k {
	case kindJSON:
		return []string{protocol.JSON}
	case kindCBOR:
		return []string{protocol.RPCv2CBOR}
	case kindQuery:
		return []string{protocol.Query, protocol.EC2}
	}
	return []string{protocol.RestXML, protocol.RestJSON}
}

// route picks the binding and protocol for r.
func (g *Gateway) route(r *http.Request, cred *Credential, k kind) (*binding, string) {
	var candidates []*binding
	if cred != nil && cred.Service != "" {
		candidates = g.bySigning[cred.Service]
	}
	if len(candidates) == 0 {
		switch k {
		case kindJSON:
			prefix, _, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
			if b := g.byTarget[prefix]; b != nil {
				candidates = []*binding{b}
			}
		case kindCBOR:
			svc, _, _ := rpcv2.ParsePath(r.URL.Path)
			if b := g.byTarget[svc]; b != nil {
				candidates = []*binding{b}
			}
		}
	}
	if len(candidates) == 0 && k == kindQuery {
		candidates = g.byQueryForm(r)
	}
	if len(candidates) == 0 {
		candidates = g.byHostOrPath(r)
	}
	if len(candidates) == 0 {
		return nil, ""
	}
	return pick(r, candidates, k)
}

// pick chooses among bindings sharing a signing name: the one that speaks
// the request's protocol, then the one whose target prefix or API version
// the request names.
func pick(r *http.Request, candidates []*binding, k kind) (*binding, string) {
	var best *binding
	bestScore, bestProto := -1, ""
	for _, b := range candidates {
		proto := ""
		for _, p := range k.protocols() {
			if b.index.HasProtocol(p) {
				proto = p
				break
			}
		}
		score := 0
		if proto != "" {
			score += 4
		} else {
			proto = b.index.Protocols[0]
		}
		switch k {
		case kindJSON:
			prefix, _, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
			if prefix == b.index.TargetPrefix {
				score += 2
			}
		case kindQuery:
			if v, err := query.Form(r); err == nil && v.Get("Version") == b.index.APIVersion {
				score += 2
			}
		}
		if score > bestScore {
			best, bestScore, bestProto = b, score, proto
		}
	}
	return best, bestProto
}

func (g *Gateway) byQueryForm(r *http.Request) []*binding {
	form, err := query.Form(r)
	if err != nil {
		return nil
	}
	version := form.Get("Version")
	var out []*binding
	for _, b := range g.bindings {
		if b.index.APIVersion == version && (b.index.HasProtocol(protocol.Query) || b.index.HasProtocol(protocol.EC2)) {
			out = append(out, b)
		}
	}
	if len(out) > 1 {
		// Several services share an API version; keep those whose model has the action.
		action := form.Get("Action")
		var withAction []*binding
		for _, b := range out {
			if api, err := b.load(); err == nil && api.Operations[action] != nil {
				withAction = append(withAction, b)
			}
		}
		if len(withAction) > 0 {
			out = withAction
		}
	}
	return out
}

func (g *Gateway) byHostOrPath(r *http.Request) []*binding {
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	if strings.HasPrefix(host, "s3.") || strings.Contains(host, ".s3.") || strings.Contains(host, ".s3-") || strings.HasPrefix(host, "s3-") {
		return g.bySigning["s3"]
	}
	first, _, _ := strings.Cut(host, ".")
	if bs := g.bySigning[first]; len(bs) > 0 && first != host {
		return bs
	}
	if strings.HasPrefix(r.URL.Path, "/2015-03-31/") || strings.HasPrefix(r.URL.Path, "/2021-10-31/") {
		return g.bySigning["lambda"]
	}
	// As LocalStack does, a request that names nothing else is for S3.
	return g.bySigning["s3"]
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_overcast/") || strings.HasPrefix(r.URL.Path, "/_localstack/") {
		if g.cfg.Internal != nil {
			g.cfg.Internal.ServeHTTP(w, r)
			return
		}
	}
	for _, h := range g.hosts {
		if h.ServeHost(w, r) {
			return
		}
	}
	reqID := g.requestID()
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			g.cfg.Logger.Error("handler panic", "request_id", reqID, "panic", p, "stack", string(debug.Stack()))
			writeFallbackError(w, awserr.Internal(fmt.Errorf("%v", p)), reqID)
		}
	}()

	if tooLargeHeader(r) {
		writeFallbackError(w, &awserr.Error{Code: "RequestHeaderSectionTooLarge", Message: "Your request header section exceeds the maximum allowed size.", Status: http.StatusBadRequest}, reqID)
		return
	}
	cred, credErr := g.cfg.Auth.Identify(r)
	k := requestKind(r)
	b, proto := g.route(r, cred, k)
	if credErr != nil && cred != nil {
		// A malformed signature that still named its service gets that
		// service's error; otherwise it is reported unsigned-style below.
		cred = &Credential{Service: cred.Service}
	}
	if b == nil {
		writeFallbackError(w, &awserr.Error{Code: "UnknownService", Message: "The request does not name a service Overcast serves: sign it with SigV4 or use an AWS SDK endpoint.", Status: http.StatusBadRequest}, reqID)
		return
	}
	api, err := b.load()
	if err != nil {
		writeFallbackError(w, awserr.Internal(err), reqID)
		return
	}
	codec := g.codecs[proto]
	if codec == nil {
		writeFallbackError(w, &awserr.Error{Code: awserr.CodeNotImplemented, Message: "Protocol " + proto + " is not implemented.", Status: http.StatusNotImplemented}, reqID)
		return
	}
	fail := func(err error) {
		e := awserr.As(err)
		if e.Status >= 500 && e.Status != http.StatusServiceUnavailable { // 503s are throttling answers (SlowDown)
			g.cfg.Logger.Error("request failed", "request_id", reqID, "service", b.svc.Name(), "code", e.Code, "err", e.Message)
		}
		codec.WriteError(w, r, api, e, reqID)
	}
	if credErr != nil {
		fail(credErr)
		return
	}
	region := g.cfg.DefaultRegion
	account := DefaultAccount
	accessKey := ""
	if cred != nil {
		accessKey = cred.AccessKey
		account = g.cfg.Auth.Account(cred.AccessKey)
		if cred.Region != "" {
			region = cred.Region
		}
	}
	if g.cfg.Verify {
		if cred == nil {
			code := awserr.CodeMissingAuthentication
			msg := "Request is missing Authentication Token"
			if api.Metadata.EndpointPrefix == "s3" {
				code, msg = awserr.CodeAccessDenied, "Access Denied"
			}
			fail(&awserr.Error{Code: code, Message: msg, Status: http.StatusForbidden})
			return
		}
		if err := g.cfg.Auth.Verify(r, cred); err != nil {
			fail(err)
			return
		}
	}
	op, err := codec.Operation(r, api)
	if err != nil {
		fail(err)
		return
	}
	in, err := codec.DecodeRequest(r, api, op)
	if err != nil {
		fail(err)
		return
	}
	h := b.handlers[op.Name]
	if h == nil {
		fail(&awserr.Error{Code: awserr.CodeNotImplemented, Message: fmt.Sprintf("The operation %s of %s is not implemented by Overcast yet.", op.Name, api.Metadata.ServiceID), Status: http.StatusNotImplemented})
		return
	}
	req := &service.Request{
		Context: r.Context(), Account: account, Region: region, AccessKey: accessKey,
		RequestID: reqID, Operation: op.Name, Protocol: proto, Input: in, HTTP: r,
	}
	if g.cfg.Authorizer != nil {
		if err := g.cfg.Authorizer.Authorize(b.svc.Name(), b.index.SigningName, req); err != nil {
			fail(err)
			return
		}
	}
	out, err := h(req)
	if err != nil {
		fail(err)
		return
	}
	if err := codec.WriteResponse(w, r, api, op, out, reqID); err != nil {
		g.cfg.Logger.Debug("write response", "request_id", reqID, "err", err)
	}
	if g.cfg.Logger.Enabled(context.Background(), slog.LevelDebug) {
		g.cfg.Logger.Debug("request", "request_id", reqID, "service", b.svc.Name(), "op", op.Name, "protocol", proto, "account", account, "region", region, "duration", time.Since(start))
	}
}

// maxHeaderBytes bounds the total size of request headers the gateway
// accepts; the HTTP server reads larger ones so that the answer is an AWS
// error rather than a bare 431.
const maxHeaderBytes = 64 << 10

func tooLargeHeader(r *http.Request) bool {
	n := len(r.RequestURI)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
			if n > maxHeaderBytes {
				return true
			}
		}
	}
	return false
}

// writeFallbackError answers in the query protocol's XML error form when no
// service or codec is known yet.
func writeFallbackError(w http.ResponseWriter, e *awserr.Error, reqID string) {
	query.New().WriteError(w, nil, &model.API{}, e, reqID)
}
