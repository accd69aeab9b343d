package dynamodb

import (
	"bytes"
	"math/big"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestParseNum(t *testing.T) {
	cases := map[string]string{
		"0": "0", "-0": "0", "00.000": "0", "1": "1", "1.50": "1.5", "1e2": "100", "-1.5E-3": "-0.0015",
		"+7": "7", "0.001": "0.001", "123.456": "123.456", "1E125": "1" + strings.Repeat("0", 125),
		"12345678901234567890123456789012345678": "12345678901234567890123456789012345678",
	}
	for in, want := range cases {
		n, e := parseNum(in)
		if e != numOK || n.String() != want {
			t.Errorf("parseNum(%q) = %q, %v; want %q", in, n.String(), e, want)
		}
	}
	bad := map[string]numErr{"": numSyntax, "abc": numSyntax, "1e": numSyntax, "1.2.3": numSyntax, "--1": numSyntax,
		"1E126": numOverflow, "1E-131": numUnderflow, "123456789012345678901234567890123456789": numPrecision}
	for in, want := range bad {
		if _, e := parseNum(in); e != want {
			t.Errorf("parseNum(%q) err = %v, want %v", in, e, want)
		}
	}
}

func TestNumKeyOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var nums []string
	for i := 0; i < 2000; i++ {
		var s string
		switch rng.Intn(4) {
		case 0:
			s = big.NewInt(rng.Int63n(1000) - 500).String()
		case 1:
			s = big.NewFloat(rng.NormFloat64()*1e6).Text('g', 10)
		case 2:
			s = big.NewFloat(rng.NormFloat64()*1e-6).Text('g', 12)
		default:
			s = big.NewFloat(rng.NormFloat64()).Text('f', rng.Intn(8))
		}
		nums = append(nums, s)
	}
	nums = append(nums, "0", "-0.1", "-0.12", "0.1", "0.12", "1", "10", "9.99", "-10", "-9.99")
	parsed := make([]num, len(nums))
	for i, s := range nums {
		n, e := parseNum(s)
		if e != numOK {
			t.Fatalf("parse %q: %v", s, e)
		}
		parsed[i] = n
	}
	sort.Slice(parsed, func(i, j int) bool { return cmpNum(parsed[i], parsed[j]) < 0 })
	for i := 1; i < len(parsed); i++ {
		a, b := appendNumKey(nil, parsed[i-1]), appendNumKey(nil, parsed[i])
		c := cmpNum(parsed[i-1], parsed[i])
		if (c < 0) != (bytes.Compare(a, b) < 0) || (c == 0) != bytes.Equal(a, b) {
			t.Fatalf("order mismatch %s vs %s", parsed[i-1], parsed[i])
		}
		// big.Float agrees with cmpNum
		x, _, _ := big.ParseFloat(parsed[i-1].String(), 10, 300, big.ToNearestEven)
		y, _, _ := big.ParseFloat(parsed[i].String(), 10, 300, big.ToNearestEven)
		if x.Cmp(y) > 0 {
			t.Fatalf("cmpNum wrong: %s > %s", parsed[i-1], parsed[i])
		}
		v, rest, ok := decodeKeyAV(a, tN)
		if !ok || len(rest) != 0 || v.s != parsed[i-1].String() {
			t.Fatalf("decode %s: %v %q", parsed[i-1], ok, v.s)
		}
	}
}

func TestAddNum(t *testing.T) {
	cases := [][3]string{{"1", "2", "3"}, {"0.1", "0.2", "0.3"}, {"-5", "5", "0"}, {"1e10", "-1", "9999999999"},
		{"99999999999999999999999999999999999999", "1", "100000000000000000000000000000000000000"}, {"12345678901234567890123456789012345678", "0.1", ""}}
	for _, c := range cases {
		a, _ := parseNum(c[0])
		b, _ := parseNum(c[1])
		r, e := addNum(a, b)
		if c[2] == "" {
			if e == numOK {
				t.Errorf("%s+%s: want error, got %s", c[0], c[1], r)
			}
			continue
		}
		if e != numOK || r.String() != c[2] {
			t.Errorf("%s+%s = %s (%v), want %s", c[0], c[1], r, e, c[2])
		}
	}
}

func TestStringKeyOrder(t *testing.T) {
	vals := []string{"", "\x00", "\x00\x00", "\x00a", "a", "a\x00", "a\x00b", "ab", "b", "\xff", "\xff\xff"}
	for i := 1; i < len(vals); i++ {
		a := appendKeyAV(nil, av{t: tS, s: vals[i-1]})
		b := appendKeyAV(nil, av{t: tS, s: vals[i]})
		if bytes.Compare(a, b) >= 0 {
			t.Errorf("%q !< %q", vals[i-1], vals[i])
		}
		v, rest, ok := decodeKeyAV(a, tS)
		if !ok || len(rest) != 0 || v.s != vals[i-1] {
			t.Errorf("decode %q", vals[i-1])
		}
	}
}

func TestItemEncodingRoundTrip(t *testing.T) {
	it := item{
		"s": {t: tS, s: "x"}, "n": {t: tN, s: "1.5"}, "b": {t: tB, s: "\x00\x01"}, "t": {t: tBOOL, b: true},
		"z": {t: tNULL, b: true}, "ss": {t: tSS, set: []string{"a", "b"}}, "ns": {t: tNS, set: []string{"1"}},
		"l": {t: tL, l: []av{{t: tS, s: "q"}, {t: tM, m: map[string]av{"k": {t: tN, s: "2"}}}}},
	}
	got, err := decodeItem(encodeItem(it))
	if err != nil || !itemEqual(got, it) {
		t.Fatalf("round trip: %v %v", got, err)
	}
}

func parseForTest(t *testing.T, kind, src string, names map[string]string, vals map[string]av) (*exprErr, *exprCtx) {
	t.Helper()
	ctx := newExprCtx(names, vals)
	var err *exprErr
	switch kind {
	case "cond":
		_, err = parseCondition(src, ctx)
	case "update":
		_, err = parseUpdate(src, ctx)
	case "proj":
		_, err = parseProjection(src, ctx)
	}
	return err, ctx
}

func TestExpressionErrors(t *testing.T) {
	vals := map[string]av{":s": {t: tS, s: "a"}, ":n": {t: tN, s: "1"}, ":n2": {t: tN, s: "5"}}
	names := map[string]string{"#a": "a"}
	cases := []struct{ kind, src, want string }{
		{"cond", "a = :s", ""},
		{"cond", "#a = :s AND (b < :n OR NOT c BETWEEN :n AND :n2)", ""},
		{"cond", "attribute_exists(a.b[2].c) AND size(x) > :n AND x IN (:n, :n2)", ""},
		{"cond", "a = ", `Syntax error; token: "<EOF>", near: "= "`},
		{"cond", "a = :missing", "An expression attribute value used in expression is not defined; attribute value: :missing"},
		{"cond", "#b = :s", "An expression attribute name used in the document path is not defined; attribute name: #b"},
		{"cond", "status = :s", "Attribute name is a reserved keyword; reserved keyword: status"},
		{"cond", "begins_with(a, :n)", "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		{"cond", "foo(a)", "Invalid function name; function: foo"},
		{"cond", "a BETWEEN :n2 AND :n", "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}"},
		{"cond", "attribute_type(a, :s)", "Invalid attribute type name found; type: a, valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }"},
		{"update", "SET a = :n, b = a + :n REMOVE c ADD d :n DELETE e :s", "Incorrect operand type for operator or function; operator: DELETE, operand type: STRING"},
		{"update", "SET a = :n, b = if_not_exists(b, :n) + :n, c = list_append(c, :n)", "Incorrect operand type for operator or function; operator or function: list_append, operand type: N"},
		{"update", "SET a = :n SET b = :n", `The "SET" section can only be used once in an update expression;`},
		{"update", "SET a = :n REMOVE a.b", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"},
		{"update", "ADD a :s", "Incorrect operand type for operator or function; operator: ADD, operand type: STRING"},
		{"update", "", "The expression can not be empty;"},
		{"proj", "a, b.c, d[1]", ""},
		{"proj", "a, a.b", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"},
	}
	for _, c := range cases {
		err, _ := parseForTest(t, c.kind, c.src, names, vals)
		got := ""
		if err != nil {
			got = err.msg
		}
		if got != c.want {
			t.Errorf("%s %q:\n got %q\nwant %q", c.kind, c.src, got, c.want)
		}
	}
}

func TestUpdateSemantics(t *testing.T) {
	vals := map[string]av{":one": {t: tN, s: "1"}, ":l": {t: tL, l: []av{{t: tS, s: "z"}}}, ":ss": {t: tSS, set: []string{"x"}}}
	old := item{"n": {t: tN, s: "5"}, "l": {t: tL, l: []av{{t: tS, s: "a"}, {t: tS, s: "b"}, {t: tS, s: "c"}}},
		"s": {t: tSS, set: []string{"x", "y"}}}
	acts, perr := parseUpdate("SET n = n + :one, l = list_append(l, :l), m = if_not_exists(m, :one) ADD c :one DELETE s :ss", newExprCtx(nil, vals))
	if perr != nil {
		t.Fatal(perr.msg)
	}
	it, uerr := applyUpdate(old, acts)
	if uerr != nil {
		t.Fatal(uerr.msg)
	}
	if it["n"].s != "6" || len(it["l"].l) != 4 || it["m"].s != "1" || it["c"].s != "1" || len(it["s"].set) != 1 {
		t.Fatalf("bad result %+v", it)
	}
	if old["n"].s != "5" || len(old["l"].l) != 3 {
		t.Fatal("old item modified")
	}
	acts, _ = parseUpdate("REMOVE l[0], l[2]", newExprCtx(nil, nil))
	it, _ = applyUpdate(old, acts)
	if got := it["l"].l; len(got) != 1 || got[0].s != "b" {
		t.Fatalf("remove list elems: %+v", got)
	}
	acts, _ = parseUpdate("SET x.y = :one", newExprCtx(nil, vals))
	if _, uerr := applyUpdate(old, acts); uerr == nil || uerr.msg != "The document path provided in the update expression is invalid for update" {
		t.Fatalf("nested set on missing parent: %v", uerr)
	}
}

func FuzzParseExpressions(f *testing.F) {
	for _, s := range []string{"a = :v", "SET a = a + :v REMOVE b[1].c", "attribute_exists(#n) AND size(a) > :v",
		"a BETWEEN :v AND :w OR NOT (b IN (:v, :w))", "x.y[3], #n.z", "ADD s :v DELETE t :w", "begins_with(a, :v)"} {
		f.Add(s)
	}
	vals := map[string]av{":v": {t: tN, s: "1"}, ":w": {t: tSS, set: []string{"a"}}}
	names := map[string]string{"#n": "n"}
	f.Fuzz(func(t *testing.T, src string) {
		old := item{"a": {t: tN, s: "3"}, "b": {t: tL, l: []av{{t: tM, m: map[string]av{"c": {t: tS, s: "q"}}}}}, "n": {t: tS, s: "x"}}
		if c, err := parseCondition(src, newExprCtx(names, vals)); err == nil {
			evalCond(c, old)
			evalCond(c, nil)
		}
		if acts, err := parseUpdate(src, newExprCtx(names, vals)); err == nil {
			applyUpdate(old, acts)
			applyUpdate(nil, acts)
		}
		if ps, err := parseProjection(src, newExprCtx(names, vals)); err == nil {
			projectPaths(old, ps)
		}
	})
}

func FuzzNumber(f *testing.F) {
	for _, s := range []string{"1", "-1.5e10", "0.000", "1E125", "9e-130", "12.3400"} {
		f.Add(s, "3.25")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		x, e1 := parseNum(a)
		y, e2 := parseNum(b)
		if e1 != numOK || e2 != numOK {
			return
		}
		// canonical form re-parses to itself
		x2, e := parseNum(x.String())
		if e != numOK || x2.String() != x.String() {
			t.Fatalf("canonical %q -> %q", a, x.String())
		}
		c := cmpNum(x, y)
		k := bytes.Compare(appendNumKey(nil, x), appendNumKey(nil, y))
		if c != k {
			t.Fatalf("order %s %s: cmp %d key %d", x, y, c, k)
		}
		addNum(x, y)
	})
}

func FuzzDecodeItem(f *testing.F) {
	f.Add(encodeItem(item{"a": {t: tL, l: []av{{t: tS, s: "x"}}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := decodeItem(b)
		w, _, werr := decodeWire(b)
		if (err == nil) != (werr == nil) || (err == nil && !reflect.DeepEqual(w, it.wire())) {
			t.Fatalf("decodeWire and decodeItem disagree on %x: %v / %v", b, err, werr)
		}
		decodeKeyAV(b, tN)
		decodeKeyAV(b, tS)
	})
}

func TestNumberFastPaths(t *testing.T) {
	for _, s := range []string{"0", "-0", "12345", "-12345", "00012", "12300", "1.5", "-0.00120", "1e5", "-1E-3", "99999999999999999999999999999999999999", "999999999999999999999999999999999999999", "+5", "", "-", "1.", "0.0"} {
		n, e := parseNum(s)
		want := ""
		if e == numOK {
			want = n.String()
		}
		got, err := canonNum(s)
		if (err == nil) != (e == numOK) || (err == nil && got != want) {
			t.Errorf("canonNum(%q) = %q, %v; want %q (%v)", s, got, err, want, e)
		}
		if e == numOK && numSize(s) != (len(n.digits)+1)/2+1 {
			t.Errorf("numSize(%q) = %d, want %d", s, numSize(s), (len(n.digits)+1)/2+1)
		}
	}
}

func TestDecodeWireMatchesItem(t *testing.T) {
	it := item{"s": {t: tS, s: "x"}, "n": {t: tN, s: "-12.5"}, "b": {t: tB, s: "\x00\x01"}, "t": {t: tBOOL, b: true},
		"z": {t: tNULL, b: true}, "ss": {t: tSS, set: []string{"a", "b"}}, "ns": {t: tNS, set: []string{"1", "20"}},
		"bs": {t: tBS, set: []string{"q"}}, "l": {t: tL, l: []av{{t: tS, s: "a"}, {t: tM, m: map[string]av{"k": {t: tN, s: "7"}}}}},
		"m": {t: tM, m: map[string]av{"in": {t: tL, l: []av{{t: tBOOL}}}}}}
	w, size, err := decodeWire(encodeItem(it))
	if err != nil || size != it.size() || !reflect.DeepEqual(w, it.wire()) {
		t.Fatalf("decodeWire: %v (size %d, want %d)\n%v\n%v", err, size, it.size(), w, it.wire())
	}
	if _, _, err := decodeWire([]byte{1, 1, 'k', tL, 5}); err == nil {
		t.Fatal("corrupt input decoded")
	}
}
