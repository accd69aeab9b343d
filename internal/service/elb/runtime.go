package elb

import (
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// lbRuntime is the data-plane side of a load balancer.
type lbRuntime struct {
	arn, account, region string
	typ                  string
	dns                  string
	// dim is the LoadBalancer metric dimension ("app/name/id").
	dim       string
	listeners atomic.Pointer[[]*listenerRuntime]
	idle      atomic.Int64 // idle timeout, ns
	m         lbCounters
}

// edgeListener picks the listener that serves edge-port requests for a Host
// header whose port is port.
func (lb *lbRuntime) edgeListener(port string) *listenerRuntime {
	ls := lb.listeners.Load()
	if ls == nil {
		return nil
	}
	var p80, first *listenerRuntime
	for _, l := range *ls {
		if !l.http {
			continue
		}
		if port != "" && l.portStr == port {
			return l
		}
		if l.port == 80 {
			p80 = l
		}
		if first == nil || l.port < first.port {
			first = l
		}
	}
	if p80 != nil {
		return p80
	}
	return first
}

func lbDimension(arn string) string {
	_, after, _ := strings.Cut(arn, ":loadbalancer/")
	return after
}

func tgDimension(arn string) string {
	i := strings.Index(arn, ":targetgroup/")
	if i < 0 {
		return arn
	}
	return arn[i+1:]
}

// syncLocked brings the data plane in line with the stored resources:
// target group runtimes, listener sockets, route tables and the DNS map.
// s.mu is held.
func (s *Service) syncLocked() {
	if !s.started {
		return
	}
	// Target groups.
	for arn, tg := range s.tgs {
		g := s.tgRT[arn]
		if g == nil {
			g = newTGRuntime(s, tg)
			s.tgRT[arn] = g
		}
		g.update(tg, len(s.tgLBs(arn)) > 0 || tg.Classic != "")
	}
	// Load balancers.
	for arn, lb := range s.lbs {
		rt := s.lbRT[arn]
		if rt == nil {
			rt = &lbRuntime{arn: arn, account: lb.Account, region: lb.Region, typ: lb.Type, dns: strings.ToLower(lb.DNSName), dim: lbDimension(arn)}
			if lb.Classic != nil {
				rt.dim = lb.Name
			}
			s.lbRT[arn] = rt
		}
		idle := 60
		if v, err := strconv.Atoi(lb.Attrs["idle_timeout.timeout_seconds"]); err == nil {
			idle = v
		}
		if lb.Classic != nil {
			if v, err := strconv.Atoi(lb.Attrs["ConnectionSettings.IdleTimeout"]); err == nil {
				idle = v
			}
		}
		rt.idle.Store(int64(time.Duration(idle) * time.Second))
	}
	for arn, g := range s.tgRT {
		for _, lbARN := range s.tgLBs(arn) {
			if rt := s.lbRT[lbARN]; rt != nil {
				g.mu.Lock()
				g.setTimeout(time.Duration(rt.idle.Load()))
				g.mu.Unlock()
			}
		}
	}
	for arn := range s.lbRT {
		if s.lbs[arn] == nil {
			delete(s.lbRT, arn)
		}
	}
	// Listeners.
	byLB := map[string][]*listenerRuntime{}
	for arn, l := range s.listeners {
		lb := s.lbs[l.LBARN]
		lbrt := s.lbRT[l.LBARN]
		if lb == nil || lbrt == nil {
			continue
		}
		rt := s.lnRT[arn]
		if rt != nil && (rt.port != l.Port || rt.protocol != l.Protocol) {
			rt.close()
			rt = nil
		}
		if rt == nil {
			var err error
			rt, err = s.openListener(lbrt, l)
			if err != nil {
				s.log.Error("open listener", "listener", arn, "err", err)
				continue
			}
			s.lnRT[arn] = rt
		}
		rt.table.Store(s.compileTable(l))
		byLB[l.LBARN] = append(byLB[l.LBARN], rt)
	}
	for arn, rt := range s.lnRT {
		if s.listeners[arn] == nil {
			rt.close()
			delete(s.lnRT, arn)
		}
	}
	hosts := map[string]*lbRuntime{}
	for arn, rt := range s.lbRT {
		ls := byLB[arn]
		sort.Slice(ls, func(i, j int) bool { return ls[i].port < ls[j].port })
		rt.listeners.Store(&ls)
		hosts[rt.dns] = rt
	}
	s.hosts.Store(&hosts)
	// Retire target groups last: listeners no longer point at them.
	for arn, g := range s.tgRT {
		if s.tgs[arn] == nil {
			g.stop()
			delete(s.tgRT, arn)
		}
	}
}

// compileTable builds the listener's route table from its rules.
func (s *Service) compileTable(l *listener) *routeTable {
	var rs []*rule
	for _, ru := range s.rules {
		if ru.ListenerARN == l.ARN {
			rs = append(rs, ru)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Priority < rs[j].Priority })
	t := &routeTable{}
	for _, ru := range rs {
		cr := compiledRule{act: s.compileAction(ru.Actions)}
		for _, c := range ru.Conditions {
			cr.conds = append(cr.conds, compileCondition(c))
		}
		t.rules = append(t.rules, cr)
	}
	t.rules = append(t.rules, compiledRule{act: s.compileAction(l.DefaultActions)})
	return t
}

func (s *Service) compileAction(as []action) compiledAction {
	if len(as) == 0 {
		return compiledAction{kind: actFixed, status: 503}
	}
	a := as[len(as)-1]
	switch {
	case a.Fixed != nil:
		code, _ := strconv.Atoi(a.Fixed.StatusCode)
		ca := compiledAction{kind: actFixed, status: code, body: []byte(a.Fixed.Body)}
		ct := a.Fixed.ContentType
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		} else if strings.HasPrefix(ct, "text/") || ct == "application/json" || ct == "application/javascript" {
			ct += "; charset=utf-8"
		}
		ca.ctype = []string{ct}
		return ca
	case a.Redirect != nil:
		code := 301
		if a.Redirect.StatusCode == "HTTP_302" {
			code = 302
		}
		return compiledAction{kind: actRedirect, status: code, redirect: a.Redirect}
	case a.Forward != nil:
		ca := compiledAction{kind: actForward, portOverride: a.PortOverride}
		for _, t := range a.Forward.TargetGroups {
			g := s.tgRT[t.ARN]
			if g == nil {
				continue
			}
			ca.fwd = append(ca.fwd, fwdTarget{tg: g, weight: t.Weight})
			ca.total += t.Weight
		}
		if a.Forward.Sticky && len(ca.fwd) > 1 {
			ca.sticky = true
			ca.stickyDur = time.Duration(a.Forward.StickyDuration) * time.Second
		}
		return ca
	}
	return compiledAction{kind: actFixed, status: 503}
}

const (
	actForward = iota
	actFixed
	actRedirect
)

type routeTable struct {
	rules []compiledRule // by priority; the default rule last
}

type compiledRule struct {
	conds []compiledCond
	act   compiledAction
}

type fwdTarget struct {
	tg     *tgRuntime
	weight int
}

type compiledAction struct {
	kind         int
	status       int
	body         []byte
	ctype        []string
	redirect     *redirectConfig
	fwd          []fwdTarget
	total        int
	sticky       bool
	stickyDur    time.Duration
	portOverride int
}

// match returns the action of the first rule whose conditions all hold.
func (t *routeTable) match(r *http.Request) *compiledAction {
	for i := range t.rules {
		cr := &t.rules[i]
		ok := true
		for j := range cr.conds {
			if !cr.conds[j].match(r) {
				ok = false
				break
			}
		}
		if ok {
			return &cr.act
		}
	}
	return nil
}

// pickGroup chooses a target group of a weighted forward.
func (a *compiledAction) pickGroup() *tgRuntime {
	switch len(a.fwd) {
	case 0:
		return nil
	case 1:
		return a.fwd[0].tg
	}
	if a.total <= 0 {
		return nil
	}
	n := rand.IntN(a.total)
	for _, f := range a.fwd {
		if n < f.weight {
			return f.tg
		}
		n -= f.weight
	}
	return a.fwd[len(a.fwd)-1].tg
}
