package autoscaling

import (
	"fmt"
	"slices"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

var validTerminationPolicies = []string{"Default", "OldestInstance", "NewestInstance", "OldestLaunchConfiguration",
	"OldestLaunchTemplate", "ClosestToNextInstanceHour", "AllocationStrategy"}

var validHealthCheckTypes = []string{"EC2", "ELB", "VPC_LATTICE", "EBS"}

const maxGroupsPerRegion = 500

func (s *Service) createGroup(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := service.Str(in, "AutoScalingGroupName")
	if name == "" {
		return nil, missing("AutoScalingGroupName")
	}
	if len(name) > 255 {
		return nil, validation("1 validation error detected: Value '%s' at 'autoScalingGroupName' failed to satisfy constraint: Member must have length less than or equal to 255", name)
	}
	minv, okMin := service.Int(in, "MinSize")
	if !okMin {
		return nil, missing("MinSize")
	}
	maxv, okMax := service.Int(in, "MaxSize")
	if !okMax {
		return nil, missing("MaxSize")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	if rg.groups[name] != nil {
		return nil, apiErr(codeAlreadyExists, "AutoScalingGroup by this name already exists - A group with the name %s already exists", name)
	}
	if len(rg.groups) >= maxGroupsPerRegion {
		return nil, apiErr(codeLimitExceeded, "You have reached your limit of %d Auto Scaling groups.", maxGroupsPerRegion)
	}
	now := s.clk.Now()
	g := &group{Account: r.Account, Region: r.Region, Name: name, ARN: groupARN(r.Account, r.Region, name),
		Min: int(minv), Max: int(maxv), DefaultCooldown: 300, HealthCheckType: "EC2", Created: now}
	sources := 0
	for _, k := range []string{"LaunchConfigurationName", "LaunchTemplate", "MixedInstancesPolicy", "InstanceId"} {
		if has(in, k) {
			sources++
		}
	}
	if sources != 1 {
		return nil, validation("Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.")
	}
	if id := service.Str(in, "InstanceId"); id != "" {
		if err := s.sourceFromInstance(rg, g, id); err != nil {
			return nil, err
		}
	}
	if err := s.applyLaunchSource(rg, g, in); err != nil {
		return nil, err
	}
	if err := s.applyPlacement(rg, g, in, true); err != nil {
		return nil, err
	}
	if err := s.applyOptions(rg, g, in); err != nil {
		return nil, err
	}
	desired := g.Min
	if d, ok := service.Int(in, "DesiredCapacity"); ok {
		desired = int(d)
	}
	if err := checkSizes(g.Min, g.Max, desired); err != nil {
		return nil, err
	}
	for _, t := range objs(in, "Tags") {
		if err := addTag(g, t); err != nil {
			return nil, err
		}
	}
	var hooks []*hook
	for _, spec := range objs(in, "LifecycleHookSpecificationList") {
		h, err := hookFrom(name, spec)
		if err != nil {
			return nil, err
		}
		hooks = append(hooks, h)
	}
	s.changeDesired(g, desired, "a user request created an AutoScalingGroup")
	ws := []write{groupW(g)}
	for _, h := range hooks {
		ws = append(ws, putW(g.Account, g.Region, h, kindHook, h.Group, h.Name))
	}
	if err := s.commit(ws...); err != nil {
		return nil, err
	}
	rg.groups[name] = g
	delete(rg.deletedGroups, name)
	for _, h := range hooks {
		rg.hooks[subKey(h.Group, h.Name)] = h
	}
	s.kick()
	return map[string]any{}, nil
}

func checkSizes(minv, maxv, desired int) error {
	if minv < 0 {
		return validation("1 validation error detected: Value '%d' at 'minSize' failed to satisfy constraint: Member must have value greater than or equal to 0", minv)
	}
	if maxv < minv {
		return validation("Max bound, %d, must be greater than or equal to min bound, %d", maxv, minv)
	}
	if desired < minv || desired > maxv {
		return validation("Desired capacity:%d must be between the specified min size:%d and max size:%d", desired, minv, maxv)
	}
	return nil
}

// changeDesired sets the desired capacity and records why; s.mu is held.
func (s *Service) changeDesired(g *group, desired int, reason string) {
	if desired == g.Desired {
		return
	}
	g.Cause = fmt.Sprintf("At %s %s changing the desired capacity from %d to %d.", awsTime(s.clk.Now()), reason, g.Desired, desired)
	g.Desired = desired
}

// parseLT reads a LaunchTemplateSpecification and checks the template.
func (s *Service) parseLT(rg *region, m map[string]any) (*ltSpec, error) {
	lt := &ltSpec{ID: service.Str(m, "LaunchTemplateId"), Name: service.Str(m, "LaunchTemplateName"), Version: service.Str(m, "Version")}
	if (lt.ID == "") == (lt.Name == "") {
		return nil, validation("Valid requests must contain either launchTemplateId or LaunchTemplateName.")
	}
	if v := lt.Version; v != "" && v != "$Default" && v != "$Latest" {
		for _, c := range v {
			if c < '0' || c > '9' {
				return nil, validation("The specified launch template version '%s' is not valid.", v)
			}
		}
	}
	if s.o.Compute != nil {
		t, ok := s.o.Compute.LaunchTemplate(rg.account, rg.name, lt.ID, lt.Name)
		if !ok {
			if lt.ID != "" {
				return nil, validation("You must use a valid fully-formed launch template. The specified launch template, with template ID %s, does not exist.", lt.ID)
			}
			return nil, validation("You must use a valid fully-formed launch template. The specified launch template, with template name %s, does not exist.", lt.Name)
		}
		lt.ID, lt.Name = t.ID, t.Name
	}
	return lt, nil
}

// applyLaunchSource sets the group's launch template, launch configuration
// or mixed instances policy from in (whichever is present).
func (s *Service) applyLaunchSource(rg *region, g *group, in map[string]any) error {
	switch {
	case has(in, "LaunchConfigurationName"):
		n := service.Str(in, "LaunchConfigurationName")
		if rg.lcs[n] == nil {
			return validation("Launch configuration name not found - Launch configuration %s not found", n)
		}
		g.LCName, g.LT, g.Mixed = n, nil, nil
	case has(in, "LaunchTemplate"):
		lt, err := s.parseLT(rg, obj(in, "LaunchTemplate"))
		if err != nil {
			return err
		}
		g.LCName, g.LT, g.Mixed = "", lt, nil
	case has(in, "MixedInstancesPolicy"):
		mp := obj(in, "MixedInstancesPolicy")
		ltm := obj(mp, "LaunchTemplate")
		if ltm == nil || obj(ltm, "LaunchTemplateSpecification") == nil {
			return validation("The request must contain the parameter MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification")
		}
		lt, err := s.parseLT(rg, obj(ltm, "LaunchTemplateSpecification"))
		if err != nil {
			return err
		}
		m := &mixedPolicy{LaunchTemplate: *lt}
		for _, o := range objs(ltm, "Overrides") {
			ov := override{InstanceType: service.Str(o, "InstanceType"), WeightedCapacity: service.Str(o, "WeightedCapacity")}
			if l := obj(o, "LaunchTemplateSpecification"); l != nil {
				olt, err := s.parseLT(rg, l)
				if err != nil {
					return err
				}
				ov.LaunchTemplate = olt
			}
			m.Overrides = append(m.Overrides, ov)
		}
		if d := obj(mp, "InstancesDistribution"); d != nil {
			dist := &distribution{OnDemandAllocationStrategy: service.Str(d, "OnDemandAllocationStrategy"),
				OnDemandBaseCapacity: intp(d, "OnDemandBaseCapacity"), OnDemandPercentageAboveBaseCapacity: intp(d, "OnDemandPercentageAboveBaseCapacity"),
				SpotAllocationStrategy: service.Str(d, "SpotAllocationStrategy"), SpotInstancePools: intp(d, "SpotInstancePools")}
			if has(d, "SpotMaxPrice") {
				v := service.Str(d, "SpotMaxPrice")
				dist.SpotMaxPrice = &v
			}
			m.Distribution = dist
		}
		g.LCName, g.LT, g.Mixed = "", nil, m
	}
	return nil
}

// sourceFromInstance gives a group created from an instance a launch
// configuration (or the instance's launch template), as AWS does.
func (s *Service) sourceFromInstance(rg *region, g *group, id string) error {
	if s.o.Compute == nil {
		return validation("Instance Id not found - No instance found for instance ID: %s", id)
	}
	in, ok := s.o.Compute.Describe(rg.account, rg.name, id)
	if !ok || in.State == "terminated" {
		return validation("Invalid instance id %s", id)
	}
	if in.LaunchTemplateID != "" {
		g.LT = &ltSpec{ID: in.LaunchTemplateID, Version: in.LaunchTemplateVersion}
		if t, ok := s.o.Compute.LaunchTemplate(rg.account, rg.name, in.LaunchTemplateID, ""); ok {
			g.LT.Name = t.Name
		}
	} else {
		lc := &launchConfig{Name: g.Name, ImageID: in.ImageID, InstanceType: in.InstanceType, Created: s.clk.Now()}
		lc.ARN = lcARN(rg, lc.Name)
		rg.lcs[lc.Name] = lc
		if err := s.commit(putW(rg.account, rg.name, lc, kindLC, lc.Name)); err != nil {
			return err
		}
		g.LCName = lc.Name
	}
	if len(g.Subnets) == 0 && in.SubnetID != "" {
		g.Subnets = []string{in.SubnetID}
		g.SubnetAZ = map[string]string{in.SubnetID: in.AvailabilityZone}
		g.AZs = []string{in.AvailabilityZone}
	}
	return nil
}

// applyPlacement sets subnets and zones from in; create requires one.
func (s *Service) applyPlacement(rg *region, g *group, in map[string]any, create bool) error {
	vpcZones := strings.TrimSpace(service.Str(in, "VPCZoneIdentifier"))
	azs := service.Strings(in, "AvailabilityZones")
	if !has(in, "VPCZoneIdentifier") && len(azs) == 0 {
		if create && len(g.AZs) == 0 {
			return validation("At least one Availability Zone or VPC Subnet is required.")
		}
		return nil
	}
	var subnets []Subnet
	if s.o.Compute != nil {
		var err error
		if subnets, err = s.o.Compute.Subnets(rg.account, rg.name); err != nil {
			return err
		}
	}
	zoneOf := map[string]string{}
	zones := map[string]bool{}
	for _, sn := range subnets {
		zoneOf[sn.ID] = sn.AvailabilityZone
		zones[sn.AvailabilityZone] = true
	}
	if vpcZones != "" {
		var ids []string
		subnetAZ := map[string]string{}
		var gaz []string
		for _, id := range strings.Split(vpcZones, ",") {
			id = strings.TrimSpace(id)
			if id == "" || slices.Contains(ids, id) {
				continue
			}
			az, ok := zoneOf[id]
			if !ok {
				return validation("The subnet ID '%s' does not exist", id)
			}
			ids = append(ids, id)
			subnetAZ[id] = az
			if !slices.Contains(gaz, az) {
				gaz = append(gaz, az)
			}
		}
		slices.Sort(gaz)
		g.Subnets, g.SubnetAZ, g.AZs = ids, subnetAZ, gaz
		return nil
	}
	var gaz []string
	for _, az := range azs {
		if len(zones) > 0 && !zones[az] {
			return validation("Invalid Availability Zone: [%s]", az)
		}
		if !slices.Contains(gaz, az) {
			gaz = append(gaz, az)
		}
	}
	slices.Sort(gaz)
	g.AZs, g.Subnets, g.SubnetAZ = gaz, nil, nil
	return nil
}

// applyOptions sets the options create and update share.
func (s *Service) applyOptions(rg *region, g *group, in map[string]any) error {
	if n, ok := service.Int(in, "DefaultCooldown"); ok {
		if n < 0 {
			return validation("DefaultCooldown must be greater than or equal to 0")
		}
		g.DefaultCooldown = int(n)
	}
	if t, ok := in["HealthCheckType"].(string); ok {
		if !slices.Contains(validHealthCheckTypes, t) {
			return validation("Health check type '%s' is invalid. Valid values are EC2, ELB, VPC_LATTICE and EBS.", t)
		}
		g.HealthCheckType = t
	}
	if n, ok := service.Int(in, "HealthCheckGracePeriod"); ok {
		if n < 0 {
			return validation("HealthCheckGracePeriod must be greater than or equal to 0")
		}
		g.GracePeriod = int(n)
	}
	if has(in, "TerminationPolicies") {
		tps := service.Strings(in, "TerminationPolicies")
		for _, tp := range tps {
			if !slices.Contains(validTerminationPolicies, tp) && !strings.HasPrefix(tp, "arn:") {
				return validation("Termination policy '%s' is not valid", tp)
			}
		}
		g.TerminationPolicies = tps
	}
	if b := boolp(in, "NewInstancesProtectedFromScaleIn"); b != nil {
		g.Protect = *b
	}
	if has(in, "TargetGroupARNs") {
		tgs := service.Strings(in, "TargetGroupARNs")
		if err := s.checkTargetGroups(rg, tgs); err != nil {
			return err
		}
		g.TargetGroups = dedupe(tgs)
	}
	if has(in, "LoadBalancerNames") {
		lbs := service.Strings(in, "LoadBalancerNames")
		if err := s.checkLoadBalancers(rg, lbs); err != nil {
			return err
		}
		g.LoadBalancers = dedupe(lbs)
	}
	if has(in, "TrafficSources") {
		if err := s.addTrafficSources(rg, g, objs(in, "TrafficSources")); err != nil {
			return err
		}
	}
	if n, ok := service.Int(in, "MaxInstanceLifetime"); ok {
		if n != 0 && (n < 86400 || n > 31536000) {
			return validation("Maximum instance lifetime must be between 86400 and 31536000 seconds, or 0 to clear.")
		}
		g.MaxLifetime = n
	}
	if b := boolp(in, "CapacityRebalance"); b != nil {
		g.CapacityRebalance = *b
	}
	if n, ok := service.Int(in, "DefaultInstanceWarmup"); ok {
		g.DefaultWarmup = n
	}
	if v, ok := in["DeletionProtection"].(string); ok {
		g.DeletionProtection = v
	}
	if v, ok := in["PlacementGroup"].(string); ok {
		g.PlacementGroup = v
	}
	if v, ok := in["ServiceLinkedRoleARN"].(string); ok {
		g.ServiceLinkedRole = v
	}
	if v, ok := in["Context"].(string); ok {
		g.Context = v
	}
	if v, ok := in["DesiredCapacityType"].(string); ok {
		if v != "units" && v != "vcpu" && v != "memory-mib" {
			return validation("DesiredCapacityType must be one of units, vcpu or memory-mib")
		}
		g.DesiredType = v
	}
	return nil
}

func dedupe(l []string) []string {
	var out []string
	for _, v := range l {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (s *Service) checkTargetGroups(rg *region, tgs []string) error {
	for _, arn := range tgs {
		if s.o.LoadBalancing == nil || !s.o.LoadBalancing.TargetGroupExists(rg.account, rg.name, arn) {
			return validation("Provided Target Groups may not be valid. Please ensure they exist and try again.")
		}
	}
	return nil
}

func (s *Service) checkLoadBalancers(rg *region, lbs []string) error {
	for _, n := range lbs {
		if s.o.LoadBalancing == nil || !s.o.LoadBalancing.LoadBalancerExists(rg.account, rg.name, n) {
			return validation("Provided Load Balancers may not be valid. Please ensure they exist and try again.")
		}
	}
	return nil
}

func addTag(g *group, t map[string]any) error {
	k := service.Str(t, "Key")
	if k == "" {
		return missing("Key")
	}
	if strings.HasPrefix(k, "aws:") {
		return validation("Tag keys starting with 'aws:' are reserved for internal use")
	}
	if rt := service.Str(t, "ResourceType"); rt != "" && rt != "auto-scaling-group" {
		return validation("Invalid resource type: %s", rt)
	}
	nt := groupTag{Key: k, Value: service.Str(t, "Value"), Propagate: service.Bool(t, "PropagateAtLaunch")}
	for i := range g.Tags {
		if g.Tags[i].Key == k {
			g.Tags[i] = nt
			return nil
		}
	}
	if len(g.Tags) >= 50 {
		return apiErr(codeLimitExceeded, "The number of tags for the Auto Scaling group %s exceeds the limit of 50.", g.Name)
	}
	g.Tags = append(g.Tags, nt)
	slices.SortFunc(g.Tags, func(a, b groupTag) int { return strings.Compare(a.Key, b.Key) })
	return nil
}

func (s *Service) updateGroup(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := service.Str(in, "AutoScalingGroupName")
	if name == "" {
		return nil, missing("AutoScalingGroupName")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	old := rg.groups[name]
	if old == nil || old.Deleting {
		return nil, groupNotFound(name)
	}
	g := cloneGroup(old)
	n := 0
	for _, k := range []string{"LaunchConfigurationName", "LaunchTemplate", "MixedInstancesPolicy"} {
		if has(in, k) {
			n++
		}
	}
	if n > 1 {
		return nil, validation("Valid requests must contain either LaunchTemplate, LaunchConfigurationName or MixedInstancesPolicy parameter.")
	}
	if err := s.applyLaunchSource(rg, g, in); err != nil {
		return nil, err
	}
	if err := s.applyPlacement(rg, g, in, false); err != nil {
		return nil, err
	}
	if err := s.applyOptions(rg, g, in); err != nil {
		return nil, err
	}
	if v, ok := service.Int(in, "MinSize"); ok {
		g.Min = int(v)
	}
	if v, ok := service.Int(in, "MaxSize"); ok {
		g.Max = int(v)
	}
	desired := g.Desired
	if v, ok := service.Int(in, "DesiredCapacity"); ok {
		desired = int(v)
	} else {
		// A new min or max moves the desired capacity inside the bounds.
		desired = max(min(desired, g.Max), g.Min)
	}
	if err := checkSizes(g.Min, g.Max, desired); err != nil {
		return nil, err
	}
	s.changeDesired(g, desired, fmt.Sprintf("a user request update of AutoScalingGroup constraints to min: %d, max: %d, desired: %d", g.Min, g.Max, desired))
	if err := s.commit(groupW(g)); err != nil {
		return nil, err
	}
	rg.groups[name] = g
	s.kick()
	return map[string]any{}, nil
}

func cloneGroup(g *group) *group {
	c := *g
	c.AZs = slices.Clone(g.AZs)
	c.Subnets = slices.Clone(g.Subnets)
	if g.SubnetAZ != nil {
		c.SubnetAZ = make(map[string]string, len(g.SubnetAZ))
		for k, v := range g.SubnetAZ {
			c.SubnetAZ[k] = v
		}
	}
	c.TargetGroups = slices.Clone(g.TargetGroups)
	c.LoadBalancers = slices.Clone(g.LoadBalancers)
	c.OtherSources = slices.Clone(g.OtherSources)
	c.TerminationPolicies = slices.Clone(g.TerminationPolicies)
	c.Tags = slices.Clone(g.Tags)
	c.Members = make([]*member, len(g.Members))
	for i, m := range g.Members {
		mc := *m
		c.Members[i] = &mc
	}
	return &c
}

func (s *Service) deleteGroup(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := service.Str(in, "AutoScalingGroupName")
	if name == "" {
		return nil, missing("AutoScalingGroupName")
	}
	force := service.Bool(in, "ForceDelete")
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	g := rg.groups[name]
	if g == nil {
		return nil, groupNotFound(name)
	}
	if g.DeletionProtection == "prevent-all-deletion" || (g.DeletionProtection == "prevent-force-deletion" && force) {
		return nil, validation("Deletion protection is enabled for the Auto Scaling group %s.", name)
	}
	live := 0
	for _, m := range g.Members {
		if m.State != lsTerminated {
			live++
		}
	}
	if live > 0 && !force {
		if g.Deleting {
			return nil, apiErr(codeScalingInProgress, "An AutoScalingGroup with activities in progress cannot be deleted.")
		}
		return nil, apiErr(codeResourceInUse, "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.")
	}
	ws, alarms := s.dropGroupResources(rg, name)
	if live == 0 {
		ws = append(ws, delW(g.Account, g.Region, kindGroup, name))
		if err := s.commit(ws...); err != nil {
			return nil, err
		}
		delete(rg.groups, name)
		rg.deletedGroups[name] = g.ARN
	} else {
		c := cloneGroup(g)
		c.Deleting, c.Min, c.Max = true, 0, 0
		s.changeDesired(c, 0, "a user request update of AutoScalingGroup constraints to min: 0, max: 0, desired: 0")
		ws = append(ws, groupW(c))
		if err := s.commit(ws...); err != nil {
			return nil, err
		}
		rg.groups[name] = c
	}
	s.forgetGroupResources(rg, name)
	s.deleteAlarms(rg.account, rg.name, alarms)
	s.kick()
	return map[string]any{}, nil
}

// dropGroupResources returns the deletes of a group's policies, scheduled
// actions and hooks, and the alarms its policies own; s.mu is held.
func (s *Service) dropGroupResources(rg *region, name string) ([]write, []string) {
	var ws []write
	var alarms []string
	for _, p := range rg.policies {
		if p.Group == name {
			ws = append(ws, delW(rg.account, rg.name, kindPolicy, p.Group, p.Name))
			if p.TT != nil {
				for _, a := range p.Alarms {
					alarms = append(alarms, a.Name)
				}
			}
		}
	}
	for _, a := range rg.scheduled {
		if a.Group == name {
			ws = append(ws, delW(rg.account, rg.name, kindScheduled, a.Group, a.Name))
		}
	}
	for _, h := range rg.hooks {
		if h.Group == name {
			ws = append(ws, delW(rg.account, rg.name, kindHook, h.Group, h.Name))
		}
	}
	return ws, alarms
}

func (s *Service) forgetGroupResources(rg *region, name string) {
	for k, p := range rg.policies {
		if p.Group == name {
			delete(rg.policies, k)
		}
	}
	for k, a := range rg.scheduled {
		if a.Group == name {
			delete(rg.scheduled, k)
		}
	}
	for k, h := range rg.hooks {
		if h.Group == name {
			delete(rg.hooks, k)
		}
	}
}

func (s *Service) describeGroups(r *service.Request) (map[string]any, error) {
	in := r.Input
	if err := checkMaxRecords(in, 100); err != nil {
		return nil, err
	}
	names := service.Strings(in, "AutoScalingGroupNames")
	filters := objs(in, "Filters")
	includeInstances := true
	if b := boolp(in, "IncludeInstances"); b != nil {
		includeInstances = *b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	var keys []string
	for n, g := range rg.groups {
		if len(names) > 0 && !slices.Contains(names, n) {
			continue
		}
		if !matchFilters(g, filters) {
			continue
		}
		keys = append(keys, n)
	}
	pageKeys, next, err := page(keys, service.Str(in, "NextToken"), intOr(in, "MaxRecords"), 50)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(pageKeys))
	for _, n := range pageKeys {
		out = append(out, groupOut(rg, rg.groups[n], includeInstances))
	}
	res := map[string]any{"AutoScalingGroups": out}
	if next != "" {
		res["NextToken"] = next
	}
	return res, nil
}

func intOr(in map[string]any, k string) int64 {
	n, _ := service.Int(in, k)
	return n
}

func matchFilters(g *group, filters []map[string]any) bool {
	for _, f := range filters {
		name := service.Str(f, "Name")
		vals := service.Strings(f, "Values")
		ok := false
		for _, t := range g.Tags {
			switch {
			case name == "tag-key":
				ok = ok || slices.Contains(vals, t.Key)
			case name == "tag-value":
				ok = ok || slices.Contains(vals, t.Value)
			case strings.HasPrefix(name, "tag:"):
				ok = ok || (t.Key == name[4:] && slices.Contains(vals, t.Value))
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func ltOut(lt *ltSpec) map[string]any {
	m := map[string]any{}
	if lt.ID != "" {
		m["LaunchTemplateId"] = lt.ID
	}
	if lt.Name != "" {
		m["LaunchTemplateName"] = lt.Name
	}
	if lt.Version != "" {
		m["Version"] = lt.Version
	} else {
		m["Version"] = "$Default"
	}
	return m
}

func memberOut(m *member) map[string]any {
	o := map[string]any{"InstanceId": m.ID, "AvailabilityZone": m.AZ, "LifecycleState": m.State,
		"HealthStatus": m.Health, "ProtectedFromScaleIn": m.Protected}
	if m.InstanceType != "" {
		o["InstanceType"] = m.InstanceType
	}
	if m.LT != nil {
		o["LaunchTemplate"] = ltOut(m.LT)
	}
	if m.LCName != "" {
		o["LaunchConfigurationName"] = m.LCName
	}
	return o
}

func groupOut(rg *region, g *group, includeInstances bool) map[string]any {
	o := map[string]any{
		"AutoScalingGroupName": g.Name, "AutoScalingGroupARN": g.ARN,
		"MinSize": int64(g.Min), "MaxSize": int64(g.Max), "DesiredCapacity": int64(g.Desired),
		"DefaultCooldown": int64(g.DefaultCooldown), "AvailabilityZones": strList(g.AZs),
		"LoadBalancerNames": strList(g.LoadBalancers), "TargetGroupARNs": strList(g.TargetGroups),
		"HealthCheckType": g.HealthCheckType, "HealthCheckGracePeriod": int64(g.GracePeriod),
		"CreatedTime": g.Created, "SuspendedProcesses": []any{}, "EnabledMetrics": []any{},
		"VPCZoneIdentifier":                strings.Join(g.Subnets, ","),
		"NewInstancesProtectedFromScaleIn": g.Protect, "CapacityRebalance": g.CapacityRebalance,
		"ServiceLinkedRoleARN": slrARN(g),
	}
	tps := g.TerminationPolicies
	if len(tps) == 0 {
		tps = []string{"Default"}
	}
	o["TerminationPolicies"] = strList(tps)
	if g.LCName != "" {
		o["LaunchConfigurationName"] = g.LCName
	}
	if g.LT != nil {
		o["LaunchTemplate"] = ltOut(g.LT)
	}
	if g.Mixed != nil {
		o["MixedInstancesPolicy"] = mixedOut(g.Mixed)
	}
	if g.Deleting {
		o["Status"] = "Delete in progress"
	}
	if g.MaxLifetime > 0 {
		o["MaxInstanceLifetime"] = g.MaxLifetime
	}
	if g.DefaultWarmup > 0 {
		o["DefaultInstanceWarmup"] = g.DefaultWarmup
	}
	if g.PlacementGroup != "" {
		o["PlacementGroup"] = g.PlacementGroup
	}
	if g.Context != "" {
		o["Context"] = g.Context
	}
	if g.DesiredType != "" {
		o["DesiredCapacityType"] = g.DesiredType
	}
	if g.DeletionProtection != "" {
		o["DeletionProtection"] = g.DeletionProtection
	}
	tags := make([]any, 0, len(g.Tags))
	for _, t := range g.Tags {
		tags = append(tags, tagOut(g.Name, t))
	}
	o["Tags"] = tags
	ts := make([]any, 0)
	for _, src := range trafficSources(g) {
		ts = append(ts, map[string]any{"Identifier": src.Identifier, "Type": src.Type})
	}
	o["TrafficSources"] = ts
	if includeInstances {
		insts := make([]any, 0, len(g.Members))
		for _, m := range g.Members {
			if m.State == lsTerminated {
				continue
			}
			insts = append(insts, memberOut(m))
		}
		o["Instances"] = insts
	}
	return o
}

func slrARN(g *group) string {
	if g.ServiceLinkedRole != "" {
		return g.ServiceLinkedRole
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling", service.Partition(g.Region), g.Account)
}

func tagOut(groupName string, t groupTag) map[string]any {
	return map[string]any{"ResourceId": groupName, "ResourceType": "auto-scaling-group", "Key": t.Key, "Value": t.Value, "PropagateAtLaunch": t.Propagate}
}

func mixedOut(m *mixedPolicy) map[string]any {
	lt := map[string]any{"LaunchTemplateSpecification": ltOut(&m.LaunchTemplate)}
	ovs := make([]any, 0, len(m.Overrides))
	for _, ov := range m.Overrides {
		o := map[string]any{}
		if ov.InstanceType != "" {
			o["InstanceType"] = ov.InstanceType
		}
		if ov.WeightedCapacity != "" {
			o["WeightedCapacity"] = ov.WeightedCapacity
		}
		if ov.LaunchTemplate != nil {
			o["LaunchTemplateSpecification"] = ltOut(ov.LaunchTemplate)
		}
		ovs = append(ovs, o)
	}
	lt["Overrides"] = ovs
	out := map[string]any{"LaunchTemplate": lt}
	d := m.Distribution
	if d == nil {
		d = &distribution{}
	}
	dist := map[string]any{"OnDemandAllocationStrategy": or(d.OnDemandAllocationStrategy, "prioritized"),
		"OnDemandBaseCapacity": or64(d.OnDemandBaseCapacity, 0), "OnDemandPercentageAboveBaseCapacity": or64(d.OnDemandPercentageAboveBaseCapacity, 100),
		"SpotAllocationStrategy": or(d.SpotAllocationStrategy, "lowest-price"), "SpotInstancePools": or64(d.SpotInstancePools, 2)}
	if d.SpotMaxPrice != nil {
		dist["SpotMaxPrice"] = *d.SpotMaxPrice
	}
	out["InstancesDistribution"] = dist
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func or64(p *int64, def int64) int64 {
	if p == nil {
		return def
	}
	return *p
}

func strList(l []string) []any {
	out := make([]any, len(l))
	for i, v := range l {
		out[i] = v
	}
	return out
}
