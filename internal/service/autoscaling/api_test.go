package autoscaling_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

func TestGroupValidation(t *testing.T) {
	e := newEnv(t)
	lt := e.template("web")
	subnets := e.subnets()
	ltSpec := &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String("$Latest")}
	create := func(name string, mut func(*autoscaling.CreateAutoScalingGroupInput)) error {
		in := &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), MinSize: aws.Int32(0), MaxSize: aws.Int32(2),
			LaunchTemplate: ltSpec, VPCZoneIdentifier: aws.String(strings.Join(subnets, ","))}
		if mut != nil {
			mut(in)
		}
		_, err := e.as.CreateAutoScalingGroup(e.ctx, in)
		return err
	}
	wantCode(t, "min > max", create("bad", func(in *autoscaling.CreateAutoScalingGroupInput) { in.MinSize = aws.Int32(3) }), "ValidationError")
	wantCode(t, "desired > max", create("bad", func(in *autoscaling.CreateAutoScalingGroupInput) { in.DesiredCapacity = aws.Int32(5) }), "ValidationError")
	wantCode(t, "no launch source", create("bad", func(in *autoscaling.CreateAutoScalingGroupInput) { in.LaunchTemplate = nil }), "ValidationError")
	wantCode(t, "two launch sources", create("bad", func(in *autoscaling.CreateAutoScalingGroupInput) { in.LaunchConfigurationName = aws.String("lc") }), "ValidationError")
	wantCode(t, "unknown template", create("bad", func(in *autoscaling.CreateAutoScalingGroupInput) {
		in.LaunchTemplate = &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("nope")}
	}), "ValidationError")
	wantCode(t, "unknown subnet", create("bad", func(in *autoscaling.CreateAutoScalingGroupInput) {
		in.VPCZoneIdentifier = aws.String("subnet-0000dead")
	}), "ValidationError")
	wantCode(t, "no placement", create("bad", func(in *autoscaling.CreateAutoScalingGroupInput) { in.VPCZoneIdentifier = nil }), "ValidationError")
	wantCode(t, "unknown target group", create("bad", func(in *autoscaling.CreateAutoScalingGroupInput) {
		in.TargetGroupARNs = []string{"arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/nope/0123456789abcdef"}
	}), "ValidationError")
	wantCode(t, "bad health check type", create("bad", func(in *autoscaling.CreateAutoScalingGroupInput) { in.HealthCheckType = aws.String("HTTP") }), "ValidationError")
	out, err := e.as.DescribeAutoScalingGroups(e.ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil || len(out.AutoScalingGroups) != 0 {
		t.Fatalf("rejected creates left groups: %v %v", out, err)
	}

	if err := create("g", func(in *autoscaling.CreateAutoScalingGroupInput) {
		in.Tags = []astypes.Tag{{Key: aws.String("team"), Value: aws.String("web"), PropagateAtLaunch: aws.Bool(true)}}
	}); err != nil {
		t.Fatalf("CreateAutoScalingGroup: %v", err)
	}
	wantCode(t, "duplicate", create("g", nil), "AlreadyExists")
	g := e.group("g")
	if aws.ToInt32(g.DesiredCapacity) != 0 || len(g.AvailabilityZones) != 3 || aws.ToString(g.HealthCheckType) != "EC2" ||
		aws.ToInt32(g.DefaultCooldown) != 300 || len(g.TerminationPolicies) != 1 || g.TerminationPolicies[0] != "Default" ||
		!strings.Contains(aws.ToString(g.AutoScalingGroupARN), ":autoScalingGroup:") || len(g.Tags) != 1 {
		t.Errorf("described group = %+v", g)
	}
	_, err = e.as.SetDesiredCapacity(e.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("g"), DesiredCapacity: aws.Int32(3)})
	wantCode(t, "desired above max", err, "ValidationError")
	_, err = e.as.SetDesiredCapacity(e.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("nope"), DesiredCapacity: aws.Int32(1)})
	wantCode(t, "unknown group", err, "ValidationError")
	_, err = e.as.UpdateAutoScalingGroup(e.ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"), MinSize: aws.Int32(4)})
	wantCode(t, "update min above max", err, "ValidationError")
	_, err = e.as.TerminateInstanceInAutoScalingGroup(e.ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{InstanceId: aws.String("i-0123456789abcdef0"), ShouldDecrementDesiredCapacity: aws.Bool(false)})
	wantCode(t, "terminate unknown instance", err, "ValidationError")
	_, err = e.as.PutScalingPolicy(e.ctx, &autoscaling.PutScalingPolicyInput{AutoScalingGroupName: aws.String("g"), PolicyName: aws.String("p"), AdjustmentType: aws.String("Double"), ScalingAdjustment: aws.Int32(1)})
	wantCode(t, "bad adjustment type", err, "ValidationError")
	_, err = e.as.PutScalingPolicy(e.ctx, &autoscaling.PutScalingPolicyInput{AutoScalingGroupName: aws.String("g"), PolicyName: aws.String("p"), PolicyType: aws.String("StepScaling"), AdjustmentType: aws.String("ChangeInCapacity"),
		StepAdjustments: []astypes.StepAdjustment{{MetricIntervalLowerBound: aws.Float64(0), MetricIntervalUpperBound: aws.Float64(10), ScalingAdjustment: aws.Int32(1)}, {MetricIntervalLowerBound: aws.Float64(20), ScalingAdjustment: aws.Int32(2)}}})
	wantCode(t, "step gap", err, "ValidationError")
	_, err = e.as.PutScheduledUpdateGroupAction(e.ctx, &autoscaling.PutScheduledUpdateGroupActionInput{AutoScalingGroupName: aws.String("g"), ScheduledActionName: aws.String("s"), Recurrence: aws.String("61 * * * *"), DesiredCapacity: aws.Int32(1)})
	wantCode(t, "bad cron", err, "ValidationError")

	// Launch configurations.
	if _, err := e.as.CreateLaunchConfiguration(e.ctx, &autoscaling.CreateLaunchConfigurationInput{LaunchConfigurationName: aws.String("lc"), ImageId: aws.String("ami-0overcast00000001"), InstanceType: aws.String("t3.micro")}); err != nil {
		t.Fatalf("CreateLaunchConfiguration: %v", err)
	}
	_, err = e.as.CreateLaunchConfiguration(e.ctx, &autoscaling.CreateLaunchConfigurationInput{LaunchConfigurationName: aws.String("lc"), ImageId: aws.String("ami-0overcast00000001"), InstanceType: aws.String("t3.micro")})
	wantCode(t, "duplicate launch configuration", err, "AlreadyExists")
	if _, err := e.as.UpdateAutoScalingGroup(e.ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"), LaunchConfigurationName: aws.String("lc")}); err != nil {
		t.Fatalf("UpdateAutoScalingGroup to launch configuration: %v", err)
	}
	_, err = e.as.DeleteLaunchConfiguration(e.ctx, &autoscaling.DeleteLaunchConfigurationInput{LaunchConfigurationName: aws.String("lc")})
	wantCode(t, "delete launch configuration in use", err, "ResourceInUse")
	lcs, err := e.as.DescribeLaunchConfigurations(e.ctx, &autoscaling.DescribeLaunchConfigurationsInput{})
	if err != nil || len(lcs.LaunchConfigurations) != 1 || aws.ToString(lcs.LaunchConfigurations[0].InstanceType) != "t3.micro" {
		t.Errorf("DescribeLaunchConfigurations = %+v, %v", lcs, err)
	}
	if _, err := e.as.DeleteAutoScalingGroup(e.ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("g")}); err != nil {
		t.Fatalf("DeleteAutoScalingGroup: %v", err)
	}
	_, err = e.as.DeleteAutoScalingGroup(e.ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("g")})
	wantCode(t, "delete twice", err, "ValidationError")
}

// TestCapacity runs a group of real instances: launches across zones,
// scales by SetDesiredCapacity, terminates with and without decrement,
// replaces a killed instance and refuses to delete a non-empty group.
func TestCapacity(t *testing.T) {
	e := newEnv(t)
	lt := e.template("web")
	subnets := e.subnets()
	if _, err := e.as.CreateAutoScalingGroup(e.ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(2), MaxSize: aws.Int32(6),
		LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt)},
		VPCZoneIdentifier: aws.String(strings.Join(subnets, ",")),
	}); err != nil {
		t.Fatal(err)
	}
	e.eventually("2 instances in service", 0, func() bool { return len(e.inService("web")) == 2 })
	if _, err := e.as.SetDesiredCapacity(e.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	e.eventually("3 instances in service", 0, func() bool { return len(e.inService("web")) == 3 })
	zones := map[string]int{}
	for _, in := range e.group("web").Instances {
		zones[aws.ToString(in.AvailabilityZone)]++
	}
	if len(zones) != 3 {
		t.Errorf("instances not spread over 3 zones: %v", zones)
	}
	_, err := e.as.SetDesiredCapacity(e.ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("web"), DesiredCapacity: aws.Int32(2), HonorCooldown: aws.Bool(true)})
	wantCode(t, "honor cooldown", err, "ScalingActivityInProgress")

	ids := e.inService("web")
	act, err := e.as.TerminateInstanceInAutoScalingGroup(e.ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{InstanceId: aws.String(ids[0]), ShouldDecrementDesiredCapacity: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if c := aws.ToString(act.Activity.Cause); !strings.Contains(c, "instance "+ids[0]+" was taken out of service in response to a user request, shrinking the capacity from 3 to 2.") {
		t.Errorf("terminate cause = %q", c)
	}
	e.eventually("terminated instance gone", 0, func() bool { return len(e.group("web").Instances) == 2 })
	if d := aws.ToInt32(e.group("web").DesiredCapacity); d != 2 {
		t.Errorf("desired after decrement = %d", d)
	}
	// Without decrement, the group replaces the instance.
	ids = e.inService("web")
	if _, err := e.as.TerminateInstanceInAutoScalingGroup(e.ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{InstanceId: aws.String(ids[0]), ShouldDecrementDesiredCapacity: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	e.eventually("replacement in service", 0, func() bool {
		now := e.inService("web")
		return len(now) == 2 && now[0] != ids[0] && now[1] != ids[0]
	})

	_, err = e.as.DeleteAutoScalingGroup(e.ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web")})
	wantCode(t, "delete non-empty group", err, "ResourceInUse")

	acts := e.activities("web")
	if len(acts) < 5 {
		t.Fatalf("got %d activities", len(acts))
	}
	first := aws.ToString(acts[0].Cause)
	if !strings.HasPrefix(first, "At 2026-03-02T09:00:00Z a user request created an AutoScalingGroup changing the desired capacity from 0 to 2.  At 2026-03-02T09:00:00Z an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 0 to 2.") {
		t.Errorf("first cause = %q", first)
	}
	if d := aws.ToString(acts[0].Description); !strings.HasPrefix(d, "Launching a new EC2 instance: i-") || acts[0].StatusCode != astypes.ScalingActivityStatusCodeSuccessful {
		t.Errorf("first activity = %q %s", d, acts[0].StatusCode)
	}

	if _, err := e.as.DeleteAutoScalingGroup(e.ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), ForceDelete: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.eventually("group deleted", time.Second, func() bool {
		out, err := e.as.DescribeAutoScalingGroups(e.ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
		return err == nil && len(out.AutoScalingGroups) == 0
	})
}
