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
		checkShape(t, s.m)
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

// checkShape asserts the B-tree invariants: item counts within bounds, sorted
// items, one more child than items, and all leaves at the same depth.
func checkShape(t *testing.T, m Map) {
	t.Helper()
	leafDepth := -1
	var walk func(n *node, depth int, root bool)
	walk = func(n *node, depth int, root bool) {
		if !root && (len(n.items) < minItems || len(n.items) > maxItems) {
			t.Fatalf("node with %d items", len(n.items))
		}
		for i := 1; i < len(n.items); i++ {
			if bytes.Compare(n.items[i-1].key, n.items[i].key) >= 0 {
				t.Fatal("node items out of order")
			}
		}
		if len(n.children) == 0 {
			if leafDepth == -1 {
				leafDepth = depth
			} else if leafDepth != depth {
				t.Fatalf("leaves at depths %d and %d", leafDepth, depth)
			}
			return
		}
		if len(n.children) != len(n.items)+1 {
			t.Fatalf("%d items, %d children", len(n.items), len(n.children))
		}
		for _, c := range n.children {
			walk(c, depth+1, false)
		}
	}
	if m.root != nil {
		walk(m.root, 0, true)
	}
}

func TestLargeRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ref := map[string]string{}
	var m Map
	var old []Map
	var oldRef []map[string]string
	for round := 0; round < 100; round++ {
		tx := m.Txn()
		// Grow then shrink so that splits, borrows and merges all happen.
		pDelete := 0.3
		if round >= 50 {
			pDelete = 0.8
		}
		for i := 0; i < 500; i++ {
			k := fmt.Sprintf("%05d", r.IntN(20000))
			if r.Float64() < pDelete {
				_, had := ref[k]
				if tx.Delete([]byte(k)) != had {
					t.Fatal("Delete result wrong")
				}
				delete(ref, k)
			} else {
				v := fmt.Sprint(round)
				tx.Put([]byte(k), []byte(v))
				ref[k] = v
			}
		}
		m = tx.Map()
		checkShape(t, m)
		if round%10 == 0 {
			old, oldRef = append(old, m), append(oldRef, cloneMap(ref))
		}
	}
	check(t, m, ref)
	keys := sortedKeys(ref)
	for i := 0; i < 200; i++ {
		a, b := fmt.Sprintf("%05d", r.IntN(20100)), fmt.Sprintf("%05d", r.IntN(20100))
		if i%10 == 0 {
			a = keys[r.IntN(len(keys))] // exact-key bounds
		}
		var want []string
		for _, k := range keys {
			if k >= a && k < b {
				want = append(want, k)
			}
		}
		var got []string
		m.Ascend([]byte(a), []byte(b), func(k, v []byte) bool { got = append(got, string(k)); return true })
		if !slices.Equal(got, want) {
			t.Fatalf("Ascend(%s,%s): %d keys, want %d", a, b, len(got), len(want))
		}
		got = got[:0]
		m.Descend([]byte(a), []byte(b), func(k, v []byte) bool { got = append(got, string(k)); return len(got) < 50 })
		slices.Reverse(want)
		if len(want) > 50 {
			want = want[:50]
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Descend(%s,%s): %d keys, want %d", a, b, len(got), len(want))
		}
	}
	for i := range old {
		checkShape(t, old[i])
		check(t, old[i], oldRef[i])
	}
	// Empty it completely.
	tx := m.Txn()
	for k := range ref {
		tx.Delete([]byte(k))
	}
	if e := tx.Map(); e.Len() != 0 || e.root != nil {
		t.Fatalf("emptied map: Len %d, root %v", e.Len(), e.root)
	}
}
