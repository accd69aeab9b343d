package ec2

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

// rule is one security group rule: a protocol and port range from or to
// one source (a CIDR block or a group).
type rule struct {
	ID       string
	Egress   bool
	Protocol string // "-1", "tcp", "udp", "icmp", or a number
	From, To int64  // -1 when the protocol has no ports
	CIDR     string // IPv4
	CIDRv6   string
	Group    string // source group id
	GroupOwn string // its account
	PrefixID string
	Desc     string
}

func (a rule) same(b rule) bool {
	return a.Egress == b.Egress && a.Protocol == b.Protocol && a.From == b.From && a.To == b.To &&
		a.CIDR == b.CIDR && a.CIDRv6 == b.CIDRv6 && a.Group == b.Group && a.PrefixID == b.PrefixID
}

type groupRec struct {
	ID, Name, Description, VPCID string
	Rules                        []rule
	Tags                         []Tag
}

func newDefaultGroup(rg *region, vpcID string) *groupRec {
	g := &groupRec{ID: newID("sg"), Name: "default", Description: "default VPC security group", VPCID: vpcID}
	g.Rules = []rule{
		{ID: newID("sgr"), Protocol: "-1", From: -1, To: -1, Group: g.ID, GroupOwn: rg.account},
		{ID: newID("sgr"), Egress: true, Protocol: "-1", From: -1, To: -1, CIDR: "0.0.0.0/0"},
	}
	return g
}

func (g *groupRec) arn(rg *region) string {
	return "arn:" + service.Partition(rg.name) + ":ec2:" + rg.name + ":" + rg.account + ":security-group/" + g.ID
}

// permissions groups g's rules by direction, protocol and ports, as
// IpPermissions lists them.
func (g *groupRec) permissions(rg *region, egress bool) []any {
	type key struct {
		proto    string
		from, to int64
	}
	var order []key
	byKey := map[key]map[string]any{}
	for _, r := range g.Rules {
		if r.Egress != egress {
			continue
		}
		k := key{r.Protocol, r.From, r.To}
		p := byKey[k]
		if p == nil {
			p = map[string]any{"IpProtocol": r.Protocol, "IpRanges": []any{}, "Ipv6Ranges": []any{}, "PrefixListIds": []any{}, "UserIdGroupPairs": []any{}}
			if r.Protocol != "-1" {
				p["FromPort"], p["ToPort"] = r.From, r.To
			}
			byKey[k] = p
			order = append(order, k)
		}
		desc := func(m map[string]any) map[string]any {
			if r.Desc != "" {
				m["Description"] = r.Desc
			}
			return m
		}
		switch {
		case r.CIDR != "":
			p["IpRanges"] = append(p["IpRanges"].([]any), desc(map[string]any{"CidrIp": r.CIDR}))
		case r.CIDRv6 != "":
			p["Ipv6Ranges"] = append(p["Ipv6Ranges"].([]any), desc(map[string]any{"CidrIpv6": r.CIDRv6}))
		case r.PrefixID != "":
			p["PrefixListIds"] = append(p["PrefixListIds"].([]any), desc(map[string]any{"PrefixListId": r.PrefixID}))
		case r.Group != "":
			pair := map[string]any{"GroupId": r.Group, "UserId": r.GroupOwn}
			if sg := rg.groups[r.Group]; sg != nil {
				pair["VpcId"] = sg.VPCID
			}
			p["UserIdGroupPairs"] = append(p["UserIdGroupPairs"].([]any), desc(pair))
		}
	}
	out := make([]any, len(order))
	for i, k := range order {
		out[i] = byKey[k]
	}
	return out
}

func (g *groupRec) out(rg *region) map[string]any {
	return map[string]any{
		"GroupId": g.ID, "GroupName": g.Name, "Description": g.Description, "VpcId": g.VPCID,
		"OwnerId": rg.account, "SecurityGroupArn": g.arn(rg),
		"IpPermissions": g.permissions(rg, false), "IpPermissionsEgress": g.permissions(rg, true),
		"Tags": tagsOut(g.Tags),
	}
}

func (g *groupRec) fields(rg *region) fieldFunc {
	return func(name string) ([]string, bool) {
		if vals, ok := tagFields(g.Tags, name); ok {
			return vals, true
		}
		switch name {
		case "group-id":
			return []string{g.ID}, true
		case "group-name":
			return []string{g.Name}, true
		case "description":
			return []string{g.Description}, true
		case "vpc-id":
			return []string{g.VPCID}, true
		case "owner-id":
			return []string{rg.account}, true
		}
		if dir, attr, ok := strings.Cut(name, "."); ok && (dir == "ip-permission" || dir == "egress.ip-permission") {
			var out []string
			for _, r := range g.Rules {
				if r.Egress != (dir == "egress.ip-permission") {
					continue
				}
				switch attr {
				case "cidr":
					out = append(out, r.CIDR)
				case "ipv6-cidr":
					out = append(out, r.CIDRv6)
				case "from-port":
					out = append(out, strconv.FormatInt(r.From, 10))
				case "to-port":
					out = append(out, strconv.FormatInt(r.To, 10))
				case "protocol":
					out = append(out, r.Protocol)
				case "group-id":
					out = append(out, r.Group)
				case "prefix-list-id":
					out = append(out, r.PrefixID)
				default:
					return nil, false
				}
			}
			return out, true
		}
		return nil, false
	}
}

// findGroup resolves a group by id, or by name in the default VPC.
func (rg *region) findGroup(id, name string) (*groupRec, error) {
	if id != "" {
		if !strings.HasPrefix(id, "sg-") {
			return nil, errf(codeGroupIDMalformed, "Invalid id: \"%s\" (expecting \"sg-...\")", id)
		}
		if g := rg.groups[id]; g != nil {
			return g, nil
		}
		return nil, errf(codeGroupNotFound, "The security group '%s' does not exist", id)
	}
	if name == "" {
		return nil, missingParam("GroupId")
	}
	vpc := rg.defaultVPCID()
	for _, g := range rg.groups {
		if g.Name == name && g.VPCID == vpc {
			return g, nil
		}
	}
	return nil, errf(codeGroupNotFound, "The security group '%s' does not exist in default VPC '%s'", name, vpc)
}

func (s *Service) createSecurityGroup(r *service.Request) (map[string]any, error) {
	name, desc := service.Str(r.Input, "GroupName"), service.Str(r.Input, "Description")
	if name == "" {
		return nil, missingParam("GroupName")
	}
	if desc == "" {
		return nil, missingParam("GroupDescription")
	}
	if len(name) > 255 || len(desc) > 255 {
		return nil, invalidParam("Value for parameter GroupName or GroupDescription is too long (maximum 255 characters)")
	}
	if strings.HasPrefix(name, "sg-") {
		return nil, invalidParam("Group names may not be in the format sg-*.")
	}
	if name == "default" {
		return nil, errf(codeGroupReserved, "The security group 'default' is reserved")
	}
	tags, err := tagSpecs(r.Input, "security-group")
	if err != nil {
		return nil, err
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	vpc := service.Str(r.Input, "VpcId")
	if vpc == "" {
		vpc = rg.defaultVPCID()
	} else if rg.vpcs[vpc] == nil {
		return nil, errf(codeVpcNotFound, "The vpc ID '%s' does not exist", vpc)
	}
	for _, g := range rg.groups {
		if g.Name == name && g.VPCID == vpc {
			return nil, errf(codeGroupDuplicate, "The security group '%s' already exists for VPC '%s'", name, vpc)
		}
	}
	g := &groupRec{ID: newID("sg"), Name: name, Description: desc, VPCID: vpc, Tags: tags}
	g.Rules = []rule{{ID: newID("sgr"), Egress: true, Protocol: "-1", From: -1, To: -1, CIDR: "0.0.0.0/0"}}
	if err := s.save(rg, (&change{}).put(kindGroup, g.ID, g)); err != nil {
		return nil, err
	}
	rg.groups[g.ID] = g
	return map[string]any{"GroupId": g.ID, "Tags": tagsOut(g.Tags), "SecurityGroupArn": g.arn(rg)}, nil
}

func (s *Service) deleteSecurityGroup(r *service.Request) (map[string]any, error) {
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	g, err := rg.findGroup(service.Str(r.Input, "GroupId"), service.Str(r.Input, "GroupName"))
	if err != nil {
		return nil, err
	}
	if g.Name == "default" {
		return nil, errf(codeCannotDelete, "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.ID)
	}
	for _, in := range rg.instances {
		if in.State != StateTerminated && slices.Contains(in.SecurityGroups, g.ID) {
			return nil, errf(codeDependencyViolation, "resource %s has a dependent object", g.ID)
		}
	}
	for _, o := range rg.groups {
		if o == g {
			continue
		}
		for _, ru := range o.Rules {
			if ru.Group == g.ID {
				return nil, errf(codeDependencyViolation, "resource %s has a dependent object", g.ID)
			}
		}
	}
	if err := s.save(rg, (&change{}).del(kindGroup, g.ID)); err != nil {
		return nil, err
	}
	delete(rg.groups, g.ID)
	return map[string]any{"Return": true, "GroupId": g.ID}, nil
}

func (s *Service) describeSecurityGroups(r *service.Request) (map[string]any, error) {
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
	ids := service.Strings(r.Input, "GroupIds")
	names := service.Strings(r.Input, "GroupNames")
	want := map[string]bool{}
	for _, id := range ids {
		g, err := rg.findGroup(id, "")
		if err != nil {
			return nil, err
		}
		want[g.ID] = true
	}
	for _, n := range names {
		g, err := rg.findGroup("", n)
		if err != nil {
			return nil, err
		}
		want[g.ID] = true
	}
	var list []*groupRec
	for _, g := range rg.groups {
		if len(want) > 0 && !want[g.ID] {
			continue
		}
		f := g.fields(rg)
		if err := validateFilters(fs, f); err != nil {
			return nil, err
		}
		if matches(fs, f) {
			list = append(list, g)
		}
	}
	page, next, err := paginate(r.Input, list, func(g *groupRec) string { return g.ID }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(page))
	for i, g := range page {
		out[i] = g.out(rg)
	}
	return withToken(map[string]any{"SecurityGroups": out}, next), nil
}

func (s *Service) authorizeIngress(r *service.Request) (map[string]any, error) {
	return s.changeRules(r, false, true)
}
func (s *Service) authorizeEgress(r *service.Request) (map[string]any, error) {
	return s.changeRules(r, true, true)
}
func (s *Service) revokeIngress(r *service.Request) (map[string]any, error) {
	return s.changeRules(r, false, false)
}
func (s *Service) revokeEgress(r *service.Request) (map[string]any, error) {
	return s.changeRules(r, true, false)
}

// parseRules turns the IpPermissions (or the legacy flat members) of a
// request into rules.
func parseRules(rg *region, in map[string]any, egress bool) ([]rule, error) {
	perms, _ := in["IpPermissions"].([]any)
	if len(perms) == 0 && service.Str(in, "IpProtocol") != "" {
		flat := map[string]any{"IpProtocol": in["IpProtocol"], "FromPort": in["FromPort"], "ToPort": in["ToPort"]}
		if c := service.Str(in, "CidrIp"); c != "" {
			flat["IpRanges"] = []any{map[string]any{"CidrIp": c}}
		}
		if g := service.Str(in, "SourceSecurityGroupName"); g != "" {
			flat["UserIdGroupPairs"] = []any{map[string]any{"GroupName": g}}
		}
		perms = []any{flat}
	}
	if len(perms) == 0 {
		return nil, missingParam("IpPermissions")
	}
	var out []rule
	for _, pv := range perms {
		p, _ := pv.(map[string]any)
		proto := strings.ToLower(service.Str(p, "IpProtocol"))
		switch proto {
		case "all":
			proto = "-1"
		case "6":
			proto = "tcp"
		case "17":
			proto = "udp"
		case "1":
			proto = "icmp"
		case "":
			return nil, missingParam("IpPermissions.IpProtocol")
		}
		base := rule{Egress: egress, Protocol: proto, From: -1, To: -1}
		if proto != "-1" {
			from, okF := service.Int(p, "FromPort")
			to, okT := service.Int(p, "ToPort")
			if proto == "tcp" || proto == "udp" {
				if !okF || !okT {
					return nil, invalidParam("Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange")
				}
				if from < 0 || to > 65535 || from > to {
					return nil, invalidParam("Invalid value 'Invalid port range: %d to %d' for portRange", from, to)
				}
			}
			if okF {
				base.From = from
			}
			if okT {
				base.To = to
			}
		}
		n := 0
		for _, v := range listOf(p, "IpRanges") {
			m, _ := v.(map[string]any)
			c := service.Str(m, "CidrIp")
			pfx, err := netip.ParsePrefix(c)
			if err != nil || !pfx.Addr().Is4() {
				return nil, invalidParam("CIDR block %s is malformed", c)
			}
			x := base
			x.CIDR, x.Desc = pfx.Masked().String(), service.Str(m, "Description")
			out = append(out, x)
			n++
		}
		for _, v := range listOf(p, "Ipv6Ranges") {
			m, _ := v.(map[string]any)
			c := service.Str(m, "CidrIpv6")
			pfx, err := netip.ParsePrefix(c)
			if err != nil || !pfx.Addr().Is6() {
				return nil, invalidParam("CIDR block %s is malformed", c)
			}
			x := base
			x.CIDRv6, x.Desc = pfx.Masked().String(), service.Str(m, "Description")
			out = append(out, x)
			n++
		}
		for _, v := range listOf(p, "PrefixListIds") {
			m, _ := v.(map[string]any)
			x := base
			x.PrefixID, x.Desc = service.Str(m, "PrefixListId"), service.Str(m, "Description")
			out = append(out, x)
			n++
		}
		for _, v := range listOf(p, "UserIdGroupPairs") {
			m, _ := v.(map[string]any)
			g, err := rg.findGroup(service.Str(m, "GroupId"), service.Str(m, "GroupName"))
			if err != nil {
				return nil, err
			}
			x := base
			x.Group, x.GroupOwn, x.Desc = g.ID, rg.account, service.Str(m, "Description")
			out = append(out, x)
			n++
		}
		if n == 0 {
			return nil, missingParam("IpPermissions.IpRanges")
		}
	}
	return out, nil
}

func listOf(m map[string]any, name string) []any {
	l, _ := m[name].([]any)
	return l
}

func (s *Service) changeRules(r *service.Request, egress, add bool) (map[string]any, error) {
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	g, err := rg.findGroup(service.Str(r.Input, "GroupId"), service.Str(r.Input, "GroupName"))
	if err != nil {
		return nil, err
	}
	rules, err := parseRules(rg, r.Input, egress)
	if err != nil {
		return nil, err
	}
	next := slices.Clone(g.Rules)
	var touched []rule
	for _, ru := range rules {
		i := slices.IndexFunc(next, ru.same)
		switch {
		case add && i >= 0:
			return nil, errf(codePermissionDuplicate, "the specified rule \"peer: %s, %s, ALLOW\" already exists", ruleSource(ru), ruleRange(ru))
		case add:
			ru.ID = newID("sgr")
			next = append(next, ru)
			touched = append(touched, ru)
		case i < 0:
			return nil, errf(codePermissionNotFound, "The specified rule does not exist in this security group.")
		default:
			touched = append(touched, next[i])
			next = slices.Delete(next, i, i+1)
		}
	}
	ng := *g
	ng.Rules = next
	if err := s.save(rg, (&change{}).put(kindGroup, g.ID, &ng)); err != nil {
		return nil, err
	}
	g.Rules = next
	if !add {
		return map[string]any{"Return": true}, nil
	}
	out := make([]any, len(touched))
	for i, ru := range touched {
		m := map[string]any{
			"SecurityGroupRuleId": ru.ID, "GroupId": g.ID, "GroupOwnerId": rg.account, "IsEgress": ru.Egress,
			"IpProtocol": ru.Protocol, "FromPort": ru.From, "ToPort": ru.To,
			"SecurityGroupRuleArn": "arn:" + service.Partition(rg.name) + ":ec2:" + rg.name + ":" + rg.account + ":security-group-rule/" + ru.ID,
		}
		switch {
		case ru.CIDR != "":
			m["CidrIpv4"] = ru.CIDR
		case ru.CIDRv6 != "":
			m["CidrIpv6"] = ru.CIDRv6
		case ru.PrefixID != "":
			m["PrefixListId"] = ru.PrefixID
		case ru.Group != "":
			m["ReferencedGroupInfo"] = map[string]any{"GroupId": ru.Group, "UserId": ru.GroupOwn}
		}
		if ru.Desc != "" {
			m["Description"] = ru.Desc
		}
		out[i] = m
	}
	return map[string]any{"Return": true, "SecurityGroupRules": out}, nil
}

func ruleSource(r rule) string {
	for _, s := range []string{r.CIDR, r.CIDRv6, r.Group, r.PrefixID} {
		if s != "" {
			return s
		}
	}
	return ""
}

func ruleRange(r rule) string {
	if r.Protocol == "-1" {
		return "ALL"
	}
	return r.Protocol + " " + strconv.FormatInt(r.From, 10) + "-" + strconv.FormatInt(r.To, 10)
}
