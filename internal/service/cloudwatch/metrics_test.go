package cloudwatch_test

import (
	"context"
	"errors"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestSDKPutAndGetStatistics(t *testing.T) {
	e := start(t, envOpt{})
	c := cw.NewFromConfig(e.cfg)
	ctx := context.Background()
	base := time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute)
	dims := []types.Dimension{{Name: aws.String("Service"), Value: aws.String("api")}}
	// Minute 0: values 1..100 via Values; minute 1: a statistic set; minute 2: single values.
	vals := make([]float64, 100)
	for i := range vals {
		vals[i] = float64(i + 1)
	}
	_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []types.MetricDatum{
		{MetricName: aws.String("Latency"), Dimensions: dims, Timestamp: aws.Time(base.Add(10 * time.Second)), Values: vals, Unit: types.StandardUnitMilliseconds},
		{MetricName: aws.String("Latency"), Dimensions: dims, Timestamp: aws.Time(base.Add(70 * time.Second)), Unit: types.StandardUnitMilliseconds,
			StatisticValues: &types.StatisticSet{SampleCount: aws.Float64(4), Sum: aws.Float64(40), Minimum: aws.Float64(5), Maximum: aws.Float64(15)}},
		{MetricName: aws.String("Latency"), Dimensions: dims, Timestamp: aws.Time(base.Add(130 * time.Second)), Value: aws.Float64(7), Unit: types.StandardUnitMilliseconds},
		{MetricName: aws.String("Latency"), Dimensions: dims, Timestamp: aws.Time(base.Add(150 * time.Second)), Value: aws.Float64(9), Unit: types.StandardUnitMilliseconds},
	}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetMetricStatistics(ctx, &cw.GetMetricStatisticsInput{
		Namespace: aws.String("App"), MetricName: aws.String("Latency"), Dimensions: dims,
		StartTime: aws.Time(base), EndTime: aws.Time(base.Add(5 * time.Minute)), Period: aws.Int32(60),
		Statistics: []types.Statistic{types.StatisticSum, types.StatisticAverage, types.StatisticSampleCount, types.StatisticMinimum, types.StatisticMaximum},
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out.Datapoints, func(i, j int) bool { return out.Datapoints[i].Timestamp.Before(*out.Datapoints[j].Timestamp) })
	if len(out.Datapoints) != 3 {
		t.Fatalf("got %d datapoints, want 3: %+v", len(out.Datapoints), out.Datapoints)
	}
	want := [][5]float64{{5050, 50.5, 100, 1, 100}, {40, 10, 4, 5, 15}, {16, 8, 2, 7, 9}}
	for i, dp := range out.Datapoints {
		got := [5]float64{*dp.Sum, *dp.Average, *dp.SampleCount, *dp.Minimum, *dp.Maximum}
		if got != want[i] {
			t.Errorf("datapoint %d = %v, want %v", i, got, want[i])
		}
		if !dp.Timestamp.Equal(base.Add(time.Duration(i) * time.Minute)) {
			t.Errorf("datapoint %d at %v", i, dp.Timestamp)
		}
		if dp.Unit != types.StandardUnitMilliseconds {
			t.Errorf("unit %q", dp.Unit)
		}
	}
	// Percentiles: exact for raw values, absent for statistic sets.
	pout, err := c.GetMetricStatistics(ctx, &cw.GetMetricStatisticsInput{
		Namespace: aws.String("App"), MetricName: aws.String("Latency"), Dimensions: dims,
		StartTime: aws.Time(base), EndTime: aws.Time(base.Add(2 * time.Minute)), Period: aws.Int32(60),
		ExtendedStatistics: []string{"p50", "p99", "p100"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dp := range pout.Datapoints {
		if dp.Timestamp.Equal(base) {
			// 100 distinct values exceed the exact sketch: within one value.
			if math.Abs(dp.ExtendedStatistics["p50"]-50) > 1 || math.Abs(dp.ExtendedStatistics["p99"]-99) > 1 || dp.ExtendedStatistics["p100"] != 100 {
				t.Errorf("percentiles %v", dp.ExtendedStatistics)
			}
		} else if len(dp.ExtendedStatistics) != 0 {
			t.Errorf("percentiles of a statistic set: %v", dp.ExtendedStatistics)
		}
	}

	// GetMetricData with metric math.
	gd, err := c.GetMetricData(ctx, &cw.GetMetricDataInput{
		StartTime: aws.Time(base), EndTime: aws.Time(base.Add(5 * time.Minute)), ScanBy: types.ScanByTimestampAscending,
		MetricDataQueries: []types.MetricDataQuery{
			{Id: aws.String("m1"), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String("Latency"), Dimensions: dims}, Period: aws.Int32(60), Stat: aws.String("Sum")}},
			{Id: aws.String("e1"), Expression: aws.String("m1 * 2 + 1")},
			{Id: aws.String("e2"), Expression: aws.String("IF(m1 > 20, 1, 0)"), Label: aws.String("big")},
			{Id: aws.String("e3"), Expression: aws.String("FILL(m1, 0)")},
			{Id: aws.String("e4"), Expression: aws.String("DIFF(m1)")},
			{Id: aws.String("e5"), Expression: aws.String("SUM(METRICS())")},
			{Id: aws.String("e6"), Expression: aws.String("m1 / MAX(m1)")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]float64{}
	for _, r := range gd.MetricDataResults {
		got[*r.Id] = r.Values
		if r.StatusCode != types.StatusCodeComplete {
			t.Errorf("%s status %s", *r.Id, r.StatusCode)
		}
	}
	check := func(id string, want []float64) {
		t.Helper()
		g := got[id]
		if len(g) != len(want) {
			t.Errorf("%s = %v, want %v", id, g, want)
			return
		}
		for i := range g {
			if math.Abs(g[i]-want[i]) > 1e-9 {
				t.Errorf("%s = %v, want %v", id, g, want)
				return
			}
		}
	}
	if _, ok := got["m1"]; ok {
		t.Error("m1 returned although ReturnData is false")
	}
	check("e1", []float64{10101, 81, 33})
	check("e2", []float64{1, 1, 0})
	check("e3", []float64{5050, 40, 16, 0, 0})
	check("e4", []float64{-5010, -24})
	check("e5", []float64{5050, 40, 16})
	check("e6", []float64{1, 40.0 / 5050, 16.0 / 5050})

	// ListMetrics filters.
	if _, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []types.MetricDatum{
		{MetricName: aws.String("Errors"), Value: aws.Float64(1), Dimensions: []types.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}}},
		{MetricName: aws.String("Errors"), Value: aws.Float64(1)},
	}}); err != nil {
		t.Fatal(err)
	}
	lm, err := c.ListMetrics(ctx, &cw.ListMetricsInput{Namespace: aws.String("App"), Dimensions: []types.DimensionFilter{{Name: aws.String("Service")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(lm.Metrics) != 2 {
		t.Errorf("ListMetrics by dimension name: %d metrics", len(lm.Metrics))
	}
	lm, err = c.ListMetrics(ctx, &cw.ListMetricsInput{MetricName: aws.String("Errors"), Dimensions: []types.DimensionFilter{{Name: aws.String("Service"), Value: aws.String("web")}}})
	if err != nil || len(lm.Metrics) != 1 || *lm.Metrics[0].Dimensions[0].Value != "web" {
		t.Errorf("ListMetrics by dimension value: %+v, %v", lm, err)
	}
	lm, err = c.ListMetrics(ctx, &cw.ListMetricsInput{RecentlyActive: types.RecentlyActivePt3h})
	if err != nil || len(lm.Metrics) != 3 {
		t.Errorf("ListMetrics RecentlyActive: %d, %v", len(lm.Metrics), err)
	}
}

func TestSDKValidation(t *testing.T) {
	e := start(t, envOpt{})
	c := cw.NewFromConfig(e.cfg)
	ctx := context.Background()
	cases := []struct {
		name string
		in   *cw.PutMetricDataInput
		code string
	}{
		{"reserved namespace", &cw.PutMetricDataInput{Namespace: aws.String("AWS/EC2"), MetricData: []types.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1)}}}, "InvalidParameterValue"},
		{"value and set", &cw.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []types.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1),
			StatisticValues: &types.StatisticSet{SampleCount: aws.Float64(1), Sum: aws.Float64(1), Minimum: aws.Float64(1), Maximum: aws.Float64(1)}}}}, "InvalidParameterCombination"},
		{"too old", &cw.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []types.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1), Timestamp: aws.Time(time.Now().Add(-15 * 24 * time.Hour))}}}, "InvalidParameterValue"},
		{"future", &cw.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []types.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1), Timestamp: aws.Time(time.Now().Add(3 * time.Hour))}}}, "InvalidParameterValue"},
		{"bad resolution", &cw.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []types.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1), StorageResolution: aws.Int32(5)}}}, "InvalidParameterValue"},
		{"counts without values", &cw.PutMetricDataInput{Namespace: aws.String("N"), MetricData: []types.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1), Counts: []float64{1}}}}, "InvalidParameterCombination"},
	}
	for _, tc := range cases {
		_, err := c.PutMetricData(ctx, tc.in)
		if apiCode(err) != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	lm, _ := c.ListMetrics(ctx, &cw.ListMetricsInput{})
	if len(lm.Metrics) != 0 {
		t.Errorf("rejected puts stored metrics: %+v", lm.Metrics)
	}
	now := time.Now()
	_, err := c.GetMetricStatistics(ctx, &cw.GetMetricStatisticsInput{Namespace: aws.String("N"), MetricName: aws.String("x"),
		StartTime: aws.Time(now.Add(-48 * time.Hour)), EndTime: aws.Time(now), Period: aws.Int32(60), Statistics: []types.Statistic{types.StatisticSum}})
	if apiCode(err) != "InvalidParameterCombination" {
		t.Errorf("too many datapoints: %v", err)
	}
	_, err = c.GetMetricStatistics(ctx, &cw.GetMetricStatisticsInput{Namespace: aws.String("N"), MetricName: aws.String("x"),
		StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now), Period: aws.Int32(61), Statistics: []types.Statistic{types.StatisticSum}})
	if apiCode(err) != "InvalidParameterValue" {
		t.Errorf("bad period: %v", err)
	}
	_, err = c.GetMetricData(ctx, &cw.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("e1"), Expression: aws.String("SUM(m9")}}})
	if apiCode(err) != "ValidationError" {
		t.Errorf("bad expression: %v", err)
	}
}

func TestHighResolutionAndPagination(t *testing.T) {
	e := start(t, envOpt{})
	c := cw.NewFromConfig(e.cfg)
	ctx := context.Background()
	base := time.Now().UTC().Truncate(time.Minute).Add(-5 * time.Minute)
	var data []types.MetricDatum
	for i := 0; i < 120; i++ {
		data = append(data, types.MetricDatum{MetricName: aws.String("Hits"), Value: aws.Float64(float64(i)), StorageResolution: aws.Int32(1), Timestamp: aws.Time(base.Add(time.Duration(i) * time.Second))})
	}
	if _, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("HR"), MetricData: data}); err != nil {
		t.Fatal(err)
	}
	q := []types.MetricDataQuery{{Id: aws.String("m"), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("HR"), MetricName: aws.String("Hits")}, Period: aws.Int32(10), Stat: aws.String("Sum")}}}
	var all []float64
	var token *string
	pages := 0
	for {
		out, err := c.GetMetricData(ctx, &cw.GetMetricDataInput{StartTime: aws.Time(base), EndTime: aws.Time(base.Add(2 * time.Minute)), MetricDataQueries: q, MaxDatapoints: aws.Int32(5), NextToken: token, ScanBy: types.ScanByTimestampAscending})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, out.MetricDataResults[0].Values...)
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	if pages != 3 || len(all) != 12 {
		t.Fatalf("pages %d values %v", pages, all)
	}
	for i, v := range all {
		want := float64(10*i*10 + 45) // sum of 10i..10i+9
		if v != want {
			t.Errorf("period %d sum %v, want %v", i, v, want)
		}
	}
}

func TestPublisherAndDurability(t *testing.T) {
	kv := memory.New()
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Minute))
	e := start(t, envOpt{kv: kv, clk: clk})
	c := cw.NewFromConfig(e.cfg)
	ctx := context.Background()
	var p metrics.Publisher = e.svc
	p.Publish("000000000000", "us-east-1", "AWS/SQS", []metrics.Datum{{Name: "NumberOfMessagesSent", Dimensions: []metrics.Dimension{{Name: "QueueName", Value: "q"}}, Unit: "Count", Value: 3}})
	if _, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("Durable"), MetricData: []types.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(42)}}}); err != nil {
		t.Fatal(err)
	}
	// A second service on the same store, as after kill -9: the put log is
	// replayed (the published metric has not been flushed yet and is lost).
	e2 := start(t, envOpt{kv: kv, clk: clk})
	c2 := cw.NewFromConfig(e2.cfg)
	get := func(c *cw.Client, ns, name string, dims []types.Dimension) []types.Datapoint {
		out, err := c.GetMetricStatistics(ctx, &cw.GetMetricStatisticsInput{Namespace: aws.String(ns), MetricName: aws.String(name), Dimensions: dims,
			StartTime: aws.Time(clk.Now().Add(-time.Hour)), EndTime: aws.Time(clk.Now().Add(time.Hour)), Period: aws.Int32(3600), Statistics: []types.Statistic{types.StatisticSum}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Datapoints
	}
	if dp := get(c2, "Durable", "x", nil); len(dp) != 1 || *dp[0].Sum != 42 {
		t.Fatalf("after restart: %+v", dp)
	}
	qd := []types.Dimension{{Name: aws.String("QueueName"), Value: aws.String("q")}}
	if dp := get(c, "AWS/SQS", "NumberOfMessagesSent", qd); len(dp) != 1 || *dp[0].Sum != 3 {
		t.Fatalf("published metric: %+v", dp)
	}
	// After a flush (Stop flushes), a third instance sees both, exactly once.
	if err := e.svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e2.svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	e3 := start(t, envOpt{kv: kv, clk: clk})
	c3 := cw.NewFromConfig(e3.cfg)
	if dp := get(c3, "Durable", "x", nil); len(dp) != 1 || *dp[0].Sum != 42 {
		t.Fatalf("after flush and restart: %+v", dp)
	}
	if dp := get(c3, "AWS/SQS", "NumberOfMessagesSent", qd); len(dp) != 1 || *dp[0].Sum != 3 {
		t.Fatalf("published metric after flush: %+v", dp)
	}
}
