package cloudwatch

import (
	"math"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/service/cloudwatch/chart"
)

func FuzzParseWidget(f *testing.F) {
	for _, s := range []string{
		`{"metrics": [["AWS/EC2", "CPUUtilization", "InstanceId", "i-1", {"stat": "p90", "label": "cpu", "color": "#1f77b4", "yAxis": "right", "id": "m1", "visible": false}], [".", "NetworkIn", ".", "."], ["...", "i-2"], [{"expression": "m1*2", "label": "x2", "id": "e1"}]]}`,
		`{"metrics": [["A", "B"]], "width": 100, "height": 80, "start": "-PT3H", "end": "2024-01-01T00:00:00Z", "period": 60, "stat": "Sum", "view": "bar", "stacked": true, "title": "t", "legend": {"position": "right"}, "timezone": "-0800"}`,
		`{"metrics": [["A", "B"]], "yAxis": {"left": {"min": -5, "max": 1e9, "label": "l"}, "right": {"min": 0}}, "annotations": {"horizontal": [{"value": 3, "fill": "below", "label": "h"}, [{"value": 1, "label": "lo"}, {"value": 2}]], "vertical": [{"value": "-PT1H", "fill": "after"}, [{"value": "-PT2H"}, {"value": "-PT90M"}]]}}`,
		`{"metrics": [["A", "B"]], "view": "singleValue", "setPeriodToTimeRange": true, "start": "-P1W", "end": "-P1D"}`,
		`{"metrics": [[".", "..."]]}`, `{"metrics": [[]]}`, `{"metrics": [`, `null`, `[]`, `{"metrics": [["A", "B", 1]]}`,
	} {
		f.Add(s)
	}
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, src string) {
		w, issues := parseWidget(src, now)
		if len(issues) > 0 {
			if w != nil {
				t.Fatal("a spec together with issues")
			}
			widgetInvalid(issues)
			return
		}
		if w.width < 1 || w.width > maxWidgetSide || w.height < 1 || w.height > maxWidgetSide || !w.start.Before(w.end) {
			t.Fatalf("out of bounds: %dx%d %v..%v", w.width, w.height, w.start, w.end)
		}
		// Render with synthetic data at a small size.
		w.width, w.height = min(w.width, 160), min(w.height, 120)
		byID := map[string]*widgetMetric{}
		var results []queryResult
		for i := range w.metrics {
			m := &w.metrics[i]
			if m.id == "" {
				m.id = "auto" + string(rune('a'+i%26))
			}
			byID[m.id] = m
			res := queryResult{q: &mquery{id: m.id}, label: m.label}
			for k := int64(0); k < 5; k++ {
				res.ts = append(res.ts, w.start.Unix()+k*w.end.Sub(w.start).Milliseconds()/5000)
				res.values = append(res.values, []float64{1, -3, math.MaxFloat64, 0, 1e-300}[(i+int(k))%5])
			}
			results = append(results, res)
		}
		img := chart.Render(w.layout(results, byID))
		if b := img.Bounds(); b.Dx() != w.width || b.Dy() != w.height {
			t.Fatalf("image %v, want %dx%d", b, w.width, w.height)
		}
	})
}
