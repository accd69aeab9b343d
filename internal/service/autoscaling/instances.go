package autoscaling

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

// findMember finds a live instance in any group of rg; s.mu is held.
func findMember(rg *region, id string) (*group, *member) {
	for _, g := range rg.groups {
		for _, m := range g.Members {
			if m.ID == id && m.State != lsTerminated {
				return g, m
			}
		}
	}
	return nil, nil
}

// capacity counts the members that make up a group's capacity.
func capacity(g *group) int {
	n := 0
	for _, m := range g.Members {
		if counts(m) {
			n++
		}
	}
	return n
}

func counts(m *member) bool {
	switch m.State {
	case lsPending, lsPendingWait, lsPendingProceed, lsInService:
		return true
	}
	return false
}

func (s *Service) setDesiredCapacity(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := service.Str(in, "AutoScalingGroupName")
	if name == "" {
		return nil, missing("AutoScalingGroupName")
	}
	d, ok := service.Int(in, "DesiredCapacity")
	if !ok {
		return nil, missing("DesiredCapacity")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	g := rg.groups[name]
	if g == nil || g.Deleting {
		return nil, groupNotFound(name)
	}
	if int(d) > g.Max {
		return nil, validation("New SetDesiredCapacity value %d is above max value %d for the AutoScalingGroup.", d, g.Max)
	}
	if int(d) < g.Min {
		return nil, validation("New SetDesiredCapacity value %d is below min value %d for the AutoScalingGroup.", d, g.Min)
	}
	now := s.clk.Now()
	if service.Bool(in, "HonorCooldown") && now.Before(g.CooldownUntil) {
		return nil, apiErr(codeScalingInProgress, "Scaling activity is in progress or the cooldown period of the AutoScalingGroup %s has not yet expired.", name)
	}
	c := cloneGroup(g)
	if int(d) != c.Desired {
		s.changeDesired(c, int(d), "a user request explicitly set group desired capacity")
		c.CooldownUntil = now.Add(secs(c.DefaultCooldown))
	}
	if err := s.commit(groupW(c)); err != nil {
		return nil, err
	}
	rg.groups[name] = c
	s.kick()
	return map[string]any{}, nil
}

func (s *Service) describeInstances(r *service.Request) (map[string]any, error) {
	in := r.Input
	if err := checkMaxRecords(in, 50); err != nil {
		return nil, err
	}
	ids := service.Strings(in, "InstanceIds")
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	byID := map[string]map[string]any{}
	var keys []string
	for _, g := range rg.groups {
		for _, m := range g.Members {
			if m.State == lsTerminated || (len(ids) > 0 && !slices.Contains(ids, m.ID)) {
				continue
			}
			o := memberOut(m)
			o["AutoScalingGroupName"] = g.Name
			byID[m.ID] = o
			keys = append(keys, m.ID)
		}
	}
	pk, next, err := page(keys, service.Str(in, "NextToken"), intOr(in, "MaxRecords"), 50)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(pk))
	for _, id := range pk {
		out = append(out, byID[id])
	}
	res := map[string]any{"AutoScalingInstances": out}
	if next != "" {
		res["NextToken"] = next
	}
	return res, nil
}

func (s *Service) setInstanceHealth(r *service.Request) (map[string]any, error) {
	in := r.Input
	id := service.Str(in, "InstanceId")
	if id == "" {
		return nil, missing("InstanceId")
	}
	status := service.Str(in, "HealthStatus")
	if status == "" {
		return nil, missing("HealthStatus")
	}
	if status != "Healthy" && status != "Unhealthy" {
		return nil, validation("Valid instance health states are: [Healthy, Unhealthy].")
	}
	respect := true
	if b := boolp(in, "ShouldRespectGracePeriod"); b != nil {
		respect = *b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	g, m := findMember(rg, id)
	if m == nil {
		return nil, validation("Instance Id not found - No managed instance found for instance ID: %s", id)
	}
	if status == "Unhealthy" && respect && s.inGrace(g, m) {
		return map[string]any{}, nil
	}
	c := cloneGroup(g)
	cm := memberByID(c, id)
	cm.Health = status
	if status == "Unhealthy" {
		cm.UnhealthyCause = "a user health-check"
	} else {
		cm.UnhealthyCause = ""
	}
	if err := s.commit(groupW(c)); err != nil {
		return nil, err
	}
	rg.groups[g.Name] = c
	s.kick()
	return map[string]any{}, nil
}

func memberByID(g *group, id string) *member {
	for _, m := range g.Members {
		if m.ID == id && m.State != lsTerminated {
			return m
		}
	}
	return nil
}

func (s *Service) setInstanceProtection(r *service.Request) (map[string]any, error) {
	in := r.Input
	ids := service.Strings(in, "InstanceIds")
	if !has(in, "InstanceIds") {
		return nil, missing("InstanceIds")
	}
	name := service.Str(in, "AutoScalingGroupName")
	if name == "" {
		return nil, missing("AutoScalingGroupName")
	}
	p := boolp(in, "ProtectedFromScaleIn")
	if p == nil {
		return nil, missing("ProtectedFromScaleIn")
	}
	if len(ids) > 50 {
		return nil, validation("The number of instances exceeds the limit of 50.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	g := rg.groups[name]
	if g == nil || g.Deleting {
		return nil, groupNotFound(name)
	}
	c := cloneGroup(g)
	for _, id := range ids {
		m := memberByID(c, id)
		if m == nil {
			return nil, validation("The instance %s is not part of Auto Scaling group %s.", id, name)
		}
		m.Protected = *p
	}
	if err := s.commit(groupW(c)); err != nil {
		return nil, err
	}
	rg.groups[name] = c
	return map[string]any{}, nil
}

func (s *Service) terminateInstance(r *service.Request) (map[string]any, error) {
	in := r.Input
	id := service.Str(in, "InstanceId")
	if id == "" {
		return nil, missing("InstanceId")
	}
	dec := boolp(in, "ShouldDecrementDesiredCapacity")
	if dec == nil {
		return nil, missing("ShouldDecrementDesiredCapacity")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	g, m := findMember(rg, id)
	if m == nil {
		return nil, validation("Instance Id not found - No managed instance found for instance ID: %s", id)
	}
	if !counts(m) {
		return nil, apiErr(codeScalingInProgress, "Instance %s is already being terminated.", id)
	}
	c := cloneGroup(g)
	cm := memberByID(c, id)
	now := s.clk.Now()
	cause := fmt.Sprintf("At %s instance %s was taken out of service in response to a user request.", awsTime(now), id)
	if *dec {
		if c.Desired-1 < c.Min {
			return nil, validation("Currently, desiredSize equals minSize (%d). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.", c.Min)
		}
		cause = fmt.Sprintf("At %s instance %s was taken out of service in response to a user request, shrinking the capacity from %d to %d.", awsTime(now), id, c.Desired, c.Desired-1)
		c.Desired--
		c.Cause = ""
	}
	a := s.startTermination(rg, c, cm, cause)
	if err := s.commit(groupW(c), actW(rg.account, rg.name, a)); err != nil {
		return nil, err
	}
	rg.groups[g.Name] = c
	rg.activities[c.Name] = append(rg.activities[c.Name], a)
	s.kick()
	return map[string]any{"Activity": activityOut(a)}, nil
}

// startTermination moves m to Terminating and returns its (unsaved)
// activity; s.mu is held.
func (s *Service) startTermination(rg *region, g *group, m *member, cause string) *activity {
	m.State = lsTerminating
	a := s.newActivity(g, "Terminating EC2 instance: "+m.ID, cause, m)
	m.Activity = a.ID
	return a
}

func (s *Service) newActivity(g *group, desc, cause string, m *member) *activity {
	a := &activity{ID: newUUID(), Group: g.Name, GroupARN: g.ARN, Description: desc, Cause: cause,
		Start: s.clk.Now(), Status: "InProgress", Progress: 0}
	s.actSeq++
	a.Seq = s.actSeq
	if m != nil {
		a.Details = fmt.Sprintf(`{"Subnet ID":"%s","Availability Zone":"%s"}`, m.SubnetID, m.AZ)
	}
	return a
}

func (s *Service) attachInstances(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := service.Str(in, "AutoScalingGroupName")
	if name == "" {
		return nil, missing("AutoScalingGroupName")
	}
	ids := dedupe(service.Strings(in, "InstanceIds"))
	if len(ids) > 20 {
		return nil, validation("The number of instances exceeds the limit of 20.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	g := rg.groups[name]
	if g == nil || g.Deleting {
		return nil, groupNotFound(name)
	}
	if g.Desired+len(ids) > g.Max {
		return nil, validation("AutoScalingGroup: %s has min-size=%d, max-size=%d, and desired-size=%d. Attaching %d instance(s) would cause the desired-size to exceed the max-size.", name, g.Min, g.Max, g.Desired, len(ids))
	}
	c := cloneGroup(g)
	var acts []*activity
	for _, id := range ids {
		if og, _ := findMember(rg, id); og != nil {
			return nil, validation("The instance %s is already part of the Auto Scaling group %s.", id, og.Name)
		}
		if s.o.Compute == nil {
			return nil, validation("Instance %s is not in a valid state for attachment.", id)
		}
		inst, ok := s.o.Compute.Describe(r.Account, r.Region, id)
		if !ok {
			return nil, validation("Invalid Instance ID(s): [%s] specified", id)
		}
		if inst.State != "running" && inst.State != "pending" {
			return nil, validation("Instance %s is not in correct state.", id)
		}
		if !slices.Contains(c.AZs, inst.AvailabilityZone) {
			return nil, validation("Instance %s is in an Availability Zone (%s) that the Auto Scaling group does not use.", id, inst.AvailabilityZone)
		}
		now := s.clk.Now()
		m := &member{ID: id, AZ: inst.AvailabilityZone, SubnetID: inst.SubnetID, InstanceType: inst.InstanceType,
			ImageID: inst.ImageID, State: lsPending, Health: "Healthy", Launched: now, Attached: true, Protected: c.Protect}
		if inst.LaunchTemplateID != "" {
			m.LT = &ltSpec{ID: inst.LaunchTemplateID, Version: inst.LaunchTemplateVersion}
		}
		cause := fmt.Sprintf("At %s an instance was added in response to a user request, increasing the capacity from %d to %d.", awsTime(now), c.Desired, c.Desired+1)
		c.Desired++
		a := s.newActivity(c, "Attaching an existing EC2 instance: "+id, cause, m)
		m.Activity = a.ID
		c.Members = append(c.Members, m)
		acts = append(acts, a)
	}
	c.Cause = ""
	ws := []write{groupW(c)}
	for _, a := range acts {
		ws = append(ws, actW(rg.account, rg.name, a))
	}
	if err := s.commit(ws...); err != nil {
		return nil, err
	}
	rg.groups[name] = c
	rg.activities[name] = append(rg.activities[name], acts...)
	s.kick()
	return map[string]any{}, nil
}

func (s *Service) detachInstances(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := service.Str(in, "AutoScalingGroupName")
	if name == "" {
		return nil, missing("AutoScalingGroupName")
	}
	dec := boolp(in, "ShouldDecrementDesiredCapacity")
	if dec == nil {
		return nil, missing("ShouldDecrementDesiredCapacity")
	}
	ids := dedupe(service.Strings(in, "InstanceIds"))
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	g := rg.groups[name]
	if g == nil || g.Deleting {
		return nil, groupNotFound(name)
	}
	c := cloneGroup(g)
	if *dec && c.Desired-len(ids) < c.Min {
		return nil, validation("AutoScalingGroup: %s has min-size=%d, max-size=%d, and desired-size=%d. To detach %d instance(s) and decrement desired-size, please lower min-size.", name, c.Min, c.Max, c.Desired, len(ids))
	}
	var acts []*activity
	out := []any{}
	for _, id := range ids {
		m := memberByID(c, id)
		if m == nil || !counts(m) {
			return nil, validation("The instance %s is not part of Auto Scaling group %s.", id, name)
		}
		now := s.clk.Now()
		cause := fmt.Sprintf("At %s instance %s was detached in response to a user request.", awsTime(now), id)
		if *dec {
			cause = fmt.Sprintf("At %s instance %s was detached in response to a user request, shrinking the capacity from %d to %d.", awsTime(now), id, c.Desired, c.Desired-1)
			c.Desired--
		}
		m.State = lsDetaching
		a := s.newActivity(c, "Detaching EC2 instance: "+id, cause, m)
		m.Activity = a.ID
		acts = append(acts, a)
		out = append(out, activityOut(a))
	}
	c.Cause = ""
	ws := []write{groupW(c)}
	for _, a := range acts {
		ws = append(ws, actW(rg.account, rg.name, a))
	}
	if err := s.commit(ws...); err != nil {
		return nil, err
	}
	rg.groups[name] = c
	rg.activities[name] = append(rg.activities[name], acts...)
	s.kick()
	return map[string]any{"Activities": out}, nil
}

func activityOut(a *activity) map[string]any {
	o := map[string]any{"ActivityId": a.ID, "AutoScalingGroupName": a.Group, "AutoScalingGroupARN": a.GroupARN,
		"Description": a.Description, "Cause": a.Cause, "StartTime": a.Start, "StatusCode": a.Status,
		"Progress": a.Progress}
	if !a.End.IsZero() {
		o["EndTime"] = a.End
	}
	if a.StatusMsg != "" {
		o["StatusMessage"] = a.StatusMsg
	}
	if a.Details != "" {
		o["Details"] = a.Details
	}
	return o
}

func (s *Service) describeActivities(r *service.Request) (map[string]any, error) {
	in := r.Input
	if err := checkMaxRecords(in, 100); err != nil {
		return nil, err
	}
	name := service.Str(in, "AutoScalingGroupName")
	ids := service.Strings(in, "ActivityIds")
	includeDeleted := service.Bool(in, "IncludeDeletedGroups")
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	var all []*activity
	for gname, acts := range rg.activities {
		if name != "" && gname != name {
			continue
		}
		if rg.groups[gname] == nil && !includeDeleted && len(ids) == 0 {
			continue
		}
		for _, a := range acts {
			if len(ids) > 0 && !slices.Contains(ids, a.ID) {
				continue
			}
			all = append(all, a)
		}
	}
	// Newest first; the token is the index of the next activity.
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].Start.Equal(all[j].Start) {
			return all[i].Start.After(all[j].Start)
		}
		return all[i].Seq > all[j].Seq
	})
	keys := make([]string, len(all))
	byKey := map[string]*activity{}
	for i, a := range all {
		keys[i] = fmt.Sprintf("%08d", i)
		byKey[keys[i]] = a
	}
	pk, next, err := page(keys, service.Str(in, "NextToken"), intOr(in, "MaxRecords"), 100)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(pk))
	for _, k := range pk {
		out = append(out, activityOut(byKey[k]))
	}
	res := map[string]any{"Activities": out}
	if next != "" {
		res["NextToken"] = next
	}
	return res, nil
}

// Tags.

func (s *Service) createOrUpdateTags(r *service.Request) (map[string]any, error) {
	tags := objs(r.Input, "Tags")
	if !has(r.Input, "Tags") {
		return nil, missing("Tags")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	changed := map[string]*group{}
	for _, t := range tags {
		n := service.Str(t, "ResourceId")
		g := changed[n]
		if g == nil {
			og := rg.groups[n]
			if og == nil || og.Deleting {
				return nil, groupNotFound(n)
			}
			g = cloneGroup(og)
			changed[n] = g
		}
		if err := addTag(g, t); err != nil {
			return nil, err
		}
	}
	var ws []write
	for _, g := range changed {
		ws = append(ws, groupW(g))
	}
	if err := s.commit(ws...); err != nil {
		return nil, err
	}
	for n, g := range changed {
		rg.groups[n] = g
	}
	return map[string]any{}, nil
}

func (s *Service) deleteTags(r *service.Request) (map[string]any, error) {
	tags := objs(r.Input, "Tags")
	if !has(r.Input, "Tags") {
		return nil, missing("Tags")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	changed := map[string]*group{}
	for _, t := range tags {
		n := service.Str(t, "ResourceId")
		g := changed[n]
		if g == nil {
			og := rg.groups[n]
			if og == nil {
				return nil, groupNotFound(n)
			}
			g = cloneGroup(og)
			changed[n] = g
		}
		k := service.Str(t, "Key")
		g.Tags = slices.DeleteFunc(g.Tags, func(x groupTag) bool { return x.Key == k })
	}
	var ws []write
	for _, g := range changed {
		ws = append(ws, groupW(g))
	}
	if err := s.commit(ws...); err != nil {
		return nil, err
	}
	for n, g := range changed {
		rg.groups[n] = g
	}
	return map[string]any{}, nil
}

func (s *Service) describeTags(r *service.Request) (map[string]any, error) {
	in := r.Input
	if err := checkMaxRecords(in, 100); err != nil {
		return nil, err
	}
	filters := objs(in, "Filters")
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	byKey := map[string]map[string]any{}
	var keys []string
	for _, g := range rg.groups {
		for _, t := range g.Tags {
			if !tagMatches(g.Name, t, filters) {
				continue
			}
			k := g.Name + "\x00" + t.Key
			byKey[k] = tagOut(g.Name, t)
			keys = append(keys, k)
		}
	}
	pk, next, err := page(keys, service.Str(in, "NextToken"), intOr(in, "MaxRecords"), 50)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(pk))
	for _, k := range pk {
		out = append(out, byKey[k])
	}
	res := map[string]any{"Tags": out}
	if next != "" {
		res["NextToken"] = next
	}
	return res, nil
}

func tagMatches(groupName string, t groupTag, filters []map[string]any) bool {
	for _, f := range filters {
		vals := service.Strings(f, "Values")
		var v string
		switch service.Str(f, "Name") {
		case "auto-scaling-group":
			v = groupName
		case "key":
			v = t.Key
		case "value":
			v = t.Value
		case "propagate-at-launch":
			v = strings.ToLower(fmt.Sprint(t.Propagate))
		default:
			return false
		}
		if !slices.Contains(vals, v) {
			return false
		}
	}
	return true
}
