package autoscaling

import (
	"slices"
	"sort"

	"github.com/overcast-dev/overcast/internal/service"
)

const (
	launchTransition    = "autoscaling:EC2_INSTANCE_LAUNCHING"
	terminateTransition = "autoscaling:EC2_INSTANCE_TERMINATING"
)

func hookFrom(groupName string, in map[string]any) (*hook, error) {
	h := &hook{Group: groupName, Name: service.Str(in, "LifecycleHookName"), Transition: service.Str(in, "LifecycleTransition"),
		NotificationARN: service.Str(in, "NotificationTargetARN"), RoleARN: service.Str(in, "RoleARN"),
		Metadata: service.Str(in, "NotificationMetadata"), HeartbeatTimeout: 3600, DefaultResult: "ABANDON"}
	if h.Name == "" {
		return nil, missing("LifecycleHookName")
	}
	if err := h.apply(in); err != nil {
		return nil, err
	}
	if h.Transition == "" {
		return nil, validation("LifecycleTransition is required when creating a lifecycle hook.")
	}
	return h, nil
}

// apply sets the hook fields present in in.
func (h *hook) apply(in map[string]any) error {
	if t, ok := in["LifecycleTransition"].(string); ok {
		if t != launchTransition && t != terminateTransition {
			return validation("Invalid Lifecycle Transition %s. Valid transitions are %s and %s.", t, launchTransition, terminateTransition)
		}
		h.Transition = t
	}
	if n, ok := service.Int(in, "HeartbeatTimeout"); ok {
		if n < 30 || n > 7200 {
			return validation("HeartbeatTimeout must be between 30 and 7200 seconds.")
		}
		h.HeartbeatTimeout = n
	}
	if d, ok := in["DefaultResult"].(string); ok {
		if d != "CONTINUE" && d != "ABANDON" {
			return validation("Valid values for DefaultResult are CONTINUE and ABANDON.")
		}
		h.DefaultResult = d
	}
	for _, k := range []string{"NotificationTargetARN", "RoleARN", "NotificationMetadata"} {
		if v, ok := in[k].(string); ok {
			switch k {
			case "NotificationTargetARN":
				h.NotificationARN = v
			case "RoleARN":
				h.RoleARN = v
			default:
				h.Metadata = v
			}
		}
	}
	return nil
}

func (s *Service) putLifecycleHook(r *service.Request) (map[string]any, error) {
	in := r.Input
	gname := service.Str(in, "AutoScalingGroupName")
	if gname == "" {
		return nil, missing("AutoScalingGroupName")
	}
	name := service.Str(in, "LifecycleHookName")
	if name == "" {
		return nil, missing("LifecycleHookName")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	g := rg.groups[gname]
	if g == nil || g.Deleting {
		return nil, groupNotFound(gname)
	}
	var h *hook
	if old := rg.hooks[subKey(gname, name)]; old != nil {
		c := *old
		h = &c
		if err := h.apply(in); err != nil {
			return nil, err
		}
	} else {
		n := 0
		for _, x := range rg.hooks {
			if x.Group == gname {
				n++
			}
		}
		if n >= 50 {
			return nil, apiErr(codeLimitExceeded, "Unable to create lifecycle hook %s for AutoScalingGroup %s. Lifecycle hook limit exceeded.", name, gname)
		}
		var err error
		if h, err = hookFrom(gname, in); err != nil {
			return nil, err
		}
	}
	if err := s.commit(putW(rg.account, rg.name, h, kindHook, gname, name)); err != nil {
		return nil, err
	}
	rg.hooks[subKey(gname, name)] = h
	return map[string]any{}, nil
}

func hookOut(h *hook) map[string]any {
	o := map[string]any{"LifecycleHookName": h.Name, "AutoScalingGroupName": h.Group, "LifecycleTransition": h.Transition,
		"HeartbeatTimeout": h.HeartbeatTimeout, "GlobalTimeout": min(100*h.HeartbeatTimeout, 172800), "DefaultResult": h.DefaultResult}
	if h.NotificationARN != "" {
		o["NotificationTargetARN"] = h.NotificationARN
	}
	if h.RoleARN != "" {
		o["RoleARN"] = h.RoleARN
	}
	if h.Metadata != "" {
		o["NotificationMetadata"] = h.Metadata
	}
	return o
}

func (s *Service) describeLifecycleHooks(r *service.Request) (map[string]any, error) {
	in := r.Input
	gname := service.Str(in, "AutoScalingGroupName")
	if gname == "" {
		return nil, missing("AutoScalingGroupName")
	}
	names := service.Strings(in, "LifecycleHookNames")
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	if rg.groups[gname] == nil {
		return nil, groupNotFound(gname)
	}
	hooks := groupHooks(rg, gname, "")
	out := []any{}
	for _, h := range hooks {
		if len(names) > 0 && !slices.Contains(names, h.Name) {
			continue
		}
		out = append(out, hookOut(h))
	}
	return map[string]any{"LifecycleHooks": out}, nil
}

// groupHooks returns a group's hooks (of one transition, if given) by name.
func groupHooks(rg *region, gname, transition string) []*hook {
	var out []*hook
	for _, h := range rg.hooks {
		if h.Group == gname && (transition == "" || h.Transition == transition) {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Service) deleteLifecycleHook(r *service.Request) (map[string]any, error) {
	in := r.Input
	gname := service.Str(in, "AutoScalingGroupName")
	name := service.Str(in, "LifecycleHookName")
	if gname == "" {
		return nil, missing("AutoScalingGroupName")
	}
	if name == "" {
		return nil, missing("LifecycleHookName")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	if rg.groups[gname] == nil {
		return nil, groupNotFound(gname)
	}
	if rg.hooks[subKey(gname, name)] == nil {
		return nil, validation("No Lifecycle Hook found with name %s for group %s", name, gname)
	}
	if err := s.commit(delW(rg.account, rg.name, kindHook, gname, name)); err != nil {
		return nil, err
	}
	delete(rg.hooks, subKey(gname, name))
	s.kick()
	return map[string]any{}, nil
}

// hookAction finds the member waiting on hook name (by instance id or
// token); s.mu is held.
func (s *Service) hookAction(r *service.Request) (*region, *group, *member, error) {
	in := r.Input
	gname := service.Str(in, "AutoScalingGroupName")
	name := service.Str(in, "LifecycleHookName")
	if gname == "" {
		return nil, nil, nil, missing("AutoScalingGroupName")
	}
	if name == "" {
		return nil, nil, nil, missing("LifecycleHookName")
	}
	id, token := service.Str(in, "InstanceId"), service.Str(in, "LifecycleActionToken")
	if id == "" && token == "" {
		return nil, nil, nil, validation("Either InstanceId or LifecycleActionToken must be specified.")
	}
	rg := s.regionOf(r.Account, r.Region)
	g := rg.groups[gname]
	if g == nil {
		return nil, nil, nil, groupNotFound(gname)
	}
	if rg.hooks[subKey(gname, name)] == nil {
		return nil, nil, nil, validation("No Lifecycle Hook found with name %s for group %s", name, gname)
	}
	c := cloneGroup(g)
	for _, m := range c.Members {
		if m.HookName != name || (m.State != lsPendingWait && m.State != lsTerminatingWait) {
			continue
		}
		if (id != "" && m.ID == id) || (token != "" && m.HookToken == token) {
			return rg, c, m, nil
		}
	}
	if id != "" {
		return nil, nil, nil, validation("No active Lifecycle Action found with instance ID %s", id)
	}
	return nil, nil, nil, validation("No active Lifecycle Action found with token %s", token)
}

func (s *Service) completeLifecycleAction(r *service.Request) (map[string]any, error) {
	res := service.Str(r.Input, "LifecycleActionResult")
	if res == "" {
		return nil, missing("LifecycleActionResult")
	}
	if res != "CONTINUE" && res != "ABANDON" {
		return nil, validation("Valid values for LifecycleActionResult are CONTINUE and ABANDON.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg, g, m, err := s.hookAction(r)
	if err != nil {
		return nil, err
	}
	m.HookResult = res
	if err := s.commit(groupW(g)); err != nil {
		return nil, err
	}
	rg.groups[g.Name] = g
	s.kick()
	return map[string]any{}, nil
}

func (s *Service) recordHeartbeat(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rg, g, m, err := s.hookAction(r)
	if err != nil {
		return nil, err
	}
	if h := rg.hooks[subKey(g.Name, m.HookName)]; h != nil {
		m.HookDeadline = s.clk.Now().Add(secs(int(h.HeartbeatTimeout)))
	}
	if err := s.commit(groupW(g)); err != nil {
		return nil, err
	}
	rg.groups[g.Name] = g
	return map[string]any{}, nil
}

// nextHook puts m on the next hook of transition it has not passed;
// it reports false when none is left.
func (p *pass) nextHook(m *member, transition string) bool {
	for _, h := range groupHooks(p.rg, p.g.Name, transition) {
		if slices.Contains(m.HooksDone, h.Name) {
			continue
		}
		m.HookName, m.HookToken, m.HookResult = h.Name, newUUID(), ""
		m.HookDeadline = p.now.Add(secs(int(h.HeartbeatTimeout)))
		return true
	}
	m.HookName, m.HookToken, m.HookResult = "", "", ""
	return false
}

// waitHook advances a member waiting on a hook once it has a result (or
// its heartbeat timed out).
func (p *pass) waitHook(m *member, transition string) {
	h := p.rg.hooks[subKey(p.g.Name, m.HookName)]
	res := m.HookResult
	if h == nil {
		res = "CONTINUE" // the hook was deleted
	} else if res == "" && !p.now.Before(m.HookDeadline) {
		res = h.DefaultResult
	}
	if res == "" {
		return
	}
	m.HooksDone = append(m.HooksDone, m.HookName)
	p.again = true
	if transition == terminateTransition {
		if res == "CONTINUE" && p.nextHook(m, transition) {
			return
		}
		m.State = lsTerminatingProceed
		return
	}
	if res == "ABANDON" {
		m.Health, m.UnhealthyCause = "Unhealthy", "a lifecycle action being abandoned"
		m.State = lsInService // replaced by health()
		p.finish(m, "Cancelled", "Instance failed to complete user's Lifecycle Action: Lifecycle Action with token "+m.HookToken+" was abandoned.")
		return
	}
	if p.nextHook(m, transition) {
		return
	}
	m.State = lsPendingProceed
	p.register(m)
	m.State = lsInService
	m.InServiceAt = p.now
	p.finish(m, "Successful", "")
}
