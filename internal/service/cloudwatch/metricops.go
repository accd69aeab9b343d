package cloudwatch

import (
	"encoding/base64"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/cloudwatch/tsdb"
)

const (
	maxDatumsPerPut  = 1000
	maxValuesPerDat  = 150
	maxDimensions    = 30
	listMetricsPage  = 500
	maxGMSDatapoints = 1440
	recentlyActive   = 3 * time.Hour
	// CloudWatch rejects values whose magnitude is outside this range (other
	// than zero).
	minMagnitude = 8.515920e-109
	maxMagnitude = 1.174271e+108
)

func list(in map[string]any, name string) []any {
	l, _ := in[name].([]any)
	return l
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func num(in map[string]any, name string) (float64, bool) {
	switch v := in[name].(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	}
	return 0, false
}

func validValue(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	a := math.Abs(v)
	return a == 0 || (a >= minMagnitude && a <= maxMagnitude)
}

// parseDims reads a Dimensions list (Name/Value members), sorted by name.
func parseDims(l []any, field string, allowMissingValue bool) ([]tsdb.Dim, error) {
	if len(l) > maxDimensions {
		return nil, invalidValue("The collection %s must not have a size greater than %d.", field, maxDimensions)
	}
	dims := make([]tsdb.Dim, 0, len(l))
	seen := map[string]bool{}
	for i, v := range l {
		d := obj(v)
		name, value := service.Str(d, "Name"), service.Str(d, "Value")
		if name == "" {
			return nil, missingParam("The parameter %s.member.%d.Name is required.", field, i+1)
		}
		if _, ok := d["Value"]; !ok && !allowMissingValue {
			return nil, missingParam("The parameter %s.member.%d.Value is required.", field, i+1)
		}
		if seen[name] {
			return nil, invalidCombination("No Metric may specify the same dimension twice. Dimension: %s", name)
		}
		seen[name] = true
		dims = append(dims, tsdb.Dim{Name: name, Value: value})
	}
	tsdb.SortDims(dims)
	return dims, nil
}

func dimsOut(dims []tsdb.Dim) []any {
	out := make([]any, len(dims))
	for i, d := range dims {
		out[i] = map[string]any{"Name": d.Name, "Value": d.Value}
	}
	return out
}

func (s *Service) putMetricData(r *service.Request) (map[string]any, error) {
	ns := service.Str(r.Input, "Namespace")
	if ns == "" {
		return nil, missingParam("The parameter Namespace is required.")
	}
	if strings.HasPrefix(ns, "AWS/") || strings.HasPrefix(ns, ":") {
		return nil, invalidValue("The value %s for parameter Namespace is invalid.", ns)
	}
	data := list(r.Input, "MetricData")
	if len(data) == 0 && len(list(r.Input, "EntityMetricData")) == 0 {
		return nil, missingParam("The parameter MetricData is required.")
	}
	for _, e := range list(r.Input, "EntityMetricData") {
		data = append(data, list(obj(e), "MetricData")...)
	}
	if len(data) > maxDatumsPerPut {
		return nil, invalidValue("The collection MetricData must not have a size greater than %d.", maxDatumsPerPut)
	}
	now := s.clk.Now()
	entries := make([]putEntry, 0, len(data))
	for i, v := range data {
		e, err := parseDatum(obj(v), i+1, now)
		if err != nil {
			return nil, err
		}
		e.account, e.region, e.namespace = r.Account, r.Region, ns
		entries = append(entries, e)
	}
	if err := s.commitPut(now, entries); err != nil {
		return nil, awserr.Internal(err)
	}
	return map[string]any{}, nil
}

func parseDatum(d map[string]any, n int, now time.Time) (putEntry, error) {
	field := "MetricData.member." + strconv.Itoa(n)
	var e putEntry
	e.name = service.Str(d, "MetricName")
	if e.name == "" {
		return e, missingParam("The parameter %s.MetricName is required.", field)
	}
	dims, err := parseDims(list(d, "Dimensions"), field+".Dimensions", false)
	if err != nil {
		return e, err
	}
	e.dims = dims
	ts := now
	if t, ok := d["Timestamp"].(time.Time); ok {
		ts = t
		if ts.Before(now.Add(-14 * 24 * time.Hour)) {
			return e, invalidValue("The parameter %s.Timestamp must specify a time no more than two weeks in the past.", field)
		}
		if ts.After(now.Add(2 * time.Hour)) {
			return e, invalidValue("The parameter %s.Timestamp must specify a time no more than two hours in the future.", field)
		}
	}
	res := int64(60)
	if v, ok := service.Int(d, "StorageResolution"); ok {
		if v != 1 && v != 60 {
			return e, invalidValue("The parameter %s.StorageResolution must be 1 or 60.", field)
		}
		res = v
	}
	unitName := service.Str(d, "Unit")
	if unitName != "" && tsdb.UnitIndex(unitName) == 0 && unitName != "None" {
		return e, invalidValue("The parameter %s.Unit must be a value in the set [ %s ].", field, strings.Join(tsdb.Units, ", "))
	}
	unit := tsdb.UnitIndex(unitName)
	base := tsdb.Sample{T: ts, Unit: unit, HighRes: res == 1}
	_, hasValue := d["Value"]
	sv, hasSet := d["StatisticValues"].(map[string]any)
	values, hasValues := d["Values"].([]any)
	counts, hasCounts := d["Counts"].([]any)
	switch {
	case hasValue && hasSet:
		return e, invalidCombination("The parameters %s.Value and %s.StatisticValues are mutually exclusive and you have specified both.", field, field)
	case hasValue && hasValues:
		return e, invalidCombination("The parameters %s.Value and %s.Values are mutually exclusive and you have specified both.", field, field)
	case hasSet && hasValues:
		return e, invalidCombination("The parameters %s.StatisticValues and %s.Values are mutually exclusive and you have specified both.", field, field)
	case hasCounts && !hasValues:
		return e, invalidCombination("The parameter %s.Counts must be specified with %s.Values.", field, field)
	}
	switch {
	case hasSet:
		c, _ := num(sv, "SampleCount")
		sum, _ := num(sv, "Sum")
		mn, _ := num(sv, "Minimum")
		mx, _ := num(sv, "Maximum")
		for _, name := range []string{"SampleCount", "Sum", "Minimum", "Maximum"} {
			if _, ok := sv[name]; !ok {
				return e, missingParam("The parameter %s.StatisticValues.%s is required.", field, name)
			}
		}
		for _, x := range []float64{c, sum, mn, mx} {
			if !validValue(x) {
				return e, invalidValue("The value %v for parameter %s.StatisticValues is invalid.", x, field)
			}
		}
		if c <= 0 {
			return e, invalidValue("The parameter %s.StatisticValues.SampleCount must be greater than 0.", field)
		}
		if mn > mx {
			return e, invalidValue("The parameter %s.StatisticValues.Maximum must be greater than %s.StatisticValues.Minimum.", field, field)
		}
		sm := base
		sm.Set, sm.Count, sm.Sum, sm.Min, sm.Max = true, c, sum, mn, mx
		e.samples = []tsdb.Sample{sm}
	case hasValues:
		if len(values) > maxValuesPerDat {
			return e, invalidValue("The collection %s.Values must not have a size greater than %d.", field, maxValuesPerDat)
		}
		if hasCounts && len(counts) != len(values) {
			return e, invalidValue("The parameters %s.Values and %s.Counts must be of the same size.", field, field)
		}
		e.samples = make([]tsdb.Sample, 0, len(values))
		for j, v := range values {
			f, _ := v.(float64)
			if !validValue(f) {
				return e, invalidValue("The value %v for parameter %s.Values.member.%d is invalid.", f, field, j+1)
			}
			w := 1.0
			if hasCounts {
				w, _ = counts[j].(float64)
				if !(w > 0) || math.IsInf(w, 0) {
					if w == 0 {
						continue
					}
					return e, invalidValue("The value %v for parameter %s.Counts.member.%d is invalid.", w, field, j+1)
				}
			}
			sm := base
			sm.Value, sm.Weight = f, w
			e.samples = append(e.samples, sm)
		}
	case hasValue:
		f, _ := num(d, "Value")
		if !validValue(f) {
			return e, invalidValue("The value %v for parameter %s.Value is invalid.", f, field)
		}
		sm := base
		sm.Value = f
		e.samples = []tsdb.Sample{sm}
	default:
		return e, invalidCombination("At least one of the parameters %s.Value, %s.StatisticValues or %s.Values must be specified.", field, field, field)
	}
	return e, nil
}

func (s *Service) listMetrics(r *service.Request) (map[string]any, error) {
	ns := service.Str(r.Input, "Namespace")
	name := service.Str(r.Input, "MetricName")
	filters, err := parseDims(list(r.Input, "Dimensions"), "Dimensions", true)
	if err != nil {
		return nil, err
	}
	filterHasValue := map[string]bool{}
	for i, v := range list(r.Input, "Dimensions") {
		if _, ok := obj(v)["Value"]; ok {
			filterHasValue[service.Str(obj(list(r.Input, "Dimensions")[i]), "Name")] = true
		}
	}
	ra := service.Str(r.Input, "RecentlyActive")
	if ra != "" && ra != "PT3H" {
		return nil, invalidValue("The value %s for parameter RecentlyActive is invalid.", ra)
	}
	after := ""
	if tok := service.Str(r.Input, "NextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) == 0 {
			return nil, badToken()
		}
		after = string(b)
	}
	now := s.clk.Now()
	var matched []*tsdb.Series
	s.db.Each(r.Account, r.Region, func(ser *tsdb.Series) bool {
		if ser.Key <= after && after != "" {
			return true
		}
		if ns != "" && ser.Namespace != ns || name != "" && ser.Name != name {
			return true
		}
		for _, f := range filters {
			found := false
			for _, d := range ser.Dims {
				if d.Name == f.Name && (!filterHasValue[f.Name] || d.Value == f.Value) {
					found = true
					break
				}
			}
			if !found {
				return true
			}
		}
		last := ser.LastPut()
		if ra != "" && now.Sub(last) > recentlyActive {
			return true
		}
		if now.Sub(last) > 14*24*time.Hour {
			return true
		}
		matched = append(matched, ser)
		return true
	})
	sort.Slice(matched, func(i, j int) bool { return matched[i].Key < matched[j].Key })
	out := map[string]any{}
	if len(matched) > listMetricsPage {
		matched = matched[:listMetricsPage]
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte(matched[len(matched)-1].Key))
	}
	ms := make([]any, len(matched))
	for i, ser := range matched {
		ms[i] = map[string]any{"Namespace": ser.Namespace, "MetricName": ser.Name, "Dimensions": dimsOut(ser.Dims)}
	}
	out["Metrics"] = ms
	return out, nil
}

// validPeriod checks a period as CloudWatch does for a query starting at
// start: 1, 5, 10, 30 or a multiple of 60 seconds, coarser for older data.
func validPeriod(p int64, start, now time.Time, field string) error {
	if p <= 0 {
		return invalidValue("The parameter %s must be greater than 0.", field)
	}
	if p < 60 {
		if p != 1 && p != 5 && p != 10 && p != 30 {
			return invalidValue("The parameter %s must be 1, 5, 10, 30, or a multiple of 60.", field)
		}
		return nil
	}
	if p%60 != 0 {
		return invalidValue("The parameter %s must be 1, 5, 10, 30, or a multiple of 60.", field)
	}
	age := now.Sub(start)
	if age > 63*24*time.Hour && p%3600 != 0 {
		return invalidValue("The parameter %s must be a multiple of 3600 for data older than 63 days.", field)
	}
	if age > 15*24*time.Hour && p%300 != 0 {
		return invalidValue("The parameter %s must be a multiple of 300 for data older than 15 days.", field)
	}
	return nil
}

func (s *Service) getMetricStatistics(r *service.Request) (map[string]any, error) {
	in := r.Input
	ns, name := service.Str(in, "Namespace"), service.Str(in, "MetricName")
	for _, f := range []string{"Namespace", "MetricName", "StartTime", "EndTime", "Period"} {
		if _, ok := in[f]; !ok {
			return nil, missingParam("The parameter %s is required.", f)
		}
	}
	start, _ := in["StartTime"].(time.Time)
	end, _ := in["EndTime"].(time.Time)
	period, _ := service.Int(in, "Period")
	if !start.Before(end) {
		return nil, invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	now := s.clk.Now()
	if err := validPeriod(period, start, now, "Period"); err != nil {
		return nil, err
	}
	stats := service.Strings(in, "Statistics")
	exts := service.Strings(in, "ExtendedStatistics")
	if len(stats) == 0 && len(exts) == 0 {
		return nil, missingParam("Must specify either Statistics or ExtendedStatistics.")
	}
	if len(stats) > 5 {
		return nil, invalidValue("The collection Statistics must not have a size greater than 5.")
	}
	if len(exts) > 10 {
		return nil, invalidValue("The collection ExtendedStatistics must not have a size greater than 10.")
	}
	extSpecs := make([]statSpec, len(exts))
	for i, e := range exts {
		sp, ok := parseStat(e)
		if !ok || sp.kind != statPercentile {
			return nil, invalidValue("The value %s for parameter ExtendedStatistics is not supported.", e)
		}
		extSpecs[i] = sp
	}
	for _, st := range stats {
		if sp, ok := parseStat(st); !ok || sp.kind > statMaximum {
			return nil, invalidValue("The value %s for parameter Statistics is invalid.", st)
		}
	}
	dims, err := parseDims(list(in, "Dimensions"), "Dimensions", false)
	if err != nil {
		return nil, err
	}
	startU, endU := start.Unix(), end.Unix()
	if n := (endU - startU + period - 1) / period; n > maxGMSDatapoints {
		return nil, invalidCombination("You have requested up to %d datapoints, which exceeds the limit of %d. You may reduce the datapoints requested by increasing Period, or decreasing the time range.", n, maxGMSDatapoints)
	}
	var unit *uint8
	if u := service.Str(in, "Unit"); u != "" {
		x := tsdb.UnitIndex(u)
		unit = &x
	}
	out := map[string]any{"Label": name}
	points := []any{}
	ser := s.db.Get(tsdb.SeriesKey(r.Account, r.Region, ns, name, dims))
	if ser != nil {
		for _, a := range ser.Query(startU, endU, period, unit, len(exts) > 0) {
			dp := map[string]any{"Timestamp": time.Unix(a.T, 0).UTC(), "Unit": tsdb.Units[a.Unit]}
			for _, st := range stats {
				sp, _ := parseStat(st)
				if v, ok := sp.value(&a); ok {
					dp[st] = v
				}
			}
			if len(exts) > 0 {
				m := map[string]any{}
				for i, sp := range extSpecs {
					if v, ok := sp.value(&a); ok {
						m[exts[i]] = v
					}
				}
				dp["ExtendedStatistics"] = m
			}
			points = append(points, dp)
		}
	}
	out["Datapoints"] = points
	return out, nil
}

// Statistic kinds.
const (
	statSampleCount = iota
	statAverage
	statSum
	statMinimum
	statMaximum
	statPercentile
	statTrimmedMean
)

type statSpec struct {
	kind   int
	q      float64 // percentile / 100
	lo, hi float64 // trimmed-mean bounds (fractions)
}

// parseStat parses a statistic name: the five basic statistics, pNN(.NN),
// TMNN, TM(a%:b%) and IQM.
func parseStat(s string) (statSpec, bool) {
	switch s {
	case "SampleCount":
		return statSpec{kind: statSampleCount}, true
	case "Average":
		return statSpec{kind: statAverage}, true
	case "Sum":
		return statSpec{kind: statSum}, true
	case "Minimum":
		return statSpec{kind: statMinimum}, true
	case "Maximum":
		return statSpec{kind: statMaximum}, true
	case "IQM", "iqm":
		return statSpec{kind: statTrimmedMean, lo: 0.25, hi: 0.75}, true
	}
	if len(s) >= 2 && (s[0] == 'p' || s[0] == 'P') {
		f, ok := pct(s[1:])
		if !ok {
			return statSpec{}, false
		}
		return statSpec{kind: statPercentile, q: f / 100}, true
	}
	if len(s) >= 3 && strings.EqualFold(s[:2], "tm") {
		rest := s[2:]
		if strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") {
			a, b, ok := strings.Cut(rest[1:len(rest)-1], ":")
			if !ok {
				return statSpec{}, false
			}
			lo, ok1 := pct(strings.TrimSuffix(a, "%"))
			hi, ok2 := pct(strings.TrimSuffix(b, "%"))
			if (a != "" && !ok1) || (b != "" && !ok2) {
				return statSpec{}, false
			}
			if b == "" {
				hi = 100
			}
			if lo >= hi {
				return statSpec{}, false
			}
			return statSpec{kind: statTrimmedMean, lo: lo / 100, hi: hi / 100}, true
		}
		hi, ok := pct(rest)
		if !ok || hi == 0 {
			return statSpec{}, false
		}
		return statSpec{kind: statTrimmedMean, lo: 0, hi: hi / 100}, true
	}
	return statSpec{}, false
}

// pct parses a percentage in [0, 100] with at most two decimals.
func pct(s string) (float64, bool) {
	if s == "" || len(s) > 6 {
		return 0, false
	}
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > 2 {
		return 0, false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 100 {
		return 0, false
	}
	return f, true
}

func (sp statSpec) value(a *tsdb.Agg) (float64, bool) {
	if a.Count == 0 {
		return 0, false
	}
	switch sp.kind {
	case statSampleCount:
		return a.Count, true
	case statAverage:
		return a.Sum / a.Count, true
	case statSum:
		return a.Sum, true
	case statMinimum:
		return a.Min, true
	case statMaximum:
		return a.Max, true
	case statPercentile:
		if !a.Exact {
			return 0, false
		}
		if sp.q == 0 {
			return a.Min, true
		}
		if sp.q == 1 {
			return a.Max, true
		}
		return a.Sk.Quantile(sp.q)
	case statTrimmedMean:
		if !a.Exact {
			return 0, false
		}
		return a.Sk.TrimmedMean(sp.lo, sp.hi)
	}
	return 0, false
}
