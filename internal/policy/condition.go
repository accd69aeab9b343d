package policy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

type opKind uint8

const (
	opStringEquals opKind = iota
	opStringEqualsIgnoreCase
	opStringLike
	opNumericEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opDateEquals
	opDateLessThan
	opDateLessThanEquals
	opDateGreaterThan
	opDateGreaterThanEquals
	opBool
	opBinaryEquals
	opIPAddress
	opArnLike
	opNull
)

type opInfo struct {
	kind    opKind
	negated bool
}

var operators = map[string]opInfo{
	"StringEquals":              {opStringEquals, false},
	"StringNotEquals":           {opStringEquals, true},
	"StringEqualsIgnoreCase":    {opStringEqualsIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {opStringEqualsIgnoreCase, true},
	"StringLike":                {opStringLike, false},
	"StringNotLike":             {opStringLike, true},
	"NumericEquals":             {opNumericEquals, false},
	"NumericNotEquals":          {opNumericEquals, true},
	"NumericLessThan":           {opNumericLessThan, false},
	"NumericLessThanEquals":     {opNumericLessThanEquals, false},
	"NumericGreaterThan":        {opNumericGreaterThan, false},
	"NumericGreaterThanEquals":  {opNumericGreaterThanEquals, false},
	"DateEquals":                {opDateEquals, false},
	"DateNotEquals":             {opDateEquals, true},
	"DateLessThan":              {opDateLessThan, false},
	"DateLessThanEquals":        {opDateLessThanEquals, false},
	"DateGreaterThan":           {opDateGreaterThan, false},
	"DateGreaterThanEquals":     {opDateGreaterThanEquals, false},
	"Bool":                      {opBool, false},
	"BinaryEquals":              {opBinaryEquals, false},
	"IpAddress":                 {opIPAddress, false},
	"NotIpAddress":              {opIPAddress, true},
	"ArnEquals":                 {opArnLike, false},
	"ArnLike":                   {opArnLike, false},
	"ArnNotEquals":              {opArnLike, true},
	"ArnNotLike":                {opArnLike, true},
	"Null":                      {opNull, false},
}

type setQualifier uint8

const (
	setNone setQualifier = iota
	setAnyValue
	setAllValues
)

// Condition is one operator/key pair of a Condition block with its values.
type Condition struct {
	// Operator is as written, e.g. "ForAnyValue:StringLikeIfExists".
	Operator string
	// Key is the condition key as written.
	Key    string
	Values []string

	key      string // lower-cased
	op       opInfo
	ifExists bool
	set      setQualifier
	vars     bool // some value has a policy variable
	nums     []float64
	times    []time.Time
	prefixes []netip.Prefix
	bins     [][]byte
}

func parseConditions(v json.RawMessage) ([]*Condition, error) {
	var block map[string]map[string]json.RawMessage
	if err := json.Unmarshal(v, &block); err != nil {
		return nil, &Error{MsgSyntax}
	}
	var out []*Condition
	for opName, keys := range block {
		name := opName
		set := setNone
		if q, rest, ok := strings.Cut(name, ":"); ok {
			switch q {
			case "ForAnyValue":
				set = setAnyValue
			case "ForAllValues":
				set = setAllValues
			default:
				return nil, &Error{MsgSyntax}
			}
			name = rest
		}
		ifExists := false
		if base, ok := strings.CutSuffix(name, "IfExists"); ok && name != "Null" {
			ifExists, name = true, base
		}
		info, ok := operators[name]
		if !ok || (info.kind == opNull && (ifExists || set != setNone)) {
			return nil, &Error{MsgSyntax}
		}
		if keys == nil {
			return nil, &Error{MsgSyntax}
		}
		for k, raw := range keys {
			if k == "" {
				return nil, &Error{MsgSyntax}
			}
			if !strings.Contains(k, ":") {
				return nil, &Error{MsgVendor}
			}
			vals, err := conditionValues(raw)
			if err != nil {
				return nil, err
			}
			c := &Condition{Operator: opName, Key: k, Values: vals, key: strings.ToLower(k), op: info, ifExists: ifExists, set: set}
			if err := c.compile(); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func conditionValues(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	scalar := func(r json.RawMessage) (string, bool) {
		r = bytes.TrimSpace(r)
		if len(r) == 0 {
			return "", false
		}
		switch r[0] {
		case '"':
			var s string
			if json.Unmarshal(r, &s) != nil {
				return "", false
			}
			return s, true
		case 't', 'f':
			var b bool
			if json.Unmarshal(r, &b) != nil {
				return "", false
			}
			return strconv.FormatBool(b), true
		case '[', '{', 'n':
			return "", false
		}
		var n json.Number
		if json.Unmarshal(r, &n) != nil {
			return "", false
		}
		return n.String(), true
	}
	if len(raw) > 0 && raw[0] == '[' {
		var l []json.RawMessage
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, &Error{MsgSyntax}
		}
		out := make([]string, 0, len(l))
		for _, r := range l {
			s, ok := scalar(r)
			if !ok {
				return nil, &Error{MsgSyntax}
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, ok := scalar(raw)
	if !ok {
		return nil, &Error{MsgSyntax}
	}
	return []string{s}, nil
}

func (c *Condition) compile() error {
	for _, v := range c.Values {
		if strings.Contains(v, "${") {
			c.vars = true
		}
	}
	switch c.op.kind {
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		for _, v := range c.Values {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return &Error{MsgSyntax}
			}
			c.nums = append(c.nums, f)
		}
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		for _, v := range c.Values {
			t, ok := parseDate(v)
			if !ok {
				return &Error{MsgSyntax}
			}
			c.times = append(c.times, t)
		}
	case opIPAddress:
		for _, v := range c.Values {
			p, ok := parsePrefix(v)
			if !ok {
				return &Error{MsgSyntax}
			}
			c.prefixes = append(c.prefixes, p)
		}
	case opBinaryEquals:
		for _, v := range c.Values {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return &Error{MsgSyntax}
			}
			c.bins = append(c.bins, b)
		}
	case opBool, opNull:
		for _, v := range c.Values {
			if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
				if c.op.kind == opNull {
					return &Error{MsgSyntax}
				}
			}
		}
	}
	return nil
}

func parsePrefix(v string) (netip.Prefix, bool) {
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// parseDate accepts the ISO 8601 forms AWS accepts and epoch seconds.
func parseDate(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Unix(0, int64(f*1e9)).UTC(), true
	}
	return time.Time{}, false
}

// eval reports whether the condition holds for the request.
func (c *Condition) eval(e *evaluation) bool {
	vals, present := e.req.lookup(c.key)
	if c.op.kind == opNull {
		want := strings.EqualFold(c.Values[0], "true")
		absent := !present || len(vals) == 0
		for _, v := range c.Values {
			if strings.EqualFold(v, "true") == absent {
				return true
			}
		}
		return want == absent
	}
	if !present || len(vals) == 0 {
		switch {
		case c.set == setAllValues:
			return true
		case c.ifExists:
			return true
		case c.set == setAnyValue:
			return false
		}
		return c.op.negated
	}
	// match reports whether one request value satisfies the operator
	// (negation included).
	match := func(v string) bool { return c.positive(e, v) != c.op.negated }
	switch c.set {
	case setAnyValue:
		for _, v := range vals {
			if match(v) {
				return true
			}
		}
		return false
	case setAllValues:
		for _, v := range vals {
			if !match(v) {
				return false
			}
		}
		return true
	}
	if c.op.negated {
		for _, v := range vals {
			if !match(v) {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if match(v) {
			return true
		}
	}
	return false
}

// positive reports whether request value v matches any policy value, before
// negation.
func (c *Condition) positive(e *evaluation, v string) bool {
	switch c.op.kind {
	case opStringEquals, opStringEqualsIgnoreCase, opStringLike, opArnLike:
		for _, p := range c.Values {
			if c.vars {
				var ok bool
				if p, ok = e.substitute(p); !ok {
					continue
				}
			}
			switch c.op.kind {
			case opStringEquals:
				if v == p {
					return true
				}
			case opStringEqualsIgnoreCase:
				if strings.EqualFold(v, p) {
					return true
				}
			case opStringLike:
				if globMatch(p, v, false) {
					return true
				}
			case opArnLike:
				if arnLike(p, v) {
					return true
				}
			}
		}
		return false
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false
		}
		for _, n := range c.nums {
			if compareOrdered(c.op.kind-opNumericEquals, cmpFloat(f, n)) {
				return true
			}
		}
		return false
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		for _, d := range c.times {
			if compareOrdered(c.op.kind-opDateEquals, t.Compare(d)) {
				return true
			}
		}
		return false
	case opBool:
		for _, p := range c.Values {
			if strings.EqualFold(v, p) {
				return true
			}
		}
		return false
	case opBinaryEquals:
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			b = []byte(v)
		}
		for _, p := range c.bins {
			if bytes.Equal(b, p) {
				return true
			}
		}
		return false
	case opIPAddress:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range c.prefixes {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareOrdered applies the relative operator (0 equals, 1 less than, 2 less
// than or equals, 3 greater than, 4 greater than or equals) to a comparison.
func compareOrdered(rel opKind, c int) bool {
	switch rel {
	case 0:
		return c == 0
	case 1:
		return c < 0
	case 2:
		return c <= 0
	case 3:
		return c > 0
	case 4:
		return c >= 0
	}
	return false
}

// arnLike compares ARNs component by component (the first five, split on
// colons), with wildcards in each; the resource part may contain colons.
func arnLike(pattern, v string) bool {
	if pattern == "*" {
		return true
	}
	pp := strings.SplitN(pattern, ":", 6)
	vp := strings.SplitN(v, ":", 6)
	if len(pp) != 6 || len(vp) != 6 {
		return globMatch(pattern, v, false)
	}
	for i := range pp {
		if !globMatch(pp[i], vp[i], false) {
			return false
		}
	}
	return true
}
