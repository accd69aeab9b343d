package cloudwatch

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/overcast-dev/overcast/internal/service/cloudwatch/tsdb"
)

// FunctionInvoker runs Lambda functions named as alarm actions.
type FunctionInvoker interface {
	// InvokeFunction queues an asynchronous invocation of the function
	// functionARN with payload, the alarm state-change event. It returns an
	// error when the function does not exist, and MUST NOT call back into
	// CloudWatch synchronously.
	InvokeFunction(ctx context.Context, functionARN string, payload []byte) error
}

// SetFunctionInvoker sets the Lambda invoker after construction (wiring).
func (s *Service) SetFunctionInvoker(f FunctionInvoker) {
	s.notifierMu.Lock()
	s.functions = f
	s.notifierMu.Unlock()
}

func isFunctionARN(arn string) bool {
	return strings.Contains(arn, ":lambda:") && strings.Contains(arn, ":function:")
}

// invokeAction invokes the function act with the event Lambda receives
// from an alarm action; msg is the alarm's SNS message (for the old state).
func (s *Service) invokeAction(ctx context.Context, a *alarm, act, msg string) error {
	s.notifierMu.RLock()
	f := s.functions
	s.notifierMu.RUnlock()
	if f == nil {
		return errors.New("Lambda is not available")
	}
	payload, err := json.Marshal(alarmEvent(a, msg))
	if err != nil {
		return err
	}
	return f.InvokeFunction(ctx, act, payload)
}

// alarmEvent is the event a function named as an alarm action receives.
func alarmEvent(a *alarm, msg string) map[string]any {
	var old struct {
		OldStateValue string
	}
	json.Unmarshal([]byte(msg), &old)
	dims := func(ds []tsdb.Dim) map[string]any {
		m := map[string]any{}
		for _, d := range ds {
			m[d.Name] = d.Value
		}
		return m
	}
	var metrics []any
	if a.MetricName != "" {
		stat := map[string]any{"metric": map[string]any{"namespace": a.Namespace, "name": a.MetricName, "dimensions": dims(a.Dimensions)},
			"period": a.Period, "stat": a.Statistic + a.ExtendedStatistic}
		if a.Unit != "" {
			stat["unit"] = a.Unit
		}
		metrics = append(metrics, map[string]any{"id": "m1", "metricStat": stat, "returnData": true})
	}
	for _, q := range a.Metrics {
		m := map[string]any{"id": q.ID, "returnData": q.ReturnData == nil || *q.ReturnData}
		if q.Label != "" {
			m["label"] = q.Label
		}
		if q.Expression != "" {
			m["expression"] = q.Expression
		}
		if q.HasStat {
			m["metricStat"] = map[string]any{"metric": map[string]any{"namespace": q.Namespace, "name": q.MetricName, "dimensions": dims(q.Dimensions)},
				"period": q.StatPeriod, "stat": q.Stat}
		}
		metrics = append(metrics, m)
	}
	conf := map[string]any{"metrics": metrics}
	if a.Description != "" {
		conf["description"] = a.Description
	}
	if a.Composite {
		conf = map[string]any{"alarmRule": a.Rule}
		if a.Description != "" {
			conf["description"] = a.Description
		}
	}
	state := map[string]any{"value": a.StateValue, "reason": a.StateReason, "timestamp": cwTime(a.StateUpdated)}
	if a.StateReasonData != "" {
		state["reasonData"] = a.StateReasonData
	}
	return map[string]any{
		"source":    "aws.cloudwatch",
		"alarmArn":  a.ARN,
		"accountId": a.Account,
		"time":      cwTime(a.StateUpdated),
		"region":    a.Region,
		"alarmData": map[string]any{
			"alarmName":     a.Name,
			"state":         state,
			"previousState": map[string]any{"value": old.OldStateValue},
			"configuration": conf,
		},
	}
}
