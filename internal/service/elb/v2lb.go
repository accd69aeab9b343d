package elb

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

func (s *Service) v2Handlers() map[string]service.Handler {
	return map[string]service.Handler{
		"CreateLoadBalancer":             s.createLoadBalancer,
		"DescribeLoadBalancers":          s.describeLoadBalancers,
		"DeleteLoadBalancer":             s.deleteLoadBalancer,
		"DescribeLoadBalancerAttributes": s.describeLBAttributes,
		"ModifyLoadBalancerAttributes":   s.modifyLBAttributes,
		"SetSecurityGroups":              s.setSecurityGroups,
		"SetSubnets":                     s.setSubnets,
		"CreateTargetGroup":              s.createTargetGroup,
		"DescribeTargetGroups":           s.describeTargetGroups,
		"ModifyTargetGroup":              s.modifyTargetGroup,
		"DeleteTargetGroup":              s.deleteTargetGroup,
		"DescribeTargetGroupAttributes":  s.describeTGAttributes,
		"ModifyTargetGroupAttributes":    s.modifyTGAttributes,
		"RegisterTargets":                s.registerTargets,
		"DeregisterTargets":              s.deregisterTargets,
		"DescribeTargetHealth":           s.describeTargetHealth,
		"CreateListener":                 s.createListener,
		"DescribeListeners":              s.describeListeners,
		"ModifyListener":                 s.modifyListener,
		"DeleteListener":                 s.deleteListener,
		"CreateRule":                     s.createRule,
		"DescribeRules":                  s.describeRules,
		"ModifyRule":                     s.modifyRule,
		"DeleteRule":                     s.deleteRule,
		"SetRulePriorities":              s.setRulePriorities,
		"AddTags":                        s.addTags,
		"RemoveTags":                     s.removeTagsOp,
		"DescribeTags":                   s.describeTags,
		"DescribeSSLPolicies":            s.describeSSLPolicies,
		"DescribeAccountLimits":          s.describeAccountLimits,
	}
}

// subnetsFor resolves the subnets of a new load balancer.
func subnetsFor(region string, in map[string]any) []subnet {
	ids := strs(in, "Subnets")
	for _, m := range objs(in, "SubnetMappings") {
		ids = append(ids, str(m, "SubnetId"))
	}
	if len(ids) == 0 {
		return []subnet{{ID: "subnet-" + region + "a", AZ: region + "a"}, {ID: "subnet-" + region + "b", AZ: region + "b"}, {ID: "subnet-" + region + "c", AZ: region + "c"}}
	}
	out := make([]subnet, 0, len(ids))
	for _, id := range ids {
		h := fnv.New32a()
		h.Write([]byte(id))
		out = append(out, subnet{ID: id, AZ: region + string(rune('a'+h.Sum32()%3))})
	}
	return out
}

func defaultLBAttrs(typ string) map[string]string {
	if typ == "network" {
		return map[string]string{
			"access_logs.s3.enabled": "false", "access_logs.s3.bucket": "", "access_logs.s3.prefix": "",
			"deletion_protection.enabled": "false", "load_balancing.cross_zone.enabled": "false",
			"dns_record.client_routing_policy": "any_availability_zone", "zonal_shift.config.enabled": "false",
		}
	}
	return map[string]string{
		"access_logs.s3.enabled": "false", "access_logs.s3.bucket": "", "access_logs.s3.prefix": "",
		"connection_logs.s3.enabled": "false", "connection_logs.s3.bucket": "", "connection_logs.s3.prefix": "",
		"deletion_protection.enabled": "false", "idle_timeout.timeout_seconds": "60",
		"client_keep_alive.seconds": "3600", "routing.http.desync_mitigation_mode": "defensive",
		"routing.http.drop_invalid_header_fields.enabled": "false", "routing.http.preserve_host_header.enabled": "false",
		"routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false", "routing.http.xff_client_port.enabled": "false",
		"routing.http.xff_header_processing.mode": "append", "routing.http2.enabled": "true",
		"waf.fail_open.enabled": "false", "zonal_shift.config.enabled": "false", "load_balancing.cross_zone.enabled": "true",
	}
}

func (s *Service) createLoadBalancer(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := str(in, "Name")
	if err := validName("LoadBalancer", name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "internal-") {
		return nil, validation("Load balancer name cannot start with 'internal-'")
	}
	typ := str(in, "Type")
	if typ == "" {
		typ = "application"
	}
	switch typ {
	case "application", "network":
	case "gateway":
		return nil, validation("Load balancers of type 'gateway' are not supported")
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [application, network, gateway]", typ)
	}
	scheme := str(in, "Scheme")
	if scheme == "" {
		scheme = "internet-facing"
	}
	if scheme != "internet-facing" && scheme != "internal" {
		return nil, validation("1 validation error detected: Value '%s' at 'scheme' failed to satisfy constraint: Member must satisfy enum value set: [internet-facing, internal]", scheme)
	}
	if has(in, "Subnets") && has(in, "SubnetMappings") {
		return nil, validation("You can specify subnets or subnet mappings, not both")
	}
	subnets := subnetsFor(r.Region, in)
	if typ == "application" {
		azs := map[string]bool{}
		seen := map[string]bool{}
		for _, sn := range subnets {
			if seen[sn.ID] {
				return nil, validation("Subnet '%s' is specified more than once", sn.ID)
			}
			seen[sn.ID] = true
			azs[sn.AZ] = true
		}
		if len(subnets) < 2 {
			return nil, validation("At least two subnets in two different Availability Zones must be specified")
		}
	}
	tags, terr := parseTags(in)
	if terr != nil {
		return nil, terr
	}
	ipType := str(in, "IpAddressType")
	if ipType == "" {
		ipType = "ipv4"
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, lb := range s.lbs {
		if lb.Account == r.Account && lb.Region == r.Region && lb.Name == name && lb.Classic == nil {
			if lb.Type == typ && lb.Scheme == scheme {
				return map[string]any{"LoadBalancers": []any{s.lbOut(lb, "")}}, nil
			}
			return nil, apiErr("DuplicateLoadBalancerNameException", "A load balancer with the same name '%s' exists, but with different settings", name)
		}
	}
	short := "app"
	if typ == "network" {
		short = "net"
	}
	id := hexID(16)
	dns := strings.ToLower(name) + "-" + digitsID(10) + "." + r.Region + dnsSuffix
	if typ == "network" {
		dns = strings.ToLower(name) + "-" + id + "." + r.Region + dnsSuffix
	}
	if scheme == "internal" {
		dns = "internal-" + dns
	}
	lb := &loadBalancer{
		ARN:     fmt.Sprintf("arn:%s:elasticloadbalancing:%s:%s:loadbalancer/%s/%s/%s", service.Partition(r.Region), r.Region, r.Account, short, name, id),
		Account: r.Account, Region: r.Region, Name: name, Type: typ, Scheme: scheme,
		IPAddressType: ipType, VpcID: "vpc-" + hexID(8)[:8], DNSName: dns, Created: s.clk.Now().UTC(),
		Subnets: subnets, SecurityGroups: strs(in, "SecurityGroups"), Attrs: defaultLBAttrs(typ), Tags: tags,
	}
	if typ == "network" {
		lb.SecurityGroups = nil
	}
	if err := s.commit(putW(r.Account, r.Region, kindLB, lb.ARN, lb)); err != nil {
		return nil, err
	}
	s.lbs[lb.ARN] = lb
	s.syncLocked()
	return map[string]any{"LoadBalancers": []any{s.lbOut(lb, "provisioning")}}, nil
}

// hostedZones are the canonical hosted zone ids of ALBs per region (NLBs use
// another set in AWS; one per region is enough for clients).
func hostedZone(region, typ string) string {
	if typ == "network" {
		return "Z26RNL4JYFTOTI"
	}
	return "Z35SXDOTRQ7X7K"
}

func (s *Service) lbOut(lb *loadBalancer, state string) map[string]any {
	if state == "" {
		state = "active"
	}
	azs := make([]any, 0, len(lb.Subnets))
	for _, sn := range lb.Subnets {
		azs = append(azs, map[string]any{"ZoneName": sn.AZ, "SubnetId": sn.ID, "LoadBalancerAddresses": []any{}})
	}
	out := map[string]any{
		"LoadBalancerArn":       lb.ARN,
		"DNSName":               lb.DNSName,
		"CanonicalHostedZoneId": hostedZone(lb.Region, lb.Type),
		"CreatedTime":           lb.Created,
		"LoadBalancerName":      lb.Name,
		"Scheme":                lb.Scheme,
		"VpcId":                 lb.VpcID,
		"State":                 map[string]any{"Code": state},
		"Type":                  lb.Type,
		"AvailabilityZones":     azs,
		"IpAddressType":         lb.IPAddressType,
	}
	if lb.Type == "application" {
		sgs := make([]any, 0, len(lb.SecurityGroups))
		for _, g := range lb.SecurityGroups {
			sgs = append(sgs, g)
		}
		out["SecurityGroups"] = sgs
	}
	return out
}

// v2LBs returns the account's and region's elbv2 load balancers sorted by name.
func (s *Service) v2LBs(account, region string) []*loadBalancer {
	var out []*loadBalancer
	for _, lb := range s.lbs {
		if lb.Account == account && lb.Region == region && lb.Classic == nil {
			out = append(out, lb)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Service) findLB(r *service.Request, arn string) (*loadBalancer, *awserr.Error) {
	if arn == "" {
		return nil, validation("A load balancer ARN must be specified")
	}
	if _, ok := parseARN(arn); !ok {
		return nil, validation("'%s' is not a valid load balancer ARN", arn)
	}
	lb := s.lbs[arn]
	if lb == nil || lb.Classic != nil || !inScope(arn, r.Account, r.Region) {
		return nil, errLBNotFound()
	}
	return lb, nil
}

func (s *Service) describeLoadBalancers(r *service.Request) (map[string]any, error) {
	arns, names := strs(r.Input, "LoadBalancerArns"), strs(r.Input, "Names")
	if len(arns) > 0 && len(names) > 0 {
		return nil, validation("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*loadBalancer
	switch {
	case len(arns) > 0:
		for _, a := range arns {
			lb, err := s.findLB(r, a)
			if err != nil {
				return nil, err
			}
			list = append(list, lb)
		}
	case len(names) > 0:
		all := s.v2LBs(r.Account, r.Region)
		for _, n := range names {
			var found *loadBalancer
			for _, lb := range all {
				if lb.Name == n {
					found = lb
				}
			}
			if found == nil {
				return nil, apiErr("LoadBalancerNotFoundException", "Load balancers '[%s]' not found", n)
			}
			list = append(list, found)
		}
	default:
		list = s.v2LBs(r.Account, r.Region)
	}
	from, to, next, perr := page(r.Input, len(list))
	if perr != nil {
		return nil, perr
	}
	out := make([]any, 0, to-from)
	for _, lb := range list[from:to] {
		out = append(out, s.lbOut(lb, ""))
	}
	res := map[string]any{"LoadBalancers": out}
	if next != "" {
		res["NextMarker"] = next
	}
	return res, nil
}

func (s *Service) deleteLoadBalancer(r *service.Request) (map[string]any, error) {
	arn := str(r.Input, "LoadBalancerArn")
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.findLB(r, arn)
	if err != nil {
		if err.Code == "LoadBalancerNotFoundException" {
			return map[string]any{}, nil
		}
		return nil, err
	}
	if lb.Attrs["deletion_protection.enabled"] == "true" {
		return nil, apiErr("OperationNotPermittedException", "Load balancer '%s' cannot be deleted because deletion protection is enabled", arn)
	}
	if err := s.deleteLBLocked(lb); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// deleteLBLocked removes lb with its listeners and rules.
func (s *Service) deleteLBLocked(lb *loadBalancer) error {
	ws := []write{delW(lb.Account, lb.Region, kindLB, lb.ARN)}
	var ls, rs []string
	for _, l := range s.listeners {
		if l.LBARN == lb.ARN {
			ls = append(ls, l.ARN)
			ws = append(ws, delW(lb.Account, lb.Region, kindListener, l.ARN))
			for _, ru := range s.rules {
				if ru.ListenerARN == l.ARN {
					rs = append(rs, ru.ARN)
					ws = append(ws, delW(lb.Account, lb.Region, kindRule, ru.ARN))
				}
			}
		}
	}
	if err := s.commit(ws...); err != nil {
		return err
	}
	delete(s.lbs, lb.ARN)
	for _, a := range ls {
		delete(s.listeners, a)
	}
	for _, a := range rs {
		delete(s.rules, a)
	}
	s.syncLocked()
	return nil
}

func (s *Service) describeLBAttributes(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.findLB(r, str(r.Input, "LoadBalancerArn"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"Attributes": attrsOut(lb.Attrs)}, nil
}

func validateLBAttr(typ, k, v string) *awserr.Error {
	switch k {
	case "deletion_protection.enabled", "access_logs.s3.enabled", "connection_logs.s3.enabled", "load_balancing.cross_zone.enabled",
		"routing.http.drop_invalid_header_fields.enabled", "routing.http.preserve_host_header.enabled",
		"routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "routing.http.xff_client_port.enabled",
		"routing.http2.enabled", "waf.fail_open.enabled", "zonal_shift.config.enabled":
		return boolAttr(k, v)
	case "idle_timeout.timeout_seconds":
		_, err := atoiRange(k, v, 1, 4000)
		return err
	case "client_keep_alive.seconds":
		_, err := atoiRange(k, v, 60, 604800)
		return err
	case "routing.http.desync_mitigation_mode":
		return oneOf(k, v, "monitor", "defensive", "strictest")
	case "routing.http.xff_header_processing.mode":
		return oneOf(k, v, "append", "preserve", "remove")
	case "dns_record.client_routing_policy":
		return oneOf(k, v, "availability_zone_affinity", "partial_availability_zone_affinity", "any_availability_zone")
	case "access_logs.s3.bucket", "access_logs.s3.prefix", "connection_logs.s3.bucket", "connection_logs.s3.prefix":
		return nil
	}
	return validation("Load balancer attribute key '%s' is not recognized", k)
}

func (s *Service) modifyLBAttributes(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.findLB(r, str(r.Input, "LoadBalancerArn"))
	if err != nil {
		return nil, err
	}
	attrs := cloneAttrs(lb.Attrs)
	for _, a := range objs(r.Input, "Attributes") {
		k, v := str(a, "Key"), str(a, "Value")
		if _, ok := lb.Attrs[k]; !ok {
			return nil, validation("Load balancer attribute key '%s' is not recognized", k)
		}
		if e := validateLBAttr(lb.Type, k, v); e != nil {
			return nil, e
		}
		attrs[k] = v
	}
	if attrs["access_logs.s3.enabled"] == "true" && attrs["access_logs.s3.bucket"] == "" {
		return nil, errInvalidConfig("The value of 'access_logs.s3.bucket' cannot be empty when access logs are enabled")
	}
	nlb := *lb
	nlb.Attrs = attrs
	if err := s.commit(putW(lb.Account, lb.Region, kindLB, lb.ARN, &nlb)); err != nil {
		return nil, err
	}
	s.lbs[lb.ARN] = &nlb
	s.syncLocked()
	return map[string]any{"Attributes": attrsOut(attrs)}, nil
}

func (s *Service) setSecurityGroups(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.findLB(r, str(r.Input, "LoadBalancerArn"))
	if err != nil {
		return nil, err
	}
	nlb := *lb
	nlb.SecurityGroups = strs(r.Input, "SecurityGroups")
	if err := s.commit(putW(lb.Account, lb.Region, kindLB, lb.ARN, &nlb)); err != nil {
		return nil, err
	}
	s.lbs[lb.ARN] = &nlb
	ids := make([]any, 0, len(nlb.SecurityGroups))
	for _, g := range nlb.SecurityGroups {
		ids = append(ids, g)
	}
	return map[string]any{"SecurityGroupIds": ids}, nil
}

func (s *Service) setSubnets(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.findLB(r, str(r.Input, "LoadBalancerArn"))
	if err != nil {
		return nil, err
	}
	nlb := *lb
	nlb.Subnets = subnetsFor(r.Region, r.Input)
	if err := s.commit(putW(lb.Account, lb.Region, kindLB, lb.ARN, &nlb)); err != nil {
		return nil, err
	}
	s.lbs[lb.ARN] = &nlb
	return map[string]any{"AvailabilityZones": s.lbOut(&nlb, "")["AvailabilityZones"], "IpAddressType": nlb.IPAddressType}, nil
}

func (s *Service) describeSSLPolicies(r *service.Request) (map[string]any, error) {
	names := []string{"ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-FS-1-2-Res-2020-10"}
	var out []any
	for _, n := range names {
		out = append(out, map[string]any{"Name": n, "SslProtocols": []any{"TLSv1.2"}, "SupportedLoadBalancerTypes": []any{"application", "network"}})
	}
	return map[string]any{"SslPolicies": out}, nil
}

func (s *Service) describeAccountLimits(r *service.Request) (map[string]any, error) {
	limits := [][2]string{
		{"application-load-balancers", "50"}, {"network-load-balancers", "50"}, {"target-groups", "3000"},
		{"targets-per-application-load-balancer", "1000"}, {"listeners-per-application-load-balancer", "50"},
		{"rules-per-application-load-balancer", "100"}, {"listeners-per-network-load-balancer", "50"},
		{"targets-per-network-load-balancer", "3000"}, {"condition-values-per-alb-rule", "5"},
		{"condition-wildcards-per-alb-rule", "5"}, {"target-groups-per-application-load-balancer", "100"},
		{"target-groups-per-action-on-application-load-balancer", "5"},
	}
	var out []any
	for _, l := range limits {
		out = append(out, map[string]any{"Name": l[0], "Max": l[1]})
	}
	return map[string]any{"Limits": out}, nil
}
