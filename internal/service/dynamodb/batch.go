package dynamodb

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

func (s *Service) batchWriteItem(r *service.Request) (map[string]any, error) {
	reqs, _ := r.Input["RequestItems"].(map[string]any)
	if len(reqs) == 0 {
		return nil, validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	sc := scopeOf(r)
	type pending struct {
		name string // as requested (a name or an ARN)
		put  item
		key  item
		wire any
	}
	var ops []pending
	total := 0
	for name, v := range reqs {
		l := asList(v)
		total += len(l)
		for _, e := range l {
			m, _ := e.(map[string]any)
			pr, hasPut := m["PutRequest"].(map[string]any)
			dr, hasDel := m["DeleteRequest"].(map[string]any)
			if hasPut == hasDel {
				return nil, validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
			}
			if hasPut {
				it, err := itemFromWire(pr["Item"])
				if err != nil {
					return nil, err
				}
				ops = append(ops, pending{name: name, put: it, wire: e})
			} else {
				k, err := itemFromWire(dr["Key"])
				if err != nil {
					return nil, err
				}
				ops = append(ops, pending{name: name, key: k, wire: e})
			}
		}
	}
	if total > 25 {
		return nil, validation("Too many items requested for the BatchWriteItem call")
	}
	if total == 0 {
		return nil, validation("1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]")
	}
	// Validate before writing anything.
	blocked := map[string]bool{}
	for _, o := range ops {
		t := s.lookup(sc, tableNameFromARN(o.name))
		if t == nil {
			return nil, tableNotFound()
		}
		if _, seen := blocked[o.name]; !seen {
			blocked[o.name] = !s.admitWrite(t)
			if blocked[o.name] {
				s.countThrottle(t, nil, r.Operation, true)
			}
		}
		if o.put != nil {
			if err := t.checkItem(o.put); err != nil {
				return nil, err
			}
		} else if err := t.checkKey(o.key); err != nil {
			return nil, err
		}
	}
	unprocessed := map[string]any{}
	run := ops[:0:0]
	for _, o := range ops {
		if blocked[o.name] {
			l, _ := unprocessed[o.name].([]any)
			unprocessed[o.name] = append(l, o.wire)
		} else {
			run = append(run, o)
		}
	}
	if len(run) == 0 {
		return nil, throughputExceeded()
	}
	var deltas []*delta
	err := s.kv.Update(func(tx storage.Tx) error {
		deltas = deltas[:0]
		seen := map[string]bool{}
		for _, o := range run {
			t := s.lookup(sc, tableNameFromARN(o.name))
			if t == nil {
				return tableNotFound()
			}
			op := &writeOp{t: t, kind: wDelete, key: o.key}
			if o.put != nil {
				op.kind, op.put = wPut, o.put
				op.key = t.keyOf(o.put)
			}
			k := string(t.itemKey(op.key))
			if seen[k] {
				return validation("Provided list of item keys contains duplicates")
			}
			seen[k] = true
			if err := op.prepare(tx); err != nil {
				return err
			}
			d := newDelta(t)
			if err := s.commitWrite(tx, op, d); err != nil {
				return err
			}
			deltas = append(deltas, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	us := make([]usage, len(deltas))
	for i, d := range deltas {
		d.apply()
		us[i] = d.usage()
		s.charge(us[i])
	}
	out := map[string]any{"UnprocessedItems": unprocessed}
	addUsages(out, r.Input, us)
	return out, nil
}

func (s *Service) batchGetItem(r *service.Request) (map[string]any, error) {
	reqs, _ := r.Input["RequestItems"].(map[string]any)
	if len(reqs) == 0 {
		return nil, validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	type tableReq struct {
		name string
		t    *table
		keys []item
		proj *projector
		in   map[string]any
	}
	var trs []tableReq
	total := 0
	for name, v := range reqs {
		m, _ := v.(map[string]any)
		t, err := s.table(r, name)
		if err != nil {
			return nil, err
		}
		er, err := newExprReq(m)
		if err != nil {
			return nil, err
		}
		proj, err := projectionFor(m, er)
		if err != nil {
			return nil, err
		}
		if err := er.finish(); err != nil {
			return nil, err
		}
		tr := tableReq{name: name, t: t, proj: proj, in: m}
		seen := map[string]bool{}
		for _, e := range asList(m["Keys"]) {
			k, err := itemFromWire(e)
			if err != nil {
				return nil, err
			}
			if err := t.checkKey(k); err != nil {
				return nil, err
			}
			sk := string(t.itemKey(k))
			if seen[sk] {
				return nil, validation("Provided list of item keys contains duplicates")
			}
			seen[sk] = true
			tr.keys = append(tr.keys, k)
		}
		total += len(tr.keys)
		trs = append(trs, tr)
	}
	if total > 100 {
		return nil, validation("Too many items requested for the BatchGetItem call")
	}
	resp := map[string]any{}
	unprocessed := map[string]any{}
	run := trs[:0:0]
	for _, tr := range trs {
		if s.admitRead(tr.t, nil) {
			run = append(run, tr)
			continue
		}
		s.countThrottle(tr.t, nil, r.Operation, false)
		unprocessed[tr.name] = tr.in
	}
	if len(run) == 0 {
		return nil, throughputExceeded()
	}
	us := make([]usage, len(run))
	err := s.kv.View(func(tx storage.Tx) error {
		for i, tr := range run {
			items := []any{}
			us[i] = usage{t: tr.t}
			consistent := service.Bool(tr.in, "ConsistentRead")
			for _, k := range tr.keys {
				b, err := tx.Get(tr.t.itemKey(k))
				if errors.Is(err, storage.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				it, err := decodeItem(b)
				if err != nil {
					return err
				}
				us[i].table += readUnits(it.size(), consistent)
				items = append(items, tr.proj.apply(it).wire())
			}
			if us[i].table == 0 {
				us[i].table = readUnits(0, consistent)
			}
			resp[tr.name] = items
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		s.charge(u)
	}
	out := map[string]any{"Responses": resp, "UnprocessedKeys": unprocessed}
	addUsages(out, r.Input, us)
	return out, nil
}

// ---- transactions ----

type tokenEntry struct {
	hash [32]byte
	at   time.Time
	out  map[string]any
}

func (s *Service) transactWriteItems(r *service.Request) (map[string]any, error) {
	in := r.Input
	list := asList(in["TransactItems"])
	if len(list) == 0 {
		return nil, validation("1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null")
	}
	if len(list) > 100 {
		return nil, validation("1 validation error detected: Value '[...]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	token := service.Str(in, "ClientRequestToken")
	var tokKey string
	var hash [32]byte
	if token != "" {
		b, _ := json.Marshal(list)
		hash = sha256.Sum256(b)
		tokKey = r.Account + "/" + r.Region + "/" + token
		if v, ok := s.tokens.Load(tokKey); ok {
			e := v.(tokenEntry)
			if s.now().Sub(e.at) < 10*time.Minute {
				if e.hash != hash {
					return nil, &awserr.Error{Code: codeIdempotentParam, Message: "Request with the same client token is being used with different parameters", Status: http.StatusBadRequest}
				}
				return e.out, nil
			}
		}
	}
	sc := scopeOf(r)
	type spec struct {
		kind int
		name string
		key  item
		put  item
		cond *cond
		acts []updateAction
		rof  bool
	}
	specs := make([]spec, len(list))
	for i, e := range list {
		m, _ := e.(map[string]any)
		var body map[string]any
		n := 0
		for _, k := range []string{"ConditionCheck", "Put", "Delete", "Update"} {
			if b, ok := m[k].(map[string]any); ok {
				n++
				body = b
				switch k {
				case "ConditionCheck":
					specs[i].kind = wCheck
				case "Put":
					specs[i].kind = wPut
				case "Delete":
					specs[i].kind = wDelete
				case "Update":
					specs[i].kind = wUpdate
				}
			}
		}
		if n != 1 {
			return nil, validation("TransactItems can only contain one of Check, Put, Update or Delete")
		}
		sp := &specs[i]
		sp.name = tableNameFromARN(service.Str(body, "TableName"))
		t := s.lookup(sc, sp.name)
		if t == nil {
			return nil, tableNotFound()
		}
		er, err := newExprReq(body)
		if err != nil {
			return nil, err
		}
		if sp.cond, err = er.condition(body, "ConditionExpression"); err != nil {
			return nil, err
		}
		switch sp.kind {
		case wPut:
			if sp.put, err = itemFromWire(body["Item"]); err != nil {
				return nil, err
			}
			if err := t.checkItem(sp.put); err != nil {
				return nil, err
			}
			sp.key = t.keyOf(sp.put)
		default:
			if sp.key, err = keyParam(body); err != nil {
				return nil, err
			}
			if err := t.checkKey(sp.key); err != nil {
				return nil, err
			}
		}
		if sp.kind == wUpdate {
			if sp.acts, err = er.update(body); err != nil {
				return nil, err
			}
			if sp.acts == nil {
				return nil, validation("1 validation error detected: Value null at 'transactItems.%d.member.update.updateExpression' failed to satisfy constraint: Member must not be null", i+1)
			}
			for _, a := range sp.acts {
				if nm := a.path[0].name; nm == t.meta.HashKey || nm == t.meta.RangeKey {
					return nil, validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", nm)
				}
			}
		}
		if sp.kind == wCheck && sp.cond == nil {
			return nil, validation("The ConditionExpression parameter is required for ConditionCheck")
		}
		if err := er.finish(); err != nil {
			return nil, err
		}
		if sp.rof, err = retOnFail(body); err != nil {
			return nil, err
		}
	}
	ops := make([]*writeOp, len(specs))
	for i, sp := range specs {
		t := s.lookup(sc, sp.name)
		if t == nil {
			return nil, tableNotFound()
		}
		ops[i] = &writeOp{t: t, kind: sp.kind, key: sp.key, put: sp.put, cond: sp.cond, acts: sp.acts, retOnFail: sp.rof}
	}
	us, err := s.runTx(r.Operation, ops)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	addUsages(out, in, us)
	if tokKey != "" {
		s.tokens.Store(tokKey, tokenEntry{hash: hash, at: s.now(), out: out})
	}
	return out, nil
}

func (s *Service) transactGetItems(r *service.Request) (map[string]any, error) {
	list := asList(r.Input["TransactItems"])
	if len(list) == 0 || len(list) > 100 {
		return nil, validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	type get struct {
		t    *table
		key  item
		proj *projector
	}
	gets := make([]get, len(list))
	for i, e := range list {
		m, _ := e.(map[string]any)
		body, _ := m["Get"].(map[string]any)
		t, err := s.table(r, service.Str(body, "TableName"))
		if err != nil {
			return nil, err
		}
		k, err := keyParam(body)
		if err != nil {
			return nil, err
		}
		if err := t.checkKey(k); err != nil {
			return nil, err
		}
		er, err := newExprReq(body)
		if err != nil {
			return nil, err
		}
		proj, err := projectionFor(body, er)
		if err != nil {
			return nil, err
		}
		if err := er.finish(); err != nil {
			return nil, err
		}
		gets[i] = get{t, k, proj}
	}
	for _, g := range gets {
		if !s.admitRead(g.t, nil) {
			return nil, s.throttledErr(g.t, nil, r.Operation, false)
		}
	}
	resp := make([]any, len(gets))
	us := make([]usage, len(gets))
	err := s.kv.View(func(tx storage.Tx) error {
		for i, g := range gets {
			us[i] = usage{t: g.t, table: 2 * readUnits(0, true)}
			b, err := tx.Get(g.t.itemKey(g.key))
			if errors.Is(err, storage.ErrNotFound) {
				resp[i] = map[string]any{}
				continue
			}
			if err != nil {
				return err
			}
			it, err := decodeItem(b)
			if err != nil {
				return err
			}
			us[i].table = 2 * readUnits(it.size(), true)
			resp[i] = map[string]any{"Item": g.proj.apply(it).wire()}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		s.charge(u)
	}
	out := map[string]any{"Responses": resp}
	addUsages(out, r.Input, us)
	return out, nil
}

// runTx runs ops as one transaction: every op is prepared against the same
// snapshot and all commit, or none does and the error is a
// TransactionCanceledException with a reason per op, in order.
func (s *Service) runTx(opName string, ops []*writeOp) ([]usage, error) {
	for _, op := range ops {
		if !s.admitWrite(op.t) {
			return nil, s.throttledErr(op.t, nil, opName, true)
		}
	}
	var deltas []*delta
	err := s.kv.Update(func(tx storage.Tx) error {
		deltas = deltas[:0]
		seen := make(map[string]bool, len(ops))
		for _, op := range ops {
			k := string(op.t.itemKey(op.key))
			if seen[k] {
				return validation("Transaction request cannot include multiple operations on one item")
			}
			seen[k] = true
		}
		reasons := make([]any, len(ops))
		failed := false
		codes := make([]string, 0, len(ops))
		for i, op := range ops {
			err := op.prepare(tx)
			reason := map[string]any{"Code": "None"}
			if err != nil {
				ae := awserr.As(err)
				switch ae.Code {
				case codeConditionalCheck:
					reason = map[string]any{"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
					if op.retOnFail && op.old != nil {
						reason["Item"] = op.old.wire()
					}
				case codeDuplicateItem:
					reason = map[string]any{"Code": "DuplicateItem", "Message": ae.Message}
				case codeValidation:
					reason = map[string]any{"Code": "ValidationError", "Message": ae.Message}
				default:
					return err
				}
				failed = true
			}
			reasons[i] = reason
			codes = append(codes, reason["Code"].(string))
		}
		if failed {
			return &awserr.Error{Code: codeTransactionCanceled, Status: http.StatusBadRequest,
				Message: "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
				Fields:  map[string]any{"CancellationReasons": reasons}}
		}
		for _, op := range ops {
			d := newDelta(op.t)
			if err := s.commitWrite(tx, op, d); err != nil {
				return err
			}
			deltas = append(deltas, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	us := make([]usage, len(deltas))
	for i, d := range deltas {
		d.apply()
		us[i] = d.usage()
		us[i].scale(2)
		s.charge(us[i])
	}
	return us, nil
}
