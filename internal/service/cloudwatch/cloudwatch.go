// Package cloudwatch implements Amazon CloudWatch: custom and service
// metrics (PutMetricData, ListMetrics, GetMetricStatistics, GetMetricData
// with metric math), metric and composite alarms evaluated by a controller,
// their actions (SNS notifications, Auto Scaling policies) and history. The
// same handlers answer the three protocols CloudWatch speaks:
// smithy-rpc-v2-cbor (current aws-sdk-go-v2), json 1.0 (boto3, JS v3) and
// query (older CLIs and SDKs).
//
// The service also implements metrics.Publisher, through which the other
// services emit their AWS/<Service> metrics.
//
// # Storage and durability
//
// Datapoints live in an in-memory store (package tsdb) of per-series,
// time-bucketed aggregates at 1 s (high resolution), 60 s, 5 min and 1 h,
// with CloudWatch's retention roll-ups. Every PutMetricData is written as a
// record of a put log through KV.Update before it is acknowledged, so an
// acknowledged put survives kill -9. A flush loop (every 5 s, and at Stop)
// writes the changed blocks of buckets and deletes the log records they
// cover in one transaction; start-up loads the blocks and replays the log.
// Metrics published internally by other services (metrics.Publisher) skip
// the put log to stay off their request paths: up to one flush interval
// (5 s) of them may be lost on kill -9.
//
// # Fidelity
//
//   - Percentiles (pNN, TMxx, ...) come from a per-bucket sketch that is exact
//     while a 1-minute bucket holds at most 48 distinct values and merges
//     nearest values beyond that; percentiles are reported only for periods
//     whose data came entirely as raw values (as AWS, which needs raw values).
//   - Datapoints are aggregated at put time into 1 s buckets (StorageResolution
//     1) and 60 s buckets; periods below 60 s need high-resolution data.
//     Period alignment: datapoints start at StartTime and step by Period.
//   - Units: a bucket keeps the unit of its latest datum; a Unit filter
//     selects buckets by that unit.
//   - Alarms are evaluated every minute (every period for 10 s/30 s alarms)
//     over the last EvaluationPeriods complete periods; AWS's extra look-back
//     for missing data is approximated (see evaluate.go).
//   - Anomaly detection, dashboards, metric streams, Contributor Insights,
//     mute rules and cross-account observability are not implemented and
//     answer NotImplemented.
//   - GetMetricWidgetImage draws its own chart (package chart): same data,
//     layout and default palette as CloudWatch but not pixel-identical (a
//     5×8 bitmap font, no anti-aliasing). See widget.go for what the widget
//     JSON supports and how it deviates.
package cloudwatch

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/controller"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/cloudwatch/tsdb"
	"github.com/overcast-dev/overcast/internal/storage"
)

// AlarmNotifier publishes alarm notifications to SNS topics.
type AlarmNotifier interface {
	// PublishToTopic publishes message to the topic topicARN and returns the
	// message id. It MUST NOT call back into CloudWatch.
	PublishToTopic(ctx context.Context, topicARN, subject, message string, attrs map[string]service.MessageAttribute) (string, error)
}

// ScalingPolicyExecutor runs Auto Scaling / Application Auto Scaling
// policies named as alarm actions.
type ScalingPolicyExecutor interface {
	// ExecuteScalingPolicy runs the policy policyARN because alarm (its ARN)
	// went to state ("ALARM" or "OK"); metricValue is the breaching datapoint
	// used for step adjustments (NaN when unknown). It MUST NOT call back into
	// CloudWatch synchronously.
	ExecuteScalingPolicy(ctx context.Context, policyARN, alarmARN, state string, metricValue float64) error
}

// Options configure a Service.
type Options struct {
	KV     storage.KV
	Clock  clock.Clock
	Logger *slog.Logger
	// Notifier delivers SNS alarm actions; nil records them as failed actions.
	Notifier AlarmNotifier
	// Scaler runs autoscaling policy actions; nil records them as failed.
	Scaler ScalingPolicyExecutor
	// FlushInterval is how often the store is snapshotted (default 5 s).
	FlushInterval time.Duration
}

// Service is CloudWatch.
type Service struct {
	kv     storage.KV
	clk    clock.Clock
	log    *slog.Logger
	db     *tsdb.DB
	mgr    *controller.Manager
	flushE time.Duration

	notifierMu sync.RWMutex
	notifier   AlarmNotifier
	scaler     ScalingPolicyExecutor
	functions  FunctionInvoker

	// flushMu: puts hold it shared across log write and apply; the flush
	// holds it exclusively while it captures dirty blocks.
	flushMu sync.RWMutex
	seq     atomic.Uint64
	// Guarded by flushMu (exclusive) / used only by the flush loop.
	replayed    bool
	lastCompact time.Time
	flushedSeq  uint64

	alarms *alarmStore
}

// New returns the CloudWatch service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 5 * time.Second
	}
	s := &Service{kv: o.KV, clk: o.Clock, log: o.Logger, db: tsdb.New(), flushE: o.FlushInterval,
		notifier: o.Notifier, scaler: o.Scaler}
	s.alarms = newAlarmStore()
	return s
}

// SetNotifier sets the SNS notifier after construction (wiring).
func (s *Service) SetNotifier(n AlarmNotifier) {
	s.notifierMu.Lock()
	s.notifier = n
	s.notifierMu.Unlock()
}

// SetScaler sets the scaling policy executor after construction (wiring).
func (s *Service) SetScaler(x ScalingPolicyExecutor) {
	s.notifierMu.Lock()
	s.scaler = x
	s.notifierMu.Unlock()
}

// Name implements service.Service.
func (s *Service) Name() string { return "cloudwatch" }

// APIs implements service.Service.
func (s *Service) APIs() []string { return []string{"cloudwatch"} }

// Handlers implements service.Service.
func (s *Service) Handlers() map[string]service.Handler {
	return map[string]service.Handler{
		"PutMetricData":           s.putMetricData,
		"ListMetrics":             s.listMetrics,
		"GetMetricStatistics":     s.getMetricStatistics,
		"GetMetricData":           s.getMetricData,
		"PutMetricAlarm":          s.putMetricAlarm,
		"PutCompositeAlarm":       s.putCompositeAlarm,
		"DescribeAlarms":          s.describeAlarms,
		"DescribeAlarmsForMetric": s.describeAlarmsForMetric,
		"DescribeAlarmHistory":    s.describeAlarmHistory,
		"DeleteAlarms":            s.deleteAlarms,
		"EnableAlarmActions":      s.enableAlarmActions,
		"DisableAlarmActions":     s.disableAlarmActions,
		"SetAlarmState":           s.setAlarmState,
		"TagResource":             s.tagResource,
		"UntagResource":           s.untagResource,
		"ListTagsForResource":     s.listTagsForResource,
		"GetMetricWidgetImage":    s.getMetricWidgetImage,
	}
}

// Start loads the store and starts the flush and alarm loops.
func (s *Service) Start(ctx context.Context) error {
	if err := s.load(); err != nil {
		return fmt.Errorf("cloudwatch: load metrics: %w", err)
	}
	if err := s.alarms.load(s.kv); err != nil {
		return fmt.Errorf("cloudwatch: load alarms: %w", err)
	}
	s.mgr = controller.NewManager(s.clk, s.log)
	if err := s.mgr.Start(controller.Loop{Name: "cloudwatch-flush", Interval: s.flushE, Reconcile: func(context.Context) error { return s.flush() }}); err != nil {
		return err
	}
	return s.mgr.Start(controller.Loop{Name: "cloudwatch-alarms", Interval: 10 * time.Second, Reconcile: s.evaluateAlarms})
}

// Stop stops the loops and flushes the store.
func (s *Service) Stop(ctx context.Context) error {
	if s.mgr != nil {
		s.mgr.Stop()
	}
	return s.flush()
}

// Publish implements metrics.Publisher: data lands in the store at once and
// is persisted by the next flush.
func (s *Service) Publish(account, region, namespace string, data []metrics.Datum) {
	now := s.clk.Now()
	s.flushMu.RLock()
	defer s.flushMu.RUnlock()
	for _, d := range data {
		dims := make([]tsdb.Dim, len(d.Dimensions))
		for i, x := range d.Dimensions {
			dims[i] = tsdb.Dim{Name: x.Name, Value: x.Value}
		}
		tsdb.SortDims(dims)
		ser, _ := s.db.Series(account, region, namespace, d.Name, dims)
		ts := d.Timestamp
		if ts.IsZero() {
			ts = now
		}
		sm := tsdb.Sample{T: ts, Value: d.Value, Unit: tsdb.UnitIndex(d.Unit)}
		if d.Count > 1 {
			sm = tsdb.Sample{T: ts, Set: true, Count: d.Count, Sum: d.Value, Min: d.Min, Max: d.Max, Unit: sm.Unit}
		}
		s.db.Add(ser, now, sm)
	}
}

var (
	_ service.Service   = (*Service)(nil)
	_ service.Starter   = (*Service)(nil)
	_ service.Stopper   = (*Service)(nil)
	_ metrics.Publisher = (*Service)(nil)
)
