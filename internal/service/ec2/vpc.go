package ec2

import (
	"slices"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

// regionNames are the regions DescribeRegions lists.
var regionNames = []string{
	"af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ca-central-1", "eu-central-1", "eu-central-2", "eu-north-1",
	"eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1",
	"me-central-1", "me-south-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// zoneID returns an AZ id such as use1-az1 for us-east-1a.
func zoneID(region string, i int) string {
	var b strings.Builder
	for j, p := range strings.Split(region, "-") {
		if j == 0 || (len(p) > 0 && p[0] >= '0' && p[0] <= '9') {
			b.WriteString(p)
		} else if p != "" {
			b.WriteByte(p[0])
		}
	}
	b.WriteString("-az")
	b.WriteByte(byte('1' + i))
	return b.String()
}

func endpointHost(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "ec2." + region + ".amazonaws.com.cn"
	}
	return "ec2." + region + ".amazonaws.com"
}

func (s *Service) describeRegions(r *service.Request) (map[string]any, error) {
	fs, err := parseFilters(r.Input)
	if err != nil {
		return nil, err
	}
	names := service.Strings(r.Input, "RegionNames")
	for _, n := range names {
		if !slices.Contains(regionNames, n) && n != r.Region {
			return nil, errf("InvalidParameterValue", "Invalid region: %s", n)
		}
	}
	all := regionNames
	if !slices.Contains(all, r.Region) {
		all = append(slices.Clone(all), r.Region)
	}
	var out []any
	for _, n := range all {
		if len(names) > 0 && !slices.Contains(names, n) {
			continue
		}
		fields := func(name string) ([]string, bool) {
			switch name {
			case "region-name":
				return []string{n}, true
			case "endpoint":
				return []string{endpointHost(n)}, true
			case "opt-in-status":
				return []string{"opt-in-not-required"}, true
			}
			return nil, false
		}
		if err := validateFilters(fs, fields); err != nil {
			return nil, err
		}
		if !matches(fs, fields) {
			continue
		}
		out = append(out, map[string]any{"RegionName": n, "Endpoint": endpointHost(n), "OptInStatus": "opt-in-not-required"})
	}
	return map[string]any{"Regions": out}, nil
}

func (s *Service) describeAvailabilityZones(r *service.Request) (map[string]any, error) {
	fs, err := parseFilters(r.Input)
	if err != nil {
		return nil, err
	}
	names := service.Strings(r.Input, "ZoneNames")
	ids := service.Strings(r.Input, "ZoneIds")
	var out []any
	seen := map[string]bool{}
	for i, z := range []string{"a", "b", "c"} {
		name, id := r.Region+z, zoneID(r.Region, i)
		if (len(names) > 0 || len(ids) > 0) && !slices.Contains(names, name) && !slices.Contains(ids, id) {
			continue
		}
		seen[name], seen[id] = true, true
		fields := func(f string) ([]string, bool) {
			switch f {
			case "zone-name":
				return []string{name}, true
			case "zone-id":
				return []string{id}, true
			case "region-name":
				return []string{r.Region}, true
			case "state":
				return []string{"available"}, true
			case "zone-type":
				return []string{"availability-zone"}, true
			case "group-name", "network-border-group":
				return []string{r.Region}, true
			case "opt-in-status":
				return []string{"opt-in-not-required"}, true
			}
			return nil, false
		}
		if err := validateFilters(fs, fields); err != nil {
			return nil, err
		}
		if !matches(fs, fields) {
			continue
		}
		out = append(out, map[string]any{
			"ZoneName": name, "ZoneId": id, "RegionName": r.Region, "State": "available",
			"OptInStatus": "opt-in-not-required", "ZoneType": "availability-zone",
			"GroupName": r.Region, "NetworkBorderGroup": r.Region, "Messages": []any{},
		})
	}
	for _, n := range append(names, ids...) {
		if !seen[n] {
			return nil, invalidParam("The zone '%s' does not exist.", n)
		}
	}
	return map[string]any{"AvailabilityZones": out}, nil
}

func (s *Service) describeAccountAttributes(r *service.Request) (map[string]any, error) {
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defVPC := "none"
	for _, v := range rg.vpcs {
		if v.Default {
			defVPC = v.ID
		}
	}
	rg.mu.Unlock()
	attrs := [][2]string{
		{"supported-platforms", "VPC"}, {"default-vpc", defVPC}, {"max-instances", "1000"},
		{"vpc-max-security-groups-per-interface", "5"}, {"max-elastic-ips", "5"}, {"vpc-max-elastic-ips", "5"},
	}
	want := service.Strings(r.Input, "AttributeNames")
	var out []any
	for _, a := range attrs {
		if len(want) > 0 && !slices.Contains(want, a[0]) {
			continue
		}
		out = append(out, map[string]any{"AttributeName": a[0], "AttributeValues": []any{map[string]any{"AttributeValue": a[1]}}})
	}
	return map[string]any{"AccountAttributes": out}, nil
}

func (v *vpcRec) fields(owner string) fieldFunc {
	return func(name string) ([]string, bool) {
		if vals, ok := tagFields(v.Tags, name); ok {
			return vals, true
		}
		switch name {
		case "vpc-id":
			return []string{v.ID}, true
		case "cidr", "cidr-block-association.cidr-block", "cidrBlock":
			return []string{v.CIDR}, true
		case "is-default", "isDefault":
			return []string{boolStr(v.Default)}, true
		case "state":
			return []string{"available"}, true
		case "owner-id":
			return []string{owner}, true
		case "dhcp-options-id":
			return []string{v.DhcpOptionsID}, true
		case "instance-tenancy":
			return []string{"default"}, true
		}
		return nil, false
	}
}

func (v *vpcRec) out(owner string) map[string]any {
	return map[string]any{
		"VpcId": v.ID, "CidrBlock": v.CIDR, "State": "available", "IsDefault": v.Default,
		"OwnerId": owner, "InstanceTenancy": "default", "DhcpOptionsId": v.DhcpOptionsID,
		"CidrBlockAssociationSet": []any{map[string]any{
			"AssociationId": "vpc-cidr-assoc-" + v.ID[4:], "CidrBlock": v.CIDR,
			"CidrBlockState": map[string]any{"State": "associated"},
		}},
		"Tags": tagsOut(v.Tags),
	}
}

func (s *Service) describeVpcs(r *service.Request) (map[string]any, error) {
	fs, err := parseFilters(r.Input)
	if err != nil {
		return nil, err
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	ids := service.Strings(r.Input, "VpcIds")
	for _, id := range ids {
		if rg.vpcs[id] == nil {
			return nil, errf(codeVpcNotFound, "The vpc ID '%s' does not exist", id)
		}
	}
	var list []*vpcRec
	for _, v := range rg.vpcs {
		if len(ids) > 0 && !slices.Contains(ids, v.ID) {
			continue
		}
		f := v.fields(r.Account)
		if err := validateFilters(fs, f); err != nil {
			return nil, err
		}
		if matches(fs, f) {
			list = append(list, v)
		}
	}
	page, next, err := paginate(r.Input, list, func(v *vpcRec) string { return v.ID }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(page))
	for i, v := range page {
		out[i] = v.out(r.Account)
	}
	return withToken(map[string]any{"Vpcs": out}, next), nil
}

func withToken(m map[string]any, next string) map[string]any {
	if next != "" {
		m["NextToken"] = next
	}
	return m
}

func (sn *subnetRec) fields(owner string) fieldFunc {
	return func(name string) ([]string, bool) {
		if vals, ok := tagFields(sn.Tags, name); ok {
			return vals, true
		}
		switch name {
		case "subnet-id":
			return []string{sn.ID}, true
		case "vpc-id":
			return []string{sn.VPCID}, true
		case "availability-zone", "availabilityZone":
			return []string{sn.AZ}, true
		case "availability-zone-id":
			return []string{zoneID(sn.AZ[:len(sn.AZ)-1], int(sn.AZ[len(sn.AZ)-1]-'a'))}, true
		case "cidr-block", "cidr", "cidrBlock":
			return []string{sn.CIDR}, true
		case "default-for-az", "defaultForAz":
			return []string{boolStr(sn.Default)}, true
		case "state":
			return []string{"available"}, true
		case "owner-id":
			return []string{owner}, true
		case "map-public-ip-on-launch":
			return []string{"false"}, true
		}
		return nil, false
	}
}

func (sn *subnetRec) out(rg *region) map[string]any {
	azIdx := int(sn.AZ[len(sn.AZ)-1] - 'a')
	return map[string]any{
		"SubnetId": sn.ID, "VpcId": sn.VPCID, "AvailabilityZone": sn.AZ,
		"AvailabilityZoneId": zoneID(rg.name, azIdx), "CidrBlock": sn.CIDR,
		"AvailableIpAddressCount": int64(4091), "DefaultForAz": sn.Default,
		"MapPublicIpOnLaunch": false, "State": "available", "OwnerId": rg.account,
		"AssignIpv6AddressOnCreation": false, "Ipv6CidrBlockAssociationSet": []any{},
		"SubnetArn":   "arn:" + service.Partition(rg.name) + ":ec2:" + rg.name + ":" + rg.account + ":subnet/" + sn.ID,
		"EnableDns64": false, "Ipv6Native": false,
		"PrivateDnsNameOptionsOnLaunch": map[string]any{
			"HostnameType": "ip-name", "EnableResourceNameDnsARecord": false, "EnableResourceNameDnsAAAARecord": false,
		},
		"Tags": tagsOut(sn.Tags),
	}
}

func (s *Service) describeSubnets(r *service.Request) (map[string]any, error) {
	fs, err := parseFilters(r.Input)
	if err != nil {
		return nil, err
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	ids := service.Strings(r.Input, "SubnetIds")
	for _, id := range ids {
		if rg.subnets[id] == nil {
			return nil, errf(codeSubnetNotFound, "The subnet ID '%s' does not exist", id)
		}
	}
	var list []*subnetRec
	for _, sn := range rg.subnets {
		if len(ids) > 0 && !slices.Contains(ids, sn.ID) {
			continue
		}
		f := sn.fields(r.Account)
		if err := validateFilters(fs, f); err != nil {
			return nil, err
		}
		if matches(fs, f) {
			list = append(list, sn)
		}
	}
	page, next, err := paginate(r.Input, list, func(v *subnetRec) string { return v.AZ + v.ID }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(page))
	for i, sn := range page {
		out[i] = sn.out(rg)
	}
	return withToken(map[string]any{"Subnets": out}, next), nil
}

// defaultSubnet returns the default subnet in az ("" for the first AZ).
func (rg *region) defaultSubnet(az string) *subnetRec {
	var best *subnetRec
	for _, sn := range rg.subnets {
		if !sn.Default || (az != "" && sn.AZ != az) {
			continue
		}
		if best == nil || sn.AZ < best.AZ {
			best = sn
		}
	}
	return best
}

func (rg *region) defaultVPCID() string {
	for _, v := range rg.vpcs {
		if v.Default {
			return v.ID
		}
	}
	return ""
}
