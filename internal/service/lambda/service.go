package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/controller"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/runtime/proc"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// CodeFetcher reads deployment packages that CreateFunction and
// UpdateFunctionCode name by S3 bucket and key. S3 implements it.
type CodeFetcher interface {
	// FetchCode opens the object bucket/key (at objectVersion when not
	// empty) as account in region. It MUST return an error when the object
	// does not exist; the caller closes the reader.
	FetchCode(ctx context.Context, account, region, bucket, key, objectVersion string) (io.ReadCloser, error)
}

// LogEvent is one log line of a function.
type LogEvent struct {
	Time    time.Time
	Message string
}

// LogSink receives functions' logs: CloudWatch Logs implements it.
type LogSink interface {
	// PutLogEvents appends events, in order, to stream in group for account
	// and region, creating the group and the stream when missing. It MUST be
	// safe for concurrent use and MUST NOT block for long.
	PutLogEvents(account, region, group, stream string, events []LogEvent)
}

// Destination delivers asynchronous invocation records and dead letters to
// SQS queues, SNS topics and EventBridge buses. Lambda destinations are
// handled by the service itself.
type Destination interface {
	// Deliver sends body to the resource destinationARN names. It returns
	// an error when the resource does not exist or refuses the message.
	Deliver(ctx context.Context, destinationARN string, body []byte) error
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock that times invocations, retries and the reaping
// of idle environments (default clock.Real()).
func WithClock(c clock.Clock) Option { return func(s *Service) { s.clk = c } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithMetrics sets the publisher of the AWS/Lambda metrics.
func WithMetrics(p metrics.Publisher) Option { return func(s *Service) { s.metrics = p } }

// WithLogSink sets where function logs go (default: nowhere but LogType
// Tail).
func WithLogSink(l LogSink) Option { return func(s *Service) { s.logs = l } }

// WithCodeFetcher sets how code is read from S3.
func WithCodeFetcher(f CodeFetcher) Option { return func(s *Service) { s.code = f } }

// WithDestination sets how asynchronous invocation records reach SQS, SNS
// and EventBridge.
func WithDestination(d Destination) Option { return func(s *Service) { s.dest = d } }

// WithQueueSource sets the SQS poller's source of messages.
func WithQueueSource(q QueueSource) Option { return func(s *Service) { s.queues = q } }

// WithStreamSource sets the DynamoDB Streams poller's source of records.
func WithStreamSource(st StreamSource) Option { return func(s *Service) { s.streams = st } }

// WithCodeDir sets the directory function code is unpacked under. By
// default a temporary directory is made at Start and removed at Stop.
func WithCodeDir(dir string) Option { return func(s *Service) { s.codeDir = dir } }

// WithAccountConcurrency sets the account concurrency limit (default 1000).
func WithAccountConcurrency(n int) Option { return func(s *Service) { s.accountLimit = n } }

// WithIdleTimeout sets how long an idle execution environment is kept warm
// (default 10 minutes).
func WithIdleTimeout(d time.Duration) Option { return func(s *Service) { s.idleTTL = d } }

// WithRetryDelay sets the delay before the first retry of a failed
// asynchronous invocation; the second waits twice as long (default one
// minute, as Lambda).
func WithRetryDelay(d time.Duration) Option { return func(s *Service) { s.retryDelay = d } }

// WithEndpoint sets the URL functions reach AWS APIs at (AWS_ENDPOINT_URL);
// it is called at each cold start. By default the Host of the last API
// request is used.
func WithEndpoint(f func() string) Option { return func(s *Service) { s.endpoint = f } }

// WithCredentials sets the credentials handed to a function's execution
// environment as its execution role's (default test/test): f is called at
// each cold start with the function's account, role ARN and name (the
// session name Lambda uses).
func WithCredentials(f func(account, role, function string) (keyID, secret, token string)) Option {
	return func(s *Service) { s.creds = f }
}

// Service is AWS Lambda.
type Service struct {
	kv      storage.KV
	blobs   storage.Blobs
	clk     clock.Clock
	log     *slog.Logger
	metrics metrics.Publisher
	logs    LogSink
	code    CodeFetcher
	dest    Destination
	queues  QueueSource
	streams StreamSource

	codeDir      string
	ownCodeDir   bool
	accountLimit int
	idleTTL      time.Duration
	retryDelay   time.Duration
	endpoint     func() string
	creds        func(account, role, function string) (string, string, string)
	lastHost     syncString

	// mu guards the indexes; writers also hold wmu across the store write so
	// control-plane changes apply one at a time, while invocations only
	// take mu to read.
	mu       sync.RWMutex
	wmu      sync.Mutex
	fns      map[fnKey]*function
	reserved map[acctKey]int64 // reserved concurrency summed per account and region
	layers   map[layerKey]*layer
	esms     map[string]*esm
	urls     map[string]urlTarget // function URLs by id
	urlAuth  URLAuthenticator

	pool   *pool
	sup    *proc.Supervisor
	ctrl   *controller.Manager
	async  *asyncQueue
	unpack unpacker
	logCh  chan logBatch

	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

type acctKey struct{ account, region string }

// New returns Lambda storing functions in kv and code in blobs.
func New(kv storage.KV, blobs storage.Blobs, opts ...Option) *Service {
	s := &Service{
		kv:           kv,
		blobs:        blobs,
		clk:          clock.Real(),
		log:          slog.New(slog.DiscardHandler),
		metrics:      metrics.Discard{},
		accountLimit: 1000,
		idleTTL:      10 * time.Minute,
		retryDelay:   time.Minute,
		creds:        func(string, string, string) (string, string, string) { return "test", "test", "" },
		fns:          map[fnKey]*function{},
		reserved:     map[acctKey]int64{},
		layers:       map[layerKey]*layer{},
		esms:         map[string]*esm{},
		urls:         map[string]urlTarget{},
		done:         make(chan struct{}),
		logCh:        make(chan logBatch, 4096),
	}
	for _, o := range opts {
		o(s)
	}
	s.pool = newPool()
	s.async = newAsyncQueue()
	return s
}

// Name implements service.Service.
func (*Service) Name() string { return "lambda" }

// APIs implements service.Service.
func (*Service) APIs() []string { return []string{"lambda"} }

// Handlers implements service.Service.
func (s *Service) Handlers() map[string]service.Handler {
	h := map[string]service.Handler{
		"CreateFunction":                     s.createFunction,
		"GetFunction":                        s.getFunction,
		"GetFunctionConfiguration":           s.getFunctionConfiguration,
		"ListFunctions":                      s.listFunctions,
		"UpdateFunctionCode":                 s.updateFunctionCode,
		"UpdateFunctionConfiguration":        s.updateFunctionConfiguration,
		"DeleteFunction":                     s.deleteFunction,
		"PublishVersion":                     s.publishVersion,
		"ListVersionsByFunction":             s.listVersionsByFunction,
		"CreateAlias":                        s.createAlias,
		"GetAlias":                           s.getAlias,
		"UpdateAlias":                        s.updateAlias,
		"DeleteAlias":                        s.deleteAlias,
		"ListAliases":                        s.listAliases,
		"PutFunctionConcurrency":             s.putFunctionConcurrency,
		"GetFunctionConcurrency":             s.getFunctionConcurrency,
		"DeleteFunctionConcurrency":          s.deleteFunctionConcurrency,
		"AddPermission":                      s.addPermission,
		"RemovePermission":                   s.removePermission,
		"GetPolicy":                          s.getPolicy,
		"GetAccountSettings":                 s.getAccountSettings,
		"PutFunctionEventInvokeConfig":       s.putEventInvokeConfig,
		"UpdateFunctionEventInvokeConfig":    s.updateEventInvokeConfig,
		"GetFunctionEventInvokeConfig":       s.getEventInvokeConfig,
		"DeleteFunctionEventInvokeConfig":    s.deleteEventInvokeConfig,
		"ListFunctionEventInvokeConfigs":     s.listEventInvokeConfigs,
		"TagResource":                        s.tagResource,
		"UntagResource":                      s.untagResource,
		"ListTags":                           s.listTags,
		"Invoke":                             s.invoke,
		"InvokeAsync":                        s.invokeAsync,
		"PublishLayerVersion":                s.publishLayerVersion,
		"GetLayerVersion":                    s.getLayerVersion,
		"GetLayerVersionByArn":               s.getLayerVersionByArn,
		"ListLayerVersions":                  s.listLayerVersions,
		"ListLayers":                         s.listLayers,
		"DeleteLayerVersion":                 s.deleteLayerVersion,
		"CreateEventSourceMapping":           s.createEventSourceMapping,
		"GetEventSourceMapping":              s.getEventSourceMapping,
		"UpdateEventSourceMapping":           s.updateEventSourceMapping,
		"DeleteEventSourceMapping":           s.deleteEventSourceMapping,
		"ListEventSourceMappings":            s.listEventSourceMappings,
		"CreateFunctionUrlConfig":            s.createFunctionURLConfig,
		"GetFunctionUrlConfig":               s.getFunctionURLConfig,
		"UpdateFunctionUrlConfig":            s.updateFunctionURLConfig,
		"DeleteFunctionUrlConfig":            s.deleteFunctionURLConfig,
		"ListFunctionUrlConfigs":             s.listFunctionURLConfigs,
		"PutProvisionedConcurrencyConfig":    s.putProvisionedConcurrency,
		"GetProvisionedConcurrencyConfig":    s.getProvisionedConcurrency,
		"DeleteProvisionedConcurrencyConfig": s.deleteProvisionedConcurrency,
		"ListProvisionedConcurrencyConfigs":  s.listProvisionedConcurrency,
	}
	for name, fn := range h {
		h[name] = s.track(fn)
	}
	return h
}

// track remembers the Host clients reach the server at, for
// AWS_ENDPOINT_URL, and turns panics into ServiceException.
func (s *Service) track(h service.Handler) service.Handler {
	return func(r *service.Request) (out map[string]any, err error) {
		if r.HTTP != nil && r.HTTP.Host != "" {
			s.lastHost.Set(r.HTTP.Host)
		}
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("lambda handler panic", "op", r.Operation, "panic", p)
				out, err = nil, errService("An internal error occurred.")
			}
		}()
		return h(r)
	}
}

// Start loads state, and starts the supervisor, the asynchronous queue, the
// reaper and the event-source pollers.
func (s *Service) Start(ctx context.Context) error {
	if s.codeDir == "" {
		dir, err := os.MkdirTemp("", "overcast-lambda-")
		if err != nil {
			return fmt.Errorf("lambda code dir: %w", err)
		}
		s.codeDir, s.ownCodeDir = dir, true
	} else if err := os.MkdirAll(s.codeDir, 0o755); err != nil {
		return fmt.Errorf("lambda code dir: %w", err)
	}
	s.unpack.root = filepath.Join(s.codeDir, "code")
	if err := s.load(); err != nil {
		return err
	}
	s.sup = proc.NewSupervisor(s.clk, s.log)
	s.ctrl = controller.NewManager(s.clk, s.log)
	if err := s.ctrl.Start(controller.Loop{Name: "lambda-reaper", Interval: max(s.idleTTL/4, time.Second), Reconcile: s.reap}); err != nil {
		return err
	}
	s.wg.Add(1)
	go s.runAsync()
	if s.logs != nil {
		s.wg.Add(1)
		go s.shipLogs()
	}
	s.mu.RLock()
	for _, m := range s.esms {
		s.startPoller(m)
	}
	s.mu.RUnlock()
	return nil
}

// Stop stops the pollers, the queue, every execution environment, and joins
// every goroutine.
func (s *Service) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.done) })
	if s.ctrl != nil {
		s.ctrl.Stop()
	}
	s.wg.Wait()
	var errs []error
	for _, e := range s.pool.drain() {
		e.close()
	}
	if s.sup != nil {
		errs = append(errs, s.sup.Close(ctx))
	}
	if s.ownCodeDir {
		os.RemoveAll(s.codeDir)
	}
	return errors.Join(errs...)
}

func (s *Service) stopping() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Keys.
func scope(account, region string) storage.Scope {
	return storage.Scope{Service: "lambda", Account: account, Region: region}
}

func fnStoreKey(k fnKey) []byte { return scope(k.account, k.region).Key("function", k.name) }

// load rebuilds the indexes from the store.
func (s *Service) load() error {
	start, end := storage.ServiceRange("lambda")
	return s.kv.View(func(tx storage.Tx) error {
		return tx.Scan(start, end, func(k, v []byte) bool {
			_, parts, err := storage.DecodeKey(k)
			if err != nil || len(parts) < 2 {
				return true
			}
			switch parts[0] {
			case "function":
				var f function
				if json.Unmarshal(v, &f) == nil && f.Latest != nil {
					s.fns[f.key()] = &f
					s.indexURLs(nil, &f)
					if f.Reserved != nil {
						s.reserved[acctKey{f.Account, f.Region}] += *f.Reserved
					}
				}
			case "layer":
				var l layer
				if json.Unmarshal(v, &l) == nil {
					s.layers[layerKey{l.Account, l.Region, l.Name}] = &l
				}
			case "esm":
				var m esm
				if json.Unmarshal(v, &m) == nil {
					s.esms[m.UUID] = &m
				}
			}
			return true
		})
	})
}

// lookup returns the function k, or nil.
func (s *Service) lookup(k fnKey) *function {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.fns[k]
}

// put stores f (or deletes k when f is nil) and swaps it into the index.
// The caller holds wmu.
func (s *Service) put(k fnKey, f *function) error {
	err := s.kv.Update(func(tx storage.Tx) error {
		if f == nil {
			return tx.Delete(fnStoreKey(k))
		}
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		return tx.Put(fnStoreKey(k), b)
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	ak := acctKey{k.account, k.region}
	old := s.fns[k]
	if old != nil && old.Reserved != nil {
		s.reserved[ak] -= *old.Reserved
	}
	s.indexURLs(old, f)
	if f == nil {
		delete(s.fns, k)
	} else {
		s.fns[k] = f
		if f.Reserved != nil {
			s.reserved[ak] += *f.Reserved
		}
	}
	s.mu.Unlock()
	return nil
}

// mutate applies change to a clone of function k and stores the result.
func (s *Service) mutate(k fnKey, arn string, change func(f *function) error) (*function, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	cur := s.lookup(k)
	if cur == nil {
		return nil, errFunctionNotFound(arn)
	}
	f := cur.clone()
	if err := change(f); err != nil {
		return nil, err
	}
	if err := s.put(k, f); err != nil {
		return nil, err
	}
	return f, nil
}

type syncString struct {
	mu sync.Mutex
	s  string
}

func (x *syncString) Set(v string) {
	x.mu.Lock()
	if x.s != v {
		x.s = v
	}
	x.mu.Unlock()
}

func (x *syncString) Get() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.s
}

func (s *Service) endpointURL() string {
	if s.endpoint != nil {
		if u := s.endpoint(); u != "" {
			return u
		}
	}
	if h := s.lastHost.Get(); h != "" {
		return "http://" + h
	}
	return "http://127.0.0.1:4566"
}

// Interface guards.
var (
	_ service.Service = (*Service)(nil)
	_ service.Starter = (*Service)(nil)
	_ service.Stopper = (*Service)(nil)
)
