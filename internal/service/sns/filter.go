package sns

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

// Filter policy scopes.
const (
	scopeAttributes = "MessageAttributes"
	scopeBody       = "MessageBody"
)

// filterPolicy is a parsed subscription filter policy: every field must
// match, and for each $or one of its alternatives.
type filterPolicy struct {
	fields []filterField
	ors    [][]*filterPolicy
}

type filterField struct {
	key   string
	conds []filterCond  // leaf: any condition matches
	sub   *filterPolicy // nested object (message body scope)
}

type condKind uint8

const (
	condString condKind = iota
	condNumber
	condNull
	condBool
	condPrefix
	condSuffix
	condEqualsIgnoreCase
	condAnythingBut
	condAnythingButPrefix
	condAnythingButSuffix
	condNumeric
	condExists
	condCIDR
)

type numRange struct {
	lo, hi         float64
	loIncl, hiIncl bool
}

type filterCond struct {
	kind  condKind
	s     string
	n     float64
	b     bool
	strs  []string
	nums  []float64
	rng   numRange
	ipnet *net.IPNet
}

func policyErr(format string, args ...any) error {
	return errParam("Invalid parameter: FilterPolicy: " + fmt.Sprintf(format, args...))
}

// maxCombinations bounds a policy's complexity as AWS does.
const maxCombinations = 150

// parseFilterPolicy parses and validates a filter policy for scope.
func parseFilterPolicy(s, scope string) (*filterPolicy, error) {
	var raw any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, policyErr("failed to parse JSON")
	}
	if dec.More() {
		return nil, policyErr("failed to parse JSON")
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, policyErr("Filter policy must be a JSON object")
	}
	p, combos, err := parsePolicyObject(obj, scope, 0)
	if err != nil {
		return nil, err
	}
	if combos > maxCombinations {
		return nil, policyErr("Filter policy is too complex")
	}
	return p, nil
}

func parsePolicyObject(obj map[string]any, scope string, depth int) (*filterPolicy, int, error) {
	if depth > 5 {
		return nil, 0, policyErr("Filter policy is too deeply nested")
	}
	if len(obj) == 0 {
		return nil, 0, policyErr("Filter policy can not be empty")
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	p := &filterPolicy{}
	combos := 1
	for _, k := range keys {
		v := obj[k]
		if k == "$or" {
			alts, ok := v.([]any)
			if !ok || len(alts) < 2 {
				return nil, 0, policyErr("$or must be an array of at least two objects")
			}
			var list []*filterPolicy
			sum := 0
			for _, a := range alts {
				ao, ok := a.(map[string]any)
				if !ok {
					return nil, 0, policyErr("$or must be an array of at least two objects")
				}
				sp, c, err := parsePolicyObject(ao, scope, depth+1)
				if err != nil {
					return nil, 0, err
				}
				list = append(list, sp)
				sum += c
			}
			p.ors = append(p.ors, list)
			combos *= sum
			continue
		}
		switch x := v.(type) {
		case []any:
			conds, err := parseConds(k, x)
			if err != nil {
				return nil, 0, err
			}
			p.fields = append(p.fields, filterField{key: k, conds: conds})
			combos *= len(conds)
		case map[string]any:
			if scope != scopeBody {
				return nil, 0, policyErr("Filter policy scope MessageAttributes does not support nested filter policy")
			}
			sp, c, err := parsePolicyObject(x, scope, depth+1)
			if err != nil {
				return nil, 0, err
			}
			p.fields = append(p.fields, filterField{key: k, sub: sp})
			combos *= c
		default:
			return nil, 0, policyErr("\"%s\" must be an object or an array", k)
		}
		if combos > maxCombinations {
			return nil, 0, policyErr("Filter policy is too complex")
		}
	}
	return p, combos, nil
}

func num(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.Abs(f) > 1e9 {
		return 0, false
	}
	return f, true
}

func parseConds(key string, list []any) ([]filterCond, error) {
	if len(list) == 0 {
		return nil, policyErr("Empty arrays are not allowed")
	}
	if len(list) > 150 {
		return nil, policyErr("Filter policy is too complex")
	}
	out := make([]filterCond, 0, len(list))
	for _, v := range list {
		switch x := v.(type) {
		case string:
			out = append(out, filterCond{kind: condString, s: x})
		case json.Number:
			f, ok := num(x)
			if !ok {
				return nil, policyErr("Numbers must be within -1e9 and 1e9")
			}
			out = append(out, filterCond{kind: condNumber, n: f})
		case nil:
			out = append(out, filterCond{kind: condNull})
		case bool:
			out = append(out, filterCond{kind: condBool, b: x})
		case map[string]any:
			c, err := parseOperator(key, x)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		default:
			return nil, policyErr("Match value must be String, number, true, false, or null")
		}
	}
	return out, nil
}

func parseOperator(key string, m map[string]any) (filterCond, error) {
	if len(m) != 1 {
		return filterCond{}, policyErr("Only one key allowed in match expression")
	}
	for op, v := range m {
		switch op {
		case "prefix", "suffix", "equals-ignore-case":
			s, ok := v.(string)
			if !ok || s == "" {
				return filterCond{}, policyErr("%s match pattern must be a non-empty string", op)
			}
			kind := map[string]condKind{"prefix": condPrefix, "suffix": condSuffix, "equals-ignore-case": condEqualsIgnoreCase}[op]
			return filterCond{kind: kind, s: s}, nil
		case "anything-but":
			return parseAnythingBut(v)
		case "numeric":
			return parseNumeric(v)
		case "exists":
			b, ok := v.(bool)
			if !ok {
				return filterCond{}, policyErr("exists match pattern must be either true or false.")
			}
			return filterCond{kind: condExists, b: b}, nil
		case "cidr":
			s, ok := v.(string)
			if !ok {
				return filterCond{}, policyErr("Malformed CIDR, one '/' required")
			}
			_, n, err := net.ParseCIDR(s)
			if err != nil {
				return filterCond{}, policyErr("Malformed CIDR, one '/' required")
			}
			return filterCond{kind: condCIDR, ipnet: n}, nil
		default:
			return filterCond{}, policyErr("Unrecognized match type %s", op)
		}
	}
	return filterCond{}, nil
}

func parseAnythingBut(v any) (filterCond, error) {
	c := filterCond{kind: condAnythingBut}
	add := func(x any) error {
		switch y := x.(type) {
		case string:
			c.strs = append(c.strs, y)
		case json.Number:
			f, ok := num(y)
			if !ok {
				return policyErr("Numbers must be within -1e9 and 1e9")
			}
			c.nums = append(c.nums, f)
		default:
			return policyErr("Value of anything-but must be an array or single string/number value.")
		}
		return nil
	}
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return c, policyErr("Empty arrays are not allowed")
		}
		for _, e := range x {
			if err := add(e); err != nil {
				return c, err
			}
		}
	case map[string]any:
		if len(x) != 1 {
			return c, policyErr("Value of anything-but must be an array or single string/number value.")
		}
		for op, pv := range x {
			s, ok := pv.(string)
			if !ok || s == "" {
				return c, policyErr("%s match pattern must be a non-empty string", op)
			}
			switch op {
			case "prefix":
				return filterCond{kind: condAnythingButPrefix, s: s}, nil
			case "suffix":
				return filterCond{kind: condAnythingButSuffix, s: s}, nil
			}
			return c, policyErr("Unsupported anything-but pattern: %s", op)
		}
	default:
		if err := add(v); err != nil {
			return c, err
		}
	}
	return c, nil
}

func parseNumeric(v any) (filterCond, error) {
	l, ok := v.([]any)
	if !ok || len(l) == 0 || len(l) > 4 || len(l)%2 != 0 {
		return filterCond{}, policyErr("Value of numeric must be an array.")
	}
	r := numRange{lo: math.Inf(-1), hi: math.Inf(1)}
	var haveLo, haveHi, eq bool
	for i := 0; i < len(l); i += 2 {
		op, ok := l[i].(string)
		if !ok {
			return filterCond{}, policyErr("Value of numeric must be an array.")
		}
		f, ok := num(l[i+1])
		if !ok {
			return filterCond{}, policyErr("Value of %s must be numeric", op)
		}
		switch op {
		case "=":
			if len(l) != 2 {
				return filterCond{}, policyErr("Bad numeric range operator: =")
			}
			r = numRange{lo: f, hi: f, loIncl: true, hiIncl: true}
			eq = true
		case ">", ">=":
			if haveLo || eq {
				return filterCond{}, policyErr("Too many elements in numeric expression")
			}
			r.lo, r.loIncl, haveLo = f, op == ">=", true
		case "<", "<=":
			if haveHi || eq {
				return filterCond{}, policyErr("Too many elements in numeric expression")
			}
			r.hi, r.hiIncl, haveHi = f, op == "<=", true
		default:
			return filterCond{}, policyErr("Unrecognized numeric range operator: %s", op)
		}
	}
	if haveLo && haveHi && (r.lo > r.hi || r.lo == r.hi && !(r.loIncl && r.hiIncl)) {
		return filterCond{}, policyErr("Bottom must be less than top")
	}
	if len(l) == 4 && (!haveLo || !haveHi) {
		return filterCond{}, policyErr("Bad numeric range operator")
	}
	return filterCond{kind: condNumeric, rng: r}, nil
}

// value is a message value being matched: a string, a number, a bool or null.
type value struct {
	kind uint8 // 0 string, 1 number, 2 bool, 3 null
	s    string
	n    float64
	b    bool
}

func (c *filterCond) matches(v value) bool {
	switch c.kind {
	case condString:
		return v.kind == 0 && v.s == c.s
	case condNumber:
		return v.kind == 1 && v.n == c.n
	case condNull:
		return v.kind == 3
	case condBool:
		return v.kind == 2 && v.b == c.b
	case condPrefix:
		return v.kind == 0 && strings.HasPrefix(v.s, c.s)
	case condSuffix:
		return v.kind == 0 && strings.HasSuffix(v.s, c.s)
	case condEqualsIgnoreCase:
		return v.kind == 0 && strings.EqualFold(v.s, c.s)
	case condAnythingBut:
		switch v.kind {
		case 0:
			for _, s := range c.strs {
				if s == v.s {
					return false
				}
			}
			return true
		case 1:
			for _, n := range c.nums {
				if n == v.n {
					return false
				}
			}
			return true
		}
		return false
	case condAnythingButPrefix:
		return v.kind == 0 && !strings.HasPrefix(v.s, c.s)
	case condAnythingButSuffix:
		return v.kind == 0 && !strings.HasSuffix(v.s, c.s)
	case condNumeric:
		if v.kind != 1 {
			return false
		}
		r := c.rng
		if v.n < r.lo || v.n == r.lo && !r.loIncl || v.n > r.hi || v.n == r.hi && !r.hiIncl {
			return false
		}
		return true
	case condCIDR:
		ip := net.ParseIP(v.s)
		return v.kind == 0 && ip != nil && c.ipnet.Contains(ip)
	}
	return false
}

// matchValues reports whether conds accept a field with values (present
// says whether the field exists at all).
func matchValues(conds []filterCond, values []value, present bool) bool {
	for i := range conds {
		c := &conds[i]
		if c.kind == condExists {
			if c.b == present {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		for _, v := range values {
			if c.matches(v) {
				return true
			}
		}
	}
	return false
}

// matchAttributes applies the policy to message attributes.
func (p *filterPolicy) matchAttributes(attrs map[string]service.MessageAttribute) bool {
	for _, f := range p.fields {
		a, ok := attrs[f.key]
		var vals []value
		if ok {
			vals, ok = attrValues(a)
		}
		if !matchValues(f.conds, vals, ok) {
			return false
		}
	}
	for _, alts := range p.ors {
		any := false
		for _, alt := range alts {
			if alt.matchAttributes(attrs) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	return true
}

func attrValues(a service.MessageAttribute) ([]value, bool) {
	base, _, _ := strings.Cut(a.DataType, ".")
	switch {
	case a.DataType == "String.Array":
		var arr []any
		dec := json.NewDecoder(strings.NewReader(a.StringValue))
		dec.UseNumber()
		if dec.Decode(&arr) != nil {
			return nil, false
		}
		out := make([]value, 0, len(arr))
		for _, x := range arr {
			out = append(out, jsonValue(x)...)
		}
		return out, true
	case base == "Number":
		f, err := strconv.ParseFloat(a.StringValue, 64)
		if err != nil {
			return nil, false
		}
		return []value{{kind: 1, n: f}}, true
	case base == "String":
		return []value{{kind: 0, s: a.StringValue}}, true
	}
	return nil, false // binary attributes never match
}

func jsonValue(x any) []value {
	switch y := x.(type) {
	case string:
		return []value{{kind: 0, s: y}}
	case json.Number:
		f, err := y.Float64()
		if err != nil {
			return nil
		}
		return []value{{kind: 1, n: f}}
	case bool:
		return []value{{kind: 2, b: y}}
	case nil:
		return []value{{kind: 3}}
	case []any:
		var out []value
		for _, e := range y {
			if _, nested := e.([]any); nested {
				continue
			}
			out = append(out, jsonValue(e)...)
		}
		return out
	}
	return nil
}

// matchBody applies the policy to a JSON message body.
func (p *filterPolicy) matchBody(body map[string]any) bool {
	for _, f := range p.fields {
		x, ok := body[f.key]
		if f.sub != nil {
			obj, isObj := x.(map[string]any)
			if !isObj {
				obj = map[string]any{}
			}
			if !f.sub.matchBody(obj) {
				return false
			}
			continue
		}
		var vals []value
		if ok {
			if _, isObj := x.(map[string]any); isObj {
				vals = nil
			} else {
				vals = jsonValue(x)
			}
		}
		if !matchValues(f.conds, vals, ok) {
			return false
		}
	}
	for _, alts := range p.ors {
		any := false
		for _, alt := range alts {
			if alt.matchBody(body) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	return true
}
