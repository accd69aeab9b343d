package cloudwatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/cloudwatch/tsdb"
)

// Alarm evaluation.
//
// A metric alarm is evaluated every minute (every period for 10 s and 30 s
// alarms) over its last EvaluationPeriods complete periods. With P missing
// periods and B breaching ones among the N evaluated:
//
//   - no datapoint at all: missing → INSUFFICIENT_DATA, notBreaching → OK,
//     breaching → ALARM, ignore → the state is kept;
//   - notBreaching counts missing periods as good, breaching as bad;
//   - missing and ignore evaluate only the periods present, needing
//     min(M, present) breaching datapoints (CloudWatch looks further back
//     for more datapoints; this emulation does not).
//
// The alarm goes to ALARM when at least M (DatapointsToAlarm) periods
// breach, to OK otherwise.

func (s *Service) kickAlarms() {
	if s.mgr != nil {
		s.mgr.Trigger("cloudwatch-alarms")
	}
}

func (s *Service) evaluateAlarms(ctx context.Context) error {
	now := s.clk.Now()
	var errs []error
	for _, a := range s.alarms.all() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if a.Composite {
			continue
		}
		if !a.nextEval.IsZero() && now.Before(a.nextEval) {
			continue
		}
		step := int64(60)
		if a.Period < 60 && a.Period > 0 {
			step = a.Period
		}
		next := time.Unix((now.Unix()/step+1)*step, 0)
		a.nextEval = next
		s.alarms.mu.Lock()
		if cur := s.alarms.alarms[alarmKey{a.Account, a.Region, a.Name}]; cur != nil {
			cur.nextEval = next
		}
		s.alarms.mu.Unlock()
		if err := s.evaluateMetricAlarm(ctx, a, now); err != nil {
			errs = append(errs, err)
		}
	}
	// Composite alarms see their children's new states.
	for _, a := range s.alarms.all() {
		if a.Composite {
			s.evaluateComposite(ctx, a, now)
		}
	}
	return errors.Join(errs...)
}

func cwTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000+0000")
}

func shortTime(t time.Time) string { return t.UTC().Format("02/01/06 15:04:05") }

func fmtNum(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

var opWords = map[string][2]string{
	"GreaterThanOrEqualToThreshold":            {"greater than or equal to", "not greater than or equal to"},
	"GreaterThanThreshold":                     {"greater than", "not greater than"},
	"LessThanThreshold":                        {"less than", "not less than"},
	"LessThanOrEqualToThreshold":               {"less than or equal to", "not less than or equal to"},
	"LessThanLowerOrGreaterThanUpperThreshold": {"outside the band", "not outside the band"},
	"LessThanLowerThreshold":                   {"less than the lower thresholds", "not less than the lower thresholds"},
	"GreaterThanUpperThreshold":                {"greater than the upper thresholds", "not greater than the upper thresholds"},
}

func breaches(op string, v, threshold, lower, upper float64) bool {
	switch op {
	case "GreaterThanOrEqualToThreshold":
		return v >= threshold
	case "GreaterThanThreshold":
		return v > threshold
	case "LessThanThreshold":
		return v < threshold
	case "LessThanOrEqualToThreshold":
		return v <= threshold
	case "LessThanLowerOrGreaterThanUpperThreshold":
		return v < lower || v > upper
	case "LessThanLowerThreshold":
		return v < lower
	case "GreaterThanUpperThreshold":
		return v > upper
	}
	return false
}

type evalPoint struct {
	t      int64
	v      float64 // NaN when missing
	count  float64
	lo, hi float64
}

// alarmData returns the alarm's datapoints for the n periods ending at end.
func (s *Service) alarmData(a *alarm, start, end time.Time) ([]evalPoint, error) {
	n := int((end.Unix() - start.Unix()) / a.Period)
	pts := make([]evalPoint, n)
	for i := range pts {
		pts[i] = evalPoint{t: start.Unix() + int64(i)*a.Period, v: math.NaN(), lo: math.NaN(), hi: math.NaN()}
	}
	if len(a.Metrics) == 0 {
		ser := s.db.Get(tsdb.SeriesKey(a.Account, a.Region, a.Namespace, a.MetricName, a.Dimensions))
		if ser == nil {
			return pts, nil
		}
		statName := a.Statistic
		if statName == "" {
			statName = a.ExtendedStatistic
		}
		sp, _ := parseStat(statName)
		var unit *uint8
		if a.Unit != "" {
			u := tsdb.UnitIndex(a.Unit)
			unit = &u
		}
		for _, ag := range ser.Query(start.Unix(), end.Unix(), a.Period, unit, sp.kind >= statPercentile) {
			i := int((ag.T - start.Unix()) / a.Period)
			if i < 0 || i >= n {
				continue
			}
			pts[i].count = ag.Count
			if v, ok := sp.value(&ag); ok {
				pts[i].v = v
			}
		}
		return pts, nil
	}
	raw := make([]any, len(a.Metrics))
	for i, q := range a.Metrics {
		raw[i] = q.toMap()
	}
	qs, err := parseQueries(raw, "Metrics", end, start)
	if err != nil {
		return pts, err
	}
	results, err := s.runQueries(a.Account, a.Region, qs, start, end, true)
	if err != nil {
		return pts, err
	}
	var band []queryResult
	for _, res := range results {
		if a.ThresholdMetricID != "" && res.q.id == a.ThresholdMetricID {
			band = append(band, res)
			continue
		}
		if !res.q.returnData {
			continue
		}
		for k, t := range res.ts {
			i := int((t - start.Unix()) / a.Period)
			if i >= 0 && i < n {
				pts[i].v = res.values[k]
				pts[i].count = 1
			}
		}
	}
	if len(band) > 0 {
		lo, hi := band[0], band[0]
		if len(band) > 1 {
			hi = band[1]
		}
		for k, t := range lo.ts {
			if i := int((t - start.Unix()) / a.Period); i >= 0 && i < n {
				pts[i].lo = lo.values[k]
			}
		}
		for k, t := range hi.ts {
			if i := int((t - start.Unix()) / a.Period); i >= 0 && i < n {
				pts[i].hi = hi.values[k]
			}
		}
	}
	return pts, nil
}

func (s *Service) evaluateMetricAlarm(ctx context.Context, a *alarm, now time.Time) error {
	if a.Period <= 0 || a.EvaluationPeriods <= 0 {
		return nil
	}
	end := time.Unix(now.Unix()/a.Period*a.Period, 0)
	start := end.Add(-time.Duration(a.EvaluationPeriods*a.Period) * time.Second)
	pts, err := s.alarmData(a, start, end)
	if err != nil {
		return fmt.Errorf("alarm %s: %w", a.Name, err)
	}
	m := a.DatapointsToAlarm
	if m == 0 {
		m = a.EvaluationPeriods
	}
	tmd := a.TreatMissingData
	if tmd == "" {
		tmd = "missing"
	}
	threshold := 0.0
	if a.Threshold != nil {
		threshold = *a.Threshold
	}
	// Percentile alarms with too few samples (EvaluateLowSampleCountPercentile).
	lowSample := a.ExtendedStatistic != "" && a.EvaluateLowSampleCountPercentile == "ignore"
	present, breaching := 0, 0
	var recent []float64
	var evaluated []map[string]any
	for i := len(pts) - 1; i >= 0; i-- {
		p := pts[i]
		if math.IsNaN(p.v) {
			continue
		}
		if lowSample && p.count > 0 {
			if sp, ok := parseStat(a.ExtendedStatistic); ok && sp.kind == statPercentile && p.count < 1/(1-math.Min(sp.q, 0.99999)) {
				continue
			}
		}
		present++
		recent = append(recent, p.v)
		if breaches(a.ComparisonOperator, p.v, threshold, p.lo, p.hi) {
			breaching++
		}
		ep := map[string]any{"timestamp": cwTime(time.Unix(p.t, 0)), "value": p.v}
		if p.count > 0 && len(a.Metrics) == 0 {
			ep["sampleCount"] = p.count
		}
		evaluated = append(evaluated, ep)
	}
	missing := len(pts) - present
	var newState, reason string
	words := opWords[a.ComparisonOperator]
	plural := func(n int64, w string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, w)
		}
		return fmt.Sprintf("%d %ss", n, w)
	}
	switch {
	case present == 0:
		switch tmd {
		case "notBreaching":
			newState = stateOK
		case "breaching":
			newState = stateAlarm
		case "ignore":
			newState = a.StateValue
		default:
			newState = stateInsufficient
		}
		reason = fmt.Sprintf("Insufficient Data: %s %s unknown.", plural(a.EvaluationPeriods, "datapoint"), map[bool]string{true: "was", false: "were"}[a.EvaluationPeriods == 1])
		if newState != stateInsufficient {
			reason = fmt.Sprintf("Threshold Crossed: no datapoints were received for %s and %s %s treated as [%s].", plural(a.EvaluationPeriods, "period"), plural(int64(missing), "missing datapoint"), map[bool]string{true: "was", false: "were"}[missing == 1], map[string]string{stateOK: "NonBreaching", stateAlarm: "Breaching"}[newState])
		}
	default:
		need := m
		switch tmd {
		case "breaching":
			breaching += missing
		case "notBreaching":
		default:
			need = min(m, int64(present))
		}
		dps := make([]string, 0, len(evaluated))
		for _, ep := range evaluated {
			t, _ := time.Parse("2006-01-02T15:04:05.000+0000", ep["timestamp"].(string))
			dps = append(dps, fmt.Sprintf("%s (%s)", fmtNum(ep["value"].(float64)), shortTime(t)))
		}
		thr := fmtNum(threshold)
		if int64(breaching) >= need {
			newState = stateAlarm
			reason = fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] %s %s the threshold (%s) (minimum %s for OK -> ALARM transition).",
				breaching, present, strings.Join(dps, ", "), map[bool]string{true: "was", false: "were"}[breaching == 1], words[0], thr, plural(m, "datapoint"))
			if present == 1 {
				reason = fmt.Sprintf("Threshold Crossed: 1 datapoint [%s] was %s the threshold (%s).", strings.Join(dps, ", "), words[0], thr)
			}
		} else {
			newState = stateOK
			good := present - breaching
			if tmd == "notBreaching" {
				good = len(pts) - breaching
			}
			reason = fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] %s %s the threshold (%s) (minimum %s for ALARM -> OK transition).",
				good, present, strings.Join(dps, ", "), map[bool]string{true: "was", false: "were"}[good == 1], words[1], thr, plural(1, "datapoint"))
			if present == 1 {
				reason = fmt.Sprintf("Threshold Crossed: 1 datapoint [%s] was %s the threshold (%s).", strings.Join(dps, ", "), words[1], thr)
			}
		}
	}
	if newState == a.StateValue {
		// No transition; Auto Scaling actions repeat while the state lasts.
		if a.ActionsEnabled {
			s.repeatScalingActions(ctx, a, recent)
		}
		return nil
	}
	statName := a.Statistic
	if statName == "" {
		statName = a.ExtendedStatistic
	}
	rd := map[string]any{"version": "1.0", "queryDate": cwTime(now), "startDate": cwTime(start)}
	if len(a.Metrics) == 0 {
		if a.Statistic != "" {
			rd["statistic"] = a.Statistic
		} else {
			rd["extendedStatistic"] = a.ExtendedStatistic
		}
		if a.Unit != "" {
			rd["unit"] = a.Unit
		}
	}
	rd["period"] = a.Period
	rd["recentDatapoints"] = orEmptyF(recent)
	if a.Threshold != nil {
		rd["threshold"] = threshold
	}
	if len(evaluated) > 0 {
		rd["evaluatedDatapoints"] = evaluated
	}
	data, _ := json.Marshal(rd)
	value := math.NaN()
	if len(recent) > 0 {
		value = recent[0]
	}
	_ = statName
	s.transition(ctx, a, newState, reason, string(data), value)
	return nil
}

func orEmptyF(l []float64) []float64 {
	if l == nil {
		return []float64{}
	}
	return l
}

// transition moves a to state, records history and runs its actions.
func (s *Service) transition(ctx context.Context, a *alarm, state, reason, data string, value float64) {
	now := s.clk.Now()
	old := a.StateValue
	oldReason := a.StateReason
	a.StateValue, a.StateReason, a.StateReasonData = state, reason, data
	a.StateUpdated = now
	if old != state {
		a.StateTransitioned = now
	}
	newState := map[string]any{"stateValue": state, "stateReason": reason}
	if data != "" {
		var v any
		if json.Unmarshal([]byte(data), &v) == nil {
			newState["stateReasonData"] = v
		}
	}
	hd, _ := json.Marshal(map[string]any{"version": "1.0",
		"oldState": map[string]any{"stateValue": old, "stateReason": oldReason}, "newState": newState})
	h := historyItem{AlarmName: a.Name, AlarmType: alarmType(a), Type: "StateUpdate", Timestamp: now,
		Summary: fmt.Sprintf("Alarm updated from %s to %s", old, state), Data: string(hd)}
	if err := s.saveAlarm(a, h); err != nil {
		s.log.Error("cloudwatch: save alarm state", "alarm", a.ARN, "err", err)
		return
	}
	if !a.ActionsEnabled || old == state {
		return
	}
	var actions []string
	switch state {
	case stateOK:
		actions = a.OKActions
	case stateAlarm:
		actions = a.AlarmActions
	default:
		actions = a.InsufficientDataActions
	}
	if len(actions) == 0 {
		return
	}
	msg := alarmMessage(a, old, now)
	var hist []historyItem
	for _, act := range actions {
		hist = append(hist, s.runAction(ctx, a, act, state, msg, value))
	}
	if err := s.addHistory(a, hist...); err != nil {
		s.log.Error("cloudwatch: save alarm action history", "alarm", a.ARN, "err", err)
	}
}

func isScalingARN(arn string) bool {
	return strings.HasPrefix(arn, "arn:aws:autoscaling:") || strings.Contains(arn, ":autoscaling:") && strings.Contains(arn, ":scalingPolicy:")
}

func (s *Service) repeatScalingActions(ctx context.Context, a *alarm, recent []float64) {
	if a.StateValue != stateAlarm && a.StateValue != stateOK {
		return
	}
	actions := a.AlarmActions
	if a.StateValue == stateOK {
		actions = a.OKActions
	}
	value := math.NaN()
	if len(recent) > 0 {
		value = recent[0]
	}
	for _, act := range actions {
		if isScalingARN(act) {
			s.notifierMu.RLock()
			sc := s.scaler
			s.notifierMu.RUnlock()
			if sc != nil {
				if err := sc.ExecuteScalingPolicy(ctx, act, a.ARN, a.StateValue, value); err != nil {
					s.log.Debug("cloudwatch: repeat scaling action", "alarm", a.ARN, "action", act, "err", err)
				}
			}
		}
	}
}

func (s *Service) runAction(ctx context.Context, a *alarm, act, state, msg string, value float64) historyItem {
	now := s.clk.Now()
	s.notifierMu.RLock()
	notifier, scaler := s.notifier, s.scaler
	s.notifierMu.RUnlock()
	var err error
	extra := map[string]any{}
	switch {
	case strings.Contains(act, ":sns:"):
		if notifier == nil {
			err = errors.New("SNS is not available")
			break
		}
		subject := fmt.Sprintf("%s: \"%s\" in %s", state, a.Name, regionName(a.Region))
		if len(subject) > 100 {
			subject = subject[:100]
		}
		var id string
		id, err = notifier.PublishToTopic(ctx, act, subject, msg, nil)
		extra["notificationResource"] = act
		extra["publishedMessage"] = fmt.Sprintf("{\"MessageId\":\"%s\"}", id)
	case isScalingARN(act):
		if scaler == nil {
			err = errors.New("Auto Scaling is not available")
			break
		}
		err = scaler.ExecuteScalingPolicy(ctx, act, a.ARN, state, value)
	case isFunctionARN(act):
		err = s.invokeAction(ctx, a, act, msg)
	default:
		err = fmt.Errorf("the action %s is not supported", act)
	}
	data := map[string]any{"actionState": "Succeeded", "stateUpdateTimestamp": now.UnixMilli()}
	for k, v := range extra {
		data[k] = v
	}
	summary := "Successfully executed action " + act
	if err != nil {
		data["actionState"] = "Failed"
		data["error"] = err.Error()
		summary = "Failed to execute action " + act
		s.log.Warn("cloudwatch: alarm action failed", "alarm", a.ARN, "action", act, "err", err)
	}
	hd, _ := json.Marshal(data)
	return historyItem{AlarmName: a.Name, AlarmType: alarmType(a), Type: "Action", Timestamp: now, Summary: summary, Data: string(hd)}
}

var regionNames = map[string]string{
	"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
	"us-west-2": "US West (Oregon)", "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
	"eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)", "ap-southeast-1": "Asia Pacific (Singapore)",
	"ap-southeast-2": "Asia Pacific (Sydney)", "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)",
	"ap-south-1": "Asia Pacific (Mumbai)", "sa-east-1": "South America (Sao Paulo)", "ca-central-1": "Canada (Central)",
}

func regionName(r string) string {
	if n, ok := regionNames[r]; ok {
		return n
	}
	return r
}

// alarmMessage is the JSON CloudWatch publishes to SNS on a state change.
func alarmMessage(a *alarm, old string, now time.Time) string {
	strs := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	m := map[string]any{
		"AlarmName": a.Name, "AlarmDescription": nilIfEmpty(a.Description), "AWSAccountId": a.Account,
		"AlarmConfigurationUpdatedTimestamp": cwTime(a.ConfigUpdated),
		"NewStateValue":                      a.StateValue, "NewStateReason": a.StateReason, "StateChangeTime": cwTime(now),
		"Region": regionName(a.Region), "AlarmArn": a.ARN, "OldStateValue": old,
		"OKActions": strs(a.OKActions), "AlarmActions": strs(a.AlarmActions), "InsufficientDataActions": strs(a.InsufficientDataActions),
	}
	if a.Composite {
		m["AlarmRule"] = a.Rule
	} else {
		trig := map[string]any{
			"Period": a.Period, "EvaluationPeriods": a.EvaluationPeriods, "ComparisonOperator": a.ComparisonOperator,
			"TreatMissingData": a.TreatMissingData, "EvaluateLowSampleCountPercentile": a.EvaluateLowSampleCountPercentile,
		}
		if a.DatapointsToAlarm != 0 {
			trig["DatapointsToAlarm"] = a.DatapointsToAlarm
		}
		if a.Threshold != nil {
			trig["Threshold"] = *a.Threshold
		}
		if len(a.Metrics) == 0 {
			trig["MetricName"], trig["Namespace"] = a.MetricName, a.Namespace
			if a.Statistic != "" {
				trig["StatisticType"], trig["Statistic"] = "Statistic", strings.ToUpper(a.Statistic)
			} else {
				trig["StatisticType"], trig["ExtendedStatistic"] = "ExtendedStatistic", a.ExtendedStatistic
			}
			trig["Unit"] = nilIfEmpty(a.Unit)
			dims := make([]any, len(a.Dimensions))
			for i, d := range a.Dimensions {
				dims[i] = map[string]any{"value": d.Value, "name": d.Name}
			}
			trig["Dimensions"] = dims
		} else {
			ms := make([]any, len(a.Metrics))
			for i, q := range a.Metrics {
				x := map[string]any{"Id": q.ID, "ReturnData": q.ReturnData == nil || *q.ReturnData}
				if q.Label != "" {
					x["Label"] = q.Label
				}
				if q.Expression != "" {
					x["Expression"] = q.Expression
				}
				if q.HasStat {
					dims := make([]any, len(q.Dimensions))
					for j, d := range q.Dimensions {
						dims[j] = map[string]any{"value": d.Value, "name": d.Name}
					}
					x["MetricStat"] = map[string]any{"Metric": map[string]any{"Dimensions": dims, "MetricName": q.MetricName, "Namespace": q.Namespace},
						"Period": q.StatPeriod, "Stat": q.Stat}
				}
				ms[i] = x
			}
			trig["Metrics"] = ms
		}
		m["Trigger"] = trig
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Composite alarm rules.

type ruleNode struct {
	op    string // "AND", "OR", "NOT", "STATE", "TRUE", "FALSE"
	state string // for STATE: ALARM, OK, INSUFFICIENT_DATA
	ref   string
	kids  []*ruleNode
}

// parseRule parses a composite alarm rule: ALARM(x), OK(x),
// INSUFFICIENT_DATA(x), TRUE, FALSE, combined with AND, OR, NOT and
// parentheses; x is an alarm name or ARN, optionally quoted.
func parseRule(src string) (*ruleNode, error) {
	p := &ruleParser{src: src}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.i < len(p.src) {
		return nil, fmt.Errorf("unexpected %q at position %d", p.src[p.i:], p.i+1)
	}
	return n, nil
}

type ruleParser struct {
	src string
	i   int
}

func (p *ruleParser) skip() {
	for p.i < len(p.src) && strings.ContainsRune(" \t\r\n", rune(p.src[p.i])) {
		p.i++
	}
}

func (p *ruleParser) keyword(kw string) bool {
	p.skip()
	if strings.HasPrefix(p.src[p.i:], kw) {
		end := p.i + len(kw)
		if end == len(p.src) || !isWordChar(p.src[end]) {
			p.i = end
			return true
		}
	}
	return false
}

func isWordChar(c byte) bool {
	return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

func (p *ruleParser) or(depth int) (*ruleNode, error) {
	if depth > 100 {
		return nil, errors.New("the rule is nested too deeply")
	}
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("OR") {
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = &ruleNode{op: "OR", kids: []*ruleNode{l, r}}
	}
	return l, nil
}

func (p *ruleParser) and(depth int) (*ruleNode, error) {
	l, err := p.not(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("AND") {
		r, err := p.not(depth)
		if err != nil {
			return nil, err
		}
		l = &ruleNode{op: "AND", kids: []*ruleNode{l, r}}
	}
	return l, nil
}

func (p *ruleParser) not(depth int) (*ruleNode, error) {
	if p.keyword("NOT") {
		if depth > 100 {
			return nil, errors.New("the rule is nested too deeply")
		}
		x, err := p.not(depth + 1)
		if err != nil {
			return nil, err
		}
		return &ruleNode{op: "NOT", kids: []*ruleNode{x}}, nil
	}
	return p.atom(depth)
}

func (p *ruleParser) atom(depth int) (*ruleNode, error) {
	p.skip()
	if p.i < len(p.src) && p.src[p.i] == '(' {
		p.i++
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		p.skip()
		if p.i >= len(p.src) || p.src[p.i] != ')' {
			return nil, fmt.Errorf("missing ')' at position %d", p.i+1)
		}
		p.i++
		return n, nil
	}
	switch {
	case p.keyword("TRUE"):
		return &ruleNode{op: "TRUE"}, nil
	case p.keyword("FALSE"):
		return &ruleNode{op: "FALSE"}, nil
	}
	for _, st := range []string{"INSUFFICIENT_DATA", "ALARM", "OK"} {
		if p.keyword(st) {
			p.skip()
			if p.i >= len(p.src) || p.src[p.i] != '(' {
				return nil, fmt.Errorf("expected '(' after %s", st)
			}
			p.i++
			p.skip()
			var ref string
			if p.i < len(p.src) && (p.src[p.i] == '"' || p.src[p.i] == '\'') {
				q := p.src[p.i]
				j := strings.IndexByte(p.src[p.i+1:], q)
				if j < 0 {
					return nil, errors.New("unterminated quoted alarm name")
				}
				ref = p.src[p.i+1 : p.i+1+j]
				p.i += j + 2
			} else {
				j := strings.IndexByte(p.src[p.i:], ')')
				if j < 0 {
					return nil, fmt.Errorf("missing ')' after %s(", st)
				}
				ref = strings.TrimSpace(p.src[p.i : p.i+j])
				p.i += j
			}
			p.skip()
			if p.i >= len(p.src) || p.src[p.i] != ')' {
				return nil, fmt.Errorf("missing ')' after %s(", st)
			}
			p.i++
			if ref == "" {
				return nil, fmt.Errorf("empty alarm name in %s()", st)
			}
			return &ruleNode{op: "STATE", state: st, ref: ref}, nil
		}
	}
	if p.i >= len(p.src) {
		return nil, errors.New("unexpected end of rule")
	}
	return nil, fmt.Errorf("unexpected %q at position %d", p.src[p.i:], p.i+1)
}

func ruleRefs(n *ruleNode) []string {
	if n == nil {
		return nil
	}
	var out []string
	if n.op == "STATE" {
		out = append(out, n.ref)
	}
	for _, k := range n.kids {
		out = append(out, ruleRefs(k)...)
	}
	return out
}

func evalRule(n *ruleNode, state func(ref string) string) bool {
	switch n.op {
	case "TRUE":
		return true
	case "FALSE":
		return false
	case "NOT":
		return !evalRule(n.kids[0], state)
	case "AND":
		return evalRule(n.kids[0], state) && evalRule(n.kids[1], state)
	case "OR":
		return evalRule(n.kids[0], state) || evalRule(n.kids[1], state)
	case "STATE":
		return state(n.ref) == n.state
	}
	return false
}

func (s *Service) evaluateComposite(ctx context.Context, a *alarm, now time.Time) {
	node, err := parseRule(a.Rule)
	if err != nil {
		return
	}
	var triggering []string
	fired := evalRule(node, func(ref string) string {
		c := s.alarms.get(a.Account, a.Region, refName(ref))
		if c == nil {
			return ""
		}
		if c.StateValue == stateAlarm {
			triggering = append(triggering, c.ARN)
		}
		return c.StateValue
	})
	newState := stateOK
	if fired {
		newState = stateAlarm
	}
	if newState == a.StateValue {
		return
	}
	var reason string
	var data []byte
	if fired && len(triggering) > 0 {
		c := s.alarms.get(a.Account, a.Region, refName(triggering[0]))
		reason = fmt.Sprintf("%s transitioned to ALARM at %s", triggering[0], c.StateTransitioned.UTC().Format("Monday 02 January, 2006 15:04:05 UTC"))
		alarms := make([]any, 0, len(triggering))
		for _, t := range triggering {
			alarms = append(alarms, map[string]any{"arn": t, "state": map[string]any{"value": stateAlarm, "timestamp": cwTime(now)}})
		}
		data, _ = json.Marshal(map[string]any{"triggeringAlarms": alarms})
	} else {
		reason = "Composite alarm rule evaluated to " + map[bool]string{true: "TRUE", false: "FALSE"}[fired]
	}
	s.transition(ctx, a, newState, reason, string(data), math.NaN())
}

var _ = service.MessageAttribute{}
