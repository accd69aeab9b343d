package elb

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

func isL4(protocol string) bool {
	switch protocol {
	case "TCP", "UDP", "TLS", "TCP_UDP":
		return true
	}
	return false
}

func defaultHC(protocol, targetType string) healthCheck {
	if targetType == "lambda" {
		// Lambda targets: health checks off, an invocation every 35 seconds when on.
		return healthCheck{Path: "/", Interval: 35, Timeout: 30, Healthy: 5, Unhealthy: 2, Matcher: "200"}
	}
	if isL4(protocol) {
		return healthCheck{Enabled: true, Protocol: "TCP", Port: "traffic-port", Interval: 30, Timeout: 10, Healthy: 5, Unhealthy: 2}
	}
	hc := healthCheck{Enabled: true, Protocol: protocol, Port: "traffic-port", Path: "/", Interval: 30, Timeout: 5, Healthy: 5, Unhealthy: 2, Matcher: "200"}
	if protocol == "" {
		hc.Protocol = "HTTP"
	}
	return hc
}

func defaultTGAttrs(protocol, targetType string) map[string]string {
	if targetType == "lambda" {
		return map[string]string{"lambda.multi_value_headers.enabled": "false"}
	}
	if isL4(protocol) {
		return map[string]string{
			"deregistration_delay.timeout_seconds": "300", "deregistration_delay.connection_termination.enabled": "false",
			"stickiness.enabled": "false", "stickiness.type": "source_ip", "proxy_protocol_v2.enabled": "false",
			"preserve_client_ip.enabled":                                   strconv.FormatBool(targetType == "instance"),
			"load_balancing.cross_zone.enabled":                            "use_load_balancer_configuration",
			"target_health_state.unhealthy.connection_termination.enabled": "true",
		}
	}
	return map[string]string{
		"deregistration_delay.timeout_seconds": "300", "stickiness.enabled": "false", "stickiness.type": "lb_cookie",
		"stickiness.lb_cookie.duration_seconds": "86400", "stickiness.app_cookie.cookie_name": "",
		"stickiness.app_cookie.duration_seconds": "86400", "slow_start.duration_seconds": "0",
		"load_balancing.algorithm.type": "round_robin", "load_balancing.algorithm.anomaly_mitigation": "off",
		"load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
	}
}

// applyHC reads health check members of in over hc and validates them.
func applyHC(hc *healthCheck, in map[string]any, protocol string) *awserr.Error {
	if v, ok := boolv(in, "HealthCheckEnabled"); ok {
		hc.Enabled = v
	}
	if v := str(in, "HealthCheckProtocol"); v != "" {
		switch v {
		case "HTTP", "HTTPS", "TCP":
		default:
			return validation("Health check protocol '%s' is not supported", v)
		}
		if !isL4(protocol) && v == "TCP" {
			return validation("Health check protocol 'TCP' is not supported for target groups with the '%s' protocol", protocol)
		}
		hc.Protocol = v
		if v != "TCP" && hc.Path == "" {
			hc.Path, hc.Matcher = "/", "200-399"
		}
	}
	if v := str(in, "HealthCheckPort"); v != "" {
		if v != "traffic-port" {
			if _, err := atoiRange("HealthCheckPort", v, 1, 65535); err != nil {
				return validation("Health check port '%s' is not valid", v)
			}
		}
		hc.Port = v
	}
	if v := str(in, "HealthCheckPath"); v != "" {
		if hc.Protocol == "TCP" {
			return validation("Health check path cannot be specified with the 'TCP' health check protocol")
		}
		if !strings.HasPrefix(v, "/") || len(v) > 1024 {
			return validation("Health check path must begin with '/' and be at most 1024 characters")
		}
		hc.Path = v
	}
	type rng struct {
		k      string
		p      *int
		lo, hi int
	}
	for _, x := range []rng{
		{"HealthCheckIntervalSeconds", &hc.Interval, 5, 300},
		{"HealthCheckTimeoutSeconds", &hc.Timeout, 2, 120},
		{"HealthyThresholdCount", &hc.Healthy, 2, 10},
		{"UnhealthyThresholdCount", &hc.Unhealthy, 2, 10},
	} {
		if v, ok := num(in, x.k); ok {
			if v < x.lo || v > x.hi {
				field := strings.ToLower(x.k[:1]) + x.k[1:]
				return validation("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value %s %d", v, field, map[bool]string{true: "greater than or equal to", false: "less than or equal to"}[v < x.lo], map[bool]int{true: x.lo, false: x.hi}[v < x.lo])
			}
			*x.p = v
		}
	}
	if hc.Timeout >= hc.Interval {
		return validation("Health check timeout '%d' must be smaller than the interval '%d'", hc.Timeout, hc.Interval)
	}
	if m := obj(in, "Matcher"); m != nil {
		code := str(m, "HttpCode")
		if hc.Protocol == "TCP" {
			return validation("Health check matcher HTTP code cannot be specified with the 'TCP' health check protocol")
		}
		if _, ok := parseMatcher(code); !ok {
			return validation("Health check matcher HTTP code '%s' must be a single value, a comma-separated list of values or a range of values between 200 and 499", code)
		}
		hc.Matcher = code
	}
	return nil
}

// parseMatcher parses "200", "200,202" or "200-299" into ranges.
func parseMatcher(code string) ([][2]int, bool) {
	if code == "" {
		return nil, false
	}
	var out [][2]int
	for _, part := range strings.Split(code, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil || a < 200 || a > 499 {
			return nil, false
		}
		b := a
		if isRange {
			b, err = strconv.Atoi(strings.TrimSpace(hi))
			if err != nil || b < a || b > 499 {
				return nil, false
			}
		}
		out = append(out, [2]int{a, b})
	}
	return out, true
}

func (s *Service) createTargetGroup(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := str(in, "Name")
	if err := validName("Target group", name); err != nil {
		return nil, err
	}
	targetType := str(in, "TargetType")
	if targetType == "" {
		targetType = "instance"
	}
	switch targetType {
	case "instance", "ip":
	case "lambda":
		return s.createLambdaTargetGroup(r, name)
	case "alb":
		return nil, validation("Target groups of type '%s' are not supported", targetType)
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [instance, ip, lambda, alb]", targetType)
	}
	protocol := str(in, "Protocol")
	port, hasPort := num(in, "Port")
	if protocol == "" {
		return nil, validation("A protocol must be specified")
	}
	switch protocol {
	case "HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP":
	case "GENEVE":
		return nil, validation("Target groups with the 'GENEVE' protocol are not supported")
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'protocol' failed to satisfy constraint: Member must satisfy enum value set: [HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE]", protocol)
	}
	if !hasPort {
		return nil, validation("A port must be specified")
	}
	if port < 1 || port > 65535 {
		return nil, validation("1 validation error detected: Value '%d' at 'port' failed to satisfy constraint: Member must have value less than or equal to 65535", port)
	}
	vpc := str(in, "VpcId")
	if vpc == "" {
		return nil, validation("A VPC ID must be specified")
	}
	pv := str(in, "ProtocolVersion")
	if pv != "" && isL4(protocol) {
		return nil, validation("A protocol version can only be specified for target groups with the 'HTTP' or 'HTTPS' protocol")
	}
	if pv == "" && !isL4(protocol) {
		pv = "HTTP1"
	}
	hc := defaultHC(protocol, targetType)
	if err := applyHC(&hc, in, protocol); err != nil {
		return nil, err
	}
	tags, terr := parseTags(in)
	if terr != nil {
		return nil, terr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tg := range s.tgs {
		if tg.Account == r.Account && tg.Region == r.Region && tg.Name == name && tg.Classic == "" {
			if tg.Protocol == protocol && tg.Port == port && tg.TargetType == targetType && tg.VpcID == vpc {
				return map[string]any{"TargetGroups": []any{s.tgOut(tg)}}, nil
			}
			return nil, apiErr("DuplicateTargetGroupNameException", "A target group with the same name '%s' exists, but with different settings", name)
		}
	}
	tg := &targetGroup{
		ARN:     fmt.Sprintf("arn:%s:elasticloadbalancing:%s:%s:targetgroup/%s/%s", service.Partition(r.Region), r.Region, r.Account, name, hexID(16)),
		Account: r.Account, Region: r.Region, Name: name, Protocol: protocol, ProtocolVersion: pv, Port: port,
		VpcID: vpc, TargetType: targetType, IPAddressType: "ipv4", HC: hc, Attrs: defaultTGAttrs(protocol, targetType), Tags: tags,
	}
	if err := s.commit(putW(r.Account, r.Region, kindTG, tg.ARN, tg)); err != nil {
		return nil, err
	}
	s.tgs[tg.ARN] = tg
	s.syncLocked()
	return map[string]any{"TargetGroups": []any{s.tgOut(tg)}}, nil
}

// tgLBs returns the load balancers whose listeners or rules forward to arn.
func (s *Service) tgLBs(arn string) []string {
	set := map[string]bool{}
	refs := func(acts []action) bool {
		for _, a := range acts {
			if a.Forward != nil {
				for _, t := range a.Forward.TargetGroups {
					if t.ARN == arn {
						return true
					}
				}
			}
		}
		return false
	}
	for _, l := range s.listeners {
		if refs(l.DefaultActions) {
			set[l.LBARN] = true
		}
	}
	for _, ru := range s.rules {
		if refs(ru.Actions) {
			if l := s.listeners[ru.ListenerARN]; l != nil {
				set[l.LBARN] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func (s *Service) tgOut(tg *targetGroup) map[string]any {
	lbs := []any{}
	for _, a := range s.tgLBs(tg.ARN) {
		lbs = append(lbs, a)
	}
	out := map[string]any{
		"TargetGroupArn":             tg.ARN,
		"TargetGroupName":            tg.Name,
		"HealthCheckEnabled":         tg.HC.Enabled,
		"HealthCheckIntervalSeconds": int64(tg.HC.Interval),
		"HealthCheckTimeoutSeconds":  int64(tg.HC.Timeout),
		"HealthyThresholdCount":      int64(tg.HC.Healthy),
		"UnhealthyThresholdCount":    int64(tg.HC.Unhealthy),
		"LoadBalancerArns":           lbs,
		"TargetType":                 tg.TargetType,
	}
	if tg.TargetType != "lambda" {
		out["Protocol"] = tg.Protocol
		out["Port"] = int64(tg.Port)
		out["VpcId"] = tg.VpcID
		out["HealthCheckProtocol"] = tg.HC.Protocol
		out["HealthCheckPort"] = tg.HC.Port
		out["IpAddressType"] = tg.IPAddressType
	}
	if tg.HC.Path != "" {
		out["HealthCheckPath"] = tg.HC.Path
	}
	if tg.HC.Matcher != "" {
		out["Matcher"] = map[string]any{"HttpCode": tg.HC.Matcher}
	}
	if tg.ProtocolVersion != "" {
		out["ProtocolVersion"] = tg.ProtocolVersion
	}
	return out
}

func (s *Service) findTG(r *service.Request, arn string) (*targetGroup, *awserr.Error) {
	if arn == "" {
		return nil, validation("A target group ARN must be specified")
	}
	if _, ok := parseARN(arn); !ok {
		return nil, validation("'%s' is not a valid target group ARN", arn)
	}
	tg := s.tgs[arn]
	if tg == nil || tg.Classic != "" || !inScope(arn, r.Account, r.Region) {
		return nil, errTGNotFound()
	}
	return tg, nil
}

func (s *Service) describeTargetGroups(r *service.Request) (map[string]any, error) {
	in := r.Input
	lbARN, arns, names := str(in, "LoadBalancerArn"), strs(in, "TargetGroupArns"), strs(in, "Names")
	n := 0
	for _, b := range []bool{lbARN != "", len(arns) > 0, len(names) > 0} {
		if b {
			n++
		}
	}
	if n > 1 {
		return nil, validation("Target group names, target group ARNs, and a load balancer ARN cannot be specified at the same time")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*targetGroup
	for _, tg := range s.tgs {
		if tg.Account == r.Account && tg.Region == r.Region && tg.Classic == "" {
			all = append(all, tg)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	var list []*targetGroup
	switch {
	case lbARN != "":
		if _, err := s.findLB(r, lbARN); err != nil {
			return nil, err
		}
		for _, tg := range all {
			for _, a := range s.tgLBs(tg.ARN) {
				if a == lbARN {
					list = append(list, tg)
				}
			}
		}
	case len(arns) > 0:
		for _, a := range arns {
			tg, err := s.findTG(r, a)
			if err != nil {
				return nil, err
			}
			list = append(list, tg)
		}
	case len(names) > 0:
		for _, nm := range names {
			var found *targetGroup
			for _, tg := range all {
				if tg.Name == nm {
					found = tg
				}
			}
			if found == nil {
				return nil, apiErr("TargetGroupNotFoundException", "Target groups '[%s]' not found", nm)
			}
			list = append(list, found)
		}
	default:
		list = all
	}
	from, to, next, perr := page(in, len(list))
	if perr != nil {
		return nil, perr
	}
	out := make([]any, 0, to-from)
	for _, tg := range list[from:to] {
		out = append(out, s.tgOut(tg))
	}
	res := map[string]any{"TargetGroups": out}
	if next != "" {
		res["NextMarker"] = next
	}
	return res, nil
}

func (s *Service) modifyTargetGroup(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, err := s.findTG(r, str(r.Input, "TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	ntg := *tg
	if tg.TargetType == "lambda" {
		if e := lambdaHCInput(r.Input); e != nil {
			return nil, e
		}
	}
	if e := applyHC(&ntg.HC, r.Input, tg.Protocol); e != nil {
		return nil, e
	}
	if err := s.commit(putW(tg.Account, tg.Region, kindTG, tg.ARN, &ntg)); err != nil {
		return nil, err
	}
	s.tgs[tg.ARN] = &ntg
	s.syncLocked()
	return map[string]any{"TargetGroups": []any{s.tgOut(&ntg)}}, nil
}

func (s *Service) deleteTargetGroup(r *service.Request) (map[string]any, error) {
	arn := str(r.Input, "TargetGroupArn")
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, err := s.findTG(r, arn)
	if err != nil {
		if err.Code == "TargetGroupNotFoundException" {
			return map[string]any{}, nil
		}
		return nil, err
	}
	if len(s.tgLBs(arn)) > 0 {
		return nil, apiErr("ResourceInUseException", "Target group '%s' is currently in use by a listener or a rule", arn)
	}
	if err := s.commit(delW(tg.Account, tg.Region, kindTG, arn)); err != nil {
		return nil, err
	}
	delete(s.tgs, arn)
	s.syncLocked()
	return map[string]any{}, nil
}

func (s *Service) describeTGAttributes(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, err := s.findTG(r, str(r.Input, "TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"Attributes": attrsOut(tg.Attrs)}, nil
}

func validateTGAttr(tg *targetGroup, k, v string) *awserr.Error {
	switch k {
	case "deregistration_delay.timeout_seconds":
		_, err := atoiRange(k, v, 0, 3600)
		return err
	case "stickiness.enabled", "deregistration_delay.connection_termination.enabled", "proxy_protocol_v2.enabled",
		"preserve_client_ip.enabled", "target_health_state.unhealthy.connection_termination.enabled":
		return boolAttr(k, v)
	case "stickiness.type":
		if isL4(tg.Protocol) {
			return oneOf(k, v, "source_ip")
		}
		return oneOf(k, v, "lb_cookie", "app_cookie")
	case "stickiness.lb_cookie.duration_seconds", "stickiness.app_cookie.duration_seconds":
		_, err := atoiRange(k, v, 1, 604800)
		return err
	case "stickiness.app_cookie.cookie_name":
		return nil
	case "slow_start.duration_seconds":
		n, err := strconv.Atoi(v)
		if err != nil || (n != 0 && (n < 30 || n > 900)) {
			return validation("The value of 'slow_start.duration_seconds' must be 0 or between 30 and 900")
		}
		return nil
	case "load_balancing.algorithm.type":
		return oneOf(k, v, "round_robin", "least_outstanding_requests", "weighted_random")
	case "load_balancing.algorithm.anomaly_mitigation":
		return oneOf(k, v, "on", "off")
	case "load_balancing.cross_zone.enabled":
		return oneOf(k, v, "true", "false", "use_load_balancer_configuration")
	case "lambda.multi_value_headers.enabled":
		return boolAttr(k, v)
	}
	return validation("Target group attribute key '%s' is not recognized", k)
}

func (s *Service) modifyTGAttributes(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, err := s.findTG(r, str(r.Input, "TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	attrs := cloneAttrs(tg.Attrs)
	for _, a := range objs(r.Input, "Attributes") {
		k, v := str(a, "Key"), str(a, "Value")
		if _, ok := tg.Attrs[k]; !ok {
			return nil, validation("Target group attribute key '%s' is not recognized", k)
		}
		if e := validateTGAttr(tg, k, v); e != nil {
			return nil, e
		}
		attrs[k] = v
	}
	if attrs["slow_start.duration_seconds"] != "" && attrs["slow_start.duration_seconds"] != "0" && attrs["load_balancing.algorithm.type"] == "least_outstanding_requests" {
		return nil, errInvalidConfig("Slow start mode is not supported with the least outstanding requests algorithm")
	}
	ntg := *tg
	ntg.Attrs = attrs
	if err := s.commit(putW(tg.Account, tg.Region, kindTG, tg.ARN, &ntg)); err != nil {
		return nil, err
	}
	s.tgs[tg.ARN] = &ntg
	s.syncLocked()
	return map[string]any{"Attributes": attrsOut(attrs)}, nil
}

// parseTargets reads TargetDescriptions for tg.
func parseTargets(tg *targetGroup, in map[string]any, forRegister bool) ([]targetReg, *awserr.Error) {
	ts := objs(in, "Targets")
	if len(ts) == 0 {
		return nil, validation("Targets must be specified")
	}
	var out []targetReg
	for _, t := range ts {
		id := str(t, "Id")
		if id == "" {
			return nil, validation("A target ID must be specified")
		}
		switch tg.TargetType {
		case "instance":
			if !strings.HasPrefix(id, "i-") {
				return nil, apiErr("InvalidTargetException", "The following targets are not valid instances: '%s'", id)
			}
		case "ip":
			ip := net.ParseIP(id)
			if ip == nil || ip.To4() == nil {
				return nil, apiErr("InvalidTargetException", "The IP address '%s' is not a valid IPv4 address", id)
			}
		case "lambda":
			if !validFunctionARN(id) {
				return nil, apiErr("InvalidTargetException", "The following targets are not valid Lambda function ARNs: '%s'", id)
			}
			if has(t, "Port") {
				return nil, validation("A port cannot be specified for targets of type 'lambda'")
			}
			out = append(out, targetReg{ID: id, AZ: str(t, "AvailabilityZone")})
			continue
		}
		port, ok := num(t, "Port")
		if !ok {
			port = tg.Port
		} else if port < 1 || port > 65535 {
			return nil, validation("1 validation error detected: Value '%d' at 'targets.member.port' failed to satisfy constraint: Member must have value between 1 and 65535", port)
		}
		out = append(out, targetReg{ID: id, Port: port, AZ: str(t, "AvailabilityZone")})
	}
	return out, nil
}

func (s *Service) registerTargets(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, err := s.findTG(r, str(r.Input, "TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	ts, terr := parseTargets(tg, r.Input, true)
	if terr != nil {
		return nil, terr
	}
	if tg.TargetType == "lambda" && lambdaTargetCount(tg, ts) > 1 {
		return nil, apiErr("TooManyTargetsException", "You cannot register more than one Lambda function in a target group")
	}
	if err := s.registerLocked(tg, ts); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) registerLocked(tg *targetGroup, ts []targetReg) error {
	ntg := *tg
	ntg.Targets = append([]targetReg(nil), tg.Targets...)
	for _, t := range ts {
		dup := false
		for _, e := range ntg.Targets {
			if e.ID == t.ID && e.Port == t.Port {
				dup = true
			}
		}
		if !dup {
			ntg.Targets = append(ntg.Targets, t)
		}
	}
	if len(ntg.Targets) > 1000 {
		return apiErr("TooManyTargetsException", "You've reached the limit on the number of targets registered to a target group")
	}
	if err := s.commit(putW(tg.Account, tg.Region, kindTG, tg.ARN, &ntg)); err != nil {
		return err
	}
	s.tgs[tg.ARN] = &ntg
	s.syncLocked()
	return nil
}

func (s *Service) deregisterTargets(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, err := s.findTG(r, str(r.Input, "TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	ts, terr := parseTargets(tg, r.Input, false)
	if terr != nil {
		return nil, terr
	}
	for _, t := range ts {
		found := false
		for _, e := range tg.Targets {
			if e.ID == t.ID && e.Port == t.Port {
				found = true
			}
		}
		if !found {
			return nil, apiErr("InvalidTargetException", "The following targets are not registered in target group '%s': '%s'", tg.ARN, t.ID)
		}
	}
	if err := s.deregisterLocked(tg, ts); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) deregisterLocked(tg *targetGroup, ts []targetReg) error {
	ntg := *tg
	ntg.Targets = nil
	for _, e := range tg.Targets {
		keep := true
		for _, t := range ts {
			if e.ID == t.ID && e.Port == t.Port {
				keep = false
			}
		}
		if keep {
			ntg.Targets = append(ntg.Targets, e)
		}
	}
	if err := s.commit(putW(tg.Account, tg.Region, kindTG, tg.ARN, &ntg)); err != nil {
		return err
	}
	s.tgs[tg.ARN] = &ntg
	s.syncLocked()
	return nil
}

func (s *Service) describeTargetHealth(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	tg, err := s.findTG(r, str(r.Input, "TargetGroupArn"))
	var want []targetReg
	if err == nil && has(r.Input, "Targets") {
		want, err = parseTargets(tg, r.Input, false)
	}
	rt := s.tgRT[str(r.Input, "TargetGroupArn")]
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var hs []TargetHealth
	if rt != nil {
		hs = rt.health(want)
	}
	out := make([]any, 0, len(hs))
	for _, h := range hs {
		d := map[string]any{
			"Target":          map[string]any{"Id": h.ID, "Port": int64(h.Port)},
			"HealthCheckPort": h.HealthCheckPort,
			"TargetHealth":    map[string]any{"State": h.State},
		}
		if tg.TargetType == "lambda" {
			d = map[string]any{"Target": map[string]any{"Id": h.ID}, "TargetHealth": map[string]any{"State": h.State}}
		}
		if h.AZ != "" {
			d["Target"].(map[string]any)["AvailabilityZone"] = h.AZ
		}
		if h.Reason != "" {
			d["TargetHealth"].(map[string]any)["Reason"] = h.Reason
			d["TargetHealth"].(map[string]any)["Description"] = h.Description
		}
		out = append(out, d)
	}
	return map[string]any{"TargetHealthDescriptions": out}, nil
}
