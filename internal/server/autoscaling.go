package server

import (
	"context"
	"fmt"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/autoscaling"
	"github.com/overcast-dev/overcast/internal/service/cloudwatch"
	"github.com/overcast-dev/overcast/internal/service/ec2"
	"github.com/overcast-dev/overcast/internal/service/elb"
)

// newAutoScaling builds Auto Scaling on EC2, Elastic Load Balancing and
// CloudWatch, and makes it CloudWatch's scaling-policy executor.
func newAutoScaling(p *parts) service.Service {
	o := autoscaling.Options{KV: p.kv, Clock: p.clock, Logger: p.logger, Metrics: p.metrics}
	if p.ec2 != nil {
		o.Compute = asCompute{p.ec2}
	}
	if p.elb != nil {
		o.LoadBalancing = asLoadBalancing{p.elb}
	}
	if p.cloudwatch != nil {
		o.Alarms = asAlarms{p.cloudwatch}
	}
	svc := autoscaling.New(o)
	if p.cloudwatch != nil {
		p.cloudwatch.SetScaler(svc)
	}
	return svc
}

// asCompute adapts EC2 to autoscaling.Compute.
type asCompute struct{ ec *ec2.Service }

func asInstance(in ec2.Instance) autoscaling.Instance {
	return autoscaling.Instance{ID: in.ID, ImageID: in.ImageID, InstanceType: in.InstanceType,
		AvailabilityZone: in.AvailabilityZone, SubnetID: in.SubnetID, LaunchTemplateID: in.LaunchTemplateID,
		LaunchTemplateVersion: in.LaunchTemplateVersion, LaunchTime: in.LaunchTime, State: string(in.State), Alive: in.Running()}
}

func (c asCompute) Launch(ctx context.Context, account, region string, spec autoscaling.LaunchSpec) (autoscaling.Instance, error) {
	req := ec2.LaunchRequest{LaunchTemplateID: spec.LaunchTemplateID, LaunchTemplateName: spec.LaunchTemplateName,
		LaunchTemplateVersion: spec.LaunchTemplateVersion, ImageID: spec.ImageID, InstanceType: spec.InstanceType,
		UserData: spec.UserData, SubnetID: spec.SubnetID, AvailabilityZone: spec.AvailabilityZone,
		SecurityGroupIDs: spec.SecurityGroups, IAMInstanceProfile: spec.IAMInstanceProfile, Count: 1,
		Requester: "autoscaling.amazonaws.com"}
	for _, t := range spec.Tags {
		req.Tags = append(req.Tags, ec2.Tag{Key: t.Key, Value: t.Value})
	}
	out, err := c.ec.Launch(ctx, account, region, req)
	if err != nil {
		return autoscaling.Instance{}, err
	}
	if len(out) == 0 {
		return autoscaling.Instance{}, fmt.Errorf("ec2 launched no instance")
	}
	return asInstance(out[0]), nil
}

func (c asCompute) Terminate(ctx context.Context, account, region string, ids ...string) error {
	var known []string
	for _, id := range ids {
		if _, ok := c.ec.Describe(account, region, id); ok {
			known = append(known, id)
		}
	}
	if len(known) == 0 {
		return nil
	}
	return c.ec.Terminate(ctx, account, region, known...)
}

func (c asCompute) Describe(account, region, id string) (autoscaling.Instance, bool) {
	in, ok := c.ec.Describe(account, region, id)
	if !ok {
		return autoscaling.Instance{}, false
	}
	return asInstance(in), true
}

func (c asCompute) Subnets(account, region string) ([]autoscaling.Subnet, error) {
	sns, err := c.ec.Subnets(account, region)
	if err != nil {
		return nil, err
	}
	out := make([]autoscaling.Subnet, len(sns))
	for i, sn := range sns {
		out[i] = autoscaling.Subnet{ID: sn.ID, AvailabilityZone: sn.AvailabilityZone}
	}
	return out, nil
}

func (c asCompute) LaunchTemplate(account, region, id, name string) (autoscaling.LaunchTemplate, bool) {
	in := map[string]any{}
	if id != "" {
		in["LaunchTemplateIds"] = []any{id}
	} else {
		in["LaunchTemplateNames"] = []any{name}
	}
	h := c.ec.Handlers()["DescribeLaunchTemplates"]
	if h == nil {
		return autoscaling.LaunchTemplate{}, false
	}
	out, err := h(&service.Request{Context: context.Background(), Account: account, Region: region, Operation: "DescribeLaunchTemplates", Input: in})
	if err != nil {
		return autoscaling.LaunchTemplate{}, false
	}
	lts, _ := out["LaunchTemplates"].([]any)
	if len(lts) == 0 {
		return autoscaling.LaunchTemplate{}, false
	}
	m, _ := lts[0].(map[string]any)
	lt := autoscaling.LaunchTemplate{ID: service.Str(m, "LaunchTemplateId"), Name: service.Str(m, "LaunchTemplateName")}
	lt.DefaultVersion, _ = service.Int(m, "DefaultVersionNumber")
	lt.LatestVersion, _ = service.Int(m, "LatestVersionNumber")
	return lt, true
}

func (c asCompute) Watch(fn func(account, region, id string)) func() {
	return c.ec.Watch(func(ch ec2.StateChange) { fn(ch.Account, ch.Region, ch.Instance.ID) })
}

// asLoadBalancing adapts Elastic Load Balancing to autoscaling.LoadBalancing.
type asLoadBalancing struct{ lb *elb.Service }

func asTargets(ids []string) []elb.Target {
	out := make([]elb.Target, len(ids))
	for i, id := range ids {
		out[i] = elb.Target{ID: id}
	}
	return out
}

func (a asLoadBalancing) TargetGroupExists(account, region, arn string) bool {
	return a.lb.TargetGroupExists(account, region, arn)
}

func (a asLoadBalancing) RegisterTargets(account, region, arn string, ids []string) error {
	return a.lb.RegisterTargets(account, region, arn, asTargets(ids))
}

func (a asLoadBalancing) DeregisterTargets(account, region, arn string, ids []string) error {
	return a.lb.DeregisterTargets(account, region, arn, asTargets(ids))
}

func (a asLoadBalancing) TargetHealth(account, region, arn string) ([]autoscaling.TargetState, error) {
	ths, err := a.lb.TargetHealth(account, region, arn)
	if err != nil {
		return nil, err
	}
	out := make([]autoscaling.TargetState, len(ths))
	for i, t := range ths {
		out[i] = autoscaling.TargetState{ID: t.ID, State: t.State}
	}
	return out, nil
}

func (a asLoadBalancing) LoadBalancerExists(account, region, name string) bool {
	_, err := a.lb.InstanceHealth(account, region, name)
	return err == nil
}

func (a asLoadBalancing) RegisterInstances(account, region, name string, ids []string) error {
	return a.lb.RegisterInstances(account, region, name, ids)
}

func (a asLoadBalancing) DeregisterInstances(account, region, name string, ids []string) error {
	return a.lb.DeregisterInstances(account, region, name, ids)
}

func (a asLoadBalancing) InstanceHealth(account, region, name string) ([]autoscaling.TargetState, error) {
	ths, err := a.lb.InstanceHealth(account, region, name)
	if err != nil {
		return nil, err
	}
	out := make([]autoscaling.TargetState, len(ths))
	for i, t := range ths {
		out[i] = autoscaling.TargetState{ID: t.InstanceID, State: t.State}
	}
	return out, nil
}

// asAlarms adapts CloudWatch's alarm operations to autoscaling.Alarms.
type asAlarms struct{ cw *cloudwatch.Service }

func (a asAlarms) call(op, account, region string, in map[string]any) (map[string]any, error) {
	h := a.cw.Handlers()[op]
	if h == nil {
		return nil, fmt.Errorf("cloudwatch has no %s", op)
	}
	return h(&service.Request{Context: context.Background(), Account: account, Region: region, Operation: op, Input: in})
}

func (a asAlarms) PutAlarm(account, region string, s autoscaling.AlarmSpec) (string, error) {
	in := map[string]any{"AlarmName": s.Name, "AlarmDescription": s.Description, "ActionsEnabled": true,
		"AlarmActions": asStrs(s.AlarmActions), "EvaluationPeriods": s.EvaluationPeriods,
		"DatapointsToAlarm": s.DatapointsToAlarm, "Threshold": s.Threshold, "ComparisonOperator": s.ComparisonOperator}
	if len(s.Metrics) > 0 {
		qs := make([]any, len(s.Metrics))
		for i, q := range s.Metrics {
			qs[i] = q
		}
		in["Metrics"] = qs
	} else {
		in["Namespace"], in["MetricName"], in["Statistic"], in["Period"] = s.Namespace, s.MetricName, s.Statistic, s.Period
		if s.Unit != "" {
			in["Unit"] = s.Unit
		}
		dims := make([]any, len(s.Dimensions))
		for i, d := range s.Dimensions {
			dims[i] = map[string]any{"Name": d.Name, "Value": d.Value}
		}
		in["Dimensions"] = dims
	}
	if _, err := a.call("PutMetricAlarm", account, region, in); err != nil {
		return "", err
	}
	return fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", service.Partition(region), region, account, s.Name), nil
}

func (a asAlarms) DeleteAlarms(account, region string, names []string) error {
	_, err := a.call("DeleteAlarms", account, region, map[string]any{"AlarmNames": asStrs(names)})
	return err
}

func (a asAlarms) AlarmThreshold(account, region, name string) (float64, bool) {
	out, err := a.call("DescribeAlarms", account, region, map[string]any{"AlarmNames": []any{name}})
	if err != nil {
		return 0, false
	}
	ms, _ := out["MetricAlarms"].([]any)
	if len(ms) == 0 {
		return 0, false
	}
	m, _ := ms[0].(map[string]any)
	t, ok := m["Threshold"].(float64)
	return t, ok
}

func asStrs(l []string) []any {
	out := make([]any, len(l))
	for i, v := range l {
		out[i] = v
	}
	return out
}

var (
	_ autoscaling.Compute       = asCompute{}
	_ autoscaling.LoadBalancing = asLoadBalancing{}
	_ autoscaling.Alarms        = asAlarms{}
)
