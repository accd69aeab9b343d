package cloudwatch

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Metric math: a parser for CloudWatch metric math expressions and an
// evaluator over time series aligned on one timestamp grid.
//
// Grammar (lowest to highest precedence):
//
//	or      = and { ("OR" | "||") and }
//	and     = cmp { ("AND" | "&&") cmp }
//	cmp     = add [ ("==" | "!=" | "<" | "<=" | ">" | ">=") add ]
//	add     = mul { ("+" | "-") mul }
//	mul     = pow { ("*" | "/") pow }
//	pow     = unary [ "^" pow ]
//	unary   = "-" unary | primary
//	primary = number | string | id | FUNC "(" [ args ] ")" | "(" or ")"

const (
	maxExprLen   = 2048
	maxExprDepth = 64
)

type exprNode interface{}

type (
	numNode struct{ v float64 }
	strNode struct{ s string }
	refNode struct{ id string }
	binNode struct {
		op   string
		l, r exprNode
	}
	negNode  struct{ x exprNode }
	callNode struct {
		fn   string
		args []exprNode
	}
)

type token struct {
	kind byte // 'n' number, 's' string, 'i' identifier, 'o' operator, 0 end
	text string
	num  float64
	pos  int
}

func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && src[k] >= '0' && src[k] <= '9' {
					for k < len(src) && src[k] >= '0' && src[k] <= '9' {
						k++
					}
					j = k
				}
			}
			f, err := strconv.ParseFloat(src[i:j], 64)
			if err != nil {
				return nil, fmt.Errorf("invalid number %q at position %d", src[i:j], i+1)
			}
			toks = append(toks, token{kind: 'n', text: src[i:j], num: f, pos: i})
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			toks = append(toks, token{kind: 'i', text: src[i:j], pos: i})
			i = j
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(src) {
				if src[j] == '\\' && j+1 < len(src) {
					b.WriteByte(src[j+1])
					j += 2
					continue
				}
				if src[j] == c {
					closed = true
					j++
					break
				}
				b.WriteByte(src[j])
				j++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated string at position %d", i+1)
			}
			toks = append(toks, token{kind: 's', text: b.String(), pos: i})
			i = j
		default:
			two := ""
			if i+1 < len(src) {
				two = src[i : i+2]
			}
			switch two {
			case "==", "!=", "<=", ">=", "&&", "||":
				toks = append(toks, token{kind: 'o', text: two, pos: i})
				i += 2
				continue
			}
			if strings.IndexByte("+-*/^(),<>", c) >= 0 {
				toks = append(toks, token{kind: 'o', text: string(c), pos: i})
				i++
				continue
			}
			return nil, fmt.Errorf("unexpected character %q at position %d", c, i+1)
		}
	}
	return append(toks, token{pos: len(src)}), nil
}

type parser struct {
	toks  []token
	i     int
	depth int
}

// parseExpr parses a metric math expression.
func parseExpr(src string) (exprNode, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("the expression is empty")
	}
	if len(src) > maxExprLen {
		return nil, fmt.Errorf("the expression is longer than %d characters", maxExprLen)
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != 0 {
		return nil, fmt.Errorf("unexpected %q at position %d", t.text, t.pos+1)
	}
	return n, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != 0 {
		p.i++
	}
	return t
}

func (p *parser) isOp(ops ...string) (string, bool) {
	t := p.peek()
	for _, o := range ops {
		if (t.kind == 'o' || t.kind == 'i') && t.text == o {
			return o, true
		}
	}
	return "", false
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxExprDepth {
		return errors.New("the expression is nested too deeply")
	}
	return nil
}

func (p *parser) or() (exprNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for {
		if _, ok := p.isOp("||", "OR"); !ok {
			return l, nil
		}
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = binNode{op: "||", l: l, r: r}
	}
}

func (p *parser) and() (exprNode, error) {
	l, err := p.cmp()
	if err != nil {
		return nil, err
	}
	for {
		if _, ok := p.isOp("&&", "AND"); !ok {
			return l, nil
		}
		p.next()
		r, err := p.cmp()
		if err != nil {
			return nil, err
		}
		l = binNode{op: "&&", l: l, r: r}
	}
}

func (p *parser) cmp() (exprNode, error) {
	l, err := p.add()
	if err != nil {
		return nil, err
	}
	if op, ok := p.isOp("==", "!=", "<=", ">=", "<", ">"); ok {
		p.next()
		r, err := p.add()
		if err != nil {
			return nil, err
		}
		return binNode{op: op, l: l, r: r}, nil
	}
	return l, nil
}

func (p *parser) add() (exprNode, error) {
	l, err := p.mul()
	if err != nil {
		return nil, err
	}
	for {
		op, ok := p.isOp("+", "-")
		if !ok {
			return l, nil
		}
		p.next()
		r, err := p.mul()
		if err != nil {
			return nil, err
		}
		l = binNode{op: op, l: l, r: r}
	}
}

func (p *parser) mul() (exprNode, error) {
	l, err := p.pow()
	if err != nil {
		return nil, err
	}
	for {
		op, ok := p.isOp("*", "/")
		if !ok {
			return l, nil
		}
		p.next()
		r, err := p.pow()
		if err != nil {
			return nil, err
		}
		l = binNode{op: op, l: l, r: r}
	}
}

func (p *parser) pow() (exprNode, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	if _, ok := p.isOp("^"); ok {
		p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		r, err := p.pow()
		p.depth--
		if err != nil {
			return nil, err
		}
		return binNode{op: "^", l: l, r: r}, nil
	}
	return l, nil
}

func (p *parser) unary() (exprNode, error) {
	if _, ok := p.isOp("-"); ok {
		p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		x, err := p.unary()
		p.depth--
		if err != nil {
			return nil, err
		}
		return negNode{x: x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (exprNode, error) {
	t := p.next()
	switch t.kind {
	case 'n':
		return numNode{v: t.num}, nil
	case 's':
		return strNode{s: t.text}, nil
	case 'i':
		if _, ok := p.isOp("("); ok {
			p.next()
			call := callNode{fn: strings.ToUpper(t.text)}
			if _, ok := p.isOp(")"); ok {
				p.next()
				return call, nil
			}
			for {
				a, err := p.or()
				if err != nil {
					return nil, err
				}
				call.args = append(call.args, a)
				if _, ok := p.isOp(","); ok {
					p.next()
					continue
				}
				if _, ok := p.isOp(")"); ok {
					p.next()
					return call, nil
				}
				nt := p.peek()
				return nil, fmt.Errorf("expected ',' or ')' at position %d", nt.pos+1)
			}
		}
		return refNode{id: t.text}, nil
	case 'o':
		if t.text == "(" {
			n, err := p.or()
			if err != nil {
				return nil, err
			}
			if _, ok := p.isOp(")"); !ok {
				return nil, fmt.Errorf("expected ')' at position %d", p.peek().pos+1)
			}
			p.next()
			return n, nil
		}
		return nil, fmt.Errorf("unexpected %q at position %d", t.text, t.pos+1)
	}
	return nil, errors.New("unexpected end of expression")
}

// refs returns the query ids n references (directly).
func refs(n exprNode, out map[string]bool) {
	switch x := n.(type) {
	case refNode:
		out[x.id] = true
	case binNode:
		refs(x.l, out)
		refs(x.r, out)
	case negNode:
		refs(x.x, out)
	case callNode:
		for _, a := range x.args {
			refs(a, out)
		}
	}
}

// usesAllMetrics reports whether n calls METRICS().
func usesAllMetrics(n exprNode) bool {
	switch x := n.(type) {
	case binNode:
		return usesAllMetrics(x.l) || usesAllMetrics(x.r)
	case negNode:
		return usesAllMetrics(x.x)
	case callNode:
		if x.fn == "METRICS" {
			return true
		}
		for _, a := range x.args {
			if usesAllMetrics(a) {
				return true
			}
		}
	}
	return false
}

// Evaluation.

type tseries struct {
	id, label string
	v         []float64 // NaN = no datapoint
}

type mvalue struct {
	kind byte // 'n' scalar, 's' series, 'a' array, 't' string
	num  float64
	str  string
	ser  *tseries
	arr  []*tseries
}

type evalEnv struct {
	grid   []int64 // timestamps (unix seconds)
	period int64
	series map[string]*tseries // results of other queries, by id
	order  []string            // MetricStat query ids, in request order
	search func(expr, stat string, period int64) ([]*tseries, error)
	steps  int
}

const maxEvalSteps = 100000

func (e *evalEnv) newSeries() *tseries {
	v := make([]float64, len(e.grid))
	for i := range v {
		v[i] = math.NaN()
	}
	return &tseries{v: v}
}

func (e *evalEnv) eval(n exprNode) (mvalue, error) {
	e.steps++
	if e.steps > maxEvalSteps {
		return mvalue{}, errors.New("the expression is too complex")
	}
	switch x := n.(type) {
	case numNode:
		return mvalue{kind: 'n', num: x.v}, nil
	case strNode:
		return mvalue{kind: 't', str: x.s}, nil
	case refNode:
		s, ok := e.series[x.id]
		if !ok {
			return mvalue{}, fmt.Errorf("unknown metric or expression id %q", x.id)
		}
		return mvalue{kind: 's', ser: s}, nil
	case negNode:
		v, err := e.eval(x.x)
		if err != nil {
			return v, err
		}
		return e.binary("*", mvalue{kind: 'n', num: -1}, v)
	case binNode:
		l, err := e.eval(x.l)
		if err != nil {
			return l, err
		}
		r, err := e.eval(x.r)
		if err != nil {
			return r, err
		}
		return e.binary(x.op, l, r)
	case callNode:
		return e.call(x)
	}
	return mvalue{}, errors.New("invalid expression")
}

func applyOp(op string, a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	bool2f := func(c bool) float64 {
		if c {
			return 1
		}
		return 0
	}
	switch op {
	case "+":
		return a + b
	case "-":
		return a - b
	case "*":
		return a * b
	case "/":
		if b == 0 {
			return math.NaN()
		}
		return a / b
	case "^":
		return math.Pow(a, b)
	case "==":
		return bool2f(a == b)
	case "!=":
		return bool2f(a != b)
	case "<":
		return bool2f(a < b)
	case "<=":
		return bool2f(a <= b)
	case ">":
		return bool2f(a > b)
	case ">=":
		return bool2f(a >= b)
	case "&&":
		return bool2f(a != 0 && b != 0)
	case "||":
		return bool2f(a != 0 || b != 0)
	}
	return math.NaN()
}

func (e *evalEnv) binary(op string, l, r mvalue) (mvalue, error) {
	if l.kind == 't' || r.kind == 't' {
		return mvalue{}, errors.New("strings cannot be used in arithmetic")
	}
	switch {
	case l.kind == 'n' && r.kind == 'n':
		return mvalue{kind: 'n', num: applyOp(op, l.num, r.num)}, nil
	case l.kind == 'a' || r.kind == 'a':
		if l.kind == 'a' && r.kind == 'a' {
			return mvalue{}, errors.New("an operation between two arrays of time series is not supported")
		}
		arr, other, left := l.arr, r, true
		if r.kind == 'a' {
			arr, other, left = r.arr, l, false
		}
		out := make([]*tseries, len(arr))
		for i, s := range arr {
			a, b := mvalue{kind: 's', ser: s}, other
			if !left {
				a, b = other, a
			}
			v, err := e.binary(op, a, b)
			if err != nil {
				return v, err
			}
			v.ser.label, v.ser.id = s.label, s.id
			out[i] = v.ser
		}
		return mvalue{kind: 'a', arr: out}, nil
	}
	out := e.newSeries()
	for i := range e.grid {
		a, b := l.num, r.num
		if l.kind == 's' {
			a = l.ser.v[i]
		}
		if r.kind == 's' {
			b = r.ser.v[i]
		}
		out.v[i] = applyOp(op, a, b)
	}
	return mvalue{kind: 's', ser: out}, nil
}

func (e *evalEnv) call(c callNode) (mvalue, error) {
	args := make([]mvalue, 0, len(c.args))
	if c.fn != "FILL" {
		for _, a := range c.args {
			v, err := e.eval(a)
			if err != nil {
				return v, err
			}
			args = append(args, v)
		}
	}
	want := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("%s takes %d argument(s)", c.fn, n)
		}
		return nil
	}
	switch c.fn {
	case "METRICS":
		filter := ""
		if len(args) > 1 || len(args) == 1 && args[0].kind != 't' {
			return mvalue{}, errors.New("METRICS takes an optional string argument")
		}
		if len(args) == 1 {
			filter = args[0].str
		}
		var arr []*tseries
		for _, id := range e.order {
			if s := e.series[id]; s != nil && strings.Contains(s.label+" "+id, filter) {
				arr = append(arr, s)
			}
		}
		return mvalue{kind: 'a', arr: arr}, nil
	case "SUM", "AVG", "MIN", "MAX", "STDDEV":
		if err := want(1); err != nil {
			return mvalue{}, err
		}
		return e.aggregate(c.fn, args[0])
	case "ABS", "CEIL", "FLOOR", "SQRT", "LOG", "LOG10", "EXP":
		if err := want(1); err != nil {
			return mvalue{}, err
		}
		f := map[string]func(float64) float64{"ABS": math.Abs, "CEIL": math.Ceil, "FLOOR": math.Floor, "SQRT": math.Sqrt, "LOG": math.Log, "LOG10": math.Log10, "EXP": math.Exp}[c.fn]
		return e.mapValues(args[0], func(s *tseries) *tseries {
			out := e.newSeries()
			for i, v := range s.v {
				out.v[i] = f(v)
			}
			return out
		}, f)
	case "RATE", "DIFF":
		if err := want(1); err != nil {
			return mvalue{}, err
		}
		rate := c.fn == "RATE"
		return e.mapValues(args[0], func(s *tseries) *tseries {
			out := e.newSeries()
			prev := -1
			for i, v := range s.v {
				if math.IsNaN(v) {
					continue
				}
				if prev >= 0 {
					d := v - s.v[prev]
					if rate {
						d /= float64(e.grid[i] - e.grid[prev])
					}
					out.v[i] = d
				}
				prev = i
			}
			return out
		}, nil)
	case "PERIOD":
		if err := want(1); err != nil {
			return mvalue{}, err
		}
		return mvalue{kind: 'n', num: float64(e.period)}, nil
	case "DATAPOINT_COUNT":
		if err := want(1); err != nil {
			return mvalue{}, err
		}
		return e.aggregate("COUNT", args[0])
	case "FILL":
		return e.fill(c)
	case "IF":
		if len(args) != 2 && len(args) != 3 {
			return mvalue{}, errors.New("IF takes 2 or 3 arguments")
		}
		cond := args[0]
		if cond.kind == 'a' || cond.kind == 't' {
			return mvalue{}, errors.New("the IF condition must be a time series or a scalar")
		}
		out := e.newSeries()
		at := func(v mvalue, i int) float64 {
			switch v.kind {
			case 'n':
				return v.num
			case 's':
				return v.ser.v[i]
			}
			return math.NaN()
		}
		for _, a := range args[1:] {
			if a.kind == 'a' || a.kind == 't' {
				return mvalue{}, errors.New("IF arguments must be time series or scalars")
			}
		}
		for i := range e.grid {
			cv := at(cond, i)
			if math.IsNaN(cv) {
				continue
			}
			if cv != 0 {
				out.v[i] = at(args[1], i)
			} else if len(args) == 3 {
				out.v[i] = at(args[2], i)
			}
		}
		return mvalue{kind: 's', ser: out}, nil
	case "SEARCH":
		if len(args) != 3 || args[0].kind != 't' || args[1].kind != 't' || args[2].kind != 'n' {
			return mvalue{}, errors.New("SEARCH takes a search expression, a statistic and a period")
		}
		if e.search == nil {
			return mvalue{}, errors.New("SEARCH is not available here")
		}
		arr, err := e.search(args[0].str, args[1].str, int64(args[2].num))
		if err != nil {
			return mvalue{}, err
		}
		return mvalue{kind: 'a', arr: arr}, nil
	}
	return mvalue{}, fmt.Errorf("unknown function %s", c.fn)
}

func (e *evalEnv) mapValues(v mvalue, fs func(*tseries) *tseries, fn func(float64) float64) (mvalue, error) {
	switch v.kind {
	case 'n':
		if fn == nil {
			return mvalue{}, errors.New("this function needs a time series")
		}
		return mvalue{kind: 'n', num: fn(v.num)}, nil
	case 's':
		return mvalue{kind: 's', ser: fs(v.ser)}, nil
	case 'a':
		out := make([]*tseries, len(v.arr))
		for i, s := range v.arr {
			out[i] = fs(s)
			out[i].id, out[i].label = s.id, s.label
		}
		return mvalue{kind: 'a', arr: out}, nil
	}
	return mvalue{}, errors.New("this function needs a time series")
}

func reduce(fn string, vals []float64) float64 {
	n, sum, mn, mx := 0.0, 0.0, math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if math.IsNaN(v) {
			continue
		}
		n++
		sum += v
		mn, mx = math.Min(mn, v), math.Max(mx, v)
	}
	if fn == "COUNT" {
		return n
	}
	if n == 0 {
		return math.NaN()
	}
	switch fn {
	case "SUM":
		return sum
	case "AVG":
		return sum / n
	case "MIN":
		return mn
	case "MAX":
		return mx
	case "STDDEV":
		mean, ss := sum/n, 0.0
		for _, v := range vals {
			if !math.IsNaN(v) {
				ss += (v - mean) * (v - mean)
			}
		}
		return math.Sqrt(ss / n)
	}
	return math.NaN()
}

func (e *evalEnv) aggregate(fn string, v mvalue) (mvalue, error) {
	switch v.kind {
	case 'n':
		return v, nil
	case 's':
		return mvalue{kind: 'n', num: reduce(fn, v.ser.v)}, nil
	case 'a':
		out := e.newSeries()
		col := make([]float64, len(v.arr))
		for i := range e.grid {
			for j, s := range v.arr {
				col[j] = s.v[i]
			}
			r := reduce(fn, col)
			if fn == "COUNT" && r == 0 {
				r = math.NaN()
			}
			out.v[i] = r
		}
		return mvalue{kind: 's', ser: out}, nil
	}
	return mvalue{}, fmt.Errorf("%s needs a time series or an array of time series", fn)
}

func (e *evalEnv) fill(c callNode) (mvalue, error) {
	if len(c.args) != 2 {
		return mvalue{}, errors.New("FILL takes 2 arguments")
	}
	v, err := e.eval(c.args[0])
	if err != nil {
		return v, err
	}
	mode := ""
	var with mvalue
	if r, ok := c.args[1].(refNode); ok && (strings.EqualFold(r.id, "REPEAT") || strings.EqualFold(r.id, "LINEAR")) {
		mode = strings.ToUpper(r.id)
	} else {
		with, err = e.eval(c.args[1])
		if err != nil {
			return with, err
		}
		if with.kind != 'n' && with.kind != 's' {
			return mvalue{}, errors.New("FILL's second argument must be a scalar, a time series, REPEAT or LINEAR")
		}
	}
	fillOne := func(s *tseries) *tseries {
		out := e.newSeries()
		copy(out.v, s.v)
		last := -1
		for i := range out.v {
			if !math.IsNaN(out.v[i]) {
				if mode == "LINEAR" && last >= 0 && i-last > 1 {
					for k := last + 1; k < i; k++ {
						f := float64(k-last) / float64(i-last)
						out.v[k] = out.v[last] + f*(out.v[i]-out.v[last])
					}
				}
				last = i
				continue
			}
			switch mode {
			case "REPEAT":
				if last >= 0 {
					out.v[i] = out.v[last]
				}
			case "":
				if with.kind == 'n' {
					out.v[i] = with.num
				} else {
					out.v[i] = with.ser.v[i]
				}
			}
		}
		return out
	}
	if v.kind == 'n' || v.kind == 't' {
		return mvalue{}, errors.New("FILL needs a time series")
	}
	return e.mapValues(v, fillOne, nil)
}
