// Package service defines what an AWS service implementation provides to the
// gateway: the API models it answers, one handler per implemented operation,
// and optional lifecycle hooks. Operations in a model without a handler are
// still routed and answer NotImplemented.
//
// Services never import each other: a service that needs another declares a
// small interface, and internal/server wires an implementation in.
package service

import (
	"context"
	"net/http"
	"strings"
)

// Request is one decoded API call.
type Request struct {
	// Context is cancelled when the client goes away or the server stops.
	Context context.Context
	// Account is the 12-digit account the caller belongs to.
	Account string
	// Region is the region from the signature scope (or the default region).
	Region string
	// AccessKey is the caller's access key id ("" when unsigned).
	AccessKey string
	// RequestID is the id sent back to the client and logged.
	RequestID string
	// Operation is the model operation name.
	Operation string
	// Protocol is the wire protocol the request used.
	Protocol string
	// Input holds the operation's input values (see package model).
	Input map[string]any
	// HTTP is the underlying request (for host, headers, remote address).
	HTTP *http.Request
}

// Handler implements one operation. It returns the output shape's values,
// or an error (an *awserr.Error for anything a client should see).
type Handler func(*Request) (map[string]any, error)

// Service is one AWS service.
type Service interface {
	// Name is the service's identifier on the command line and in health
	// output ("s3", "sqs", "sts", ...).
	Name() string
	// APIs lists the committed model names the service answers (see
	// model.Load); several models may share a signing name.
	APIs() []string
	// Handlers maps operation names to implementations.
	Handlers() map[string]Handler
}

// Starter is implemented by services with background work; Start is called
// once, in dependency order, before the listener accepts requests.
type Starter interface {
	Start(ctx context.Context) error
}

// Stopper is implemented by services that hold resources; Stop is called in
// reverse start order and MUST join every goroutine the service started.
type Stopper interface {
	Stop(ctx context.Context) error
}

// Host is implemented by services that answer their own HTTP requests on
// host names (S3 virtual hosts, website endpoints, Lambda function URLs)
// before API routing.
type Host interface {
	// ServeHost reports whether it handled r.
	ServeHost(w http.ResponseWriter, r *http.Request) bool
}

// Str returns in[name] as a string ("" when absent).
func Str(in map[string]any, name string) string {
	s, _ := in[name].(string)
	return s
}

// Int returns in[name] as an int64 and whether it was present.
func Int(in map[string]any, name string) (int64, bool) {
	n, ok := in[name].(int64)
	return n, ok
}

// Bool returns in[name] as a bool (false when absent).
func Bool(in map[string]any, name string) bool {
	b, _ := in[name].(bool)
	return b
}

// Strings returns in[name] as a []string.
func Strings(in map[string]any, name string) []string {
	l, _ := in[name].([]any)
	out := make([]string, 0, len(l))
	for _, v := range l {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Partition returns the AWS partition of a region.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// Pending returns a service that routes every operation of its models and
// answers each with NotImplemented: the placeholder for a service whose
// implementation has not landed, so clients get a proper AWS error.
func Pending(name string, apis ...string) Service {
	return pending{name: name, apis: apis}
}

type pending struct {
	name string
	apis []string
}

func (p pending) Name() string                 { return p.name }
func (p pending) APIs() []string               { return p.apis }
func (p pending) Handlers() map[string]Handler { return nil }

// IsPending reports whether s is a Pending placeholder.
func IsPending(s Service) bool {
	_, ok := s.(pending)
	return ok
}

// MessageAttribute is an SQS/SNS message attribute, shared by the services
// that hand messages to each other (SNS to SQS, S3 and CloudWatch to SNS).
type MessageAttribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}
