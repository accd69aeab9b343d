// Package autoscaling implements Amazon EC2 Auto Scaling: groups that keep a
// number of real EC2 instances running, spread over Availability Zones,
// registered with load balancers, replaced when unhealthy, and resized by
// scaling policies driven by CloudWatch alarms and by scheduled actions.
//
// The API (query protocol, 2011-01-01) is served from stored state; a
// controller on the injected clock reconciles every group: it launches and
// terminates instances through EC2 (the [Compute] interface), registers
// them with target groups and classic load balancers and deregisters them
// before termination, waiting for connection draining ([LoadBalancing]),
// and creates the CloudWatch alarms of target-tracking policies ([Alarms]).
// The service implements CloudWatch's scaling-policy executor through
// [Service.ExecuteScalingPolicy].
//
// # Lifecycle
//
// An instance is Pending until EC2 reports it running (and Pending:Wait
// while a launch lifecycle hook holds it), then it is registered with the
// group's target groups and load balancers and goes InService. Scale-in,
// replacement of unhealthy instances and user terminations move it to
// Terminating: it is deregistered first and stays Terminating until the
// load balancers have drained it (the target group's deregistration delay),
// then waits in Terminating:Wait for termination hooks, and is terminated.
// Health: an instance whose EC2 state is not running with a live process is
// unhealthy; with HealthCheckType ELB, after HealthCheckGracePeriod, an
// instance a target group reports unhealthy (or a classic load balancer
// OutOfService) is unhealthy too. Unhealthy instances are replaced.
//
// # Fidelity
//
// Emulated: groups with launch templates (id or name, $Default/$Latest or a
// number), launch configurations and the launch template of a mixed
// instances policy (the first override's instance type is used), subnets
// (VPCZoneIdentifier) or Availability Zones with balanced placement and
// rebalancing, target groups, classic load balancers and traffic sources,
// health checks with grace period, termination policies (Default,
// OldestInstance, NewestInstance, OldestLaunchConfiguration,
// OldestLaunchTemplate, ClosestToNextInstanceHour, AllocationStrategy),
// scale-in protection, cooldowns, scaling activities with AWS's wording of
// causes, simple, step and target tracking policies (target tracking owns
// its TargetTracking-<group>-AlarmHigh/AlarmLow alarms: 3 of 3 and 15 of 15
// one-minute datapoints, the low threshold at 90% of the target), scheduled
// actions with cron recurrence and time zones, and lifecycle hooks.
//
// Deviations:
//   - Target tracking computes the new capacity proportionally:
//     ceil(capacity × metric / target) when the high alarm fires; when the
//     low alarm fires it removes at most 10% of the capacity (at least one
//     instance) per execution, and never while instances are warming up.
//   - Lifecycle hook notifications are not sent to SNS/SQS/EventBridge;
//     hooks hold instances until CompleteLifecycleAction or the heartbeat
//     timeout.
//   - Instance refresh, warm pools, predictive scaling, standby, suspended
//     processes, notification configurations and metrics collection answer
//     NotImplemented.
//   - Spot instances are not emulated: every instance is on-demand.
//   - Some validation messages are paraphrases of AWS's.
//   - The billing hour of ClosestToNextInstanceHour is approximated by the
//     oldest launch time.
package autoscaling

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/controller"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

const serviceName = "autoscaling"

// Instance is an EC2 instance as Auto Scaling sees it.
type Instance struct {
	ID, ImageID, InstanceType  string
	AvailabilityZone, SubnetID string
	LaunchTemplateID           string
	LaunchTemplateVersion      string
	LaunchTime                 time.Time
	// State is the EC2 state name (pending, running, stopped, ...).
	State string
	// Alive reports that the instance is running and its process lives.
	Alive bool
}

// Subnet is a subnet of the account's VPC.
type Subnet struct {
	ID, AvailabilityZone string
}

// LaunchTemplate describes an EC2 launch template.
type LaunchTemplate struct {
	ID, Name                      string
	DefaultVersion, LatestVersion int64
}

// Tag is an instance tag.
type Tag struct{ Key, Value string }

// LaunchSpec asks EC2 for one instance.
type LaunchSpec struct {
	// LaunchTemplateID or LaunchTemplateName with LaunchTemplateVersion
	// ("$Default", "$Latest" or a number) name a launch template.
	LaunchTemplateID, LaunchTemplateName, LaunchTemplateVersion string
	ImageID, InstanceType                                       string
	UserData                                                    []byte
	SubnetID, AvailabilityZone                                  string
	SecurityGroups                                              []string
	IAMInstanceProfile                                          string
	Tags                                                        []Tag
}

// Compute is what Auto Scaling needs from EC2.
type Compute interface {
	// Launch starts one instance and returns it; it MUST fail without
	// launching anything when the request is invalid.
	Launch(ctx context.Context, account, region string, spec LaunchSpec) (Instance, error)
	// Terminate terminates instances; terminated or unknown ones are not
	// an error.
	Terminate(ctx context.Context, account, region string, ids ...string) error
	// Describe returns an instance, false when EC2 does not know it.
	Describe(account, region, id string) (Instance, bool)
	// Subnets lists the subnets of account in region.
	Subnets(account, region string) ([]Subnet, error)
	// LaunchTemplate finds a launch template by id or name.
	LaunchTemplate(account, region, id, name string) (LaunchTemplate, bool)
	// Watch calls fn on every instance state change until cancel is
	// called; fn MUST NOT block.
	Watch(fn func(account, region, instanceID string)) (cancel func())
}

// TargetState is the health of one load balancer target.
type TargetState struct {
	ID string
	// State is initial, healthy, unhealthy, draining, unused or
	// unavailable for target groups; InService or OutOfService for
	// classic load balancers.
	State string
}

// LoadBalancing is what Auto Scaling needs from Elastic Load Balancing.
type LoadBalancing interface {
	// TargetGroupExists reports whether the elbv2 target group exists.
	TargetGroupExists(account, region, arn string) bool
	// RegisterTargets registers instances with a target group.
	RegisterTargets(account, region, arn string, ids []string) error
	// DeregisterTargets deregisters instances from a target group; they
	// drain for its deregistration delay.
	DeregisterTargets(account, region, arn string, ids []string) error
	// TargetHealth returns the registered and draining targets.
	TargetHealth(account, region, arn string) ([]TargetState, error)
	// LoadBalancerExists reports whether the classic load balancer exists.
	LoadBalancerExists(account, region, name string) bool
	// RegisterInstances registers instances with a classic load balancer.
	RegisterInstances(account, region, name string, ids []string) error
	// DeregisterInstances deregisters instances from a classic load
	// balancer.
	DeregisterInstances(account, region, name string, ids []string) error
	// InstanceHealth returns a classic load balancer's instances.
	InstanceHealth(account, region, name string) ([]TargetState, error)
}

// AlarmSpec is a CloudWatch metric alarm a target-tracking policy owns.
type AlarmSpec struct {
	Name, Description         string
	Namespace, MetricName     string
	Dimensions                []Dimension
	Statistic, Unit           string
	Period, EvaluationPeriods int64
	DatapointsToAlarm         int64
	Threshold                 float64
	ComparisonOperator        string
	AlarmActions              []string
	// Metrics is a metric-math query (customized metrics with Metrics);
	// each entry is a MetricDataQuery value of the CloudWatch API.
	Metrics []map[string]any
}

// Dimension is a metric dimension.
type Dimension struct{ Name, Value string }

// Alarms is what Auto Scaling needs from CloudWatch. Its methods MUST NOT
// be called from ExecuteScalingPolicy's caller goroutine.
type Alarms interface {
	// PutAlarm creates or replaces a metric alarm and returns its ARN.
	PutAlarm(account, region string, a AlarmSpec) (string, error)
	// DeleteAlarms deletes alarms by name.
	DeleteAlarms(account, region string, names []string) error
	// AlarmThreshold returns an alarm's threshold.
	AlarmThreshold(account, region, alarmName string) (float64, bool)
}

// Options configure the service.
type Options struct {
	KV            storage.KV
	Clock         clock.Clock
	Logger        *slog.Logger
	Metrics       metrics.Publisher
	Compute       Compute
	LoadBalancing LoadBalancing
	Alarms        Alarms
	// Interval is the controller's reconcile interval (default 10 s).
	Interval time.Duration
}

// Service is EC2 Auto Scaling.
type Service struct {
	o   Options
	clk clock.Clock
	log *slog.Logger
	mgr *controller.Manager

	mu      sync.Mutex
	regions map[regionKey]*region
	actSeq  int64 // the last activity sequence number

	// execMu guards queued policy executions from CloudWatch.
	execMu sync.Mutex
	execQ  []execution

	cancelWatch func()
	ctx         context.Context
	cancel      context.CancelFunc
}

type regionKey struct{ account, region string }

// New returns the service.
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
	if o.Interval <= 0 {
		o.Interval = 10 * time.Second
	}
	s := &Service{o: o, clk: o.Clock, log: o.Logger, regions: map[regionKey]*region{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Name implements service.Service.
func (s *Service) Name() string { return serviceName }

// APIs implements service.Service.
func (s *Service) APIs() []string { return []string{"autoscaling"} }

// Handlers implements service.Service.
func (s *Service) Handlers() map[string]service.Handler {
	h := map[string]service.Handler{
		"CreateAutoScalingGroup":              s.createGroup,
		"UpdateAutoScalingGroup":              s.updateGroup,
		"DeleteAutoScalingGroup":              s.deleteGroup,
		"DescribeAutoScalingGroups":           s.describeGroups,
		"CreateLaunchConfiguration":           s.createLaunchConfiguration,
		"DeleteLaunchConfiguration":           s.deleteLaunchConfiguration,
		"DescribeLaunchConfigurations":        s.describeLaunchConfigurations,
		"SetDesiredCapacity":                  s.setDesiredCapacity,
		"DescribeAutoScalingInstances":        s.describeInstances,
		"SetInstanceHealth":                   s.setInstanceHealth,
		"SetInstanceProtection":               s.setInstanceProtection,
		"TerminateInstanceInAutoScalingGroup": s.terminateInstance,
		"AttachInstances":                     s.attachInstances,
		"DetachInstances":                     s.detachInstances,
		"AttachLoadBalancerTargetGroups":      s.attachTargetGroups,
		"DetachLoadBalancerTargetGroups":      s.detachTargetGroups,
		"DescribeLoadBalancerTargetGroups":    s.describeTargetGroups,
		"AttachLoadBalancers":                 s.attachLoadBalancers,
		"DetachLoadBalancers":                 s.detachLoadBalancers,
		"DescribeLoadBalancers":               s.describeLoadBalancers,
		"AttachTrafficSources":                s.attachTrafficSources,
		"DetachTrafficSources":                s.detachTrafficSources,
		"DescribeTrafficSources":              s.describeTrafficSources,
		"DescribeScalingActivities":           s.describeActivities,
		"CreateOrUpdateTags":                  s.createOrUpdateTags,
		"DeleteTags":                          s.deleteTags,
		"DescribeTags":                        s.describeTags,
		"PutScalingPolicy":                    s.putScalingPolicy,
		"DescribePolicies":                    s.describePolicies,
		"DeletePolicy":                        s.deletePolicy,
		"ExecutePolicy":                       s.executePolicy,
		"PutScheduledUpdateGroupAction":       s.putScheduledAction,
		"DescribeScheduledActions":            s.describeScheduledActions,
		"DeleteScheduledAction":               s.deleteScheduledAction,
		"PutLifecycleHook":                    s.putLifecycleHook,
		"DescribeLifecycleHooks":              s.describeLifecycleHooks,
		"DeleteLifecycleHook":                 s.deleteLifecycleHook,
		"CompleteLifecycleAction":             s.completeLifecycleAction,
		"RecordLifecycleActionHeartbeat":      s.recordHeartbeat,
		"DescribeAdjustmentTypes":             s.describeAdjustmentTypes,
		"DescribeTerminationPolicyTypes":      s.describeTerminationPolicyTypes,
		"DescribeLifecycleHookTypes":          s.describeLifecycleHookTypes,
		"DescribeAccountLimits":               s.describeAccountLimits,
	}
	for name, fn := range h {
		h[name] = guard(fn)
	}
	return h
}

// Start loads the stored state and starts the group controller.
func (s *Service) Start(ctx context.Context) error {
	if err := s.load(); err != nil {
		return err
	}
	s.mgr = controller.NewManager(s.clk, s.log)
	if s.o.Compute != nil {
		s.cancelWatch = s.o.Compute.Watch(func(account, region, id string) { s.kick() })
	}
	return s.mgr.Start(controller.Loop{Name: "autoscaling-groups", Interval: s.o.Interval, Reconcile: s.reconcile})
}

// Stop stops the controller. Instances keep running (EC2 owns them).
func (s *Service) Stop(ctx context.Context) error {
	if s.cancelWatch != nil {
		s.cancelWatch()
	}
	s.cancel()
	if s.mgr != nil {
		s.mgr.Stop()
	}
	return nil
}

// kick asks the controller for a pass.
func (s *Service) kick() {
	if s.mgr != nil {
		s.mgr.Trigger("autoscaling-groups")
	}
}

var (
	_ service.Service = (*Service)(nil)
	_ service.Starter = (*Service)(nil)
	_ service.Stopper = (*Service)(nil)
)
