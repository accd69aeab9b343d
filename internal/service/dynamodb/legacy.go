package dynamodb

import (
	"sort"

	"github.com/overcast-dev/overcast/internal/service"
)

// Legacy (pre-expression) parameters are translated into expression trees.

func legacyValues(m map[string]any) ([]av, error) {
	var out []av
	for _, e := range asList(m["AttributeValueList"]) {
		a, err := fromWire(e, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

var legacyArgs = map[string]int{"EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "NOT_NULL": 0, "NULL": 0,
	"CONTAINS": 1, "NOT_CONTAINS": 1, "BEGINS_WITH": 1, "IN": -1, "BETWEEN": 2}

// legacyCond builds the condition for one attribute's comparison.
func legacyCond(name, op string, vals []av) (*cond, error) {
	want, ok := legacyArgs[op]
	if !ok {
		return nil, validation("1 validation error detected: Value '%s' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]", op)
	}
	if (want >= 0 && len(vals) != want) || (want < 0 && len(vals) == 0) {
		return nil, validation("One or more parameter values were invalid: Invalid number of argument(s) for the %s ComparisonOperator", op)
	}
	p := &operand{kind: opPath, path: path{{name: name}}}
	vs := make([]*operand, len(vals))
	for i, v := range vals {
		vs[i] = &operand{kind: opValue, val: v}
	}
	cmp := map[string]string{"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
	switch op {
	case "NOT_NULL":
		return &cond{kind: cExists, ops: []*operand{p}}, nil
	case "NULL":
		return &cond{kind: cNotExists, ops: []*operand{p}}, nil
	case "CONTAINS":
		return &cond{kind: cContains, ops: []*operand{p, vs[0]}}, nil
	case "NOT_CONTAINS":
		return &cond{kind: cAnd, sub: []*cond{{kind: cExists, ops: []*operand{p}}, {kind: cNot, sub: []*cond{{kind: cContains, ops: []*operand{p, vs[0]}}}}}}, nil
	case "BEGINS_WITH":
		return &cond{kind: cBeginsWith, ops: []*operand{p, vs[0]}}, nil
	case "IN":
		return &cond{kind: cIn, ops: append([]*operand{p}, vs...)}, nil
	case "BETWEEN":
		return &cond{kind: cBetween, ops: []*operand{p, vs[0], vs[1]}}, nil
	}
	return &cond{kind: cCompare, op: cmp[op], ops: []*operand{p, vs[0]}}, nil
}

func joinConds(cs []*cond, or bool) *cond {
	if len(cs) == 0 {
		return nil
	}
	c := cs[0]
	for _, x := range cs[1:] {
		k := cAnd
		if or {
			k = cOr
		}
		c = &cond{kind: k, sub: []*cond{c, x}}
	}
	return c
}

func sortedAnyKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// legacyExpected translates Expected and ConditionalOperator.
func legacyExpected(in map[string]any) (*cond, error) {
	exp, _ := in["Expected"].(map[string]any)
	var cs []*cond
	for _, name := range sortedAnyKeys(exp) {
		e, _ := exp[name].(map[string]any)
		vals, err := legacyValues(e)
		if err != nil {
			return nil, err
		}
		if op := service.Str(e, "ComparisonOperator"); op != "" {
			c, err := legacyCond(name, op, vals)
			if err != nil {
				return nil, err
			}
			cs = append(cs, c)
			continue
		}
		v, hasV := e["Value"]
		exists, hasE := e["Exists"].(bool)
		p := &operand{kind: opPath, path: path{{name: name}}}
		switch {
		case hasE && !exists:
			if hasV {
				return nil, validation("One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: %s", name)
			}
			cs = append(cs, &cond{kind: cNotExists, ops: []*operand{p}})
		case hasV:
			a, err := fromWire(v, 0)
			if err != nil {
				return nil, err
			}
			cs = append(cs, &cond{kind: cCompare, op: "=", ops: []*operand{p, {kind: opValue, val: a}}})
		default:
			return nil, validation("One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: %s", name)
		}
	}
	return joinConds(cs, service.Str(in, "ConditionalOperator") == "OR"), nil
}

// legacyFilter translates QueryFilter/ScanFilter (and KeyConditions).
func legacyFilter(in map[string]any, field string) (*cond, error) {
	f, _ := in[field].(map[string]any)
	var cs []*cond
	for _, name := range sortedAnyKeys(f) {
		e, _ := f[name].(map[string]any)
		vals, err := legacyValues(e)
		if err != nil {
			return nil, err
		}
		c, err := legacyCond(name, service.Str(e, "ComparisonOperator"), vals)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return joinConds(cs, service.Str(in, "ConditionalOperator") == "OR"), nil
}

// legacyUpdates translates AttributeUpdates.
func legacyUpdates(in map[string]any) ([]updateAction, error) {
	u, _ := in["AttributeUpdates"].(map[string]any)
	var acts []updateAction
	for _, name := range sortedAnyKeys(u) {
		e, _ := u[name].(map[string]any)
		action := service.Str(e, "Action")
		if action == "" {
			action = "PUT"
		}
		p := path{{name: name}}
		var val *operand
		if v, ok := e["Value"]; ok {
			a, err := fromWire(v, 0)
			if err != nil {
				return nil, err
			}
			val = &operand{kind: opValue, val: a}
		}
		switch action {
		case "PUT":
			if val == nil {
				return nil, validation("One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified")
			}
			acts = append(acts, updateAction{kind: "SET", path: p, val: val})
		case "DELETE":
			if val == nil {
				acts = append(acts, updateAction{kind: "REMOVE", path: p})
			} else {
				acts = append(acts, updateAction{kind: "DELETE", path: p, val: val})
			}
		case "ADD":
			if val == nil {
				return nil, validation("One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified")
			}
			if val.val.t == tL {
				acts = append(acts, updateAction{kind: "SET", path: p, val: &operand{kind: opListAppend, args: []*operand{
					{kind: opIfNotExists, args: []*operand{{kind: opPath, path: p}, {kind: opValue, val: av{t: tL, l: []av{}}}}}, val}}})
			} else {
				acts = append(acts, updateAction{kind: "ADD", path: p, val: val})
			}
		default:
			return nil, validation("1 validation error detected: Value '%s' at 'attributeUpdates' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]", action)
		}
	}
	return acts, nil
}
