package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/controller"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/logs/pattern"
	"github.com/overcast-dev/overcast/internal/storage"
)

const (
	metaScope   = "logs"
	eventsScope = "logs.events"
)

// SubscriptionDeliverer delivers log events matched by a subscription
// filter to its destination (a Lambda function). Lambda implements it.
type SubscriptionDeliverer interface {
	// DeliverLogs hands data, the gzip-compressed JSON document AWS sends
	// subscription destinations (messageType DATA_MESSAGE, owner,
	// logGroup, logStream, subscriptionFilters, logEvents), to the
	// destination destinationARN. It MUST NOT block for long (queue the
	// invocation) and MUST NOT call back into CloudWatch Logs synchronously.
	DeliverLogs(ctx context.Context, destinationARN string, data []byte) error
}

// Options configure a Service.
type Options struct {
	KV     storage.KV
	Clock  clock.Clock
	Logger *slog.Logger
	// Metrics receives metric filter and embedded-metric-format data
	// (default metrics.Discard).
	Metrics metrics.Publisher
	// Deliverer delivers subscription filter matches; nil stores filters
	// without delivering.
	Deliverer SubscriptionDeliverer
	// RetentionInterval is how often retention is enforced (default 10 min).
	RetentionInterval time.Duration
}

// Service is CloudWatch Logs.
type Service struct {
	kv      storage.KV
	clk     clock.Clock
	log     *slog.Logger
	metrics metrics.Publisher
	retE    time.Duration
	mgr     *controller.Manager

	delivMu   sync.RWMutex
	deliverer SubscriptionDeliverer

	mu      sync.RWMutex
	regions map[regionKey]*region

	queries *queryStore
}

type regionKey struct{ account, region string }

type region struct {
	mu     sync.RWMutex
	groups map[string]*group
}

type group struct {
	// name and class never change after creation.
	name, class string

	mu      sync.Mutex
	meta    groupMeta
	streams map[string]*stream
	mfs     map[string]*metricFilter
	subs    map[string]*subFilter
	deleted bool
}

type groupMeta struct {
	Name               string            `json:"n"`
	Created            int64             `json:"c"`
	Retention          int64             `json:"r,omitempty"`
	KmsKeyID           string            `json:"k,omitempty"`
	Class              string            `json:"cl,omitempty"`
	Tags               map[string]string `json:"t,omitempty"`
	DeletionProtection bool              `json:"dp,omitempty"`
	NextStreamID       uint64            `json:"ns"`
}

type stream struct {
	mu      sync.Mutex
	meta    streamMeta
	deleted bool
}

type streamMeta struct {
	Name          string `json:"n"`
	ID            uint64 `json:"i"`
	Created       int64  `json:"c"`
	First         int64  `json:"f,omitempty"`
	Last          int64  `json:"l,omitempty"`
	LastIngestion int64  `json:"li,omitempty"`
	Stored        int64  `json:"b,omitempty"`
	Seq           uint64 `json:"s"`
}

// New returns the CloudWatch Logs service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.Discard{}
	}
	if o.RetentionInterval <= 0 {
		o.RetentionInterval = 10 * time.Minute
	}
	return &Service{kv: o.KV, clk: o.Clock, log: o.Logger, metrics: o.Metrics, retE: o.RetentionInterval,
		deliverer: o.Deliverer, regions: map[regionKey]*region{}, queries: newQueryStore()}
}

// SetDeliverer sets the subscription deliverer after construction (wiring).
func (s *Service) SetDeliverer(d SubscriptionDeliverer) {
	s.delivMu.Lock()
	s.deliverer = d
	s.delivMu.Unlock()
}

// Name implements service.Service.
func (s *Service) Name() string { return "logs" }

// APIs implements service.Service.
func (s *Service) APIs() []string { return []string{"logs"} }

// Handlers implements service.Service.
func (s *Service) Handlers() map[string]service.Handler {
	return map[string]service.Handler{
		"CreateLogGroup":              s.createLogGroup,
		"DescribeLogGroups":           s.describeLogGroups,
		"DeleteLogGroup":              s.deleteLogGroup,
		"PutRetentionPolicy":          s.putRetentionPolicy,
		"DeleteRetentionPolicy":       s.deleteRetentionPolicy,
		"TagResource":                 s.tagResource,
		"UntagResource":               s.untagResource,
		"ListTagsForResource":         s.listTagsForResource,
		"TagLogGroup":                 s.tagLogGroup,
		"UntagLogGroup":               s.untagLogGroup,
		"ListTagsLogGroup":            s.listTagsLogGroup,
		"AssociateKmsKey":             s.associateKmsKey,
		"DisassociateKmsKey":          s.disassociateKmsKey,
		"CreateLogStream":             s.createLogStream,
		"DescribeLogStreams":          s.describeLogStreams,
		"DeleteLogStream":             s.deleteLogStream,
		"PutLogEvents":                s.putLogEvents,
		"GetLogEvents":                s.getLogEvents,
		"FilterLogEvents":             s.filterLogEvents,
		"PutMetricFilter":             s.putMetricFilter,
		"DescribeMetricFilters":       s.describeMetricFilters,
		"DeleteMetricFilter":          s.deleteMetricFilter,
		"TestMetricFilter":            s.testMetricFilter,
		"PutSubscriptionFilter":       s.putSubscriptionFilter,
		"DescribeSubscriptionFilters": s.describeSubscriptionFilters,
		"DeleteSubscriptionFilter":    s.deleteSubscriptionFilter,
		"StartQuery":                  s.startQuery,
		"GetQueryResults":             s.getQueryResults,
		"StopQuery":                   s.stopQuery,
		"DescribeQueries":             s.describeQueries,
	}
}

// Start loads the metadata and starts the retention loop.
func (s *Service) Start(ctx context.Context) error {
	if err := s.load(); err != nil {
		return fmt.Errorf("logs: load: %w", err)
	}
	s.mgr = controller.NewManager(s.clk, s.log)
	return s.mgr.Start(controller.Loop{Name: "logs-retention", Interval: s.retE, Reconcile: s.enforceRetention})
}

// Stop stops the retention loop.
func (s *Service) Stop(ctx context.Context) error {
	if s.mgr != nil {
		s.mgr.Stop()
	}
	return nil
}

// load rebuilds the in-memory index from the metadata scope.
func (s *Service) load() error {
	start, end := storage.ServiceRange(metaScope)
	return s.kv.View(func(tx storage.Tx) error {
		var ferr error
		err := tx.Scan(start, end, func(k, v []byte) bool {
			sc, parts, err := storage.DecodeKey(k)
			if err != nil || len(parts) < 2 {
				return true
			}
			r := s.region(sc.Account, sc.Region)
			switch parts[0] {
			case "g":
				var m groupMeta
				if ferr = json.Unmarshal(v, &m); ferr != nil {
					return false
				}
				r.groups[m.Name] = newGroup(m)
			case "s", "mf", "sf":
				g := r.groups[parts[1]]
				if g == nil || len(parts) < 3 {
					return true
				}
				switch parts[0] {
				case "s":
					var m streamMeta
					if ferr = json.Unmarshal(v, &m); ferr != nil {
						return false
					}
					g.streams[m.Name] = &stream{meta: m}
				case "mf":
					var m metricFilterMeta
					if ferr = json.Unmarshal(v, &m); ferr != nil {
						return false
					}
					p, err := pattern.Parse(m.Pattern)
					if err != nil {
						return true
					}
					g.mfs[m.Name] = &metricFilter{meta: m, p: p}
				case "sf":
					var m subFilterMeta
					if ferr = json.Unmarshal(v, &m); ferr != nil {
						return false
					}
					p, err := pattern.Parse(m.Pattern)
					if err != nil {
						return true
					}
					g.subs[m.Name] = &subFilter{meta: m, p: p}
				}
			}
			return true
		})
		if err != nil {
			return err
		}
		return ferr
	})
}

func newGroup(m groupMeta) *group {
	return &group{name: m.Name, class: m.Class, meta: m, streams: map[string]*stream{}, mfs: map[string]*metricFilter{}, subs: map[string]*subFilter{}}
}

// region returns the state of account/region, creating it.
func (s *Service) region(account, reg string) *region {
	k := regionKey{account, reg}
	s.mu.RLock()
	r := s.regions[k]
	s.mu.RUnlock()
	if r != nil {
		return r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r = s.regions[k]; r == nil {
		r = &region{groups: map[string]*group{}}
		s.regions[k] = r
	}
	return r
}

func (s *Service) allRegions() map[regionKey]*region {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[regionKey]*region, len(s.regions))
	for k, v := range s.regions {
		out[k] = v
	}
	return out
}

func scopeOf(account, region string) storage.Scope {
	return storage.Scope{Service: metaScope, Account: account, Region: region}
}

func eventScope(account, region string) storage.Scope {
	return storage.Scope{Service: eventsScope, Account: account, Region: region}
}

// lookupGroup finds a group by name or ARN (logGroupIdentifier).
func (s *Service) lookupGroup(req *service.Request, name string) (*group, error) {
	if name == "" {
		return nil, missing("logGroupName")
	}
	name = groupNameOf(name)
	r := s.region(req.Account, req.Region)
	r.mu.RLock()
	g := r.groups[name]
	r.mu.RUnlock()
	if g == nil {
		return nil, groupNotFound()
	}
	return g, nil
}

// groupParam returns the group named by logGroupName or logGroupIdentifier.
func (s *Service) groupParam(req *service.Request) (*group, error) {
	name := service.Str(req.Input, "logGroupName")
	id := service.Str(req.Input, "logGroupIdentifier")
	if name != "" && id != "" {
		return nil, invalidParam("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	}
	if name == "" {
		name = id
	}
	if name == "" {
		return nil, invalidParam("Should provide either name or ARN of the log group.")
	}
	return s.lookupGroup(req, name)
}

// groupNameOf accepts a log group name or its ARN.
func groupNameOf(id string) string {
	if strings.HasPrefix(id, "arn:") {
		if i := strings.Index(id, ":log-group:"); i >= 0 {
			n := id[i+len(":log-group:"):]
			n = strings.TrimSuffix(n, ":*")
			if j := strings.Index(n, ":log-stream:"); j >= 0 {
				n = n[:j]
			}
			return n
		}
	}
	return id
}

func groupARN(req *service.Request, name string) string {
	return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", service.Partition(req.Region), req.Region, req.Account, name)
}

// sortedGroups returns r's groups in name order.
func (r *region) sortedGroups() []*group {
	r.mu.RLock()
	out := make([]*group, 0, len(r.groups))
	for _, g := range r.groups {
		out = append(out, g)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

var _ service.Service = (*Service)(nil)
var _ service.Starter = (*Service)(nil)
var _ service.Stopper = (*Service)(nil)
