// Package server wires Overcast together: it opens the state store, builds
// the services of the registration list (services.go) in dependency order,
// puts the gateway in front of them on one HTTP listener, and stops
// everything in reverse order.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/gateway"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/policy/enforce"
	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/rest"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/cloudwatch"
	"github.com/overcast-dev/overcast/internal/service/dynamodb"
	"github.com/overcast-dev/overcast/internal/service/ec2"
	"github.com/overcast-dev/overcast/internal/service/elb"
	"github.com/overcast-dev/overcast/internal/service/iam"
	"github.com/overcast-dev/overcast/internal/service/lambda"
	"github.com/overcast-dev/overcast/internal/service/logs"
	"github.com/overcast-dev/overcast/internal/service/s3"
	"github.com/overcast-dev/overcast/internal/service/sns"
	"github.com/overcast-dev/overcast/internal/service/sqs"
	"github.com/overcast-dev/overcast/internal/service/sts"
	"github.com/overcast-dev/overcast/internal/storage"
	"github.com/overcast-dev/overcast/internal/storage/disk"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

// Version is the Overcast version reported by health endpoints.
const Version = "0.1.0"

// Config configures a Server.
type Config struct {
	// Addr is the listen address; "127.0.0.1:0" picks a free port.
	Addr string
	// DataDir holds the embedded store; ignored when Memory is set.
	DataDir string
	// Memory keeps all state in memory: nothing is written to disk.
	Memory bool
	// Services limits the server to these services (and their dependencies);
	// empty means all.
	Services []string
	// Auth is "off" (accept any well-formed or absent signature) or "verify".
	Auth string
	// AccessKey and SecretKey are the root credentials accepted when Auth is
	// "verify" (default test/test).
	AccessKey, SecretKey string
	// Region is the default region for unsigned requests.
	Region string
	// Logger receives the server's logs.
	Logger *slog.Logger
	// NoSync skips fsync in the disk store (tests only).
	NoSync bool
	// IAM is the policy enforcement mode: "off" (default), "soft" (evaluate
	// and log every decision, allow everything) or "strict" (deny what IAM
	// would deny).
	IAM string
	// Clock, when set, replaces the real clock for time-based behaviour
	// (tests step it instead of sleeping).
	Clock clock.Clock
	// S3RateLimit enables S3's per-prefix request rates (3,500 writes and
	// 5,500 reads per second per prefix; excess answers 503 SlowDown).
	S3RateLimit bool
	// DynamoDBThrottle limits DynamoDB tables and global secondary indexes
	// in PROVISIONED billing mode to their read and write capacity units
	// (with 300 seconds of burst); excess requests answer
	// ProvisionedThroughputExceededException.
	DynamoDBThrottle bool
}

// parts are what services are built from.
type parts struct {
	cfg     Config
	logger  *slog.Logger
	kv      storage.KV
	blobs   storage.Blobs
	account func(accessKey string) string
	// clock drives time-based behaviour (default clock.Real()).
	clock clock.Clock
	// metrics receives the AWS/<Service> metrics services emit: metrics.Discard
	// until the CloudWatch service is built, then CloudWatch. Services may keep
	// it whatever their build order.
	metrics *metricsSlot
	// cloudwatch is the CloudWatch service once built (alarm action wiring).
	cloudwatch *cloudwatch.Service
	// sqs is the SQS service once built, for services that deliver to queues.
	sqs *sqs.Service
	// sns is the SNS service once built, for services that publish to topics.
	sns *sns.Service
	// ec2 is EC2 once built: Auto Scaling launches and terminates through it,
	// load balancers look up instances and subnets.
	ec2 *ec2.Service
	// iam and sts are the identity services once built: the gateway asks
	// them who a caller is and what it may do.
	iam *iam.Service
	sts *sts.Service
	// elb is Elastic Load Balancing once built (Auto Scaling attaches to it).
	elb *elb.Service
	// logs is CloudWatch Logs once built (Lambda writes function logs to it).
	logs *logs.Service
	// s3, dynamodb and lambda are those services once built: Lambda reads
	// code from S3 and polls DynamoDB Streams; S3 notifies functions.
	s3       *s3.Service
	dynamodb *dynamodb.Service
	lambda   *lambda.Service
}

// metricsSlot is a metrics.Publisher that forwards to the publisher set
// last (metrics.Discard until then).
type metricsSlot struct{ p atomic.Pointer[publisherBox] }

// publisherBox holds a Publisher: atomic.Value would refuse a change of
// concrete type (Discard, then CloudWatch).
type publisherBox struct{ metrics.Publisher }

func newMetricsSlot() *metricsSlot {
	m := &metricsSlot{}
	m.set(metrics.Discard{})
	return m
}

func (m *metricsSlot) set(p metrics.Publisher) { m.p.Store(&publisherBox{p}) }

// Publish implements metrics.Publisher.
func (m *metricsSlot) Publish(account, region, namespace string, data []metrics.Datum) {
	m.p.Load().Publish(account, region, namespace, data)
}

// Server is a running Overcast.
type Server struct {
	cfg      Config
	logger   *slog.Logger
	kv       storage.KV
	services []service.Service
	gw       *gateway.Gateway
	ln       net.Listener
	http     *http.Server
	started  time.Time
	serveErr chan error

	mu      sync.Mutex
	running map[string]bool
}

// ServiceNames lists every registered service in start order.
func ServiceNames() []string {
	var out []string
	for _, m := range modules() {
		out = append(out, m.name)
	}
	return out
}

// ServiceDeps returns the dependencies of each registered service.
func ServiceDeps() map[string][]string {
	out := map[string][]string{}
	for _, m := range modules() {
		out[m.name] = m.deps
	}
	return out
}

// selectModules returns the requested modules plus their dependencies, in
// registration (dependency) order.
func selectModules(names []string) ([]module, error) {
	all := modules()
	if len(names) == 0 {
		return all, nil
	}
	byName := map[string]module{}
	for _, m := range all {
		byName[m.name] = m
	}
	want := map[string]bool{}
	var add func(string) error
	add = func(n string) error {
		m, ok := byName[n]
		if !ok {
			return fmt.Errorf("unknown service %q (see --list-services)", n)
		}
		if want[n] {
			return nil
		}
		want[n] = true
		for _, d := range m.deps {
			if err := add(d); err != nil {
				return err
			}
		}
		return nil
	}
	for _, n := range names {
		if err := add(strings.TrimSpace(n)); err != nil {
			return nil, err
		}
	}
	var out []module
	for _, m := range all {
		if want[m.name] {
			out = append(out, m)
		}
	}
	return out, nil
}

var accountKey = regexp.MustCompile(`^[0-9]{12}$`)

// AccountOf returns the account an access key belongs to: a 12-digit key is
// that account; any other key belongs to the default account.
func AccountOf(accessKey string) string {
	if accountKey.MatchString(accessKey) {
		return accessKey
	}
	return gateway.DefaultAccount
}

// New builds a server: it opens the store and builds the services, but does
// not listen until Start.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:4566"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccessKey == "" {
		cfg.AccessKey, cfg.SecretKey = "test", "test"
	}
	if cfg.Auth == "" {
		cfg.Auth = "off"
	}
	if cfg.Auth != "off" && cfg.Auth != "verify" {
		return nil, fmt.Errorf("auth mode %q: want off or verify", cfg.Auth)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	iamMode, err := enforce.ParseMode(cfg.IAM)
	if err != nil {
		return nil, err
	}
	mods, err := selectModules(cfg.Services)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, logger: logger, running: map[string]bool{}}
	p := &parts{cfg: cfg, logger: logger, account: AccountOf, clock: clock.Real(), metrics: newMetricsSlot()}
	if cfg.Clock != nil {
		p.clock = cfg.Clock
	}
	a := newAuth(cfg.AccessKey, cfg.SecretKey)
	p.account = a.Account
	if cfg.Memory {
		p.kv, p.blobs = memory.New(), memory.NewBlobs()
	} else {
		if cfg.DataDir == "" {
			return nil, errors.New("no data directory: set one or run in memory")
		}
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		st, err := disk.Open(cfg.DataDir, disk.Options{NoSync: cfg.NoSync})
		if err != nil {
			return nil, fmt.Errorf("open state: %w", err)
		}
		p.kv, p.blobs = st, st.Blobs()
	}
	s.kv = p.kv
	for _, m := range mods {
		s.services = append(s.services, m.build(p))
	}
	a.iam, a.sts, a.clock, a.services = p.iam, p.sts, p.clock, s.services
	s.gw, err = gateway.New(gateway.Config{
		Logger:        logger,
		Auth:          a,
		Verify:        cfg.Auth == "verify",
		DefaultRegion: cfg.Region,
		Internal:      http.HandlerFunc(s.serveInternal),
		Authorizer:    a.authorizer(iamMode, logger),
	}, s.services, map[string]protocol.Codec{
		protocol.RestJSON: rest.NewJSON(),
		protocol.RestXML:  rest.NewXML(),
	})
	if err != nil {
		p.kv.Close()
		return nil, err
	}
	return s, nil
}

// Start starts the services in dependency order and begins serving.
func (s *Server) Start(ctx context.Context) error {
	s.started = time.Now()
	for _, svc := range s.services {
		if st, ok := svc.(service.Starter); ok {
			if err := st.Start(ctx); err != nil {
				s.stopServices(ctx)
				return fmt.Errorf("start %s: %w", svc.Name(), err)
			}
		}
		s.mu.Lock()
		s.running[svc.Name()] = true
		s.mu.Unlock()
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		s.stopServices(ctx)
		return fmt.Errorf("listen: %w", err)
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           s.gw,
		ReadHeaderTimeout: 30 * time.Second,
		MaxHeaderBytes:    32 << 20,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
	s.serveErr = make(chan error, 1)
	go func() { s.serveErr <- s.http.Serve(ln) }()
	return nil
}

// Addr returns the listening address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns the endpoint URL clients use.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Handler returns the gateway, for serving without a listener.
func (s *Server) Handler() http.Handler { return s.gw }

// Service returns the server's service called name (as ServiceNames lists
// it), or nil. Tests reach test hooks through it, such as a load
// balancer's FlushMetrics.
func (s *Server) Service(name string) service.Service {
	for _, svc := range s.services {
		if svc.Name() == name {
			return svc
		}
	}
	return nil
}

// Close stops serving, stops services in reverse order and closes the store.
func (s *Server) Close(ctx context.Context) error {
	var errs []error
	if s.http != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			s.http.Close()
		}
		if err := <-s.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.stopServices(ctx))
	if err := s.kv.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Server) stopServices(ctx context.Context) error {
	var errs []error
	for i := len(s.services) - 1; i >= 0; i-- {
		svc := s.services[i]
		s.mu.Lock()
		wasRunning := s.running[svc.Name()]
		delete(s.running, svc.Name())
		s.mu.Unlock()
		if !wasRunning {
			continue
		}
		if st, ok := svc.(service.Stopper); ok {
			if err := st.Stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("stop %s: %w", svc.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// serviceStates returns each service's state as health endpoints report it.
func (s *Server) serviceStates() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for _, svc := range s.services {
		state := "available"
		if s.running[svc.Name()] {
			state = "running"
		}
		if service.IsPending(svc) {
			state = "available"
		}
		out[svc.Name()] = state
	}
	return out
}

func (s *Server) serveInternal(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, sts.OIDCPath+"/") {
		s.serveOIDC(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/_overcast/sns/") {
		for _, svc := range s.services {
			if sn, ok := svc.(*sns.Service); ok {
				sn.ServeInternal(w, r)
				return
			}
		}
	}
	writeJSON := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(v)
	}
	switch r.URL.Path {
	case "/_overcast/health":
		states := s.serviceStates()
		type svcInfo struct {
			State       string `json:"state"`
			Implemented bool   `json:"implemented"`
		}
		services := map[string]svcInfo{}
		for _, svc := range s.services {
			services[svc.Name()] = svcInfo{State: states[svc.Name()], Implemented: !service.IsPending(svc)}
		}
		writeJSON(map[string]any{
			"status":   "ok",
			"version":  Version,
			"uptime_s": time.Since(s.started).Seconds(),
			"services": services,
		})
	case "/_localstack/health":
		writeJSON(map[string]any{
			"services": s.serviceStates(),
			"edition":  "community",
			"version":  Version,
		})
	case "/_overcast/services":
		names := make([]string, 0, len(s.services))
		for _, svc := range s.services {
			names = append(names, svc.Name())
		}
		sort.Strings(names)
		writeJSON(map[string]any{"services": names, "dependencies": ServiceDeps()})
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "{\"error\":\"no such endpoint %s\"}\n", r.URL.Path)
	}
}
