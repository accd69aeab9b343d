package cbor

import (
	"encoding/hex"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"
)

func bigInt(s string) *big.Int {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("bad big.Int literal " + s)
	}
	return b
}

func ints(from, to int64) []any {
	var out []any
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// rfcVectors are the examples of RFC 8949 Appendix A (table 6). canonical
// marks the encodings this package's encoder reproduces byte for byte.
var rfcVectors = []struct {
	hex       string
	want      any
	canonical bool
}{
	{"00", int64(0), true},
	{"01", int64(1), true},
	{"0a", int64(10), true},
	{"17", int64(23), true},
	{"1818", int64(24), true},
	{"1819", int64(25), true},
	{"1864", int64(100), true},
	{"1903e8", int64(1000), true},
	{"1a000f4240", int64(1000000), true},
	{"1b000000e8d4a51000", int64(1000000000000), true},
	{"1bffffffffffffffff", uint64(18446744073709551615), true},
	{"c249010000000000000000", bigInt("18446744073709551616"), true},
	{"3bffffffffffffffff", bigInt("-18446744073709551616"), true},
	{"c349010000000000000000", bigInt("-18446744073709551617"), true},
	{"20", int64(-1), true},
	{"29", int64(-10), true},
	{"3863", int64(-100), true},
	{"3903e7", int64(-1000), true},
	{"f90000", 0.0, true},
	{"f98000", math.Copysign(0, -1), true},
	{"f93c00", 1.0, true},
	{"fb3ff199999999999a", 1.1, true},
	{"f93e00", 1.5, true},
	{"f97bff", 65504.0, true},
	{"fa47c35000", 100000.0, true},
	{"fa7f7fffff", 3.4028234663852886e+38, true},
	{"fb7e37e43c8800759c", 1.0e+300, true},
	{"f90001", 5.960464477539063e-8, true},
	{"f90400", 0.00006103515625, true},
	{"f9c400", -4.0, true},
	{"fbc010666666666666", -4.1, true},
	{"f97c00", math.Inf(1), true},
	{"f97e00", math.NaN(), true},
	{"f9fc00", math.Inf(-1), true},
	{"fa7f800000", math.Inf(1), false},
	{"fa7fc00000", math.NaN(), false},
	{"faff800000", math.Inf(-1), false},
	{"fb7ff0000000000000", math.Inf(1), false},
	{"fb7ff8000000000000", math.NaN(), false},
	{"fbfff0000000000000", math.Inf(-1), false},
	{"f4", false, true},
	{"f5", true, true},
	{"f6", nil, true},
	{"f7", nil, false},
	{"f0", Simple(16), true},
	{"f8ff", Simple(255), true},
	{"c074323031332d30332d32315432303a30343a30305a", Tag{0, "2013-03-21T20:04:00Z"}, true},
	{"c11a514b67b0", time.Unix(1363896240, 0).UTC(), true},
	{"c1fb41d452d9ec200000", time.UnixMilli(1363896240500).UTC(), true},
	{"d74401020304", Tag{23, []byte{1, 2, 3, 4}}, true},
	{"d818456449455446", Tag{24, []byte("dIETF")}, true},
	{"d82076687474703a2f2f7777772e6578616d706c652e636f6d", Tag{32, "http://www.example.com"}, true},
	{"40", []byte{}, true},
	{"4401020304", []byte{1, 2, 3, 4}, true},
	{"60", "", true},
	{"6161", "a", true},
	{"6449455446", "IETF", true},
	{"62225c", "\"\\", true},
	{"62c3bc", "\u00fc", true},
	{"63e6b0b4", "\u6c34", true},
	{"64f0908591", "\U00010151", true}, // "\ud800\udd51" in the RFC's notation
	{"80", []any{}, true},
	{"83010203", []any{int64(1), int64(2), int64(3)}, true},
	{"8301820203820405", []any{int64(1), []any{int64(2), int64(3)}, []any{int64(4), int64(5)}}, true},
	{"98190102030405060708090a0b0c0d0e0f101112131415161718181819", ints(1, 25), true},
	{"a0", map[string]any{}, true},
	{"a26161016162820203", map[string]any{"a": int64(1), "b": []any{int64(2), int64(3)}}, true},
	{"826161a161626163", []any{"a", map[string]any{"b": "c"}}, true},
	{"a56161614161626142616361436164614461656145", map[string]any{"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"}, true},
	{"5f42010243030405ff", []byte{1, 2, 3, 4, 5}, false},
	{"7f657374726561646d696e67ff", "streaming", false},
	{"9fff", []any{}, false},
	{"9f018202039f0405ffff", []any{int64(1), []any{int64(2), int64(3)}, []any{int64(4), int64(5)}}, false},
	{"9f01820203820405ff", []any{int64(1), []any{int64(2), int64(3)}, []any{int64(4), int64(5)}}, false},
	{"83018202039f0405ff", []any{int64(1), []any{int64(2), int64(3)}, []any{int64(4), int64(5)}}, false},
	{"83019f0203ff820405", []any{int64(1), []any{int64(2), int64(3)}, []any{int64(4), int64(5)}}, false},
	{"9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", ints(1, 25), false},
	{"bf61610161629f0203ffff", map[string]any{"a": int64(1), "b": []any{int64(2), int64(3)}}, false},
	{"826161bf61626163ff", []any{"a", map[string]any{"b": "c"}}, false},
	{"bf6346756ef563416d7421ff", map[string]any{"Fun": true, "Amt": int64(-2)}, false},
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRFC8949AppendixA(t *testing.T) {
	for _, tc := range rfcVectors {
		t.Run(tc.hex, func(t *testing.T) {
			in := mustHex(t, tc.hex)
			got, err := Unmarshal(in)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !equal(got, tc.want) {
				t.Fatalf("Unmarshal = %#v (%T), want %#v (%T)", got, got, tc.want, tc.want)
			}
			enc, err := Marshal(got)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if tc.canonical && hex.EncodeToString(enc) != tc.hex {
				t.Errorf("Marshal = %x, want %s", enc, tc.hex)
			}
			again, err := Unmarshal(enc)
			if err != nil {
				t.Fatalf("Unmarshal(Marshal): %v", err)
			}
			if !equal(again, tc.want) {
				t.Errorf("round trip = %#v, want %#v", again, tc.want)
			}
		})
	}
}

// The map with integer keys from Appendix A is well-formed but outside the
// text-keyed representation, so it is rejected.
func TestRFCIntegerKeyedMapRejected(t *testing.T) {
	for _, h := range []string{"a201020304", "a10102"} {
		_, err := Unmarshal(mustHex(t, h))
		if err == nil || !strings.Contains(err.Error(), "map key") {
			t.Errorf("Unmarshal(%s) error = %v, want map key error", h, err)
		}
	}
}
