package cloudwatch

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/cloudwatch/tsdb"
	"github.com/overcast-dev/overcast/internal/storage"
)

// Alarm states.
const (
	stateOK           = "OK"
	stateAlarm        = "ALARM"
	stateInsufficient = "INSUFFICIENT_DATA"
)

// alarm is a metric or composite alarm as stored (JSON).
type alarm struct {
	Account, Region string
	Name, ARN       string
	Description     string `json:",omitempty"`
	Composite       bool   `json:",omitempty"`
	Rule            string `json:",omitempty"`

	ActionsEnabled          bool
	OKActions               []string `json:",omitempty"`
	AlarmActions            []string `json:",omitempty"`
	InsufficientDataActions []string `json:",omitempty"`

	Namespace, MetricName, Statistic, ExtendedStatistic, Unit string        `json:",omitempty"`
	Dimensions                                                []tsdb.Dim    `json:",omitempty"`
	Period, EvaluationPeriods, DatapointsToAlarm              int64         `json:",omitempty"`
	Threshold                                                 *float64      `json:",omitempty"`
	ComparisonOperator, TreatMissingData                      string        `json:",omitempty"`
	EvaluateLowSampleCountPercentile, ThresholdMetricID       string        `json:",omitempty"`
	Metrics                                                   []storedQuery `json:",omitempty"`

	StateValue, StateReason, StateReasonData string
	StateUpdated, StateTransitioned          time.Time
	ConfigUpdated                            time.Time
	Tags                                     map[string]string `json:",omitempty"`

	ActionsSuppressor                                    string `json:",omitempty"`
	ActionsSuppressorWaitPeriod, ActionsSuppressorExtPer int64  `json:",omitempty"`

	nextEval time.Time
}

// storedQuery is a MetricDataQuery of a metric-math alarm.
type storedQuery struct {
	ID, Label, Expression string     `json:",omitempty"`
	ReturnData            *bool      `json:",omitempty"`
	Period                int64      `json:",omitempty"`
	AccountID             string     `json:",omitempty"`
	Namespace, MetricName string     `json:",omitempty"`
	Dimensions            []tsdb.Dim `json:",omitempty"`
	StatPeriod            int64      `json:",omitempty"`
	Stat, Unit            string     `json:",omitempty"`
	HasStat               bool       `json:",omitempty"`
}

func storeQuery(m map[string]any) storedQuery {
	q := storedQuery{ID: service.Str(m, "Id"), Label: service.Str(m, "Label"), Expression: service.Str(m, "Expression"), AccountID: service.Str(m, "AccountId")}
	if b, ok := m["ReturnData"].(bool); ok {
		q.ReturnData = &b
	}
	q.Period, _ = service.Int(m, "Period")
	if ms, ok := m["MetricStat"].(map[string]any); ok {
		q.HasStat = true
		metric := obj(ms["Metric"])
		q.Namespace, q.MetricName = service.Str(metric, "Namespace"), service.Str(metric, "MetricName")
		q.Dimensions, _ = parseDims(list(metric, "Dimensions"), "Dimensions", false)
		q.StatPeriod, _ = service.Int(ms, "Period")
		q.Stat, q.Unit = service.Str(ms, "Stat"), service.Str(ms, "Unit")
	}
	return q
}

// toMap returns the query as a MetricDataQuery value.
func (q storedQuery) toMap() map[string]any {
	m := map[string]any{"Id": q.ID}
	if q.Label != "" {
		m["Label"] = q.Label
	}
	if q.Expression != "" {
		m["Expression"] = q.Expression
	}
	if q.ReturnData != nil {
		m["ReturnData"] = *q.ReturnData
	}
	if q.Period != 0 {
		m["Period"] = q.Period
	}
	if q.AccountID != "" {
		m["AccountId"] = q.AccountID
	}
	if q.HasStat {
		ms := map[string]any{
			"Metric": map[string]any{"Namespace": q.Namespace, "MetricName": q.MetricName, "Dimensions": dimsOut(q.Dimensions)},
			"Period": q.StatPeriod, "Stat": q.Stat,
		}
		if q.Unit != "" {
			ms["Unit"] = q.Unit
		}
		m["MetricStat"] = ms
	}
	return m
}

type alarmKey struct{ account, region, name string }

// alarmStore indexes alarms in memory; KV holds them durably.
type alarmStore struct {
	mu     sync.Mutex
	alarms map[alarmKey]*alarm
	seq    uint64
}

func newAlarmStore() *alarmStore { return &alarmStore{alarms: map[alarmKey]*alarm{}} }

func alarmScope(account, region string) storage.Scope {
	return storage.Scope{Service: "cloudwatch", Account: account, Region: region}
}

func (st *alarmStore) load(kv storage.KV) error {
	start, end := storage.ServiceRange("cloudwatch")
	return kv.View(func(tx storage.Tx) error {
		return tx.Scan(start, end, func(k, v []byte) bool {
			sc, parts, err := storage.DecodeKey(k)
			if err != nil || len(parts) != 2 || parts[0] != "alarm" || sc.Account == "" {
				return true
			}
			var a alarm
			if json.Unmarshal(v, &a) == nil {
				st.alarms[alarmKey{a.Account, a.Region, a.Name}] = &a
			}
			return true
		})
	})
}

// get returns a copy of the alarm, or nil.
func (st *alarmStore) get(account, region, name string) *alarm {
	st.mu.Lock()
	defer st.mu.Unlock()
	a := st.alarms[alarmKey{account, region, name}]
	if a == nil {
		return nil
	}
	c := *a
	return &c
}

// list returns copies of the alarms of account and region, sorted by name.
func (st *alarmStore) list(account, region string) []*alarm {
	st.mu.Lock()
	out := make([]*alarm, 0, len(st.alarms))
	for k, a := range st.alarms {
		if k.account == account && k.region == region {
			c := *a
			out = append(out, &c)
		}
	}
	st.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (st *alarmStore) all() []*alarm {
	st.mu.Lock()
	out := make([]*alarm, 0, len(st.alarms))
	for _, a := range st.alarms {
		c := *a
		out = append(out, &c)
	}
	st.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Composite != out[j].Composite {
			return !out[i].Composite
		}
		return out[i].ARN < out[j].ARN
	})
	return out
}

// historyItem is an alarm history entry.
type historyItem struct {
	AlarmName, AlarmType, Type, Summary, Data string
	Timestamp                                 time.Time
}

// save writes a (and its history items) durably and then indexes it.
func (s *Service) saveAlarm(a *alarm, hist ...historyItem) error {
	val, err := json.Marshal(a)
	if err != nil {
		return err
	}
	sc := alarmScope(a.Account, a.Region)
	st := s.alarms
	st.mu.Lock()
	defer st.mu.Unlock()
	keys := make([][]byte, len(hist))
	vals := make([][]byte, len(hist))
	for i, h := range hist {
		st.seq++
		keys[i] = sc.Key("hist", a.Name, fmt.Sprintf("%020d.%08d", h.Timestamp.UnixNano(), st.seq%1e8))
		vals[i], _ = json.Marshal(h)
	}
	err = s.kv.Update(func(tx storage.Tx) error {
		if err := tx.Put(sc.Key("alarm", a.Name), val); err != nil {
			return err
		}
		for i := range keys {
			if err := tx.Put(keys[i], vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	c := *a
	if old := st.alarms[alarmKey{a.Account, a.Region, a.Name}]; old != nil && c.nextEval.IsZero() {
		c.nextEval = old.nextEval
	}
	st.alarms[alarmKey{a.Account, a.Region, a.Name}] = &c
	return nil
}

func (s *Service) addHistory(a *alarm, hist ...historyItem) error {
	sc := alarmScope(a.Account, a.Region)
	st := s.alarms
	st.mu.Lock()
	defer st.mu.Unlock()
	return s.kv.Update(func(tx storage.Tx) error {
		for _, h := range hist {
			st.seq++
			v, _ := json.Marshal(h)
			if err := tx.Put(sc.Key("hist", a.Name, fmt.Sprintf("%020d.%08d", h.Timestamp.UnixNano(), st.seq%1e8)), v); err != nil {
				return err
			}
		}
		return nil
	})
}

func alarmARN(region, account, name string) string {
	return fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", service.Partition(region), region, account, name)
}

func alarmType(a *alarm) string {
	if a.Composite {
		return "CompositeAlarm"
	}
	return "MetricAlarm"
}

var validOperators = map[string]bool{
	"GreaterThanOrEqualToThreshold": true, "GreaterThanThreshold": true, "LessThanThreshold": true,
	"LessThanOrEqualToThreshold": true, "LessThanLowerOrGreaterThanUpperThreshold": true,
	"LessThanLowerThreshold": true, "GreaterThanUpperThreshold": true,
}

func isBandOperator(op string) bool {
	return op == "LessThanLowerOrGreaterThanUpperThreshold" || op == "LessThanLowerThreshold" || op == "GreaterThanUpperThreshold"
}

func validateActions(in map[string]any) error {
	for _, f := range []string{"OKActions", "AlarmActions", "InsufficientDataActions"} {
		acts := service.Strings(in, f)
		if len(acts) > 5 {
			return validationError("The collection %s must not have a size greater than 5.", f)
		}
		for _, a := range acts {
			if !strings.HasPrefix(a, "arn:") {
				return invalidValue("Invalid arn syntax: %s", a)
			}
		}
	}
	return nil
}

func (s *Service) putMetricAlarm(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := service.Str(in, "AlarmName")
	if name == "" {
		return nil, missingParam("The parameter AlarmName is required.")
	}
	if len(name) > 255 {
		return nil, validationError("The parameter AlarmName must be shorter than 256 characters.")
	}
	if err := validateActions(in); err != nil {
		return nil, err
	}
	now := s.clk.Now()
	a := &alarm{
		Account: r.Account, Region: r.Region, Name: name, ARN: alarmARN(r.Region, r.Account, name),
		Description: service.Str(in, "AlarmDescription"), ActionsEnabled: true,
		OKActions: service.Strings(in, "OKActions"), AlarmActions: service.Strings(in, "AlarmActions"),
		InsufficientDataActions: service.Strings(in, "InsufficientDataActions"),
		Namespace:               service.Str(in, "Namespace"), MetricName: service.Str(in, "MetricName"),
		Statistic: service.Str(in, "Statistic"), ExtendedStatistic: service.Str(in, "ExtendedStatistic"),
		Unit: service.Str(in, "Unit"), ComparisonOperator: service.Str(in, "ComparisonOperator"),
		TreatMissingData: service.Str(in, "TreatMissingData"), ThresholdMetricID: service.Str(in, "ThresholdMetricId"),
		EvaluateLowSampleCountPercentile: service.Str(in, "EvaluateLowSampleCountPercentile"),
		ConfigUpdated:                    now,
	}
	if b, ok := in["ActionsEnabled"].(bool); ok {
		a.ActionsEnabled = b
	}
	a.Period, _ = service.Int(in, "Period")
	a.EvaluationPeriods, _ = service.Int(in, "EvaluationPeriods")
	a.DatapointsToAlarm, _ = service.Int(in, "DatapointsToAlarm")
	if t, ok := num(in, "Threshold"); ok {
		a.Threshold = &t
	}
	if a.EvaluationPeriods < 1 {
		return nil, missingParam("The parameter EvaluationPeriods is required and must be at least 1.")
	}
	if a.DatapointsToAlarm != 0 && (a.DatapointsToAlarm < 1 || a.DatapointsToAlarm > a.EvaluationPeriods) {
		return nil, validationError("DatapointsToAlarm must be between 1 and EvaluationPeriods.")
	}
	if !validOperators[a.ComparisonOperator] {
		if a.ComparisonOperator == "" {
			return nil, missingParam("The parameter ComparisonOperator is required.")
		}
		return nil, validationError("1 validation error detected: Value '%s' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold, LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold]", a.ComparisonOperator)
	}
	switch a.TreatMissingData {
	case "", "missing", "notBreaching", "breaching", "ignore":
	default:
		return nil, validationError("The value %s for parameter TreatMissingData is invalid: valid values are breaching, notBreaching, ignore and missing.", a.TreatMissingData)
	}
	switch a.EvaluateLowSampleCountPercentile {
	case "", "evaluate", "ignore":
	default:
		return nil, validationError("The value %s for parameter EvaluateLowSampleCountPercentile is invalid: valid values are evaluate and ignore.", a.EvaluateLowSampleCountPercentile)
	}
	metricsList := list(in, "Metrics")
	if len(metricsList) > 0 {
		if a.MetricName != "" || a.Namespace != "" || a.Statistic != "" || a.ExtendedStatistic != "" || len(list(in, "Dimensions")) > 0 || a.Period != 0 {
			return nil, invalidCombination("The parameters MetricName, Namespace, Statistic, ExtendedStatistic, Dimensions and Period cannot be specified with Metrics.")
		}
		qs, err := parseQueries(metricsList, "Metrics", now, now.Add(-time.Hour))
		if err != nil {
			return nil, err
		}
		returning := 0
		for _, q := range qs {
			if q.returnData {
				returning++
			}
			if q.isStat {
				a.Period = max(a.Period, q.period)
			} else if q.period > 0 {
				a.Period = max(a.Period, q.period)
			}
		}
		if a.ThresholdMetricID != "" {
			returning-- // the band expression also returns data
		}
		if returning != 1 {
			return nil, validationError("Exactly one element of the metrics list should return data.")
		}
		for _, m := range metricsList {
			a.Metrics = append(a.Metrics, storeQuery(obj(m)))
		}
		if a.Period == 0 {
			a.Period = 60
		}
	} else {
		if a.MetricName == "" {
			return nil, missingParam("The parameter MetricName is required.")
		}
		if a.Namespace == "" {
			return nil, missingParam("The parameter Namespace is required.")
		}
		if (a.Statistic == "") == (a.ExtendedStatistic == "") {
			return nil, invalidCombination("Exactly one of Statistic or ExtendedStatistic must be specified.")
		}
		if a.Statistic != "" {
			if sp, ok := parseStat(a.Statistic); !ok || sp.kind > statMaximum {
				return nil, validationError("The value %s for parameter Statistic is invalid.", a.Statistic)
			}
		} else if _, ok := parseStat(a.ExtendedStatistic); !ok {
			return nil, invalidValue("The value %s for parameter ExtendedStatistic is not supported.", a.ExtendedStatistic)
		}
		if a.Period == 0 {
			return nil, missingParam("The parameter Period is required.")
		}
		if a.Period != 10 && a.Period != 30 && (a.Period < 60 || a.Period%60 != 0) {
			return nil, validationError("Period must be 10, 30 or a multiple of 60.")
		}
		dims, err := parseDims(list(in, "Dimensions"), "Dimensions", false)
		if err != nil {
			return nil, err
		}
		a.Dimensions = dims
	}
	if isBandOperator(a.ComparisonOperator) {
		if a.ThresholdMetricID == "" {
			return nil, validationError("ThresholdMetricId must be specified with the comparison operator %s.", a.ComparisonOperator)
		}
	} else {
		if a.ThresholdMetricID != "" {
			return nil, validationError("ThresholdMetricId can be used only with the band comparison operators.")
		}
		if a.Threshold == nil {
			return nil, missingParam("The parameter Threshold is required.")
		}
	}
	if a.Period*a.EvaluationPeriods > 7*24*3600 {
		return nil, validationError("The evaluation period (Period x EvaluationPeriods) must not exceed one week.")
	}
	tags, err := parseTags(in)
	if err != nil {
		return nil, err
	}
	var hist []historyItem
	old := s.alarms.get(r.Account, r.Region, name)
	if old != nil && old.Composite {
		return nil, invalidValue("The alarm %s is a composite alarm.", name)
	}
	if old != nil {
		a.StateValue, a.StateReason, a.StateReasonData = old.StateValue, old.StateReason, old.StateReasonData
		a.StateUpdated, a.StateTransitioned = old.StateUpdated, old.StateTransitioned
		a.Tags = old.Tags
		hist = append(hist, historyItem{AlarmName: name, AlarmType: "MetricAlarm", Type: "ConfigurationUpdate", Timestamp: now,
			Summary: fmt.Sprintf("Alarm \"%s\" updated", name), Data: configHistoryData(a, "Update")})
	} else {
		a.StateValue, a.StateReason = stateInsufficient, "Unchecked: Initial alarm creation"
		a.StateUpdated, a.StateTransitioned = now, now
		hist = append(hist, historyItem{AlarmName: name, AlarmType: "MetricAlarm", Type: "ConfigurationUpdate", Timestamp: now,
			Summary: fmt.Sprintf("Alarm \"%s\" created", name), Data: configHistoryData(a, "Create")})
	}
	if len(tags) > 0 {
		if a.Tags == nil {
			a.Tags = map[string]string{}
		}
		for k, v := range tags {
			a.Tags[k] = v
		}
	}
	a.nextEval = now
	if err := s.saveAlarm(a, hist...); err != nil {
		return nil, awserr.Internal(err)
	}
	s.kickAlarms()
	return map[string]any{}, nil
}

func configHistoryData(a *alarm, typ string) string {
	b, _ := json.Marshal(map[string]any{"version": "1.0", "type": typ, "updatedAlarm": alarmOutput(a)})
	return string(b)
}

func parseTags(in map[string]any) (map[string]string, error) {
	l := list(in, "Tags")
	if len(l) > 50 {
		return nil, validationError("The collection Tags must not have a size greater than 50.")
	}
	out := map[string]string{}
	for _, t := range l {
		m := obj(t)
		k := service.Str(m, "Key")
		if k == "" || len(k) > 128 {
			return nil, validationError("Tag keys must be between 1 and 128 characters.")
		}
		if strings.HasPrefix(k, "aws:") {
			return nil, invalidValue("Tag keys must not begin with aws:.")
		}
		out[k] = service.Str(m, "Value")
	}
	return out, nil
}

func (s *Service) putCompositeAlarm(r *service.Request) (map[string]any, error) {
	in := r.Input
	name, rule := service.Str(in, "AlarmName"), service.Str(in, "AlarmRule")
	if name == "" {
		return nil, missingParam("The parameter AlarmName is required.")
	}
	if rule == "" {
		return nil, missingParam("The parameter AlarmRule is required.")
	}
	if len(rule) > 10240 {
		return nil, validationError("The AlarmRule must be at most 10240 characters.")
	}
	if err := validateActions(in); err != nil {
		return nil, err
	}
	node, err := parseRule(rule)
	if err != nil {
		return nil, invalidValue("Error in alarm rule: %v", err)
	}
	for _, ref := range ruleRefs(node) {
		target := ref
		if strings.HasPrefix(ref, "arn:") {
			i := strings.LastIndex(ref, ":alarm:")
			if i < 0 {
				return nil, invalidValue("Error in alarm rule: invalid alarm ARN %s.", ref)
			}
			target = ref[i+len(":alarm:"):]
		}
		if target == name {
			return nil, invalidValue("Error in alarm rule: an alarm cannot reference itself.")
		}
		if s.alarms.get(r.Account, r.Region, target) == nil {
			return nil, invalidValue("Error in alarm rule: alarm %s does not exist.", ref)
		}
	}
	tags, err := parseTags(in)
	if err != nil {
		return nil, err
	}
	now := s.clk.Now()
	a := &alarm{Account: r.Account, Region: r.Region, Name: name, ARN: alarmARN(r.Region, r.Account, name), Composite: true, Rule: rule,
		Description: service.Str(in, "AlarmDescription"), ActionsEnabled: true,
		OKActions: service.Strings(in, "OKActions"), AlarmActions: service.Strings(in, "AlarmActions"),
		InsufficientDataActions: service.Strings(in, "InsufficientDataActions"), ConfigUpdated: now,
		ActionsSuppressor: service.Str(in, "ActionsSuppressor")}
	a.ActionsSuppressorWaitPeriod, _ = service.Int(in, "ActionsSuppressorWaitPeriod")
	a.ActionsSuppressorExtPer, _ = service.Int(in, "ActionsSuppressorExtensionPeriod")
	if b, ok := in["ActionsEnabled"].(bool); ok {
		a.ActionsEnabled = b
	}
	old := s.alarms.get(r.Account, r.Region, name)
	if old != nil && !old.Composite {
		return nil, invalidValue("The alarm %s is a metric alarm.", name)
	}
	summary := fmt.Sprintf("Alarm \"%s\" created", name)
	if old != nil {
		a.StateValue, a.StateReason, a.StateReasonData = old.StateValue, old.StateReason, old.StateReasonData
		a.StateUpdated, a.StateTransitioned, a.Tags = old.StateUpdated, old.StateTransitioned, old.Tags
		summary = fmt.Sprintf("Alarm \"%s\" updated", name)
	} else {
		a.StateValue, a.StateReason = stateInsufficient, "Unchecked: Initial alarm creation"
		a.StateUpdated, a.StateTransitioned = now, now
	}
	if len(tags) > 0 {
		if a.Tags == nil {
			a.Tags = map[string]string{}
		}
		for k, v := range tags {
			a.Tags[k] = v
		}
	}
	a.nextEval = now
	if err := s.saveAlarm(a, historyItem{AlarmName: name, AlarmType: "CompositeAlarm", Type: "ConfigurationUpdate", Timestamp: now, Summary: summary, Data: configHistoryData(a, "Create")}); err != nil {
		return nil, awserr.Internal(err)
	}
	s.kickAlarms()
	return map[string]any{}, nil
}

func alarmOutput(a *alarm) map[string]any {
	strs := func(l []string) []any {
		out := make([]any, len(l))
		for i, v := range l {
			out[i] = v
		}
		return out
	}
	m := map[string]any{
		"AlarmName": a.Name, "AlarmArn": a.ARN, "ActionsEnabled": a.ActionsEnabled,
		"OKActions": strs(a.OKActions), "AlarmActions": strs(a.AlarmActions), "InsufficientDataActions": strs(a.InsufficientDataActions),
		"StateValue": a.StateValue, "StateReason": a.StateReason,
		"StateUpdatedTimestamp": a.StateUpdated.UTC(), "StateTransitionedTimestamp": a.StateTransitioned.UTC(),
		"AlarmConfigurationUpdatedTimestamp": a.ConfigUpdated.UTC(),
	}
	if a.Description != "" {
		m["AlarmDescription"] = a.Description
	}
	if a.StateReasonData != "" {
		m["StateReasonData"] = a.StateReasonData
	}
	if a.Composite {
		m["AlarmRule"] = a.Rule
		if a.ActionsSuppressor != "" {
			m["ActionsSuppressor"] = a.ActionsSuppressor
			m["ActionsSuppressorWaitPeriod"] = a.ActionsSuppressorWaitPeriod
			m["ActionsSuppressorExtensionPeriod"] = a.ActionsSuppressorExtPer
		}
		return m
	}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("MetricName", a.MetricName)
	set("Namespace", a.Namespace)
	set("Statistic", a.Statistic)
	set("ExtendedStatistic", a.ExtendedStatistic)
	set("Unit", a.Unit)
	set("ComparisonOperator", a.ComparisonOperator)
	set("EvaluateLowSampleCountPercentile", a.EvaluateLowSampleCountPercentile)
	set("ThresholdMetricId", a.ThresholdMetricID)
	tmd := a.TreatMissingData
	if tmd != "" {
		m["TreatMissingData"] = tmd
	}
	if len(a.Metrics) == 0 {
		m["Dimensions"] = dimsOut(a.Dimensions)
		m["Period"] = a.Period
	} else {
		ms := make([]any, len(a.Metrics))
		for i, q := range a.Metrics {
			ms[i] = q.toMap()
		}
		m["Metrics"] = ms
	}
	m["EvaluationPeriods"] = a.EvaluationPeriods
	if a.DatapointsToAlarm != 0 {
		m["DatapointsToAlarm"] = a.DatapointsToAlarm
	}
	if a.Threshold != nil {
		m["Threshold"] = *a.Threshold
	}
	return m
}

func (s *Service) describeAlarms(r *service.Request) (map[string]any, error) {
	in := r.Input
	names := service.Strings(in, "AlarmNames")
	if len(names) > 100 {
		return nil, validationError("The collection AlarmNames must not have a size greater than 100.")
	}
	prefix := service.Str(in, "AlarmNamePrefix")
	if len(names) > 0 && prefix != "" {
		return nil, invalidCombination("The parameters AlarmNames and AlarmNamePrefix are mutually exclusive.")
	}
	stateFilter := service.Str(in, "StateValue")
	actionPrefix := service.Str(in, "ActionPrefix")
	types := service.Strings(in, "AlarmTypes")
	wantMetric, wantComposite := len(types) == 0, false
	for _, t := range types {
		switch t {
		case "MetricAlarm":
			wantMetric = true
		case "CompositeAlarm":
			wantComposite = true
		default:
			return nil, validationError("The value %s for parameter AlarmTypes is invalid.", t)
		}
	}
	children, parents := service.Str(in, "ChildrenOfAlarmName"), service.Str(in, "ParentsOfAlarmName")
	if children != "" || parents != "" {
		wantMetric, wantComposite = true, true
	}
	maxRecords := int64(100)
	if v, ok := service.Int(in, "MaxRecords"); ok {
		if v < 1 || v > 100 {
			return nil, validationError("The parameter MaxRecords must be between 1 and 100.")
		}
		maxRecords = v
	}
	after := service.Str(in, "NextToken")
	nameSet := map[string]bool{}
	for _, n := range names {
		nameSet[n] = true
	}
	all := s.alarms.list(r.Account, r.Region)
	var childSet, parentSet map[string]bool
	if children != "" {
		p := s.alarms.get(r.Account, r.Region, children)
		childSet = map[string]bool{}
		if p != nil && p.Composite {
			if node, err := parseRule(p.Rule); err == nil {
				for _, ref := range ruleRefs(node) {
					childSet[refName(ref)] = true
				}
			}
		}
	}
	if parents != "" {
		parentSet = map[string]bool{}
		for _, a := range all {
			if !a.Composite {
				continue
			}
			if node, err := parseRule(a.Rule); err == nil {
				for _, ref := range ruleRefs(node) {
					if refName(ref) == parents {
						parentSet[a.Name] = true
					}
				}
			}
		}
	}
	var metricOut, compositeOut []any
	count := int64(0)
	next := ""
	for _, a := range all {
		if after != "" && a.Name <= after {
			continue
		}
		if len(nameSet) > 0 && !nameSet[a.Name] || prefix != "" && !strings.HasPrefix(a.Name, prefix) {
			continue
		}
		if stateFilter != "" && a.StateValue != stateFilter {
			continue
		}
		if childSet != nil && !childSet[a.Name] || parentSet != nil && !parentSet[a.Name] {
			continue
		}
		if actionPrefix != "" {
			found := false
			for _, l := range [][]string{a.OKActions, a.AlarmActions, a.InsufficientDataActions} {
				for _, act := range l {
					if strings.HasPrefix(act, actionPrefix) {
						found = true
					}
				}
			}
			if !found {
				continue
			}
		}
		if a.Composite && !wantComposite || !a.Composite && !wantMetric {
			continue
		}
		if count == maxRecords {
			next = all[0].Name // placeholder, replaced below
			next = lastName(metricOut, compositeOut)
			break
		}
		count++
		if a.Composite {
			compositeOut = append(compositeOut, alarmOutput(a))
		} else {
			metricOut = append(metricOut, alarmOutput(a))
		}
	}
	out := map[string]any{"MetricAlarms": orEmpty(metricOut), "CompositeAlarms": orEmpty(compositeOut)}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func orEmpty(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

func lastName(a, b []any) string {
	last := ""
	for _, l := range [][]any{a, b} {
		for _, m := range l {
			if n := service.Str(obj(m), "AlarmName"); n > last {
				last = n
			}
		}
	}
	return last
}

func refName(ref string) string {
	if i := strings.LastIndex(ref, ":alarm:"); strings.HasPrefix(ref, "arn:") && i >= 0 {
		return ref[i+len(":alarm:"):]
	}
	return ref
}

func (s *Service) describeAlarmsForMetric(r *service.Request) (map[string]any, error) {
	in := r.Input
	ns, name := service.Str(in, "Namespace"), service.Str(in, "MetricName")
	if ns == "" || name == "" {
		return nil, missingParam("The parameters Namespace and MetricName are required.")
	}
	dims, err := parseDims(list(in, "Dimensions"), "Dimensions", false)
	if err != nil {
		return nil, err
	}
	_, hasDims := in["Dimensions"]
	stat, ext, unit := service.Str(in, "Statistic"), service.Str(in, "ExtendedStatistic"), service.Str(in, "Unit")
	period, _ := service.Int(in, "Period")
	out := []any{}
	for _, a := range s.alarms.list(r.Account, r.Region) {
		if a.Composite {
			continue
		}
		match := false
		if len(a.Metrics) == 0 {
			match = a.Namespace == ns && a.MetricName == name && (!hasDims || tsdb.SeriesKey("", "", "", "", a.Dimensions) == tsdb.SeriesKey("", "", "", "", dims)) &&
				(stat == "" || a.Statistic == stat) && (ext == "" || a.ExtendedStatistic == ext) && (unit == "" || a.Unit == unit) && (period == 0 || a.Period == period)
		} else {
			for _, q := range a.Metrics {
				if q.HasStat && q.Namespace == ns && q.MetricName == name && (!hasDims || tsdb.SeriesKey("", "", "", "", q.Dimensions) == tsdb.SeriesKey("", "", "", "", dims)) {
					match = true
				}
			}
		}
		if match {
			out = append(out, alarmOutput(a))
		}
	}
	return map[string]any{"MetricAlarms": out}, nil
}

func (s *Service) describeAlarmHistory(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := service.Str(in, "AlarmName")
	typ := service.Str(in, "HistoryItemType")
	start, hasStart := in["StartDate"].(time.Time)
	end, hasEnd := in["EndDate"].(time.Time)
	maxRecords := int64(100)
	if v, ok := service.Int(in, "MaxRecords"); ok {
		if v < 1 || v > 100 {
			return nil, validationError("The parameter MaxRecords must be between 1 and 100.")
		}
		maxRecords = v
	}
	types := service.Strings(in, "AlarmTypes")
	ascending := service.Str(in, "ScanBy") == "TimestampAscending"
	offset := 0
	if tok := service.Str(in, "NextToken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n <= 0 {
			return nil, badToken()
		}
		offset = n
	}
	sc := alarmScope(r.Account, r.Region)
	var parts []string
	if name != "" {
		parts = []string{"hist", name}
	} else {
		parts = []string{"hist"}
	}
	startK, endK := sc.Range(parts...)
	var items []historyItem
	err := s.kv.View(func(tx storage.Tx) error {
		return tx.Scan(startK, endK, func(_, v []byte) bool {
			var h historyItem
			if json.Unmarshal(v, &h) != nil {
				return true
			}
			if typ != "" && h.Type != typ || hasStart && h.Timestamp.Before(start) || hasEnd && h.Timestamp.After(end) {
				return true
			}
			if len(types) > 0 {
				ok := false
				for _, t := range types {
					if t == h.AlarmType {
						ok = true
					}
				}
				if !ok {
					return true
				}
			} else if h.AlarmType != "MetricAlarm" && name == "" {
				return true
			}
			items = append(items, h)
			return true
		})
	})
	if err != nil {
		return nil, awserr.Internal(err)
	}
	sort.SliceStable(items, func(i, j int) bool {
		if ascending {
			return items[i].Timestamp.Before(items[j].Timestamp)
		}
		return items[i].Timestamp.After(items[j].Timestamp)
	})
	if offset > len(items) {
		return nil, badToken()
	}
	items = items[offset:]
	out := map[string]any{}
	if int64(len(items)) > maxRecords {
		items = items[:maxRecords]
		out["NextToken"] = strconv.Itoa(offset + int(maxRecords))
	}
	l := make([]any, len(items))
	for i, h := range items {
		l[i] = map[string]any{"AlarmName": h.AlarmName, "AlarmType": h.AlarmType, "Timestamp": h.Timestamp.UTC(),
			"HistoryItemType": h.Type, "HistorySummary": h.Summary, "HistoryData": h.Data}
	}
	out["AlarmHistoryItems"] = l
	return out, nil
}

func (s *Service) deleteAlarms(r *service.Request) (map[string]any, error) {
	names := service.Strings(r.Input, "AlarmNames")
	if len(names) > 100 {
		return nil, validationError("The collection AlarmNames must not have a size greater than 100.")
	}
	for _, n := range names {
		if s.alarms.get(r.Account, r.Region, n) == nil {
			return nil, notFound("1 or more alarms not found: %s", n)
		}
	}
	// A composite alarm's children cannot be deleted while it references them.
	deleting := map[string]bool{}
	for _, n := range names {
		deleting[n] = true
	}
	for _, a := range s.alarms.list(r.Account, r.Region) {
		if !a.Composite || deleting[a.Name] {
			continue
		}
		if node, err := parseRule(a.Rule); err == nil {
			for _, ref := range ruleRefs(node) {
				if deleting[refName(ref)] {
					return nil, validationError("The alarm %s is referenced by the composite alarm %s and cannot be deleted.", refName(ref), a.Name)
				}
			}
		}
	}
	sc := alarmScope(r.Account, r.Region)
	st := s.alarms
	st.mu.Lock()
	defer st.mu.Unlock()
	err := s.kv.Update(func(tx storage.Tx) error {
		for _, n := range names {
			if err := tx.Delete(sc.Key("alarm", n)); err != nil {
				return err
			}
			hs, he := sc.Range("hist", n)
			var keys [][]byte
			if err := tx.Scan(hs, he, func(k, _ []byte) bool { keys = append(keys, k); return true }); err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, awserr.Internal(err)
	}
	for _, n := range names {
		delete(st.alarms, alarmKey{r.Account, r.Region, n})
	}
	return map[string]any{}, nil
}

func (s *Service) setActionsEnabled(r *service.Request, enabled bool) (map[string]any, error) {
	names := service.Strings(r.Input, "AlarmNames")
	if len(names) > 100 {
		return nil, validationError("The collection AlarmNames must not have a size greater than 100.")
	}
	for _, n := range names {
		a := s.alarms.get(r.Account, r.Region, n)
		if a == nil {
			continue
		}
		a.ActionsEnabled = enabled
		if err := s.saveAlarm(a); err != nil {
			return nil, awserr.Internal(err)
		}
	}
	return map[string]any{}, nil
}

func (s *Service) enableAlarmActions(r *service.Request) (map[string]any, error) {
	return s.setActionsEnabled(r, true)
}

func (s *Service) disableAlarmActions(r *service.Request) (map[string]any, error) {
	return s.setActionsEnabled(r, false)
}

func (s *Service) setAlarmState(r *service.Request) (map[string]any, error) {
	in := r.Input
	name, state, reason := service.Str(in, "AlarmName"), service.Str(in, "StateValue"), service.Str(in, "StateReason")
	data := service.Str(in, "StateReasonData")
	a := s.alarms.get(r.Account, r.Region, name)
	if a == nil {
		return nil, notFound("Alarm %s not found", name)
	}
	if state != stateOK && state != stateAlarm && state != stateInsufficient {
		return nil, validationError("The value %s for parameter StateValue is invalid.", state)
	}
	if data != "" && !json.Valid([]byte(data)) {
		return nil, cwErr(errInvalidFormat, 400, "Invalid JSON in StateReasonData.")
	}
	if len(reason) > 1023 {
		return nil, validationError("The parameter StateReason must be at most 1023 characters.")
	}
	s.transition(r.Context, a, state, reason, data, math.NaN())
	return map[string]any{}, nil
}

func (s *Service) findTaggable(account, region, arn string) (*alarm, error) {
	if !strings.HasPrefix(arn, "arn:") {
		return nil, invalidValue("Invalid ARN: %s", arn)
	}
	i := strings.LastIndex(arn, ":alarm:")
	if i < 0 {
		return nil, cwErr(errResourceNotFoundException, 404, "Resource %s not found.", arn)
	}
	a := s.alarms.get(account, region, arn[i+len(":alarm:"):])
	if a == nil || a.ARN != arn {
		return nil, &awserr.Error{Code: errResourceNotFoundException, QueryCode: "ResourceNotFoundException", Status: 404,
			Message: "Resource " + arn + " not found.", Fields: map[string]any{"ResourceType": "Alarm", "ResourceId": arn}}
	}
	return a, nil
}

func (s *Service) tagResource(r *service.Request) (map[string]any, error) {
	a, err := s.findTaggable(r.Account, r.Region, service.Str(r.Input, "ResourceARN"))
	if err != nil {
		return nil, err
	}
	tags, err := parseTags(r.Input)
	if err != nil {
		return nil, err
	}
	if a.Tags == nil {
		a.Tags = map[string]string{}
	}
	for k, v := range tags {
		a.Tags[k] = v
	}
	if len(a.Tags) > 50 {
		return nil, validationError("An alarm can have at most 50 tags.")
	}
	if err := s.saveAlarm(a); err != nil {
		return nil, awserr.Internal(err)
	}
	return map[string]any{}, nil
}

func (s *Service) untagResource(r *service.Request) (map[string]any, error) {
	a, err := s.findTaggable(r.Account, r.Region, service.Str(r.Input, "ResourceARN"))
	if err != nil {
		return nil, err
	}
	nt := map[string]string{}
	for k, v := range a.Tags {
		nt[k] = v
	}
	for _, k := range service.Strings(r.Input, "TagKeys") {
		delete(nt, k)
	}
	a.Tags = nt
	if err := s.saveAlarm(a); err != nil {
		return nil, awserr.Internal(err)
	}
	return map[string]any{}, nil
}

func (s *Service) listTagsForResource(r *service.Request) (map[string]any, error) {
	a, err := s.findTaggable(r.Account, r.Region, service.Str(r.Input, "ResourceARN"))
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(a.Tags))
	for k := range a.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = map[string]any{"Key": k, "Value": a.Tags[k]}
	}
	return map[string]any{"Tags": out}, nil
}
