package autoscaling

import (
	"github.com/overcast-dev/overcast/internal/service"
)

func (s *Service) createLaunchConfiguration(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := service.Str(in, "LaunchConfigurationName")
	if name == "" {
		return nil, missing("LaunchConfigurationName")
	}
	if len(name) > 255 {
		return nil, validation("1 validation error detected: Value '%s' at 'launchConfigurationName' failed to satisfy constraint: Member must have length less than or equal to 255", name)
	}
	lc := &launchConfig{Name: name, ImageID: service.Str(in, "ImageId"), InstanceType: service.Str(in, "InstanceType"),
		KeyName: service.Str(in, "KeyName"), SecurityGroups: service.Strings(in, "SecurityGroups"),
		UserData: service.Str(in, "UserData"), IAMInstanceProfile: service.Str(in, "IamInstanceProfile"),
		EbsOptimized: boolp(in, "EbsOptimized"), PublicIP: boolp(in, "AssociatePublicIpAddress"),
		SpotPrice: service.Str(in, "SpotPrice"), Tenancy: service.Str(in, "PlacementTenancy"), Created: s.clk.Now()}
	if m := obj(in, "InstanceMonitoring"); m != nil {
		lc.Monitoring = boolp(m, "Enabled")
	}
	if id := service.Str(in, "InstanceId"); id != "" && s.o.Compute != nil {
		inst, ok := s.o.Compute.Describe(r.Account, r.Region, id)
		if !ok || inst.State == "terminated" {
			return nil, validation("Invalid instance id %s", id)
		}
		if lc.ImageID == "" {
			lc.ImageID = inst.ImageID
		}
		if lc.InstanceType == "" {
			lc.InstanceType = inst.InstanceType
		}
	}
	if lc.ImageID == "" {
		return nil, validation("Valid requests must contain either the InstanceID parameter or both the ImageId and InstanceType parameters.")
	}
	if lc.InstanceType == "" {
		return nil, validation("Valid requests must contain either the InstanceID parameter or both the ImageId and InstanceType parameters.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	if rg.lcs[name] != nil {
		return nil, apiErr(codeAlreadyExists, "Launch Configuration by this name already exists - A launch configuration already exists with the name %s", name)
	}
	lc.ARN = lcARN(rg, name)
	if err := s.commit(putW(r.Account, r.Region, lc, kindLC, name)); err != nil {
		return nil, err
	}
	rg.lcs[name] = lc
	return map[string]any{}, nil
}

func (s *Service) deleteLaunchConfiguration(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "LaunchConfigurationName")
	if name == "" {
		return nil, missing("LaunchConfigurationName")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	if rg.lcs[name] == nil {
		return nil, validation("Launch configuration name not found - Launch configuration %s not found", name)
	}
	for _, g := range rg.groups {
		if g.LCName == name {
			return nil, apiErr(codeResourceInUse, "Cannot delete launch configuration %s because it is attached to AutoScalingGroup %s", name, g.Name)
		}
	}
	if err := s.commit(delW(r.Account, r.Region, kindLC, name)); err != nil {
		return nil, err
	}
	delete(rg.lcs, name)
	return map[string]any{}, nil
}

func (s *Service) describeLaunchConfigurations(r *service.Request) (map[string]any, error) {
	in := r.Input
	if err := checkMaxRecords(in, 100); err != nil {
		return nil, err
	}
	names := service.Strings(in, "LaunchConfigurationNames")
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	var keys []string
	for n := range rg.lcs {
		if len(names) > 0 {
			found := false
			for _, w := range names {
				found = found || w == n
			}
			if !found {
				continue
			}
		}
		keys = append(keys, n)
	}
	pk, next, err := page(keys, service.Str(in, "NextToken"), intOr(in, "MaxRecords"), 50)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(pk))
	for _, n := range pk {
		lc := rg.lcs[n]
		o := map[string]any{"LaunchConfigurationName": lc.Name, "LaunchConfigurationARN": lc.ARN, "ImageId": lc.ImageID,
			"InstanceType": lc.InstanceType, "CreatedTime": lc.Created, "SecurityGroups": strList(lc.SecurityGroups),
			"ClassicLinkVPCSecurityGroups": []any{}, "BlockDeviceMappings": []any{}, "KernelId": "", "RamdiskId": "",
			"UserData": lc.UserData, "KeyName": lc.KeyName}
		mon := true
		if lc.Monitoring != nil {
			mon = *lc.Monitoring
		}
		o["InstanceMonitoring"] = map[string]any{"Enabled": mon}
		ebs := false
		if lc.EbsOptimized != nil {
			ebs = *lc.EbsOptimized
		}
		o["EbsOptimized"] = ebs
		if lc.PublicIP != nil {
			o["AssociatePublicIpAddress"] = *lc.PublicIP
		}
		if lc.IAMInstanceProfile != "" {
			o["IamInstanceProfile"] = lc.IAMInstanceProfile
		}
		if lc.SpotPrice != "" {
			o["SpotPrice"] = lc.SpotPrice
		}
		if lc.Tenancy != "" {
			o["PlacementTenancy"] = lc.Tenancy
		}
		out = append(out, o)
	}
	res := map[string]any{"LaunchConfigurations": out}
	if next != "" {
		res["NextToken"] = next
	}
	return res, nil
}
