// Package elb implements Elastic Load Balancing: the elbv2 API (application
// and network load balancers, API version 2015-12-01) and the classic elb API
// (2012-06-01), both signed as "elasticloadbalancing" and told apart by the
// query Version, with real data planes behind them.
//
// # Addressing
//
// Every listener is a real socket on 127.0.0.1: the listener's own Port when
// it is free, otherwise an ephemeral port. [Service.ListenerAddr] and the
// /_overcast/elb introspection endpoint report the actual address. A load
// balancer's DNSName has the form
//
//	<name>-<id>.<region>.elb.localhost
//
// (internal load balancers are prefixed "internal-"); names under .localhost
// resolve to the loopback address on most systems. HTTP requests that reach
// the edge port (4566) with that name as their Host header are served by the
// load balancer too ([Service.ServeHost]): by the listener whose port the Host
// header names, else the port-80 listener, else the lowest-port HTTP(S) one.
//
// # Data plane
//
// Application listeners (HTTP, HTTPS with a self-signed certificate) evaluate
// rules by priority (host-header, path-pattern, http-header,
// http-request-method, query-string, source-ip) and run forward (weighted,
// with group stickiness), redirect and fixed-response actions. Forwarding uses
// pooled keep-alive connections per target group, written and read by the
// request's own goroutine (no per-connection goroutines, no per-request
// timers), sends the inbound header map on in place rather than copying it,
// adds X-Forwarded-For/Proto/Port and X-Amzn-Trace-Id (a per-listener random
// base plus a counter), streams bodies both ways through pooled buffers, balances by round robin or
// least outstanding requests over healthy targets (over all targets when none
// is healthy, failing open as AWS does), honours duration-based stickiness
// (the AWSALB cookie) and slow start, and answers 502, 503 and 504 in AWS's
// words. Network listeners (TCP) splice raw connections to healthy targets,
// half-closes included. Deregistered targets drain: requests in flight finish,
// new ones go elsewhere, and the target disappears (state unused) after the
// deregistration delay.
//
// Target groups of type lambda invoke their function (through
// [FunctionInvoker]) synchronously for each request with the event AWS
// sends: requestContext.elb.targetGroupArn, httpMethod, path,
// queryStringParameters and headers (lower-cased names; the last value of a
// repeated name), or multiValueQueryStringParameters and multiValueHeaders
// when the attribute lambda.multi_value_headers.enabled is true, body and
// isBase64Encoded (bodies of text/*, application/json, application/javascript
// and application/xml are passed as they are, others base64-encoded). Query
// parameters are passed undecoded, as AWS passes them. The function's
// statusCode, headers (or multiValueHeaders in multi-value mode), body and
// isBase64Encoded become the HTTP response; a function error, an unknown
// function or an invalid answer (not JSON, no statusCode, a status outside
// 100–599, bad base64, over 1 MB) is a 502, a throttled invocation a 503, a
// request body over 1 MB a 413 and an Upgrade request a 400. With health
// checks enabled a lambda target is checked by invoking it with a GET event
// for the health check path and matching the answer's status.
//
// Health checks run per target group on the injected clock (HTTP(S) with
// path and matcher, or TCP), with the group's interval, timeout and
// thresholds. Targets of type instance resolve through [InstanceResolver].
//
// # Fidelity
//
// Emulated: the elbv2 resource model (load balancers, target groups, listeners,
// rules, tags, attributes) with AWS's validation and error codes for the
// common mistakes; target health states and reason codes; the classic API's
// load balancers, listeners, instances and health check; CloudWatch metrics
// of AWS/ApplicationELB, AWS/NetworkELB and AWS/ELB aggregated per minute.
//
// Deviations: subnets are not checked against EC2 (an unknown subnet gets a
// stable synthetic Availability Zone; no subnets means one per zone a–c);
// security groups are stored, not enforced; authenticate-oidc/cognito and
// jwt-validation actions, trust stores, mutual TLS, capacity reservations,
// gateway load balancers, access logs and TLS listeners on
// NLB are not implemented; HTTPS listeners serve a self-signed certificate
// whatever certificate ARN is given; a load balancer is provisioning only in
// the CreateLoadBalancer answer and active afterwards; a new target turns
// healthy on its first passing check (then needs HealthyThresholdCount passes
// after being unhealthy); a draining target stays draining for the whole
// deregistration delay even when idle; HTTP/2 to clients and targets is not
// spoken; health-check timeouts are I/O deadlines on the wall clock, while
// their scheduling follows the injected clock. Towards targets the idle
// timeout is a read deadline refreshed lazily, so a silent target is cut
// off (504) after between 1 and 1.5 times the idle timeout; a client that
// disconnects while its target is still working does not cut the target's
// connection short (the answer is read and discarded); a target connection
// idle for a second is checked for a close by the target before reuse, and
// an idempotent request without a body that meets a connection the target
// closed meanwhile is retried once on a new connection.
// Lambda targets: RegisterTargets accepts any well-formed function ARN
// without checking that the function exists or that its resource policy
// lets elasticloadbalancing.amazonaws.com invoke it (an unknown function
// answers 502 at request time); a lambda target group holds one function
// (a second answers TooManyTargets with this package's own wording); the
// statusDescription of an answer is not used (Go writes the standard reason
// phrase); an answer without Content-Type is sent without one; the
// Lambda-specific metrics (LambdaUserError, LambdaInternalError) and the
// AWSALB stickiness of lambda groups are not emulated; a deregistered
// function stops receiving requests at once.
package elb

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/protocol/query"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// InstanceResolver finds the private address of an EC2 instance, for targets
// of type instance and classic load balancer instances.
type InstanceResolver interface {
	// InstanceAddress returns the instance's private IPv4 address and true
	// when the instance exists and is running; false otherwise (the target
	// is then reported unhealthy). It MUST be safe for concurrent use and
	// cheap: health checks call it every interval.
	InstanceAddress(account, region, instanceID string) (ip string, ok bool)
}

// InstanceResolverFunc adapts a function to InstanceResolver.
type InstanceResolverFunc func(account, region, instanceID string) (string, bool)

// InstanceAddress implements InstanceResolver.
func (f InstanceResolverFunc) InstanceAddress(account, region, id string) (string, bool) {
	return f(account, region, id)
}

type noInstances struct{}

func (noInstances) InstanceAddress(string, string, string) (string, bool) { return "", false }

// Options configures the service.
type Options struct {
	KV     storage.KV
	Logger *slog.Logger
	// Clock schedules health checks, draining and metric periods; nil is
	// the wall clock.
	Clock clock.Clock
	// Metrics receives the AWS/ApplicationELB, AWS/NetworkELB and AWS/ELB
	// metrics; nil discards them.
	Metrics metrics.Publisher
	// Instances resolves instance targets; nil treats every instance as
	// unknown (unhealthy).
	Instances InstanceResolver
	// ListenHost is the address listeners bind; default 127.0.0.1.
	ListenHost string
	// Functions invokes the functions of lambda target groups; nil answers
	// their requests 502 (see also [Service.SetFunctions]).
	Functions FunctionInvoker
}

// Service is Elastic Load Balancing.
type Service struct {
	kv        storage.KV
	log       *slog.Logger
	clk       clock.Clock
	pub       metrics.Publisher
	instances InstanceResolver
	listenOn  string
	fns       atomic.Pointer[FunctionInvoker]

	// mu serialises the control plane; the data plane reads snapshots.
	mu        sync.Mutex
	lbs       map[string]*loadBalancer
	tgs       map[string]*targetGroup
	listeners map[string]*listener
	rules     map[string]*rule

	lbRT  map[string]*lbRuntime
	tgRT  map[string]*tgRuntime
	lnRT  map[string]*listenerRuntime
	hosts atomic.Pointer[map[string]*lbRuntime]

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool

	certOnce sync.Once
	cert     *certHolder
}

// New returns the service.
func New(o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Metrics == nil {
		o.Metrics = metrics.Discard{}
	}
	if o.Instances == nil {
		o.Instances = noInstances{}
	}
	if o.ListenHost == "" {
		o.ListenHost = "127.0.0.1"
	}
	s := &Service{
		kv: o.KV, log: o.Logger, clk: o.Clock, pub: o.Metrics, instances: o.Instances, listenOn: o.ListenHost,
		lbs: map[string]*loadBalancer{}, tgs: map[string]*targetGroup{},
		listeners: map[string]*listener{}, rules: map[string]*rule{},
		lbRT: map[string]*lbRuntime{}, tgRT: map[string]*tgRuntime{}, lnRT: map[string]*listenerRuntime{},
	}
	empty := map[string]*lbRuntime{}
	s.hosts.Store(&empty)
	s.SetFunctions(o.Functions)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Name implements service.Service.
func (*Service) Name() string { return serviceName }

// APIs implements service.Service.
func (*Service) APIs() []string { return []string{"elbv2", "elb"} }

// Start loads the stored resources and opens their listeners.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return err
	}
	s.started = true
	s.syncLocked()
	s.wg.Add(1)
	go s.metricsLoop()
	return nil
}

// Stop closes every listener and joins the health checkers and proxies.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.started = false
	s.cancel()
	for arn, l := range s.lnRT {
		l.close()
		delete(s.lnRT, arn)
	}
	for arn, g := range s.tgRT {
		g.stop()
		delete(s.tgRT, arn)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// classic reports whether r is a classic (2012-06-01) call.
func classic(r *service.Request) bool {
	if r.HTTP == nil {
		return false
	}
	f, err := query.Form(r.HTTP)
	return err == nil && f.Get("Version") == "2012-06-01"
}

// Handlers implements service.Service. Operations both APIs share are told
// apart by the request's Version.
func (s *Service) Handlers() map[string]service.Handler {
	v2 := s.v2Handlers()
	v1 := s.classicHandlers()
	out := map[string]service.Handler{}
	for name, h := range v2 {
		out[name] = h
	}
	for name, h := range v1 {
		if h2, ok := v2[name]; ok {
			h1 := h
			out[name] = func(r *service.Request) (map[string]any, error) {
				if classic(r) {
					return h1(r)
				}
				return h2(r)
			}
			continue
		}
		out[name] = h
	}
	return out
}

// ServeHost implements service.Host: requests whose Host is a load
// balancer's DNS name are served by that load balancer.
func (s *Service) ServeHost(w http.ResponseWriter, r *http.Request) bool {
	host := r.Host
	port := ""
	if i := lastColon(host); i >= 0 {
		host, port = host[:i], host[i+1:]
	}
	if len(host) < len(dnsSuffix) || !equalFoldASCII(host[len(host)-len(dnsSuffix):], dnsSuffix) {
		return false
	}
	lb := (*s.hosts.Load())[lowerASCII(host)]
	if lb == nil {
		return false
	}
	l := lb.edgeListener(port)
	if l == nil {
		writeELBError(w, http.StatusServiceUnavailable)
		return true
	}
	l.ServeHTTP(w, r)
	return true
}

const dnsSuffix = ".elb.localhost"

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case ':':
			return i
		case ']':
			return -1
		}
	}
	return -1
}

var (
	_ service.Service = (*Service)(nil)
	_ service.Starter = (*Service)(nil)
	_ service.Stopper = (*Service)(nil)
	_ service.Host    = (*Service)(nil)
)
