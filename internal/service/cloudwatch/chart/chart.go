// Package chart renders metric graphs as PNG images: time-series line and
// stacked-area charts, bar charts and single-value panels, with a title,
// axes with rounded tick labels, grid lines, a legend and horizontal and
// vertical annotations. It uses only the standard library and draws text
// with a built-in 5×8 bitmap font (ASCII; other characters print as '?').
// There is no anti-aliasing.
//
// The package knows nothing of CloudWatch: the caller resolves data and
// styling into a Chart and calls Render or Encode.
package chart

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"sort"
	"strconv"
	"time"
)

// View is the kind of chart.
type View int

// Views.
const (
	TimeSeries View = iota
	Bar
	SingleValue
)

// LegendPosition places the legend.
type LegendPosition int

// Legend positions.
const (
	LegendBottom LegendPosition = iota
	LegendRight
	LegendHidden
)

// Fill shades one side of an annotation.
type Fill int

// Fills: Above/Below for horizontal annotations, Before/After for vertical.
const (
	FillNone Fill = iota
	FillAbove
	FillBelow
	FillBefore
	FillAfter
)

// Palette is CloudWatch's default series palette.
var Palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 255}, {0xff, 0x7f, 0x0e, 255}, {0x2c, 0xa0, 0x2c, 255}, {0xd6, 0x27, 0x28, 255},
	{0x94, 0x67, 0xbd, 255}, {0x8c, 0x56, 0x4b, 255}, {0xe3, 0x77, 0xc2, 255}, {0x7f, 0x7f, 0x7f, 255},
	{0xbc, 0xbd, 0x22, 255}, {0x17, 0xbe, 0xcf, 255},
}

// Series is one line of the chart. T are Unix seconds in ascending order,
// V the values (non-finite values are skipped).
type Series struct {
	Label string
	Color color.RGBA
	Right bool
	T     []int64
	V     []float64
}

// Axis configures a y axis. Min and Max are used when HasMin / HasMax.
type Axis struct {
	Min, Max       float64
	HasMin, HasMax bool
	Label          string
}

// HLine is a horizontal annotation; with Band it shades Value..Value2.
type HLine struct {
	Value, Value2 float64
	Band          bool
	Label         string
	Color         color.RGBA
	Fill          Fill
	Right         bool
}

// VLine is a vertical annotation at Unix second T; with Band it shades T..T2.
type VLine struct {
	T, T2 int64
	Band  bool
	Label string
	Color color.RGBA
	Fill  Fill
}

// Chart is everything needed to draw one image.
type Chart struct {
	Width, Height int
	Title         string
	View          View
	Stacked       bool
	// Start and End bound the x axis (Unix seconds).
	Start, End int64
	// Zone formats x-axis times; nil means UTC.
	Zone        *time.Location
	Left, Right Axis
	Legend      LegendPosition
	Series      []Series
	HLines      []HLine
	VLines      []VLine
}

var (
	white     = color.RGBA{255, 255, 255, 255}
	titleCol  = color.RGBA{0x16, 0x19, 0x1f, 255}
	labelCol  = color.RGBA{0x54, 0x5b, 0x64, 255}
	gridCol   = color.RGBA{0xe9, 0xeb, 0xed, 255}
	axisCol   = color.RGBA{0xaa, 0xb7, 0xb8, 255}
	pad       = 8
	swatch    = 8
	lineWidth = 2
)

// Encode renders c as PNG bytes.
func Encode(c *Chart) ([]byte, error) {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, Render(c)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Render draws c.
func Render(c *Chart) *image.RGBA {
	w, h := max(c.Width, 1), max(c.Height, 1)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	cv := &canvas{img: img, clip: img.Rect}
	r := &renderer{c: c, cv: cv, w: w, h: h}
	r.draw()
	return img
}

type renderer struct {
	c    *Chart
	cv   *canvas
	w, h int
	// plot area
	plot image.Rectangle
}

type legendEntry struct {
	label string
	col   color.RGBA
}

func (r *renderer) draw() {
	c := r.c
	top := pad
	if c.Title != "" {
		r.cv.text(pad, pad, fitText(c.Title, r.w-2*pad, 1, true), 1, true, titleCol)
		top += charH + 8
	}
	var entries []legendEntry
	for _, s := range c.Series {
		entries = append(entries, legendEntry{s.Label, s.Color})
	}
	for _, a := range c.HLines {
		if a.Label != "" {
			entries = append(entries, legendEntry{a.Label, a.Color})
		}
	}
	bottom, right := r.h-pad, r.w-pad
	if c.View != SingleValue && len(entries) > 0 {
		switch c.Legend {
		case LegendBottom:
			bottom -= r.legendBottom(entries, pad, bottom, r.w-2*pad)
		case LegendRight:
			right -= r.legendRight(entries, top, right)
		}
	}
	area := image.Rect(pad, top, right, bottom)
	if area.Dx() < 10 || area.Dy() < 10 {
		return
	}
	switch c.View {
	case SingleValue:
		r.singleValue(area)
	case Bar:
		r.bars(area)
	default:
		r.timeSeries(area)
	}
}

// legendBottom lays the entries out in rows ending at bottom and returns
// the height used.
func (r *renderer) legendBottom(entries []legendEntry, x0, bottom, width int) int {
	rowH := charH + 6
	maxRows := max(1, (r.h/3)/rowH)
	type placed struct {
		x, row int
		label  string
		col    color.RGBA
	}
	var ps []placed
	x, row := x0, 0
	for _, e := range entries {
		label := fitText(e.label, width-swatch-4, 1, false)
		ew := swatch + 4 + textWidth(label, 1, false)
		if x > x0 && x+ew > x0+width {
			row++
			x = x0
		}
		if row >= maxRows {
			break
		}
		ps = append(ps, placed{x, row, label, e.col})
		x += ew + 14
	}
	used := (row+1)*rowH + 4
	if row >= maxRows {
		used = maxRows*rowH + 4
	}
	y0 := bottom - used + 4
	for _, p := range ps {
		y := y0 + p.row*rowH
		r.cv.fill(image.Rect(p.x, y, p.x+swatch, y+swatch), p.col)
		r.cv.text(p.x+swatch+4, y, p.label, 1, false, labelCol)
	}
	return used
}

// legendRight lays the entries out in a column ending at right and returns
// the width used.
func (r *renderer) legendRight(entries []legendEntry, top, right int) int {
	maxW := r.w / 3
	wid := 0
	for _, e := range entries {
		wid = max(wid, swatch+4+textWidth(e.label, 1, false))
	}
	wid = min(wid, maxW)
	x := right - wid
	y := top
	for _, e := range entries {
		if y+charH > r.h-pad {
			break
		}
		r.cv.fill(image.Rect(x, y, x+swatch, y+swatch), e.col)
		r.cv.text(x+swatch+4, y, fitText(e.label, wid-swatch-4, 1, false), 1, false, labelCol)
		y += charH + 6
	}
	return wid + 10
}

// stackedValues returns, per series, the values to plot (cumulative on each
// axis when stacked) and the base beneath each point.
func (r *renderer) stackedValues() (vals, bases [][]float64) {
	c := r.c
	vals = make([][]float64, len(c.Series))
	bases = make([][]float64, len(c.Series))
	sums := [2]map[int64]float64{{}, {}}
	for i, s := range c.Series {
		n := min(len(s.T), len(s.V))
		vals[i] = make([]float64, n)
		bases[i] = make([]float64, n)
		side := b2i(s.Right)
		for j := 0; j < n; j++ {
			v := s.V[j]
			if !c.Stacked || !finite(v) {
				vals[i][j] = v
				continue
			}
			b := sums[side][s.T[j]]
			bases[i][j] = b
			vals[i][j] = b + v
			sums[side][s.T[j]] = b + v
		}
	}
	return vals, bases
}

type scale struct {
	lo, hi, step float64
	ticks        []float64
	div          float64
	suffix       string
	decimals     int
}

func (s *scale) label(v float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v/s.div, 'f', s.decimals, 64) + s.suffix
}

// niceScale computes a rounded axis covering [lo, hi].
func niceScale(lo, hi float64, ax Axis, maxTicks int) scale {
	if ax.HasMin {
		lo = ax.Min
	}
	if ax.HasMax {
		hi = ax.Max
	}
	if !finite(lo) || !finite(hi) {
		lo, hi = 0, 1
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	if hi == lo {
		d := math.Abs(lo) * 0.1
		if d == 0 || !finite(d) {
			d = 1
		}
		if !ax.HasMin {
			lo -= d
		}
		if !ax.HasMax || ax.HasMin {
			hi = lo + 2*d
		}
	}
	span := hi - lo
	if !finite(span) || span <= 0 {
		lo, hi, span = 0, 1, 1
	}
	maxTicks = max(maxTicks, 2)
	raw := span / float64(maxTicks)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	if step <= 0 || !finite(step) {
		step = span
	}
	if !ax.HasMin {
		lo = math.Floor(lo/step) * step
	}
	if !ax.HasMax {
		hi = math.Ceil(hi/step) * step
	}
	if hi <= lo {
		hi = lo + step
	}
	s := scale{lo: lo, hi: hi, step: step, div: 1}
	first := math.Ceil(lo/step-1e-9) * step
	for i := 0; i < 50; i++ {
		v := first + float64(i)*step
		if v > hi+step*1e-9 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		s.ticks = append(s.ticks, v)
	}
	big := math.Max(math.Abs(lo), math.Abs(hi))
	for _, u := range []struct {
		d float64
		s string
	}{{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "k"}} {
		if big >= u.d && step >= u.d/100 {
			s.div, s.suffix = u.d, u.s
			break
		}
	}
	st := step / s.div
	d := max(0, int(-math.Floor(math.Log10(st)+1e-9)))
	if f := st / math.Pow(10, math.Floor(math.Log10(st)+1e-9)); math.Abs(f-2.5) < 1e-6 {
		d++
	}
	s.decimals = min(d, 12)
	return s
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (r *renderer) timeSeries(area image.Rectangle) {
	c := r.c
	vals, bases := r.stackedValues()
	hasSide := [2]bool{}
	lo := [2]float64{math.Inf(1), math.Inf(1)}
	hi := [2]float64{math.Inf(-1), math.Inf(-1)}
	for i, s := range c.Series {
		side := b2i(s.Right)
		hasSide[side] = true
		for j, v := range vals[i] {
			if !finite(v) || s.T[j] < c.Start || s.T[j] > c.End {
				continue
			}
			lo[side], hi[side] = math.Min(lo[side], v), math.Max(hi[side], v)
			if c.Stacked {
				lo[side] = math.Min(lo[side], bases[i][j])
			}
		}
	}
	for _, a := range c.HLines {
		side := b2i(a.Right)
		for k, v := range []float64{a.Value, a.Value2} {
			if k == 1 && !a.Band {
				break
			}
			if finite(v) {
				lo[side], hi[side] = math.Min(lo[side], v), math.Max(hi[side], v)
			}
		}
	}
	if !hasSide[0] && !hasSide[1] {
		hasSide[0] = true
	}
	xLabelH := charH + 6
	plotTop := area.Min.Y + charH/2
	plotBottom := area.Max.Y - xLabelH
	if plotBottom-plotTop < 10 {
		return
	}
	maxTicks := max(2, (plotBottom-plotTop)/35)
	axes := [2]Axis{c.Left, c.Right}
	var sc [2]scale
	for side := 0; side < 2; side++ {
		if hasSide[side] {
			sc[side] = niceScale(lo[side], hi[side], axes[side], maxTicks)
		}
	}
	left, right := area.Min.X, area.Max.X
	if hasSide[0] {
		if axes[0].Label != "" {
			r.cv.textUp(left, (plotTop+plotBottom)/2+textWidth(axes[0].Label, 1, false)/2, fitText(axes[0].Label, plotBottom-plotTop, 1, false), labelCol)
			left += charH + 4
		}
		wmax := 0
		for _, t := range sc[0].ticks {
			wmax = max(wmax, textWidth(sc[0].label(t), 1, false))
		}
		left += wmax + 6
	}
	if hasSide[1] {
		if axes[1].Label != "" {
			right -= charH + 4
			r.cv.textUp(right+4, (plotTop+plotBottom)/2+textWidth(axes[1].Label, 1, false)/2, fitText(axes[1].Label, plotBottom-plotTop, 1, false), labelCol)
		}
		wmax := 0
		for _, t := range sc[1].ticks {
			wmax = max(wmax, textWidth(sc[1].label(t), 1, false))
		}
		right -= wmax + 6
	}
	if right-left < 20 {
		return
	}
	r.plot = image.Rect(left, plotTop, right, plotBottom)
	p := r.plot
	yOf := func(side int, v float64) int {
		s := sc[side]
		f := (v - s.lo) / (s.hi - s.lo)
		// Clamp far-off values (a user-set range) so lines stay bounded.
		f = math.Max(-1, math.Min(2, f))
		if math.IsNaN(f) {
			f = 0
		}
		return p.Max.Y - 1 - int(math.Round(f*float64(p.Dy()-1)))
	}
	span := float64(max(c.End-c.Start, 1))
	xOf := func(t int64) int {
		f := math.Max(-1, math.Min(2, float64(t-c.Start)/span))
		return p.Min.X + int(math.Round(f*float64(p.Dx()-1)))
	}
	// Grid and y tick labels.
	grid := 0
	if !hasSide[0] {
		grid = 1
	}
	for _, t := range sc[grid].ticks {
		y := yOf(grid, t)
		r.cv.hline(p.Min.X, p.Max.X-1, y, gridCol)
	}
	for side := 0; side < 2; side++ {
		if !hasSide[side] {
			continue
		}
		for _, t := range sc[side].ticks {
			y := yOf(side, t)
			l := sc[side].label(t)
			if side == 0 {
				r.cv.text(p.Min.X-6-textWidth(l, 1, false), y-charH/2+1, l, 1, false, labelCol)
			} else {
				r.cv.text(p.Max.X+6, y-charH/2+1, l, 1, false, labelCol)
			}
		}
	}
	// X ticks.
	zone := c.Zone
	if zone == nil {
		zone = time.UTC
	}
	step, layout := timeStep(c.End-c.Start, p.Dx())
	_, off := time.Unix(c.Start, 0).In(zone).Zone()
	first := ((c.Start+int64(off))/step+1)*step - int64(off)
	if (c.Start+int64(off))%step == 0 {
		first = c.Start
	}
	lastEnd := math.MinInt
	for t := first; t <= c.End; t += step {
		x := xOf(t)
		r.cv.vline(x, p.Min.Y, p.Max.Y-1, gridCol)
		lt := time.Unix(t, 0).In(zone)
		l := lt.Format(layout)
		if step < 86400 && lt.Hour() == 0 && lt.Minute() == 0 && lt.Second() == 0 && c.End-c.Start >= 86400 {
			l = lt.Format("01/02")
		}
		lw := textWidth(l, 1, false)
		lx := min(max(x-lw/2, 0), r.w-lw)
		if lx > lastEnd+6 {
			r.cv.text(lx, p.Max.Y+5, l, 1, false, labelCol)
			lastEnd = lx + lw
		}
	}
	// Axes.
	r.cv.hline(p.Min.X, p.Max.X-1, p.Max.Y, axisCol)
	if hasSide[0] {
		r.cv.vline(p.Min.X-1, p.Min.Y, p.Max.Y, axisCol)
	}
	if hasSide[1] {
		r.cv.vline(p.Max.X, p.Min.Y, p.Max.Y, axisCol)
	}
	plotCv := &canvas{img: r.cv.img, clip: p}
	// Annotation shading under the data.
	for _, a := range c.HLines {
		side := b2i(a.Right)
		if !hasSide[side] {
			side = 0
		}
		y := yOf(side, a.Value)
		switch {
		case a.Band:
			y2 := yOf(side, a.Value2)
			plotCv.fillAlpha(image.Rect(p.Min.X, min(y, y2), p.Max.X, max(y, y2)+1), a.Color, 0x30)
		case a.Fill == FillAbove:
			plotCv.fillAlpha(image.Rect(p.Min.X, p.Min.Y, p.Max.X, y), a.Color, 0x30)
		case a.Fill == FillBelow:
			plotCv.fillAlpha(image.Rect(p.Min.X, y+1, p.Max.X, p.Max.Y), a.Color, 0x30)
		}
	}
	for _, a := range c.VLines {
		x := xOf(a.T)
		switch {
		case a.Band:
			x2 := xOf(a.T2)
			plotCv.fillAlpha(image.Rect(min(x, x2), p.Min.Y, max(x, x2)+1, p.Max.Y), a.Color, 0x30)
		case a.Fill == FillBefore:
			plotCv.fillAlpha(image.Rect(p.Min.X, p.Min.Y, x, p.Max.Y), a.Color, 0x30)
		case a.Fill == FillAfter:
			plotCv.fillAlpha(image.Rect(x+1, p.Min.Y, p.Max.X, p.Max.Y), a.Color, 0x30)
		}
	}
	// Stacked areas.
	if c.Stacked {
		for i, s := range c.Series {
			side := b2i(s.Right)
			pts := points(s.T, vals[i], bases[i], c.Start, c.End)
			for k := 0; k+1 < len(pts); k++ {
				a, b := pts[k], pts[k+1]
				xa, xb := xOf(a.t), xOf(b.t)
				// Each column once: segments share their end columns.
				for x := xa; x < xb || (x == xb && k+2 == len(pts)); x++ {
					f := 0.0
					if xb > xa {
						f = float64(x-xa) / float64(xb-xa)
					}
					yt := yOf(side, a.v+(b.v-a.v)*f)
					yb := yOf(side, a.b+(b.b-a.b)*f)
					for y := yt; y <= yb; y++ {
						plotCv.blend(x, y, s.Color, 0x50)
					}
				}
			}
		}
	}
	// Lines.
	any := false
	for i, s := range c.Series {
		side := b2i(s.Right)
		pts := points(s.T, vals[i], bases[i], c.Start, c.End)
		if len(pts) > 0 {
			any = true
		}
		if len(pts) == 1 {
			x, y := xOf(pts[0].t), yOf(side, pts[0].v)
			plotCv.fill(image.Rect(x-2, y-2, x+3, y+3), s.Color)
			continue
		}
		for k := 0; k+1 < len(pts); k++ {
			plotCv.line(xOf(pts[k].t), yOf(side, pts[k].v), xOf(pts[k+1].t), yOf(side, pts[k+1].v), lineWidth, s.Color)
		}
	}
	// Annotation lines and labels on top.
	for _, a := range c.HLines {
		side := b2i(a.Right)
		if !hasSide[side] {
			side = 0
		}
		for k, v := range []float64{a.Value, a.Value2} {
			if k == 1 && !a.Band {
				break
			}
			y := yOf(side, v)
			plotCv.hline(p.Min.X, p.Max.X-1, y, a.Color)
		}
		if a.Label != "" {
			v := a.Value
			if a.Band {
				v = math.Max(v, a.Value2)
			}
			y := yOf(side, v)
			l := fitText(a.Label, p.Dx()-4, 1, false)
			plotCv.text(p.Max.X-2-textWidth(l, 1, false), max(y-charH-1, p.Min.Y), l, 1, false, a.Color)
		}
	}
	for _, a := range c.VLines {
		for k, t := range []int64{a.T, a.T2} {
			if k == 1 && !a.Band {
				break
			}
			plotCv.vline(xOf(t), p.Min.Y, p.Max.Y-1, a.Color)
		}
		if a.Label != "" {
			x := xOf(a.T) + 3
			l := fitText(a.Label, max(p.Max.X-x-2, 0), 1, false)
			plotCv.text(x, p.Min.Y+2, l, 1, false, a.Color)
		}
	}
	if !any {
		msg := "No data available."
		r.cv.text((p.Min.X+p.Max.X-textWidth(msg, 1, false))/2, (p.Min.Y+p.Max.Y-charH)/2, msg, 1, false, labelCol)
	}
}

type pt struct {
	t    int64
	v, b float64
}

// points returns the finite points of a series inside [start, end].
func points(ts []int64, vs, bs []float64, start, end int64) []pt {
	out := make([]pt, 0, len(vs))
	for j, v := range vs {
		if j >= len(ts) || !finite(v) || ts[j] < start || ts[j] > end {
			continue
		}
		out = append(out, pt{ts[j], v, bs[j]})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].t < out[b].t })
	return out
}

// timeStep picks the x tick spacing for a span of seconds over width pixels
// and the time layout of its labels.
func timeStep(span int64, width int) (int64, string) {
	maxTicks := int64(max(width/70, 2))
	steps := []int64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
		86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400, 91 * 86400, 364 * 86400}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= maxTicks {
			step = s
			break
		}
	}
	switch {
	case step < 60:
		return step, "15:04:05"
	case step < 86400:
		return step, "15:04"
	default:
		return step, "01/02"
	}
}

// latest returns the last finite value of s.
func latest(s Series, start, end int64) (float64, bool) {
	for j := min(len(s.T), len(s.V)) - 1; j >= 0; j-- {
		if finite(s.V[j]) && s.T[j] >= start && s.T[j] <= end {
			return s.V[j], true
		}
	}
	return 0, false
}

// FormatValue formats v with about four significant digits and a k/M/B/T
// suffix for large magnitudes.
func FormatValue(v float64) string {
	if !finite(v) {
		return "--"
	}
	a := math.Abs(v)
	suffix := ""
	for _, u := range []struct {
		d float64
		s string
	}{{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "k"}} {
		if a >= u.d {
			v, a, suffix = v/u.d, a/u.d, u.s
			break
		}
	}
	d := 0
	switch {
	case a == 0:
	case a < 1:
		d = min(max(0, int(-math.Floor(math.Log10(a)))+2), 10)
	case a < 10:
		d = 2
	case a < 100:
		d = 1
	}
	s := strconv.FormatFloat(v, 'f', d, 64)
	if d > 0 {
		for s[len(s)-1] == '0' {
			s = s[:len(s)-1]
		}
		if s[len(s)-1] == '.' {
			s = s[:len(s)-1]
		}
	}
	return s + suffix
}

func (r *renderer) singleValue(area image.Rectangle) {
	c := r.c
	n := len(c.Series)
	if n == 0 {
		msg := "No data available."
		r.cv.text((area.Min.X+area.Max.X-textWidth(msg, 1, false))/2, (area.Min.Y+area.Max.Y-charH)/2, msg, 1, false, labelCol)
		return
	}
	cols := min(n, max(1, area.Dx()/140))
	rows := (n + cols - 1) / cols
	cw, ch := area.Dx()/cols, area.Dy()/rows
	// Centre the cells vertically when they need less than their share.
	blockH := charH*5 + 6
	yoff := max(0, (ch-blockH)/2)
	for i, s := range c.Series {
		x0 := area.Min.X + (i%cols)*cw
		y0 := area.Min.Y + (i/cols)*ch + yoff
		r.cv.fill(image.Rect(x0, y0, x0+swatch, y0+swatch), s.Color)
		r.cv.text(x0+swatch+4, y0, fitText(s.Label, cw-swatch-8, 1, false), 1, false, labelCol)
		txt := "--"
		if v, ok := latest(s, c.Start, c.End); ok {
			txt = FormatValue(v)
		}
		sc := 4
		for sc > 1 && (textWidth(txt, sc, false) > cw-8 || charH*sc > ch-charH-10) {
			sc--
		}
		r.cv.text(x0, y0+charH+6, txt, sc, false, titleCol)
	}
}

func (r *renderer) bars(area image.Rectangle) {
	c := r.c
	n := len(c.Series)
	vals := make([]float64, n)
	has := make([]bool, n)
	lo, hi := 0.0, 0.0
	for i, s := range c.Series {
		if v, ok := latest(s, c.Start, c.End); ok {
			vals[i], has[i] = v, true
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	plotBottom := area.Max.Y - charH - 6
	labelW := 12
	for i := range vals {
		if has[i] {
			labelW = max(labelW, textWidth(FormatValue(vals[i]), 1, false)+6)
		}
	}
	p := image.Rect(area.Min.X+4, area.Min.Y+2, area.Max.X-labelW, plotBottom)
	if p.Dx() < 10 || p.Dy() < 10 {
		return
	}
	sc := niceScale(lo, hi, c.Left, max(2, p.Dx()/80))
	xOf := func(v float64) int {
		f := math.Max(-1, math.Min(2, (v-sc.lo)/(sc.hi-sc.lo)))
		return p.Min.X + int(math.Round(f*float64(p.Dx()-1)))
	}
	for _, t := range sc.ticks {
		x := xOf(t)
		r.cv.vline(x, p.Min.Y, p.Max.Y-1, gridCol)
		l := sc.label(t)
		r.cv.text(x-textWidth(l, 1, false)/2, p.Max.Y+5, l, 1, false, labelCol)
	}
	r.cv.hline(p.Min.X, p.Max.X-1, p.Max.Y, axisCol)
	if n == 0 {
		return
	}
	plotCv := &canvas{img: r.cv.img, clip: p}
	rowH := p.Dy() / n
	zero := xOf(math.Max(sc.lo, math.Min(0, sc.hi)))
	for i, s := range c.Series {
		if !has[i] {
			continue
		}
		y0 := p.Min.Y + i*rowH + rowH/5
		y1 := p.Min.Y + (i+1)*rowH - rowH/5
		x := xOf(vals[i])
		plotCv.fill(image.Rect(min(zero, x), y0, max(zero, x)+1, max(y1, y0+1)), s.Color)
		l := FormatValue(vals[i])
		r.cv.text(max(zero, x)+4, (y0+y1-charH)/2, l, 1, false, labelCol)
	}
}
