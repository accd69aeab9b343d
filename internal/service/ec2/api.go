package ec2

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"
)

// This file is EC2's API for the other services (Auto Scaling, Elastic
// Load Balancing): plain Go types, no SDK types. Every method is safe for
// concurrent use once the service has started; errors a client should see
// are *awserr.Error values with EC2's codes.

// Instance is a snapshot of an instance.
type Instance struct {
	ID           string
	ImageID      string
	InstanceType string
	KeyName      string
	State        State
	// StateReason is EC2's state reason code (for example
	// "Client.InstanceInitiatedShutdown" for an instance whose process
	// ended by itself); empty while it is pending or running.
	StateReason string
	// PrivateIP is the instance's own loopback address (127.B.x.y) and
	// PrivateDNSName its name; both stay set after termination.
	PrivateIP, PrivateDNSName string
	AvailabilityZone          string
	SubnetID, VPCID           string
	SecurityGroupIDs          []string
	LaunchTime                time.Time
	Tags                      []Tag
	// IAMInstanceProfileARN is the instance profile, if any.
	IAMInstanceProfileARN string
	// LaunchTemplateID and LaunchTemplateVersion (a number) name the launch
	// template version the instance was launched from, if any.
	LaunchTemplateID, LaunchTemplateVersion string
	// PID is the process group of the instance's live boot (kill -PID to
	// crash the instance); 0 when it is not booted.
	PID int
}

// Tag returns the value of tag key.
func (in Instance) Tag(key string) (string, bool) { return tagValue(in.Tags, key) }

// Running reports whether the instance is running and its process alive:
// what Auto Scaling's EC2 health check asks.
func (in Instance) Running() bool { return in.State == StateRunning && in.PID != 0 }

// LaunchRequest asks for instances. A launch template, if named, supplies
// the defaults; the other fields override it.
type LaunchRequest struct {
	// LaunchTemplateID or LaunchTemplateName names a launch template;
	// LaunchTemplateVersion is a version number, "$Latest" or "$Default"
	// (empty means "$Default").
	LaunchTemplateID, LaunchTemplateName, LaunchTemplateVersion string
	// ImageID and InstanceType; required unless the template gives them.
	ImageID, InstanceType string
	// UserData is the raw user data (not base64).
	UserData []byte
	// SubnetID places the instances in a subnet; otherwise
	// AvailabilityZone picks that zone's default subnet; otherwise the
	// least used default subnet is chosen.
	SubnetID, AvailabilityZone string
	SecurityGroupIDs           []string
	// IAMInstanceProfile is an instance profile ARN or name.
	IAMInstanceProfile string
	// Tags are added to every instance (after the template's tags; keys
	// starting with "aws:" are allowed here, as Auto Scaling sets them).
	Tags []Tag
	// Count is the number of instances; 0 means 1. All are launched or
	// none.
	Count int
	// Requester is the account or service principal that launched them
	// (RequesterId in DescribeInstances); empty means the account.
	Requester string
}

// StateChange reports an instance's move from Previous to Instance.State.
// A newly launched instance reports Previous "" and State pending.
type StateChange struct {
	Account, Region string
	Instance        Instance
	Previous        State
}

// ErrNotRunning is returned by the API methods before Start or after Stop.
var ErrNotRunning = errors.New("ec2: service not running")

// Launch starts instances in account and region as RunInstances does and
// returns them (state pending or running). It fails without launching any
// if the request is invalid.
func (s *Service) Launch(ctx context.Context, account, region string, req LaunchRequest) ([]Instance, error) {
	if !s.running() {
		return nil, ErrNotRunning
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rg, err := s.regionFor(account, region)
	if err != nil {
		return nil, err
	}
	n := max(req.Count, 1)
	spec := &launchSpec{
		ImageID: req.ImageID, InstanceType: req.InstanceType, SubnetID: req.SubnetID, AZ: req.AvailabilityZone,
		GroupIDs: slices.Clone(req.SecurityGroupIDs), Min: n, Max: n,
	}
	if req.IAMInstanceProfile != "" {
		if strings.HasPrefix(req.IAMInstanceProfile, "arn:") {
			spec.ProfileARN = req.IAMInstanceProfile
		} else {
			spec.ProfileName = req.IAMInstanceProfile
		}
	}
	rg.mu.Lock()
	if req.LaunchTemplateID != "" || req.LaunchTemplateName != "" {
		data, id, ver, err := rg.templateData(req.LaunchTemplateID, req.LaunchTemplateName, req.LaunchTemplateVersion)
		if err != nil {
			rg.mu.Unlock()
			return nil, err
		}
		base := &launchSpec{}
		if err := base.apply(data); err != nil {
			rg.mu.Unlock()
			return nil, err
		}
		base.TemplateID, base.TemplateVersion = id, ver
		overlay(base, spec)
		spec = base
	}
	if req.UserData != nil {
		spec.UserData = slices.Clone(req.UserData)
	}
	spec.Tags = setTags(spec.Tags, req.Tags)
	requester := req.Requester
	if requester == "" {
		requester = account
	}
	insts, events, err := s.launch(rg, spec, requester)
	var out []Instance
	for _, in := range insts {
		out = append(out, in.snapshot(rg))
	}
	rg.mu.Unlock()
	s.notify(events)
	return out, err
}

// overlay copies the fields set in o onto base.
func overlay(base, o *launchSpec) {
	str := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	str(&base.ImageID, o.ImageID)
	str(&base.InstanceType, o.InstanceType)
	str(&base.SubnetID, o.SubnetID)
	str(&base.AZ, o.AZ)
	if o.ProfileARN != "" || o.ProfileName != "" {
		base.ProfileARN, base.ProfileName = o.ProfileARN, o.ProfileName
	}
	if len(o.GroupIDs) > 0 {
		base.GroupIDs, base.GroupNames = o.GroupIDs, nil
	}
	if o.SubnetID != "" && o.AZ == "" {
		base.AZ = "" // the subnet decides the zone
	}
	base.Min, base.Max = o.Min, o.Max
}

// Terminate terminates instances as TerminateInstances does. Terminating a
// terminated instance is not an error; an unknown id is
// (InvalidInstanceID.NotFound).
func (s *Service) Terminate(ctx context.Context, account, regionName string, ids ...string) error {
	return s.apiAct(ctx, account, regionName, ids, func(rg *region, in *instance) ([]StateChange, error) {
		return s.stopOne(rg, in, false, StateShuttingDown, "User initiated")
	})
}

// StopInstances stops instances as the StopInstances operation does.
func (s *Service) StopInstances(ctx context.Context, account, regionName string, ids ...string) error {
	return s.apiAct(ctx, account, regionName, ids, func(rg *region, in *instance) ([]StateChange, error) {
		if in.State == StateTerminated || in.State == StateShuttingDown {
			return nil, errf(codeIncorrectInstanceState, "This instance '%s' is not in a state from which it can be stopped.", in.ID)
		}
		return s.stopOne(rg, in, false, StateStopping, "User initiated")
	})
}

// StartInstances starts stopped instances as the StartInstances operation
// does.
func (s *Service) StartInstances(ctx context.Context, account, region string, ids ...string) error {
	return s.apiAct(ctx, account, region, ids, s.startOne)
}

func (s *Service) apiAct(ctx context.Context, account, regionName string, ids []string, fn func(*region, *instance) ([]StateChange, error)) error {
	if !s.running() {
		return ErrNotRunning
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rg := s.lookupRegion(account, regionName)
	if rg == nil {
		rg = newRegion(account, regionName) // no instances: NotFound below
	}
	rg.mu.Lock()
	insts, err := rg.instancesByID(ids)
	var events []StateChange
	if err == nil {
		for _, in := range insts {
			ev, ferr := fn(rg, in)
			events = append(events, ev...)
			if ferr != nil {
				err = ferr
				break
			}
		}
	}
	rg.mu.Unlock()
	s.notify(events)
	return err
}

// Describe returns a snapshot of instance id in account and region.
// Terminated instances are described until they are purged, an hour after
// termination.
func (s *Service) Describe(account, region, id string) (Instance, bool) {
	rg := s.lookupRegion(account, region)
	if rg == nil {
		return Instance{}, false
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	in := rg.instances[id]
	if in == nil {
		return Instance{}, false
	}
	return in.snapshot(rg), true
}

// Instances returns snapshots of every instance in account and region,
// in launch order.
func (s *Service) Instances(account, region string) []Instance {
	rg := s.lookupRegion(account, region)
	if rg == nil {
		return nil
	}
	rg.mu.Lock()
	out := make([]Instance, 0, len(rg.instances))
	for _, in := range rg.instances {
		out = append(out, in.snapshot(rg))
	}
	rg.mu.Unlock()
	slices.SortFunc(out, func(a, b Instance) int {
		if c := a.LaunchTime.Compare(b.LaunchTime); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Watch calls fn with every instance state change from now on, in the
// order the changes are stored, until cancel is called. fn is called
// without any EC2 lock held and MAY call EC2's methods, but MUST NOT block
// for long: it delays the goroutine that made the change. Changes made by
// server shutdown are not reported.
func (s *Service) Watch(fn func(StateChange)) (cancel func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchN++
	n := s.watchN
	s.watchers[n] = fn
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.watchers, n)
	}
}

func (s *Service) notify(events []StateChange) {
	if len(events) == 0 {
		return
	}
	s.mu.Lock()
	fns := make([]func(StateChange), 0, len(s.watchers))
	keys := make([]int, 0, len(s.watchers))
	for k := range s.watchers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fns = append(fns, s.watchers[k])
	}
	s.mu.Unlock()
	for _, ev := range events {
		for _, fn := range fns {
			fn(ev)
		}
	}
}

// snapshot copies an instance; rg.mu is held.
func (in *instance) snapshot(rg *region) Instance {
	out := Instance{
		ID: in.ID, ImageID: in.ImageID, InstanceType: in.InstanceType, KeyName: in.KeyName,
		State: in.State, StateReason: in.ReasonCode, PrivateIP: in.PrivateIP,
		PrivateDNSName: in.dnsName(rg.name), AvailabilityZone: in.AZ, SubnetID: in.SubnetID,
		VPCID: in.VPCID, SecurityGroupIDs: slices.Clone(in.SecurityGroups), LaunchTime: in.LaunchTime,
		Tags: cloneTags(in.Tags), IAMInstanceProfileARN: in.ProfileARN,
		LaunchTemplateID: in.TemplateID, LaunchTemplateVersion: in.TemplateVersion,
	}
	if in.vm != nil && in.vm.p != nil {
		out.PID = in.vm.p.Status().PID
	}
	return out
}

// Subnet is a subnet as other services see it.
type Subnet struct {
	ID, VPCID, AvailabilityZone, CIDR string
	Default                           bool
}

// Subnets returns the subnets of account in region (creating the default
// VPC the first time), ordered by Availability Zone.
func (s *Service) Subnets(account, region string) ([]Subnet, error) {
	rg, err := s.regionFor(account, region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	out := make([]Subnet, 0, len(rg.subnets))
	for _, sn := range rg.subnets {
		out = append(out, Subnet{ID: sn.ID, VPCID: sn.VPCID, AvailabilityZone: sn.AZ, CIDR: sn.CIDR, Default: sn.Default})
	}
	rg.mu.Unlock()
	slices.SortFunc(out, func(a, b Subnet) int { return strings.Compare(a.AvailabilityZone+a.ID, b.AvailabilityZone+b.ID) })
	return out, nil
}

// Subnet returns subnet id of account in region.
func (s *Service) Subnet(account, region, id string) (Subnet, bool) {
	subnets, err := s.Subnets(account, region)
	if err != nil {
		return Subnet{}, false
	}
	for _, sn := range subnets {
		if sn.ID == id {
			return sn, true
		}
	}
	return Subnet{}, false
}

// SecurityGroup is a security group as other services see it.
type SecurityGroup struct {
	ID, Name, VPCID string
}

// SecurityGroup returns group id of account in region.
func (s *Service) SecurityGroup(account, region, id string) (SecurityGroup, bool) {
	rg, err := s.regionFor(account, region)
	if err != nil {
		return SecurityGroup{}, false
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	g := rg.groups[id]
	if g == nil {
		return SecurityGroup{}, false
	}
	return SecurityGroup{ID: g.ID, Name: g.Name, VPCID: g.VPCID}, true
}

// DefaultVPC returns the id of the default VPC of account in region.
func (s *Service) DefaultVPC(account, region string) (string, error) {
	rg, err := s.regionFor(account, region)
	if err != nil {
		return "", err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	return rg.defaultVPCID(), nil
}

// ConsoleOutput returns the latest console output of an instance (its
// process's combined output), as GetConsoleOutput does before base64.
func (s *Service) ConsoleOutput(account, region, id string) ([]byte, bool) {
	rg := s.lookupRegion(account, region)
	if rg == nil {
		return nil, false
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	in := rg.instances[id]
	if in == nil {
		return nil, false
	}
	if in.vm != nil {
		return in.vm.p.Output().Tail(consoleLimit), true
	}
	return slices.Clone(in.console), true
}

// encodeUserData is base64 for user data as RunInstances takes it.
func encodeUserData(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
