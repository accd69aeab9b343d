package logs_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/service/logs"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

func TestMetricFilters(t *testing.T) {
	e := start(t, opts{})
	c := e.client
	setup(t, c, "app", "s")
	mt := func(value string, def *float64, dims map[string]string) []types.MetricTransformation {
		return []types.MetricTransformation{{MetricName: aws.String("Latency"), MetricNamespace: aws.String("App"),
			MetricValue: aws.String(value), DefaultValue: def, Dimensions: dims, Unit: types.StandardUnitMilliseconds}}
	}
	if _, err := c.PutMetricFilter(ctx, &cwl.PutMetricFilterInput{LogGroupName: aws.String("app"), FilterName: aws.String("lat"),
		FilterPattern: aws.String(`{ $.latency > 0 }`), MetricTransformations: mt("$.latency", nil, map[string]string{"Host": "$.host"})}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutMetricFilter(ctx, &cwl.PutMetricFilterInput{LogGroupName: aws.String("app"), FilterName: aws.String("errors"),
		FilterPattern: aws.String(`ERROR`), MetricTransformations: []types.MetricTransformation{{MetricName: aws.String("Errors"),
			MetricNamespace: aws.String("App"), MetricValue: aws.String("1"), DefaultValue: aws.Float64(0)}}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutMetricFilter(ctx, &cwl.PutMetricFilterInput{LogGroupName: aws.String("app"), FilterName: aws.String("bad"),
		FilterPattern: aws.String(`{ $.x = `), MetricTransformations: mt("1", nil, nil)})
	wantErr(t, err, "InvalidParameterException", "")
	_, err = c.PutMetricFilter(ctx, &cwl.PutMetricFilterInput{LogGroupName: aws.String("app"), FilterName: aws.String("bad"),
		FilterPattern: aws.String(`x`), MetricTransformations: mt("1", aws.Float64(0), map[string]string{"a": "$.a"})})
	wantErr(t, err, "InvalidParameterException", "")
	_, err = c.PutMetricFilter(ctx, &cwl.PutMetricFilterInput{LogGroupName: aws.String("none"), FilterName: aws.String("x"),
		FilterPattern: aws.String(`x`), MetricTransformations: mt("1", nil, nil)})
	wantErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")

	now := time.Now().Truncate(time.Second)
	put(t, c, "app", "s", now, `{"latency": 120, "host": "a"}`, "ERROR boom", `{"latency": 80, "host": "b"}`, "INFO fine")
	lat := e.rec.get("App")
	var latency, errs []float64
	for _, d := range lat {
		switch d.Name {
		case "Latency":
			latency = append(latency, d.Value)
			if d.Unit != "Milliseconds" || len(d.Dimensions) != 1 || d.Dimensions[0].Name != "Host" {
				t.Errorf("datum %+v", d)
			}
		case "Errors":
			errs = append(errs, d.Value)
		}
	}
	if len(latency) != 2 || latency[0] != 120 || latency[1] != 80 {
		t.Errorf("latency %v", latency)
	}
	if len(errs) != 4 || errs[0] != 0 || errs[1] != 1 || errs[2] != 0 {
		t.Errorf("errors %v (want 1 for the match and the default 0 for the others)", errs)
	}

	out, err := c.DescribeMetricFilters(ctx, &cwl.DescribeMetricFiltersInput{LogGroupName: aws.String("app")})
	if err != nil || len(out.MetricFilters) != 2 || *out.MetricFilters[1].FilterName != "lat" ||
		out.MetricFilters[1].MetricTransformations[0].Dimensions["Host"] != "$.host" {
		t.Fatalf("describe: %+v %v", out, err)
	}
	out, _ = c.DescribeMetricFilters(ctx, &cwl.DescribeMetricFiltersInput{MetricName: aws.String("Errors"), MetricNamespace: aws.String("App")})
	if len(out.MetricFilters) != 1 || *out.MetricFilters[0].FilterName != "errors" {
		t.Errorf("by metric: %+v", out.MetricFilters)
	}
	_, err = c.DescribeMetricFilters(ctx, &cwl.DescribeMetricFiltersInput{FilterNamePrefix: aws.String("e")})
	wantErr(t, err, "InvalidParameterException", "")
	groups, _ := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if aws.ToInt32(groups.LogGroups[0].MetricFilterCount) != 2 {
		t.Errorf("metricFilterCount %v", groups.LogGroups[0].MetricFilterCount)
	}
	if _, err := c.DeleteMetricFilter(ctx, &cwl.DeleteMetricFilterInput{LogGroupName: aws.String("app"), FilterName: aws.String("lat")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteMetricFilter(ctx, &cwl.DeleteMetricFilterInput{LogGroupName: aws.String("app"), FilterName: aws.String("lat")})
	wantErr(t, err, "ResourceNotFoundException", "The specified metric filter does not exist.")

	tm, err := c.TestMetricFilter(ctx, &cwl.TestMetricFilterInput{FilterPattern: aws.String(`[ip, user, ..., status=4*, bytes]`),
		LogEventMessages: []string{"1.2.3.4 bob GET / 404 10", "1.2.3.4 bob GET / 200 10", "5.6.7.8 ann x 403 7"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tm.Matches) != 2 || tm.Matches[0].EventNumber != 1 || tm.Matches[1].EventNumber != 3 ||
		tm.Matches[1].ExtractedValues["$bytes"] != "7" || tm.Matches[1].ExtractedValues["$ip"] != "5.6.7.8" {
		t.Errorf("test metric filter: %+v", tm.Matches)
	}
}

func TestEmbeddedMetricFormat(t *testing.T) {
	e := start(t, opts{})
	setup(t, e.client, "emf", "s")
	now := time.Now().Truncate(time.Millisecond)
	doc := map[string]any{
		"_aws": map[string]any{"Timestamp": now.UnixMilli(), "CloudWatchMetrics": []any{map[string]any{
			"Namespace": "Shop", "Dimensions": []any{[]any{"Service"}, []any{"Service", "Op"}},
			"Metrics": []any{map[string]any{"Name": "Time", "Unit": "Milliseconds"}, map[string]any{"Name": "Count"}}}}},
		"Service": "cart", "Op": "add", "Time": []any{10, 20}, "Count": 1, "requestId": "r1",
	}
	b, _ := json.Marshal(doc)
	put(t, e.client, "emf", "s", now, string(b), "not emf")
	got := e.rec.get("Shop")
	// Two dimension sets × (two Time values + one Count).
	if len(got) != 6 {
		t.Fatalf("got %d data: %+v", len(got), got)
	}
	var sum float64
	for _, d := range got {
		if d.Name == "Time" {
			sum += d.Value
			if d.Unit != "Milliseconds" || !d.Timestamp.Equal(now) {
				t.Errorf("datum %+v", d)
			}
		}
	}
	if sum != 60 {
		t.Errorf("Time sum %v", sum)
	}
}

type deliveries struct {
	mu  sync.Mutex
	got map[string][]map[string]any
}

func (d *deliveries) DeliverLogs(_ context.Context, arn string, data []byte) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.got == nil {
		d.got = map[string][]map[string]any{}
	}
	d.got[arn] = append(d.got[arn], doc)
	return nil
}

func TestSubscriptionFilters(t *testing.T) {
	d := &deliveries{}
	e := start(t, opts{del: d})
	c := e.client
	setup(t, c, "g", "s")
	fn := "arn:aws:lambda:us-east-1:000000000000:function:f"
	if _, err := c.PutSubscriptionFilter(ctx, &cwl.PutSubscriptionFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String("errs"),
		FilterPattern: aws.String("ERROR"), DestinationArn: aws.String(fn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutSubscriptionFilter(ctx, &cwl.PutSubscriptionFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String("all"),
		FilterPattern: aws.String(""), DestinationArn: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/k")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutSubscriptionFilter(ctx, &cwl.PutSubscriptionFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String("third"),
		FilterPattern: aws.String(""), DestinationArn: aws.String(fn)})
	wantErr(t, err, "LimitExceededException", "Resource limit exceeded.")
	put(t, c, "g", "s", time.Now(), "ERROR one", "INFO two")
	d.mu.Lock()
	got := d.got[fn]
	all := d.got["arn:aws:kinesis:us-east-1:000000000000:stream/k"]
	d.mu.Unlock()
	if len(got) != 1 || got[0]["messageType"] != "DATA_MESSAGE" || got[0]["logGroup"] != "g" || got[0]["logStream"] != "s" ||
		got[0]["owner"] != "000000000000" || len(got[0]["logEvents"].([]any)) != 1 {
		t.Errorf("delivered %v", got)
	}
	if len(all) != 1 || len(all[0]["logEvents"].([]any)) != 2 {
		t.Errorf("all: %v", all)
	}
	out, err := c.DescribeSubscriptionFilters(ctx, &cwl.DescribeSubscriptionFiltersInput{LogGroupName: aws.String("g")})
	if err != nil || len(out.SubscriptionFilters) != 2 || *out.SubscriptionFilters[1].FilterName != "errs" ||
		out.SubscriptionFilters[1].Distribution != types.DistributionByLogStream {
		t.Fatalf("describe: %+v %v", out, err)
	}
	if _, err := c.DeleteSubscriptionFilter(ctx, &cwl.DeleteSubscriptionFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String("errs")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteSubscriptionFilter(ctx, &cwl.DeleteSubscriptionFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String("errs")})
	wantErr(t, err, "ResourceNotFoundException", "The specified subscription filter does not exist.")
}

func TestRetentionController(t *testing.T) {
	start0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start0)
	e := start(t, opts{clk: clk})
	c := e.client
	setup(t, c, "g", "s")
	// Events at T-3d .. T (within the 14-day window), one per 12 hours, split in two batches (24 h span).
	var evs1, evs2 []types.InputLogEvent
	for i := 6; i >= 0; i-- {
		ev := types.InputLogEvent{Timestamp: ms(start0.Add(-time.Duration(i) * 12 * time.Hour)), Message: aws.String("e")}
		if i >= 3 {
			evs1 = append(evs1, ev)
		} else {
			evs2 = append(evs2, ev)
		}
	}
	for _, evs := range [][]types.InputLogEvent{evs1[:2], evs1[2:], evs2} {
		if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		out, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Events)
	}
	if n := count(); n != 7 {
		t.Fatalf("%d events stored", n)
	}
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	// The retention pass runs when triggered; poll (bounded) for its result.
	deadline := time.Now().Add(30 * time.Second)
	for count() != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("retention left %d events, want 3 (T-1d, T-12h, T)", count())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A day later the next pass (every 10 minutes) leaves only events younger than a day.
	clk.BlockUntil(ctx, 1)
	clk.Advance(24*time.Hour + time.Minute)
	deadline = time.Now().Add(30 * time.Second)
	for count() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("retention left %d events, want 0", count())
		}
		time.Sleep(5 * time.Millisecond)
	}
	st, _ := c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g")})
	if len(st.LogStreams) != 1 {
		t.Errorf("the stream itself stays: %+v", st.LogStreams)
	}
}

func TestPutEventsExport(t *testing.T) {
	e := start(t, opts{})
	now := time.Now()
	evs := []logs.Event{{Timestamp: now, Message: "second"}, {Timestamp: now.Add(-time.Second), Message: "first"}, {Timestamp: now, Message: ""}}
	if err := e.svc.PutEvents(ctx, "000000000000", "us-east-1", "/aws/lambda/fn", "2026/03/01/[$LATEST]abc", evs); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.PutEvents(ctx, "000000000000", "us-east-1", "/aws/lambda/fn", "2026/03/01/[$LATEST]abc", []logs.Event{{Timestamp: now, Message: "third"}}); err != nil {
		t.Fatal(err)
	}
	out, err := e.client.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/fn")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 3 || *out.Events[0].Message != "first" || *out.Events[2].Message != "third" {
		t.Errorf("events %+v", out.Events)
	}
	if err := e.svc.PutEvents(ctx, "000000000000", "us-east-1", "bad name", "s", evs); err == nil {
		t.Error("bad group name accepted")
	}
}

func TestDurable(t *testing.T) {
	kv := memory.New()
	e := start(t, opts{kv: kv})
	setup(t, e.client, "g", "s")
	if _, err := e.client.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.PutMetricFilter(ctx, &cwl.PutMetricFilterInput{LogGroupName: aws.String("g"), FilterName: aws.String("f"),
		FilterPattern: aws.String("ERROR"), MetricTransformations: []types.MetricTransformation{{MetricName: aws.String("E"),
			MetricNamespace: aws.String("N"), MetricValue: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	put(t, e.client, "g", "s", time.Now(), "ERROR a", "b")
	// A second service over the same store sees everything.
	e2 := start(t, opts{kv: kv})
	g, err := e2.client.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if err != nil || len(g.LogGroups) != 1 || aws.ToInt32(g.LogGroups[0].RetentionInDays) != 30 || aws.ToInt32(g.LogGroups[0].MetricFilterCount) != 1 {
		t.Fatalf("groups %+v %v", g, err)
	}
	put(t, e2.client, "g", "s", time.Now(), "ERROR c")
	out, err := e2.client.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})
	if err != nil || len(out.Events) != 3 {
		t.Fatalf("events %+v %v", out, err)
	}
	if n := len(e2.rec.get("N")); n != 1 {
		t.Errorf("metric filter after reload published %d", n)
	}
}
