package elb

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
)

// Target states.
const (
	stInitial int32 = iota
	stHealthy
	stUnhealthy
	stDraining
	stUnavailable // health checks disabled
)

var stateNames = [...]string{"initial", "healthy", "unhealthy", "draining", "unavailable"}

// TargetHealth is a target's health as DescribeTargetHealth reports it.
type TargetHealth struct {
	ID, AZ string
	Port   int
	// State is initial, healthy, unhealthy, draining, unused or unavailable.
	State string
	// Reason and Description are AWS's reason code and text ("" when healthy).
	Reason, Description string
	// HealthCheckPort is the port health checks use.
	HealthCheckPort string
}

type reason struct{ code, desc string }

var (
	rsRegistering   = &reason{"Elb.RegistrationInProgress", "Target registration is in progress"}
	rsInitial       = &reason{"Elb.InitialHealthChecking", "Initial health checks in progress"}
	rsTimeout       = &reason{"Target.Timeout", "Request timed out"}
	rsFailed        = &reason{"Target.FailedHealthChecks", "Health checks failed"}
	rsDraining      = &reason{"Target.DeregistrationInProgress", "Target deregistration is in progress"}
	rsNotRegistered = &reason{"Target.NotRegistered", "Target is not registered to the target group"}
	rsNotInUse      = &reason{"Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"}
	rsDisabled      = &reason{"Target.HealthCheckDisabled", "Health checks are disabled"}
	rsInvalidState  = &reason{"Target.InvalidState", "Target is in the stopped state"}
)

// target is one registered (or draining) target.
type target struct {
	key  string // id:port
	id   string
	port int
	az   string

	addr        atomic.Pointer[string] // "ip:port", nil while unresolved
	state       atomic.Int32
	reason      atomic.Pointer[reason]
	healthyAt   atomic.Int64 // unix ns when it last turned healthy (slow start)
	outstanding atomic.Int64
	cookie      string // the AWSALB cookie value naming this target

	// health checker state, owned by the checker goroutine
	okRun, failRun int
	checked        bool
	drainTimer     clock.Timer
}

func (t *target) address() string {
	if p := t.addr.Load(); p != nil {
		return *p
	}
	return ""
}

// tgRuntime is the data-plane side of a target group: its targets, their
// health, the balancer and the health checker.
type tgRuntime struct {
	s                    *Service
	arn, account, region string
	dim                  string
	l4                   bool
	instances            bool // target type instance (immutable)
	lambda               bool // target type lambda (immutable)

	mu       sync.Mutex
	cfg      targetGroup
	targets  map[string]*target // registered
	draining map[string]*target
	inUse    bool

	active    atomic.Pointer[[]*target] // registered targets, stable order
	rr        atomic.Uint64
	lor       atomic.Bool
	slowStart atomic.Int64 // ns
	stickyDur atomic.Int64 // ns; 0 = off

	up       *upstream // keep-alive connections to the targets
	hcClient *http.Client

	kick   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}

	m tgCounters
}

func newTGRuntime(s *Service, tg *targetGroup) *tgRuntime {
	g := &tgRuntime{
		s: s, arn: tg.ARN, account: tg.Account, region: tg.Region, dim: tgDimension(tg.ARN), l4: isL4(tg.Protocol), instances: tg.TargetType == "instance",
		lambda:  tg.TargetType == "lambda",
		targets: map[string]*target{}, draining: map[string]*target{},
		kick: make(chan struct{}, 1), done: make(chan struct{}), up: newUpstream(),
	}
	empty := []*target{}
	g.active.Store(&empty)
	g.setTimeout(60 * time.Second)
	g.hcClient = &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	ctx, cancel := context.WithCancel(s.ctx)
	g.cancel = cancel
	s.wg.Add(1)
	go g.healthLoop(ctx)
	return g
}

func (g *tgRuntime) stop() {
	g.cancel()
	<-g.done
	g.mu.Lock()
	for _, t := range g.draining {
		if t.drainTimer != nil {
			t.drainTimer.Stop()
		}
	}
	g.mu.Unlock()
	g.up.prune(time.Now(), true)
}

// setTimeout sets how long a target may stay silent while it answers (the
// load balancer's idle timeout).
func (g *tgRuntime) setTimeout(d time.Duration) { g.up.timeout.Store(int64(d)) }

func targetKey(id string, port int) string { return id + ":" + strconv.Itoa(port) }

// update applies the stored configuration: health check, attributes and
// the registered targets (new ones start initial, removed ones drain).
func (g *tgRuntime) update(tg *targetGroup, inUse bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	hcChanged := g.cfg.HC != tg.HC
	g.cfg = *tg
	g.cfg.Attrs = cloneAttrs(tg.Attrs)
	g.lor.Store(tg.Attrs["load_balancing.algorithm.type"] == "least_outstanding_requests")
	ss, _ := strconv.Atoi(tg.Attrs["slow_start.duration_seconds"])
	g.slowStart.Store(int64(time.Duration(ss) * time.Second))
	if tg.Attrs["stickiness.enabled"] == "true" && tg.Attrs["stickiness.type"] == "lb_cookie" {
		d, _ := strconv.Atoi(tg.Attrs["stickiness.lb_cookie.duration_seconds"])
		g.stickyDur.Store(int64(time.Duration(d) * time.Second))
	} else {
		g.stickyDur.Store(0)
	}
	kick := hcChanged || (inUse && !g.inUse)
	if inUse != g.inUse {
		for _, t := range g.targets {
			t.state.Store(stInitial)
			t.reason.Store(rsRegistering)
			t.checked = false
		}
	}
	g.inUse = inUse
	want := map[string]targetReg{}
	for _, t := range tg.Targets {
		want[targetKey(t.ID, t.Port)] = t
	}
	changed := false
	for k, t := range g.targets {
		if _, ok := want[k]; !ok {
			g.startDrainLocked(t)
			delete(g.targets, k)
			changed = true
		}
	}
	for k, reg := range want {
		if g.targets[k] != nil {
			continue
		}
		if d := g.draining[k]; d != nil {
			// Registered again while draining: stop draining, keep its connections.
			if d.drainTimer != nil {
				d.drainTimer.Stop()
			}
			delete(g.draining, k)
		}
		t := &target{key: k, id: reg.ID, port: reg.Port, az: reg.AZ, cookie: cookieValue(k)}
		t.state.Store(stInitial)
		t.reason.Store(rsRegistering)
		if !tg.HC.Enabled {
			t.state.Store(stUnavailable)
			t.reason.Store(rsDisabled)
		}
		g.resolve(t)
		g.targets[k] = t
		changed = true
		kick = true
	}
	if !tg.HC.Enabled {
		for _, t := range g.targets {
			t.state.Store(stUnavailable)
			t.reason.Store(rsDisabled)
		}
	} else {
		// Health checks turned on: checking starts over.
		for _, t := range g.targets {
			if t.state.Load() == stUnavailable {
				t.state.Store(stInitial)
				t.reason.Store(rsInitial)
				t.checked = false
			}
		}
	}
	if changed {
		g.publishLocked()
	}
	if kick && inUse {
		select {
		case g.kick <- struct{}{}:
		default:
		}
	}
}

// resolve sets t's dial address.
func (g *tgRuntime) resolve(t *target) bool {
	if g.lambda {
		// A function is invoked by its ARN.
		if t.addr.Load() == nil {
			a := t.id
			t.addr.Store(&a)
		}
		return true
	}
	ip := t.id
	if g.instances {
		var ok bool
		ip, ok = g.s.instances.InstanceAddress(g.account, g.region, t.id)
		if !ok {
			t.addr.Store(nil)
			return false
		}
	}
	a := net.JoinHostPort(ip, strconv.Itoa(t.port))
	if cur := t.addr.Load(); cur == nil || *cur != a {
		t.addr.Store(&a)
	}
	return true
}

func (g *tgRuntime) publishLocked() {
	ts := make([]*target, 0, len(g.targets))
	for _, reg := range g.cfg.Targets {
		if t := g.targets[targetKey(reg.ID, reg.Port)]; t != nil {
			ts = append(ts, t)
		}
	}
	g.active.Store(&ts)
}

func (g *tgRuntime) startDrainLocked(t *target) {
	t.state.Store(stDraining)
	t.reason.Store(rsDraining)
	delay, _ := strconv.Atoi(g.cfg.Attrs["deregistration_delay.timeout_seconds"])
	if !g.inUse {
		return // never received traffic: gone at once
	}
	g.draining[t.key] = t
	t.drainTimer = g.s.clk.AfterFunc(time.Duration(delay)*time.Second, func() {
		g.mu.Lock()
		if g.draining[t.key] == t {
			delete(g.draining, t.key)
		}
		g.mu.Unlock()
	})
}

// health reports the targets' health; want limits it to some targets
// (reporting unknown ones as unused).
func (g *tgRuntime) health(want []targetReg) []TargetHealth {
	g.mu.Lock()
	defer g.mu.Unlock()
	hcPort := func(t *target) string {
		if g.cfg.HC.Port == "traffic-port" || g.cfg.HC.Port == "" {
			return strconv.Itoa(t.port)
		}
		return g.cfg.HC.Port
	}
	one := func(t *target) TargetHealth {
		h := TargetHealth{ID: t.id, Port: t.port, AZ: t.az, HealthCheckPort: hcPort(t)}
		st := t.state.Load()
		h.State = stateNames[st]
		if !g.inUse && st != stDraining {
			h.State = "unused"
			h.Reason, h.Description = rsNotInUse.code, rsNotInUse.desc
			return h
		}
		if st != stHealthy {
			if r := t.reason.Load(); r != nil {
				h.Reason, h.Description = r.code, r.desc
			}
		}
		return h
	}
	var out []TargetHealth
	if len(want) == 0 {
		for _, reg := range g.cfg.Targets {
			if t := g.targets[targetKey(reg.ID, reg.Port)]; t != nil {
				out = append(out, one(t))
			}
		}
		for _, t := range g.draining {
			out = append(out, one(t))
		}
		return out
	}
	for _, w := range want {
		k := targetKey(w.ID, w.Port)
		if t := g.targets[k]; t != nil {
			out = append(out, one(t))
		} else if t := g.draining[k]; t != nil {
			out = append(out, one(t))
		} else {
			out = append(out, TargetHealth{ID: w.ID, Port: w.Port, State: "unused", Reason: rsNotRegistered.code, Description: rsNotRegistered.desc, HealthCheckPort: strconv.Itoa(w.Port)})
		}
	}
	return out
}

// routable reports whether t may receive traffic while others are healthy.
func routable(t *target) bool {
	st := t.state.Load()
	return st == stHealthy || st == stUnavailable
}

// pick chooses a target for a new request or connection: round robin or
// least outstanding requests over healthy targets, or over every target with
// an address when none is healthy (fail open). It returns nil when there is
// no target at all.
func (g *tgRuntime) pick() *target {
	ts := *g.active.Load()
	n := len(ts)
	if n == 0 {
		return nil
	}
	start := int(g.rr.Add(1) % uint64(n))
	if g.lor.Load() {
		var best *target
		var bestN int64
		for i := 0; i < n; i++ {
			t := ts[(start+i)%n]
			if !routable(t) || t.addr.Load() == nil {
				continue
			}
			if o := t.outstanding.Load(); best == nil || o < bestN {
				best, bestN = t, o
			}
		}
		if best != nil {
			return best
		}
	} else {
		ss := g.slowStart.Load()
		var fallback *target
		for i := 0; i < n; i++ {
			t := ts[(start+i)%n]
			if !routable(t) || t.addr.Load() == nil {
				continue
			}
			if ss > 0 && !g.warm(t, ss) {
				if fallback == nil {
					fallback = t
				}
				continue
			}
			return t
		}
		if fallback != nil {
			return fallback
		}
	}
	for i := 0; i < n; i++ {
		if t := ts[(start+i)%n]; t.addr.Load() != nil {
			return t
		}
	}
	return nil
}

// warm reports whether t, in slow start, takes this request: the share of
// traffic it gets grows linearly over the slow start duration.
func (g *tgRuntime) warm(t *target, ss int64) bool {
	since := g.s.clk.Now().UnixNano() - t.healthyAt.Load()
	if since >= ss {
		return true
	}
	return rand.Int64N(ss) < since
}

// byCookie finds a registered, routable target by its stickiness cookie.
func (g *tgRuntime) byCookie(v string) *target {
	for _, t := range *g.active.Load() {
		if t.cookie == v {
			if routable(t) && t.addr.Load() != nil {
				return t
			}
			return nil
		}
	}
	return nil
}

func cookieValue(key string) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, 0, 2*len(key))
	for i := 0; i < len(key); i++ {
		b = append(b, hexd[key[i]>>4], hexd[key[i]&15])
	}
	return string(b)
}
