package ec2_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/awstest"
)

func client(t *testing.T) (*ec2.Client, *awstest.Server) {
	t.Helper()
	srv := awstest.Start(t, awstest.WithServices("ec2"))
	return ec2.NewFromConfig(srv.Config), srv
}

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae.ErrorCode()
}

// eventually polls cond every 20ms until it holds or 20s have passed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDefaultNetwork(t *testing.T) {
	c, _ := client(t)
	ctx := context.Background()
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(vpcs.Vpcs) != 1 || !aws.ToBool(vpcs.Vpcs[0].IsDefault) {
		t.Fatalf("default VPCs = %+v", vpcs.Vpcs)
	}
	vpc := aws.ToString(vpcs.Vpcs[0].VpcId)
	subnets, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
	if err != nil {
		t.Fatal(err)
	}
	var azs []string
	for _, s := range subnets.Subnets {
		azs = append(azs, aws.ToString(s.AvailabilityZone))
	}
	if strings.Join(azs, ",") != "us-east-1a,us-east-1b,us-east-1c" {
		t.Errorf("subnet AZs = %v", azs)
	}
	one, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{{Name: aws.String("availability-zone"), Values: []string{"us-east-1b"}}}})
	if err != nil || len(one.Subnets) != 1 {
		t.Fatalf("subnets in us-east-1b: %v %v", one, err)
	}
	zones, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil || len(zones.AvailabilityZones) != 3 || aws.ToString(zones.AvailabilityZones[0].ZoneId) != "use1-az1" {
		t.Fatalf("zones: %+v %v", zones, err)
	}
	regions, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{Filters: []types.Filter{{Name: aws.String("region-name"), Values: []string{"eu-*"}}}})
	if err != nil || len(regions.Regions) == 0 {
		t.Fatalf("regions: %v", err)
	}
	for _, r := range regions.Regions {
		if !strings.HasPrefix(aws.ToString(r.RegionName), "eu-") {
			t.Errorf("region %s passed the eu-* filter", aws.ToString(r.RegionName))
		}
	}
	groups, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"default"}})
	if err != nil || len(groups.SecurityGroups) != 1 || len(groups.SecurityGroups[0].IpPermissionsEgress) != 1 {
		t.Fatalf("default group: %+v %v", groups, err)
	}
	_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("no-such-filter"), Values: []string{"x"}}}})
	if code := apiCode(t, err); code != "InvalidParameterValue" {
		t.Errorf("unknown filter: %s", code)
	}
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0123456789abcdef0"}})
	if code := apiCode(t, err); code != "InvalidSubnetID.NotFound" {
		t.Errorf("missing subnet: %s", code)
	}
	// Another region has its own default VPC.
	other, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}, func(o *ec2.Options) { o.Region = "eu-west-1" })
	if err != nil || len(other.Vpcs) != 1 || aws.ToString(other.Vpcs[0].VpcId) == vpc {
		t.Errorf("eu-west-1 VPCs: %+v %v", other, err)
	}
}

func TestSecurityGroupsKeyPairsTags(t *testing.T) {
	c, _ := client(t)
	ctx := context.Background()
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String("web"), Description: aws.String("web servers"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: []types.Tag{{Key: aws.String("tier"), Value: aws.String("web")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("again")})
	if code := apiCode(t, err); code != "InvalidGroup.Duplicate" {
		t.Errorf("duplicate group: %s", code)
	}
	perm := []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8080), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}
	auth, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: perm})
	if err != nil || len(auth.SecurityGroupRules) != 1 {
		t.Fatalf("authorize: %+v %v", auth, err)
	}
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: perm})
	if code := apiCode(t, err); code != "InvalidPermission.Duplicate" {
		t.Errorf("duplicate rule: %s", code)
	}
	got, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{{Name: aws.String("tag:tier"), Values: []string{"web"}}}})
	if err != nil || len(got.SecurityGroups) != 1 {
		t.Fatalf("by tag: %+v %v", got, err)
	}
	p := got.SecurityGroups[0].IpPermissions
	if len(p) != 1 || aws.ToInt32(p[0].FromPort) != 8080 || aws.ToString(p[0].IpRanges[0].CidrIp) != "0.0.0.0/0" {
		t.Errorf("ingress = %+v", p)
	}
	if _, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: perm}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String("sg-0000000000000000f")})
	if code := apiCode(t, err); code != "InvalidGroup.NotFound" {
		t.Errorf("delete missing group: %s", code)
	}
	if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId}); err != nil {
		t.Fatal(err)
	}

	kp, err := c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("k1"), KeyType: types.KeyTypeEd25519})
	if err != nil || !strings.Contains(aws.ToString(kp.KeyMaterial), "PRIVATE KEY") {
		t.Fatalf("create key: %+v %v", kp, err)
	}
	_, err = c.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("k1")})
	if code := apiCode(t, err); code != "InvalidKeyPair.Duplicate" {
		t.Errorf("duplicate key: %s", code)
	}
	pub := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGkJ5fsYYBkd2m2hKQdLxsm1gY6nPfXNXy9aHNRhV7iL test@host"
	imp, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("k2"), PublicKeyMaterial: []byte(pub)})
	if err != nil || !strings.HasPrefix(aws.ToString(imp.KeyFingerprint), "") {
		t.Fatalf("import: %v", err)
	}
	_, err = c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("k3"), PublicKeyMaterial: []byte("not a key")})
	if code := apiCode(t, err); code != "InvalidKey.Format" {
		t.Errorf("bad key: %s", code)
	}
	keys, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil || len(keys.KeyPairs) != 2 {
		t.Fatalf("keys: %+v %v", keys, err)
	}
	_, err = c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"nope"}})
	if code := apiCode(t, err); code != "InvalidKeyPair.NotFound" {
		t.Errorf("missing key: %s", code)
	}
	if _, err := c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("k1")}); err != nil {
		t.Fatal(err)
	}

	vpcs, _ := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	vpc := aws.ToString(vpcs.Vpcs[0].VpcId)
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{vpc, aws.ToString(imp.KeyPairId)}, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{{Name: aws.String("key"), Values: []string{"env"}}}})
	if err != nil || len(tags.Tags) != 2 {
		t.Fatalf("tags: %+v %v", tags, err)
	}
	if _, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{vpc}, Tags: []types.Tag{{Key: aws.String("env")}}}); err != nil {
		t.Fatal(err)
	}
	tags, _ = c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{{Name: aws.String("resource-type"), Values: []string{"vpc"}}}})
	if len(tags.Tags) != 0 {
		t.Errorf("vpc tags after delete: %+v", tags.Tags)
	}
	_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"i-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	if code := apiCode(t, err); code != "InvalidInstanceID.NotFound" {
		t.Errorf("tag missing instance: %s", code)
	}
	_, err = c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{DryRun: aws.Bool(true)})
	if code := apiCode(t, err); code != "DryRunOperation" {
		t.Errorf("dry run: %s", code)
	}
}

func userData(s string) *string {
	return aws.String(base64.StdEncoding.EncodeToString([]byte(s)))
}

func instance(t *testing.T, c *ec2.Client, id string) types.Instance {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Reservations[0].Instances[0]
}

func waitState(t *testing.T, c *ec2.Client, id string, want types.InstanceStateName) types.Instance {
	t.Helper()
	var in types.Instance
	eventually(t, fmt.Sprintf("%s to be %s", id, want), func() bool {
		in = instance(t, c, id)
		return in.State.Name == want
	})
	return in
}

func console(t *testing.T, c *ec2.Client, id string) string {
	t.Helper()
	out, err := c.GetConsoleOutput(context.Background(), &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func httpGet(url string) (string, error) {
	cl := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := cl.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func needTools(t *testing.T, tools ...string) {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

// groupAlive reports whether process group pgid has a process left.
func groupAlive(pgid int) bool {
	return pgid > 0 && syscall.Kill(-pgid, 0) == nil
}

func TestInstanceServesAndTerminates(t *testing.T) {
	needTools(t, "python3", "curl")
	c, _ := client(t)
	ctx := context.Background()
	script := `#!/bin/sh
echo "booting $OVERCAST_INSTANCE_ID"
mkdir -p www && echo "hello from $INSTANCE_IP" > www/index.html
python3 -m http.server --bind "$INSTANCE_IP" --directory www 8080 >/dev/null 2>&1 &
TOKEN=$(curl -s -X PUT "${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
echo "imds instance-id: $(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" "${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/meta-data/instance-id")"
echo "imds az: $(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" "${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/meta-data/placement/availability-zone")"
echo "imds bad token: $(curl -s -o /dev/null -w '%{http_code}' -H "X-aws-ec2-metadata-token: nope" "${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/meta-data/instance-id")"
echo "endpoint $AWS_ENDPOINT_URL"
`
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-0overcast00000001"), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), UserData: userData(script),
		Placement:         &types.Placement{AvailabilityZone: aws.String("us-east-1b")},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web-1")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := run.Instances[0]
	id := aws.ToString(in.InstanceId)
	if in.State.Name != types.InstanceStateNamePending {
		t.Errorf("RunInstances state = %s, want pending", in.State.Name)
	}
	in = waitState(t, c, id, types.InstanceStateNameRunning)
	ip := aws.ToString(in.PrivateIpAddress)
	if !strings.HasPrefix(ip, "127.") || aws.ToString(in.Placement.AvailabilityZone) != "us-east-1b" {
		t.Fatalf("ip %s az %s", ip, aws.ToString(in.Placement.AvailabilityZone))
	}
	if want := "ip-" + strings.ReplaceAll(ip, ".", "-") + ".ec2.internal"; aws.ToString(in.PrivateDnsName) != want {
		t.Errorf("private DNS = %s, want %s", aws.ToString(in.PrivateDnsName), want)
	}
	var body string
	eventually(t, "the instance's server", func() bool {
		body, err = httpGet("http://" + ip + ":8080/index.html")
		return err == nil
	})
	if strings.TrimSpace(body) != "hello from "+ip {
		t.Errorf("server answered %q", body)
	}
	eventually(t, "the user data to finish", func() bool { return strings.Contains(console(t, c, id), "[overcast] user data exited") })
	out := console(t, c, id)
	for _, want := range []string{"booting " + id, "imds instance-id: " + id, "imds az: us-east-1b", "imds bad token: 401", "endpoint http://127.0.0.1:"} {
		if !strings.Contains(out, want) {
			t.Errorf("console output lacks %q:\n%s", want, out)
		}
	}
	// The backgrounded server outlived the user data script.
	if _, err := httpGet("http://" + ip + ":8080/"); err != nil {
		t.Errorf("server gone after user data finished: %v", err)
	}

	byTag, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("tag:Name"), Values: []string{"web-*"}},
		{Name: aws.String("instance-state-name"), Values: []string{"running"}},
	}})
	if err != nil || len(byTag.Reservations) != 1 || aws.ToString(byTag.Reservations[0].Instances[0].InstanceId) != id {
		t.Fatalf("filter by tag: %+v %v", byTag, err)
	}
	status, err := c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}})
	if err != nil || len(status.InstanceStatuses) != 1 || status.InstanceStatuses[0].InstanceStatus.Status != types.SummaryStatusOk {
		t.Fatalf("status: %+v %v", status, err)
	}

	pgid := pidOf(t, ip)
	term, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if s := term.TerminatingInstances[0]; s.PreviousState.Name != types.InstanceStateNameRunning || s.CurrentState.Name != types.InstanceStateNameShuttingDown {
		t.Errorf("terminate: %s -> %s", s.PreviousState.Name, s.CurrentState.Name)
	}
	waitState(t, c, id, types.InstanceStateNameTerminated)
	eventually(t, "the process group to be gone", func() bool { return !groupAlive(pgid) })
	if _, err := httpGet("http://" + ip + ":8080/"); err == nil {
		t.Error("the server still answers after termination")
	}
	_, err = c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	if code := apiCode(t, err); code != "IncorrectInstanceState" {
		t.Errorf("start terminated: %s", code)
	}
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	if code := apiCode(t, err); code != "InvalidInstanceID.NotFound" {
		t.Errorf("missing instance: %s", code)
	}
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"bogus"}})
	if code := apiCode(t, err); code != "InvalidInstanceID.Malformed" {
		t.Errorf("malformed id: %s", code)
	}
}

// pidOf finds the process group of the server bound to ip.
func pidOf(t *testing.T, ip string) int {
	t.Helper()
	out, err := exec.Command("ps", "-eo", "pgid=,args=").Output()
	if err != nil {
		t.Skipf("ps: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "--bind "+ip) {
			var pgid int
			fmt.Sscan(strings.TrimSpace(line), &pgid)
			return pgid
		}
	}
	t.Fatalf("no process bound to %s", ip)
	return 0
}

func TestStopStartRebootAndCrash(t *testing.T) {
	c, _ := client(t)
	ctx := context.Background()
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-0overcast00000003"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2),
		UserData: userData("echo boot $$\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Instances) != 2 {
		t.Fatalf("launched %d instances", len(run.Instances))
	}
	id, id2 := aws.ToString(run.Instances[0].InstanceId), aws.ToString(run.Instances[1].InstanceId)
	waitState(t, c, id, types.InstanceStateNameRunning)
	eventually(t, "first boot output", func() bool { return strings.Count(console(t, c, id), "boot ") == 1 })

	stop, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	if err != nil || stop.StoppingInstances[0].CurrentState.Name != types.InstanceStateNameStopping {
		t.Fatalf("stop: %+v %v", stop, err)
	}
	in := waitState(t, c, id, types.InstanceStateNameStopped)
	if aws.ToString(in.StateReason.Code) != "Client.UserInitiatedShutdown" {
		t.Errorf("stop reason %s", aws.ToString(in.StateReason.Code))
	}
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), InstanceType: &types.AttributeValue{Value: aws.String("t3.large")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	in = waitState(t, c, id, types.InstanceStateNameRunning)
	if in.InstanceType != types.InstanceTypeT3Large {
		t.Errorf("type after modify = %s", in.InstanceType)
	}
	_, err = c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), InstanceType: &types.AttributeValue{Value: aws.String("t3.small")}})
	if code := apiCode(t, err); code != "IncorrectInstanceState" {
		t.Errorf("modify type while running: %s", code)
	}
	if _, err := c.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reboot's output", func() bool {
		return strings.Contains(console(t, c, id), "boot ") && instance(t, c, id).State.Name == types.InstanceStateNameRunning
	})

	// Killing the instance's processes is an instance-initiated shutdown.
	pgid := pidOfInit(t, id2)
	syscall.Kill(-pgid, syscall.SIGKILL)
	in = waitState(t, c, id2, types.InstanceStateNameStopped)
	if aws.ToString(in.StateReason.Code) != "Client.InstanceInitiatedShutdown" {
		t.Errorf("crash reason %s", aws.ToString(in.StateReason.Code))
	}
	if _, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if code := apiCode(t, err); code != "OperationNotPermitted" {
		t.Errorf("terminate protected: %s", code)
	}
}

// pidOfInit finds the process group of an instance's init program by its
// OVERCAST_INSTANCE_ID environment variable.
func pidOfInit(t *testing.T, id string) int {
	t.Helper()
	out, err := exec.Command("sh", "-c", `for p in /proc/[0-9]*; do if tr '\0' '\n' < $p/environ 2>/dev/null | grep -qx "OVERCAST_INSTANCE_ID=`+id+`"; then ps -o pgid= -p ${p#/proc/}; fi; done`).Output()
	if err != nil {
		t.Fatal(err)
	}
	var pgid int
	fmt.Sscan(strings.TrimSpace(string(out)), &pgid)
	if pgid == 0 {
		t.Fatalf("no process of %s", id)
	}
	return pgid
}

func TestLaunchTemplatesCloudConfigAndProfile(t *testing.T) {
	needTools(t, "curl")
	c, _ := client(t)
	ctx := context.Background()
	cloud := `#cloud-config
write_files:
  - path: /etc/app/greeting
    content: |
      hello from cloud-config
runcmd:
  - cat "$OVERCAST_INSTANCE_ROOT/etc/app/greeting"
  - [ sh, -c, 'echo "role: $(curl -s ${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/meta-data/iam/security-credentials/)"' ]
  - 'echo "env key= ${AWS_ACCESS_KEY_ID:-none}"'
`
	lt, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("app"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{
			ImageId: aws.String("ami-0overcast00000001"), InstanceType: types.InstanceTypeT3Micro,
			UserData: userData("echo version one\n"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ltID := aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
	_, err = c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("app"), LaunchTemplateData: &types.RequestLaunchTemplateData{}})
	if code := apiCode(t, err); code != "InvalidLaunchTemplateName.AlreadyExistsException" {
		t.Errorf("duplicate template: %s", code)
	}
	v2, err := c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(ltID), SourceVersion: aws.String("1"), VersionDescription: aws.String("cloud"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{
			UserData:           userData(cloud),
			IamInstanceProfile: &types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String("app-role")},
		},
	})
	if err != nil || aws.ToInt64(v2.LaunchTemplateVersion.VersionNumber) != 2 {
		t.Fatalf("version 2: %+v %v", v2, err)
	}
	if aws.ToString(v2.LaunchTemplateVersion.LaunchTemplateData.ImageId) != "ami-0overcast00000001" {
		t.Errorf("version 2 did not inherit the image: %+v", v2.LaunchTemplateVersion.LaunchTemplateData)
	}
	vers, err := c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("app"), Versions: []string{"$Latest", "$Default"}})
	if err != nil || len(vers.LaunchTemplateVersions) != 2 {
		t.Fatalf("versions: %+v %v", vers, err)
	}
	if _, err := c.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(ltID), DefaultVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	lts, err := c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"app"}})
	if err != nil || aws.ToInt64(lts.LaunchTemplates[0].DefaultVersionNumber) != 2 || aws.ToInt64(lts.LaunchTemplates[0].LatestVersionNumber) != 2 {
		t.Fatalf("templates: %+v %v", lts, err)
	}
	_, err = c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ltID), Version: aws.String("7")}})
	if code := apiCode(t, err); code != "InvalidLaunchTemplateId.VersionNotFound" {
		t.Errorf("missing version: %s", code)
	}
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("app")}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	in := waitState(t, c, id, types.InstanceStateNameRunning)
	if !strings.HasSuffix(aws.ToString(in.IamInstanceProfile.Arn), ":instance-profile/app-role") {
		t.Errorf("profile = %+v", in.IamInstanceProfile)
	}
	eventually(t, "cloud-config output", func() bool { return strings.Contains(console(t, c, id), "[overcast] user data exited") })
	out := console(t, c, id)
	for _, want := range []string{"hello from cloud-config", "role: app-role", "env key= none"} {
		if !strings.Contains(out, want) {
			t.Errorf("console lacks %q:\n%s", want, out)
		}
	}
	if _, err := c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{ltID}})
	if code := apiCode(t, err); code != "InvalidLaunchTemplateId.NotFound" {
		t.Errorf("deleted template: %s", code)
	}
}

func TestCLIDescribeInstances(t *testing.T) {
	c, srv := client(t)
	ctx := context.Background()
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-0overcast00000003"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("role"), Value: aws.String("cli")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	waitState(t, c, id, types.InstanceStateNameRunning)
	for _, cli := range awstest.CLIs(t) {
		t.Run(cli.Name, func(t *testing.T) {
			cmd := exec.Command(cli.Path, "--endpoint-url", srv.URL(), "ec2", "describe-instances",
				"--filters", "Name=tag:role,Values=cli", "Name=instance-state-name,Values=running",
				"--query", "Reservations[].Instances[].[InstanceId,State.Name,Placement.AvailabilityZone]", "--output", "text")
			cmd.Env = awstest.ClientEnv(t, "test", "test")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			f := strings.Fields(string(out))
			if len(f) != 3 || f[0] != id || f[1] != "running" || !strings.HasPrefix(f[2], "us-east-1") {
				t.Errorf("describe-instances printed %q", out)
			}
			cmd = exec.Command(cli.Path, "--endpoint-url", srv.URL(), "ec2", "describe-instances", "--instance-ids", "i-0123456789abcdef0")
			cmd.Env = awstest.ClientEnv(t, "test", "test")
			out, err = cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), "InvalidInstanceID.NotFound") {
				t.Errorf("missing instance: %v %s", err, out)
			}
		})
	}
}
