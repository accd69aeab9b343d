package cloudwatch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/overcast-dev/overcast/internal/clock"
)

type fakeScaler struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeScaler) ExecuteScalingPolicy(_ context.Context, policy, alarm, state string, v float64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s %s %v", policy, state, v))
	return nil
}

func (f *fakeScaler) n() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func TestLargePutIsGzipped(t *testing.T) {
	e := start(t, envOpt{})
	c := cw.NewFromConfig(e.cfg)
	var data []types.MetricDatum
	for i := 0; i < 1000; i++ {
		data = append(data, types.MetricDatum{MetricName: aws.String("Big"), Value: aws.Float64(1),
			Dimensions: []types.Dimension{{Name: aws.String("Shard"), Value: aws.String(fmt.Sprintf("shard-%04d", i))}}})
	}
	var sawGzip bool
	_, err := c.PutMetricData(context.Background(), &cw.PutMetricDataInput{Namespace: aws.String("G"), MetricData: data}, func(o *cw.Options) {
		o.HTTPClient = recordingClient{o.HTTPClient, &sawGzip}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sawGzip {
		t.Log("the SDK did not compress this request")
	}
	lm, err := c.ListMetrics(context.Background(), &cw.ListMetricsInput{Namespace: aws.String("G")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lm.Metrics) != 500 || lm.NextToken == nil {
		t.Fatalf("first page: %d metrics, token %v", len(lm.Metrics), lm.NextToken)
	}
	lm2, err := c.ListMetrics(context.Background(), &cw.ListMetricsInput{Namespace: aws.String("G"), NextToken: lm.NextToken})
	if err != nil || len(lm2.Metrics) != 500 || lm2.NextToken != nil {
		t.Fatalf("second page: %+v %v", lm2, err)
	}
}

type recordingClient struct {
	c   cw.HTTPClient
	saw *bool
}

func (r recordingClient) Do(req *http.Request) (*http.Response, error) {
	if strings.Contains(req.Header.Get("Content-Encoding"), "gzip") {
		*r.saw = true
	}
	return r.c.Do(req)
}

func describe(t *testing.T, c *cw.Client, name string) types.MetricAlarm {
	t.Helper()
	out, err := c.DescribeAlarms(context.Background(), &cw.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricAlarms) != 1 {
		t.Fatalf("DescribeAlarms %s: %d alarms", name, len(out.MetricAlarms))
	}
	return out.MetricAlarms[0]
}

func TestAlarmLifecycle(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Minute)
	clk := clock.NewFake(t0.Add(5 * time.Second))
	sns := &fakeNotifier{}
	scaler := &fakeScaler{}
	e := start(t, envOpt{clk: clk, notifier: sns, scaler: scaler})
	c := cw.NewFromConfig(e.cfg)
	ctx := context.Background()
	topic := "arn:aws:sns:us-east-1:000000000000:alerts"
	policy := "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:1234:autoScalingGroupName/web:policyName/up"
	dims := []types.Dimension{{Name: aws.String("AutoScalingGroupName"), Value: aws.String("web")}}
	_, err := c.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{
		AlarmName: aws.String("cpu-high"), Namespace: aws.String("Custom/EC2"), MetricName: aws.String("CPUUtilization"), Dimensions: dims,
		Statistic: types.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(2), DatapointsToAlarm: aws.Int32(2),
		Threshold: aws.Float64(70), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("notBreaching"),
		AlarmActions: []string{topic, policy}, OKActions: []string{topic},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := describe(t, c, "cpu-high")
	// The controller may already have evaluated it.
	if a.StateValue == types.StateValueInsufficientData && *a.StateReason != "Unchecked: Initial alarm creation" {
		t.Fatalf("initial state %s %q", a.StateValue, *a.StateReason)
	}
	// The first evaluation sees no data; notBreaching makes it OK.
	eventually(t, "OK", func() bool { return describe(t, c, "cpu-high").StateValue == types.StateValueOk })

	put := func(v float64) {
		t.Helper()
		_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("Custom/EC2"), MetricData: []types.MetricDatum{
			{MetricName: aws.String("CPUUtilization"), Dimensions: dims, Value: aws.Float64(v), Timestamp: aws.Time(clk.Now())}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	step := func() { t.Helper(); stepMinute(t, clk) }
	// Two breaching minutes: 90 then 80.
	put(90)
	step()
	put(80)
	step()
	eventually(t, "ALARM", func() bool { return describe(t, c, "cpu-high").StateValue == types.StateValueAlarm })
	a = describe(t, c, "cpu-high")
	if !strings.HasPrefix(*a.StateReason, "Threshold Crossed: 2 out of the last 2 datapoints [80.0 (") || !strings.Contains(*a.StateReason, "was greater than the threshold (70.0)") && !strings.Contains(*a.StateReason, "were greater than the threshold (70.0)") {
		t.Errorf("reason %q", *a.StateReason)
	}
	var rd struct {
		Version          string    `json:"version"`
		Statistic        string    `json:"statistic"`
		Period           int       `json:"period"`
		RecentDatapoints []float64 `json:"recentDatapoints"`
		Threshold        float64   `json:"threshold"`
	}
	if err := json.Unmarshal([]byte(*a.StateReasonData), &rd); err != nil {
		t.Fatalf("StateReasonData %q: %v", *a.StateReasonData, err)
	}
	if rd.Version != "1.0" || rd.Statistic != "Average" || rd.Period != 60 || rd.Threshold != 70 || len(rd.RecentDatapoints) != 2 || rd.RecentDatapoints[0] != 80 {
		t.Errorf("StateReasonData %+v", rd)
	}
	eventually(t, "SNS ALARM message", func() bool { return len(sns.all()) == 2 })
	var msg struct {
		AlarmName, NewStateValue, OldStateValue, AlarmArn, Region string
		Trigger                                                   struct {
			MetricName, Namespace, Statistic string
			Threshold                        float64
			Dimensions                       []struct{ Name, Value string }
		}
	}
	m := sns.all()[1]
	if err := json.Unmarshal([]byte(m.Message), &msg); err != nil {
		t.Fatal(err)
	}
	if m.Topic != topic || msg.NewStateValue != "ALARM" || msg.OldStateValue != "OK" || msg.Trigger.Statistic != "AVERAGE" ||
		msg.Trigger.Threshold != 70 || msg.Region != "US East (N. Virginia)" || msg.AlarmArn != "arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu-high" ||
		len(msg.Trigger.Dimensions) != 1 || msg.Trigger.Dimensions[0].Value != "web" {
		t.Errorf("SNS message %s", m.Message)
	}
	if !strings.HasPrefix(m.Subject, `ALARM: "cpu-high" in US East`) {
		t.Errorf("subject %q", m.Subject)
	}
	if scaler.n() != 1 {
		t.Errorf("scaling policy executed %d times", scaler.n())
	}
	// While in ALARM the scaling policy repeats every minute; then recovery.
	put(10)
	step()
	eventually(t, "OK again", func() bool { return describe(t, c, "cpu-high").StateValue == types.StateValueOk })
	hist, err := c.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{AlarmName: aws.String("cpu-high"), HistoryItemType: types.HistoryItemTypeStateUpdate, ScanBy: types.ScanByTimestampAscending})
	if err != nil {
		t.Fatal(err)
	}
	var summaries []string
	for _, h := range hist.AlarmHistoryItems {
		summaries = append(summaries, *h.HistorySummary)
	}
	want := []string{"Alarm updated from INSUFFICIENT_DATA to OK", "Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"}
	if strings.Join(summaries, "|") != strings.Join(want, "|") {
		t.Errorf("history %q", summaries)
	}
	acts, err := c.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{AlarmName: aws.String("cpu-high"), HistoryItemType: types.HistoryItemTypeAction})
	if err != nil || len(acts.AlarmHistoryItems) != 4 {
		t.Errorf("action history: %v %v", acts, err)
	}
	// Disable actions: SetAlarmState changes state but publishes nothing.
	if _, err := c.DisableAlarmActions(ctx, &cw.DisableAlarmActionsInput{AlarmNames: []string{"cpu-high"}}); err != nil {
		t.Fatal(err)
	}
	n := len(sns.all())
	if _, err := c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("cpu-high"), StateValue: types.StateValueAlarm, StateReason: aws.String("testing")}); err != nil {
		t.Fatal(err)
	}
	if a := describe(t, c, "cpu-high"); a.StateValue != types.StateValueAlarm || *a.StateReason != "testing" || *a.ActionsEnabled {
		t.Errorf("after SetAlarmState: %s %q %v", a.StateValue, *a.StateReason, *a.ActionsEnabled)
	}
	if len(sns.all()) != n {
		t.Error("actions ran while disabled")
	}
	tags, err := c.ListTagsForResource(ctx, &cw.ListTagsForResourceInput{ResourceARN: a.AlarmArn})
	if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].Key != "team" {
		t.Errorf("tags %+v %v", tags, err)
	}
	_, err = c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: types.StateValueAlarm, StateReason: aws.String("x")})
	if apiCode(err) != "ResourceNotFound" {
		t.Errorf("SetAlarmState on a missing alarm: %v", err)
	}
	// Composite alarm over it.
	if _, err := c.PutCompositeAlarm(ctx, &cw.PutCompositeAlarmInput{AlarmName: aws.String("any"), AlarmRule: aws.String(`OK("cpu-high") AND NOT (ALARM(cpu-high) OR FALSE)`)}); err != nil {
		t.Fatal(err)
	}
	step()
	eventually(t, "composite ALARM", func() bool {
		out, err := c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{AlarmTypes: []types.AlarmType{types.AlarmTypeCompositeAlarm}})
		return err == nil && len(out.CompositeAlarms) == 1 && out.CompositeAlarms[0].StateValue == types.StateValueAlarm
	})
	_, err = c.PutCompositeAlarm(ctx, &cw.PutCompositeAlarmInput{AlarmName: aws.String("bad"), AlarmRule: aws.String(`ALARM(cpu-high) AND`)})
	if apiCode(err) != "InvalidParameterValue" {
		t.Errorf("bad rule: %v", err)
	}
	if _, err := c.DeleteAlarms(ctx, &cw.DeleteAlarmsInput{AlarmNames: []string{"any", "cpu-high"}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{})
	if err != nil || len(out.MetricAlarms)+len(out.CompositeAlarms) != 0 {
		t.Errorf("after delete: %+v %v", out, err)
	}
}

func TestMetricMathAlarmMOfN(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Minute)
	clk := clock.NewFake(t0.Add(5 * time.Second))
	e := start(t, envOpt{clk: clk})
	c := cw.NewFromConfig(e.cfg)
	ctx := context.Background()
	ms := func(name string) *types.MetricStat {
		return &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String(name)}, Period: aws.Int32(60), Stat: aws.String("Sum")}
	}
	_, err := c.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{
		AlarmName: aws.String("error-rate"), EvaluationPeriods: aws.Int32(3), DatapointsToAlarm: aws.Int32(2),
		Threshold: aws.Float64(10), ComparisonOperator: types.ComparisonOperatorGreaterThanOrEqualToThreshold,
		Metrics: []types.MetricDataQuery{
			{Id: aws.String("errors"), MetricStat: ms("Errors"), ReturnData: aws.Bool(false)},
			{Id: aws.String("reqs"), MetricStat: ms("Requests"), ReturnData: aws.Bool(false)},
			{Id: aws.String("rate"), Expression: aws.String("100 * errors / reqs"), Label: aws.String("Error rate")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := describe(t, c, "error-rate")
	if len(a.Metrics) != 3 || *a.Metrics[2].Expression != "100 * errors / reqs" || *a.Metrics[0].MetricStat.Period != 60 {
		t.Fatalf("alarm metrics %+v", a.Metrics)
	}
	put := func(errs, reqs float64) {
		_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []types.MetricDatum{
			{MetricName: aws.String("Errors"), Value: aws.Float64(errs), Timestamp: aws.Time(clk.Now())},
			{MetricName: aws.String("Requests"), Value: aws.Float64(reqs), Timestamp: aws.Time(clk.Now())}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	step := func() { t.Helper(); stepMinute(t, clk) }
	put(20, 100) // 20% breaching
	step()
	put(1, 100) // 1%
	step()
	// 1 of 3 breaching (the third period is missing): with "missing", the
	// present 2 need min(2, 2) = 2 breaching → OK.
	eventually(t, "OK", func() bool { return describe(t, c, "error-rate").StateValue == types.StateValueOk })
	put(50, 100)
	step()
	eventually(t, "ALARM", func() bool { return describe(t, c, "error-rate").StateValue == types.StateValueAlarm })
	a = describe(t, c, "error-rate")
	if !strings.Contains(*a.StateReason, "2 out of the last 3 datapoints") {
		t.Errorf("reason %q", *a.StateReason)
	}
}

// stepMinute advances the fake clock by a minute in 10 s steps, waiting
// each time until both service loops (flush, alarms) have parked, so every
// loop run sees each step.
func stepMinute(t *testing.T, clk *clock.Fake) {
	t.Helper()
	wait := func() {
		bctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := clk.BlockUntil(bctx, 2); err != nil {
			t.Fatal("loops did not park: ", err)
		}
	}
	for i := 0; i < 6; i++ {
		wait()
		clk.Advance(10 * time.Second)
	}
	wait()
}
