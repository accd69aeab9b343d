package ordered

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAgainstReference applies random writes to a Map and to a Go map and
// checks contents, order, bounds and that older snapshots never change.
func TestAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ref := map[string]string{}
	var m Map
	type snap struct {
		m   Map
		ref map[string]string
	}
	var snaps []snap
	for round := 0; round < 200; round++ {
		tx := m.Txn()
		for i := 0; i < 20; i++ {
			k := fmt.Sprintf("%03d", r.IntN(300))
			if r.IntN(3) == 0 {
				_, had := ref[k]
				if got := tx.Delete([]byte(k)); got != had {
					t.Fatalf("Delete(%s) = %v, want %v", k, got, had)
				}
				delete(ref, k)
			} else {
				v := fmt.Sprint(round, i)
				tx.Put([]byte(k), []byte(v))
				ref[k] = v
			}
			if i == 10 {
				_ = tx.Map() // a mid-transaction snapshot must not disturb the rest
			}
		}
		m = tx.Map()
		snaps = append(snaps, snap{m, cloneMap(ref)})
	}
	for _, s := range snaps {
		check(t, s.m, s.ref)
	}
	// Bounded scans in both directions.
	keys := sortedKeys(ref)
	for i := 0; i < 100; i++ {
		a, b := []byte(fmt.Sprintf("%03d", r.IntN(310))), []byte(fmt.Sprintf("%03d", r.IntN(310)))
		var want []string
		for _, k := range keys {
			if k >= string(a) && k < string(b) {
				want = append(want, k)
			}
		}
		var got []string
		m.Ascend(a, b, func(k, v []byte) bool { got = append(got, string(k)); return true })
		if !slices.Equal(got, want) {
			t.Fatalf("Ascend(%s,%s) = %v, want %v", a, b, got, want)
		}
		got = got[:0]
		m.Descend(a, b, func(k, v []byte) bool { got = append(got, string(k)); return true })
		slices.Reverse(want)
		if !slices.Equal(got, want) {
			t.Fatalf("Descend(%s,%s) = %v, want %v", a, b, got, want)
		}
	}
}

func cloneMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func check(t *testing.T, m Map, ref map[string]string) {
	t.Helper()
	if m.Len() != len(ref) {
		t.Fatalf("Len = %d, want %d", m.Len(), len(ref))
	}
	var got []string
	var prev []byte
	m.Ascend(nil, nil, func(k, v []byte) bool {
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			t.Fatalf("out of order: %s then %s", prev, k)
		}
		prev = k
		if ref[string(k)] != string(v) {
			t.Fatalf("%s = %s, want %s", k, v, ref[string(k)])
		}
		got = append(got, string(k))
		return true
	})
	if !slices.Equal(got, sortedKeys(ref)) {
		t.Fatalf("keys differ")
	}
}
