package autoscaling

import (
	"slices"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

// Traffic sources: target groups (elbv2), classic load balancers (elb) and
// other types, which are stored only (vpc-lattice).

func trafficSources(g *group) []trafficSource {
	var out []trafficSource
	for _, tg := range g.TargetGroups {
		out = append(out, trafficSource{Identifier: tg, Type: "elbv2"})
	}
	for _, lb := range g.LoadBalancers {
		out = append(out, trafficSource{Identifier: lb, Type: "elb"})
	}
	return append(out, g.OtherSources...)
}

func sourceType(id, typ string) string {
	if typ != "" {
		return typ
	}
	if strings.HasPrefix(id, "arn:") && strings.Contains(id, ":targetgroup/") {
		return "elbv2"
	}
	if strings.HasPrefix(id, "arn:") {
		return "vpc-lattice"
	}
	return "elb"
}

func (s *Service) addTrafficSources(rg *region, g *group, srcs []map[string]any) error {
	var tgs, lbs []string
	var other []trafficSource
	for _, src := range srcs {
		id := service.Str(src, "Identifier")
		if id == "" {
			return missing("Identifier")
		}
		switch t := sourceType(id, service.Str(src, "Type")); t {
		case "elbv2":
			tgs = append(tgs, id)
		case "elb":
			lbs = append(lbs, id)
		case "vpc-lattice":
			other = append(other, trafficSource{Identifier: id, Type: t})
		default:
			return validation("Traffic source type %s is not supported.", t)
		}
	}
	if err := s.checkTargetGroups(rg, tgs); err != nil {
		return err
	}
	if err := s.checkLoadBalancers(rg, lbs); err != nil {
		return err
	}
	g.TargetGroups = dedupe(append(g.TargetGroups, tgs...))
	g.LoadBalancers = dedupe(append(g.LoadBalancers, lbs...))
	for _, o := range other {
		if !slices.Contains(g.OtherSources, o) {
			g.OtherSources = append(g.OtherSources, o)
		}
	}
	return nil
}

// attachSources attaches sources to a group and registers its in-service
// instances with the new ones.
func (s *Service) attachSources(r *service.Request, srcs []map[string]any) (map[string]any, error) {
	name := service.Str(r.Input, "AutoScalingGroupName")
	if name == "" {
		return nil, missing("AutoScalingGroupName")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	g := rg.groups[name]
	if g == nil || g.Deleting {
		return nil, groupNotFound(name)
	}
	c := cloneGroup(g)
	if err := s.addTrafficSources(rg, c, srcs); err != nil {
		return nil, err
	}
	if err := s.commit(groupW(c)); err != nil {
		return nil, err
	}
	newTGs := slices.DeleteFunc(slices.Clone(c.TargetGroups), func(t string) bool { return slices.Contains(g.TargetGroups, t) })
	newLBs := slices.DeleteFunc(slices.Clone(c.LoadBalancers), func(t string) bool { return slices.Contains(g.LoadBalancers, t) })
	rg.groups[name] = c
	var ids []string
	for _, m := range c.Members {
		if m.State == lsInService && m.Registered {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) > 0 && s.o.LoadBalancing != nil {
		for _, tg := range newTGs {
			if err := s.o.LoadBalancing.RegisterTargets(rg.account, rg.name, tg, ids); err != nil {
				s.log.Warn("autoscaling: register targets", "group", name, "tg", tg, "err", err)
			}
		}
		for _, lb := range newLBs {
			if err := s.o.LoadBalancing.RegisterInstances(rg.account, rg.name, lb, ids); err != nil {
				s.log.Warn("autoscaling: register instances", "group", name, "lb", lb, "err", err)
			}
		}
	}
	return map[string]any{}, nil
}

// detachSources detaches sources and deregisters the group's instances.
func (s *Service) detachSources(r *service.Request, srcs []map[string]any) (map[string]any, error) {
	name := service.Str(r.Input, "AutoScalingGroupName")
	if name == "" {
		return nil, missing("AutoScalingGroupName")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	g := rg.groups[name]
	if g == nil || g.Deleting {
		return nil, groupNotFound(name)
	}
	c := cloneGroup(g)
	var tgs, lbs []string
	for _, src := range srcs {
		id := service.Str(src, "Identifier")
		switch sourceType(id, service.Str(src, "Type")) {
		case "elbv2":
			if slices.Contains(c.TargetGroups, id) {
				tgs = append(tgs, id)
			}
			c.TargetGroups = slices.DeleteFunc(c.TargetGroups, func(t string) bool { return t == id })
		case "elb":
			if slices.Contains(c.LoadBalancers, id) {
				lbs = append(lbs, id)
			}
			c.LoadBalancers = slices.DeleteFunc(c.LoadBalancers, func(t string) bool { return t == id })
		default:
			c.OtherSources = slices.DeleteFunc(c.OtherSources, func(t trafficSource) bool { return t.Identifier == id })
		}
	}
	if err := s.commit(groupW(c)); err != nil {
		return nil, err
	}
	rg.groups[name] = c
	var ids []string
	for _, m := range c.Members {
		if m.Registered && !m.Deregistered {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) > 0 && s.o.LoadBalancing != nil {
		for _, tg := range tgs {
			s.o.LoadBalancing.DeregisterTargets(rg.account, rg.name, tg, ids)
		}
		for _, lb := range lbs {
			s.o.LoadBalancing.DeregisterInstances(rg.account, rg.name, lb, ids)
		}
	}
	return map[string]any{}, nil
}

func (s *Service) attachTargetGroups(r *service.Request) (map[string]any, error) {
	if !has(r.Input, "TargetGroupARNs") {
		return nil, missing("TargetGroupARNs")
	}
	return s.attachSources(r, idSources(service.Strings(r.Input, "TargetGroupARNs"), "elbv2"))
}

func (s *Service) detachTargetGroups(r *service.Request) (map[string]any, error) {
	if !has(r.Input, "TargetGroupARNs") {
		return nil, missing("TargetGroupARNs")
	}
	return s.detachSources(r, idSources(service.Strings(r.Input, "TargetGroupARNs"), "elbv2"))
}

func (s *Service) attachLoadBalancers(r *service.Request) (map[string]any, error) {
	if !has(r.Input, "LoadBalancerNames") {
		return nil, missing("LoadBalancerNames")
	}
	return s.attachSources(r, idSources(service.Strings(r.Input, "LoadBalancerNames"), "elb"))
}

func (s *Service) detachLoadBalancers(r *service.Request) (map[string]any, error) {
	if !has(r.Input, "LoadBalancerNames") {
		return nil, missing("LoadBalancerNames")
	}
	return s.detachSources(r, idSources(service.Strings(r.Input, "LoadBalancerNames"), "elb"))
}

func (s *Service) attachTrafficSources(r *service.Request) (map[string]any, error) {
	if !has(r.Input, "TrafficSources") {
		return nil, missing("TrafficSources")
	}
	return s.attachSources(r, objs(r.Input, "TrafficSources"))
}

func (s *Service) detachTrafficSources(r *service.Request) (map[string]any, error) {
	if !has(r.Input, "TrafficSources") {
		return nil, missing("TrafficSources")
	}
	return s.detachSources(r, objs(r.Input, "TrafficSources"))
}

func idSources(ids []string, typ string) []map[string]any {
	out := make([]map[string]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"Identifier": id, "Type": typ}
	}
	return out
}

func (s *Service) groupFor(r *service.Request) (*group, error) {
	name := service.Str(r.Input, "AutoScalingGroupName")
	if name == "" {
		return nil, missing("AutoScalingGroupName")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.regionOf(r.Account, r.Region).groups[name]
	if g == nil {
		return nil, groupNotFound(name)
	}
	return g, nil
}

func (s *Service) describeTargetGroups(r *service.Request) (map[string]any, error) {
	g, err := s.groupFor(r)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, tg := range g.TargetGroups {
		out = append(out, map[string]any{"LoadBalancerTargetGroupARN": tg, "State": "InService"})
	}
	return map[string]any{"LoadBalancerTargetGroups": out}, nil
}

func (s *Service) describeLoadBalancers(r *service.Request) (map[string]any, error) {
	g, err := s.groupFor(r)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, lb := range g.LoadBalancers {
		out = append(out, map[string]any{"LoadBalancerName": lb, "State": "InService"})
	}
	return map[string]any{"LoadBalancers": out}, nil
}

func (s *Service) describeTrafficSources(r *service.Request) (map[string]any, error) {
	g, err := s.groupFor(r)
	if err != nil {
		return nil, err
	}
	typ := service.Str(r.Input, "TrafficSourceType")
	out := []any{}
	for _, src := range trafficSources(g) {
		if typ != "" && src.Type != typ {
			continue
		}
		out = append(out, map[string]any{"TrafficSource": src.Identifier, "Identifier": src.Identifier, "Type": src.Type, "State": "InService"})
	}
	return map[string]any{"TrafficSources": out}, nil
}
