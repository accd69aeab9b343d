// Package ordered is the in-memory ordered map shared by the memory and disk
// stores: a persistent (copy-on-write) treap keyed by byte strings.
//
// A Map is an immutable snapshot: readers hold one without locks while a writer
// builds the next version in a Txn. A Txn copies only the nodes on the paths it
// changes, and copies each node at most once (nodes it already owns are updated
// in place), so a transaction of n writes over a map of size N costs
// O(n log N) time and allocations and leaves every earlier Map intact.
package ordered

import (
	"bytes"
	"math/rand/v2"
)

type node struct {
	key, val    []byte
	prio        uint32
	left, right *node
	owner       *owner // the Txn allowed to modify this node in place
}

// owner identifies a Txn generation; it has non-zero size so that every
// allocation is a distinct pointer.
type owner struct{ _ byte }

// Map is an immutable ordered map from byte strings to byte strings. The zero
// Map is empty. Keys and values inside a Map MUST NOT be modified.
type Map struct {
	root *node
	n    int
}

// Len returns the number of keys.
func (m Map) Len() int { return m.n }

// Get returns the value under key; the slice belongs to the Map.
func (m Map) Get(key []byte) ([]byte, bool) {
	n := m.root
	for n != nil {
		switch c := bytes.Compare(key, n.key); {
		case c < 0:
			n = n.left
		case c > 0:
			n = n.right
		default:
			return n.val, true
		}
	}
	return nil, false
}

// Ascend calls fn for each key in [start, end) in ascending order until fn
// returns false; nil bounds are unbounded. The slices belong to the Map.
func (m Map) Ascend(start, end []byte, fn func(k, v []byte) bool) {
	ascend(m.root, start, end, fn)
}

// Descend is Ascend in descending order.
func (m Map) Descend(start, end []byte, fn func(k, v []byte) bool) {
	descend(m.root, start, end, fn)
}

func ascend(n *node, start, end []byte, fn func(k, v []byte) bool) bool {
	for n != nil {
		cs := 1 // n.key compared with start
		if start != nil {
			cs = bytes.Compare(n.key, start)
		}
		ltEnd := end == nil || bytes.Compare(n.key, end) < 0
		// The left subtree holds keys below n.key: some may be >= start only
		// if n.key > start. The right subtree holds keys above n.key: some may
		// be < end only if n.key < end.
		if cs > 0 && !ascend(n.left, start, end, fn) {
			return false
		}
		if cs >= 0 && ltEnd && !fn(n.key, n.val) {
			return false
		}
		if !ltEnd {
			return true
		}
		n = n.right
	}
	return true
}

func descend(n *node, start, end []byte, fn func(k, v []byte) bool) bool {
	for n != nil {
		cs := 1
		if start != nil {
			cs = bytes.Compare(n.key, start)
		}
		ltEnd := end == nil || bytes.Compare(n.key, end) < 0
		if ltEnd && !descend(n.right, start, end, fn) {
			return false
		}
		if cs >= 0 && ltEnd && !fn(n.key, n.val) {
			return false
		}
		if cs <= 0 {
			return true
		}
		n = n.left
	}
	return true
}

// Txn builds a new version of a Map. It is not safe for concurrent use.
type Txn struct {
	m   Map
	own *owner
}

// Txn starts building a new version of m; m itself never changes.
func (m Map) Txn() *Txn { return &Txn{m: m, own: new(owner)} }

// Map returns the current version. Later writes to t do not affect it.
func (t *Txn) Map() Map {
	t.own = new(owner) // nodes owned so far are now shared with the returned Map
	return t.m
}

// Get returns the value under key in the current version.
func (t *Txn) Get(key []byte) ([]byte, bool) { return t.m.Get(key) }

// Put sets key to val. The Txn takes ownership of both slices.
func (t *Txn) Put(key, val []byte) {
	added := false
	t.m.root = t.insert(t.m.root, key, val, &added)
	if added {
		t.m.n++
	}
}

// Delete removes key and reports whether it was present.
func (t *Txn) Delete(key []byte) bool {
	found := false
	t.m.root = t.del(t.m.root, key, &found)
	if found {
		t.m.n--
	}
	return found
}

// mut returns n if t may modify it in place, else a copy t owns.
func (t *Txn) mut(n *node) *node {
	if n.owner == t.own {
		return n
	}
	c := *n
	c.owner = t.own
	return &c
}

func (t *Txn) insert(n *node, key, val []byte, added *bool) *node {
	if n == nil {
		*added = true
		return &node{key: key, val: val, prio: rand.Uint32(), owner: t.own}
	}
	switch c := bytes.Compare(key, n.key); {
	case c < 0:
		l := t.insert(n.left, key, val, added)
		n = t.mut(n)
		n.left = l
		if l.prio > n.prio { // rotate right; l is owned by t
			n.left, l.right = l.right, n
			return l
		}
	case c > 0:
		r := t.insert(n.right, key, val, added)
		n = t.mut(n)
		n.right = r
		if r.prio > n.prio { // rotate left
			n.right, r.left = r.left, n
			return r
		}
	default:
		n = t.mut(n)
		n.val = val
	}
	return n
}

func (t *Txn) del(n *node, key []byte, found *bool) *node {
	if n == nil {
		return nil
	}
	switch c := bytes.Compare(key, n.key); {
	case c < 0:
		l := t.del(n.left, key, found)
		if !*found {
			return n
		}
		n = t.mut(n)
		n.left = l
	case c > 0:
		r := t.del(n.right, key, found)
		if !*found {
			return n
		}
		n = t.mut(n)
		n.right = r
	default:
		*found = true
		return t.merge(n.left, n.right)
	}
	return n
}

// merge joins two treaps where every key of a is below every key of b.
func (t *Txn) merge(a, b *node) *node {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	if a.prio > b.prio {
		a = t.mut(a)
		a.right = t.merge(a.right, b)
		return a
	}
	b = t.mut(b)
	b.left = t.merge(a, b.left)
	return b
}
