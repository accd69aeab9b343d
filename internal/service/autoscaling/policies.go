package autoscaling

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
)

var adjustmentTypes = []string{"ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"}

var predefinedMetrics = map[string]struct{ namespace, name, stat string }{
	"ASGAverageCPUUtilization": {"AWS/EC2", "CPUUtilization", "Average"},
	"ASGAverageNetworkIn":      {"AWS/EC2", "NetworkIn", "Average"},
	"ASGAverageNetworkOut":     {"AWS/EC2", "NetworkOut", "Average"},
	"ALBRequestCountPerTarget": {"AWS/ApplicationELB", "RequestCountPerTarget", "Sum"},
}

func policyARN(rg *region, groupName, name string) string {
	return fmt.Sprintf("arn:%s:autoscaling:%s:%s:scalingPolicy:%s:autoScalingGroupName/%s:policyName/%s",
		service.Partition(rg.name), rg.name, rg.account, newUUID(), groupName, name)
}

// findPolicy finds a policy by name or ARN; s.mu is held.
func findPolicy(rg *region, groupName, name string) *policy {
	if p := rg.policies[name]; p != nil {
		return p
	}
	for _, p := range rg.policies {
		if p.Name == name && (groupName == "" || p.Group == groupName) {
			return p
		}
	}
	return nil
}

func (s *Service) putScalingPolicy(r *service.Request) (map[string]any, error) {
	in := r.Input
	gname := service.Str(in, "AutoScalingGroupName")
	if gname == "" {
		return nil, missing("AutoScalingGroupName")
	}
	name := service.Str(in, "PolicyName")
	if name == "" {
		return nil, missing("PolicyName")
	}
	p := &policy{Group: gname, Name: name, Type: service.Str(in, "PolicyType"), AdjustmentType: service.Str(in, "AdjustmentType"),
		MinMagnitude: intp(in, "MinAdjustmentMagnitude"), ScalingAdjustment: intp(in, "ScalingAdjustment"),
		Cooldown: intp(in, "Cooldown"), Aggregation: service.Str(in, "MetricAggregationType"),
		Warmup: intp(in, "EstimatedInstanceWarmup"), Enabled: true}
	if p.MinMagnitude == nil {
		p.MinMagnitude = intp(in, "MinAdjustmentStep")
	}
	if b := boolp(in, "Enabled"); b != nil {
		p.Enabled = *b
	}
	if p.Type == "" {
		p.Type = "SimpleScaling"
	}
	switch p.Type {
	case "SimpleScaling", "StepScaling":
		if p.AdjustmentType == "" {
			return nil, validation("AdjustmentType is required for %s policies.", p.Type)
		}
		if !slices.Contains(adjustmentTypes, p.AdjustmentType) {
			return nil, validation("Invalid adjustment type %s. Valid adjustment types are: ChangeInCapacity, ExactCapacity and PercentChangeInCapacity.", p.AdjustmentType)
		}
		if p.MinMagnitude != nil && p.AdjustmentType != "PercentChangeInCapacity" {
			return nil, validation("MinAdjustmentMagnitude is only supported with the PercentChangeInCapacity adjustment type.")
		}
		if p.MinMagnitude != nil && *p.MinMagnitude < 1 {
			return nil, validation("MinAdjustmentMagnitude must be greater than 0.")
		}
		if has(in, "TargetTrackingConfiguration") {
			return nil, validation("TargetTrackingConfiguration is not supported for %s policies.", p.Type)
		}
	case "TargetTrackingScaling":
		for _, k := range []string{"AdjustmentType", "ScalingAdjustment", "StepAdjustments", "MinAdjustmentMagnitude", "Cooldown", "MetricAggregationType"} {
			if has(in, k) {
				return nil, validation("%s is not supported for policy type TargetTrackingScaling.", k)
			}
		}
	case "PredictiveScaling":
		return nil, validation("Predictive scaling policies are not supported.")
	default:
		return nil, validation("Invalid policy type %s. Valid policy types are: SimpleScaling, StepScaling, TargetTrackingScaling and PredictiveScaling.", p.Type)
	}
	switch p.Type {
	case "SimpleScaling":
		if p.ScalingAdjustment == nil {
			return nil, validation("ScalingAdjustment is required for SimpleScaling policies.")
		}
		if has(in, "StepAdjustments") {
			return nil, validation("StepAdjustments is not supported for SimpleScaling policies.")
		}
		if p.Warmup != nil {
			return nil, validation("EstimatedInstanceWarmup is not supported for SimpleScaling policies.")
		}
		p.Aggregation = ""
	case "StepScaling":
		if p.ScalingAdjustment != nil {
			return nil, validation("ScalingAdjustment is not supported for StepScaling policies.")
		}
		if p.Cooldown != nil {
			return nil, validation("Cooldown is not supported for StepScaling policies.")
		}
		steps, err := parseSteps(objs(in, "StepAdjustments"))
		if err != nil {
			return nil, err
		}
		p.Steps = steps
		if p.Aggregation == "" {
			p.Aggregation = "Average"
		}
		if !slices.Contains([]string{"Minimum", "Maximum", "Average"}, p.Aggregation) {
			return nil, validation("Invalid metric aggregation type %s. Valid values are: Minimum, Maximum and Average.", p.Aggregation)
		}
	case "TargetTrackingScaling":
		tt, err := parseTT(obj(in, "TargetTrackingConfiguration"), has(in, "TargetTrackingConfiguration"))
		if err != nil {
			return nil, err
		}
		p.TT = tt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	g := rg.groups[gname]
	if g == nil || g.Deleting {
		return nil, groupNotFound(gname)
	}
	old := findPolicy(rg, gname, name)
	if old != nil && old.Group == gname {
		p.ARN = old.ARN
	} else {
		old = nil
		p.ARN = policyARN(rg, gname, name)
	}
	var staleAlarms []string
	if old != nil && old.TT != nil {
		for _, a := range old.Alarms {
			staleAlarms = append(staleAlarms, a.Name)
		}
	}
	if p.TT != nil {
		alarms, err := s.putTTAlarms(rg, g, p, old)
		if err != nil {
			return nil, err
		}
		p.Alarms = alarms
		staleAlarms = slices.DeleteFunc(staleAlarms, func(n string) bool {
			return slices.ContainsFunc(alarms, func(a policyAlarm) bool { return a.Name == n })
		})
	}
	if err := s.commit(putW(rg.account, rg.name, p, kindPolicy, p.Group, p.Name)); err != nil {
		return nil, err
	}
	rg.policies[p.ARN] = p
	s.deleteAlarms(rg.account, rg.name, staleAlarms)
	out := map[string]any{"PolicyARN": p.ARN, "Alarms": alarmsOut(p.Alarms)}
	return out, nil
}

func parseSteps(in []map[string]any) ([]stepAdj, error) {
	if len(in) == 0 {
		return nil, validation("StepAdjustments are required for StepScaling policies.")
	}
	var steps []stepAdj
	for _, m := range in {
		adj := intp(m, "ScalingAdjustment")
		if adj == nil {
			return nil, missing("ScalingAdjustment")
		}
		st := stepAdj{Lower: floatp(m, "MetricIntervalLowerBound"), Upper: floatp(m, "MetricIntervalUpperBound"), Adjustment: *adj}
		if st.Lower != nil && st.Upper != nil && *st.Upper <= *st.Lower {
			return nil, validation("Upper bound of a step adjustment must be greater than its lower bound.")
		}
		steps = append(steps, st)
	}
	sort.Slice(steps, func(i, j int) bool {
		if steps[i].Lower == nil {
			return true
		}
		if steps[j].Lower == nil {
			return false
		}
		return *steps[i].Lower < *steps[j].Lower
	})
	for i := 1; i < len(steps); i++ {
		prev, cur := steps[i-1], steps[i]
		if prev.Upper == nil || cur.Lower == nil || *prev.Upper != *cur.Lower {
			return nil, validation("Step adjustments must not overlap and must not have gaps between them.")
		}
	}
	return steps, nil
}

func parseTT(m map[string]any, present bool) (*ttConfig, error) {
	if !present {
		return nil, validation("TargetTrackingConfiguration is required for TargetTrackingScaling policies.")
	}
	tv := floatp(m, "TargetValue")
	if tv == nil {
		return nil, missing("TargetValue")
	}
	if *tv <= 0 || math.IsNaN(*tv) || math.IsInf(*tv, 0) {
		return nil, validation("TargetValue must be greater than 0.")
	}
	tt := &ttConfig{Target: *tv, DisableScaleIn: service.Bool(m, "DisableScaleIn")}
	pre, cust := obj(m, "PredefinedMetricSpecification"), obj(m, "CustomizedMetricSpecification")
	if (pre == nil) == (cust == nil) {
		return nil, validation("Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification must be specified.")
	}
	if pre != nil {
		tt.Predefined = service.Str(pre, "PredefinedMetricType")
		if _, ok := predefinedMetrics[tt.Predefined]; !ok {
			return nil, validation("Invalid predefined metric type %s.", tt.Predefined)
		}
		tt.ResourceLabel = service.Str(pre, "ResourceLabel")
		if tt.Predefined == "ALBRequestCountPerTarget" {
			if tt.ResourceLabel == "" {
				return nil, validation("ResourceLabel is required for predefined metric type ALBRequestCountPerTarget.")
			}
			if i := strings.Index(tt.ResourceLabel, "/targetgroup/"); !strings.HasPrefix(tt.ResourceLabel, "app/") || i < 0 {
				return nil, validation("Invalid ResourceLabel %s: expected app/<load-balancer-name>/<id>/targetgroup/<target-group-name>/<id>.", tt.ResourceLabel)
			}
		} else if tt.ResourceLabel != "" {
			return nil, validation("ResourceLabel is only supported for predefined metric type ALBRequestCountPerTarget.")
		}
		return tt, nil
	}
	tt.Namespace, tt.MetricName = service.Str(cust, "Namespace"), service.Str(cust, "MetricName")
	tt.Statistic, tt.Unit = service.Str(cust, "Statistic"), service.Str(cust, "Unit")
	tt.Period, _ = service.Int(cust, "Period")
	for _, d := range objs(cust, "Dimensions") {
		tt.Dimensions = append(tt.Dimensions, Dimension{Name: service.Str(d, "Name"), Value: service.Str(d, "Value")})
	}
	if metrics, ok := cust["Metrics"].([]any); ok && len(metrics) > 0 {
		if tt.MetricName != "" || tt.Namespace != "" {
			return nil, validation("CustomizedMetricSpecification takes either Metrics or MetricName, Namespace and Statistic.")
		}
		b, err := json.Marshal(metrics)
		if err != nil {
			return nil, validation("Invalid Metrics.")
		}
		tt.Metrics = b
		return tt, nil
	}
	if tt.MetricName == "" || tt.Namespace == "" || tt.Statistic == "" {
		return nil, validation("CustomizedMetricSpecification requires MetricName, Namespace and Statistic.")
	}
	if tt.Period != 0 && tt.Period != 10 && tt.Period != 30 && tt.Period != 60 {
		return nil, validation("Period must be 10, 30 or 60.")
	}
	return tt, nil
}

// metricQueries converts target-tracking metric queries to CloudWatch
// MetricDataQuery values.
func metricQueries(raw json.RawMessage, period int64) []map[string]any {
	var qs []map[string]any
	if json.Unmarshal(raw, &qs) != nil {
		return nil
	}
	out := make([]map[string]any, 0, len(qs))
	for _, q := range qs {
		o := map[string]any{"Id": service.Str(q, "Id")}
		if e := service.Str(q, "Expression"); e != "" {
			o["Expression"] = e
		}
		if l := service.Str(q, "Label"); l != "" {
			o["Label"] = l
		}
		if rd, ok := q["ReturnData"].(bool); ok {
			o["ReturnData"] = rd
		}
		if ms := obj(q, "MetricStat"); ms != nil {
			mm := obj(ms, "Metric")
			metric := map[string]any{"Namespace": service.Str(mm, "Namespace"), "MetricName": service.Str(mm, "MetricName")}
			var dims []any
			for _, d := range objs(mm, "Dimensions") {
				dims = append(dims, map[string]any{"Name": service.Str(d, "Name"), "Value": service.Str(d, "Value")})
			}
			if len(dims) > 0 {
				metric["Dimensions"] = dims
			}
			stat := map[string]any{"Metric": metric, "Stat": service.Str(ms, "Stat"), "Period": period}
			if u := service.Str(ms, "Unit"); u != "" {
				stat["Unit"] = u
			}
			o["MetricStat"] = stat
		}
		out = append(out, o)
	}
	return out
}

// putTTAlarms creates or updates the alarms a target-tracking policy owns.
func (s *Service) putTTAlarms(rg *region, g *group, p *policy, old *policy) ([]policyAlarm, error) {
	if s.o.Alarms == nil {
		return nil, validation("CloudWatch is not available for target tracking policies.")
	}
	tt := p.TT
	base := AlarmSpec{Description: "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy " + p.ARN + ".",
		Period: 60, AlarmActions: []string{p.ARN}}
	switch {
	case tt.Predefined != "":
		pm := predefinedMetrics[tt.Predefined]
		base.Namespace, base.MetricName, base.Statistic = pm.namespace, pm.name, pm.stat
		if tt.Predefined == "ALBRequestCountPerTarget" {
			i := strings.Index(tt.ResourceLabel, "/targetgroup/")
			base.Dimensions = []Dimension{{Name: "TargetGroup", Value: tt.ResourceLabel[i+1:]}}
		} else {
			base.Dimensions = []Dimension{{Name: "AutoScalingGroupName", Value: g.Name}}
		}
	case len(tt.Metrics) > 0:
		base.Metrics = metricQueries(tt.Metrics, 60)
	default:
		base.Namespace, base.MetricName, base.Statistic, base.Unit = tt.Namespace, tt.MetricName, tt.Statistic, tt.Unit
		base.Dimensions = tt.Dimensions
		if tt.Period > 0 {
			base.Period = tt.Period
		}
	}
	nameOf := func(kind string) string {
		if old != nil {
			for _, a := range old.Alarms {
				if strings.Contains(a.Name, "-"+kind+"-") {
					return a.Name
				}
			}
		}
		return fmt.Sprintf("TargetTracking-%s-%s-%s", g.Name, kind, newUUID())
	}
	high := base
	high.Name = nameOf("AlarmHigh")
	high.ComparisonOperator, high.Threshold = "GreaterThanThreshold", tt.Target
	high.EvaluationPeriods, high.DatapointsToAlarm = 3, 3
	specs := []AlarmSpec{high}
	if !tt.DisableScaleIn {
		low := base
		low.Name = nameOf("AlarmLow")
		low.ComparisonOperator, low.Threshold = "LessThanThreshold", tt.Target*0.9
		low.EvaluationPeriods, low.DatapointsToAlarm = 15, 15
		specs = append(specs, low)
	}
	var out []policyAlarm
	for _, a := range specs {
		arn, err := s.o.Alarms.PutAlarm(rg.account, rg.name, a)
		if err != nil {
			for _, done := range out {
				s.o.Alarms.DeleteAlarms(rg.account, rg.name, []string{done.Name})
			}
			return nil, err
		}
		out = append(out, policyAlarm{Name: a.Name, ARN: arn})
	}
	return out, nil
}

// deleteAlarms deletes alarms a policy owned.
func (s *Service) deleteAlarms(account, region string, names []string) {
	if len(names) == 0 || s.o.Alarms == nil {
		return
	}
	if err := s.o.Alarms.DeleteAlarms(account, region, names); err != nil {
		s.log.Warn("autoscaling: delete alarms", "alarms", names, "err", err)
	}
}

func alarmsOut(as []policyAlarm) []any {
	out := make([]any, 0, len(as))
	for _, a := range as {
		out = append(out, map[string]any{"AlarmName": a.Name, "AlarmARN": a.ARN})
	}
	return out
}

func (s *Service) describePolicies(r *service.Request) (map[string]any, error) {
	in := r.Input
	if err := checkMaxRecords(in, 100); err != nil {
		return nil, err
	}
	gname := service.Str(in, "AutoScalingGroupName")
	names := service.Strings(in, "PolicyNames")
	types := service.Strings(in, "PolicyTypes")
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	byKey := map[string]*policy{}
	var keys []string
	for _, p := range rg.policies {
		if gname != "" && p.Group != gname {
			continue
		}
		if len(names) > 0 && !slices.Contains(names, p.Name) && !slices.Contains(names, p.ARN) {
			continue
		}
		if len(types) > 0 && !slices.Contains(types, p.Type) {
			continue
		}
		k := p.Group + "\x00" + p.Name
		byKey[k] = p
		keys = append(keys, k)
	}
	pk, next, err := page(keys, service.Str(in, "NextToken"), intOr(in, "MaxRecords"), 50)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(pk))
	for _, k := range pk {
		out = append(out, policyOut(byKey[k]))
	}
	res := map[string]any{"ScalingPolicies": out}
	if next != "" {
		res["NextToken"] = next
	}
	return res, nil
}

func policyOut(p *policy) map[string]any {
	o := map[string]any{"AutoScalingGroupName": p.Group, "PolicyName": p.Name, "PolicyARN": p.ARN,
		"PolicyType": p.Type, "Alarms": alarmsOut(p.Alarms), "Enabled": p.Enabled, "StepAdjustments": []any{}}
	if p.AdjustmentType != "" {
		o["AdjustmentType"] = p.AdjustmentType
	}
	if p.MinMagnitude != nil {
		o["MinAdjustmentMagnitude"] = *p.MinMagnitude
		o["MinAdjustmentStep"] = *p.MinMagnitude
	}
	if p.ScalingAdjustment != nil {
		o["ScalingAdjustment"] = *p.ScalingAdjustment
	}
	if p.Cooldown != nil {
		o["Cooldown"] = *p.Cooldown
	}
	if p.Aggregation != "" {
		o["MetricAggregationType"] = p.Aggregation
	}
	if p.Warmup != nil {
		o["EstimatedInstanceWarmup"] = *p.Warmup
	}
	steps := make([]any, 0, len(p.Steps))
	for _, st := range p.Steps {
		m := map[string]any{"ScalingAdjustment": st.Adjustment}
		if st.Lower != nil {
			m["MetricIntervalLowerBound"] = *st.Lower
		}
		if st.Upper != nil {
			m["MetricIntervalUpperBound"] = *st.Upper
		}
		steps = append(steps, m)
	}
	o["StepAdjustments"] = steps
	if tt := p.TT; tt != nil {
		c := map[string]any{"TargetValue": tt.Target, "DisableScaleIn": tt.DisableScaleIn}
		if tt.Predefined != "" {
			pm := map[string]any{"PredefinedMetricType": tt.Predefined}
			if tt.ResourceLabel != "" {
				pm["ResourceLabel"] = tt.ResourceLabel
			}
			c["PredefinedMetricSpecification"] = pm
		} else {
			cm := map[string]any{}
			if len(tt.Metrics) > 0 {
				var qs []any
				for _, q := range metricQueries(tt.Metrics, 60) {
					if ms, ok := q["MetricStat"].(map[string]any); ok {
						delete(ms, "Period")
					}
					qs = append(qs, q)
				}
				cm["Metrics"] = qs
			} else {
				cm["MetricName"], cm["Namespace"], cm["Statistic"] = tt.MetricName, tt.Namespace, tt.Statistic
				if tt.Unit != "" {
					cm["Unit"] = tt.Unit
				}
				if tt.Period > 0 {
					cm["Period"] = tt.Period
				}
				dims := make([]any, 0, len(tt.Dimensions))
				for _, d := range tt.Dimensions {
					dims = append(dims, map[string]any{"Name": d.Name, "Value": d.Value})
				}
				cm["Dimensions"] = dims
			}
			c["CustomizedMetricSpecification"] = cm
		}
		o["TargetTrackingConfiguration"] = c
	}
	return o
}

func (s *Service) deletePolicy(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := service.Str(in, "PolicyName")
	if name == "" {
		return nil, missing("PolicyName")
	}
	gname := service.Str(in, "AutoScalingGroupName")
	s.mu.Lock()
	defer s.mu.Unlock()
	rg := s.regionOf(r.Account, r.Region)
	if gname != "" && !strings.HasPrefix(name, "arn:") && rg.groups[gname] == nil {
		return nil, groupNotFound(gname)
	}
	p := findPolicy(rg, gname, name)
	if p == nil {
		return nil, validation("Policy name not found - PolicyName: %s", name)
	}
	if err := s.commit(delW(rg.account, rg.name, kindPolicy, p.Group, p.Name)); err != nil {
		return nil, err
	}
	delete(rg.policies, p.ARN)
	if p.TT != nil {
		var names []string
		for _, a := range p.Alarms {
			names = append(names, a.Name)
		}
		s.deleteAlarms(rg.account, rg.name, names)
	}
	return map[string]any{}, nil
}

func (s *Service) executePolicy(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := service.Str(in, "PolicyName")
	if name == "" {
		return nil, missing("PolicyName")
	}
	gname := service.Str(in, "AutoScalingGroupName")
	s.mu.Lock()
	rg := s.regionOf(r.Account, r.Region)
	p := findPolicy(rg, gname, name)
	var pc policy
	if p != nil {
		pc = *p
	}
	s.mu.Unlock()
	if p == nil {
		return nil, validation("Policy name not found - PolicyName: %s", name)
	}
	if pc.Type == "TargetTrackingScaling" || pc.Type == "PredictiveScaling" {
		return nil, validation("Policy type %s is not supported by ExecutePolicy.", pc.Type)
	}
	value, threshold := math.NaN(), math.NaN()
	if pc.Type == "StepScaling" {
		mv, bt := floatp(in, "MetricValue"), floatp(in, "BreachThreshold")
		if mv == nil || bt == nil {
			return nil, validation("MetricValue and BreachThreshold are required for StepScaling policies.")
		}
		value, threshold = *mv, *bt
	}
	honor := service.Bool(in, "HonorCooldown")
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.execute(rg, pc.ARN, execCause{user: true}, value, threshold, honor)
	if err != nil {
		return nil, err
	}
	s.kick()
	return map[string]any{}, nil
}

// execution is a policy run requested by a CloudWatch alarm.
type execution struct {
	policyARN, alarmARN, state string
	value                      float64
}

type execCause struct {
	user      bool
	alarmName string
	state     string
}

// ExecuteScalingPolicy implements CloudWatch's ScalingPolicyExecutor: the
// execution is queued and run by the controller.
func (s *Service) ExecuteScalingPolicy(ctx context.Context, policyARN, alarmARN, state string, metricValue float64) error {
	if _, _, ok := arnScope(policyARN); !ok {
		return fmt.Errorf("invalid scaling policy ARN %s", policyARN)
	}
	s.execMu.Lock()
	if len(s.execQ) < 10000 {
		s.execQ = append(s.execQ, execution{policyARN: policyARN, alarmARN: alarmARN, state: state, value: metricValue})
	}
	s.execMu.Unlock()
	s.kick()
	return nil
}

// arnScope returns the account and region of an autoscaling ARN.
func arnScope(arn string) (account, region string, ok bool) {
	p := strings.SplitN(arn, ":", 7)
	if len(p) < 7 || p[0] != "arn" || p[2] != serviceName {
		return "", "", false
	}
	return p[4], p[3], true
}

func alarmNameOf(arn string) string {
	if i := strings.Index(arn, ":alarm:"); i >= 0 {
		return arn[i+len(":alarm:"):]
	}
	return arn
}

func (s *Service) runExecutions(ctx context.Context) {
	s.execMu.Lock()
	q := s.execQ
	s.execQ = nil
	s.execMu.Unlock()
	for _, e := range q {
		if ctx.Err() != nil {
			return
		}
		if e.state != "ALARM" {
			continue
		}
		account, region, _ := arnScope(e.policyARN)
		alarm := alarmNameOf(e.alarmARN)
		threshold := math.NaN()
		s.mu.Lock()
		rg := s.regionOf(account, region)
		p := rg.policies[e.policyARN]
		isStep := p != nil && p.Type == "StepScaling"
		s.mu.Unlock()
		if p == nil {
			continue
		}
		if isStep && s.o.Alarms != nil {
			if t, ok := s.o.Alarms.AlarmThreshold(account, region, alarm); ok {
				threshold = t
			}
		}
		s.mu.Lock()
		if err := s.execute(rg, e.policyARN, execCause{alarmName: alarm, state: e.state}, e.value, threshold, true); err != nil {
			s.log.Debug("autoscaling: policy execution", "policy", e.policyARN, "err", err)
		}
		s.mu.Unlock()
	}
}

// execute runs a policy; s.mu is held.
func (s *Service) execute(rg *region, arn string, cause execCause, value, threshold float64, honorCooldown bool) error {
	p := rg.policies[arn]
	if p == nil {
		return validation("Policy name not found - PolicyName: %s", arn)
	}
	if !p.Enabled {
		return nil
	}
	og := rg.groups[p.Group]
	if og == nil || og.Deleting {
		return groupNotFound(p.Group)
	}
	now := s.clk.Now()
	g := cloneGroup(og)
	desired := g.Desired
	switch p.Type {
	case "SimpleScaling":
		if honorCooldown && now.Before(g.CooldownUntil) {
			if cause.user {
				return apiErr(codeScalingInProgress, "Scaling activity is in progress or the cooldown period of the AutoScalingGroup %s has not yet expired.", g.Name)
			}
			return nil
		}
		desired = adjust(desired, p.AdjustmentType, *p.ScalingAdjustment, p.MinMagnitude)
	case "StepScaling":
		if math.IsNaN(value) || math.IsNaN(threshold) {
			return nil
		}
		delta := value - threshold
		var step *stepAdj
		for i := range p.Steps {
			st := &p.Steps[i]
			if (st.Lower == nil || delta >= *st.Lower) && (st.Upper == nil || delta < *st.Upper) {
				step = st
				break
			}
		}
		if step == nil {
			return nil
		}
		desired = adjust(desired, p.AdjustmentType, step.Adjustment, p.MinMagnitude)
		if desired > g.Desired {
			// Instances still warming up count toward the scale-out.
			desired = max(g.Desired, desired-warming(g, s.warmup(g, p), now))
		}
	case "TargetTrackingScaling":
		if math.IsNaN(value) || p.TT == nil {
			return nil
		}
		desired = s.trackTarget(g, p, cause.alarmName, value, now)
	}
	desired = max(g.Min, min(g.Max, desired))
	if desired == g.Desired {
		return nil
	}
	reason := fmt.Sprintf("a monitor alarm %s in state %s triggered policy %s", cause.alarmName, cause.state, p.Name)
	if cause.user {
		reason = "a user request executed policy " + p.Name
	}
	s.changeDesired(g, desired, reason)
	if p.Type == "SimpleScaling" {
		cd := g.DefaultCooldown
		if p.Cooldown != nil {
			cd = int(*p.Cooldown)
		}
		g.CooldownUntil = now.Add(secs(cd))
	}
	if err := s.commit(groupW(g)); err != nil {
		return err
	}
	rg.groups[g.Name] = g
	s.kick()
	return nil
}

// adjust applies a scaling adjustment to capacity.
func adjust(capacity int, adjType string, adj int64, minMag *int64) int {
	switch adjType {
	case "ExactCapacity":
		return int(adj)
	case "PercentChangeInCapacity":
		ch := float64(capacity) * float64(adj) / 100
		var c int64
		switch {
		case ch > 0 && ch < 1:
			c = 1
		case ch < 0 && ch > -1:
			c = -1
		default:
			c = int64(ch) // toward zero
		}
		if minMag != nil && c != 0 && abs64(c) < *minMag {
			if c > 0 {
				c = *minMag
			} else {
				c = -*minMag
			}
		}
		return capacity + int(c)
	}
	return capacity + int(adj)
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func (s *Service) warmup(g *group, p *policy) int {
	if p != nil && p.Warmup != nil {
		return int(*p.Warmup)
	}
	if g.DefaultWarmup > 0 {
		return int(g.DefaultWarmup)
	}
	return g.DefaultCooldown
}

// warming counts the instances launching or still warming up.
func warming(g *group, warmup int, now time.Time) int {
	n := 0
	for _, m := range g.Members {
		switch {
		case m.State == lsPending || m.State == lsPendingWait || m.State == lsPendingProceed:
			n++
		case m.State == lsInService && now.Before(m.InServiceAt.Add(secs(warmup))):
			n++
		}
	}
	return n
}

// trackTarget returns the capacity a target-tracking policy wants: the
// current (warmed-up) capacity scaled by metric/target, rounded up. Scale
// in removes at most 10% of the capacity (at least one instance) at a
// time, and waits for instances warming up or terminating.
func (s *Service) trackTarget(g *group, p *policy, alarm string, value float64, now time.Time) int {
	warm := warming(g, s.warmup(g, p), now)
	current := capacity(g) - warm
	if current <= 0 {
		return g.Desired
	}
	want := int(math.Ceil(float64(current)*value/p.TT.Target - 1e-9))
	if strings.Contains(alarm, "-AlarmLow-") {
		if p.TT.DisableScaleIn || warm > 0 || capacity(g) != len(g.Members) {
			return g.Desired
		}
		want = max(want, g.Desired-max(1, g.Desired/10))
		return min(want, g.Desired)
	}
	return max(want, g.Desired)
}
