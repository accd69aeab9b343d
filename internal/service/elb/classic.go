package elb

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

// The classic API maps onto the same machinery: a classic load balancer is
// a load balancer with one hidden target group (its instances and health
// check) and one listener per classic listener forwarding to that group on
// the listener's InstancePort.

func (s *Service) classicHandlers() map[string]service.Handler {
	return map[string]service.Handler{
		"CreateLoadBalancer":                  s.cCreateLoadBalancer,
		"DescribeLoadBalancers":               s.cDescribeLoadBalancers,
		"DeleteLoadBalancer":                  s.cDeleteLoadBalancer,
		"RegisterInstancesWithLoadBalancer":   s.cRegisterInstances,
		"DeregisterInstancesFromLoadBalancer": s.cDeregisterInstances,
		"ConfigureHealthCheck":                s.cConfigureHealthCheck,
		"DescribeInstanceHealth":              s.cDescribeInstanceHealth,
		"DescribeLoadBalancerAttributes":      s.cDescribeAttributes,
		"ModifyLoadBalancerAttributes":        s.cModifyAttributes,
		"AddTags":                             s.cAddTags,
		"RemoveTags":                          s.cRemoveTags,
		"DescribeTags":                        s.cDescribeTags,
	}
}

func errAccessPoint(name string) *awserr.Error {
	return apiErr("AccessPointNotFoundException", "There is no ACTIVE Load Balancer named '%s'", name)
}

func (s *Service) classicLB(r *service.Request, name string) (*loadBalancer, *awserr.Error) {
	if name == "" {
		return nil, validation("LoadBalancerName is required")
	}
	for _, lb := range s.lbs {
		if lb.Classic != nil && lb.Name == name && lb.Account == r.Account && lb.Region == r.Region {
			return lb, nil
		}
	}
	return nil, errAccessPoint(name)
}

// parseHealthTarget parses "HTTP:80/path", "TCP:80".
func parseHealthTarget(t string) (protocol, port, path string, ok bool) {
	proto, rest, found := strings.Cut(t, ":")
	if !found {
		return "", "", "", false
	}
	proto = strings.ToUpper(proto)
	switch proto {
	case "HTTP", "HTTPS":
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return "", "", "", false
		}
		port, path = rest[:i], rest[i:]
	case "TCP", "SSL":
		port = rest
		if proto == "SSL" {
			proto = "TCP"
		}
	default:
		return "", "", "", false
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", "", "", false
	}
	return proto, port, path, true
}

func classicHC(h classicHealth) healthCheck {
	proto, port, path, _ := parseHealthTarget(h.Target)
	hc := healthCheck{Enabled: true, Protocol: proto, Port: port, Path: path, Interval: h.Interval, Timeout: h.Timeout, Healthy: h.Healthy, Unhealthy: h.Unhealthy}
	if proto != "TCP" {
		hc.Matcher = "200"
	}
	return hc
}

func (s *Service) cCreateLoadBalancer(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := str(in, "LoadBalancerName")
	if err := validName("LoadBalancer", name); err != nil {
		return nil, err
	}
	var ls []classicListener
	ports := map[int]bool{}
	for _, m := range objs(in, "Listeners") {
		cl := classicListener{Protocol: strings.ToUpper(str(m, "Protocol")), InstanceProtocol: strings.ToUpper(str(m, "InstanceProtocol")), SSLCertificateID: str(m, "SSLCertificateId")}
		cl.Port, _ = num(m, "LoadBalancerPort")
		cl.InstancePort, _ = num(m, "InstancePort")
		switch cl.Protocol {
		case "HTTP", "TCP":
		case "HTTPS", "SSL":
			if cl.SSLCertificateID == "" {
				return nil, validation("SSLCertificateId is required for listeners with the %s protocol", cl.Protocol)
			}
		default:
			return nil, validation("Invalid LoadBalancer Protocol: %s", str(m, "Protocol"))
		}
		if cl.InstanceProtocol == "" {
			cl.InstanceProtocol = cl.Protocol
			if cl.Protocol == "HTTPS" {
				cl.InstanceProtocol = "HTTP"
			}
			if cl.Protocol == "SSL" {
				cl.InstanceProtocol = "TCP"
			}
		}
		if cl.Port < 1 || cl.Port > 65535 || cl.InstancePort < 1 || cl.InstancePort > 65535 {
			return nil, validation("Invalid port: ports must be between 1 and 65535")
		}
		if ports[cl.Port] {
			return nil, apiErr("DuplicateListenerException", "A listener already exists for %s with LoadBalancerPort %d", name, cl.Port)
		}
		ports[cl.Port] = true
		ls = append(ls, cl)
	}
	if len(ls) == 0 {
		return nil, validation("At least one listener must be specified")
	}
	azs := strs(in, "AvailabilityZones")
	subnets := strs(in, "Subnets")
	if len(azs) == 0 && len(subnets) == 0 {
		return nil, validation("Either AvailabilityZones or SubnetIds must be specified")
	}
	scheme := str(in, "Scheme")
	if scheme == "" {
		scheme = "internet-facing"
	}
	tags, terr := parseTags(in)
	if terr != nil {
		return nil, terr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if lb, err := s.classicLB(r, name); err == nil {
		return nil, apiErr("DuplicateAccessPointNameException", "Load Balancer named '%s' already exists and it is configured with different parameters.", lb.Name)
	}
	id := digitsID(10)
	dns := strings.ToLower(name) + "-" + id + "." + r.Region + dnsSuffix
	if scheme == "internal" {
		dns = "internal-" + dns
	}
	var sns []subnet
	if len(subnets) > 0 {
		sns = subnetsFor(r.Region, map[string]any{"Subnets": in["Subnets"]})
	} else {
		for _, az := range azs {
			sns = append(sns, subnet{AZ: az})
		}
	}
	lbARN := fmt.Sprintf("arn:%s:elasticloadbalancing:%s:%s:loadbalancer/%s", service.Partition(r.Region), r.Region, r.Account, name)
	hc := classicHealth{Target: fmt.Sprintf("TCP:%d", ls[0].InstancePort), Interval: 30, Timeout: 5, Healthy: 10, Unhealthy: 2}
	tg := &targetGroup{
		ARN:     fmt.Sprintf("arn:%s:elasticloadbalancing:%s:%s:targetgroup/classic-%s/%s", service.Partition(r.Region), r.Region, r.Account, name, hexID(16)),
		Account: r.Account, Region: r.Region, Name: name, Protocol: "HTTP", Port: ls[0].InstancePort, TargetType: "instance",
		HC: classicHC(hc), Attrs: map[string]string{"deregistration_delay.timeout_seconds": "0", "load_balancing.algorithm.type": "round_robin"},
		Classic: name,
	}
	lb := &loadBalancer{
		ARN: lbARN, Account: r.Account, Region: r.Region, Name: name, Type: "classic", Scheme: scheme, IPAddressType: "ipv4",
		VpcID: "", DNSName: dns, Created: s.clk.Now().UTC(), Subnets: sns, SecurityGroups: strs(in, "SecurityGroups"),
		Attrs: map[string]string{
			"CrossZoneLoadBalancing.Enabled": "false", "ConnectionDraining.Enabled": "false", "ConnectionDraining.Timeout": "300",
			"ConnectionSettings.IdleTimeout": "60", "AccessLog.Enabled": "false",
		},
		Tags:    tags,
		Classic: &classicConfig{Listeners: ls, AZs: azs, HealthCheck: hc, TargetGroup: tg.ARN},
	}
	if len(subnets) > 0 {
		lb.VpcID = "vpc-" + hexID(8)
	}
	ws := []write{putW(r.Account, r.Region, kindLB, lb.ARN, lb), putW(r.Account, r.Region, kindTG, tg.ARN, tg)}
	var lsts []*listener
	for _, cl := range ls {
		proto := "HTTP"
		if cl.Protocol == "TCP" || cl.Protocol == "SSL" {
			proto = "TCP"
		}
		if cl.Protocol == "HTTPS" {
			proto = "HTTPS"
		}
		l := &listener{
			ARN: lbARN + "/listener/" + strconv.Itoa(cl.Port), LBARN: lbARN, Protocol: proto, Port: cl.Port, InstanceProtocol: cl.InstanceProtocol,
			DefaultActions: []action{{Type: "forward", Forward: &forwardConfig{TargetGroups: []tgWeight{{ARN: tg.ARN, Weight: 1}}}, PortOverride: cl.InstancePort}},
		}
		if cl.SSLCertificateID != "" {
			l.Certificates = []string{cl.SSLCertificateID}
		}
		lsts = append(lsts, l)
		ws = append(ws, putW(r.Account, r.Region, kindListener, l.ARN, l))
	}
	if err := s.commit(ws...); err != nil {
		return nil, err
	}
	s.lbs[lb.ARN] = lb
	s.tgs[tg.ARN] = tg
	for _, l := range lsts {
		s.listeners[l.ARN] = l
	}
	s.syncLocked()
	return map[string]any{"DNSName": dns}, nil
}

func (s *Service) cOut(lb *loadBalancer) map[string]any {
	c := lb.Classic
	var lds []any
	for _, cl := range c.Listeners {
		l := map[string]any{"Protocol": cl.Protocol, "LoadBalancerPort": int64(cl.Port), "InstanceProtocol": cl.InstanceProtocol, "InstancePort": int64(cl.InstancePort)}
		if cl.SSLCertificateID != "" {
			l["SSLCertificateId"] = cl.SSLCertificateID
		}
		lds = append(lds, map[string]any{"Listener": l, "PolicyNames": []any{}})
	}
	var insts []any
	if tg := s.tgs[c.TargetGroup]; tg != nil {
		for _, t := range tg.Targets {
			insts = append(insts, map[string]any{"InstanceId": t.ID})
		}
	}
	azs, subnets := []any{}, []any{}
	for _, sn := range lb.Subnets {
		azs = append(azs, sn.AZ)
		if sn.ID != "" {
			subnets = append(subnets, sn.ID)
		}
	}
	sgs := []any{}
	for _, g := range lb.SecurityGroups {
		sgs = append(sgs, g)
	}
	h := c.HealthCheck
	out := map[string]any{
		"LoadBalancerName": lb.Name, "DNSName": lb.DNSName, "CanonicalHostedZoneName": lb.DNSName,
		"CanonicalHostedZoneNameID": "Z35SXDOTRQ7X7K", "ListenerDescriptions": lds,
		"Policies":                  map[string]any{"AppCookieStickinessPolicies": []any{}, "LBCookieStickinessPolicies": []any{}, "OtherPolicies": []any{}},
		"BackendServerDescriptions": []any{}, "AvailabilityZones": azs, "Subnets": subnets, "Instances": insts,
		"HealthCheck":         map[string]any{"Target": h.Target, "Interval": int64(h.Interval), "Timeout": int64(h.Timeout), "UnhealthyThreshold": int64(h.Unhealthy), "HealthyThreshold": int64(h.Healthy)},
		"SourceSecurityGroup": map[string]any{"OwnerAlias": "amazon-elb", "GroupName": "amazon-elb-sg"},
		"SecurityGroups":      sgs, "CreatedTime": lb.Created, "Scheme": lb.Scheme,
	}
	if lb.VpcID != "" {
		out["VPCId"] = lb.VpcID
	}
	return out
}

func (s *Service) cDescribeLoadBalancers(r *service.Request) (map[string]any, error) {
	names := strs(r.Input, "LoadBalancerNames")
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*loadBalancer
	if len(names) > 0 {
		for _, n := range names {
			lb, err := s.classicLB(r, n)
			if err != nil {
				return nil, err
			}
			list = append(list, lb)
		}
	} else {
		for _, lb := range s.lbs {
			if lb.Classic != nil && lb.Account == r.Account && lb.Region == r.Region {
				list = append(list, lb)
			}
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	}
	from, to, next, perr := page(r.Input, len(list))
	if perr != nil {
		return nil, perr
	}
	out := []any{}
	for _, lb := range list[from:to] {
		out = append(out, s.cOut(lb))
	}
	res := map[string]any{"LoadBalancerDescriptions": out}
	if next != "" {
		res["NextMarker"] = next
	}
	return res, nil
}

func (s *Service) cDeleteLoadBalancer(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.classicLB(r, str(r.Input, "LoadBalancerName"))
	if err != nil {
		return map[string]any{}, nil // deleting a missing classic load balancer succeeds
	}
	tgARN := lb.Classic.TargetGroup
	if err := s.deleteLBLocked(lb); err != nil {
		return nil, err
	}
	if tg := s.tgs[tgARN]; tg != nil {
		if err := s.commit(delW(tg.Account, tg.Region, kindTG, tgARN)); err != nil {
			return nil, err
		}
		delete(s.tgs, tgARN)
		s.syncLocked()
	}
	return map[string]any{}, nil
}

func instancesOut(tg *targetGroup) []any {
	out := []any{}
	for _, t := range tg.Targets {
		out = append(out, map[string]any{"InstanceId": t.ID})
	}
	return out
}

func (s *Service) cInstances(in map[string]any, tg *targetGroup) ([]targetReg, *awserr.Error) {
	var out []targetReg
	for _, m := range objs(in, "Instances") {
		id := str(m, "InstanceId")
		if !strings.HasPrefix(id, "i-") {
			return nil, apiErr("InvalidEndPointException", "The requested instance '%s' is not a valid EC2 instance", id)
		}
		out = append(out, targetReg{ID: id, Port: tg.Port})
	}
	return out, nil
}

func (s *Service) cRegisterInstances(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.classicLB(r, str(r.Input, "LoadBalancerName"))
	if err != nil {
		return nil, err
	}
	tg := s.tgs[lb.Classic.TargetGroup]
	ts, ierr := s.cInstances(r.Input, tg)
	if ierr != nil {
		return nil, ierr
	}
	if e := s.registerLocked(tg, ts); e != nil {
		return nil, e
	}
	return map[string]any{"Instances": instancesOut(s.tgs[tg.ARN])}, nil
}

func (s *Service) cDeregisterInstances(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.classicLB(r, str(r.Input, "LoadBalancerName"))
	if err != nil {
		return nil, err
	}
	tg := s.tgs[lb.Classic.TargetGroup]
	ts, ierr := s.cInstances(r.Input, tg)
	if ierr != nil {
		return nil, ierr
	}
	if e := s.deregisterLocked(tg, ts); e != nil {
		return nil, e
	}
	return map[string]any{"Instances": instancesOut(s.tgs[tg.ARN])}, nil
}

func (s *Service) cConfigureHealthCheck(r *service.Request) (map[string]any, error) {
	h := obj(r.Input, "HealthCheck")
	hc := classicHealth{Target: str(h, "Target")}
	hc.Interval, _ = num(h, "Interval")
	hc.Timeout, _ = num(h, "Timeout")
	hc.Healthy, _ = num(h, "HealthyThreshold")
	hc.Unhealthy, _ = num(h, "UnhealthyThreshold")
	if _, _, _, ok := parseHealthTarget(hc.Target); !ok {
		return nil, validation("Invalid HealthCheck Target: %s", hc.Target)
	}
	switch {
	case hc.Interval < 5 || hc.Interval > 300:
		return nil, validation("Interval must be between 5 and 300 seconds")
	case hc.Timeout < 2 || hc.Timeout > 60:
		return nil, validation("Timeout must be between 2 and 60 seconds")
	case hc.Timeout >= hc.Interval:
		return nil, validation("Interval must be greater than Timeout")
	case hc.Healthy < 2 || hc.Healthy > 10, hc.Unhealthy < 2 || hc.Unhealthy > 10:
		return nil, validation("Thresholds must be between 2 and 10")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.classicLB(r, str(r.Input, "LoadBalancerName"))
	if err != nil {
		return nil, err
	}
	nlb := *lb
	c := *lb.Classic
	c.HealthCheck = hc
	nlb.Classic = &c
	tg := *s.tgs[c.TargetGroup]
	tg.HC = classicHC(hc)
	if err := s.commit(putW(lb.Account, lb.Region, kindLB, lb.ARN, &nlb), putW(tg.Account, tg.Region, kindTG, tg.ARN, &tg)); err != nil {
		return nil, err
	}
	s.lbs[lb.ARN] = &nlb
	s.tgs[tg.ARN] = &tg
	s.syncLocked()
	return map[string]any{"HealthCheck": map[string]any{"Target": hc.Target, "Interval": int64(hc.Interval), "Timeout": int64(hc.Timeout), "UnhealthyThreshold": int64(hc.Unhealthy), "HealthyThreshold": int64(hc.Healthy)}}, nil
}

// InstanceState is a classic load balancer instance's health.
type InstanceState struct {
	InstanceID string
	// State is InService, OutOfService or Unknown.
	State string
	// ReasonCode is ELB or Instance ("N/A" when in service).
	ReasonCode, Description string
}

func classicState(h TargetHealth) InstanceState {
	switch h.State {
	case "healthy", "unavailable":
		return InstanceState{InstanceID: h.ID, State: "InService", ReasonCode: "N/A", Description: "N/A"}
	case "initial":
		return InstanceState{InstanceID: h.ID, State: "OutOfService", ReasonCode: "ELB", Description: "Instance registration is still in progress."}
	case "unused":
		return InstanceState{InstanceID: h.ID, State: "Unknown", ReasonCode: "ELB", Description: "Instance is not registered with the load balancer."}
	case "draining":
		return InstanceState{InstanceID: h.ID, State: "OutOfService", ReasonCode: "ELB", Description: "Instance deregistration currently in progress."}
	}
	return InstanceState{InstanceID: h.ID, State: "OutOfService", ReasonCode: "Instance", Description: "Instance has failed at least the UnhealthyThreshold number of health checks consecutively."}
}

func (s *Service) cDescribeInstanceHealth(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	lb, err := s.classicLB(r, str(r.Input, "LoadBalancerName"))
	var rt *tgRuntime
	var want []targetReg
	if err == nil {
		tg := s.tgs[lb.Classic.TargetGroup]
		rt = s.tgRT[tg.ARN]
		for _, m := range objs(r.Input, "Instances") {
			id := str(m, "InstanceId")
			known := false
			for _, t := range tg.Targets {
				if t.ID == id {
					known = true
				}
			}
			if !known {
				s.mu.Unlock()
				return nil, apiErr("InvalidEndPointException", "Could not find EC2 instance %s.", id)
			}
			want = append(want, targetReg{ID: id, Port: tg.Port})
		}
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := []any{}
	if rt != nil {
		for _, h := range rt.health(want) {
			st := classicState(h)
			out = append(out, map[string]any{"InstanceId": st.InstanceID, "State": st.State, "ReasonCode": st.ReasonCode, "Description": st.Description})
		}
	}
	return map[string]any{"InstanceStates": out}, nil
}

func (s *Service) cAttrsOut(lb *loadBalancer) map[string]any {
	a := lb.Attrs
	b := func(k string) bool { return a[k] == "true" }
	n := func(k string) int64 { v, _ := strconv.Atoi(a[k]); return int64(v) }
	return map[string]any{
		"CrossZoneLoadBalancing": map[string]any{"Enabled": b("CrossZoneLoadBalancing.Enabled")},
		"ConnectionDraining":     map[string]any{"Enabled": b("ConnectionDraining.Enabled"), "Timeout": n("ConnectionDraining.Timeout")},
		"ConnectionSettings":     map[string]any{"IdleTimeout": n("ConnectionSettings.IdleTimeout")},
		"AccessLog":              map[string]any{"Enabled": b("AccessLog.Enabled")},
	}
}

func (s *Service) cDescribeAttributes(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.classicLB(r, str(r.Input, "LoadBalancerName"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"LoadBalancerAttributes": s.cAttrsOut(lb)}, nil
}

func (s *Service) cModifyAttributes(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.classicLB(r, str(r.Input, "LoadBalancerName"))
	if err != nil {
		return nil, err
	}
	in := obj(r.Input, "LoadBalancerAttributes")
	attrs := cloneAttrs(lb.Attrs)
	if c := obj(in, "CrossZoneLoadBalancing"); c != nil {
		v, _ := boolv(c, "Enabled")
		attrs["CrossZoneLoadBalancing.Enabled"] = strconv.FormatBool(v)
	}
	if c := obj(in, "ConnectionDraining"); c != nil {
		v, _ := boolv(c, "Enabled")
		attrs["ConnectionDraining.Enabled"] = strconv.FormatBool(v)
		if t, ok := num(c, "Timeout"); ok {
			if t < 1 || t > 3600 {
				return nil, validation("ConnectionDraining timeout must be between 1 and 3600 seconds")
			}
			attrs["ConnectionDraining.Timeout"] = strconv.Itoa(t)
		}
	}
	if c := obj(in, "ConnectionSettings"); c != nil {
		t, _ := num(c, "IdleTimeout")
		if t < 1 || t > 4000 {
			return nil, validation("IdleTimeout must be between 1 and 4000 seconds")
		}
		attrs["ConnectionSettings.IdleTimeout"] = strconv.Itoa(t)
	}
	if c := obj(in, "AccessLog"); c != nil {
		v, _ := boolv(c, "Enabled")
		attrs["AccessLog.Enabled"] = strconv.FormatBool(v)
	}
	nlb := *lb
	nlb.Attrs = attrs
	tg := *s.tgs[lb.Classic.TargetGroup]
	tg.Attrs = cloneAttrs(tg.Attrs)
	tg.Attrs["deregistration_delay.timeout_seconds"] = "0"
	if attrs["ConnectionDraining.Enabled"] == "true" {
		tg.Attrs["deregistration_delay.timeout_seconds"] = attrs["ConnectionDraining.Timeout"]
	}
	if err := s.commit(putW(lb.Account, lb.Region, kindLB, lb.ARN, &nlb), putW(tg.Account, tg.Region, kindTG, tg.ARN, &tg)); err != nil {
		return nil, err
	}
	s.lbs[lb.ARN] = &nlb
	s.tgs[tg.ARN] = &tg
	s.syncLocked()
	return map[string]any{"LoadBalancerName": lb.Name, "LoadBalancerAttributes": s.cAttrsOut(&nlb)}, nil
}

func (s *Service) cEditTags(r *service.Request, edit func([]tag) ([]tag, *awserr.Error)) (map[string]any, error) {
	names := strs(r.Input, "LoadBalancerNames")
	s.mu.Lock()
	defer s.mu.Unlock()
	var ws []write
	var upd []*loadBalancer
	for _, n := range names {
		lb, err := s.classicLB(r, n)
		if err != nil {
			return nil, err
		}
		nt, terr := edit(lb.Tags)
		if terr != nil {
			return nil, terr
		}
		c := *lb
		c.Tags = nt
		upd = append(upd, &c)
		ws = append(ws, putW(c.Account, c.Region, kindLB, c.ARN, &c))
	}
	if err := s.commit(ws...); err != nil {
		return nil, err
	}
	for _, lb := range upd {
		s.lbs[lb.ARN] = lb
	}
	return map[string]any{}, nil
}

func (s *Service) cAddTags(r *service.Request) (map[string]any, error) {
	add, terr := parseTags(r.Input)
	if terr != nil {
		return nil, terr
	}
	return s.cEditTags(r, func(t []tag) ([]tag, *awserr.Error) { return mergeTags(t, add) })
}

func (s *Service) cRemoveTags(r *service.Request) (map[string]any, error) {
	var keys []string
	for _, t := range objs(r.Input, "Tags") {
		keys = append(keys, str(t, "Key"))
	}
	return s.cEditTags(r, func(t []tag) ([]tag, *awserr.Error) { return removeTags(t, keys), nil })
}

func (s *Service) cDescribeTags(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []any
	for _, n := range strs(r.Input, "LoadBalancerNames") {
		lb, err := s.classicLB(r, n)
		if err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"LoadBalancerName": n, "Tags": tagsOut(lb.Tags)})
	}
	return map[string]any{"TagDescriptions": out}, nil
}
