package elb

import (
	"errors"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

// The internal API other services (Auto Scaling, ECS) call through an
// interface they declare; internal/server wires *Service in. Errors are
// *awserr.Error values with the codes the public API would return.

// Target is a target to register: an instance ID or IPv4 address, and a
// port (0 means the target group's port).
type Target struct {
	ID   string
	Port int
}

func (s *Service) req(account, region string) *service.Request {
	return &service.Request{Account: account, Region: region}
}

// RegisterTargets registers targets with an elbv2 target group.
func (s *Service) RegisterTargets(account, region, targetGroupARN string, targets []Target) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, ferr := s.findTG(s.req(account, region), targetGroupARN)
	if ferr != nil {
		return ferr
	}
	regs, rerr := s.targetRegs(tg, targets)
	if rerr != nil {
		return rerr
	}
	return s.registerLocked(tg, regs)
}

// DeregisterTargets deregisters targets from an elbv2 target group; they
// drain for the group's deregistration delay. Unknown targets are ignored.
func (s *Service) DeregisterTargets(account, region, targetGroupARN string, targets []Target) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, ferr := s.findTG(s.req(account, region), targetGroupARN)
	if ferr != nil {
		return ferr
	}
	regs, rerr := s.targetRegs(tg, targets)
	if rerr != nil {
		return rerr
	}
	return s.deregisterLocked(tg, regs)
}

// TargetHealth returns the health of every target of an elbv2 target group
// (registered and draining), as DescribeTargetHealth reports it.
func (s *Service) TargetHealth(account, region, targetGroupARN string) ([]TargetHealth, error) {
	s.mu.Lock()
	_, err := s.findTG(s.req(account, region), targetGroupARN)
	rt := s.tgRT[targetGroupARN]
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if rt == nil {
		return nil, nil
	}
	return rt.health(nil), nil
}

// TargetGroupExists reports whether the elbv2 target group exists.
func (s *Service) TargetGroupExists(account, region, targetGroupARN string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.findTG(s.req(account, region), targetGroupARN)
	return err == nil
}

// RegisterInstances registers instances with a classic load balancer.
func (s *Service) RegisterInstances(account, region, loadBalancerName string, instanceIDs []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, lerr := s.classicLB(s.req(account, region), loadBalancerName)
	if lerr != nil {
		return lerr
	}
	tg := s.tgs[lb.Classic.TargetGroup]
	var regs []targetReg
	for _, id := range instanceIDs {
		regs = append(regs, targetReg{ID: id, Port: tg.Port})
	}
	return s.registerLocked(tg, regs)
}

// DeregisterInstances deregisters instances from a classic load balancer.
func (s *Service) DeregisterInstances(account, region, loadBalancerName string, instanceIDs []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, lerr := s.classicLB(s.req(account, region), loadBalancerName)
	if lerr != nil {
		return lerr
	}
	tg := s.tgs[lb.Classic.TargetGroup]
	var regs []targetReg
	for _, id := range instanceIDs {
		regs = append(regs, targetReg{ID: id, Port: tg.Port})
	}
	return s.deregisterLocked(tg, regs)
}

// InstanceHealth returns the health of a classic load balancer's instances.
func (s *Service) InstanceHealth(account, region, loadBalancerName string) ([]InstanceState, error) {
	s.mu.Lock()
	lb, err := s.classicLB(s.req(account, region), loadBalancerName)
	var rt *tgRuntime
	if err == nil {
		rt = s.tgRT[lb.Classic.TargetGroup]
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var out []InstanceState
	if rt != nil {
		for _, h := range rt.health(nil) {
			out = append(out, classicState(h))
		}
	}
	return out, nil
}

func (s *Service) targetRegs(tg *targetGroup, targets []Target) ([]targetReg, error) {
	if len(targets) == 0 {
		return nil, awserr.New(awserr.CodeValidation, "Targets must be specified")
	}
	var out []targetReg
	for _, t := range targets {
		p := t.Port
		if p == 0 {
			p = tg.Port
		}
		out = append(out, targetReg{ID: t.ID, Port: p})
	}
	return out, nil
}

// IsNotFound reports whether err says a load balancer or target group does
// not exist.
func IsNotFound(err error) bool {
	var e *awserr.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case "TargetGroupNotFoundException", "LoadBalancerNotFoundException", "AccessPointNotFoundException":
		return true
	}
	return false
}
