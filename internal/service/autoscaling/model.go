package autoscaling

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// Lifecycle states of group members.
const (
	lsPending            = "Pending"
	lsPendingWait        = "Pending:Wait"
	lsPendingProceed     = "Pending:Proceed"
	lsInService          = "InService"
	lsTerminating        = "Terminating"
	lsTerminatingWait    = "Terminating:Wait"
	lsTerminatingProceed = "Terminating:Proceed"
	lsTerminated         = "Terminated"
	lsDetaching          = "Detaching"
)

// ltSpec names a launch template version.
type ltSpec struct {
	ID      string `json:"id,omitempty"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

type override struct {
	InstanceType     string  `json:"type,omitempty"`
	WeightedCapacity string  `json:"weight,omitempty"`
	LaunchTemplate   *ltSpec `json:"lt,omitempty"`
}

type distribution struct {
	OnDemandAllocationStrategy          string  `json:"odStrategy,omitempty"`
	OnDemandBaseCapacity                *int64  `json:"odBase,omitempty"`
	OnDemandPercentageAboveBaseCapacity *int64  `json:"odPct,omitempty"`
	SpotAllocationStrategy              string  `json:"spotStrategy,omitempty"`
	SpotInstancePools                   *int64  `json:"spotPools,omitempty"`
	SpotMaxPrice                        *string `json:"spotMax,omitempty"`
}

type mixedPolicy struct {
	LaunchTemplate ltSpec        `json:"lt"`
	Overrides      []override    `json:"overrides,omitempty"`
	Distribution   *distribution `json:"dist,omitempty"`
}

type groupTag struct {
	Key       string `json:"k"`
	Value     string `json:"v"`
	Propagate bool   `json:"p"`
}

type trafficSource struct {
	Identifier string `json:"id"`
	Type       string `json:"type"`
}

// member is an instance of a group.
type member struct {
	ID             string    `json:"id"`
	AZ             string    `json:"az"`
	SubnetID       string    `json:"subnet,omitempty"`
	InstanceType   string    `json:"type,omitempty"`
	ImageID        string    `json:"image,omitempty"`
	LT             *ltSpec   `json:"lt,omitempty"`
	LTNum          string    `json:"ltNum,omitempty"`
	LCName         string    `json:"lc,omitempty"`
	State          string    `json:"state"`
	Health         string    `json:"health"`
	Protected      bool      `json:"protected,omitempty"`
	Launched       time.Time `json:"launched"`
	InServiceAt    time.Time `json:"inService,omitempty"`
	Registered     bool      `json:"registered,omitempty"`
	Deregistered   bool      `json:"deregistered,omitempty"`
	Activity       string    `json:"activity,omitempty"`
	HookName       string    `json:"hook,omitempty"`
	HookToken      string    `json:"token,omitempty"`
	HookDeadline   time.Time `json:"hookDeadline,omitempty"`
	HookResult     string    `json:"hookResult,omitempty"`
	HooksDone      []string  `json:"hooksDone,omitempty"`
	Rebalance      bool      `json:"rebalance,omitempty"`
	UnhealthyCause string    `json:"unhealthyCause,omitempty"`
	// Attached instances were not launched by the group.
	Attached bool `json:"attached,omitempty"`
}

// group is an Auto Scaling group.
type group struct {
	Account             string            `json:"account"`
	Region              string            `json:"region"`
	Name                string            `json:"name"`
	ARN                 string            `json:"arn"`
	LCName              string            `json:"lc,omitempty"`
	LT                  *ltSpec           `json:"lt,omitempty"`
	Mixed               *mixedPolicy      `json:"mixed,omitempty"`
	Min                 int               `json:"min"`
	Max                 int               `json:"max"`
	Desired             int               `json:"desired"`
	DefaultCooldown     int               `json:"cooldown"`
	AZs                 []string          `json:"azs"`
	Subnets             []string          `json:"subnets,omitempty"`
	SubnetAZ            map[string]string `json:"subnetAZ,omitempty"`
	TargetGroups        []string          `json:"tgs,omitempty"`
	LoadBalancers       []string          `json:"lbs,omitempty"`
	OtherSources        []trafficSource   `json:"sources,omitempty"`
	HealthCheckType     string            `json:"hcType"`
	GracePeriod         int               `json:"grace"`
	TerminationPolicies []string          `json:"termination,omitempty"`
	Protect             bool              `json:"protect,omitempty"`
	Tags                []groupTag        `json:"tags,omitempty"`
	Created             time.Time         `json:"created"`
	Deleting            bool              `json:"deleting,omitempty"`
	MaxLifetime         int64             `json:"maxLifetime,omitempty"`
	CapacityRebalance   bool              `json:"capRebalance,omitempty"`
	DefaultWarmup       int64             `json:"warmup,omitempty"`
	DeletionProtection  string            `json:"deletionProtection,omitempty"`
	PlacementGroup      string            `json:"placement,omitempty"`
	ServiceLinkedRole   string            `json:"slr,omitempty"`
	Context             string            `json:"context,omitempty"`
	DesiredType         string            `json:"desiredType,omitempty"`
	// CooldownUntil is when the last scaling activity's cooldown ends.
	CooldownUntil time.Time `json:"cooldownUntil,omitempty"`
	// Cause is why desired capacity last changed, prefixed to the causes
	// of the launches and terminations it brings.
	Cause   string    `json:"cause,omitempty"`
	Members []*member `json:"members,omitempty"`
	// LaunchFailedAt delays retries after a failed launch.
	LaunchFailedAt time.Time `json:"launchFailedAt,omitempty"`
}

type launchConfig struct {
	Name               string    `json:"name"`
	ARN                string    `json:"arn"`
	ImageID            string    `json:"image"`
	InstanceType       string    `json:"type"`
	KeyName            string    `json:"key,omitempty"`
	SecurityGroups     []string  `json:"sgs,omitempty"`
	UserData           string    `json:"userData,omitempty"`
	IAMInstanceProfile string    `json:"profile,omitempty"`
	Monitoring         *bool     `json:"monitoring,omitempty"`
	EbsOptimized       *bool     `json:"ebsOptimized,omitempty"`
	PublicIP           *bool     `json:"publicIP,omitempty"`
	SpotPrice          string    `json:"spot,omitempty"`
	Tenancy            string    `json:"tenancy,omitempty"`
	Created            time.Time `json:"created"`
}

type stepAdj struct {
	Lower      *float64 `json:"lo,omitempty"`
	Upper      *float64 `json:"hi,omitempty"`
	Adjustment int64    `json:"adj"`
}

type ttConfig struct {
	Predefined     string          `json:"predefined,omitempty"`
	ResourceLabel  string          `json:"label,omitempty"`
	Namespace      string          `json:"ns,omitempty"`
	MetricName     string          `json:"metric,omitempty"`
	Dimensions     []Dimension     `json:"dims,omitempty"`
	Statistic      string          `json:"stat,omitempty"`
	Unit           string          `json:"unit,omitempty"`
	Period         int64           `json:"period,omitempty"`
	Metrics        json.RawMessage `json:"metrics,omitempty"`
	Target         float64         `json:"target"`
	DisableScaleIn bool            `json:"disableScaleIn,omitempty"`
}

type policyAlarm struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
}

type policy struct {
	Group             string        `json:"group"`
	Name              string        `json:"name"`
	ARN               string        `json:"arn"`
	Type              string        `json:"type"`
	AdjustmentType    string        `json:"adjType,omitempty"`
	MinMagnitude      *int64        `json:"minMagnitude,omitempty"`
	ScalingAdjustment *int64        `json:"adjustment,omitempty"`
	Cooldown          *int64        `json:"cooldown,omitempty"`
	Steps             []stepAdj     `json:"steps,omitempty"`
	Aggregation       string        `json:"aggregation,omitempty"`
	Warmup            *int64        `json:"warmup,omitempty"`
	TT                *ttConfig     `json:"tt,omitempty"`
	Enabled           bool          `json:"enabled"`
	Alarms            []policyAlarm `json:"alarms,omitempty"`
}

type scheduled struct {
	Group      string    `json:"group"`
	Name       string    `json:"name"`
	ARN        string    `json:"arn"`
	Time       time.Time `json:"time,omitempty"`
	StartTime  time.Time `json:"start,omitempty"`
	EndTime    time.Time `json:"end,omitempty"`
	Recurrence string    `json:"recurrence,omitempty"`
	TimeZone   string    `json:"tz,omitempty"`
	Min        *int64    `json:"min,omitempty"`
	Max        *int64    `json:"max,omitempty"`
	Desired    *int64    `json:"desired,omitempty"`
	Next       time.Time `json:"next,omitempty"`
}

type hook struct {
	Group            string `json:"group"`
	Name             string `json:"name"`
	Transition       string `json:"transition"`
	NotificationARN  string `json:"target,omitempty"`
	RoleARN          string `json:"role,omitempty"`
	Metadata         string `json:"metadata,omitempty"`
	HeartbeatTimeout int64  `json:"heartbeat"`
	DefaultResult    string `json:"default"`
}

type activity struct {
	ID          string    `json:"id"`
	Group       string    `json:"group"`
	GroupARN    string    `json:"groupARN"`
	Description string    `json:"description"`
	Cause       string    `json:"cause"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end,omitempty"`
	Status      string    `json:"status"`
	StatusMsg   string    `json:"statusMessage,omitempty"`
	Progress    int64     `json:"progress"`
	Details     string    `json:"details,omitempty"`
	// Seq orders activities that start at the same time.
	Seq int64 `json:"seq"`
}

// region is the state of one account in one region.
type region struct {
	account, name string
	groups        map[string]*group
	lcs           map[string]*launchConfig
	policies      map[string]*policy // by ARN
	scheduled     map[string]*scheduled
	hooks         map[string]*hook
	activities    map[string][]*activity // by group name, oldest first
	deletedGroups map[string]string      // name → ARN, for IncludeDeletedGroups
}

func newRegion(account, name string) *region {
	return &region{account: account, name: name, groups: map[string]*group{}, lcs: map[string]*launchConfig{},
		policies: map[string]*policy{}, scheduled: map[string]*scheduled{}, hooks: map[string]*hook{},
		activities: map[string][]*activity{}, deletedGroups: map[string]string{}}
}

// regionOf returns the state of account and region, creating it; s.mu is held.
func (s *Service) regionOf(account, name string) *region {
	k := regionKey{account, name}
	rg := s.regions[k]
	if rg == nil {
		rg = newRegion(account, name)
		s.regions[k] = rg
	}
	return rg
}

func subKey(group, name string) string { return group + "\x00" + name }

// Stored kinds.
const (
	kindGroup     = "group"
	kindLC        = "lc"
	kindPolicy    = "policy"
	kindScheduled = "sched"
	kindHook      = "hook"
	kindActivity  = "act"
)

type write struct {
	key []byte
	v   any // nil deletes
}

func scope(account, region string) storage.Scope {
	return storage.Scope{Service: serviceName, Account: account, Region: region}
}

func putW(account, region string, v any, parts ...string) write {
	return write{key: scope(account, region).Key(parts...), v: v}
}

func delW(account, region string, parts ...string) write {
	return write{key: scope(account, region).Key(parts...)}
}

func groupW(g *group) write { return putW(g.Account, g.Region, g, kindGroup, g.Name) }

func actW(account, region string, a *activity) write {
	return putW(account, region, a, kindActivity, a.Group, fmt.Sprintf("%016d", a.Seq))
}

// commit stores writes in one transaction.
func (s *Service) commit(ws ...write) error {
	if s.o.KV == nil {
		return nil
	}
	bufs := make([][]byte, len(ws))
	for i, w := range ws {
		if w.v == nil {
			continue
		}
		b, err := json.Marshal(w.v)
		if err != nil {
			return err
		}
		bufs[i] = b
	}
	return s.o.KV.Update(func(tx storage.Tx) error {
		for i, w := range ws {
			if w.v == nil {
				if err := tx.Delete(w.key); err != nil {
					return err
				}
				continue
			}
			if err := tx.Put(w.key, bufs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// load reads the stored state.
func (s *Service) load() error {
	if s.o.KV == nil {
		return nil
	}
	start, end := storage.ServiceRange(serviceName)
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.o.KV.View(func(tx storage.Tx) error {
		var ferr error
		err := tx.Scan(start, end, func(k, v []byte) bool {
			sc, parts, err := storage.DecodeKey(k)
			if err != nil || len(parts) < 2 {
				return true
			}
			rg := s.regionOf(sc.Account, sc.Region)
			switch parts[0] {
			case kindGroup:
				var g group
				if ferr = json.Unmarshal(v, &g); ferr == nil {
					rg.groups[g.Name] = &g
				}
			case kindLC:
				var lc launchConfig
				if ferr = json.Unmarshal(v, &lc); ferr == nil {
					rg.lcs[lc.Name] = &lc
				}
			case kindPolicy:
				var p policy
				if ferr = json.Unmarshal(v, &p); ferr == nil {
					rg.policies[p.ARN] = &p
				}
			case kindScheduled:
				var a scheduled
				if ferr = json.Unmarshal(v, &a); ferr == nil {
					rg.scheduled[subKey(a.Group, a.Name)] = &a
				}
			case kindHook:
				var h hook
				if ferr = json.Unmarshal(v, &h); ferr == nil {
					rg.hooks[subKey(h.Group, h.Name)] = &h
				}
			case kindActivity:
				var a activity
				if ferr = json.Unmarshal(v, &a); ferr == nil {
					rg.activities[a.Group] = append(rg.activities[a.Group], &a)
				}
			}
			if ferr != nil {
				ferr = fmt.Errorf("autoscaling: decode %s %v: %w", parts[0], parts[1:], ferr)
				return false
			}
			return true
		})
		if err != nil {
			return err
		}
		return ferr
	})
	for _, rg := range s.regions {
		for _, acts := range rg.activities {
			sort.SliceStable(acts, func(i, j int) bool { return acts[i].Seq < acts[j].Seq })
			for _, a := range acts {
				s.actSeq = max(s.actSeq, a.Seq)
			}
		}
	}
	return err
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func groupARN(account, region, name string) string {
	return fmt.Sprintf("arn:%s:autoscaling:%s:%s:autoScalingGroup:%s:autoScalingGroupName/%s", service.Partition(region), region, account, newUUID(), name)
}

func lcARN(rg *region, name string) string {
	return fmt.Sprintf("arn:%s:autoscaling:%s:%s:launchConfiguration:%s:launchConfigurationName/%s", service.Partition(rg.name), rg.name, rg.account, newUUID(), name)
}
