// Package ordered is the in-memory ordered map shared by the memory and disk
// stores: a persistent (copy-on-write) B-tree keyed by byte strings.
//
// A Map is an immutable snapshot: readers hold one without locks while a writer
// builds the next version in a Txn. A Txn copies only the nodes on the paths it
// changes, and copies each node at most once (nodes it already owns are updated
// in place), so a transaction of n writes over a map of size N costs
// O(n log N) time and leaves every earlier Map intact.
package ordered

import (
	"bytes"
	"sort"
)

const (
	maxItems = 15 // per node; a node splits when full
	minItems = maxItems / 2
)

type item struct{ key, val []byte }

// node holds sorted items and, unless it is a leaf, len(items)+1 children:
// children[i] holds the keys between items[i-1] and items[i].
type node struct {
	items    []item
	children []*node
	owner    *owner // the Txn allowed to modify this node in place
}

// owner identifies a Txn generation; it has non-zero size so that every
// allocation is a distinct pointer.
type owner struct{ _ byte }

// find returns the index of the first item whose key is >= key, and whether
// it is equal.
func (n *node) find(key []byte) (int, bool) {
	i := sort.Search(len(n.items), func(i int) bool { return bytes.Compare(n.items[i].key, key) >= 0 })
	return i, i < len(n.items) && bytes.Equal(n.items[i].key, key)
}

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
	for n := m.root; n != nil; {
		i, found := n.find(key)
		if found {
			return n.items[i].val, true
		}
		if len(n.children) == 0 {
			break
		}
		n = n.children[i]
	}
	return nil, false
}

// Ascend calls fn for each key in [start, end) in ascending order until fn
// returns false; nil bounds are unbounded. The slices belong to the Map.
func (m Map) Ascend(start, end []byte, fn func(k, v []byte) bool) {
	if m.root != nil {
		m.root.ascend(start, end, fn)
	}
}

// Descend is Ascend in descending order.
func (m Map) Descend(start, end []byte, fn func(k, v []byte) bool) {
	if m.root != nil {
		m.root.descend(start, end, fn)
	}
}

// ascend returns false once the walk must stop: fn said so or end was reached.
func (n *node) ascend(start, end []byte, fn func(k, v []byte) bool) bool {
	i := 0
	if start != nil {
		i, _ = n.find(start)
	}
	for ; i <= len(n.items); i++ {
		if len(n.children) > 0 && !n.children[i].ascend(start, end, fn) {
			return false
		}
		if i == len(n.items) {
			break
		}
		it := n.items[i]
		if end != nil && bytes.Compare(it.key, end) >= 0 {
			return false
		}
		if !fn(it.key, it.val) {
			return false
		}
	}
	return true
}

func (n *node) descend(start, end []byte, fn func(k, v []byte) bool) bool {
	i := len(n.items)
	if end != nil {
		i, _ = n.find(end) // items[i-1] is the last item below end
	}
	for ; i >= 0; i-- {
		if len(n.children) > 0 && !n.children[i].descend(start, end, fn) {
			return false
		}
		if i == 0 {
			break
		}
		it := n.items[i-1]
		if start != nil && bytes.Compare(it.key, start) < 0 {
			return false
		}
		if !fn(it.key, it.val) {
			return false
		}
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

// mut returns n if t may modify it in place, else a copy t owns.
func (t *Txn) mut(n *node) *node {
	if n.owner == t.own {
		return n
	}
	c := &node{owner: t.own, items: make([]item, len(n.items), maxItems+1)}
	copy(c.items, n.items)
	if len(n.children) > 0 {
		c.children = make([]*node, len(n.children), maxItems+2)
		copy(c.children, n.children)
	}
	return c
}

// Put sets key to val. The Txn takes ownership of both slices.
func (t *Txn) Put(key, val []byte) {
	it := item{key, val}
	if t.m.root == nil {
		t.m.root = &node{owner: t.own, items: append(make([]item, 0, maxItems+1), it)}
		t.m.n = 1
		return
	}
	root := t.mut(t.m.root)
	if len(root.items) >= maxItems {
		mid, right := t.split(root, maxItems/2)
		top := &node{owner: t.own, items: make([]item, 0, maxItems+1), children: make([]*node, 0, maxItems+2)}
		top.items = append(top.items, mid)
		top.children = append(top.children, root, right)
		root = top
	}
	t.m.root = root
	if t.insert(root, it) {
		t.m.n++
	}
}

// split moves the items after i (and their children) of the owned node n to
// a new node, and returns the item at i with the new node.
func (t *Txn) split(n *node, i int) (item, *node) {
	mid := n.items[i]
	right := &node{owner: t.own, items: make([]item, 0, maxItems+1)}
	right.items = append(right.items, n.items[i+1:]...)
	clear(n.items[i:])
	n.items = n.items[:i]
	if len(n.children) > 0 {
		right.children = make([]*node, 0, maxItems+2)
		right.children = append(right.children, n.children[i+1:]...)
		clear(n.children[i+1:])
		n.children = n.children[:i+1]
	}
	return mid, right
}

// insert adds it under the owned, non-full node n and reports whether the key is new.
func (t *Txn) insert(n *node, it item) bool {
	i, found := n.find(it.key)
	if found {
		n.items[i] = it
		return false
	}
	if len(n.children) == 0 {
		n.items = append(n.items, item{})
		copy(n.items[i+1:], n.items[i:])
		n.items[i] = it
		return true
	}
	child := t.mut(n.children[i])
	n.children[i] = child
	if len(child.items) >= maxItems {
		mid, right := t.split(child, maxItems/2)
		n.items = append(n.items, item{})
		copy(n.items[i+1:], n.items[i:])
		n.items[i] = mid
		n.children = append(n.children, nil)
		copy(n.children[i+2:], n.children[i+1:])
		n.children[i+1] = right
		switch c := bytes.Compare(it.key, mid.key); {
		case c == 0:
			n.items[i] = it
			return false
		case c > 0:
			child = right
		}
	}
	return t.insert(child, it)
}

// Delete removes key and reports whether it was present.
func (t *Txn) Delete(key []byte) bool {
	if _, ok := t.m.Get(key); !ok {
		return false // copy nothing
	}
	root := t.mut(t.m.root)
	t.remove(root, key, false)
	switch {
	case len(root.items) > 0:
		t.m.root = root
	case len(root.children) > 0:
		t.m.root = root.children[0]
	default:
		t.m.root = nil
	}
	t.m.n--
	return true
}

// remove deletes key (or, if max is set, the greatest item) from the subtree
// of the owned node n, which the caller guarantees holds it, and returns the
// removed item. Children are topped up before descending so that a removal
// never leaves a node below minItems (google/btree's algorithm).
func (t *Txn) remove(n *node, key []byte, max bool) item {
	var i int
	var found bool
	if max {
		i = len(n.items)
	} else {
		i, found = n.find(key)
	}
	if len(n.children) == 0 {
		if max {
			i = len(n.items) - 1
		}
		out := n.items[i]
		copy(n.items[i:], n.items[i+1:])
		n.items[len(n.items)-1] = item{}
		n.items = n.items[:len(n.items)-1]
		return out
	}
	if len(n.children[i].items) <= minItems {
		t.grow(n, i)
		return t.remove(n, key, max)
	}
	child := t.mut(n.children[i])
	n.children[i] = child
	if found {
		out := n.items[i]
		n.items[i] = t.remove(child, nil, true) // its predecessor
		return out
	}
	return t.remove(child, key, max)
}

// grow gives children[i] of the owned node n more than minItems items, by
// taking one from a sibling or merging with one.
func (t *Txn) grow(n *node, i int) {
	switch {
	case i > 0 && len(n.children[i-1].items) > minItems:
		child, left := t.mut(n.children[i]), t.mut(n.children[i-1])
		n.children[i], n.children[i-1] = child, left
		child.items = append(child.items, item{})
		copy(child.items[1:], child.items)
		child.items[0] = n.items[i-1]
		n.items[i-1] = left.items[len(left.items)-1]
		left.items[len(left.items)-1] = item{}
		left.items = left.items[:len(left.items)-1]
		if len(left.children) > 0 {
			child.children = append(child.children, nil)
			copy(child.children[1:], child.children)
			child.children[0] = left.children[len(left.children)-1]
			left.children[len(left.children)-1] = nil
			left.children = left.children[:len(left.children)-1]
		}
	case i < len(n.items) && len(n.children[i+1].items) > minItems:
		child, right := t.mut(n.children[i]), t.mut(n.children[i+1])
		n.children[i], n.children[i+1] = child, right
		child.items = append(child.items, n.items[i])
		n.items[i] = right.items[0]
		copy(right.items, right.items[1:])
		right.items[len(right.items)-1] = item{}
		right.items = right.items[:len(right.items)-1]
		if len(right.children) > 0 {
			child.children = append(child.children, right.children[0])
			copy(right.children, right.children[1:])
			right.children[len(right.children)-1] = nil
			right.children = right.children[:len(right.children)-1]
		}
	default:
		if i >= len(n.items) {
			i--
		}
		child, right := t.mut(n.children[i]), n.children[i+1]
		n.children[i] = child
		child.items = append(child.items, n.items[i])
		child.items = append(child.items, right.items...)
		child.children = append(child.children, right.children...)
		copy(n.items[i:], n.items[i+1:])
		n.items[len(n.items)-1] = item{}
		n.items = n.items[:len(n.items)-1]
		copy(n.children[i+1:], n.children[i+2:])
		n.children[len(n.children)-1] = nil
		n.children = n.children[:len(n.children)-1]
	}
}
