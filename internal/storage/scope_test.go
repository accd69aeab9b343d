package storage

import (
	"bytes"
	"slices"
	"sort"
	"testing"
)

func TestScopeOrderMatchesTupleOrder(t *testing.T) {
	s := Scope{Service: "s3", Account: "000000000000", Region: "us-east-1"}
	tuples := [][]string{
		{"a"}, {"a", ""}, {"a", "\x00"}, {"a", "\xff"}, {"a", "b"},
		{"a\x00"}, {"a\x00", "z"}, {"a\x01"}, {"a/b"}, {"ab"}, {""}, {"\xff\xff"},
	}
	want := slices.Clone(tuples)
	slices.SortFunc(want, func(x, y []string) int { return slices.Compare(x, y) })
	got := slices.Clone(tuples)
	sort.Slice(got, func(i, j int) bool { return bytes.Compare(s.Key(got[i]...), s.Key(got[j]...)) < 0 })
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("order %d: got %q, want %q", i, got[i], want[i])
		}
	}
	for _, tu := range tuples {
		parts, err := s.Parts(s.Key(tu...))
		if err != nil || !slices.Equal(parts, tu) {
			t.Fatalf("Parts(Key(%q)) = %q, %v", tu, parts, err)
		}
	}
}

func TestScopeRanges(t *testing.T) {
	s := Scope{Service: "s3", Account: "1", Region: "r"}
	other := Scope{Service: "s3", Account: "1", Region: "r2"}
	in := func(k, start, end []byte) bool {
		return bytes.Compare(k, start) >= 0 && (end == nil || bytes.Compare(k, end) < 0)
	}
	start, end := s.Range("object", "bkt")
	if !in(s.Key("object", "bkt", "x"), start, end) || in(s.Key("object", "bkt2", "x"), start, end) ||
		in(other.Key("object", "bkt", "x"), start, end) {
		t.Fatal("Range bounds wrong")
	}
	start, end = s.PrefixRange([]string{"object", "bkt"}, "photos/")
	for k, want := range map[string]bool{"photos/": true, "photos/a": true, "photos": false, "photosx": false, "photos0": false} {
		if got := in(s.Key("object", "bkt", k), start, end); got != want {
			t.Errorf("PrefixRange contains %q = %v, want %v", k, got, want)
		}
	}
	sc, parts, err := DecodeKey(s.Key("object", "bkt"))
	if err != nil || sc != s || !slices.Equal(parts, []string{"object", "bkt"}) {
		t.Fatalf("DecodeKey = %v %q %v", sc, parts, err)
	}
	start, end = ServiceRange("s3")
	if !in(s.Key("x"), start, end) || in(Scope{Service: "s3x"}.Key(), start, end) {
		t.Fatal("ServiceRange bounds wrong")
	}
	if PrefixEnd([]byte{0xff}) != nil || !bytes.Equal(PrefixEnd([]byte{1, 0xff}), []byte{2}) {
		t.Fatal("PrefixEnd wrong")
	}
	if _, err := s.Parts(other.Key("a")); err == nil {
		t.Fatal("Parts accepted a key from another scope")
	}
}
