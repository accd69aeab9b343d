package cloudwatch

import (
	"math"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/service/cloudwatch/tsdb"
)

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{"m1 * 2 + 1", "SUM(METRICS())", "IF(m1 > 2 AND m2 < 3, m1, 0)", "FILL(m1, REPEAT)", "-(-m1)^2",
		"RATE(m1) / PERIOD(m1)", `SEARCH('{AWS/EC2,InstanceId} MetricName="CPUUtilization"', 'Average', 300)`, "m1 || m2 && !", "((((", "1e309", "'unterminated"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		n, err := parseExpr(src)
		if err != nil {
			return
		}
		grid := []int64{0, 60, 120}
		env := &evalEnv{grid: grid, period: 60, series: map[string]*tseries{
			"m1": {v: []float64{1, math.NaN(), 3}}, "m2": {v: []float64{4, 5, math.NaN()}},
		}, order: []string{"m1", "m2"}}
		env.search = func(string, string, int64) ([]*tseries, error) { return []*tseries{env.series["m1"]}, nil }
		env.eval(n) // must not panic
	})
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{`ALARM("a") AND OK(b)`, `NOT (ALARM(a) OR INSUFFICIENT_DATA('c'))`, "TRUE", "ALARM(", "ALARM(arn:aws:cloudwatch:us-east-1:1:alarm:x)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		n, err := parseRule(src)
		if err != nil {
			return
		}
		evalRule(n, func(string) string { return stateAlarm })
		ruleRefs(n)
	})
}

func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{`{AWS/EC2,InstanceId} MetricName="CPUUtilization"`, `Errors AND "my app"`, `{a,`, `x=`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		parseSearch(src)
	})
}

func FuzzParseStat(f *testing.F) {
	for _, s := range []string{"p99", "p99.99", "TM(10%:90%)", "tm90", "IQM", "Average", "p100.1", "TM(:)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, ok := parseStat(s)
		if !ok {
			return
		}
		a := tsdb.Agg{Count: 2, Sum: 3, Min: 1, Max: 2, Exact: true, Sk: tsdb.Sketch{{V: 1, W: 1}, {V: 2, W: 1}}}
		if v, ok := sp.value(&a); ok && (v < 1 || v > 3) && sp.kind != statSampleCount && sp.kind != statSum {
			t.Fatalf("%s = %v outside the data", s, v)
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(time.Unix(1700000000, 0), []putEntry{{account: "1", region: "r", namespace: "n", name: "m",
		dims: []tsdb.Dim{{Name: "a", Value: "b"}}, samples: []tsdb.Sample{{T: time.Unix(1700000000, 0), Value: 1}, {Set: true, Count: 2, Sum: 3, Min: 1, Max: 2}}}}))
	f.Add([]byte{1, 0, 5})
	f.Fuzz(func(t *testing.T, b []byte) {
		now, entries, err := decodeRecord(b)
		if err != nil {
			return
		}
		again, entries2, err := decodeRecord(encodeRecord(now, entries))
		if err != nil || !again.Equal(now) || len(entries2) != len(entries) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
