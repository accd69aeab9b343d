package ec2

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/runtime/proc"
	"github.com/overcast-dev/overcast/internal/service"
)

// State is an instance state name.
type State string

// Instance states.
const (
	StatePending      State = "pending"
	StateRunning      State = "running"
	StateShuttingDown State = "shutting-down"
	StateTerminated   State = "terminated"
	StateStopping     State = "stopping"
	StateStopped      State = "stopped"
)

// Code returns the state's numeric code as EC2 reports it.
func (s State) Code() int64 {
	switch s {
	case StateRunning:
		return 16
	case StateShuttingDown:
		return 32
	case StateTerminated:
		return 48
	case StateStopping:
		return 64
	case StateStopped:
		return 80
	}
	return 0
}

// instance is the stored record of an instance.
type instance struct {
	ID, ReservationID, ImageID, InstanceType, KeyName string
	State                                             State
	ReasonCode, ReasonMessage, TransitionReason       string
	SubnetID, VPCID, AZ, PrivateIP                    string
	SecurityGroups                                    []string
	LaunchTime, TerminatedAt                          time.Time
	UserData                                          []byte
	Tags                                              []Tag
	ProfileARN, ProfileID                             string
	TemplateID, TemplateVersion                       string
	ShutdownBehavior                                  string
	DisableAPITermination, DisableAPIStop             bool
	HTTPTokens, HTTPEndpoint                          string
	MetadataTags                                      bool
	LaunchIndex                                       int64
	Monitoring                                        bool
	ClientToken, Requester                            string

	vm      *vm    // the live boot, nil when not booted
	console []byte // the output of the last finished boot
}

// vm is one boot of an instance: its process and metadata listener.
type vm struct {
	p       *proc.Process
	ln      net.Listener
	imds    string // metadata endpoint URL
	bootAt  time.Time
	reboot  bool
	cpu     time.Duration
	sampled time.Time
}

type vmRef struct {
	rg *region
	id string
}

var instanceIDRE = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

func (in *instance) dnsName(region string) string {
	name := "ip-" + strings.ReplaceAll(in.PrivateIP, ".", "-")
	if region == "us-east-1" {
		return name + ".ec2.internal"
	}
	return name + "." + region + ".compute.internal"
}

func (in *instance) groupOut(rg *region) []any {
	out := make([]any, 0, len(in.SecurityGroups))
	for _, id := range in.SecurityGroups {
		name := ""
		if g := rg.groups[id]; g != nil {
			name = g.Name
		}
		out = append(out, map[string]any{"GroupId": id, "GroupName": name})
	}
	return out
}

func stateOut(s State) map[string]any {
	return map[string]any{"Code": s.Code(), "Name": string(s)}
}

func (in *instance) out(rg *region) map[string]any {
	dns := in.dnsName(rg.name)
	eni := "eni-" + strings.TrimPrefix(in.ID, "i-")
	m := map[string]any{
		"InstanceId": in.ID, "ImageId": in.ImageID, "InstanceType": in.InstanceType,
		"State": stateOut(in.State), "PrivateDnsName": dns, "PublicDnsName": "",
		"StateTransitionReason": in.TransitionReason, "AmiLaunchIndex": in.LaunchIndex,
		"LaunchTime": in.LaunchTime, "SubnetId": in.SubnetID, "VpcId": in.VPCID,
		"PrivateIpAddress": in.PrivateIP, "Architecture": archName(),
		"Placement":      map[string]any{"AvailabilityZone": in.AZ, "Tenancy": "default", "GroupName": ""},
		"Monitoring":     map[string]any{"State": map[bool]string{true: "enabled", false: "disabled"}[in.Monitoring]},
		"RootDeviceType": "ebs", "RootDeviceName": "/dev/xvda", "VirtualizationType": "hvm",
		"Hypervisor": "xen", "EbsOptimized": false, "EnaSupport": true, "SourceDestCheck": true,
		"SecurityGroups": in.groupOut(rg), "Tags": tagsOut(in.Tags), "ProductCodes": []any{},
		"BlockDeviceMappings": []any{}, "ClientToken": in.ClientToken,
		"CpuOptions":      map[string]any{"CoreCount": int64(max(1, vcpus(in.InstanceType)/2)), "ThreadsPerCore": int64(min(2, vcpus(in.InstanceType)))},
		"PlatformDetails": "Linux/UNIX", "UsageOperation": "RunInstances", "UsageOperationUpdateTime": in.LaunchTime,
		"BootMode": "uefi", "CurrentInstanceBootMode": "uefi",
		"HibernationOptions":               map[string]any{"Configured": false},
		"EnclaveOptions":                   map[string]any{"Enabled": false},
		"MaintenanceOptions":               map[string]any{"AutoRecovery": "default"},
		"CapacityReservationSpecification": map[string]any{"CapacityReservationPreference": "open"},
		"PrivateDnsNameOptions":            map[string]any{"HostnameType": "ip-name", "EnableResourceNameDnsARecord": false, "EnableResourceNameDnsAAAARecord": false},
		"MetadataOptions": map[string]any{
			"State": "applied", "HttpTokens": in.HTTPTokens, "HttpPutResponseHopLimit": int64(2),
			"HttpEndpoint": in.HTTPEndpoint, "HttpProtocolIpv6": "disabled",
			"InstanceMetadataTags": map[bool]string{true: "enabled", false: "disabled"}[in.MetadataTags],
		},
	}
	if in.KeyName != "" {
		m["KeyName"] = in.KeyName
	}
	if in.ReasonCode != "" {
		m["StateReason"] = map[string]any{"Code": in.ReasonCode, "Message": in.ReasonMessage}
	}
	if in.ProfileARN != "" {
		m["IamInstanceProfile"] = map[string]any{"Arn": in.ProfileARN, "Id": in.ProfileID}
	}
	if in.State != StateTerminated {
		m["NetworkInterfaces"] = []any{map[string]any{
			"NetworkInterfaceId": eni, "SubnetId": in.SubnetID, "VpcId": in.VPCID, "OwnerId": rg.account,
			"PrivateIpAddress": in.PrivateIP, "PrivateDnsName": dns, "Status": "in-use", "SourceDestCheck": true,
			"InterfaceType": "interface", "Description": "", "MacAddress": macOf(in.PrivateIP),
			"Groups": in.groupOut(rg),
			"Attachment": map[string]any{
				"AttachmentId": "eni-attach-" + strings.TrimPrefix(in.ID, "i-"), "DeviceIndex": int64(0),
				"NetworkCardIndex": int64(0), "Status": "attached", "AttachTime": in.LaunchTime, "DeleteOnTermination": true,
			},
			"PrivateIpAddresses": []any{map[string]any{"Primary": true, "PrivateIpAddress": in.PrivateIP, "PrivateDnsName": dns}},
			"Ipv6Addresses":      []any{},
		}}
	} else {
		delete(m, "PrivateIpAddress")
		m["PrivateDnsName"] = ""
		m["NetworkInterfaces"] = []any{}
	}
	return m
}

func macOf(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	b := a.As4()
	return fmt.Sprintf("0e:%02x:%02x:%02x:%02x:01", b[0], b[1], b[2], b[3])
}

func (in *instance) fields(rg *region) fieldFunc {
	return func(name string) ([]string, bool) {
		if vals, ok := tagFields(in.Tags, name); ok {
			return vals, true
		}
		one := func(v string) ([]string, bool) { return []string{v}, true }
		switch name {
		case "instance-id":
			return one(in.ID)
		case "instance-state-name":
			return one(string(in.State))
		case "instance-state-code":
			return one(fmt.Sprint(in.State.Code()))
		case "instance-type":
			return one(in.InstanceType)
		case "image-id":
			return one(in.ImageID)
		case "vpc-id", "network-interface.vpc-id":
			return one(in.VPCID)
		case "subnet-id", "network-interface.subnet-id":
			return one(in.SubnetID)
		case "availability-zone", "placement-availability-zone":
			return one(in.AZ)
		case "private-ip-address", "network-interface.addresses.private-ip-address":
			return one(in.PrivateIP)
		case "private-dns-name":
			return one(in.dnsName(rg.name))
		case "key-name":
			return one(in.KeyName)
		case "reservation-id":
			return one(in.ReservationID)
		case "owner-id":
			return one(rg.account)
		case "requester-id":
			return one(in.Requester)
		case "architecture":
			return one(archName())
		case "iam-instance-profile.arn":
			return one(in.ProfileARN)
		case "iam-instance-profile.id":
			return one(in.ProfileID)
		case "launch-time":
			return one(in.LaunchTime.UTC().Format("2006-01-02T15:04:05.000Z"))
		case "ami-launch-index":
			return one(fmt.Sprint(in.LaunchIndex))
		case "client-token":
			return one(in.ClientToken)
		case "state-reason-code":
			return one(in.ReasonCode)
		case "root-device-type":
			return one("ebs")
		case "tenancy":
			return one("default")
		case "instance-lifecycle":
			return nil, true
		case "monitoring-state":
			return one(map[bool]string{true: "enabled", false: "disabled"}[in.Monitoring])
		case "instance.group-id", "group-id", "network-interface.group-id":
			return in.SecurityGroups, true
		case "instance.group-name", "group-name", "network-interface.group-name":
			var out []string
			for _, id := range in.SecurityGroups {
				if g := rg.groups[id]; g != nil {
					out = append(out, g.Name)
				}
			}
			return out, true
		case "metadata-options.http-tokens":
			return one(in.HTTPTokens)
		case "metadata-options.http-endpoint":
			return one(in.HTTPEndpoint)
		}
		return nil, false
	}
}

// instanceIDs validates the ids of a request and returns the instances.
func (rg *region) instancesByID(ids []string) ([]*instance, error) {
	var missing []string
	out := make([]*instance, 0, len(ids))
	for _, id := range ids {
		if !instanceIDRE.MatchString(id) {
			return nil, errf(codeInstanceMalformed, "Invalid id: \"%s\"", id)
		}
		in := rg.instances[id]
		if in == nil {
			missing = append(missing, id)
			continue
		}
		out = append(out, in)
	}
	switch len(missing) {
	case 0:
		return out, nil
	case 1:
		return nil, errf(codeInstanceNotFound, "The instance ID '%s' does not exist", missing[0])
	}
	return nil, errf(codeInstanceNotFound, "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
}

func (s *Service) runInstances(r *service.Request) (map[string]any, error) {
	spec := &launchSpec{}
	if lt, ok := r.Input["LaunchTemplate"].(map[string]any); ok {
		spec.TemplateID = service.Str(lt, "LaunchTemplateId")
		spec.TemplateName = service.Str(lt, "LaunchTemplateName")
		spec.TemplateVersion = service.Str(lt, "Version")
		if spec.TemplateID == "" && spec.TemplateName == "" {
			return nil, missingParam("LaunchTemplate.LaunchTemplateId")
		}
	}
	minC, okMin := service.Int(r.Input, "MinCount")
	maxC, okMax := service.Int(r.Input, "MaxCount")
	if !okMin {
		return nil, missingParam("MinCount")
	}
	if !okMax {
		return nil, missingParam("MaxCount")
	}
	if minC < 1 {
		return nil, invalidParam("Value (%d) for parameter minCount is invalid. Expected a positive integer.", minC)
	}
	if maxC < minC {
		return nil, invalidParam("Value (%d) for parameter maxCount is invalid. Expected a value greater than or equal to minCount (%d).", maxC, minC)
	}
	spec.Min, spec.Max = int(min(minC, 1<<20)), int(min(maxC, 1<<20))
	spec.ClientToken = service.Str(r.Input, "ClientToken")
	if err := checkTagSpecTypes(r.Input, "instance", "volume", "network-interface", "spot-instances-request"); err != nil {
		return nil, err
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	if spec.ClientToken != "" {
		var prior []*instance
		for _, in := range rg.instances {
			if in.ClientToken == spec.ClientToken {
				prior = append(prior, in)
			}
		}
		if len(prior) > 0 {
			slices.SortFunc(prior, func(a, b *instance) int { return int(a.LaunchIndex - b.LaunchIndex) })
			out := reservationOut(rg, prior[0].ReservationID, prior)
			rg.mu.Unlock()
			return out, nil
		}
	}
	if spec.TemplateID != "" || spec.TemplateName != "" {
		data, id, ver, err := rg.templateData(spec.TemplateID, spec.TemplateName, spec.TemplateVersion)
		if err != nil {
			rg.mu.Unlock()
			return nil, err
		}
		spec.TemplateID, spec.TemplateVersion = id, ver
		if err := spec.apply(data); err != nil {
			rg.mu.Unlock()
			return nil, err
		}
	}
	if err := spec.apply(r.Input); err != nil {
		rg.mu.Unlock()
		return nil, err
	}
	insts, events, err := s.launch(rg, spec, r.Account)
	var out map[string]any
	if err == nil {
		out = reservationOut(rg, insts[0].ReservationID, insts)
		// RunInstances answers with the instances as launched: pending.
		for _, v := range out["Instances"].([]any) {
			m := v.(map[string]any)
			if m["State"].(map[string]any)["Name"] == string(StateRunning) {
				m["State"] = stateOut(StatePending)
			}
		}
	}
	rg.mu.Unlock()
	s.notify(events)
	return out, err
}

func reservationOut(rg *region, resID string, insts []*instance) map[string]any {
	list := make([]any, len(insts))
	for i, in := range insts {
		list[i] = in.out(rg)
	}
	return map[string]any{
		"ReservationId": resID, "OwnerId": rg.account, "Groups": []any{}, "Instances": list,
	}
}

// launchSpec is what a launch asks for, from a launch template overlaid by
// RunInstances parameters, or from a LaunchRequest.
type launchSpec struct {
	ImageID, InstanceType, KeyName, SubnetID, AZ, PrivateIP string
	GroupIDs, GroupNames                                    []string
	UserData                                                []byte
	Tags                                                    []Tag
	ProfileARN, ProfileName                                 string
	ShutdownBehavior                                        string
	DisableAPITermination, DisableAPIStop                   *bool
	HTTPTokens, HTTPEndpoint                                string
	MetadataTags                                            *bool
	Monitoring                                              *bool
	TemplateID, TemplateName, TemplateVersion               string
	Min, Max                                                int
	ClientToken                                             string
}

// apply overlays the launch parameters in m (RunInstances input or launch
// template data; they share member names) onto spec.
func (spec *launchSpec) apply(m map[string]any) error {
	set := func(dst *string, name string) {
		if v := service.Str(m, name); v != "" {
			*dst = v
		}
	}
	setBool := func(dst **bool, name string) {
		if v, ok := m[name].(bool); ok {
			*dst = &v
		}
	}
	set(&spec.ImageID, "ImageId")
	set(&spec.InstanceType, "InstanceType")
	set(&spec.KeyName, "KeyName")
	set(&spec.SubnetID, "SubnetId")
	set(&spec.PrivateIP, "PrivateIpAddress")
	set(&spec.ShutdownBehavior, "InstanceInitiatedShutdownBehavior")
	setBool(&spec.DisableAPITermination, "DisableApiTermination")
	setBool(&spec.DisableAPIStop, "DisableApiStop")
	if p, ok := m["Placement"].(map[string]any); ok {
		set2 := service.Str(p, "AvailabilityZone")
		if set2 != "" {
			spec.AZ = set2
		}
	}
	if ids := service.Strings(m, "SecurityGroupIds"); len(ids) > 0 {
		spec.GroupIDs = ids
	}
	if names := service.Strings(m, "SecurityGroups"); len(names) > 0 {
		spec.GroupNames = names
	}
	for _, v := range listOf(m, "NetworkInterfaces") {
		ni, _ := v.(map[string]any)
		if di, ok := ni["DeviceIndex"]; ok && fmt.Sprint(di) != "0" {
			continue
		}
		if sn := service.Str(ni, "SubnetId"); sn != "" {
			spec.SubnetID = sn
		}
		if g := service.Strings(ni, "Groups"); len(g) > 0 {
			spec.GroupIDs = g
		}
		if ip := service.Str(ni, "PrivateIpAddress"); ip != "" {
			spec.PrivateIP = ip
		}
	}
	if ud := service.Str(m, "UserData"); ud != "" {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(ud))
		if err != nil {
			return invalidParam("Invalid BASE64 encoding of user data.")
		}
		if len(b) > 16<<10 {
			return invalidParam("User data is limited to 16384 bytes")
		}
		spec.UserData = b
	}
	if p, ok := m["IamInstanceProfile"].(map[string]any); ok {
		if a := service.Str(p, "Arn"); a != "" {
			spec.ProfileARN, spec.ProfileName = a, ""
		} else if n := service.Str(p, "Name"); n != "" {
			spec.ProfileName, spec.ProfileARN = n, ""
		}
	}
	if mo, ok := m["MetadataOptions"].(map[string]any); ok {
		if v := service.Str(mo, "HttpTokens"); v != "" {
			if v != "optional" && v != "required" {
				return invalidParam("Invalid value '%s' for HttpTokens", v)
			}
			spec.HTTPTokens = v
		}
		if v := service.Str(mo, "HttpEndpoint"); v != "" {
			spec.HTTPEndpoint = v
		}
		if v := service.Str(mo, "InstanceMetadataTags"); v != "" {
			b := v == "enabled"
			spec.MetadataTags = &b
		}
	}
	if mon, ok := m["Monitoring"].(map[string]any); ok {
		if v, ok := mon["Enabled"].(bool); ok {
			spec.Monitoring = &v
		}
	}
	for _, v := range listOf(m, "TagSpecifications") {
		ts, _ := v.(map[string]any)
		if service.Str(ts, "ResourceType") != "instance" {
			continue
		}
		t, err := parseTags(listOf(ts, "Tags"))
		if err != nil {
			return err
		}
		spec.Tags = setTags(spec.Tags, t)
	}
	return nil
}

var instanceTypeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)

// launch validates spec and starts its instances; rg.mu is held.
func (s *Service) launch(rg *region, spec *launchSpec, requester string) ([]*instance, []StateChange, error) {
	if !s.running() {
		return nil, nil, internal(fmt.Errorf("ec2 is not running"))
	}
	if spec.ImageID == "" {
		return nil, nil, missingParam("ImageId")
	}
	if _, err := rg.image(spec.ImageID); err != nil {
		return nil, nil, err
	}
	if spec.InstanceType == "" {
		spec.InstanceType = "m1.small"
	}
	if !instanceTypeRE.MatchString(spec.InstanceType) {
		return nil, nil, invalidParam("Invalid value '%s' for InstanceType.", spec.InstanceType)
	}
	if spec.KeyName != "" && rg.keyByName(spec.KeyName) == nil {
		return nil, nil, errf(codeKeyPairNotFound, "The key pair '%s' does not exist", spec.KeyName)
	}
	switch spec.ShutdownBehavior {
	case "":
		spec.ShutdownBehavior = "stop"
	case "stop", "terminate":
	default:
		return nil, nil, invalidParam("Invalid value '%s' for InstanceInitiatedShutdownBehavior", spec.ShutdownBehavior)
	}
	var subnet *subnetRec
	switch {
	case spec.SubnetID != "":
		subnet = rg.subnets[spec.SubnetID]
		if subnet == nil {
			return nil, nil, errf(codeSubnetNotFound, "The subnet ID '%s' does not exist", spec.SubnetID)
		}
		if spec.AZ != "" && spec.AZ != subnet.AZ {
			return nil, nil, invalidParam("Value (%s) for parameter availabilityZone is invalid. Subnet %s is in %s", spec.AZ, subnet.ID, subnet.AZ)
		}
	case spec.AZ != "":
		subnet = rg.defaultSubnet(spec.AZ)
		if subnet == nil {
			return nil, nil, invalidParam("Invalid availability zone: [%s]", spec.AZ)
		}
	default:
		subnet = rg.leastUsedSubnet()
	}
	var groups []string
	for _, id := range spec.GroupIDs {
		g, err := rg.findGroup(id, "")
		if err != nil {
			return nil, nil, err
		}
		if g.VPCID != subnet.VPCID {
			return nil, nil, invalidParam("Security group %s and subnet %s belong to different networks.", g.ID, subnet.ID)
		}
		groups = append(groups, g.ID)
	}
	for _, n := range spec.GroupNames {
		g, err := rg.findGroup("", n)
		if err != nil {
			return nil, nil, err
		}
		groups = append(groups, g.ID)
	}
	if len(groups) == 0 {
		for _, g := range rg.groups {
			if g.Name == "default" && g.VPCID == subnet.VPCID {
				groups = append(groups, g.ID)
			}
		}
	}
	profileARN, profileID := spec.ProfileARN, ""
	if spec.ProfileName != "" {
		profileARN = "arn:" + service.Partition(rg.name) + ":iam::" + rg.account + ":instance-profile/" + spec.ProfileName
	}
	if profileARN != "" {
		if !strings.HasPrefix(profileARN, "arn:") || !strings.Contains(profileARN, ":instance-profile/") {
			return nil, nil, invalidParam("Value (%s) for parameter iamInstanceProfile.arn is invalid.", profileARN)
		}
		profileID = "AIPA" + strings.ToUpper(strings.TrimPrefix(newID("x"), "x-"))
	}
	if spec.PrivateIP != "" && spec.Max > 1 {
		return nil, nil, errf(codeInvalidParameterCombo, "Network interfaces and an instance-level private IP address should not be specified on the same request")
	}
	if spec.Min > 100 {
		return nil, nil, errf("InstanceLimitExceeded", "You have requested more instances (%d) than your current instance limit of 100 allows for the specified instance type.", spec.Min)
	}
	n := min(spec.Max, 100)
	ips, err := s.allocIPs(subnet, spec.PrivateIP, n)
	if err != nil {
		return nil, nil, err
	}
	now := s.clk.Now().UTC().Truncate(time.Second)
	resID := newID("r")
	c := &change{}
	insts := make([]*instance, n)
	for i := range insts {
		in := &instance{
			ID: newID("i"), ReservationID: resID, ImageID: spec.ImageID, InstanceType: spec.InstanceType,
			KeyName: spec.KeyName, State: StatePending, SubnetID: subnet.ID, VPCID: subnet.VPCID, AZ: subnet.AZ,
			PrivateIP: ips[i], SecurityGroups: groups, LaunchTime: now, UserData: spec.UserData,
			Tags: cloneTags(spec.Tags), ProfileARN: profileARN, ProfileID: profileID,
			TemplateID: spec.TemplateID, TemplateVersion: spec.TemplateVersion,
			ShutdownBehavior: spec.ShutdownBehavior, HTTPTokens: "optional", HTTPEndpoint: "enabled",
			LaunchIndex: int64(i), ClientToken: spec.ClientToken, Requester: requester,
		}
		if spec.DisableAPITermination != nil {
			in.DisableAPITermination = *spec.DisableAPITermination
		}
		if spec.DisableAPIStop != nil {
			in.DisableAPIStop = *spec.DisableAPIStop
		}
		if spec.HTTPTokens != "" {
			in.HTTPTokens = spec.HTTPTokens
		}
		if spec.HTTPEndpoint != "" {
			in.HTTPEndpoint = spec.HTTPEndpoint
		}
		if spec.MetadataTags != nil {
			in.MetadataTags = *spec.MetadataTags
		}
		if spec.Monitoring != nil {
			in.Monitoring = *spec.Monitoring
		}
		if spec.TemplateID != "" {
			in.Tags = setTags(in.Tags, []Tag{{"aws:ec2launchtemplate:id", spec.TemplateID}, {"aws:ec2launchtemplate:version", spec.TemplateVersion}})
		}
		insts[i] = in
		c.put(kindInstance, in.ID, in)
	}
	if err := s.save(rg, c); err != nil {
		s.releaseIPs(ips)
		return nil, nil, err
	}
	var events []StateChange
	for _, in := range insts {
		rg.instances[in.ID] = in
		events = append(events, StateChange{Account: rg.account, Region: rg.name, Instance: in.snapshot(rg)})
		events = append(events, s.boot(rg, in)...)
	}
	return insts, events, nil
}

// leastUsedSubnet returns the default subnet with the fewest live instances.
func (rg *region) leastUsedSubnet() *subnetRec {
	count := map[string]int{}
	for _, in := range rg.instances {
		if in.State != StateTerminated {
			count[in.SubnetID]++
		}
	}
	var best *subnetRec
	for _, sn := range rg.subnets {
		if !sn.Default {
			continue
		}
		if best == nil || count[sn.ID] < count[best.ID] || (count[sn.ID] == count[best.ID] && sn.AZ < best.AZ) {
			best = sn
		}
	}
	return best
}

// allocIPs reserves n free addresses in subnet (or the one asked for).
func (s *Service) allocIPs(sn *subnetRec, want string, n int) ([]string, error) {
	pfx, err := netip.ParsePrefix(sn.CIDR)
	if err != nil {
		return nil, internal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if want != "" {
		a, err := netip.ParseAddr(want)
		if err != nil || !pfx.Contains(a) {
			return nil, invalidParam("Address %s is not in subnet %s's CIDR block %s", want, sn.ID, sn.CIDR)
		}
		if _, used := s.ips[want]; used {
			return nil, errf("InvalidIPAddress.InUse", "Address %s is in use.", want)
		}
		s.ips[want] = "reserved"
		return []string{want}, nil
	}
	var out []string
	a := pfx.Addr()
	for range 4 { // the first four addresses are reserved, as in a VPC
		a = a.Next()
	}
	for ; pfx.Contains(a) && len(out) < n; a = a.Next() {
		if !pfx.Contains(a.Next()) {
			break // the broadcast address
		}
		ip := a.String()
		if _, used := s.ips[ip]; !used {
			s.ips[ip] = "reserved"
			out = append(out, ip)
		}
	}
	if len(out) < n {
		for _, ip := range out {
			delete(s.ips, ip)
		}
		return nil, errf("InsufficientFreeAddressesInSubnet", "There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.", sn.ID)
	}
	return out, nil
}

func (s *Service) releaseIPs(ips []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ip := range ips {
		delete(s.ips, ip)
	}
}

func (s *Service) describeInstances(r *service.Request) (map[string]any, error) {
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
	ids := service.Strings(r.Input, "InstanceIds")
	list := mapValues(rg.instances)
	if len(ids) > 0 {
		if list, err = rg.instancesByID(ids); err != nil {
			return nil, err
		}
	}
	if len(fs) > 0 {
		if err := validateFilters(fs, (&instance{}).fields(rg)); err != nil {
			return nil, err
		}
		list = slices.DeleteFunc(list, func(in *instance) bool { return !matches(fs, in.fields(rg)) })
	}
	if _, ok := service.Int(r.Input, "MaxResults"); ok && len(ids) > 0 {
		return nil, errf(codeInvalidParameterCombo, "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	page, next, err := paginate(r.Input, list, func(in *instance) string {
		return in.LaunchTime.UTC().Format(time.RFC3339) + in.ReservationID + fmt.Sprintf("%06d", in.LaunchIndex)
	}, 5, 1000)
	if err != nil {
		return nil, err
	}
	var res []any
	var cur map[string]any
	for _, in := range page {
		if cur == nil || cur["ReservationId"] != in.ReservationID {
			cur = map[string]any{"ReservationId": in.ReservationID, "OwnerId": rg.account, "Groups": []any{}, "Instances": []any{}}
			if in.Requester != "" && in.Requester != rg.account {
				cur["RequesterId"] = in.Requester
			}
			res = append(res, cur)
		}
		cur["Instances"] = append(cur["Instances"].([]any), in.out(rg))
	}
	return withToken(map[string]any{"Reservations": res}, next), nil
}

func (s *Service) describeInstanceStatus(r *service.Request) (map[string]any, error) {
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
	ids := service.Strings(r.Input, "InstanceIds")
	list := mapValues(rg.instances)
	if len(ids) > 0 {
		if list, err = rg.instancesByID(ids); err != nil {
			return nil, err
		}
	}
	all := service.Bool(r.Input, "IncludeAllInstances")
	status := func(in *instance) string {
		switch {
		case in.State != StateRunning:
			return "not-applicable"
		case in.vm == nil:
			return "impaired"
		}
		return "ok"
	}
	fields := func(in *instance) fieldFunc {
		return func(name string) ([]string, bool) {
			st := status(in)
			reach := map[string]string{"ok": "passed", "impaired": "failed"}[st]
			switch name {
			case "availability-zone":
				return []string{in.AZ}, true
			case "instance-state-name":
				return []string{string(in.State)}, true
			case "instance-state-code":
				return []string{fmt.Sprint(in.State.Code())}, true
			case "instance-status.status", "system-status.status":
				return []string{st}, true
			case "instance-status.reachability", "system-status.reachability":
				return []string{reach}, true
			case "event.code", "event.description":
				return nil, true
			}
			return nil, false
		}
	}
	if err := validateFilters(fs, fields(&instance{})); err != nil {
		return nil, err
	}
	list = slices.DeleteFunc(list, func(in *instance) bool {
		return (!all && in.State != StateRunning) || !matches(fs, fields(in))
	})
	page, next, err := paginate(r.Input, list, func(in *instance) string { return in.ID }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(page))
	for i, in := range page {
		st := status(in)
		summary := map[string]any{"Status": st}
		if st != "not-applicable" {
			reach := map[string]string{"ok": "passed", "impaired": "failed"}[st]
			summary["Details"] = []any{map[string]any{"Name": "reachability", "Status": reach}}
		}
		out[i] = map[string]any{
			"InstanceId": in.ID, "AvailabilityZone": in.AZ, "InstanceState": stateOut(in.State),
			"InstanceStatus": summary, "SystemStatus": summary, "Events": []any{},
		}
	}
	return withToken(map[string]any{"InstanceStatuses": out}, next), nil
}

func stateChangeOut(id string, prev, cur State) map[string]any {
	return map[string]any{"InstanceId": id, "PreviousState": stateOut(prev), "CurrentState": stateOut(cur)}
}

// act applies fn to every instance a request names, all or nothing for
// validation, and answers the state changes.
func (s *Service) act(r *service.Request, outName string, fn func(rg *region, in *instance) ([]StateChange, error)) (map[string]any, error) {
	ids := service.Strings(r.Input, "InstanceIds")
	if len(ids) == 0 {
		return nil, missingParam("InstanceId")
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	insts, err := rg.instancesByID(ids)
	if err != nil {
		rg.mu.Unlock()
		return nil, err
	}
	var events []StateChange
	var out []any
	for _, in := range insts {
		prev := in.State
		ev, err := fn(rg, in)
		events = append(events, ev...)
		if err != nil {
			rg.mu.Unlock()
			s.notify(events)
			return nil, err
		}
		out = append(out, stateChangeOut(in.ID, prev, in.State))
	}
	rg.mu.Unlock()
	s.notify(events)
	if outName == "" {
		return map[string]any{}, nil
	}
	return map[string]any{outName: out}, nil
}

func (s *Service) startInstances(r *service.Request) (map[string]any, error) {
	// Validate every instance before starting any.
	if err := s.check(r, func(in *instance) error {
		switch in.State {
		case StateTerminated, StateShuttingDown, StateStopping:
			return errf(codeIncorrectInstanceState, "The instance '%s' is not in a state from which it can be started.", in.ID)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return s.act(r, "StartingInstances", s.startOne)
}

// startOne boots a stopped instance; rg.mu is held.
func (s *Service) startOne(rg *region, in *instance) ([]StateChange, error) {
	if in.State != StateStopped {
		return nil, nil
	}
	return s.transition(rg, in, StatePending, "", "", "", func() []StateChange { return s.boot(rg, in) })
}

func (s *Service) check(r *service.Request, fn func(*instance) error) error {
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	insts, err := rg.instancesByID(service.Strings(r.Input, "InstanceIds"))
	if err != nil {
		return err
	}
	for _, in := range insts {
		if err := fn(in); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) stopInstances(r *service.Request) (map[string]any, error) {
	if err := s.check(r, func(in *instance) error {
		switch {
		case in.State == StateTerminated || in.State == StateShuttingDown:
			return errf(codeIncorrectInstanceState, "This instance '%s' is not in a state from which it can be stopped.", in.ID)
		case in.DisableAPIStop:
			return errf(codeOperationNotPermitted, "The instance '%s' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.", in.ID)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	force := service.Bool(r.Input, "Force")
	return s.act(r, "StoppingInstances", func(rg *region, in *instance) ([]StateChange, error) {
		return s.stopOne(rg, in, force, StateStopping, "User initiated")
	})
}

// stopOne moves a live instance to to (stopping or shutting-down) and asks
// its process to stop; the boot's watcher finishes the transition. rg.mu
// is held.
func (s *Service) stopOne(rg *region, in *instance, force bool, to State, why string) ([]StateChange, error) {
	switch {
	case in.State == StateTerminated || in.State == to:
		return nil, nil
	case to == StateStopping && (in.State == StateStopped || in.State == StateShuttingDown):
		return nil, nil
	}
	reason := fmt.Sprintf("%s (%s)", why, s.clk.Now().UTC().Format("2006-01-02 15:04:05 MST"))
	code, msg := "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"
	if in.vm == nil { // nothing runs: finish at once
		final := StateStopped
		if to == StateShuttingDown {
			final = StateTerminated
		}
		return s.transition(rg, in, final, reason, code, msg, nil)
	}
	v := in.vm
	return s.transition(rg, in, to, reason, code, msg, func() []StateChange {
		s.stopVM(v, force)
		return nil
	})
}

// stopVM asks a boot's process to stop, without waiting.
func (s *Service) stopVM(v *vm, force bool) {
	ctx := s.ctx
	if force {
		c, cancel := context.WithCancel(ctx)
		cancel()
		ctx = c
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		v.p.Stop(ctx)
	}()
}

func (s *Service) terminateInstances(r *service.Request) (map[string]any, error) {
	if err := s.check(r, func(in *instance) error {
		if in.DisableAPITermination && in.State != StateTerminated {
			return errf(codeOperationNotPermitted, "The instance '%s' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.", in.ID)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	force := service.Bool(r.Input, "Force") || service.Bool(r.Input, "SkipOsShutdown")
	return s.act(r, "TerminatingInstances", func(rg *region, in *instance) ([]StateChange, error) {
		return s.stopOne(rg, in, force, StateShuttingDown, "User initiated")
	})
}

func (s *Service) rebootInstances(r *service.Request) (map[string]any, error) {
	if err := s.check(r, func(in *instance) error {
		if in.State == StateTerminated || in.State == StateShuttingDown {
			return errf(codeIncorrectInstanceState, "The instance '%s' is not in a state from which it can be rebooted.", in.ID)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return s.act(r, "", func(rg *region, in *instance) ([]StateChange, error) {
		if in.vm != nil && (in.State == StateRunning || in.State == StatePending) && !in.vm.reboot {
			in.vm.reboot = true
			s.stopVM(in.vm, false)
		}
		return nil, nil
	})
}

func (s *Service) getConsoleOutput(r *service.Request) (map[string]any, error) {
	id := service.Str(r.Input, "InstanceId")
	if id == "" {
		return nil, missingParam("InstanceId")
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	insts, err := rg.instancesByID([]string{id})
	if err != nil {
		rg.mu.Unlock()
		return nil, err
	}
	in := insts[0]
	out := in.console
	if in.vm != nil {
		out = in.vm.p.Output().Tail(consoleLimit)
	}
	rg.mu.Unlock()
	return map[string]any{
		"InstanceId": id, "Timestamp": s.clk.Now().UTC(),
		"Output": base64.StdEncoding.EncodeToString(out),
	}, nil
}

// consoleLimit is how much console output GetConsoleOutput returns, as AWS.
const consoleLimit = 64 << 10

func (s *Service) modifyInstanceAttribute(r *service.Request) (map[string]any, error) {
	id := service.Str(r.Input, "InstanceId")
	if id == "" {
		return nil, missingParam("InstanceId")
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	insts, err := rg.instancesByID([]string{id})
	if err != nil {
		return nil, err
	}
	in := insts[0]
	next := *in
	in2 := &next
	attrVal := func(name string) (any, bool) {
		if m, ok := r.Input[name].(map[string]any); ok {
			v, ok := m["Value"]
			return v, ok
		}
		return nil, false
	}
	// The Attribute/Value form names one attribute.
	if a := service.Str(r.Input, "Attribute"); a != "" {
		v := service.Str(r.Input, "Value")
		switch a {
		case "instanceType":
			r.Input["InstanceType"] = map[string]any{"Value": v}
		case "userData":
			r.Input["UserData"] = map[string]any{"Value": []byte(v)}
		case "disableApiTermination":
			r.Input["DisableApiTermination"] = map[string]any{"Value": v == "true"}
		case "disableApiStop":
			r.Input["DisableApiStop"] = map[string]any{"Value": v == "true"}
		case "instanceInitiatedShutdownBehavior":
			r.Input["InstanceInitiatedShutdownBehavior"] = map[string]any{"Value": v}
		case "sourceDestCheck":
		default:
			return nil, invalidParam("Value (%s) for parameter attribute is invalid. Unknown attribute.", a)
		}
	}
	changed := false
	if v, ok := attrVal("InstanceType"); ok {
		t, _ := v.(string)
		if in.State != StateStopped {
			return nil, errf(codeIncorrectInstanceState, "The instance '%s' is not in the 'stopped' state.", in.ID)
		}
		if !instanceTypeRE.MatchString(t) {
			return nil, invalidParam("Invalid value '%s' for InstanceType.", t)
		}
		in2.InstanceType, changed = t, true
	}
	if v, ok := attrVal("UserData"); ok {
		b, _ := v.([]byte)
		if in.State != StateStopped {
			return nil, errf(codeIncorrectInstanceState, "The instance '%s' is not in the 'stopped' state.", in.ID)
		}
		// SDKs send the user data base64-encoded once more than the blob
		// encoding; accept both.
		if d, err := base64.StdEncoding.DecodeString(string(b)); err == nil {
			b = d
		}
		in2.UserData, changed = b, true
	}
	if v, ok := attrVal("DisableApiTermination"); ok {
		in2.DisableAPITermination, _ = v.(bool)
		changed = true
	}
	if v, ok := attrVal("DisableApiStop"); ok {
		in2.DisableAPIStop, _ = v.(bool)
		changed = true
	}
	if v, ok := attrVal("InstanceInitiatedShutdownBehavior"); ok {
		b, _ := v.(string)
		if b != "stop" && b != "terminate" {
			return nil, invalidParam("Invalid value '%s' for InstanceInitiatedShutdownBehavior", b)
		}
		in2.ShutdownBehavior, changed = b, true
	}
	if groups := service.Strings(r.Input, "Groups"); len(groups) > 0 {
		var ids []string
		for _, g := range groups {
			gr, err := rg.findGroup(g, "")
			if err != nil {
				return nil, err
			}
			ids = append(ids, gr.ID)
		}
		in2.SecurityGroups, changed = ids, true
	}
	if _, ok := attrVal("SourceDestCheck"); ok {
		changed = true
	}
	if !changed {
		return nil, missingParam("Attribute")
	}
	if err := s.save(rg, (&change{}).put(kindInstance, in.ID, in2)); err != nil {
		return nil, err
	}
	in.InstanceType, in.UserData, in.DisableAPITermination, in.DisableAPIStop = in2.InstanceType, in2.UserData, in2.DisableAPITermination, in2.DisableAPIStop
	in.ShutdownBehavior, in.SecurityGroups = in2.ShutdownBehavior, in2.SecurityGroups
	return map[string]any{}, nil
}

func (s *Service) describeInstanceAttribute(r *service.Request) (map[string]any, error) {
	id, attr := service.Str(r.Input, "InstanceId"), service.Str(r.Input, "Attribute")
	if id == "" {
		return nil, missingParam("InstanceId")
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	insts, err := rg.instancesByID([]string{id})
	if err != nil {
		return nil, err
	}
	in := insts[0]
	out := map[string]any{"InstanceId": in.ID}
	switch attr {
	case "instanceType":
		out["InstanceType"] = map[string]any{"Value": in.InstanceType}
	case "userData":
		if len(in.UserData) > 0 {
			out["UserData"] = map[string]any{"Value": base64.StdEncoding.EncodeToString(in.UserData)}
		} else {
			out["UserData"] = map[string]any{}
		}
	case "disableApiTermination":
		out["DisableApiTermination"] = map[string]any{"Value": in.DisableAPITermination}
	case "disableApiStop":
		out["DisableApiStop"] = map[string]any{"Value": in.DisableAPIStop}
	case "instanceInitiatedShutdownBehavior":
		out["InstanceInitiatedShutdownBehavior"] = map[string]any{"Value": in.ShutdownBehavior}
	case "groupSet":
		out["Groups"] = in.groupOut(rg)
	case "rootDeviceName":
		out["RootDeviceName"] = map[string]any{"Value": "/dev/xvda"}
	case "sourceDestCheck":
		out["SourceDestCheck"] = map[string]any{"Value": true}
	case "ebsOptimized":
		out["EbsOptimized"] = map[string]any{"Value": false}
	case "enaSupport":
		out["EnaSupport"] = map[string]any{"Value": true}
	case "blockDeviceMapping":
		out["BlockDeviceMappings"] = []any{}
	case "productCodes":
		out["ProductCodes"] = []any{}
	case "kernel", "ramdisk", "sriovNetSupport":
	case "":
		return nil, missingParam("Attribute")
	default:
		return nil, invalidParam("Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	return out, nil
}
