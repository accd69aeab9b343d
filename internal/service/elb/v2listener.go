package elb

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

// parseActions reads and validates Actions/DefaultActions for a listener
// of lb with the given protocol.
func (s *Service) parseActions(r *service.Request, lb *loadBalancer, protocol string, list []map[string]any) ([]action, *awserr.Error) {
	if len(list) == 0 {
		return nil, validation("At least one action must be specified")
	}
	var out []action
	for i, m := range list {
		a := action{Type: str(m, "Type")}
		if o, ok := num(m, "Order"); ok {
			if o < 1 || o > 50000 {
				return nil, validation("Action order must be between 1 and 50000")
			}
			a.Order = o
		}
		switch a.Type {
		case "forward":
			fc := &forwardConfig{}
			if arn := str(m, "TargetGroupArn"); arn != "" {
				fc.TargetGroups = []tgWeight{{ARN: arn, Weight: 1}}
			}
			if c := obj(m, "ForwardConfig"); c != nil {
				fc.HasConfig = true
				var tgs []tgWeight
				for _, t := range objs(c, "TargetGroups") {
					w, ok := num(t, "Weight")
					if !ok {
						w = 1
					}
					if w < 0 || w > 999 {
						return nil, validation("Target group weight must be between 0 and 999")
					}
					tgs = append(tgs, tgWeight{ARN: str(t, "TargetGroupArn"), Weight: w})
				}
				if len(fc.TargetGroups) > 0 && len(tgs) > 0 {
					if len(tgs) != 1 || tgs[0].ARN != fc.TargetGroups[0].ARN {
						return nil, apiErr("InvalidLoadBalancerActionException", "You cannot specify a target group ARN in both the action and the forward configuration unless they are the same")
					}
				}
				if len(tgs) > 0 {
					fc.TargetGroups = tgs
				}
				if len(tgs) > 5 {
					return nil, apiErr("TooManyActionsException", "A forward action can have at most 5 target groups")
				}
				if st := obj(c, "TargetGroupStickinessConfig"); st != nil {
					fc.Sticky, _ = boolv(st, "Enabled")
					if d, ok := num(st, "DurationSeconds"); ok {
						if d < 1 || d > 604800 {
							return nil, validation("Target group stickiness duration must be between 1 and 604800 seconds")
						}
						fc.StickyDuration = d
					}
					if fc.Sticky && fc.StickyDuration == 0 {
						return nil, validation("A duration must be specified when target group stickiness is enabled")
					}
				}
			}
			if len(fc.TargetGroups) == 0 {
				return nil, validation("A target group ARN must be specified for a forward action")
			}
			for _, t := range fc.TargetGroups {
				tg, err := s.findTG(r, t.ARN)
				if err != nil {
					return nil, err
				}
				if isL4(protocol) != isL4(tg.Protocol) {
					return nil, apiErr("IncompatibleProtocolsException", "The listener protocol '%s' is not compatible with the target group protocol '%s'", protocol, tg.Protocol)
				}
				for _, other := range s.tgLBs(tg.ARN) {
					if other != lb.ARN {
						return nil, apiErr("TargetGroupAssociationLimitException", "The following target groups cannot be associated with more than one load balancer: %s", tg.ARN)
					}
				}
			}
			if isL4(protocol) && len(fc.TargetGroups) > 1 {
				return nil, apiErr("InvalidLoadBalancerActionException", "Network load balancer listeners support forwarding to a single target group")
			}
			a.Forward = fc
		case "redirect":
			if lb.Type != "application" {
				return nil, apiErr("InvalidLoadBalancerActionException", "Action type 'redirect' is not supported for network load balancers")
			}
			c := obj(m, "RedirectConfig")
			if c == nil {
				return nil, validation("A redirect configuration must be specified for a redirect action")
			}
			rc := &redirectConfig{Protocol: str(c, "Protocol"), Port: str(c, "Port"), Host: str(c, "Host"), Path: str(c, "Path"), Query: str(c, "Query"), StatusCode: str(c, "StatusCode")}
			if rc.StatusCode != "HTTP_301" && rc.StatusCode != "HTTP_302" {
				return nil, validation("1 validation error detected: Value '%s' at 'statusCode' failed to satisfy constraint: Member must satisfy enum value set: [HTTP_301, HTTP_302]", rc.StatusCode)
			}
			def := func(p *string, d string) {
				if *p == "" {
					*p = d
				}
			}
			def(&rc.Protocol, "#{protocol}")
			def(&rc.Port, "#{port}")
			def(&rc.Host, "#{host}")
			def(&rc.Path, "/#{path}")
			def(&rc.Query, "#{query}")
			if rc.Protocol != "#{protocol}" && rc.Protocol != "HTTP" && rc.Protocol != "HTTPS" {
				return nil, apiErr("InvalidLoadBalancerActionException", "Redirect protocol must be HTTP, HTTPS or #{protocol}")
			}
			if !strings.HasPrefix(rc.Path, "/") {
				return nil, apiErr("InvalidLoadBalancerActionException", "The redirect path must start with '/'")
			}
			if rc.Protocol == "#{protocol}" && rc.Port == "#{port}" && rc.Host == "#{host}" && rc.Path == "/#{path}" && rc.Query == "#{query}" {
				return nil, apiErr("InvalidLoadBalancerActionException", "The redirect configuration is not valid because it creates a loop")
			}
			a.Redirect = rc
		case "fixed-response":
			if lb.Type != "application" {
				return nil, apiErr("InvalidLoadBalancerActionException", "Action type 'fixed-response' is not supported for network load balancers")
			}
			c := obj(m, "FixedResponseConfig")
			if c == nil {
				return nil, validation("A fixed response configuration must be specified for a fixed-response action")
			}
			fr := &fixedConfig{Body: str(c, "MessageBody"), StatusCode: str(c, "StatusCode"), ContentType: str(c, "ContentType")}
			code, err := strconv.Atoi(fr.StatusCode)
			if err != nil || code < 200 || code > 599 || len(fr.StatusCode) != 3 {
				return nil, validation("1 validation error detected: Value '%s' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(2|4|5)\\d\\d$", fr.StatusCode)
			}
			if fr.StatusCode[0] == '3' {
				return nil, validation("Fixed response status code must be 2XX, 4XX or 5XX")
			}
			switch fr.ContentType {
			case "", "text/plain", "text/css", "text/html", "application/javascript", "application/json":
			default:
				return nil, validation("1 validation error detected: Value '%s' at 'contentType' failed to satisfy constraint: Member must be one of text/plain, text/css, text/html, application/javascript, application/json", fr.ContentType)
			}
			if len(fr.Body) > 1024 {
				return nil, validation("The fixed response message body cannot be longer than 1024 characters")
			}
			a.Fixed = fr
		case "authenticate-oidc", "authenticate-cognito", "jwt-validation":
			return nil, apiErr("InvalidLoadBalancerActionException", "Action type '%s' is not supported by Overcast", a.Type)
		case "":
			return nil, validation("An action type must be specified")
		default:
			return nil, validation("1 validation error detected: Value '%s' at 'actions.%d.member.type' failed to satisfy constraint: Member must satisfy enum value set: [forward, authenticate-oidc, authenticate-cognito, redirect, fixed-response, jwt-validation]", a.Type, i+1)
		}
		out = append(out, a)
	}
	if len(out) > 1 {
		return nil, apiErr("InvalidLoadBalancerActionException", "A rule can have only one forward, redirect or fixed-response action")
	}
	return out, nil
}

func actionsOut(as []action) []any {
	out := make([]any, 0, len(as))
	for _, a := range as {
		m := map[string]any{"Type": a.Type}
		if a.Order > 0 {
			m["Order"] = int64(a.Order)
		}
		switch {
		case a.Forward != nil:
			if len(a.Forward.TargetGroups) == 1 {
				m["TargetGroupArn"] = a.Forward.TargetGroups[0].ARN
			}
			tgs := make([]any, 0, len(a.Forward.TargetGroups))
			for _, t := range a.Forward.TargetGroups {
				tgs = append(tgs, map[string]any{"TargetGroupArn": t.ARN, "Weight": int64(t.Weight)})
			}
			st := map[string]any{"Enabled": a.Forward.Sticky}
			if a.Forward.StickyDuration > 0 {
				st["DurationSeconds"] = int64(a.Forward.StickyDuration)
			}
			m["ForwardConfig"] = map[string]any{"TargetGroups": tgs, "TargetGroupStickinessConfig": st}
		case a.Redirect != nil:
			c := a.Redirect
			m["RedirectConfig"] = map[string]any{"Protocol": c.Protocol, "Port": c.Port, "Host": c.Host, "Path": c.Path, "Query": c.Query, "StatusCode": c.StatusCode}
		case a.Fixed != nil:
			c := map[string]any{"StatusCode": a.Fixed.StatusCode}
			if a.Fixed.Body != "" {
				c["MessageBody"] = a.Fixed.Body
			}
			if a.Fixed.ContentType != "" {
				c["ContentType"] = a.Fixed.ContentType
			}
			m["FixedResponseConfig"] = c
		}
		out = append(out, m)
	}
	return out
}

func (s *Service) listenerOut(l *listener) map[string]any {
	out := map[string]any{
		"ListenerArn": l.ARN, "LoadBalancerArn": l.LBARN, "Port": int64(l.Port), "Protocol": l.Protocol,
		"DefaultActions": actionsOut(l.DefaultActions),
	}
	if l.SSLPolicy != "" {
		out["SslPolicy"] = l.SSLPolicy
	}
	if len(l.Certificates) > 0 {
		cs := make([]any, 0, len(l.Certificates))
		for _, c := range l.Certificates {
			cs = append(cs, map[string]any{"CertificateArn": c})
		}
		out["Certificates"] = cs
	}
	if len(l.AlpnPolicy) > 0 {
		out["AlpnPolicy"] = []any{l.AlpnPolicy[0]}
	}
	return out
}

func listenerARN(lb *loadBalancer, id string) string {
	return strings.Replace(lb.ARN, ":loadbalancer/", ":listener/", 1) + "/" + id
}

func (s *Service) checkListenerProtocol(lb *loadBalancer, protocol string) *awserr.Error {
	switch lb.Type {
	case "application":
		if protocol != "HTTP" && protocol != "HTTPS" {
			return apiErr("UnsupportedProtocolException", "Protocol '%s' is not supported for load balancers of type 'application'", protocol)
		}
	case "network":
		switch protocol {
		case "TCP":
		case "TLS", "UDP", "TCP_UDP":
			return apiErr("UnsupportedProtocolException", "Protocol '%s' is not supported by Overcast network load balancers", protocol)
		default:
			return apiErr("UnsupportedProtocolException", "Protocol '%s' is not supported for load balancers of type 'network'", protocol)
		}
	}
	return nil
}

func (s *Service) createListener(r *service.Request) (map[string]any, error) {
	in := r.Input
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.findLB(r, str(in, "LoadBalancerArn"))
	if err != nil {
		return nil, err
	}
	protocol := str(in, "Protocol")
	if protocol == "" {
		protocol = "HTTP"
		if lb.Type == "network" {
			protocol = "TCP"
		}
	}
	if e := s.checkListenerProtocol(lb, protocol); e != nil {
		return nil, e
	}
	port, ok := num(in, "Port")
	if !ok {
		port = 80
		if protocol == "HTTPS" {
			port = 443
		}
	}
	if port < 1 || port > 65535 {
		return nil, validation("1 validation error detected: Value '%d' at 'port' failed to satisfy constraint: Member must have value between 1 and 65535", port)
	}
	for _, l := range s.listeners {
		if l.LBARN == lb.ARN && l.Port == port {
			return nil, apiErr("DuplicateListenerException", "A listener already exists on this port for this load balancer '%s'", lb.ARN)
		}
	}
	var certs []string
	for _, c := range objs(in, "Certificates") {
		certs = append(certs, str(c, "CertificateArn"))
	}
	policy := str(in, "SslPolicy")
	if protocol == "HTTPS" {
		if len(certs) == 0 {
			return nil, validation("A certificate must be specified for HTTPS listeners")
		}
		if len(certs) > 1 {
			return nil, apiErr("TooManyCertificatesException", "You can specify only one default certificate for the listener")
		}
		if policy == "" {
			policy = "ELBSecurityPolicy-2016-08"
		}
	} else if len(certs) > 0 {
		return nil, validation("A certificate can only be specified for HTTPS and TLS listeners")
	}
	acts, aerr := s.parseActions(r, lb, protocol, objs(in, "DefaultActions"))
	if aerr != nil {
		return nil, aerr
	}
	tags, terr := parseTags(in)
	if terr != nil {
		return nil, terr
	}
	id := hexID(16)
	l := &listener{
		ARN: listenerARN(lb, id), LBARN: lb.ARN, Protocol: protocol, Port: port, SSLPolicy: policy,
		Certificates: certs, AlpnPolicy: strs(in, "AlpnPolicy"), DefaultActions: acts, Tags: tags,
	}
	l.DefaultRuleARN = strings.Replace(l.ARN, ":listener/", ":listener-rule/", 1) + "/" + hexID(16)
	if err := s.commit(putW(lb.Account, lb.Region, kindListener, l.ARN, l)); err != nil {
		return nil, err
	}
	s.listeners[l.ARN] = l
	s.syncLocked()
	return map[string]any{"Listeners": []any{s.listenerOut(l)}}, nil
}

func (s *Service) findListener(r *service.Request, arn string) (*listener, *awserr.Error) {
	if arn == "" {
		return nil, validation("A listener ARN must be specified")
	}
	if _, ok := parseARN(arn); !ok {
		return nil, validation("'%s' is not a valid listener ARN", arn)
	}
	l := s.listeners[arn]
	if l == nil || !inScope(arn, r.Account, r.Region) || s.lbs[l.LBARN] == nil || s.lbs[l.LBARN].Classic != nil {
		return nil, errListenerNotFound()
	}
	return l, nil
}

func (s *Service) describeListeners(r *service.Request) (map[string]any, error) {
	lbARN, arns := str(r.Input, "LoadBalancerArn"), strs(r.Input, "ListenerArns")
	if lbARN == "" && len(arns) == 0 {
		return nil, validation("You must specify either listener ARNs or a load balancer ARN")
	}
	if lbARN != "" && len(arns) > 0 {
		return nil, validation("Listener ARNs and a load balancer ARN cannot be specified at the same time")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*listener
	if lbARN != "" {
		if _, err := s.findLB(r, lbARN); err != nil {
			return nil, err
		}
		for _, l := range s.listeners {
			if l.LBARN == lbARN {
				list = append(list, l)
			}
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Port < list[j].Port })
	} else {
		for _, a := range arns {
			l, err := s.findListener(r, a)
			if err != nil {
				return nil, err
			}
			list = append(list, l)
		}
	}
	from, to, next, perr := page(r.Input, len(list))
	if perr != nil {
		return nil, perr
	}
	out := make([]any, 0, to-from)
	for _, l := range list[from:to] {
		out = append(out, s.listenerOut(l))
	}
	res := map[string]any{"Listeners": out}
	if next != "" {
		res["NextMarker"] = next
	}
	return res, nil
}

func (s *Service) modifyListener(r *service.Request) (map[string]any, error) {
	in := r.Input
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.findListener(r, str(in, "ListenerArn"))
	if err != nil {
		return nil, err
	}
	lb := s.lbs[l.LBARN]
	nl := *l
	if p := str(in, "Protocol"); p != "" {
		if e := s.checkListenerProtocol(lb, p); e != nil {
			return nil, e
		}
		nl.Protocol = p
	}
	if p, ok := num(in, "Port"); ok {
		if p < 1 || p > 65535 {
			return nil, validation("1 validation error detected: Value '%d' at 'port' failed to satisfy constraint: Member must have value between 1 and 65535", p)
		}
		for _, o := range s.listeners {
			if o.LBARN == l.LBARN && o.Port == p && o.ARN != l.ARN {
				return nil, apiErr("DuplicateListenerException", "A listener already exists on this port for this load balancer '%s'", lb.ARN)
			}
		}
		nl.Port = p
	}
	if has(in, "Certificates") {
		nl.Certificates = nil
		for _, c := range objs(in, "Certificates") {
			nl.Certificates = append(nl.Certificates, str(c, "CertificateArn"))
		}
	}
	if p := str(in, "SslPolicy"); p != "" {
		nl.SSLPolicy = p
	}
	if nl.Protocol == "HTTPS" && len(nl.Certificates) == 0 {
		return nil, validation("A certificate must be specified for HTTPS listeners")
	}
	if nl.Protocol == "HTTPS" && nl.SSLPolicy == "" {
		nl.SSLPolicy = "ELBSecurityPolicy-2016-08"
	}
	if nl.Protocol == "HTTP" {
		nl.Certificates, nl.SSLPolicy = nil, ""
	}
	if has(in, "DefaultActions") {
		acts, aerr := s.parseActions(r, lb, nl.Protocol, objs(in, "DefaultActions"))
		if aerr != nil {
			return nil, aerr
		}
		nl.DefaultActions = acts
	}
	if err := s.commit(putW(lb.Account, lb.Region, kindListener, l.ARN, &nl)); err != nil {
		return nil, err
	}
	s.listeners[l.ARN] = &nl
	s.syncLocked()
	return map[string]any{"Listeners": []any{s.listenerOut(&nl)}}, nil
}

func (s *Service) deleteListener(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.findListener(r, str(r.Input, "ListenerArn"))
	if err != nil {
		return nil, err
	}
	lb := s.lbs[l.LBARN]
	ws := []write{delW(lb.Account, lb.Region, kindListener, l.ARN)}
	var rs []string
	for _, ru := range s.rules {
		if ru.ListenerARN == l.ARN {
			rs = append(rs, ru.ARN)
			ws = append(ws, delW(lb.Account, lb.Region, kindRule, ru.ARN))
		}
	}
	if err := s.commit(ws...); err != nil {
		return nil, err
	}
	delete(s.listeners, l.ARN)
	for _, a := range rs {
		delete(s.rules, a)
	}
	s.syncLocked()
	return map[string]any{}, nil
}

// Rules.

var conditionFields = "'[http-header, http-request-method, host-header, path-pattern, query-string, source-ip]'"

func parseConditions(list []map[string]any) ([]condition, *awserr.Error) {
	var out []condition
	seen := map[string]bool{}
	total := 0
	for _, m := range list {
		c := condition{Field: str(m, "Field")}
		vals := strs(m, "Values")
		cfgValues := func(name string) (map[string]any, []string) {
			cfg := obj(m, name)
			if cfg == nil {
				return nil, nil
			}
			return cfg, strs(cfg, "Values")
		}
		switch c.Field {
		case "host-header", "path-pattern":
			cfgName := map[string]string{"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig"}[c.Field]
			cfg, cv := cfgValues(cfgName)
			if cfg != nil && len(vals) > 0 {
				return nil, validation("You cannot specify both 'Values' and '%s' for a condition", cfgName)
			}
			if cfg == nil {
				c.Legacy = true
				cv = vals
			}
			c.Values = cv
			for _, v := range cv {
				if len(v) > 128 {
					return nil, validation("A condition value cannot be longer than 128 characters")
				}
			}
			if c.Field == "host-header" && seen[c.Field] {
				return nil, validation("A rule can only have one '%s' condition", c.Field)
			}
			if c.Field == "path-pattern" && seen[c.Field] {
				return nil, validation("A rule can only have one '%s' condition", c.Field)
			}
		case "http-header":
			cfg := obj(m, "HttpHeaderConfig")
			if cfg == nil {
				return nil, validation("A configuration must be specified for an 'http-header' condition")
			}
			c.HeaderName = str(cfg, "HttpHeaderName")
			c.Values = strs(cfg, "Values")
			if c.HeaderName == "" {
				return nil, validation("An HTTP header name must be specified")
			}
		case "http-request-method":
			cfg, cv := cfgValues("HttpRequestMethodConfig")
			if cfg == nil {
				return nil, validation("A configuration must be specified for an 'http-request-method' condition")
			}
			for _, v := range cv {
				for _, ch := range v {
					if !(ch >= 'A' && ch <= 'Z' || ch == '-' || ch == '_') {
						return nil, validation("HTTP request method '%s' is not valid", v)
					}
				}
			}
			c.Values = cv
		case "query-string":
			cfg := obj(m, "QueryStringConfig")
			if cfg == nil {
				return nil, validation("A configuration must be specified for a 'query-string' condition")
			}
			for _, kv := range objs(cfg, "Values") {
				c.Query = append(c.Query, kvPair{Key: str(kv, "Key"), Value: str(kv, "Value")})
			}
			if len(c.Query) == 0 {
				return nil, validation("At least one query string key-value pair must be specified")
			}
			total += len(c.Query) - 1
		case "source-ip":
			cfg, cv := cfgValues("SourceIpConfig")
			if cfg == nil {
				return nil, validation("A configuration must be specified for a 'source-ip' condition")
			}
			for _, v := range cv {
				if _, err := netip.ParsePrefix(v); err != nil {
					return nil, validation("The source IP '%s' is not a valid CIDR block", v)
				}
			}
			c.Values = cv
		case "":
			return nil, validation("A condition field must be specified")
		default:
			return nil, validation("Condition field '%s' must be one of %s", c.Field, conditionFields)
		}
		if c.Field != "query-string" && len(c.Values) == 0 {
			return nil, validation("A condition value must be specified for the '%s' condition", c.Field)
		}
		total += len(c.Values)
		seen[c.Field] = true
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, validation("At least one condition must be specified")
	}
	if total > 5 {
		return nil, validation("A rule can have at most 5 condition values")
	}
	return out, nil
}

func conditionsOut(cs []condition) []any {
	out := make([]any, 0, len(cs))
	for _, c := range cs {
		vals := make([]any, 0, len(c.Values))
		for _, v := range c.Values {
			vals = append(vals, v)
		}
		m := map[string]any{"Field": c.Field}
		switch c.Field {
		case "host-header":
			m["Values"] = vals
			m["HostHeaderConfig"] = map[string]any{"Values": vals}
		case "path-pattern":
			m["Values"] = vals
			m["PathPatternConfig"] = map[string]any{"Values": vals}
		case "http-header":
			m["HttpHeaderConfig"] = map[string]any{"HttpHeaderName": c.HeaderName, "Values": vals}
		case "http-request-method":
			m["HttpRequestMethodConfig"] = map[string]any{"Values": vals}
		case "source-ip":
			m["SourceIpConfig"] = map[string]any{"Values": vals}
		case "query-string":
			qs := make([]any, 0, len(c.Query))
			for _, q := range c.Query {
				e := map[string]any{"Value": q.Value}
				if q.Key != "" {
					e["Key"] = q.Key
				}
				qs = append(qs, e)
			}
			m["QueryStringConfig"] = map[string]any{"Values": qs}
		}
		out = append(out, m)
	}
	return out
}

func ruleOut(ru *rule) map[string]any {
	return map[string]any{
		"RuleArn": ru.ARN, "Priority": strconv.Itoa(ru.Priority), "Conditions": conditionsOut(ru.Conditions),
		"Actions": actionsOut(ru.Actions), "IsDefault": false,
	}
}

func defaultRuleOut(l *listener) map[string]any {
	return map[string]any{
		"RuleArn": l.DefaultRuleARN, "Priority": "default", "Conditions": []any{},
		"Actions": actionsOut(l.DefaultActions), "IsDefault": true,
	}
}

func (s *Service) createRule(r *service.Request) (map[string]any, error) {
	in := r.Input
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.findListener(r, str(in, "ListenerArn"))
	if err != nil {
		return nil, err
	}
	lb := s.lbs[l.LBARN]
	if lb.Type != "application" {
		return nil, apiErr("OperationNotPermittedException", "Rules are not supported for load balancers of type '%s'", lb.Type)
	}
	prio, _ := num(in, "Priority")
	if prio < 1 || prio > 50000 {
		return nil, validation("1 validation error detected: Value '%d' at 'priority' failed to satisfy constraint: Member must have value between 1 and 50000", prio)
	}
	n := 0
	for _, ru := range s.rules {
		if ru.ListenerARN == l.ARN {
			n++
			if ru.Priority == prio {
				return nil, apiErr("PriorityInUseException", "Priority '%d' is currently in use", prio)
			}
		}
	}
	if n >= 100 {
		return nil, apiErr("TooManyRulesException", "The quota for the number of rules per load balancer has been reached")
	}
	conds, cerr := parseConditions(objs(in, "Conditions"))
	if cerr != nil {
		return nil, cerr
	}
	acts, aerr := s.parseActions(r, lb, l.Protocol, objs(in, "Actions"))
	if aerr != nil {
		return nil, aerr
	}
	tags, terr := parseTags(in)
	if terr != nil {
		return nil, terr
	}
	ru := &rule{
		ARN:         strings.Replace(l.ARN, ":listener/", ":listener-rule/", 1) + "/" + hexID(16),
		ListenerARN: l.ARN, Priority: prio, Conditions: conds, Actions: acts, Tags: tags,
	}
	if err := s.commit(putW(lb.Account, lb.Region, kindRule, ru.ARN, ru)); err != nil {
		return nil, err
	}
	s.rules[ru.ARN] = ru
	s.syncLocked()
	return map[string]any{"Rules": []any{ruleOut(ru)}}, nil
}

// findRule returns a rule, or the listener whose default rule arn is.
func (s *Service) findRule(r *service.Request, arn string) (*rule, *listener, *awserr.Error) {
	if arn == "" {
		return nil, nil, validation("A rule ARN must be specified")
	}
	if _, ok := parseARN(arn); !ok || !inScope(arn, r.Account, r.Region) {
		return nil, nil, errRuleNotFound()
	}
	if ru := s.rules[arn]; ru != nil {
		return ru, s.listeners[ru.ListenerARN], nil
	}
	for _, l := range s.listeners {
		if l.DefaultRuleARN == arn {
			return nil, l, nil
		}
	}
	return nil, nil, errRuleNotFound()
}

func (s *Service) describeRules(r *service.Request) (map[string]any, error) {
	lARN, arns := str(r.Input, "ListenerArn"), strs(r.Input, "RuleArns")
	if lARN == "" && len(arns) == 0 {
		return nil, validation("You must specify either listener rule ARNs or a listener ARN")
	}
	if lARN != "" && len(arns) > 0 {
		return nil, validation("Listener rule ARNs and a listener ARN cannot be specified at the same time")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []any
	if lARN != "" {
		l, err := s.findListener(r, lARN)
		if err != nil {
			return nil, err
		}
		var rs []*rule
		for _, ru := range s.rules {
			if ru.ListenerARN == l.ARN {
				rs = append(rs, ru)
			}
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].Priority < rs[j].Priority })
		for _, ru := range rs {
			out = append(out, ruleOut(ru))
		}
		out = append(out, defaultRuleOut(l))
	} else {
		for _, a := range arns {
			ru, l, err := s.findRule(r, a)
			if err != nil {
				return nil, err
			}
			if ru != nil {
				out = append(out, ruleOut(ru))
			} else {
				out = append(out, defaultRuleOut(l))
			}
		}
	}
	from, to, next, perr := page(r.Input, len(out))
	if perr != nil {
		return nil, perr
	}
	res := map[string]any{"Rules": out[from:to]}
	if next != "" {
		res["NextMarker"] = next
	}
	return res, nil
}

func (s *Service) modifyRule(r *service.Request) (map[string]any, error) {
	in := r.Input
	s.mu.Lock()
	defer s.mu.Unlock()
	ru, l, err := s.findRule(r, str(in, "RuleArn"))
	if err != nil {
		return nil, err
	}
	lb := s.lbs[l.LBARN]
	if ru == nil {
		if has(in, "Conditions") {
			return nil, apiErr("OperationNotPermittedException", "Conditions cannot be specified for the default rule '%s'", l.DefaultRuleARN)
		}
		nl := *l
		if has(in, "Actions") {
			acts, aerr := s.parseActions(r, lb, l.Protocol, objs(in, "Actions"))
			if aerr != nil {
				return nil, aerr
			}
			nl.DefaultActions = acts
		}
		if err := s.commit(putW(lb.Account, lb.Region, kindListener, l.ARN, &nl)); err != nil {
			return nil, err
		}
		s.listeners[l.ARN] = &nl
		s.syncLocked()
		return map[string]any{"Rules": []any{defaultRuleOut(&nl)}}, nil
	}
	nr := *ru
	if has(in, "Conditions") {
		conds, cerr := parseConditions(objs(in, "Conditions"))
		if cerr != nil {
			return nil, cerr
		}
		nr.Conditions = conds
	}
	if has(in, "Actions") {
		acts, aerr := s.parseActions(r, lb, l.Protocol, objs(in, "Actions"))
		if aerr != nil {
			return nil, aerr
		}
		nr.Actions = acts
	}
	if err := s.commit(putW(lb.Account, lb.Region, kindRule, ru.ARN, &nr)); err != nil {
		return nil, err
	}
	s.rules[ru.ARN] = &nr
	s.syncLocked()
	return map[string]any{"Rules": []any{ruleOut(&nr)}}, nil
}

func (s *Service) deleteRule(r *service.Request) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ru, l, err := s.findRule(r, str(r.Input, "RuleArn"))
	if err != nil {
		return nil, err
	}
	if ru == nil {
		return nil, apiErr("OperationNotPermittedException", "Default rule '%s' cannot be deleted", l.DefaultRuleARN)
	}
	lb := s.lbs[l.LBARN]
	if err := s.commit(delW(lb.Account, lb.Region, kindRule, ru.ARN)); err != nil {
		return nil, err
	}
	delete(s.rules, ru.ARN)
	s.syncLocked()
	return map[string]any{}, nil
}

func (s *Service) setRulePriorities(r *service.Request) (map[string]any, error) {
	pairs := objs(r.Input, "RulePriorities")
	if len(pairs) == 0 {
		return nil, validation("Rule priorities must be specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	updated := map[string]*rule{}
	var listenerARN string
	for _, p := range pairs {
		ru, l, err := s.findRule(r, str(p, "RuleArn"))
		if err != nil {
			return nil, err
		}
		if ru == nil {
			return nil, apiErr("OperationNotPermittedException", "The priority of the default rule '%s' cannot be changed", l.DefaultRuleARN)
		}
		if listenerARN != "" && ru.ListenerARN != listenerARN {
			return nil, validation("All rules must belong to the same listener")
		}
		listenerARN = ru.ListenerARN
		prio, _ := num(p, "Priority")
		if prio < 1 || prio > 50000 {
			return nil, validation("1 validation error detected: Value '%d' at 'rulePriorities.member.priority' failed to satisfy constraint: Member must have value between 1 and 50000", prio)
		}
		if _, dup := updated[ru.ARN]; dup {
			return nil, validation("Rule '%s' is specified more than once", ru.ARN)
		}
		nr := *ru
		nr.Priority = prio
		updated[ru.ARN] = &nr
	}
	used := map[int]string{}
	for _, ru := range s.rules {
		if ru.ListenerARN != listenerARN {
			continue
		}
		if u := updated[ru.ARN]; u != nil {
			ru = u
		}
		if other, ok := used[ru.Priority]; ok && other != ru.ARN {
			return nil, apiErr("PriorityInUseException", "Priority '%d' is currently in use", ru.Priority)
		}
		used[ru.Priority] = ru.ARN
	}
	var ws []write
	l := s.listeners[listenerARN]
	lb := s.lbs[l.LBARN]
	for _, u := range updated {
		ws = append(ws, putW(lb.Account, lb.Region, kindRule, u.ARN, u))
	}
	if err := s.commit(ws...); err != nil {
		return nil, err
	}
	var out []any
	for _, p := range pairs {
		u := updated[str(p, "RuleArn")]
		s.rules[u.ARN] = u
		out = append(out, ruleOut(u))
	}
	s.syncLocked()
	return map[string]any{"Rules": out}, nil
}

// Tags.

// tagged returns a pointer to the tags of the resource named by arn.
func (s *Service) tagged(r *service.Request, arn string) (*[]tag, func() write, *awserr.Error) {
	a, ok := parseARN(arn)
	if !ok {
		return nil, nil, validation("'%s' is not a valid resource ARN", arn)
	}
	res := a.resource
	switch {
	case strings.HasPrefix(res, "loadbalancer/"):
		lb, err := s.findLB(r, arn)
		if err != nil {
			return nil, nil, err
		}
		c := *lb
		return &c.Tags, func() write { s.lbs[arn] = &c; return putW(c.Account, c.Region, kindLB, arn, &c) }, nil
	case strings.HasPrefix(res, "targetgroup/"):
		tg, err := s.findTG(r, arn)
		if err != nil {
			return nil, nil, err
		}
		c := *tg
		return &c.Tags, func() write { s.tgs[arn] = &c; return putW(c.Account, c.Region, kindTG, arn, &c) }, nil
	case strings.HasPrefix(res, "listener/"):
		l, err := s.findListener(r, arn)
		if err != nil {
			return nil, nil, err
		}
		c := *l
		return &c.Tags, func() write { s.listeners[arn] = &c; return putW(a.account, a.region, kindListener, arn, &c) }, nil
	case strings.HasPrefix(res, "listener-rule/"):
		ru, _, err := s.findRule(r, arn)
		if err != nil {
			return nil, nil, err
		}
		if ru == nil {
			return nil, nil, apiErr("OperationNotPermittedException", "Default rules cannot be tagged")
		}
		c := *ru
		return &c.Tags, func() write { s.rules[arn] = &c; return putW(a.account, a.region, kindRule, arn, &c) }, nil
	}
	return nil, nil, validation("'%s' is not a valid resource ARN", arn)
}

func (s *Service) addTags(r *service.Request) (map[string]any, error) {
	add, terr := parseTags(r.Input)
	if terr != nil {
		return nil, terr
	}
	if len(add) == 0 {
		return nil, validation("Tags must be specified")
	}
	return s.editTags(r, func(t []tag) ([]tag, *awserr.Error) { return mergeTags(t, add) })
}

func (s *Service) removeTagsOp(r *service.Request) (map[string]any, error) {
	keys := strs(r.Input, "TagKeys")
	return s.editTags(r, func(t []tag) ([]tag, *awserr.Error) { return removeTags(t, keys), nil })
}

func (s *Service) editTags(r *service.Request, edit func([]tag) ([]tag, *awserr.Error)) (map[string]any, error) {
	arns := strs(r.Input, "ResourceArns")
	if len(arns) == 0 {
		return nil, validation("Resource ARNs must be specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var fins []func() write
	for _, a := range arns {
		t, fin, err := s.tagged(r, a)
		if err != nil {
			return nil, err
		}
		nt, err := edit(*t)
		if err != nil {
			return nil, err
		}
		*t = nt
		fins = append(fins, fin)
	}
	var ws []write
	for _, f := range fins {
		ws = append(ws, f())
	}
	if err := s.commit(ws...); err != nil {
		// Roll the in-memory maps back.
		s.reloadLocked()
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) reloadLocked() {
	s.lbs, s.tgs, s.listeners, s.rules = map[string]*loadBalancer{}, map[string]*targetGroup{}, map[string]*listener{}, map[string]*rule{}
	if err := s.load(); err != nil {
		s.log.Error("reload state", "err", err)
	}
	s.syncLocked()
}

func (s *Service) describeTags(r *service.Request) (map[string]any, error) {
	arns := strs(r.Input, "ResourceArns")
	if len(arns) == 0 {
		return nil, validation("Resource ARNs must be specified")
	}
	if len(arns) > 20 {
		return nil, validation("1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to 20")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []any
	for _, a := range arns {
		t, _, err := s.tagged(r, a)
		if err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"ResourceArn": a, "Tags": tagsOut(*t)})
	}
	return map[string]any{"TagDescriptions": out}, nil
}

var _ = fmt.Sprint
