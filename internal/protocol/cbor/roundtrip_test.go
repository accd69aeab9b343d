package cbor

import (
	"bytes"
	"encoding/hex"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"
)

// genValue returns a random value in the decoded representation, so that
// decoding its encoding must give it back exactly.
func genValue(r *rand.Rand, depth int) any {
	n := 14
	if depth > 4 {
		n = 11 // scalars only
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		// Mix small, boundary and full-range integers.
		switch r.IntN(4) {
		case 0:
			return int64(r.IntN(50) - 25)
		case 1:
			return []int64{math.MinInt64, math.MaxInt64, 23, 24, 255, 256, 65535, 65536, -24, -25, -256, -257, 1<<32 - 1, 1 << 32}[r.IntN(14)]
		default:
			return int64(r.Uint64())
		}
	case 3:
		return uint64(math.MaxInt64) + 1 + r.Uint64N(math.MaxInt64)
	case 4:
		b := new(big.Int).Lsh(big.NewInt(1), uint(64+r.IntN(100)))
		b.Add(b, big.NewInt(r.Int64()))
		if r.IntN(2) == 0 {
			b.Neg(b)
		}
		return b
	case 5:
		switch r.IntN(4) {
		case 0:
			return []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 1.5, 65504, 1e-7, math.SmallestNonzeroFloat64, math.MaxFloat64}[r.IntN(10)]
		case 1:
			return float64(float32(r.NormFloat64()))
		default:
			return math.Float64frombits(r.Uint64())
		}
	case 6:
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	case 7, 8:
		return genString(r)
	case 9:
		ms := r.Int64N((maxEpoch-minEpoch)*1000) + minEpoch*1000
		if r.IntN(2) == 0 {
			ms -= ms % 1000
		}
		return time.UnixMilli(ms).UTC()
	case 10:
		if r.IntN(2) == 0 {
			return Simple(r.IntN(20))
		}
		return Simple(32 + r.IntN(224))
	case 11:
		out := make([]any, r.IntN(6))
		for i := range out {
			out[i] = genValue(r, depth+1)
		}
		return out
	case 12:
		out := map[string]any{}
		for range r.IntN(6) {
			out[genString(r)] = genValue(r, depth+1)
		}
		return out
	default:
		num := uint64(r.IntN(30)) + 4
		if r.IntN(4) == 0 {
			num = r.Uint64()
			if num <= 3 {
				num = 0
			}
		}
		return Tag{Number: num, Content: genValue(r, depth+1)}
	}
}

func genString(r *rand.Rand) string {
	runes := []rune{'a', 'Z', '0', ' ', 'é', 'ü', '水', '\U00010151', 0, 0x7f, 0xfffd}
	var b []rune
	for range r.IntN(12) {
		if r.IntN(3) == 0 {
			b = append(b, rune(r.IntN(0xd800)))
		} else {
			b = append(b, runes[r.IntN(len(runes))])
		}
	}
	return string(b)
}

func TestRoundTripRandomTrees(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 8949))
	for i := range 20000 {
		v := genValue(r, 0)
		b, err := Marshal(v)
		if err != nil {
			t.Fatalf("#%d Marshal(%#v): %v", i, v, err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("#%d Unmarshal(%x): %v", i, b, err)
		}
		if !equal(got, v) {
			t.Fatalf("#%d round trip of %x:\n got  %#v\n want %#v", i, b, got, v)
		}
		again, err := Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("#%d encoding not deterministic: %x then %x", i, b, again)
		}
	}
}

// Indefinite-length input decodes to the same value as its definite form.
func TestIndefiniteEqualsDefinite(t *testing.T) {
	for indef, def := range map[string]string{
		"7f ff":                         "60",
		"5f ff":                         "40",
		"7f 60 60 ff":                   "60",
		"bf ff":                         "a0",
		"bf 7f 61 61 61 62 ff 9f ff ff": "a1 62 61 62 80",
		"c1 9f ff":                      "",
	} {
		got, err := Unmarshal(mustHex(t, indef))
		if def == "" {
			if err == nil {
				t.Errorf("Unmarshal(%s) = %#v, want error", indef, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("Unmarshal(%s): %v", indef, err)
			continue
		}
		want, _ := Unmarshal(mustHex(t, def))
		if !equal(got, want) {
			t.Errorf("Unmarshal(%s) = %#v, want %#v", indef, got, want)
		}
		if b, _ := Marshal(got); hex.EncodeToString(b) != hex.EncodeToString(mustHex(t, def)) {
			t.Errorf("re-encoding of %s = %x, want %s", indef, b, def)
		}
	}
}
