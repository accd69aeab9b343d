package cloudwatch

// GetMetricWidgetImage: the MetricWidget JSON is validated the way
// CloudWatch validates dashboard widgets (JSON-schema style messages with a
// data path), resolved into MetricDataQueries evaluated by the GetMetricData
// path (metric math and SEARCH included), and drawn by package chart.
//
// Fidelity:
//   - Supported: metrics in the compact array form with "." and "..." ditto
//     marks and rendering properties (id, label, color, stat, period,
//     visible, yAxis), expressions, width/height (default 600×400, 1–2000),
//     start/end (ISO 8601 or relative durations; default -PT3H..now),
//     period (default 300), stat (default Average), view timeSeries, bar and
//     singleValue, stacked, yAxis left/right min/max/label, title, legend
//     position, timezone (+HHMM), horizontal and vertical annotations (lines,
//     fills and bands).
//   - view "pie" draws as "bar" and "gauge" as "singleValue"; liveData,
//     sparkline, trend, table, labels, showUnits, setPeriodToTimeRange for
//     timeSeries, accountId, per-metric region and alarm annotations are
//     accepted and ignored; the widget-level region selects the data.
//   - Unknown properties are rejected (DashboardInvalidInputError, query
//     code InvalidParameterInput) with messages in CloudWatch's JSON-schema
//     style; the message wording of semantic errors is our own.
//   - Periods are not adjusted to the time range as the console does: a
//     request whose period is invalid for the age of its data is rejected.
//   - OutputFormat "image/png" returns the PNG in MetricWidgetImage like
//     "png" (AWS returns a raw image/png body); other formats are rejected
//     with InvalidParameterValue.

import (
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/cloudwatch/chart"
)

const (
	errDashboardInvalidInput = "DashboardInvalidInputError"
	maxWidgetBytes           = 100 * 1024
	maxWidgetMetrics         = 100
	maxWidgetAnnotations     = 100
	defaultWidgetWidth       = 600
	defaultWidgetHeight      = 400
	maxWidgetSide            = 2000
	defaultWidgetPeriod      = 300
	// maxWidgetRange bounds start..end to CloudWatch's 455-day retention.
	maxWidgetRange = 455 * 24 * time.Hour
)

var (
	hexColorRe = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	tzRe       = regexp.MustCompile(`^[+-][0-9]{4}$`)
	durationRe = regexp.MustCompile(`^(-)?P(?:([0-9]{1,6})Y)?(?:([0-9]{1,6})M)?(?:([0-9]{1,6})W)?(?:([0-9]{1,6})D)?(?:T(?:([0-9]{1,7})H)?(?:([0-9]{1,9})M)?(?:([0-9]{1,9})S)?)?$`)
)

// widgetIssue is one validation message: a JSON pointer and what is wrong.
type widgetIssue struct {
	path, msg string
}

// widgetMetric is one entry of the metrics array.
type widgetMetric struct {
	path     string
	ns, name string
	dims     [][2]string
	expr     string
	id       string
	label    string
	color    string
	stat     string
	period   int64
	visible  bool
	right    bool
}

// widgetAnnotation is a horizontal (value) or vertical (time) annotation.
type widgetAnnotation struct {
	value, value2 float64
	t, t2         time.Time
	band          bool
	label, color  string
	fill          chart.Fill
	right         bool
}

// widgetSpec is a validated MetricWidget.
type widgetSpec struct {
	width, height int
	title         string
	view          chart.View
	stacked       bool
	start, end    time.Time
	period        int64
	stat          string
	region        string
	zone          *time.Location
	left, right   chart.Axis
	legend        chart.LegendPosition
	wholeRange    bool
	metrics       []widgetMetric
	hlines        []widgetAnnotation
	vlines        []widgetAnnotation
}

type widgetParser struct {
	issues []widgetIssue
	now    time.Time
}

func (p *widgetParser) add(path, format string, args ...any) {
	if len(p.issues) < 100 {
		p.issues = append(p.issues, widgetIssue{path, fmt.Sprintf(format, args...)})
	}
}

// object checks that v is an object with only the allowed keys.
func (p *widgetParser) object(v any, path string, allowed ...string) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		p.add(path, "Should be object")
		return nil, false
	}
	for k := range m {
		found := false
		for _, a := range allowed {
			if k == a {
				found = true
				break
			}
		}
		if !found {
			p.add(path, "Should NOT have additional properties")
			return m, false
		}
	}
	return m, true
}

func (p *widgetParser) str(m map[string]any, key, path string) (string, bool) {
	v, ok := m[key]
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		p.add(path+"/"+key, "Should be string")
		return "", false
	}
	return s, true
}

func (p *widgetParser) boolean(m map[string]any, key, path string) (bool, bool) {
	v, ok := m[key]
	if !ok {
		return false, false
	}
	b, ok := v.(bool)
	if !ok {
		p.add(path+"/"+key, "Should be boolean")
		return false, false
	}
	return b, true
}

func (p *widgetParser) number(m map[string]any, key, path string) (float64, bool) {
	v, ok := m[key]
	if !ok {
		return 0, false
	}
	f, ok := v.(float64)
	if !ok {
		p.add(path+"/"+key, "Should be number")
		return 0, false
	}
	return f, true
}

func (p *widgetParser) integer(m map[string]any, key, path string, lo, hi int64) (int64, bool) {
	f, ok := p.number(m, key, path)
	if !ok {
		return 0, false
	}
	switch {
	case f != math.Trunc(f):
		p.add(path+"/"+key, "Should be integer")
	case f < float64(lo):
		p.add(path+"/"+key, "Should be >= %d", lo)
	case f > float64(hi):
		p.add(path+"/"+key, "Should be <= %d", hi)
	default:
		return int64(f), true
	}
	return 0, false
}

func (p *widgetParser) enum(m map[string]any, key, path string, allowed ...string) (string, bool) {
	s, ok := p.str(m, key, path)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if s == a {
			return s, true
		}
	}
	p.add(path+"/"+key, "Should be equal to one of the allowed values")
	return "", false
}

func (p *widgetParser) color(m map[string]any, key, path string) string {
	s, ok := p.str(m, key, path)
	if !ok {
		return ""
	}
	if !hexColorRe.MatchString(s) {
		p.add(path+"/"+key, `Should match pattern "^#[0-9a-fA-F]{6}$"`)
		return ""
	}
	return s
}

// parseWidgetTime parses an ISO 8601 timestamp or a relative ISO 8601
// duration (-PT3H, -P1D) counted back from now.
func parseWidgetTime(s string, now time.Time) (time.Time, bool) {
	if m := durationRe.FindStringSubmatch(s); m != nil && len(s) > 1 && s[len(s)-1] != 'T' && s != "P" && s != "-P" {
		units := []time.Duration{365 * 24 * time.Hour, 30 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}
		var d time.Duration
		for i, u := range units {
			if m[i+2] == "" {
				continue
			}
			n, err := strconv.ParseInt(m[i+2], 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			d += time.Duration(n) * u
			if d > 100*maxWidgetRange {
				return time.Time{}, false
			}
		}
		return now.Add(-d), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseWidget validates the MetricWidget JSON.
func parseWidget(src string, now time.Time) (*widgetSpec, []widgetIssue) {
	p := &widgetParser{now: now}
	if len(src) > maxWidgetBytes {
		p.add("", "The field MetricWidget must be at most %d bytes", maxWidgetBytes)
		return nil, p.issues
	}
	var root any
	dec := json.NewDecoder(strings.NewReader(src))
	if err := dec.Decode(&root); err != nil || dec.More() {
		p.add("", "The field MetricWidget must be a valid JSON object")
		return nil, p.issues
	}
	top, _ := p.object(root, "", "metrics", "annotations", "end", "height", "width", "legend", "liveData", "period",
		"region", "stacked", "start", "stat", "timezone", "title", "view", "yAxis", "accountId",
		"setPeriodToTimeRange", "singleValueFullPrecision", "sparkline", "trend", "table", "labels")
	if top == nil {
		return nil, p.issues
	}
	w := &widgetSpec{width: defaultWidgetWidth, height: defaultWidgetHeight, period: defaultWidgetPeriod, stat: "Average", zone: time.UTC}
	if v, ok := p.integer(top, "width", "", 1, maxWidgetSide); ok {
		w.width = int(v)
	}
	if v, ok := p.integer(top, "height", "", 1, maxWidgetSide); ok {
		w.height = int(v)
	}
	w.title, _ = p.str(top, "title", "")
	if v, ok := p.enum(top, "view", "", "timeSeries", "singleValue", "bar", "pie", "gauge"); ok {
		switch v {
		case "singleValue", "gauge":
			w.view = chart.SingleValue
		case "bar", "pie":
			w.view = chart.Bar
		}
	}
	w.stacked, _ = p.boolean(top, "stacked", "")
	w.wholeRange, _ = p.boolean(top, "setPeriodToTimeRange", "")
	for _, k := range []string{"liveData", "singleValueFullPrecision", "sparkline", "trend"} {
		p.boolean(top, k, "")
	}
	w.region, _ = p.str(top, "region", "")
	p.str(top, "accountId", "")
	if v, ok := top["table"]; ok {
		if _, isObj := v.(map[string]any); !isObj {
			p.add("/table", "Should be object")
		}
	}
	if v, ok := top["labels"]; ok {
		if m, ok := p.object(v, "/labels", "visible"); ok {
			p.boolean(m, "visible", "/labels")
		}
	}
	if v, ok := p.integer(top, "period", "", 1, math.MaxInt32); ok {
		if validPeriod(v, now, now, "period") != nil {
			p.add("/period", "Should be 1, 5, 10, 30, or a multiple of 60")
		} else {
			w.period = v
		}
	}
	if v, ok := p.str(top, "stat", ""); ok {
		if _, valid := parseStat(v); !valid {
			p.add("/stat", "Should be a valid statistic")
		} else {
			w.stat = v
		}
	}
	if v, ok := p.str(top, "timezone", ""); ok {
		if !tzRe.MatchString(v) || v[3] > '5' || (v[1]-'0')*10+(v[2]-'0') > 14 {
			p.add("/timezone", `Should match pattern "^[+-][0-9]{4}$"`)
		} else {
			h, m := int((v[1]-'0')*10+(v[2]-'0')), int((v[3]-'0')*10+(v[4]-'0'))
			off := (h*60 + m) * 60
			if v[0] == '-' {
				off = -off
			}
			w.zone = time.FixedZone(v, off)
		}
	}
	w.start, w.end = now.Add(-3*time.Hour), now
	startOK, endOK := true, true
	if v, ok := p.str(top, "start", ""); ok {
		if w.start, startOK = parseWidgetTime(v, now); !startOK {
			p.add("/start", "Should be an ISO 8601 date-time or a relative duration such as -PT3H")
		}
	}
	if v, ok := p.str(top, "end", ""); ok {
		if w.end, endOK = parseWidgetTime(v, now); !endOK {
			p.add("/end", "Should be an ISO 8601 date-time or a relative duration such as -PT3H")
		}
	}
	if startOK && endOK {
		switch {
		case !w.start.Before(w.end):
			p.add("/start", "The start time must be before the end time")
		case w.end.Sub(w.start) > maxWidgetRange:
			p.add("/start", "The time range must not exceed 455 days")
		}
	}
	if v, ok := top["legend"]; ok {
		if m, ok := p.object(v, "/legend", "position"); ok {
			switch pos, _ := p.enum(m, "position", "/legend", "bottom", "right", "hidden"); pos {
			case "right":
				w.legend = chart.LegendRight
			case "hidden":
				w.legend = chart.LegendHidden
			}
		}
	}
	if v, ok := top["yAxis"]; ok {
		if m, ok := p.object(v, "/yAxis", "left", "right"); ok {
			w.left = p.axis(m, "left")
			w.right = p.axis(m, "right")
		}
	}
	if v, ok := top["annotations"]; ok {
		p.annotations(v, w)
	}
	p.metrics(top, w)
	if len(p.issues) > 0 {
		return nil, p.issues
	}
	return w, nil
}

func (p *widgetParser) axis(m map[string]any, side string) chart.Axis {
	var ax chart.Axis
	v, ok := m[side]
	if !ok {
		return ax
	}
	path := "/yAxis/" + side
	a, ok := p.object(v, path, "min", "max", "label", "showUnits")
	if !ok {
		return ax
	}
	ax.Min, ax.HasMin = p.number(a, "min", path)
	ax.Max, ax.HasMax = p.number(a, "max", path)
	ax.Label, _ = p.str(a, "label", path)
	p.boolean(a, "showUnits", path)
	if ax.HasMin && ax.HasMax && ax.Min >= ax.Max {
		p.add(path, "The min must be less than the max")
	}
	return ax
}

func (p *widgetParser) annotations(v any, w *widgetSpec) {
	m, ok := p.object(v, "/annotations", "horizontal", "vertical", "alarms")
	if !ok {
		return
	}
	if a, ok := m["alarms"]; ok {
		if _, isList := a.([]any); !isList {
			p.add("/annotations/alarms", "Should be array")
		}
	}
	for _, kind := range []string{"horizontal", "vertical"} {
		raw, ok := m[kind]
		if !ok {
			continue
		}
		path := "/annotations/" + kind
		l, ok := raw.([]any)
		if !ok {
			p.add(path, "Should be array")
			continue
		}
		if len(l) > maxWidgetAnnotations {
			p.add(path, "Should NOT have more than %d items", maxWidgetAnnotations)
			continue
		}
		for i, item := range l {
			ip := fmt.Sprintf("%s/%d", path, i)
			var ann widgetAnnotation
			visible := true
			switch x := item.(type) {
			case map[string]any:
				ann, visible = p.annotation(x, ip, kind, true)
			case []any:
				if len(x) != 2 {
					p.add(ip, "Should NOT have more than 2 items")
					continue
				}
				a, v1 := p.annotation(obj(x[0]), ip+"/0", kind, true)
				b, _ := p.annotation(obj(x[1]), ip+"/1", kind, false)
				ann, visible = a, v1
				ann.band, ann.value2, ann.t2 = true, b.value, b.t
				if ann.label == "" {
					ann.label = b.label
				}
			default:
				p.add(ip, "Should be object")
				continue
			}
			if !visible {
				continue
			}
			if kind == "horizontal" {
				w.hlines = append(w.hlines, ann)
			} else {
				w.vlines = append(w.vlines, ann)
			}
		}
	}
}

// annotation parses one annotation object; first is false for the second
// half of a band, which takes only value and label.
func (p *widgetParser) annotation(m map[string]any, path, kind string, first bool) (widgetAnnotation, bool) {
	var a widgetAnnotation
	keys := []string{"value", "label"}
	if first {
		keys = append(keys, "color", "fill", "visible")
		if kind == "horizontal" {
			keys = append(keys, "yAxis")
		}
	}
	if _, ok := p.object(m, path, keys...); !ok {
		return a, false
	}
	if _, ok := m["value"]; !ok {
		p.add(path, "Should have required property 'value'")
	}
	if kind == "horizontal" {
		if v, ok := p.number(m, "value", path); ok {
			a.value = v
		}
	} else if s, ok := p.str(m, "value", path); ok {
		t, ok := parseWidgetTime(s, p.now)
		if !ok {
			p.add(path+"/value", "Should be an ISO 8601 date-time")
		}
		a.t = t
	}
	a.label, _ = p.str(m, "label", path)
	visible := true
	if first {
		a.color = p.color(m, "color", path)
		fills := []string{"above", "below", "none"}
		if kind == "vertical" {
			fills = []string{"before", "after", "none"}
		}
		switch f, _ := p.enum(m, "fill", path, fills...); f {
		case "above":
			a.fill = chart.FillAbove
		case "below":
			a.fill = chart.FillBelow
		case "before":
			a.fill = chart.FillBefore
		case "after":
			a.fill = chart.FillAfter
		}
		if v, ok := p.boolean(m, "visible", path); ok {
			visible = v
		}
		if y, _ := p.enum(m, "yAxis", path, "left", "right"); y == "right" {
			a.right = true
		}
	}
	return a, visible
}

// metrics parses the metrics array: [Namespace, MetricName, DimName,
// DimValue, ..., {rendering}] with "." (same as the previous metric at this
// position) and "..." (the previous metric's remaining items) ditto marks,
// or [{"expression": ..., ...}].
func (p *widgetParser) metrics(top map[string]any, w *widgetSpec) {
	raw, ok := top["metrics"]
	if !ok {
		p.add("", "Should have required property 'metrics'")
		return
	}
	l, ok := raw.([]any)
	if !ok {
		p.add("/metrics", "Should be array")
		return
	}
	if len(l) == 0 {
		p.add("/metrics", "Should NOT have fewer than 1 items")
		return
	}
	if len(l) > maxWidgetMetrics {
		p.add("/metrics", "Should NOT have more than %d items", maxWidgetMetrics)
		return
	}
	var prev []string
	for i, item := range l {
		path := fmt.Sprintf("/metrics/%d", i)
		arr, ok := item.([]any)
		if !ok {
			p.add(path, "Should be array")
			continue
		}
		if len(arr) == 0 {
			p.add(path, "Should NOT have fewer than 1 items")
			continue
		}
		m := widgetMetric{path: path, visible: true}
		var props map[string]any
		if o, isObj := arr[len(arr)-1].(map[string]any); isObj {
			props = o
			arr = arr[:len(arr)-1]
		}
		var cur []string
		bad := false
		for j, x := range arr {
			s, isStr := x.(string)
			if !isStr {
				p.add(fmt.Sprintf("%s/%d", path, j), "Should be string")
				bad = true
				continue
			}
			cur = append(cur, s)
		}
		if bad {
			continue
		}
		if props != nil {
			p.rendering(props, path+fmt.Sprintf("/%d", len(arr)), &m)
		}
		if len(cur) == 0 {
			if m.expr == "" {
				p.add(path, "The metric must name a namespace and a metric name, or be an expression")
			}
			w.metrics = append(w.metrics, m)
			continue
		}
		if m.expr != "" {
			p.add(path, "An expression must not also name a metric")
			continue
		}
		expanded, ok := expandDitto(cur, prev)
		if !ok {
			p.add(path, "A ditto mark (\".\" or \"...\") needs a previous metric with an item at that position")
			continue
		}
		if len(expanded) < 2 || len(expanded)%2 != 0 {
			p.add(path, "The metric must be a namespace, a metric name and dimension name/value pairs")
			continue
		}
		if len(expanded) > 2+2*maxDimensions {
			p.add(path, "Should NOT have more than %d items", 2+2*maxDimensions)
			continue
		}
		prev = expanded
		m.ns, m.name = expanded[0], expanded[1]
		if m.ns == "" || m.name == "" {
			p.add(path, "The namespace and metric name must not be empty")
			continue
		}
		for k := 2; k+1 < len(expanded); k += 2 {
			m.dims = append(m.dims, [2]string{expanded[k], expanded[k+1]})
		}
		w.metrics = append(w.metrics, m)
	}
}

// expandDitto resolves "." and "..." against the previous metric's items.
func expandDitto(cur, prev []string) ([]string, bool) {
	out := make([]string, 0, max(len(cur), len(prev)))
	for j, s := range cur {
		switch s {
		case ".":
			if len(out) >= len(prev) {
				return nil, false
			}
			out = append(out, prev[len(out)])
		case "...":
			rest := len(cur) - j - 1
			end := len(prev) - rest
			if end < len(out) {
				return nil, false
			}
			out = append(out, prev[len(out):end]...)
		default:
			out = append(out, s)
		}
	}
	return out, true
}

func (p *widgetParser) rendering(m map[string]any, path string, wm *widgetMetric) {
	if _, ok := p.object(m, path, "accountId", "color", "expression", "id", "label", "period", "region", "stat", "visible", "yAxis"); !ok {
		return
	}
	wm.expr, _ = p.str(m, "expression", path)
	if id, ok := p.str(m, "id", path); ok {
		if !queryIDRe.MatchString(id) || len(id) > 255 {
			p.add(path+"/id", `Should match pattern "^[a-z][a-zA-Z0-9_]*$"`)
		}
		wm.id = id
	}
	wm.label, _ = p.str(m, "label", path)
	wm.color = p.color(m, "color", path)
	if s, ok := p.str(m, "stat", path); ok {
		if _, valid := parseStat(s); !valid {
			p.add(path+"/stat", "Should be a valid statistic")
		}
		wm.stat = s
	}
	if v, ok := p.integer(m, "period", path, 1, math.MaxInt32); ok {
		if validPeriod(v, p.now, p.now, "period") != nil {
			p.add(path+"/period", "Should be 1, 5, 10, 30, or a multiple of 60")
		}
		wm.period = v
	}
	if v, ok := p.boolean(m, "visible", path); ok {
		wm.visible = v
	}
	if y, _ := p.enum(m, "yAxis", path, "left", "right"); y == "right" {
		wm.right = true
	}
	p.str(m, "region", path)
	p.str(m, "accountId", path)
}

// widgetInvalid is CloudWatch's InvalidParameterInput error listing the
// validation messages.
func widgetInvalid(issues []widgetIssue) *awserr.Error {
	var b strings.Builder
	if len(issues) == 1 {
		b.WriteString("The metric widget is invalid, there is 1 validation error:\n[\n")
	} else {
		fmt.Fprintf(&b, "The metric widget is invalid, there are %d validation errors:\n[\n", len(issues))
	}
	for i, is := range issues {
		path, _ := json.Marshal(is.path)
		msg, _ := json.Marshal(is.msg)
		fmt.Fprintf(&b, "  {\n    \"dataPath\": %s,\n    \"message\": %s\n  }", path, msg)
		if i < len(issues)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]")
	return &awserr.Error{Code: errDashboardInvalidInput, QueryCode: "InvalidParameterInput", Status: http.StatusBadRequest, Message: b.String()}
}

func parseHexColor(s string) (color.RGBA, bool) {
	if !hexColorRe.MatchString(s) {
		return color.RGBA{}, false
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return color.RGBA{}, false
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}, true
}

func (s *Service) getMetricWidgetImage(r *service.Request) (map[string]any, error) {
	src, ok := r.Input["MetricWidget"].(string)
	if !ok {
		return nil, missingParam("The parameter MetricWidget is required.")
	}
	switch f := service.Str(r.Input, "OutputFormat"); f {
	case "", "png", "image/png":
	default:
		return nil, invalidValue("The value %s for parameter OutputFormat is not supported. Supported values: png.", f)
	}
	now := s.clk.Now()
	w, issues := parseWidget(src, now)
	if len(issues) > 0 {
		return nil, widgetInvalid(issues)
	}
	c, err := s.widgetChart(r.Account, r.Region, w, now)
	if err != nil {
		return nil, err
	}
	img, err := chart.Encode(c)
	if err != nil {
		return nil, awserr.Internal(err)
	}
	return map[string]any{"MetricWidgetImage": img}, nil
}

// widgetChart evaluates the widget's metrics and lays out the chart.
func (s *Service) widgetChart(account, region string, w *widgetSpec, now time.Time) (*chart.Chart, error) {
	if w.region != "" {
		region = w.region
	}
	period := w.period
	if w.wholeRange && w.view != chart.TimeSeries {
		span := int64(w.end.Sub(w.start).Seconds())
		period = (span + 59) / 60 * 60
		if span > 3600 {
			period = (span + 3599) / 3600 * 3600
		}
	}
	used := map[string]bool{}
	for _, m := range w.metrics {
		if m.id != "" {
			if used[m.id] {
				return nil, widgetInvalid([]widgetIssue{{m.path, fmt.Sprintf("The id %s is not unique", m.id)}})
			}
			used[m.id] = true
		}
	}
	next := 0
	queries := make([]any, 0, len(w.metrics))
	byID := map[string]*widgetMetric{}
	for i := range w.metrics {
		m := &w.metrics[i]
		if m.id == "" {
			prefix := "m"
			if m.expr != "" {
				prefix = "e"
			}
			for {
				next++
				id := prefix + strconv.Itoa(next)
				if !used[id] {
					m.id, used[id] = id, true
					break
				}
			}
		}
		byID[m.id] = m
		q := map[string]any{"Id": m.id, "ReturnData": m.visible}
		if m.label != "" {
			q["Label"] = m.label
		}
		if m.expr != "" {
			q["Expression"] = m.expr
			if m.period != 0 {
				q["Period"] = m.period
			}
		} else {
			dims := make([]any, len(m.dims))
			for k, d := range m.dims {
				dims[k] = map[string]any{"Name": d[0], "Value": d[1]}
			}
			p := m.period
			if p == 0 || (w.wholeRange && w.view != chart.TimeSeries) {
				p = period
			}
			stat := m.stat
			if stat == "" {
				stat = w.stat
			}
			q["MetricStat"] = map[string]any{
				"Metric": map[string]any{"Namespace": m.ns, "MetricName": m.name, "Dimensions": dims},
				"Period": p, "Stat": stat,
			}
		}
		queries = append(queries, q)
	}
	qs, err := parseQueries(queries, "metrics", now, w.start)
	if err == nil {
		var results []queryResult
		results, err = s.runQueries(account, region, qs, w.start, w.end, false)
		if err == nil {
			return w.layout(results, byID), nil
		}
	}
	if ae, ok := err.(*awserr.Error); ok && ae.Status < 500 {
		return nil, widgetInvalid([]widgetIssue{{"/metrics", ae.Message}})
	}
	return nil, err
}

func (w *widgetSpec) layout(results []queryResult, byID map[string]*widgetMetric) *chart.Chart {
	c := &chart.Chart{
		Width: w.width, Height: w.height, Title: w.title, View: w.view, Stacked: w.stacked,
		Start: w.start.Unix(), End: w.end.Unix(), Zone: w.zone, Left: w.left, Right: w.right, Legend: w.legend,
	}
	next := 0
	for _, res := range results {
		m := byID[res.q.id]
		col, ok := parseHexColor(m.color)
		if !ok {
			col = chart.Palette[next%len(chart.Palette)]
		}
		next++
		c.Series = append(c.Series, chart.Series{Label: res.label, Color: col, Right: m.right, T: res.ts, V: res.values})
	}
	for _, a := range w.hlines {
		col, ok := parseHexColor(a.color)
		if !ok {
			col = chart.Palette[next%len(chart.Palette)]
			next++
		}
		c.HLines = append(c.HLines, chart.HLine{Value: a.value, Value2: a.value2, Band: a.band, Label: a.label, Color: col, Fill: a.fill, Right: a.right})
	}
	for _, a := range w.vlines {
		col, ok := parseHexColor(a.color)
		if !ok {
			col = chart.Palette[next%len(chart.Palette)]
			next++
		}
		c.VLines = append(c.VLines, chart.VLine{T: a.t.Unix(), T2: a.t2.Unix(), Band: a.band, Label: a.label, Color: col, Fill: a.fill})
	}
	return c
}
