package dynamodb

import (
	"errors"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

const pageLimit = 1 << 20 // 1 MB of evaluated data per Query/Scan page

// readPlan is a Query or Scan.
type readPlan struct {
	t        *table
	ix       *index
	ranges   [][2][]byte // [start, end) ranges in order
	reverse  bool
	limit    int
	filter   *cond
	proj     *projector
	count    bool
	fetchAll bool // LSI: read the table item
	esk      []byte
	shape    func(item) item // replaces proj when set (PartiQL projections)
	bytes    int             // set by runRead: the size of the evaluated items
	lastKey  []byte          // set by runRead: the storage key of the last evaluated entry
}

func (s *Service) runRead(p *readPlan) (map[string]any, error) {
	var items []any
	var count, scanned int
	var size int
	var last item
	err := s.kv.View(func(tx storage.Tx) error {
		for _, rg := range p.ranges {
			start, end := rg[0], rg[1]
			if p.esk != nil {
				if p.reverse {
					if end == nil || string(p.esk) < string(end) {
						end = p.esk
					}
				} else {
					next := append(append([]byte{}, p.esk...), 0)
					if string(next) > string(start) {
						start = next
					}
				}
				if end != nil && string(start) >= string(end) {
					continue
				}
			}
			var ierr error
			// Whole items with nothing to evaluate go straight to the wire.
			plain := p.filter == nil && p.shape == nil && p.proj == nil && !p.fetchAll && !p.count
			fn := func(k, v []byte) bool {
				if plain {
					w, sz, err := decodeWire(v)
					if err != nil {
						ierr = err
						return false
					}
					scanned++
					count++
					size += sz
					items = append(items, w)
					if scanned == p.limit || size >= pageLimit {
						p.lastKey = append(p.lastKey[:0], k...)
						it, err := decodeItem(v)
						if err != nil {
							ierr = err
							return false
						}
						if p.ix != nil {
							last = p.t.indexKeyOf(p.ix, it)
						} else {
							last = p.t.keyOf(it)
						}
						return false
					}
					return true
				}
				it, err := decodeItem(v)
				if err != nil {
					ierr = err
					return false
				}
				scanned++
				size += it.size()
				if p.fetchAll {
					b, err := tx.Get(p.t.itemKey(p.t.keyOf(it)))
					if err == nil {
						if full, err := decodeItem(b); err == nil {
							it = full
						}
					}
				}
				if p.filter == nil || evalCond(p.filter, it) {
					count++
					if p.shape != nil {
						items = append(items, p.shape(it).wire())
					} else if !p.count {
						items = append(items, p.proj.apply(it).wire())
					}
				}
				if scanned == p.limit || size >= pageLimit {
					p.lastKey = append(p.lastKey[:0], k...)
					if p.ix != nil {
						last = p.t.indexKeyOf(p.ix, it)
					} else {
						last = p.t.keyOf(it)
					}
					return false
				}
				return true
			}
			var err error
			if p.reverse {
				err = tx.ReverseScan(start, end, fn)
			} else {
				err = tx.Scan(start, end, fn)
			}
			if err != nil {
				return err
			}
			if ierr != nil {
				return ierr
			}
			if last != nil {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.bytes = size
	out := map[string]any{"Count": int64(count), "ScannedCount": int64(scanned)}
	if !p.count {
		if items == nil {
			items = []any{}
		}
		out["Items"] = items
	}
	if last != nil {
		out["LastEvaluatedKey"] = last.wire()
	}
	return out, nil
}

// readCommon parses what Query and Scan share.
func (s *Service) readCommon(r *service.Request, p *readPlan, er *exprReq, filterField string) error {
	in := r.Input
	if n, ok := service.Int(in, "Limit"); ok {
		if n < 1 {
			return validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", n)
		}
		p.limit = int(n)
	}
	if ixName := service.Str(in, "IndexName"); ixName != "" {
		p.ix = p.t.index(ixName)
		if p.ix == nil {
			return validation("The table does not have the specified index: %s", ixName)
		}
		if !p.ix.meta.Local && service.Bool(in, "ConsistentRead") {
			return validation("Consistent reads are not supported on global secondary indexes")
		}
	}
	if err := mixErr(in, []string{filterField, "ConditionalOperator"}, []string{"FilterExpression"}); err != nil {
		return err
	}
	var err error
	if _, ok := in[filterField]; ok {
		if p.filter, err = legacyFilter(in, filterField); err != nil {
			return err
		}
	} else if p.filter, err = er.condition(in, "FilterExpression"); err != nil {
		return err
	}
	if p.proj, err = projectionFor(in, er); err != nil {
		return err
	}
	sel := service.Str(in, "Select")
	switch sel {
	case "":
	case "COUNT":
		if p.proj != nil {
			return validation("Cannot specify the AttributesToGet when choosing to get only the Count")
		}
		p.count = true
	case "SPECIFIC_ATTRIBUTES":
		if p.proj == nil {
			return validation("1 validation error detected: Value null at 'projectionExpression' failed to satisfy constraint: Member must not be null")
		}
	case "ALL_ATTRIBUTES":
		if p.proj != nil {
			return validation("Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES")
		}
		if p.ix != nil && p.ix.meta.Proj != "ALL" {
			if !p.ix.meta.Local {
				return validation("One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index %s because its projection type is not ALL", p.ix.meta.Name)
			}
			p.fetchAll = true
		}
	case "ALL_PROJECTED_ATTRIBUTES":
		if p.ix == nil {
			return validation("One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is supported only for index queries")
		}
	default:
		return validation("1 validation error detected: Value '%s' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]", sel)
	}
	if p.ix != nil && p.ix.meta.Local && p.ix.meta.Proj != "ALL" && p.proj != nil {
		p.fetchAll = true
	}
	if esk, ok := in["ExclusiveStartKey"]; ok {
		k, err := itemFromWire(esk)
		if err != nil {
			return err
		}
		if err := p.t.checkStartKey(p.ix, k); err != nil {
			return err
		}
		if p.ix != nil {
			p.esk, _ = p.t.indexKey(p.ix, k)
		} else {
			p.esk = p.t.itemKey(k)
		}
	}
	return nil
}

func (t *table) checkStartKey(ix *index, k item) error {
	bad := validation("The provided starting key is invalid: The provided key element does not match the schema")
	names := []string{t.meta.HashKey, t.meta.RangeKey}
	if ix != nil {
		names = append(names, ix.meta.HashKey, ix.meta.RangeKey)
	}
	want := map[string]bool{}
	for _, n := range names {
		if n != "" {
			want[n] = true
		}
	}
	if len(k) != len(want) {
		return bad
	}
	for n := range want {
		a, ok := k[n]
		if !ok || typeName(a.t) != t.meta.Attrs[n] {
			return bad
		}
	}
	return nil
}

func (s *Service) query(r *service.Request) (map[string]any, error) {
	in := r.Input
	t, err := s.table(r, service.Str(in, "TableName"))
	if err != nil {
		return nil, err
	}
	er, err := newExprReq(in)
	if err != nil {
		return nil, err
	}
	p := &readPlan{t: t}
	if v, ok := in["ScanIndexForward"].(bool); ok && !v {
		p.reverse = true
	}
	if err := mixErr(in, []string{"KeyConditions"}, []string{"KeyConditionExpression"}); err != nil {
		return nil, err
	}
	var kc *cond
	if _, ok := in["KeyConditions"]; ok {
		if kc, err = legacyFilter(map[string]any{"KeyConditions": in["KeyConditions"]}, "KeyConditions"); err != nil {
			return nil, err
		}
	} else {
		if _, ok := in["KeyConditionExpression"]; !ok {
			return nil, validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
		}
		if kc, err = er.condition(in, "KeyConditionExpression"); err != nil {
			return nil, err
		}
	}
	if err := s.readCommon(r, p, er, "QueryFilter"); err != nil {
		return nil, err
	}
	if err := er.finish(); err != nil {
		return nil, err
	}
	hashName, rangeName, base := t.meta.HashKey, t.meta.RangeKey, t.prefix
	if p.ix != nil {
		hashName, rangeName, base = p.ix.meta.HashKey, p.ix.meta.RangeKey, p.ix.prefix
	}
	rg, err := keyRange(kc, t, hashName, rangeName, base)
	if err != nil {
		return nil, err
	}
	p.ranges = [][2][]byte{rg}
	if p.filter != nil {
		if err := filterOnKey(p.filter, hashName, rangeName); err != nil {
			return nil, err
		}
	}
	return s.read(r, p)
}

// filterOnKey rejects filters on key attributes, as DynamoDB does.
func filterOnKey(c *cond, keys ...string) error {
	var walk func(c *cond) error
	walk = func(c *cond) error {
		for _, o := range c.ops {
			if o.kind == opPath || o.kind == opSize {
				for _, k := range keys {
					if k != "" && o.path[0].name == k {
						return validation("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", k)
					}
				}
			}
		}
		for _, s := range c.sub {
			if err := walk(s); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(c)
}

var errKeyCond = validation("Query key condition not supported")

// keyRange turns a key condition into a storage range.
func keyRange(kc *cond, t *table, hashName, rangeName string, base []byte) ([2][]byte, error) {
	var parts []*cond
	var flatten func(c *cond) error
	flatten = func(c *cond) error {
		if c.kind == cAnd {
			if err := flatten(c.sub[0]); err != nil {
				return err
			}
			return flatten(c.sub[1])
		}
		if c.kind != cCompare && c.kind != cBetween && c.kind != cBeginsWith {
			if c.kind == cOr || c.kind == cNot || c.kind == cIn {
				return validation("Invalid operator used in KeyConditionExpression: %s", map[int]string{cOr: "OR", cNot: "NOT", cIn: "IN"}[c.kind])
			}
			return validation("Invalid operator used in KeyConditionExpression: %s", condFuncName(c.kind))
		}
		parts = append(parts, c)
		return nil
	}
	if err := flatten(kc); err != nil {
		return [2][]byte{}, err
	}
	var hashC, rangeC *cond
	for _, c := range parts {
		a := c.ops[0]
		if a.kind != opPath || len(a.path) != 1 {
			return [2][]byte{}, errKeyCond
		}
		for _, o := range c.ops[1:] {
			if o.kind != opValue {
				return [2][]byte{}, errKeyCond
			}
		}
		switch a.path[0].name {
		case hashName:
			if hashC != nil {
				return [2][]byte{}, validation("KeyConditionExpressions must only contain one condition per key")
			}
			hashC = c
		case rangeName:
			if rangeC != nil {
				return [2][]byte{}, validation("KeyConditionExpressions must only contain one condition per key")
			}
			rangeC = c
		default:
			return [2][]byte{}, validation("Query condition missed key schema element: %s", hashName)
		}
	}
	if hashC == nil {
		return [2][]byte{}, validation("Query condition missed key schema element: %s", hashName)
	}
	if hashC.kind != cCompare || hashC.op != "=" {
		return [2][]byte{}, errKeyCond
	}
	hv := hashC.ops[1].val
	if typeName(hv.t) != t.meta.Attrs[hashName] {
		return [2][]byte{}, validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
	}
	pre := partPrefix(base, hv)
	if rangeC == nil {
		return [2][]byte{pre, storage.PrefixEnd(pre)}, nil
	}
	want := t.meta.Attrs[rangeName]
	for _, o := range rangeC.ops[1:] {
		if typeName(o.val.t) != want {
			return [2][]byte{}, validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
		}
	}
	enc := func(a av) []byte { return appendKeyAV(append([]byte{}, pre...), a) }
	end := storage.PrefixEnd(pre)
	switch rangeC.kind {
	case cBetween:
		lo, hi := rangeC.ops[1].val, rangeC.ops[2].val
		if compareAV(lo, hi) > 0 {
			return [2][]byte{}, validation("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {%s:%s}, upper bound operand: AttributeValue: {%s:%s}", typeName(lo.t), lo.s, typeName(hi.t), hi.s)
		}
		return [2][]byte{enc(lo), storage.PrefixEnd(enc(hi))}, nil
	case cBeginsWith:
		v := rangeC.ops[1].val
		if v.t == tN {
			return [2][]byte{}, validation("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")
		}
		b := append([]byte{}, pre...)
		for i := 0; i < len(v.s); i++ {
			if v.s[i] == 0 {
				b = append(b, 0, 0xFF)
			} else {
				b = append(b, v.s[i])
			}
		}
		return [2][]byte{b, storage.PrefixEnd(b)}, nil
	}
	v := rangeC.ops[1].val
	switch rangeC.op {
	case "=":
		k := enc(v)
		return [2][]byte{k, storage.PrefixEnd(k)}, nil
	case "<":
		return [2][]byte{pre, enc(v)}, nil
	case "<=":
		return [2][]byte{pre, storage.PrefixEnd(enc(v))}, nil
	case ">":
		return [2][]byte{storage.PrefixEnd(enc(v)), end}, nil
	case ">=":
		return [2][]byte{enc(v), end}, nil
	}
	return [2][]byte{}, validation("Unsupported operator on KeyConditionExpression: operator: %s", rangeC.op)
}

func condFuncName(k int) string {
	for n, v := range boolFuncs {
		if v == k {
			return n
		}
	}
	return "?"
}

func (s *Service) scan(r *service.Request) (map[string]any, error) {
	in := r.Input
	t, err := s.table(r, service.Str(in, "TableName"))
	if err != nil {
		return nil, err
	}
	er, err := newExprReq(in)
	if err != nil {
		return nil, err
	}
	p := &readPlan{t: t}
	if err := s.readCommon(r, p, er, "ScanFilter"); err != nil {
		return nil, err
	}
	if err := er.finish(); err != nil {
		return nil, err
	}
	base := t.prefix
	if p.ix != nil {
		base = p.ix.prefix
	}
	seg, hasSeg := service.Int(in, "Segment")
	total, hasTotal := service.Int(in, "TotalSegments")
	switch {
	case hasSeg && !hasTotal:
		return nil, validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	case hasTotal && !hasSeg:
		return nil, validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
	case hasTotal && (total < 1 || total > 1000000):
		return nil, validation("1 validation error detected: Value '%d' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000", total)
	case hasSeg && (seg < 0 || seg >= total):
		return nil, validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d", seg, total)
	}
	if !hasTotal {
		p.ranges = [][2][]byte{{base, storage.PrefixEnd(base)}}
	} else {
		lo := seg * 65536 / total
		hi := (seg + 1) * 65536 / total
		mk := func(v int64) []byte {
			return append(append([]byte{}, base...), byte(v>>8), byte(v))
		}
		end := storage.PrefixEnd(base)
		if hi < 65536 {
			end = mk(hi)
		}
		p.ranges = [][2][]byte{{mk(lo), end}}
	}
	return s.read(r, p)
}

var _ = errors.Is

// read runs a Query or Scan plan with throttling and capacity accounting.
func (s *Service) read(r *service.Request, p *readPlan) (map[string]any, error) {
	if !s.admitRead(p.t, p.ix) {
		return nil, s.throttledErr(p.t, p.ix, r.Operation, false)
	}
	out, err := s.runRead(p)
	if err != nil {
		return nil, err
	}
	u := readUsage(p.t, p.ix, p.bytes, service.Bool(r.Input, "ConsistentRead"))
	s.charge(u)
	addUsage(out, r.Input, u)
	n, _ := out["Count"].(int64)
	s.returned(p.t, r.Operation, int(n))
	return out, nil
}
