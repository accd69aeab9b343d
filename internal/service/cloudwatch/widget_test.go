package cloudwatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/overcast-dev/overcast/internal/awstest"
)

// putSeries puts value f(i) at base+i minutes for i in [0, n).
func putSeries(t *testing.T, c *cw.Client, ns, name string, base time.Time, n int, f func(i int) float64) {
	t.Helper()
	var data []types.MetricDatum
	for i := 0; i < n; i++ {
		data = append(data, types.MetricDatum{MetricName: aws.String(name), Timestamp: aws.Time(base.Add(time.Duration(i) * time.Minute)),
			Value: aws.Float64(f(i)), Dimensions: []types.Dimension{{Name: aws.String("Host"), Value: aws.String("web-1")}}})
	}
	if _, err := c.PutMetricData(context.Background(), &cw.PutMetricDataInput{Namespace: aws.String(ns), MetricData: data}); err != nil {
		t.Fatal(err)
	}
}

func widgetImage(t *testing.T, c *cw.Client, widget string) image.Image {
	t.Helper()
	out, err := c.GetMetricWidgetImage(context.Background(), &cw.GetMetricWidgetImageInput{MetricWidget: aws.String(widget)})
	if err != nil {
		t.Fatalf("GetMetricWidgetImage: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(out.MetricWidgetImage))
	if err != nil {
		t.Fatalf("decode PNG: %v", err)
	}
	if dir := os.Getenv("CW_WIDGET_OUT"); dir != "" {
		os.WriteFile(filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".png"), out.MetricWidgetImage, 0o644)
	}
	return img
}

func sameRGB(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	return uint8(r>>8) == want.R && uint8(g>>8) == want.G && uint8(b>>8) == want.B
}

// columnsOf returns, for each x in [x0, x1), the smallest y in [y0, y1)
// whose pixel is col (-1 when none).
func columnsOf(img image.Image, col color.RGBA, x0, x1, y0, y1 int) []int {
	out := make([]int, x1-x0)
	for x := x0; x < x1; x++ {
		out[x-x0] = -1
		for y := y0; y < y1; y++ {
			if sameRGB(img.At(x, y), col) {
				out[x-x0] = y
				break
			}
		}
	}
	return out
}

func countColor(img image.Image, col color.RGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if sameRGB(img.At(x, y), col) {
				n++
			}
		}
	}
	return n
}

func TestSDKWidgetImageRisingSeries(t *testing.T) {
	e := start(t, envOpt{})
	c := cw.NewFromConfig(e.cfg)
	base := time.Now().UTC().Truncate(time.Minute).Add(-40 * time.Minute)
	putSeries(t, c, "Widget", "CPU", base, 30, func(i int) float64 { return float64(10 + 3*i) })

	widget := `{
		"title": "Rising CPU",
		"metrics": [ [ "Widget", "CPU", "Host", "web-1", { "stat": "Average" } ] ],
		"period": 60,
		"start": "` + base.Format(time.RFC3339) + `",
		"end": "` + base.Add(30*time.Minute).Format(time.RFC3339) + `"
	}`
	img := widgetImage(t, c, widget)
	if b := img.Bounds(); b.Dx() != 600 || b.Dy() != 400 {
		t.Fatalf("size %v, want 600x400 (the default)", b)
	}
	blue := color.RGBA{0x1f, 0x77, 0xb4, 255}
	// The plot area: below the title, above the x labels and legend.
	cols := columnsOf(img, blue, 0, 600, 24, 340)
	first, last := -1, -1
	for x, y := range cols {
		if y >= 0 {
			if first < 0 {
				first = x
			}
			last = x
		}
	}
	if first < 0 || last-first < 300 {
		t.Fatalf("the series line spans columns %d..%d, want a line across the plot", first, last)
	}
	// Sample along the line: every column between first and last has the
	// line, and the line rises (y decreases) from left to right.
	for x := first; x <= last; x++ {
		if cols[x] < 0 {
			t.Fatalf("gap in the series line at x=%d", x)
		}
	}
	if !(cols[last] < cols[(first+last)/2] && cols[(first+last)/2] < cols[first]) {
		t.Errorf("line not rising: y at left %d, middle %d, right %d", cols[first], cols[(first+last)/2], cols[last])
	}
	if cols[first]-cols[last] < 150 {
		t.Errorf("line rises only %d px, want it to span most of the plot height", cols[first]-cols[last])
	}
	// The title region is not blank.
	dark := 0
	for y := 0; y < 20; y++ {
		for x := 0; x < 200; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r < 0x8000 && g < 0x8000 && b < 0x8000 {
				dark++
			}
		}
	}
	if dark < 30 {
		t.Errorf("title region has %d dark pixels", dark)
	}
	// The legend swatch in the series colour sits below the plot.
	if countColor(img, blue, image.Rect(0, 360, 600, 400)) < 20 {
		t.Error("no legend entry in the series colour")
	}
	// Save one image, as a client would.
	out, err := c.GetMetricWidgetImage(context.Background(), &cw.GetMetricWidgetImageInput{MetricWidget: aws.String(widget), OutputFormat: aws.String("png")})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "widget.png")
	if err := os.WriteFile(path, out.MetricWidgetImage, 0o644); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out.MetricWidgetImage, []byte("\x89PNG\r\n\x1a\n")) {
		t.Error("not a PNG")
	}
}

func TestSDKWidgetImageMathAnnotationsAndViews(t *testing.T) {
	e := start(t, envOpt{})
	c := cw.NewFromConfig(e.cfg)
	base := time.Now().UTC().Truncate(time.Minute).Add(-40 * time.Minute)
	putSeries(t, c, "Widget", "Requests", base, 30, func(i int) float64 { return 100 })
	putSeries(t, c, "Widget", "Errors", base, 30, func(i int) float64 { return float64(i) })
	rng := `"start": "` + base.Format(time.RFC3339) + `", "end": "` + base.Add(30*time.Minute).Format(time.RFC3339) + `"`

	widget := `{
		"title": "Error rate",
		"width": 800, "height": 300,
		"period": 60, "stat": "Sum", "timezone": "+0130",
		"metrics": [
			[ "Widget", "Requests", "Host", "web-1", { "id": "req", "visible": false, "color": "#9467bd" } ],
			[ ".", "Errors", ".", ".", { "id": "err", "yAxis": "right", "color": "#8c564b", "label": "Errors" } ],
			[ { "expression": "100 * err / req", "id": "rate", "label": "Error %", "color": "#d62728" } ]
		],
		"yAxis": { "left": { "min": 0, "max": 100, "label": "Percent" }, "right": { "label": "Count" } },
		"annotations": {
			"horizontal": [ { "value": 50, "label": "Half", "color": "#2ca02c", "fill": "above" } ],
			"vertical": [ { "value": "` + base.Add(15*time.Minute).Format(time.RFC3339) + `", "label": "deploy", "color": "#17becf" } ]
		},
		"legend": { "position": "right" },
		` + rng + `
	}`
	img := widgetImage(t, c, widget)
	if b := img.Bounds(); b.Dx() != 800 || b.Dy() != 300 {
		t.Fatalf("size %v", b)
	}
	all := img.Bounds()
	if countColor(img, color.RGBA{0xd6, 0x27, 0x28, 255}, all) < 200 {
		t.Error("the metric math series is not drawn")
	}
	if countColor(img, color.RGBA{0x8c, 0x56, 0x4b, 255}, all) < 200 {
		t.Error("the right-axis series is not drawn")
	}
	if n := countColor(img, color.RGBA{0x94, 0x67, 0xbd, 255}, all); n != 0 {
		t.Errorf("the hidden metric is drawn (%d pixels)", n)
	}
	// The annotation is a horizontal line: one row with a long run of its colour.
	green := color.RGBA{0x2c, 0xa0, 0x2c, 255}
	best := 0
	for y := 0; y < 300; y++ {
		best = max(best, countColor(img, green, image.Rect(0, y, 800, y+1)))
	}
	if best < 300 {
		t.Errorf("horizontal annotation: longest row of its colour is %d px", best)
	}
	cyan := color.RGBA{0x17, 0xbe, 0xcf, 255}
	bestCol := 0
	for x := 0; x < 800; x++ {
		bestCol = max(bestCol, countColor(img, cyan, image.Rect(x, 0, x+1, 300)))
	}
	if bestCol < 150 {
		t.Errorf("vertical annotation: longest column of its colour is %d px", bestCol)
	}

	for _, view := range []string{"singleValue", "bar"} {
		t.Run(view, func(t *testing.T) {
			img := widgetImage(t, c, `{"view": "`+view+`", "width": 300, "height": 200, "period": 60, "stat": "Maximum",
				"metrics": [["Widget", "Errors", "Host", "web-1"], ["...", "web-2"]], `+rng+`}`)
			if b := img.Bounds(); b.Dx() != 300 || b.Dy() != 200 {
				t.Fatalf("size %v", b)
			}
			if countColor(img, color.RGBA{0x1f, 0x77, 0xb4, 255}, img.Bounds()) == 0 {
				t.Error("no series colour in the image")
			}
		})
	}

	// Stacked, with a relative time range and a ditto-reference.
	t.Run("stacked", func(t *testing.T) {
		img := widgetImage(t, c, `{"stacked": true, "start": "-PT1H", "end": "-PT0H", "period": 60,
			"metrics": [["Widget", "Requests", "Host", "web-1"], [".", "Errors", ".", "."]]}`)
		if countColor(img, color.RGBA{0xff, 0x7f, 0x0e, 255}, img.Bounds()) < 100 {
			t.Error("the second series is not drawn")
		}
	})
}

func TestSDKWidgetImageErrors(t *testing.T) {
	e := start(t, envOpt{})
	c := cw.NewFromConfig(e.cfg)
	ctx := context.Background()
	for name, widget := range map[string]string{
		"not JSON":          `{"metrics": [`,
		"not an object":     `[["AWS/EC2", "CPUUtilization"]]`,
		"no metrics":        `{"title": "x"}`,
		"unknown field":     `{"metrics": [["A", "B"]], "colour": "red"}`,
		"unknown rendering": `{"metrics": [["A", "B", {"colour": "#ffffff"}]]}`,
		"width":             `{"metrics": [["A", "B"]], "width": 2001}`,
		"height":            `{"metrics": [["A", "B"]], "height": 0}`,
		"color":             `{"metrics": [["A", "B", {"color": "red"}]]}`,
		"stat":              `{"metrics": [["A", "B"]], "stat": "Median"}`,
		"period":            `{"metrics": [["A", "B"]], "period": 45}`,
		"odd dimensions":    `{"metrics": [["A", "B", "Host"]]}`,
		"ditto first":       `{"metrics": [[".", "B"]]}`,
		"view":              `{"metrics": [["A", "B"]], "view": "map"}`,
		"start":             `{"metrics": [["A", "B"]], "start": "yesterday"}`,
		"start after end":   `{"metrics": [["A", "B"]], "start": "-PT1H", "end": "-PT2H"}`,
		"legend":            `{"metrics": [["A", "B"]], "legend": {"position": "top"}}`,
		"annotation value":  `{"metrics": [["A", "B"]], "annotations": {"horizontal": [{"label": "x"}]}}`,
		"timezone":          `{"metrics": [["A", "B"]], "timezone": "UTC"}`,
		"unknown id":        `{"metrics": [["A", "B", {"id": "m1"}], [{"expression": "m2 * 2"}]]}`,
		"duplicate id":      `{"metrics": [["A", "B", {"id": "m1"}], ["A", "C", {"id": "m1"}]]}`,
		"bad expression":    `{"metrics": [[{"expression": "m1 +"}]]}`,
		"too many metrics":  `{"metrics": [` + strings.Repeat(`["A", "B"],`, 100) + `["A", "B"]]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.GetMetricWidgetImage(ctx, &cw.GetMetricWidgetImageInput{MetricWidget: aws.String(widget)})
			if code := apiCode(err); code != "InvalidParameterInput" {
				t.Fatalf("got %v (code %q), want InvalidParameterInput", err, code)
			}
			if !strings.Contains(err.Error(), "The metric widget is invalid") {
				t.Errorf("message: %v", err)
			}
		})
	}
	_, err := c.GetMetricWidgetImage(ctx, &cw.GetMetricWidgetImageInput{MetricWidget: aws.String(`{"metrics": [["A", "B"]]}`), OutputFormat: aws.String("jpeg")})
	if code := apiCode(err); code != "InvalidParameterValue" {
		t.Errorf("OutputFormat jpeg: got %v (code %q)", err, code)
	}
}

const boto3WidgetScript = `
import boto3, json, sys
from botocore.exceptions import ClientError
cw = boto3.client("cloudwatch", endpoint_url=sys.argv[1])
img = cw.get_metric_widget_image(MetricWidget=json.dumps({"metrics": [["Py", "M"]], "width": 320, "height": 240, "title": "py"}))["MetricWidgetImage"]
out = {"png": img[:8].hex(), "w": int.from_bytes(img[16:20], "big"), "h": int.from_bytes(img[20:24], "big"), "version": boto3.__version__}
try:
    cw.get_metric_widget_image(MetricWidget='{"metrics": 1}')
except ClientError as e:
    out["error"] = e.response["Error"]["Code"]
print(json.dumps(out))
`

// TestBoto3WidgetImage gets a widget image with boto3 1.43 (json 1.0) and
// Debian's boto3 (query): the blob arrives as PNG bytes of the asked size.
func TestBoto3WidgetImage(t *testing.T) {
	e := start(t, envOpt{})
	for _, py := range awstest.Pythons(t) {
		t.Run(py.Name, func(t *testing.T) {
			out, err := run(t, py.Path, "-c", boto3WidgetScript, e.url)
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			var v struct {
				PNG, Version, Error string
				W, H                int
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			if v.PNG != "89504e470d0a1a0a" || v.W != 320 || v.H != 240 {
				t.Errorf("boto3 %s: image header %s, %dx%d", v.Version, v.PNG, v.W, v.H)
			}
			if v.Error != "InvalidParameterInput" {
				t.Errorf("boto3 %s: error code %q", v.Version, v.Error)
			}
		})
	}
}
