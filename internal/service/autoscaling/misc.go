package autoscaling

import "github.com/overcast-dev/overcast/internal/service"

func (s *Service) describeAdjustmentTypes(*service.Request) (map[string]any, error) {
	out := make([]any, 0, len(adjustmentTypes))
	for _, t := range adjustmentTypes {
		out = append(out, map[string]any{"AdjustmentType": t})
	}
	return map[string]any{"AdjustmentTypes": out}, nil
}

func (s *Service) describeTerminationPolicyTypes(*service.Request) (map[string]any, error) {
	return map[string]any{"TerminationPolicyTypes": strList(validTerminationPolicies)}, nil
}

func (s *Service) describeLifecycleHookTypes(*service.Request) (map[string]any, error) {
	return map[string]any{"LifecycleHookTypes": strList([]string{launchTransition, terminateTransition})}, nil
}

func (s *Service) describeAccountLimits(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	rg := s.regionOf(r.Account, r.Region)
	groups, lcs := len(rg.groups), len(rg.lcs)
	s.mu.Unlock()
	return map[string]any{"MaxNumberOfAutoScalingGroups": int64(maxGroupsPerRegion), "MaxNumberOfLaunchConfigurations": int64(200),
		"NumberOfAutoScalingGroups": int64(groups), "NumberOfLaunchConfigurations": int64(lcs)}, nil
}
