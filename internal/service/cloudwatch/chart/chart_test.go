package chart

import (
	"bytes"
	"image/png"
	"math"
	"testing"
)

func TestRenderRisingLineAndTitle(t *testing.T) {
	c := &Chart{Width: 300, Height: 200, Title: "Rising", Start: 0, End: 600,
		Series: []Series{{Label: "s", Color: Palette[2], T: []int64{0, 300, 600}, V: []float64{1, 2, 3}}}}
	b, err := Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 300 || img.Bounds().Dy() != 200 {
		t.Fatalf("bounds %v", img.Bounds())
	}
	top := func(x int) int {
		for y := 20; y < 170; y++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == 0x2c && uint8(g>>8) == 0xa0 && uint8(b>>8) == 0x2c {
				return y
			}
		}
		return -1
	}
	l, r := -1, -1
	for x := 0; x < 300; x++ {
		if top(x) >= 0 {
			if l < 0 {
				l = x
			}
			r = x
		}
	}
	if l < 0 || !(top(r) < top(l)) {
		t.Fatalf("line not rising: left x=%d y=%d, right x=%d y=%d", l, top(l), r, top(r))
	}
}

func TestNiceScale(t *testing.T) {
	for _, tc := range []struct {
		lo, hi    float64
		wantLo    float64
		wantHi    float64
		wantLabel string
	}{
		{10, 97, 0, 100, "100"},
		{0, 37800, 0, 40000, "40k"},
		{0.001, 0.0042, 0.001, 0.005, "0.005"},
		{5, 5, 4.4, 5.6, "5.6"},
	} {
		s := niceScale(tc.lo, tc.hi, Axis{}, 6)
		if math.Abs(s.lo-tc.wantLo) > 1e-9 || math.Abs(s.hi-tc.wantHi) > 1e-9 {
			t.Errorf("niceScale(%v, %v) = %v..%v step %v", tc.lo, tc.hi, s.lo, s.hi, s.step)
			continue
		}
		if got := s.label(s.ticks[len(s.ticks)-1]); got != tc.wantLabel {
			t.Errorf("niceScale(%v, %v) top label %q, want %q", tc.lo, tc.hi, got, tc.wantLabel)
		}
	}
	if s := niceScale(0, 10, Axis{Min: -5, Max: 50, HasMin: true, HasMax: true}, 5); s.lo != -5 || s.hi != 50 {
		t.Errorf("fixed axis: %v..%v", s.lo, s.hi)
	}
}

func TestFormatValue(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 97.5: "97.5", 37800: "37.8k", 1.234: "1.23", 0.00125: "0.00125", -2e9: "-2B", math.NaN(): "--"} {
		if got := FormatValue(v); got != want {
			t.Errorf("FormatValue(%v) = %q, want %q", v, got, want)
		}
	}
}
