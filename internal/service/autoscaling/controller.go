package autoscaling

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// The group controller: one pass reconciles every group of every account
// and region. It runs every Options.Interval on the injected clock and at
// once when an API call or an EC2 state change triggers it.

const launchRetry = 30 * time.Second

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

func (s *Service) reconcile(ctx context.Context) error {
	s.runExecutions(ctx)
	s.runScheduled()
	s.mu.Lock()
	type ref struct {
		rg   *region
		name string
	}
	var refs []ref
	for _, rg := range s.regions {
		for n := range rg.groups {
			refs = append(refs, ref{rg, n})
		}
	}
	s.mu.Unlock()
	sort.Slice(refs, func(i, j int) bool { return refs[i].name < refs[j].name })
	var errs []error
	for _, r := range refs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := s.reconcileGroup(ctx, r.rg, r.name); err != nil {
			errs = append(errs, fmt.Errorf("group %s: %w", r.name, err))
		}
	}
	return errors.Join(errs...)
}

// pass is one reconciliation of one group.
type pass struct {
	s    *Service
	ctx  context.Context
	rg   *region
	g    *group
	now  time.Time
	acts []*activity // new or changed activities to store
	// again asks for another pass soon (state moved on).
	again bool
}

func (s *Service) reconcileGroup(ctx context.Context, rg *region, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	og := rg.groups[name]
	if og == nil {
		return nil
	}
	p := &pass{s: s, ctx: ctx, rg: rg, g: cloneGroup(og), now: s.clk.Now()}
	p.members()
	p.health()
	p.scale()
	p.rebalance()
	g := p.g
	ws := make([]write, 0, len(p.acts)+1)
	for _, a := range p.acts {
		ws = append(ws, actW(rg.account, rg.name, a))
	}
	live := 0
	for _, m := range g.Members {
		if m.State != lsTerminated {
			live++
		}
	}
	deleted := g.Deleting && live == 0
	if deleted {
		ws = append(ws, delW(g.Account, g.Region, kindGroup, g.Name))
	} else {
		ws = append(ws, groupW(g))
	}
	if err := s.commit(ws...); err != nil {
		return err
	}
	if deleted {
		delete(rg.groups, name)
		rg.deletedGroups[name] = g.ARN
	} else {
		rg.groups[name] = g
	}
	for _, a := range p.acts {
		if !slices.Contains(rg.activities[a.Group], a) {
			rg.activities[a.Group] = append(rg.activities[a.Group], a)
		}
	}
	if p.again {
		s.kick()
	}
	return nil
}

// activity returns the stored activity id of the group (nil if gone).
func (p *pass) activity(id string) *activity {
	for _, a := range p.acts {
		if a.ID == id {
			return a
		}
	}
	acts := p.rg.activities[p.g.Name]
	for i := len(acts) - 1; i >= 0; i-- {
		if acts[i].ID == id {
			return acts[i]
		}
	}
	return nil
}

func (p *pass) touch(a *activity) {
	if a != nil && !slices.Contains(p.acts, a) {
		p.acts = append(p.acts, a)
	}
}

func (p *pass) finish(m *member, status, msg string) {
	a := p.activity(m.Activity)
	if a == nil {
		return
	}
	a.Status, a.StatusMsg, a.End = status, msg, p.now
	if status == "Successful" {
		a.Progress = 100
	}
	p.touch(a)
}

func (p *pass) setStatus(m *member, status string, progress int64) {
	a := p.activity(m.Activity)
	if a == nil || a.Status == status {
		return
	}
	a.Status = status
	a.Progress = progress
	p.touch(a)
}

// members moves every member along its lifecycle.
func (p *pass) members() {
	s := p.s
	var keep []*member
	for _, m := range p.g.Members {
		switch m.State {
		case lsPending, lsPendingProceed:
			p.pending(m)
		case lsPendingWait:
			p.waitHook(m, launchTransition)
		case lsTerminating, lsTerminatingWait, lsTerminatingProceed:
			p.terminating(m)
		case lsDetaching:
			if p.deregister(m) {
				p.finish(m, "Successful", "")
				m.State = lsTerminated // leaves the group
				p.again = true
			}
		}
		if m.State != lsTerminated {
			keep = append(keep, m)
		}
	}
	p.g.Members = keep
	_ = s
}

func (p *pass) describe(id string) (Instance, bool) {
	if p.s.o.Compute == nil {
		return Instance{}, false
	}
	return p.s.o.Compute.Describe(p.rg.account, p.rg.name, id)
}

func (p *pass) pending(m *member) {
	inst, ok := p.describe(m.ID)
	if !ok || (inst.State != "pending" && inst.State != "running") || (inst.State == "running" && !inst.Alive) {
		m.Health = "Unhealthy"
		m.UnhealthyCause = "an EC2 health check indicating it has been terminated or stopped"
		m.State = lsInService // replaced by health()
		p.finish(m, "Failed", "Instance failed to start.")
		return
	}
	if inst.State != "running" {
		return
	}
	if m.State == lsPending && p.nextHook(m, launchTransition) {
		m.State = lsPendingWait
		p.setStatus(m, "MidLifecycleAction", 30)
		p.again = true
		return
	}
	p.register(m)
	m.State = lsInService
	m.InServiceAt = p.now
	p.finish(m, "Successful", "")
	p.again = true
}

// register registers m with the group's load balancers.
func (p *pass) register(m *member) {
	lb := p.s.o.LoadBalancing
	m.Registered = true
	if lb == nil {
		return
	}
	for _, tg := range p.g.TargetGroups {
		if err := lb.RegisterTargets(p.rg.account, p.rg.name, tg, []string{m.ID}); err != nil {
			p.s.log.Warn("autoscaling: register target", "group", p.g.Name, "instance", m.ID, "err", err)
		}
	}
	for _, name := range p.g.LoadBalancers {
		if err := lb.RegisterInstances(p.rg.account, p.rg.name, name, []string{m.ID}); err != nil {
			p.s.log.Warn("autoscaling: register instance", "group", p.g.Name, "instance", m.ID, "err", err)
		}
	}
}

// deregister deregisters m from the group's load balancers and reports
// whether they have finished draining it.
func (p *pass) deregister(m *member) bool {
	lb := p.s.o.LoadBalancing
	if !m.Registered || lb == nil {
		return true
	}
	acct, rgn := p.rg.account, p.rg.name
	if !m.Deregistered {
		for _, tg := range p.g.TargetGroups {
			lb.DeregisterTargets(acct, rgn, tg, []string{m.ID})
		}
		for _, name := range p.g.LoadBalancers {
			lb.DeregisterInstances(acct, rgn, name, []string{m.ID})
		}
		m.Deregistered = true
		if len(p.g.TargetGroups) > 0 {
			p.setStatus(m, "WaitingForELBConnectionDraining", 50)
		}
	}
	for _, tg := range p.g.TargetGroups {
		ths, err := lb.TargetHealth(acct, rgn, tg)
		if err != nil {
			continue // the target group is gone
		}
		for _, t := range ths {
			if t.ID == m.ID && t.State == "draining" {
				return false
			}
		}
	}
	return true
}

func (p *pass) terminating(m *member) {
	if m.State == lsTerminating {
		if !p.deregister(m) {
			return
		}
		if p.nextHook(m, terminateTransition) {
			m.State = lsTerminatingWait
			p.setStatus(m, "MidLifecycleAction", 50)
			p.again = true
			return
		}
		m.State = lsTerminatingProceed
	}
	if m.State == lsTerminatingWait {
		p.waitHook(m, terminateTransition)
		if m.State != lsTerminatingProceed {
			return
		}
	}
	if c := p.s.o.Compute; c != nil {
		if err := c.Terminate(p.ctx, p.rg.account, p.rg.name, m.ID); err != nil {
			var ae *awserr.Error
			if !errors.As(err, &ae) {
				p.s.log.Warn("autoscaling: terminate", "instance", m.ID, "err", err)
				return // retried on the next pass
			}
		}
	}
	m.State = lsTerminated
	p.finish(m, "Successful", "")
	p.again = true
}

func (s *Service) inGrace(g *group, m *member) bool {
	base := m.InServiceAt
	if base.IsZero() {
		base = m.Launched
	}
	return s.clk.Now().Before(base.Add(secs(g.GracePeriod)))
}

// health marks members unhealthy from EC2 and load balancer health, and
// starts replacing unhealthy ones.
func (p *pass) health() {
	g := p.g
	lb := p.s.o.LoadBalancing
	var tgHealth map[string]string
	useELB := g.HealthCheckType == "ELB" && lb != nil
	if useELB {
		tgHealth = map[string]string{}
		for _, tg := range g.TargetGroups {
			ths, err := lb.TargetHealth(p.rg.account, p.rg.name, tg)
			if err != nil {
				continue
			}
			for _, t := range ths {
				if t.State == "unhealthy" {
					tgHealth[t.ID] = "unhealthy"
				}
			}
		}
		for _, name := range g.LoadBalancers {
			ths, err := lb.InstanceHealth(p.rg.account, p.rg.name, name)
			if err != nil {
				continue
			}
			for _, t := range ths {
				if t.State == "OutOfService" {
					tgHealth[t.ID] = "unhealthy"
				}
			}
		}
	}
	for _, m := range g.Members {
		if m.State != lsInService {
			continue
		}
		if m.Health == "Healthy" {
			inst, ok := p.describe(m.ID)
			switch {
			case !ok || inst.State == "terminated" || inst.State == "stopped" || inst.State == "stopping" || inst.State == "shutting-down":
				m.Health, m.UnhealthyCause = "Unhealthy", "an EC2 health check indicating it has been terminated or stopped"
			case inst.State == "running" && !inst.Alive:
				m.Health, m.UnhealthyCause = "Unhealthy", "an EC2 instance status check failure"
			case useELB && m.Registered && tgHealth[m.ID] == "unhealthy" && !p.s.inGrace(g, m):
				m.Health, m.UnhealthyCause = "Unhealthy", "an ELB system health check failure"
			}
		}
		if m.Health != "Healthy" {
			cause := fmt.Sprintf("At %s an instance was taken out of service in response to %s.", awsTime(p.now), m.UnhealthyCause)
			p.acts = append(p.acts, p.s.startTermination(p.rg, g, m, cause))
			p.again = true
		}
	}
}

// scale launches or terminates instances until capacity equals desired.
func (p *pass) scale() {
	g := p.g
	have := capacity(g)
	switch {
	case have < g.Desired:
		if !g.LaunchFailedAt.IsZero() && p.now.Before(g.LaunchFailedAt.Add(launchRetry)) {
			return
		}
		cause := fmt.Sprintf("At %s an instance was started in response to a difference between desired and actual capacity, increasing the capacity from %d to %d.", awsTime(p.now), have, g.Desired)
		if g.Cause != "" {
			cause = g.Cause + "  " + cause
		}
		for range g.Desired - have {
			if !p.launch(cause, false) {
				break
			}
		}
		g.Cause = ""
	case have > g.Desired:
		for _, m := range g.Members {
			if m.Rebalance && m.State != lsInService && counts(m) {
				return // wait for the balancing instance before terminating
			}
		}
		victims := selectVictims(g, have-g.Desired, p.s.lcCreated(p.rg))
		for _, m := range victims {
			cause := fmt.Sprintf("At %s an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from %d to %d.  At %s instance %s was selected for termination.",
				awsTime(p.now), have, g.Desired, awsTime(p.now), m.ID)
			if g.Cause != "" {
				cause = g.Cause + "  " + cause
			}
			p.acts = append(p.acts, p.s.startTermination(p.rg, g, m, cause))
			p.again = true
		}
		if len(victims) > 0 {
			g.Cause = ""
		}
	default:
		for _, m := range g.Members {
			m.Rebalance = m.Rebalance && m.State != lsInService
		}
	}
}

func (s *Service) lcCreated(rg *region) func(string) time.Time {
	return func(name string) time.Time {
		if lc := rg.lcs[name]; lc != nil {
			return lc.Created
		}
		return time.Time{}
	}
}

// rebalance launches an instance in the least used zone when the zones
// differ by more than one instance; scale-in then removes one from the
// most used zone.
func (p *pass) rebalance() {
	g := p.g
	if g.Deleting || len(g.AZs) < 2 || capacity(g) != g.Desired {
		return
	}
	for _, m := range g.Members {
		if m.State != lsInService {
			return
		}
	}
	per := p.zoneCounts()
	lo, hi := -1, -1
	for _, az := range g.AZs {
		n := per[az]
		if lo < 0 || n < lo {
			lo = n
		}
		if n > hi {
			hi = n
		}
	}
	if hi-lo <= 1 || g.Desired+1 > g.Max+max(1, g.Max/10) {
		return
	}
	cause := fmt.Sprintf("At %s an instance was launched to aid in balancing the group's zones.", awsTime(p.now))
	p.launch(cause, true)
}

func (p *pass) zoneCounts() map[string]int {
	per := map[string]int{}
	for _, m := range p.g.Members {
		if counts(m) {
			per[m.AZ]++
		}
	}
	return per
}

// placement picks the zone (and subnet) with the fewest instances.
func (p *pass) placement() (az, subnet string) {
	g := p.g
	per := p.zoneCounts()
	for _, z := range g.AZs {
		if az == "" || per[z] < per[az] {
			az = z
		}
	}
	if len(g.Subnets) == 0 {
		return az, ""
	}
	perSubnet := map[string]int{}
	for _, m := range g.Members {
		if counts(m) {
			perSubnet[m.SubnetID]++
		}
	}
	for _, sn := range g.Subnets {
		if g.SubnetAZ[sn] != az {
			continue
		}
		if subnet == "" || perSubnet[sn] < perSubnet[subnet] {
			subnet = sn
		}
	}
	return az, subnet
}

// launch starts one instance; it reports whether that worked.
func (p *pass) launch(cause string, rebalance bool) bool {
	g := p.g
	az, subnet := p.placement()
	spec, lt, lcName, itype := p.s.launchSpec(p.rg, g)
	spec.AvailabilityZone, spec.SubnetID = az, subnet
	if subnet != "" {
		spec.AvailabilityZone = ""
	}
	var inst Instance
	err := errors.New("EC2 is not available")
	if c := p.s.o.Compute; c != nil {
		inst, err = c.Launch(p.ctx, p.rg.account, p.rg.name, spec)
	}
	if err != nil {
		msg := err.Error()
		var ae *awserr.Error
		if errors.As(err, &ae) {
			msg = ae.Message
		}
		a := p.s.newActivity(g, "Launching a new EC2 instance.  Status Reason: "+msg+". Launching EC2 instance failed.", cause, &member{SubnetID: subnet, AZ: az})
		a.Status, a.StatusMsg, a.End, a.Progress = "Failed", msg+". Launching EC2 instance failed.", p.now, 100
		p.acts = append(p.acts, a)
		g.LaunchFailedAt = p.now
		return false
	}
	g.LaunchFailedAt = time.Time{}
	m := &member{ID: inst.ID, AZ: inst.AvailabilityZone, SubnetID: inst.SubnetID, InstanceType: inst.InstanceType,
		ImageID: inst.ImageID, LT: lt, LCName: lcName, State: lsPending, Health: "Healthy", Launched: p.now,
		Protected: g.Protect, Rebalance: rebalance}
	if m.InstanceType == "" {
		m.InstanceType = itype
	}
	if lt != nil && inst.LaunchTemplateVersion != "" {
		m.LTNum = inst.LaunchTemplateVersion
	}
	a := p.s.newActivity(g, "Launching a new EC2 instance: "+inst.ID, cause, m)
	a.Progress = 20
	m.Activity = a.ID
	p.acts = append(p.acts, a)
	g.Members = append(g.Members, m)
	p.again = true
	return true
}

// launchSpec builds the EC2 request of the group's launch source.
func (s *Service) launchSpec(rg *region, g *group) (spec LaunchSpec, lt *ltSpec, lcName, itype string) {
	spec.Tags = []Tag{{Key: "aws:autoscaling:groupName", Value: g.Name}}
	for _, t := range g.Tags {
		if t.Propagate {
			spec.Tags = append(spec.Tags, Tag{Key: t.Key, Value: t.Value})
		}
	}
	setLT := func(l ltSpec) {
		c := l
		lt = &c
		spec.LaunchTemplateID, spec.LaunchTemplateName, spec.LaunchTemplateVersion = l.ID, l.Name, l.Version
		if spec.LaunchTemplateID != "" {
			spec.LaunchTemplateName = ""
		}
		if spec.LaunchTemplateVersion == "" {
			spec.LaunchTemplateVersion = "$Default"
		}
	}
	switch {
	case g.LT != nil:
		setLT(*g.LT)
	case g.Mixed != nil:
		setLT(g.Mixed.LaunchTemplate)
		for _, ov := range g.Mixed.Overrides {
			if ov.LaunchTemplate != nil {
				setLT(*ov.LaunchTemplate)
			}
			if ov.InstanceType != "" {
				spec.InstanceType = ov.InstanceType
				itype = ov.InstanceType
				break
			}
		}
	case g.LCName != "":
		lcName = g.LCName
		if lc := rg.lcs[g.LCName]; lc != nil {
			spec.ImageID, spec.InstanceType = lc.ImageID, lc.InstanceType
			itype = lc.InstanceType
			spec.SecurityGroups = slices.Clone(lc.SecurityGroups)
			spec.IAMInstanceProfile = lc.IAMInstanceProfile
			if lc.UserData != "" {
				if b, err := base64.StdEncoding.DecodeString(lc.UserData); err == nil {
					spec.UserData = b
				} else {
					spec.UserData = []byte(lc.UserData)
				}
			}
		}
	}
	return spec, lt, lcName, itype
}

// selectVictims picks n members to terminate by the group's termination
// policies; protected instances are spared unless the group is being
// deleted.
func selectVictims(g *group, n int, lcCreated func(string) time.Time) []*member {
	var cands []*member
	for _, m := range g.Members {
		if counts(m) && (!m.Protected || g.Deleting) {
			cands = append(cands, m)
		}
	}
	per := map[string]int{}
	for _, m := range g.Members {
		if counts(m) {
			per[m.AZ]++
		}
	}
	policies := append(slices.Clone(g.TerminationPolicies), "Default")
	var out []*member
	for len(out) < n && len(cands) > 0 {
		// Zone balance first: candidates in the most used zone.
		best := -1
		for _, m := range cands {
			best = max(best, per[m.AZ])
		}
		set := slices.DeleteFunc(slices.Clone(cands), func(m *member) bool { return per[m.AZ] != best })
		for _, pol := range policies {
			if len(set) == 1 {
				break
			}
			set = applyPolicy(g, pol, set, lcCreated)
		}
		v := set[0]
		out = append(out, v)
		per[v.AZ]--
		cands = slices.DeleteFunc(cands, func(m *member) bool { return m == v })
	}
	return out
}

func applyPolicy(g *group, pol string, set []*member, lcCreated func(string) time.Time) []*member {
	keepBy := func(score func(*member) int64, lowest bool) []*member {
		var bestV int64
		var out []*member
		for i, m := range set {
			v := score(m)
			if i == 0 || (lowest && v < bestV) || (!lowest && v > bestV) {
				bestV, out = v, nil
			}
			if v == bestV {
				out = append(out, m)
			}
		}
		return out
	}
	launched := func(m *member) int64 { return m.Launched.UnixNano() }
	switch pol {
	case "OldestInstance", "ClosestToNextInstanceHour":
		return keepBy(launched, true)
	case "NewestInstance":
		return keepBy(launched, false)
	case "OldestLaunchConfiguration":
		return keepBy(func(m *member) int64 {
			if m.LCName == "" {
				return 1 << 62
			}
			if m.LCName != g.LCName {
				return lcCreated(m.LCName).UnixNano() - 1<<61
			}
			return lcCreated(m.LCName).UnixNano()
		}, true)
	case "OldestLaunchTemplate":
		return keepBy(func(m *member) int64 { return ltAge(g, m) }, true)
	case "Default":
		set = applyPolicy(g, "OldestLaunchTemplate", set, lcCreated)
		set = applyPolicy(g, "OldestLaunchConfiguration", set, lcCreated)
		return applyPolicy(g, "ClosestToNextInstanceHour", set, lcCreated)
	}
	return set
}

// ltAge orders members by launch template: those from another template
// first, then by version number.
func ltAge(g *group, m *member) int64 {
	cur := g.LT
	if g.Mixed != nil {
		cur = &g.Mixed.LaunchTemplate
	}
	if m.LT == nil {
		return 1 << 62
	}
	v, _ := strconv.ParseInt(m.LTNum, 10, 64)
	if cur == nil || (m.LT.ID != cur.ID && !strings.EqualFold(m.LT.Name, cur.Name)) {
		return v - 1<<40
	}
	return v
}
