// Package runtimeapi serves the AWS Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) for one
// execution environment on a loopback listener, so the runtime clients of
// aws-lambda-go, the AWS runtime interface clients and any custom
// `bootstrap` run unchanged.
//
// A Server hands one invocation at a time to the runtime's
// GET /2018-06-01/runtime/invocation/next and collects what the runtime
// posts to /invocation/<id>/response, /invocation/<id>/error and
// /init/error.
//
// # Fidelity
//
// Paths, headers (Lambda-Runtime-Aws-Request-Id, -Deadline-Ms,
// -Invoked-Function-Arn, -Trace-Id, -Client-Context, -Cognito-Identity),
// status codes (200, 202, 400 InvalidRequestID, 413 for an oversized
// response) and the error trailers aws-lambda-go sends follow the service.
// Streaming responses (Lambda-Runtime-Function-Response-Mode: streaming)
// are collected whole. The extensions and telemetry APIs are not served.
package runtimeapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Base is the path prefix of the Runtime API.
const Base = "/2018-06-01/runtime"

// Invocation is one event handed to the runtime.
type Invocation struct {
	RequestID       string
	Payload         []byte
	Deadline        time.Time
	FunctionARN     string
	ClientContext   string
	CognitoIdentity string
	TraceID         string
}

// Result is the runtime's answer to an invocation, or its init error.
type Result struct {
	// Payload is the response, or the error document for an error.
	Payload []byte
	// Error is set when the runtime reported an error.
	Error bool
	// ErrorType is the error's type (from the Lambda-Runtime-Function-Error-Type
	// header or the document's errorType).
	ErrorType string
	// TooLarge is set when the response exceeded the limit; Payload is empty.
	TooLarge bool
}

// Server is the Runtime API of one execution environment. Its methods are
// safe for concurrent use.
type Server struct {
	ln          net.Listener
	srv         *http.Server
	maxResponse int64
	served      chan struct{}

	next      chan *pending
	ready     chan struct{}
	readyOnce sync.Once
	initErr   chan Result
	closed    chan struct{}
	closeOnce sync.Once

	mu  sync.Mutex
	cur *pending
}

type pending struct {
	inv  Invocation
	done chan Result
}

// Start listens on a free loopback port and serves the API. Responses
// larger than maxResponse bytes are refused with 413.
func Start(maxResponse int64) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		ln:          ln,
		maxResponse: maxResponse,
		served:      make(chan struct{}),
		next:        make(chan *pending, 1),
		ready:       make(chan struct{}),
		initErr:     make(chan Result, 1),
		closed:      make(chan struct{}),
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.served)
		s.srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the host:port for AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Ready is closed when the runtime first asks for an invocation: its init
// phase is over.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// InitError receives the runtime's /init/error report.
func (s *Server) InitError() <-chan Result { return s.initErr }

// Invoke queues inv for the runtime's next /next call and returns the
// channel its result arrives on. One invocation may be outstanding at a time.
func (s *Server) Invoke(inv Invocation) <-chan Result {
	p := &pending{inv: inv, done: make(chan Result, 1)}
	s.next <- p
	return p.done
}

// Abandon forgets the invocation in flight, if any (after a timeout).
func (s *Server) Abandon() {
	s.mu.Lock()
	s.cur = nil
	s.mu.Unlock()
	select {
	case <-s.next:
	default:
	}
}

// Close stops serving and waits for the server goroutine.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if s.srv.Shutdown(ctx) != nil {
		s.srv.Close()
	}
	<-s.served
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func errDoc(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]string{"errorMessage": msg, "errorType": typ})
}

// ServeHTTP implements the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if !strings.HasPrefix(p, Base+"/") {
		errDoc(w, http.StatusNotFound, "InvalidRequest", "Unknown path")
		return
	}
	p = p[len(Base):]
	switch {
	case p == "/invocation/next" && r.Method == http.MethodGet:
		s.serveNext(w, r)
	case p == "/init/error" && r.Method == http.MethodPost:
		res := readError(r)
		select {
		case s.initErr <- res:
		default:
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
	case strings.HasPrefix(p, "/invocation/") && r.Method == http.MethodPost:
		rest := p[len("/invocation/"):]
		i := strings.LastIndexByte(rest, '/')
		if i < 0 {
			errDoc(w, http.StatusNotFound, "InvalidRequest", "Unknown path")
			return
		}
		id, kind := rest[:i], rest[i+1:]
		if kind != "response" && kind != "error" {
			errDoc(w, http.StatusNotFound, "InvalidRequest", "Unknown path")
			return
		}
		s.mu.Lock()
		cur := s.cur
		if cur == nil || cur.inv.RequestID != id {
			s.mu.Unlock()
			errDoc(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
			return
		}
		s.cur = nil
		s.mu.Unlock()
		var res Result
		if kind == "error" {
			res = readError(r)
		} else {
			res = s.readResponse(r)
		}
		cur.done <- res
		if res.TooLarge {
			errDoc(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Exceeded maximum allowed payload size ("+strconv.FormatInt(s.maxResponse, 10)+" bytes).")
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
	default:
		errDoc(w, http.StatusNotFound, "InvalidRequest", "Unknown path")
	}
}

func (s *Server) serveNext(w http.ResponseWriter, r *http.Request) {
	s.readyOnce.Do(func() { close(s.ready) })
	var p *pending
	select {
	case p = <-s.next:
	case <-r.Context().Done():
		return
	case <-s.closed:
		return
	}
	s.mu.Lock()
	s.cur = p
	s.mu.Unlock()
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", p.inv.RequestID)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(p.inv.Deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", p.inv.FunctionARN)
	if p.inv.TraceID != "" {
		h.Set("Lambda-Runtime-Trace-Id", p.inv.TraceID)
	}
	if p.inv.ClientContext != "" {
		h.Set("Lambda-Runtime-Client-Context", p.inv.ClientContext)
	}
	if p.inv.CognitoIdentity != "" {
		h.Set("Lambda-Runtime-Cognito-Identity", p.inv.CognitoIdentity)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(p.inv.Payload)))
	w.WriteHeader(http.StatusOK)
	w.Write(p.inv.Payload)
}

func (s *Server) readResponse(r *http.Request) Result {
	b, err := io.ReadAll(io.LimitReader(r.Body, s.maxResponse+1))
	if int64(len(b)) > s.maxResponse {
		io.Copy(io.Discard, r.Body)
		return Result{TooLarge: true}
	}
	if err != nil {
		return Result{Error: true, ErrorType: "Runtime.ResponseError", Payload: errJSON("Runtime.ResponseError", "the runtime's response could not be read: "+err.Error())}
	}
	// aws-lambda-go reports an error met while streaming in trailers.
	if t := r.Trailer.Get("Lambda-Runtime-Function-Error-Type"); t != "" {
		body, _ := base64.StdEncoding.DecodeString(r.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
		if len(body) == 0 {
			body = errJSON(t, "")
		}
		return Result{Error: true, ErrorType: t, Payload: body}
	}
	return Result{Payload: b}
}

func readError(r *http.Request) Result {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	typ := r.Header.Get("Lambda-Runtime-Function-Error-Type")
	var doc struct {
		ErrorType string `json:"errorType"`
	}
	if json.Unmarshal(b, &doc) != nil {
		b = errJSON(orDefault(typ, "Runtime.Unknown"), string(b))
	} else if doc.ErrorType != "" {
		typ = doc.ErrorType
	}
	return Result{Error: true, ErrorType: orDefault(typ, "Unhandled"), Payload: b}
}

func errJSON(typ, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"errorMessage": msg, "errorType": typ})
	return b
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// ErrClosed is returned when the server has been closed.
var ErrClosed = errors.New("runtimeapi: closed")
