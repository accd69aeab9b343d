package dynamodb

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// pqParams converts a request's Parameters.
func pqParams(in map[string]any) ([]av, error) {
	l := asList(in["Parameters"])
	out := make([]av, len(l))
	for i, v := range l {
		if bad, ok := unconvertibleNumber(v); ok {
			if bad == "" {
				return nil, validation("The parameter cannot be converted to a numeric value")
			}
			return nil, validation("The parameter cannot be converted to a numeric value: %s", bad)
		}
		a, err := fromWire(v, 0)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// unconvertibleNumber finds, in document order, a number in a parameter that
// is not a number at all (DynamoDB's PartiQL reports those differently from
// PutItem).
func unconvertibleNumber(v any) (string, bool) {
	m, _ := v.(map[string]any)
	for k, x := range m {
		switch k {
		case "N":
			if s, _ := x.(string); !isNumber(s) {
				return s, true
			}
		case "NS":
			for _, e := range asList(x) {
				if s, _ := e.(string); !isNumber(s) {
					return s, true
				}
			}
		case "L":
			for _, e := range asList(x) {
				if s, ok := unconvertibleNumber(e); ok {
					return s, true
				}
			}
		case "M":
			mm, _ := x.(map[string]any)
			for _, e := range mm {
				if s, ok := unconvertibleNumber(e); ok {
					return s, true
				}
			}
		}
	}
	return "", false
}

func isNumber(s string) bool {
	_, e := parseNum(s)
	return e != numSyntax
}

// pqParse parses a statement and its parameters into a ValidationException
// on error.
func pqParse(in map[string]any) (*pqStmt, error) {
	src := service.Str(in, "Statement")
	if src == "" {
		return nil, validation("1 validation error detected: Value null at 'statement' failed to satisfy constraint: Member must not be null")
	}
	if len(src) > 8192 {
		return nil, validation("1 validation error detected: Value at 'statement' failed to satisfy constraint: Member must have length less than or equal to 8192")
	}
	params, err := pqParams(in)
	if err != nil {
		return nil, err
	}
	st, perr := parsePartiQL(src, params)
	if perr != nil {
		return nil, validation("%s", perr.msg)
	}
	return st, nil
}

// keyEqualities returns the values of top-level "name = value" conjuncts.
func keyEqualities(c *cond, names ...string) map[string]av {
	out := map[string]av{}
	var walk func(c *cond)
	walk = func(c *cond) {
		if c == nil {
			return
		}
		switch c.kind {
		case cAnd:
			walk(c.sub[0])
			walk(c.sub[1])
		case cCompare:
			if c.op != "=" {
				return
			}
			a, b := c.ops[0], c.ops[1]
			if a.kind == opValue {
				a, b = b, a
			}
			if a.kind != opPath || b.kind != opValue || len(a.path) != 1 {
				return
			}
			for _, n := range names {
				if n != "" && a.path[0].name == n {
					if _, dup := out[n]; !dup {
						out[n] = b.val
					}
				}
			}
		}
	}
	walk(c)
	return out
}

// pqKey extracts the full primary key from a WHERE clause.
func pqKey(t *table, where *cond) (item, bool) {
	eq := keyEqualities(where, t.meta.HashKey, t.meta.RangeKey)
	key := item{}
	h, ok := eq[t.meta.HashKey]
	if !ok {
		return nil, false
	}
	key[t.meta.HashKey] = h
	if t.meta.RangeKey != "" {
		r, ok := eq[t.meta.RangeKey]
		if !ok {
			return nil, false
		}
		key[t.meta.RangeKey] = r
	}
	return key, true
}

// pqWrite builds the write op of an INSERT, UPDATE or DELETE.
func pqWrite(t *table, st *pqStmt, rof bool) (*writeOp, error) {
	if st.index != "" {
		return nil, validation("Index not supported in %s statement", map[int]string{pqInsert: "Insert", pqUpdate: "Update", pqDelete: "Delete"}[st.kind])
	}
	switch st.kind {
	case pqInsert:
		if err := t.checkItem(st.item); err != nil {
			return nil, err
		}
		return &writeOp{t: t, kind: wPut, put: st.item, key: t.keyOf(st.item), insert: true}, nil
	}
	key, ok := pqKey(t, st.where)
	if !ok {
		return nil, validation("Where clause does not contain a mandatory equality on all key attributes")
	}
	if err := t.checkKey(key); err != nil {
		return nil, err
	}
	if st.kind == pqDelete {
		return &writeOp{t: t, kind: wDelete, key: key, cond: st.where, skipMissing: true, retOnFail: rof}, nil
	}
	for _, a := range st.acts {
		if n := a.path[0].name; n == t.meta.HashKey || n == t.meta.RangeKey {
			return nil, validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", n)
		}
	}
	return &writeOp{t: t, kind: wUpdate, key: key, acts: st.acts, cond: st.where, retOnFail: rof}, nil
}

// pqReturning is the item a write's RETURNING clause asks for.
func pqReturning(st *pqStmt, op *writeOp) item {
	switch st.returning {
	case "ALL_OLD":
		return op.old
	case "ALL_NEW":
		return op.new
	case "UPDATED_OLD", "UPDATED_NEW":
		src := op.new
		if st.returning == "UPDATED_OLD" {
			src = op.old
		}
		if src == nil {
			return nil
		}
		paths := make([]path, 0, len(st.acts))
		for _, a := range st.acts {
			paths = append(paths, a.path)
		}
		return projectPaths(src, paths)
	}
	return nil
}

// pqShape applies a SELECT list: a nested path is answered under its last
// named component, as DynamoDB does.
func pqShape(proj []path) func(item) item {
	if proj == nil {
		return func(it item) item { return it }
	}
	return func(it item) item {
		out := item{}
		for _, p := range proj {
			j := len(p) - 1
			for j > 0 && p[j].isIdx {
				j--
			}
			src := it
			if j > 0 {
				parent, ok := resolve(it, p[:j])
				if !ok || parent.t != tM {
					continue
				}
				src = item(parent.m)
			}
			for k, v := range projectPaths(src, []path{p[j:]}) {
				out[k] = v
			}
		}
		return out
	}
}

func (s *Service) executeStatement(r *service.Request) (map[string]any, error) {
	in := r.Input
	st, err := pqParse(in)
	if err != nil {
		return nil, err
	}
	t, err := s.table(r, st.table)
	if err != nil {
		return nil, err
	}
	if st.kind == pqSelect {
		return s.pqSelect(r, st, t)
	}
	if _, ok := in["NextToken"]; ok {
		return nil, validation("NextToken is only supported for SELECT statements")
	}
	rof, err := retOnFail(in)
	if err != nil {
		return nil, err
	}
	op, err := s.writeOne(r, t.meta.Name, func(t *table) (*writeOp, error) { return pqWrite(t, st, rof) })
	if err != nil {
		return nil, err
	}
	items := []any{}
	if ret := pqReturning(st, op); len(ret) > 0 {
		items = append(items, ret.wire())
	}
	out := map[string]any{"Items": items}
	addUsage(out, in, op.use)
	return out, nil
}

func (s *Service) pqSelect(r *service.Request, st *pqStmt, t *table) (map[string]any, error) {
	in := r.Input
	p := &readPlan{t: t, filter: st.where, shape: pqShape(st.proj)}
	hashName, rangeName, base := t.meta.HashKey, t.meta.RangeKey, t.prefix
	if st.index != "" {
		p.ix = t.index(st.index)
		if p.ix == nil {
			return nil, validation("The table does not have the specified index: %s", st.index)
		}
		if !p.ix.meta.Local && service.Bool(in, "ConsistentRead") {
			return nil, validation("Consistent reads are not supported on global secondary indexes")
		}
		hashName, rangeName, base = p.ix.meta.HashKey, p.ix.meta.RangeKey, p.ix.prefix
		if p.ix.meta.Local && p.ix.meta.Proj != "ALL" {
			p.fetchAll = true
		}
	}
	if n, ok := service.Int(in, "Limit"); ok {
		if n < 1 {
			return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", n)
		}
		p.limit = int(n)
	}
	if st.orderBy != "" {
		if st.orderBy != rangeName && st.orderBy != hashName {
			return nil, validation("Order by is only supported on the sort key of the table or index")
		}
		p.reverse = st.desc
	}
	hashVals, rangeC := pqKeyConds(st.where, hashName, rangeName)
	if hashVals == nil {
		if st.orderBy != "" {
			return nil, validation("Must have WHERE clause in the statement when using ORDER BY clause.")
		}
		p.ranges = [][2][]byte{{base, storage.PrefixEnd(base)}}
	} else {
		want := t.meta.Attrs[hashName]
		seen := map[string]bool{}
		for _, hv := range hashVals {
			if typeName(hv.t) != want || seen[hv.s] {
				continue
			}
			seen[hv.s] = true
			eq := &cond{kind: cCompare, op: "=", ops: []*operand{{kind: opPath, path: path{{name: hashName}}}, {kind: opValue, val: hv}}}
			kc := eq
			if rangeC != nil {
				kc = &cond{kind: cAnd, sub: []*cond{eq, rangeC}}
			}
			rg, err := keyRange(kc, t, hashName, rangeName, base)
			if err != nil { // an unusable range condition still filters
				if rg, err = keyRange(eq, t, hashName, rangeName, base); err != nil {
					return nil, err
				}
			}
			p.ranges = append(p.ranges, rg)
		}
		sort.Slice(p.ranges, func(i, j int) bool { return bytes.Compare(p.ranges[i][0], p.ranges[j][0]) < 0 })
		if p.reverse {
			for i, j := 0, len(p.ranges)-1; i < j; i, j = i+1, j-1 {
				p.ranges[i], p.ranges[j] = p.ranges[j], p.ranges[i]
			}
		}
	}
	if tok := service.Str(in, "NextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || !bytes.HasPrefix(b, base) {
			return nil, validation("Given NextToken is not valid")
		}
		p.esk = b
	}
	out, err := s.read(r, p)
	if err != nil {
		return nil, err
	}
	res := map[string]any{"Items": out["Items"]}
	if cc, ok := out["ConsumedCapacity"]; ok {
		res["ConsumedCapacity"] = cc
	}
	if lek, ok := out["LastEvaluatedKey"]; ok {
		res["LastEvaluatedKey"] = lek
		res["NextToken"] = base64.RawURLEncoding.EncodeToString(p.lastKey)
	}
	return res, nil
}

// pqKeyConds finds the partition key values (from = or IN) and a usable sort
// key condition among the top-level conjuncts of where.
func pqKeyConds(where *cond, hashName, rangeName string) ([]av, *cond) {
	var hashVals []av
	var rangeC *cond
	isPath := func(o *operand, n string) bool {
		return n != "" && o.kind == opPath && len(o.path) == 1 && o.path[0].name == n
	}
	allValues := func(ops []*operand) bool {
		for _, o := range ops {
			if o.kind != opValue {
				return false
			}
		}
		return true
	}
	flip := map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
	var walk func(c *cond)
	walk = func(c *cond) {
		if c == nil {
			return
		}
		switch c.kind {
		case cAnd:
			walk(c.sub[0])
			walk(c.sub[1])
		case cCompare:
			a, b, op := c.ops[0], c.ops[1], c.op
			if a.kind == opValue && b.kind == opPath {
				a, b, op = b, a, flip[op]
			}
			if b.kind != opValue || op == "" || op == "<>" {
				return
			}
			if isPath(a, hashName) && op == "=" && hashVals == nil {
				hashVals = []av{b.val}
			} else if isPath(a, rangeName) && rangeC == nil {
				rangeC = &cond{kind: cCompare, op: op, ops: []*operand{a, b}}
			}
		case cIn:
			if isPath(c.ops[0], hashName) && hashVals == nil && allValues(c.ops[1:]) {
				for _, o := range c.ops[1:] {
					hashVals = append(hashVals, o.val)
				}
			}
		case cBetween, cBeginsWith:
			if isPath(c.ops[0], rangeName) && allValues(c.ops[1:]) && rangeC == nil {
				rangeC = c
			}
		}
	}
	walk(where)
	return hashVals, rangeC
}

// ---- BatchExecuteStatement ----

func batchErrorCode(code string) string {
	switch code {
	case codeConditionalCheck:
		return "ConditionalCheckFailed"
	case codeDuplicateItem:
		return "DuplicateItem"
	case codeResourceNotFound:
		return "ResourceNotFound"
	case codeThroughputExceeded:
		return "ProvisionedThroughputExceeded"
	case codeTransactionConflict:
		return "TransactionConflict"
	case codeValidation:
		return "ValidationError"
	}
	return "InternalServerError"
}

func (s *Service) batchExecuteStatement(r *service.Request) (map[string]any, error) {
	list := asList(r.Input["Statements"])
	if len(list) == 0 {
		return nil, validation("1 validation error detected: Value null at 'statements' failed to satisfy constraint: Member must not be null")
	}
	if len(list) > 25 {
		return nil, validation("1 validation error detected: Value at 'statements' failed to satisfy constraint: Member must have length less than or equal to 25")
	}
	resps := make([]any, len(list))
	for i, e := range list {
		m, _ := e.(map[string]any)
		resp, err := s.batchStatement(r, m)
		if err != nil {
			ae := awserr.As(err)
			if ae.Status >= 500 {
				return nil, err
			}
			be := map[string]any{"Code": batchErrorCode(ae.Code), "Message": ae.Message}
			if it, ok := ae.Fields["Item"]; ok {
				be["Item"] = it
			}
			resp = map[string]any{"Error": be}
			if st, perr := pqParse(m); perr == nil {
				resp["TableName"] = st.table
			}
		}
		resps[i] = resp
	}
	return map[string]any{"Responses": resps}, nil
}

func (s *Service) batchStatement(r *service.Request, m map[string]any) (map[string]any, error) {
	st, err := pqParse(m)
	if err != nil {
		return nil, err
	}
	t, err := s.table(r, st.table)
	if err != nil {
		return nil, err
	}
	if st.kind == pqSelect {
		key, ok := pqKey(t, st.where)
		if !ok || st.index != "" {
			return nil, validation("Select statements within BatchExecuteStatement must specify the primary key in the where clause.")
		}
		if err := t.checkKey(key); err != nil {
			return nil, err
		}
		if !s.admitRead(t, nil) {
			return nil, s.throttledErr(t, nil, r.Operation, false)
		}
		it, err := s.getRaw(t, key)
		if err != nil {
			return nil, err
		}
		s.charge(readUsage(t, nil, it.size(), service.Bool(m, "ConsistentRead")))
		out := map[string]any{"TableName": t.meta.Name}
		if it != nil && (st.where == nil || evalCond(st.where, it)) {
			out["Item"] = pqShape(st.proj)(it).wire()
		}
		return out, nil
	}
	rof, err := retOnFail(m)
	if err != nil {
		return nil, err
	}
	if _, err := s.writeOne(r, t.meta.Name, func(t *table) (*writeOp, error) { return pqWrite(t, st, rof) }); err != nil {
		return nil, err
	}
	return map[string]any{"TableName": t.meta.Name}, nil
}

// getRaw reads one item by key (nil when absent).
func (s *Service) getRaw(t *table, key item) (item, error) {
	var it item
	err := s.kv.View(func(tx storage.Tx) error {
		b, err := tx.Get(t.itemKey(key))
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		it, err = decodeItem(b)
		return err
	})
	return it, err
}

// ---- ExecuteTransaction ----

func (s *Service) executeTransaction(r *service.Request) (map[string]any, error) {
	in := r.Input
	list := asList(in["TransactStatements"])
	if len(list) == 0 {
		return nil, validation("1 validation error detected: Value null at 'transactStatements' failed to satisfy constraint: Member must not be null")
	}
	if len(list) > 100 {
		return nil, validation("1 validation error detected: Value at 'transactStatements' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	token := service.Str(in, "ClientRequestToken")
	var tokKey string
	var hash [32]byte
	if token != "" {
		b, _ := json.Marshal(list)
		hash = sha256.Sum256(b)
		tokKey = "pq/" + r.Account + "/" + r.Region + "/" + token
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
	stmts := make([]*pqStmt, len(list))
	tables := make([]*table, len(list))
	reads, writes := 0, 0
	for i, e := range list {
		m, _ := e.(map[string]any)
		st, err := pqParse(m)
		if err != nil {
			return nil, err
		}
		t, err := s.table(r, st.table)
		if err != nil {
			return nil, err
		}
		stmts[i], tables[i] = st, t
		if st.isRead() {
			reads++
		} else {
			writes++
		}
	}
	if reads > 0 && writes > 0 {
		return nil, validation("Transactions must contain either only read statements or only write statements")
	}
	var out map[string]any
	if reads > 0 {
		keys := make([]item, len(stmts))
		for i, st := range stmts {
			key, ok := pqKey(tables[i], st.where)
			if !ok || st.index != "" {
				return nil, validation("Validation failed in TransactStatements[%d]: Select statements within ExecuteTransaction must specify the primary key in the where clause.", i)
			}
			if err := tables[i].checkKey(key); err != nil {
				return nil, err
			}
			keys[i] = key
		}
		for _, t := range tables {
			if !s.admitRead(t, nil) {
				return nil, s.throttledErr(t, nil, r.Operation, false)
			}
		}
		resps := make([]any, len(stmts))
		us := make([]usage, len(stmts))
		err := s.kv.View(func(tx storage.Tx) error {
			for i, st := range stmts {
				resps[i] = map[string]any{}
				us[i] = usage{t: tables[i], table: 2 * readUnits(0, true)}
				b, err := tx.Get(tables[i].itemKey(keys[i]))
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
				us[i].table = 2 * readUnits(it.size(), true)
				if st.where == nil || evalCond(st.where, it) {
					resps[i] = map[string]any{"Item": pqShape(st.proj)(it).wire()}
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			s.charge(u)
		}
		out = map[string]any{"Responses": resps}
		addUsages(out, in, us)
	} else {
		ops := make([]*writeOp, len(stmts))
		for i, st := range stmts {
			m, _ := list[i].(map[string]any)
			rof, err := retOnFail(m)
			if err != nil {
				return nil, err
			}
			if ops[i], err = pqWrite(tables[i], st, rof); err != nil {
				return nil, validation("Validation failed in TransactStatements[%d]: %s", i, awserr.As(err).Message)
			}
		}
		us, err := s.runTx(r.Operation, ops)
		if err != nil {
			return nil, err
		}
		out = map[string]any{"Responses": []any{}}
		addUsages(out, in, us)
	}
	if tokKey != "" {
		s.tokens.Store(tokKey, tokenEntry{hash: hash, at: s.now(), out: out})
	}
	return out, nil
}
