package cbor

import (
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestMarshalTypes(t *testing.T) {
	ts := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC) // 0x69f495c0
	tests := []struct {
		in   any
		want string
	}{
		{nil, "f6"},
		{int(-1), "20"},
		{int8(-128), "387f"},
		{int16(1000), "1903e8"},
		{int32(-1 << 31), "3a7fffffff"},
		{int64(math.MinInt64), "3b7fffffffffffffff"},
		{uint(24), "1818"},
		{uint8(255), "18ff"},
		{uint16(65535), "19ffff"},
		{uint32(1 << 31), "1a80000000"},
		{uint64(math.MaxUint64), "1bffffffffffffffff"},
		{uintptr(1), "01"},
		{float32(1.5), "f93e00"},
		{float32(0.1), "fa3dcccccd"},
		{float32(math.Inf(-1)), "f9fc00"},
		{float32(math.NaN()), "f97e00"},
		{math.Float64frombits(0x7ff8000000000001), "f97e00"},
		{0.1, "fb3fb999999999999a"},
		{65505.0, "fa477fe100"},         // exact in single, not in half
		{1.0 / (1 << 24), "f90001"},     // smallest half subnormal
		{1.0 / (1 << 25), "fa33000000"}, // half would round to zero
		{3.0 / (1 << 24), "f90003"},     // half subnormal
		{-0.0, "f90000"},                // Go constant -0.0 is +0
		{"ü", "62c3bc"},
		{[]byte(nil), "40"},
		{[]string{"a", "bc"}, "826161626263"},
		{[]string{}, "80"},
		{map[string]string{"bb": "2", "a": "1", "c": "3"}, "a36161613161636133626262613" + "2"},
		{map[string]any{"aa": 1, "b": 2, "a": 3, "B": 4}, "a46142046161036162026261610" + "1"},
		{[]map[string]any{{"a": true}, {}}, "82a16161f5a0"},
		{ts, "c11a69f495c0"},
		{&ts, "c11a69f495c0"},
		{(*time.Time)(nil), "f6"},
		{ts.Add(1500 * time.Millisecond), "c1fb41da7d2570600000"},
		{ts.Add(999 * time.Microsecond), "c11a69f495c0"}, // sub-millisecond dropped
		{time.Unix(-1, 0).In(time.FixedZone("X", 3600)), "c120"},
		{bigInt("0"), "00"},
		{bigInt("-1"), "20"},
		{bigInt("18446744073709551615"), "1bffffffffffffffff"},
		{bigInt("18446744073709551616"), "c249010000000000000000"},
		{bigInt("-18446744073709551616"), "3bffffffffffffffff"},
		{bigInt("-18446744073709551617"), "c349010000000000000000"},
		{(*big.Int)(nil), "f6"},
		{Tag{Number: 55799, Content: []any{}}, "d9d9f780"},
		{Simple(0), "e0"},
		{Simple(20), "f4"},
		{Simple(32), "f820"},
	}
	for _, tc := range tests {
		got, err := Marshal(tc.in)
		if err != nil {
			t.Errorf("Marshal(%#v): %v", tc.in, err)
			continue
		}
		if h := hex.EncodeToString(got); h != tc.want {
			t.Errorf("Marshal(%#v) = %s, want %s", tc.in, h, tc.want)
		}
	}
}

func TestMarshalErrors(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	deep := any(int64(0))
	for range MaxDepth + 1 {
		deep = map[string]any{"a": deep}
	}
	tests := []struct {
		name string
		in   any
		is   error
		msg  string
	}{
		{"unsupported", struct{}{}, nil, "unsupported type struct {}"},
		{"nested unsupported", map[string]any{"a": []any{1, make(chan int)}}, nil, "unsupported type chan int"},
		{"invalid UTF-8", "\xff", nil, "UTF-8"},
		{"invalid UTF-8 key", map[string]any{"\xff": 1}, nil, "UTF-8"},
		{"invalid UTF-8 in []string", []string{"\xc3"}, nil, "UTF-8"},
		{"time before year 1", time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), nil, "time outside"},
		{"time after year 9999", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), nil, "time outside"},
		{"simple 24", Simple(24), nil, "simple"},
		{"cycle", cyclic, ErrTooDeep, ""},
		{"too deep", deep, ErrTooDeep, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Marshal(tc.in)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error = %v (%T), want *Error", err, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error = %v, want %v", err, tc.is)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error = %q, want it to mention %q", err, tc.msg)
			}
		})
	}
}

func TestMarshalMaxDepthAccepted(t *testing.T) {
	v := any(int64(0))
	for range MaxDepth {
		v = []any{v}
	}
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unmarshal(b); err != nil {
		t.Fatal(err)
	}
}

func TestAppendValueAppends(t *testing.T) {
	dst := []byte{0xaa}
	got, err := AppendValue(dst, "a")
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != "aa6161" {
		t.Fatalf("got %x", got)
	}
}

// Times are written so that both rounding and truncating seconds×1000 give
// back the milliseconds: this package rounds, some client decoders truncate.
func TestTimeMillisecondsSurviveTruncation(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		ms := r.Int64N((maxEpoch-minEpoch)*1000) + minEpoch*1000
		if ms%1000 == 0 {
			continue
		}
		b, err := Marshal(time.UnixMilli(ms))
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != 0xc1 || b[1] != 0xfb {
			t.Fatalf("%d: encoded %x", ms, b)
		}
		f := math.Float64frombits(uint64(b[2])<<56 | uint64(b[3])<<48 | uint64(b[4])<<40 |
			uint64(b[5])<<32 | uint64(b[6])<<24 | uint64(b[7])<<16 | uint64(b[8])<<8 | uint64(b[9]))
		if got := int64(f * 1e3); got != ms {
			t.Fatalf("%d: truncated to %d", ms, got)
		}
		if got := int64(math.Round(f * 1e3)); got != ms {
			t.Fatalf("%d: rounded to %d", ms, got)
		}
		x := float64(ms) / 1e3
		if ulp := math.Nextafter(math.Abs(x), math.Inf(1)) - math.Abs(x); math.Abs(f-x) > 4*ulp {
			t.Fatalf("%d: %v strays from %v", ms, f, float64(ms)/1e3)
		}
	}
}

func TestHalfConversionExhaustive(t *testing.T) {
	for h := range 1 << 16 {
		f := halfToFloat32(uint16(h))
		if f != f {
			if h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
				t.Fatalf("%#04x decoded to NaN", h)
			}
			continue
		}
		back, ok := float32ToHalf(f)
		if !ok || back != uint16(h) {
			t.Fatalf("%#04x -> %v -> %#04x, %v", h, f, back, ok)
		}
	}
}

func TestFloat32ToHalfExactOnly(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 1 << 20 {
		f := math.Float32frombits(r.Uint32())
		if f != f {
			continue
		}
		if h, ok := float32ToHalf(f); ok {
			if g := halfToFloat32(h); math.Float32bits(g) != math.Float32bits(f) {
				t.Fatalf("%v -> %#04x -> %v", f, h, g)
			}
		}
	}
}
