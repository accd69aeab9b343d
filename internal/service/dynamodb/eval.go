package dynamodb

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// resolve returns the value at p in it.
func resolve(it item, p path) (av, bool) {
	cur, ok := it[p[0].name]
	if !ok {
		return av{}, false
	}
	for _, e := range p[1:] {
		if e.isIdx {
			if cur.t != tL || e.idx >= len(cur.l) {
				return av{}, false
			}
			cur = cur.l[e.idx]
		} else {
			if cur.t != tM {
				return av{}, false
			}
			cur, ok = cur.m[e.name]
			if !ok {
				return av{}, false
			}
		}
	}
	return cur, true
}

// operandValue evaluates a condition operand against it.
func operandValue(it item, o *operand) (av, bool) {
	switch o.kind {
	case opValue:
		return o.val, true
	case opPath:
		return resolve(it, o.path)
	case opSize:
		v, ok := resolve(it, o.path)
		if !ok {
			return av{}, false
		}
		var n int
		switch v.t {
		case tS, tB:
			n = len(v.s)
		case tSS, tNS, tBS:
			n = len(v.set)
		case tL:
			n = len(v.l)
		case tM:
			n = len(v.m)
		default:
			return av{}, false
		}
		return av{t: tN, s: strconv.Itoa(n)}, true
	}
	return av{}, false
}

// evalCond evaluates c against it (nil means the item does not exist).
func evalCond(c *cond, it item) bool {
	switch c.kind {
	case cAnd:
		return evalCond(c.sub[0], it) && evalCond(c.sub[1], it)
	case cOr:
		return evalCond(c.sub[0], it) || evalCond(c.sub[1], it)
	case cNot:
		return !evalCond(c.sub[0], it)
	case cExists:
		_, ok := resolve(it, c.ops[0].path)
		return ok
	case cNotExists:
		_, ok := resolve(it, c.ops[0].path)
		return !ok
	case cType:
		v, ok := resolve(it, c.ops[0].path)
		t, ok2 := operandValue(it, c.ops[1])
		if !ok || !ok2 || t.t != tS {
			return false
		}
		return typeName(v.t) == t.s
	case cBeginsWith:
		v, ok := operandValue(it, c.ops[0])
		pre, ok2 := operandValue(it, c.ops[1])
		if !ok || !ok2 || v.t != pre.t || (v.t != tS && v.t != tB) {
			return false
		}
		return strings.HasPrefix(v.s, pre.s)
	case cContains:
		v, ok := operandValue(it, c.ops[0])
		x, ok2 := operandValue(it, c.ops[1])
		if !ok || !ok2 {
			return false
		}
		switch v.t {
		case tS:
			return x.t == tS && strings.Contains(v.s, x.s)
		case tB:
			return x.t == tB && bytes.Contains([]byte(v.s), []byte(x.s))
		case tSS:
			return x.t == tS && setHas(v.set, x.s)
		case tBS:
			return x.t == tB && setHas(v.set, x.s)
		case tNS:
			return x.t == tN && setHas(v.set, x.s)
		case tL:
			for _, e := range v.l {
				if avEqual(e, x) {
					return true
				}
			}
		}
		return false
	case cCompare:
		a, ok1 := operandValue(it, c.ops[0])
		b, ok2 := operandValue(it, c.ops[1])
		if c.op == "<>" {
			if !ok1 || !ok2 {
				return ok1 != ok2
			}
			return !avEqual(a, b)
		}
		if !ok1 || !ok2 {
			return false
		}
		if c.op == "=" {
			return avEqual(a, b)
		}
		if a.t != b.t || !isScalarKey(a.t) {
			return false
		}
		r := compareAV(a, b)
		switch c.op {
		case "<":
			return r < 0
		case "<=":
			return r <= 0
		case ">":
			return r > 0
		case ">=":
			return r >= 0
		}
	case cBetween:
		a, ok1 := operandValue(it, c.ops[0])
		lo, ok2 := operandValue(it, c.ops[1])
		hi, ok3 := operandValue(it, c.ops[2])
		if !ok1 || !ok2 || !ok3 || a.t != lo.t || a.t != hi.t || !isScalarKey(a.t) {
			return false
		}
		return compareAV(a, lo) >= 0 && compareAV(a, hi) <= 0
	case cIn:
		a, ok := operandValue(it, c.ops[0])
		if !ok {
			return false
		}
		for _, o := range c.ops[1:] {
			if b, ok := operandValue(it, o); ok && avEqual(a, b) {
				return true
			}
		}
	}
	return false
}

// ---- updates ----

type updErr struct{ msg string }

func errIncorrectType() *updErr {
	return &updErr{"An operand in the update expression has an incorrect data type"}
}

// setValue evaluates the right-hand side of a SET against the original item.
func evalSetValue(it item, o *operand) (av, *updErr) {
	switch o.kind {
	case opValue:
		return o.val, nil
	case opPath:
		v, ok := resolve(it, o.path)
		if !ok {
			return av{}, &updErr{"The provided expression refers to an attribute that does not exist in the item"}
		}
		return v, nil
	case opIfNotExists:
		if v, ok := resolve(it, o.args[0].path); ok {
			return v, nil
		}
		return evalSetValue(it, o.args[1])
	case opListAppend:
		a, err := evalSetValue(it, o.args[0])
		if err != nil {
			return av{}, err
		}
		b, err := evalSetValue(it, o.args[1])
		if err != nil {
			return av{}, err
		}
		if a.t != tL || b.t != tL {
			return av{}, errIncorrectType()
		}
		l := make([]av, 0, len(a.l)+len(b.l))
		l = append(append(l, a.l...), b.l...)
		return av{t: tL, l: l}, nil
	case opPlus, opMinus:
		a, err := evalSetValue(it, o.args[0])
		if err != nil {
			return av{}, err
		}
		b, err := evalSetValue(it, o.args[1])
		if err != nil {
			return av{}, err
		}
		if a.t != tN || b.t != tN {
			return av{}, errIncorrectType()
		}
		x, _ := parseNum(a.s)
		y, _ := parseNum(b.s)
		if o.kind == opMinus {
			y = negNum(y)
		}
		r, e := addNum(x, y)
		if e != numOK {
			return av{}, &updErr{numError(e).(*awserr.Error).Message}
		}
		return av{t: tN, s: r.String()}, nil
	}
	return av{}, errIncorrectType()
}

// cloneAV deep-copies containers so an update never aliases the old item.
func cloneAV(a av) av {
	switch a.t {
	case tL:
		l := make([]av, len(a.l))
		for i, e := range a.l {
			l[i] = cloneAV(e)
		}
		a.l = l
	case tM:
		m := make(map[string]av, len(a.m))
		for k, e := range a.m {
			m[k] = cloneAV(e)
		}
		a.m = m
	case tSS, tNS, tBS:
		a.set = append([]string(nil), a.set...)
	}
	return a
}

var errBadPath = &updErr{"The document path provided in the update expression is invalid for update"}

// assign sets p in it to v; nested parents must exist.
func assign(it item, p path, v av) *updErr {
	if len(p) == 1 {
		it[p[0].name] = v
		return nil
	}
	root, ok := it[p[0].name]
	if !ok {
		return errBadPath
	}
	root = cloneAV(root)
	if err := assignIn(&root, p[1:], v); err != nil {
		return err
	}
	it[p[0].name] = root
	return nil
}

func assignIn(cur *av, p path, v av) *updErr {
	e := p[0]
	last := len(p) == 1
	if e.isIdx {
		if cur.t != tL {
			return errBadPath
		}
		if e.idx >= len(cur.l) {
			if !last {
				return errBadPath
			}
			cur.l = append(cur.l, v)
			return nil
		}
		if last {
			cur.l[e.idx] = v
			return nil
		}
		return assignIn(&cur.l[e.idx], p[1:], v)
	}
	if cur.t != tM {
		return errBadPath
	}
	if last {
		cur.m[e.name] = v
		return nil
	}
	child, ok := cur.m[e.name]
	if !ok {
		return errBadPath
	}
	if err := assignIn(&child, p[1:], v); err != nil {
		return err
	}
	cur.m[e.name] = child
	return nil
}

// remove deletes p from it (missing paths are ignored).
func remove(it item, p path) {
	if len(p) == 1 {
		delete(it, p[0].name)
		return
	}
	root, ok := it[p[0].name]
	if !ok {
		return
	}
	root = cloneAV(root)
	removeIn(&root, p[1:])
	it[p[0].name] = root
}

func removeIn(cur *av, p path) {
	e := p[0]
	if e.isIdx {
		if cur.t != tL || e.idx >= len(cur.l) {
			return
		}
		if len(p) == 1 {
			cur.l = append(cur.l[:e.idx:e.idx], cur.l[e.idx+1:]...)
			return
		}
		removeIn(&cur.l[e.idx], p[1:])
		return
	}
	if cur.t != tM {
		return
	}
	if len(p) == 1 {
		delete(cur.m, e.name)
		return
	}
	child, ok := cur.m[e.name]
	if !ok {
		return
	}
	removeIn(&child, p[1:])
	cur.m[e.name] = child
}

// applyUpdate applies actions to a copy of old (which may be nil) and
// returns the new item.
func applyUpdate(old item, acts []updateAction) (item, *updErr) {
	it := item{}
	for k, v := range old {
		it[k] = v
	}
	src := old
	if src == nil {
		src = item{}
	}
	// SET values are computed from the original item.
	vals := make([]av, len(acts))
	for i, a := range acts {
		if a.kind == "SET" {
			v, err := evalSetValue(src, a.val)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
	}
	var removes []path
	for i, a := range acts {
		switch a.kind {
		case "SET":
			if err := assign(it, a.path, vals[i]); err != nil {
				return nil, err
			}
		case "REMOVE":
			removes = append(removes, a.path)
		case "ADD":
			cur, ok := resolve(it, a.path)
			v := a.val.val
			var nv av
			switch {
			case !ok:
				nv = v
			case cur.t == tN && v.t == tN:
				x, _ := parseNum(cur.s)
				y, _ := parseNum(v.s)
				r, e := addNum(x, y)
				if e != numOK {
					return nil, &updErr{numError(e).(*awserr.Error).Message}
				}
				nv = av{t: tN, s: r.String()}
			case cur.t == v.t && (v.t == tSS || v.t == tNS || v.t == tBS):
				set := append([]string(nil), cur.set...)
				for _, x := range v.set {
					if !setHas(set, x) {
						set = append(set, x)
					}
				}
				nv = av{t: v.t, set: set}
			default:
				return nil, errIncorrectType()
			}
			if err := assign(it, a.path, nv); err != nil {
				return nil, err
			}
		case "DELETE":
			cur, ok := resolve(it, a.path)
			if !ok {
				continue
			}
			v := a.val.val
			if cur.t != v.t {
				return nil, errIncorrectType()
			}
			var set []string
			for _, x := range cur.set {
				if !setHas(v.set, x) {
					set = append(set, x)
				}
			}
			if len(set) == 0 {
				removes = append(removes, a.path)
				continue
			}
			if err := assign(it, a.path, av{t: v.t, set: set}); err != nil {
				return nil, err
			}
		}
	}
	// Remove list elements from the highest index down so earlier indexes
	// keep referring to the original positions.
	for i := 1; i < len(removes); i++ {
		for j := i; j > 0 && pathAfter(removes[j], removes[j-1]); j-- {
			removes[j], removes[j-1] = removes[j-1], removes[j]
		}
	}
	for _, p := range removes {
		remove(it, p)
	}
	return it, nil
}

// pathAfter reports whether a should be removed before b (a has a higher
// index at the first differing list position).
func pathAfter(a, b path) bool {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return a[i].isIdx && b[i].isIdx && a[i].idx > b[i].idx
		}
	}
	return false
}

// ---- projection ----

// projectPaths returns the parts of it named by paths.
func projectPaths(it item, paths []path) item {
	out := item{}
	for _, p := range paths {
		v, ok := resolve(it, p)
		if !ok {
			continue
		}
		if len(p) == 1 {
			out[p[0].name] = v
			continue
		}
		root, has := out[p[0].name]
		orig := it[p[0].name]
		if !has {
			root = emptyLike(orig)
		}
		mergeProj(&root, orig, p[1:], v)
		out[p[0].name] = root
	}
	return out
}

func emptyLike(a av) av {
	if a.t == tL {
		return av{t: tL, l: []av{}}
	}
	return av{t: tM, m: map[string]av{}}
}

// mergeProj places v (found at p under orig) into dst, which mirrors orig.
// List elements keep their relative order, compacted as DynamoDB returns them.
func mergeProj(dst *av, orig av, p path, v av) {
	e := p[0]
	if e.isIdx {
		child := orig.l[e.idx]
		var target av
		if len(p) == 1 {
			target = v
		} else {
			target = emptyLike(child)
		}
		// lists in projections are appended in path order
		if len(p) > 1 {
			mergeProj(&target, child, p[1:], v)
		}
		dst.l = append(dst.l, target)
		return
	}
	child := orig.m[e.name]
	if len(p) == 1 {
		dst.m[e.name] = v
		return
	}
	sub, ok := dst.m[e.name]
	if !ok {
		sub = emptyLike(child)
	}
	mergeProj(&sub, child, p[1:], v)
	dst.m[e.name] = sub
}
