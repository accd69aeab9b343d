package dynamodb

import (
	"errors"
	"sort"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// ---- expression inputs ----

// exprReq holds a request's expression attribute names and values.
type exprReq struct {
	ctx       *exprCtx
	hasNames  bool
	hasValues bool
	used      bool // some expression parameter was present
}

func newExprReq(in map[string]any) (*exprReq, error) {
	r := &exprReq{}
	var names map[string]string
	if raw, ok := in["ExpressionAttributeNames"].(map[string]any); ok {
		r.hasNames = true
		if len(raw) == 0 {
			return nil, validation("ExpressionAttributeNames must not be empty")
		}
		names = make(map[string]string, len(raw))
		for k, v := range raw {
			names[k], _ = v.(string)
		}
	}
	var values map[string]av
	if raw, ok := in["ExpressionAttributeValues"].(map[string]any); ok {
		r.hasValues = true
		if len(raw) == 0 {
			return nil, validation("ExpressionAttributeValues must not be empty")
		}
		values = make(map[string]av, len(raw))
		for k, v := range raw {
			if !strings.HasPrefix(k, ":") {
				return nil, validation("ExpressionAttributeValues contains invalid key: Syntax error; key: \"%s\"", k)
			}
			a, err := fromWire(v, 0)
			if err != nil {
				return nil, validation("ExpressionAttributeValues contains invalid value: %s for key %s", awserr.As(err).Message, k)
			}
			values[k] = a
		}
	}
	for k := range names {
		if !strings.HasPrefix(k, "#") {
			return nil, validation("ExpressionAttributeNames contains invalid key: Syntax error; key: \"%s\"", k)
		}
	}
	r.ctx = newExprCtx(names, values)
	return r, nil
}

func exprError(kind string, e *exprErr) error {
	return validation("Invalid %s: %s", kind, e.msg)
}

func (r *exprReq) condition(in map[string]any, field string) (*cond, error) {
	src, ok := in[field].(string)
	if !ok {
		return nil, nil
	}
	r.used = true
	c, e := parseCondition(src, r.ctx)
	if e != nil {
		return nil, exprError(field, e)
	}
	return c, nil
}

func (r *exprReq) update(in map[string]any) ([]updateAction, error) {
	src, ok := in["UpdateExpression"].(string)
	if !ok {
		return nil, nil
	}
	r.used = true
	a, e := parseUpdate(src, r.ctx)
	if e != nil {
		return nil, exprError("UpdateExpression", e)
	}
	return a, nil
}

func (r *exprReq) projection(in map[string]any) ([]path, error) {
	src, ok := in["ProjectionExpression"].(string)
	if !ok {
		return nil, nil
	}
	r.used = true
	p, e := parseProjection(src, r.ctx)
	if e != nil {
		return nil, exprError("ProjectionExpression", e)
	}
	return p, nil
}

// finish reports unused or misplaced names and values.
func (r *exprReq) finish() error {
	if !r.used {
		if r.hasNames {
			return validation("ExpressionAttributeNames can only be specified when using expressions")
		}
		if r.hasValues {
			return validation("ExpressionAttributeValues can only be specified when using expressions")
		}
		return nil
	}
	var un []string
	for k := range r.ctx.names {
		if !r.ctx.usedNames[k] {
			un = append(un, k)
		}
	}
	if len(un) > 0 {
		sort.Strings(un)
		return validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", strings.Join(un, ", "))
	}
	for k := range r.ctx.values {
		if !r.ctx.usedVals[k] {
			un = append(un, k)
		}
	}
	if len(un) > 0 {
		sort.Strings(un)
		return validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", strings.Join(un, ", "))
	}
	return nil
}

// mixErr rejects requests combining legacy and expression parameters.
func mixErr(in map[string]any, legacy, expr []string) error {
	var l, e []string
	for _, k := range legacy {
		if _, ok := in[k]; ok {
			l = append(l, k)
		}
	}
	for _, k := range expr {
		if _, ok := in[k]; ok {
			e = append(e, k)
		}
	}
	if len(l) > 0 && len(e) > 0 {
		return validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {%s} Expression parameters: {%s}", strings.Join(l, ", "), strings.Join(e, ", "))
	}
	return nil
}

// ---- the write core ----

const (
	wPut = iota
	wUpdate
	wDelete
	wCheck
)

type writeOp struct {
	t         *table
	kind      int
	key       item // key attributes (all kinds)
	put       item // wPut
	cond      *cond
	acts      []updateAction
	retOnFail bool
	// insert fails with DuplicateItemException when the item exists
	// (PartiQL INSERT); skipMissing makes a missing item a no-op (PartiQL
	// DELETE) instead of a failed condition.
	insert      bool
	skipMissing bool

	use usage // capacity consumed, set by writeOne

	// set by prepare
	storeKey []byte
	old, new item
}

// prepare reads the current item, checks the condition and computes the new
// item. It writes nothing.
func (op *writeOp) prepare(tx storage.Tx) error {
	t := op.t
	if op.kind == wPut {
		// itemKey reads only the key attributes, so the item serves; the
		// key map itself is only needed for stream records.
		op.storeKey = t.itemKey(op.put)
		if op.key == nil && t.stream != nil {
			op.key = t.keyOf(op.put)
		}
	} else {
		op.storeKey = t.itemKey(op.key)
	}
	op.old = nil
	b, err := lookupKey(tx, op.storeKey)
	if err != nil {
		return err
	}
	if b != nil {
		if op.old, err = decodeItem(b); err != nil {
			return err
		}
	}
	if op.insert && op.old != nil {
		return duplicateItem()
	}
	if op.skipMissing && op.old == nil {
		op.new = nil
		return nil
	}
	if op.cond != nil && !evalCond(op.cond, op.old) {
		return condFailed(op.old, op.retOnFail)
	}
	switch op.kind {
	case wPut:
		op.new = op.put
	case wUpdate:
		n, uerr := applyUpdate(op.old, op.acts)
		if uerr != nil {
			return validation("%s", uerr.msg)
		}
		for k, v := range op.key {
			n[k] = v
		}
		if err := t.checkItem(n); err != nil {
			return err
		}
		op.new = n
	case wDelete:
		op.new = nil
	case wCheck:
		op.new = op.old
	}
	return nil
}

// lookupKey reads key in tx, answering nil for a missing key. Writes mostly
// target new keys, and a scan of the one-key range finds them missing
// without building the store's not-found error.
func lookupKey(tx storage.Tx, key []byte) ([]byte, error) {
	var out []byte
	end := make([]byte, len(key)+1)
	copy(end, key)
	err := tx.Scan(key, end, func(_, v []byte) bool {
		out = v
		return false
	})
	return out, err
}

// commit writes what prepare computed, with index entries and a stream record.
func (s *Service) commitWrite(tx storage.Tx, op *writeOp, d *delta) error {
	d.wu = 1
	if op.kind == wCheck {
		return nil
	}
	t := op.t
	if op.new == nil && op.old == nil {
		return nil
	}
	var newSize, oldSize int
	if op.new != nil {
		newSize = op.new.size()
		if err := tx.Put(op.storeKey, encodeItemSized(op.new, newSize)); err != nil {
			return err
		}
		d.bytes += int64(newSize)
		if op.old == nil {
			d.items++
		}
	} else {
		if err := tx.Delete(op.storeKey); err != nil {
			return err
		}
		d.items--
	}
	if op.old != nil {
		oldSize = op.old.size()
		d.bytes -= int64(oldSize)
	}
	d.wu = writeUnits(max(newSize, oldSize))
	if err := t.writeIndexes(tx, op.old, op.new, d); err != nil {
		return err
	}
	if t.stream != nil {
		return s.appendRecord(tx, t, op.key, op.old, op.new, false)
	}
	return nil
}

// writeOne runs one single-item write in its own transaction.
func (s *Service) writeOne(r *service.Request, name string, build func(t *table) (*writeOp, error)) (*writeOp, error) {
	sc := scopeOf(r)
	name = tableNameFromARN(name)
	t0 := s.lookup(sc, name)
	if t0 == nil {
		return nil, tableNotFound()
	}
	if !s.admitWrite(t0) {
		return nil, s.throttledErr(t0, nil, r.Operation, true)
	}
	var op *writeOp
	var d *delta
	err := s.kv.Update(func(tx storage.Tx) error {
		t := s.lookup(sc, name)
		if t == nil {
			return tableNotFound()
		}
		var err error
		if op, err = build(t); err != nil {
			return err
		}
		if err := op.prepare(tx); err != nil {
			return err
		}
		d = newDelta(t)
		return s.commitWrite(tx, op, d)
	})
	if err != nil {
		if ae := awserr.As(err); ae.Code == codeConditionalCheck || ae.Code == codeDuplicateItem {
			s.charge(usage{t: t0, write: true, table: 1})
		}
		return nil, err
	}
	d.apply()
	op.use = d.usage()
	s.charge(op.use)
	return op, nil
}

func retOnFail(in map[string]any) (bool, error) {
	switch v := service.Str(in, "ReturnValuesOnConditionCheckFailure"); v {
	case "", "NONE":
		return false, nil
	case "ALL_OLD":
		return true, nil
	default:
		return false, validation("1 validation error detected: Value '%s' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]", v)
	}
}

func keyParam(in map[string]any) (item, error) {
	k, ok := in["Key"]
	if !ok {
		return nil, validation("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null")
	}
	return itemFromWire(k)
}

// conditionFor parses ConditionExpression or the legacy Expected.
func conditionFor(in map[string]any, er *exprReq) (*cond, error) {
	if err := mixErr(in, []string{"Expected", "ConditionalOperator"}, []string{"ConditionExpression"}); err != nil {
		return nil, err
	}
	if _, ok := in["Expected"]; ok {
		return legacyExpected(in)
	}
	return er.condition(in, "ConditionExpression")
}

// putDeleteParams reads what PutItem and DeleteItem share: ReturnValues
// (NONE or ALL_OLD), the condition and ReturnValuesOnConditionCheckFailure.
func putDeleteParams(in map[string]any) (rv string, c *cond, rof bool, err error) {
	rv = service.Str(in, "ReturnValues")
	if rv != "" && rv != "NONE" && rv != "ALL_OLD" {
		return "", nil, false, validation("ReturnValues can only be ALL_OLD or NONE")
	}
	er, err := newExprReq(in)
	if err != nil {
		return "", nil, false, err
	}
	if c, err = conditionFor(in, er); err != nil {
		return "", nil, false, err
	}
	if err := er.finish(); err != nil {
		return "", nil, false, err
	}
	if rof, err = retOnFail(in); err != nil {
		return "", nil, false, err
	}
	return rv, c, rof, nil
}

// putDeleteOutput is the answer of PutItem and DeleteItem.
func putDeleteOutput(in map[string]any, rv string, op *writeOp) map[string]any {
	out := map[string]any{}
	if rv == "ALL_OLD" && op.old != nil {
		out["Attributes"] = op.old.wire()
	}
	addUsage(out, in, op.use)
	return out
}

func (s *Service) putItem(r *service.Request) (map[string]any, error) {
	in := r.Input
	it, err := itemFromWire(in["Item"])
	if err != nil {
		return nil, err
	}
	rv, c, rof, err := putDeleteParams(in)
	if err != nil {
		return nil, err
	}
	op, err := s.writeOne(r, service.Str(in, "TableName"), func(t *table) (*writeOp, error) {
		if err := t.checkItem(it); err != nil {
			return nil, err
		}
		return &writeOp{t: t, kind: wPut, put: it, cond: c, retOnFail: rof}, nil
	})
	if err != nil {
		return nil, err
	}
	return putDeleteOutput(in, rv, op), nil
}

func (s *Service) deleteItem(r *service.Request) (map[string]any, error) {
	in := r.Input
	key, err := keyParam(in)
	if err != nil {
		return nil, err
	}
	rv, c, rof, err := putDeleteParams(in)
	if err != nil {
		return nil, err
	}
	op, err := s.writeOne(r, service.Str(in, "TableName"), func(t *table) (*writeOp, error) {
		if err := t.checkKey(key); err != nil {
			return nil, err
		}
		return &writeOp{t: t, kind: wDelete, key: key, cond: c, retOnFail: rof}, nil
	})
	if err != nil {
		return nil, err
	}
	return putDeleteOutput(in, rv, op), nil
}

func (s *Service) updateItem(r *service.Request) (map[string]any, error) {
	in := r.Input
	key, err := keyParam(in)
	if err != nil {
		return nil, err
	}
	rv := service.Str(in, "ReturnValues")
	switch rv {
	case "", "NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW":
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]", rv)
	}
	if err := mixErr(in, []string{"AttributeUpdates", "Expected", "ConditionalOperator"}, []string{"UpdateExpression", "ConditionExpression"}); err != nil {
		return nil, err
	}
	er, err := newExprReq(in)
	if err != nil {
		return nil, err
	}
	var acts []updateAction
	if _, ok := in["AttributeUpdates"]; ok {
		if acts, err = legacyUpdates(in); err != nil {
			return nil, err
		}
	} else if acts, err = er.update(in); err != nil {
		return nil, err
	}
	c, err := conditionFor(in, er)
	if err != nil {
		return nil, err
	}
	if err := er.finish(); err != nil {
		return nil, err
	}
	rof, err := retOnFail(in)
	if err != nil {
		return nil, err
	}
	op, err := s.writeOne(r, service.Str(in, "TableName"), func(t *table) (*writeOp, error) {
		if err := t.checkKey(key); err != nil {
			return nil, err
		}
		for _, a := range acts {
			if n := a.path[0].name; n == t.meta.HashKey || n == t.meta.RangeKey {
				return nil, validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", n)
			}
		}
		return &writeOp{t: t, kind: wUpdate, key: key, acts: acts, cond: c, retOnFail: rof}, nil
	})
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	var ret item
	switch rv {
	case "ALL_OLD":
		ret = op.old
	case "ALL_NEW":
		ret = op.new
	case "UPDATED_OLD", "UPDATED_NEW":
		paths := make([]path, 0, len(acts))
		for _, a := range acts {
			paths = append(paths, a.path)
		}
		src := op.new
		if rv == "UPDATED_OLD" {
			src = op.old
		}
		if src != nil {
			ret = projectPaths(src, paths)
		}
	}
	if len(ret) > 0 {
		out["Attributes"] = ret.wire()
	}
	addUsage(out, in, op.use)
	return out, nil
}

// projector applies ProjectionExpression or AttributesToGet.
type projector struct {
	paths []path
}

func (p *projector) apply(it item) item {
	if p == nil || it == nil {
		return it
	}
	return projectPaths(it, p.paths)
}

func projectionFor(in map[string]any, er *exprReq) (*projector, error) {
	if err := mixErr(in, []string{"AttributesToGet"}, []string{"ProjectionExpression"}); err != nil {
		return nil, err
	}
	if _, ok := in["AttributesToGet"]; ok {
		var ps []path
		for _, n := range service.Strings(in, "AttributesToGet") {
			ps = append(ps, path{{name: n}})
		}
		return &projector{paths: ps}, nil
	}
	ps, err := er.projection(in)
	if err != nil || ps == nil {
		return nil, err
	}
	return &projector{paths: ps}, nil
}

func (s *Service) getItem(r *service.Request) (map[string]any, error) {
	in := r.Input
	t, err := s.table(r, service.Str(in, "TableName"))
	if err != nil {
		return nil, err
	}
	key, err := keyParam(in)
	if err != nil {
		return nil, err
	}
	if err := t.checkKey(key); err != nil {
		return nil, err
	}
	var proj *projector
	if _, a := in["ProjectionExpression"]; a || in["AttributesToGet"] != nil || in["ExpressionAttributeNames"] != nil || in["ExpressionAttributeValues"] != nil {
		er, err := newExprReq(in)
		if err != nil {
			return nil, err
		}
		if proj, err = projectionFor(in, er); err != nil {
			return nil, err
		}
		if er.hasValues {
			return nil, validation("ExpressionAttributeValues can only be specified when using expressions: ProjectionExpression, UpdateExpression, ConditionExpression and FilterExpression are null")
		}
		if err := er.finish(); err != nil {
			return nil, err
		}
	}
	if !s.admitRead(t, nil) {
		return nil, s.throttledErr(t, nil, r.Operation, false)
	}
	k := t.itemKey(key)
	var raw []byte
	err = s.kv.View(func(tx storage.Tx) error {
		b, err := tx.Get(k)
		if err == nil {
			raw = b
			return nil
		}
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	size := 0
	if raw != nil && proj == nil {
		w, sz, err := decodeWire(raw)
		if err != nil {
			return nil, err
		}
		size = sz
		out["Item"] = w
	} else if raw != nil {
		it, err := decodeItem(raw)
		if err != nil {
			return nil, err
		}
		size = it.size()
		out["Item"] = proj.apply(it).wire()
	}
	u := readUsage(t, nil, size, service.Bool(in, "ConsistentRead"))
	s.charge(u)
	addUsage(out, in, u)
	return out, nil
}
