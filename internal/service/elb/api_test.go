package elb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func TestLoadBalancerLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out, err := e.v2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"},
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	lb := out.LoadBalancers[0]
	if lb.State.Code != types.LoadBalancerStateEnumProvisioning {
		t.Errorf("state on create = %s, want provisioning", lb.State.Code)
	}
	if !strings.HasPrefix(*lb.DNSName, "web-") || !strings.HasSuffix(*lb.DNSName, ".us-east-1.elb.localhost") {
		t.Errorf("DNSName = %s", *lb.DNSName)
	}
	if !strings.Contains(*lb.LoadBalancerArn, ":loadbalancer/app/web/") || lb.Type != types.LoadBalancerTypeEnumApplication {
		t.Errorf("arn %s type %s", *lb.LoadBalancerArn, lb.Type)
	}
	if len(lb.AvailabilityZones) != 2 {
		t.Errorf("AZs = %d", len(lb.AvailabilityZones))
	}
	d, err := e.v2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.LoadBalancers) != 1 || d.LoadBalancers[0].State.Code != types.LoadBalancerStateEnumActive {
		t.Fatalf("describe = %+v", d.LoadBalancers)
	}
	// The SDK waiter sees it active.
	w := elbv2.NewLoadBalancerAvailableWaiter(e.v2)
	if err := w.Wait(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{*lb.LoadBalancerArn}}, 5e9); err != nil {
		t.Fatal(err)
	}
	tags, err := e.v2.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{*lb.LoadBalancerArn}})
	if err != nil || len(tags.TagDescriptions[0].Tags) != 1 || *tags.TagDescriptions[0].Tags[0].Value != "test" {
		t.Fatalf("tags %+v %v", tags, err)
	}
	// Same name, same settings: idempotent.
	again, err := e.v2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil || *again.LoadBalancers[0].LoadBalancerArn != *lb.LoadBalancerArn {
		t.Fatalf("idempotent create: %v", err)
	}
	_, err = e.v2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Type: types.LoadBalancerTypeEnumNetwork, Subnets: []string{"subnet-a"}})
	if apiCode(err) != "DuplicateLoadBalancerName" {
		t.Errorf("duplicate: %v", err)
	}
	attrs, err := e.v2.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{
		LoadBalancerArn: lb.LoadBalancerArn,
		Attributes:      []types.LoadBalancerAttribute{{Key: aws.String("deletion_protection.enabled"), Value: aws.String("true")}},
	})
	if err != nil || len(attrs.Attributes) == 0 {
		t.Fatal(err)
	}
	if _, err := e.v2.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); apiCode(err) != "OperationNotPermitted" {
		t.Errorf("delete protected: %v", err)
	}
	e.v2.ModifyLoadBalancerAttributes(ctx, &elbv2.ModifyLoadBalancerAttributesInput{
		LoadBalancerArn: lb.LoadBalancerArn,
		Attributes:      []types.LoadBalancerAttribute{{Key: aws.String("deletion_protection.enabled"), Value: aws.String("false")}},
	})
	if _, err := e.v2.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{*lb.LoadBalancerArn}})
	if apiCode(err) != "LoadBalancerNotFound" {
		t.Errorf("after delete: %v", err)
	}
}

func TestValidationErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"bad lb name", func() error {
			_, err := e.v2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("-bad"), Subnets: []string{"a", "b"}})
			return err
		}(), "ValidationError"},
		{"one subnet", func() error {
			_, err := e.v2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("x"), Subnets: []string{"a"}})
			return err
		}(), "ValidationError"},
		{"tg without vpc", func() error {
			_, err := e.v2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("t"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80)})
			return err
		}(), "ValidationError"},
		{"timeout >= interval", func() error {
			_, err := e.v2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("t"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1"),
				HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(5)})
			return err
		}(), "ValidationError"},
		{"bad matcher", func() error {
			_, err := e.v2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("t"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String("vpc-1"),
				Matcher: &types.Matcher{HttpCode: aws.String("600")}})
			return err
		}(), "ValidationError"},
		{"unknown tg", func() error {
			_, err := e.v2.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/nope/0123456789abcdef")})
			return err
		}(), "TargetGroupNotFound"},
		{"unknown listener", func() error {
			_, err := e.v2.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{"arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/x/1/2"}})
			return err
		}(), "ListenerNotFound"},
		{"describe listeners without filter", func() error {
			_, err := e.v2.DescribeListeners(ctx, &elbv2.DescribeListenersInput{})
			return err
		}(), "ValidationError"},
	}
	for _, c := range cases {
		if got := apiCode(c.err); got != c.code {
			t.Errorf("%s: got %q (%v), want %s", c.name, got, c.err, c.code)
		}
	}
	d, err := e.v2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{})
	if err != nil || len(d.TargetGroups) != 0 {
		t.Errorf("failed creates left target groups: %v %v", d, err)
	}
}

func TestTargetGroupsListenersRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	lb := e.lb("app", "")
	tgA := e.tg("a", types.ProtocolEnumHttp, 80)
	tgB := e.tg("b", types.ProtocolEnumHttp, 80)
	tgs, err := e.v2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	g := tgs.TargetGroups[0]
	if *g.HealthCheckPath != "/health" || *g.Matcher.HttpCode != "200" || *g.HealthCheckIntervalSeconds != 10 || g.TargetType != types.TargetTypeEnumIp {
		t.Errorf("target group %+v", g)
	}
	attrs, err := e.v2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: &tgA, Attributes: []types.TargetGroupAttribute{
		{Key: aws.String("load_balancing.algorithm.type"), Value: aws.String("least_outstanding_requests")},
		{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("30")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range attrs.Attributes {
		if *a.Key == "load_balancing.algorithm.type" && *a.Value == "least_outstanding_requests" {
			found = true
		}
	}
	if !found {
		t.Errorf("attributes %+v", attrs.Attributes)
	}
	_, err = e.v2.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: &tgA, Attributes: []types.TargetGroupAttribute{
		{Key: aws.String("slow_start.duration_seconds"), Value: aws.String("60")}}})
	if apiCode(err) != "InvalidConfigurationRequest" {
		t.Errorf("slow start with LOR: %v", err)
	}
	lARN, _ := e.listener(*lb.LoadBalancerArn, types.ProtocolEnumHttp, 18080, forward(tgA))
	_, err = e.v2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(0), DefaultActions: []types.Action{forward(tgA)}})
	if err == nil {
		t.Error("port 0 accepted")
	}
	r1, err := e.v2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: &lARN, Priority: aws.Int32(10),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/b/*"}}}},
		Actions:    []types.Action{forward(tgB)}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: &lARN, Priority: aws.Int32(10),
		Conditions: []types.RuleCondition{{Field: aws.String("host-header"), Values: []string{"x.example.com"}}},
		Actions:    []types.Action{forward(tgB)}})
	if apiCode(err) != "PriorityInUse" {
		t.Errorf("priority in use: %v", err)
	}
	r2, err := e.v2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: &lARN, Priority: aws.Int32(20),
		Conditions: []types.RuleCondition{{Field: aws.String("host-header"), Values: []string{"x.example.com"}}},
		Actions:    []types.Action{forward(tgB)}})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := e.v2.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: &lARN})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.Rules) != 3 || *rules.Rules[0].Priority != "10" || *rules.Rules[2].Priority != "default" || !*rules.Rules[2].IsDefault {
		t.Fatalf("rules %+v", rules.Rules)
	}
	sp, err := e.v2.SetRulePriorities(ctx, &elbv2.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{
		{RuleArn: r1.Rules[0].RuleArn, Priority: aws.Int32(20)}, {RuleArn: r2.Rules[0].RuleArn, Priority: aws.Int32(10)}}})
	if err != nil || len(sp.Rules) != 2 {
		t.Fatalf("SetRulePriorities: %v", err)
	}
	_, err = e.v2.DeleteRule(ctx, &elbv2.DeleteRuleInput{RuleArn: rules.Rules[2].RuleArn})
	if apiCode(err) != "OperationNotPermitted" {
		t.Errorf("delete default rule: %v", err)
	}
	_, err = e.v2.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: &tgB})
	if apiCode(err) != "ResourceInUse" {
		t.Errorf("delete tg in use: %v", err)
	}
	tgs, _ = e.v2.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: lb.LoadBalancerArn})
	if len(tgs.TargetGroups) != 2 || len(tgs.TargetGroups[0].LoadBalancerArns) != 1 {
		t.Errorf("target groups of lb: %+v", tgs.TargetGroups)
	}
	ml, err := e.v2.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: &lARN, DefaultActions: []types.Action{{
		Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("404"), MessageBody: aws.String("nope")}}}})
	if err != nil || ml.Listeners[0].DefaultActions[0].Type != types.ActionTypeEnumFixedResponse {
		t.Fatalf("ModifyListener: %v", err)
	}
	if _, err := e.v2.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: &lARN}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: &tgB}); err != nil {
		t.Fatal(err)
	}
}
