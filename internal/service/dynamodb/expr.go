package dynamodb

import (
	"fmt"
	"strconv"
	"strings"
)

// ---- lexer ----

type tokKind uint8

const (
	tkEOF tokKind = iota
	tkName
	tkNameRef  // #name
	tkValueRef // :value
	tkNumber   // list index
	tkPunct
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdent(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// lex splits an expression into tokens.
func lex(s string) ([]token, *exprErr) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isIdentStart(c):
			j := i + 1
			for j < len(s) && isIdent(s[j]) {
				j++
			}
			toks = append(toks, token{tkName, s[i:j], i})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			toks = append(toks, token{tkNumber, s[i:j], i})
			i = j
		case c == '#' || c == ':':
			j := i + 1
			for j < len(s) && (isIdent(s[j]) || s[j] == '-') {
				j++
			}
			if j == i+1 {
				return nil, syntaxErr(s, i, string(c))
			}
			k := tkNameRef
			if c == ':' {
				k = tkValueRef
			}
			toks = append(toks, token{k, s[i:j], i})
			i = j
		case c == '<' || c == '>':
			if i+1 < len(s) && (s[i+1] == '=' || (c == '<' && s[i+1] == '>')) {
				toks = append(toks, token{tkPunct, s[i : i+2], i})
				i += 2
			} else {
				toks = append(toks, token{tkPunct, s[i : i+1], i})
				i++
			}
		case strings.IndexByte("()[],.=+-", c) >= 0:
			toks = append(toks, token{tkPunct, s[i : i+1], i})
			i++
		default:
			_, n := decodeRune(s[i:])
			return nil, &exprErr{msg: fmt.Sprintf("Invalid character encountered in expression; token: \"%s\", near: \"%s\"", s[i:i+n], nearText(s, i, i+n))}
		}
	}
	toks = append(toks, token{tkEOF, "<EOF>", len(s)})
	return toks, nil
}

func decodeRune(s string) (rune, int) {
	for i, r := range s {
		if i == 0 {
			n := len(string(r))
			if n > len(s) {
				n = len(s)
			}
			return r, n
		}
	}
	return 0, 1
}

func nearText(s string, from, to int) string {
	a := from
	for a > 0 && s[a-1] == ' ' {
		a--
	}
	for a > 0 && s[a-1] != ' ' {
		a--
	}
	b := to
	for b < len(s) && s[b] == ' ' {
		b++
	}
	for b < len(s) && s[b] != ' ' {
		b++
	}
	return s[a:b]
}

// exprErr is an expression error; the caller prefixes "Invalid XExpression: ".
type exprErr struct{ msg string }

func syntaxErr(s string, pos int, tok string) *exprErr {
	return &exprErr{msg: fmt.Sprintf("Syntax error; token: \"%s\", near: \"%s\"", tok, nearText(s, pos, min(pos+len(tok), len(s))))}
}

// ---- AST ----

type pathElem struct {
	name  string // attribute name (resolved) when idx < 0
	idx   int
	isIdx bool
}

type path []pathElem

func (p path) String() string {
	var b strings.Builder
	for i, e := range p {
		if e.isIdx {
			fmt.Fprintf(&b, "[%d]", e.idx)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.name)
	}
	return b.String()
}

func (p path) listString() string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.isIdx {
			parts[i] = "[" + strconv.Itoa(e.idx) + "]"
		} else {
			parts[i] = e.name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// operand kinds
const (
	opPath = iota
	opValue
	opSize
	opIfNotExists
	opListAppend
	opPlus
	opMinus
)

type operand struct {
	kind int
	path path
	val  av
	args []*operand
}

// condition kinds
const (
	cCompare = iota
	cBetween
	cIn
	cAnd
	cOr
	cNot
	cExists
	cNotExists
	cType
	cBeginsWith
	cContains
)

type cond struct {
	kind int
	op   string // comparator
	ops  []*operand
	sub  []*cond
}

type updateAction struct {
	kind string // SET, REMOVE, ADD, DELETE
	path path
	val  *operand
}

// ---- parser ----

// exprCtx resolves placeholders and records which were used.
type exprCtx struct {
	names     map[string]string
	values    map[string]av
	usedNames map[string]bool
	usedVals  map[string]bool
}

func newExprCtx(names map[string]string, values map[string]av) *exprCtx {
	c := &exprCtx{names: names, values: values}
	// A placeholder is only marked used once found in names or values, so
	// requests without them need no bookkeeping maps.
	if names != nil {
		c.usedNames = make(map[string]bool, len(names))
	}
	if values != nil {
		c.usedVals = make(map[string]bool, len(values))
	}
	return c
}

type parser struct {
	src  string
	toks []token
	i    int
	ctx  *exprCtx
	// what kind of expression, for rules that differ
	update bool
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token) *exprErr { return syntaxErr(p.src, t.pos, t.text) }

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tkPunct && t.text == s
}

func (p *parser) isKeyword(s string) bool {
	t := p.peek()
	return t.kind == tkName && strings.EqualFold(t.text, s)
}

func (p *parser) expect(s string) *exprErr {
	if !p.isPunct(s) {
		return p.errAt(p.peek())
	}
	p.next()
	return nil
}

var keywords = map[string]bool{"AND": true, "OR": true, "NOT": true, "BETWEEN": true, "IN": true,
	"SET": true, "REMOVE": true, "ADD": true, "DELETE": true}

func isKeywordText(s string) bool { return keywords[strings.ToUpper(s)] }

func (p *parser) nameElem() (string, *exprErr) {
	t := p.next()
	switch t.kind {
	case tkName:
		if isKeywordText(t.text) {
			return "", p.errAt(t)
		}
		if reserved[strings.ToUpper(t.text)] {
			return "", &exprErr{msg: "Attribute name is a reserved keyword; reserved keyword: " + t.text}
		}
		return t.text, nil
	case tkNameRef:
		n, ok := p.ctx.names[t.text]
		if !ok {
			return "", &exprErr{msg: "An expression attribute name used in the document path is not defined; attribute name: " + t.text}
		}
		p.ctx.usedNames[t.text] = true
		return n, nil
	}
	return "", p.errAt(t)
}

func (p *parser) path() (path, *exprErr) {
	n, err := p.nameElem()
	if err != nil {
		return nil, err
	}
	pa := path{{name: n}}
	for {
		switch {
		case p.isPunct("."):
			p.next()
			n, err := p.nameElem()
			if err != nil {
				return nil, err
			}
			pa = append(pa, pathElem{name: n})
		case p.isPunct("["):
			p.next()
			t := p.next()
			if t.kind != tkNumber {
				return nil, p.errAt(t)
			}
			idx, e := strconv.Atoi(t.text)
			if e != nil || idx > 1<<20 {
				return nil, &exprErr{msg: "List index is not within the allowable range; index: " + t.text}
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			pa = append(pa, pathElem{idx: idx, isIdx: true})
		default:
			if len(pa) > 32 {
				return nil, &exprErr{msg: "The document path has too many nesting levels; nesting levels: " + strconv.Itoa(len(pa))}
			}
			return pa, nil
		}
	}
}

func (p *parser) value() (*operand, *exprErr) {
	t := p.next()
	v, ok := p.ctx.values[t.text]
	if !ok {
		return nil, &exprErr{msg: "An expression attribute value used in expression is not defined; attribute value: " + t.text}
	}
	p.ctx.usedVals[t.text] = true
	return &operand{kind: opValue, val: v}, nil
}

// operand parses a condition operand: path, value or size(path).
func (p *parser) operand() (*operand, *exprErr) {
	t := p.peek()
	switch t.kind {
	case tkValueRef:
		return p.value()
	case tkName:
		if p.toks[p.i+1].kind == tkPunct && p.toks[p.i+1].text == "(" {
			if t.text != "size" {
				if isFunc(t.text) {
					return nil, &exprErr{msg: "The function is not allowed to be used this way in an expression; function: " + t.text}
				}
				return nil, &exprErr{msg: "Invalid function name; function: " + t.text}
			}
			p.next()
			p.next()
			pa, err := p.path()
			if err != nil {
				if p.toks[p.i-1].kind == tkValueRef {
					return nil, &exprErr{msg: "Incorrect operand type for operator or function; operator or function: size, operand type: " + p.valueTypeAt(p.i-1)}
				}
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return &operand{kind: opSize, path: pa}, nil
		}
		fallthrough
	case tkNameRef:
		pa, err := p.path()
		if err != nil {
			return nil, err
		}
		return &operand{kind: opPath, path: pa}, nil
	}
	return nil, p.errAt(p.next())
}

func (p *parser) valueTypeAt(i int) string {
	if v, ok := p.ctx.values[p.toks[i].text]; ok {
		return typeName(v.t)
	}
	return "?"
}

func isFunc(s string) bool {
	switch s {
	case "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains", "size", "if_not_exists", "list_append":
		return true
	}
	return false
}

func (p *parser) condition() (*cond, *exprErr) {
	l, err := p.andCond()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("OR") {
		p.next()
		r, err := p.andCond()
		if err != nil {
			return nil, err
		}
		l = &cond{kind: cOr, sub: []*cond{l, r}}
	}
	return l, nil
}

func (p *parser) andCond() (*cond, *exprErr) {
	l, err := p.notCond()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("AND") {
		p.next()
		r, err := p.notCond()
		if err != nil {
			return nil, err
		}
		l = &cond{kind: cAnd, sub: []*cond{l, r}}
	}
	return l, nil
}

func (p *parser) notCond() (*cond, *exprErr) {
	if p.isKeyword("NOT") {
		p.next()
		c, err := p.notCond()
		if err != nil {
			return nil, err
		}
		return &cond{kind: cNot, sub: []*cond{c}}, nil
	}
	return p.primaryCond()
}

var boolFuncs = map[string]int{"attribute_exists": cExists, "attribute_not_exists": cNotExists,
	"attribute_type": cType, "begins_with": cBeginsWith, "contains": cContains}

func (p *parser) primaryCond() (*cond, *exprErr) {
	if p.isPunct("(") {
		p.next()
		c, err := p.condition()
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return c, nil
	}
	t := p.peek()
	if t.kind == tkName && p.toks[p.i+1].kind == tkPunct && p.toks[p.i+1].text == "(" && t.text != "size" {
		kind, ok := boolFuncs[t.text]
		if !ok {
			if isFunc(t.text) {
				return nil, &exprErr{msg: "The function is not allowed to be used this way in an expression; function: " + t.text}
			}
			return nil, &exprErr{msg: "Invalid function name; function: " + t.text}
		}
		p.next()
		p.next()
		c := &cond{kind: kind}
		// first argument: a path
		if p.peek().kind == tkValueRef {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			return nil, &exprErr{msg: "Incorrect operand type for operator or function; operator or function: " + t.text + ", operand type: " + typeName(v.val.t)}
		}
		a, err := p.operand()
		if err != nil {
			return nil, err
		}
		if a.kind != opPath && kind != cContains {
			return nil, p.errAt(p.toks[p.i-1])
		}
		c.ops = append(c.ops, a)
		nargs := 1
		if kind == cType || kind == cBeginsWith || kind == cContains {
			nargs = 2
		}
		for len(c.ops) < nargs {
			if !p.isPunct(",") {
				return nil, &exprErr{msg: fmt.Sprintf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", t.text, len(c.ops))}
			}
			p.next()
			b, err := p.operand()
			if err != nil {
				return nil, err
			}
			c.ops = append(c.ops, b)
		}
		if p.isPunct(",") {
			n := len(c.ops)
			for p.isPunct(",") {
				p.next()
				if _, err := p.operand(); err != nil {
					return nil, err
				}
				n++
			}
			return nil, &exprErr{msg: fmt.Sprintf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", t.text, n)}
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		switch kind {
		case cType:
			if c.ops[1].kind == opValue {
				v := c.ops[1].val
				if v.t != tS {
					return nil, &exprErr{msg: "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: " + typeName(v.t)}
				}
				if _, ok := typeFromName(v.s); !ok {
					return nil, &exprErr{msg: "Invalid attribute type name found; type: " + v.s + ", valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }"}
				}
			}
		case cBeginsWith:
			if c.ops[1].kind == opValue && c.ops[1].val.t != tS && c.ops[1].val.t != tB {
				return nil, &exprErr{msg: "Incorrect operand type for operator or function; operator or function: begins_with, operand type: " + typeName(c.ops[1].val.t)}
			}
		}
		return c, nil
	}
	a, err := p.operand()
	if err != nil {
		return nil, err
	}
	switch {
	case p.peek().kind == tkPunct && isComparator(p.peek().text):
		op := p.next().text
		b, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &cond{kind: cCompare, op: op, ops: []*operand{a, b}}, nil
	case p.isKeyword("BETWEEN"):
		p.next()
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if !p.isKeyword("AND") {
			return nil, p.errAt(p.peek())
		}
		p.next()
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		if lo.kind == opValue && hi.kind == opValue && lo.val.t == hi.val.t && isScalarKey(lo.val.t) && compareAV(lo.val, hi.val) > 0 {
			return nil, &exprErr{msg: fmt.Sprintf("The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {%s:%s}, upper bound operand: AttributeValue: {%s:%s}", typeName(lo.val.t), lo.val.s, typeName(hi.val.t), hi.val.s)}
		}
		return &cond{kind: cBetween, ops: []*operand{a, lo, hi}}, nil
	case p.isKeyword("IN"):
		p.next()
		if err := p.expect("("); err != nil {
			return nil, err
		}
		c := &cond{kind: cIn, ops: []*operand{a}}
		for {
			b, err := p.operand()
			if err != nil {
				return nil, err
			}
			c.ops = append(c.ops, b)
			if p.isPunct(",") {
				p.next()
				continue
			}
			break
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		if len(c.ops) > 101 {
			return nil, &exprErr{msg: fmt.Sprintf("The IN operator is provided with too many operands; number of operands: %d", len(c.ops)-1)}
		}
		return c, nil
	}
	return nil, p.errAt(p.peek())
}

func isScalarKey(t byte) bool { return t == tS || t == tN || t == tB }

func isComparator(s string) bool {
	switch s {
	case "=", "<>", "<", "<=", ">", ">=":
		return true
	}
	return false
}

// setValue parses the right-hand side of a SET action.
func (p *parser) setValue() (*operand, *exprErr) {
	a, err := p.setOperand()
	if err != nil {
		return nil, err
	}
	if p.isPunct("+") || p.isPunct("-") {
		k := opPlus
		if p.next().text == "-" {
			k = opMinus
		}
		b, err := p.setOperand()
		if err != nil {
			return nil, err
		}
		return &operand{kind: k, args: []*operand{a, b}}, nil
	}
	return a, nil
}

func (p *parser) setOperand() (*operand, *exprErr) {
	t := p.peek()
	if t.kind == tkName && p.toks[p.i+1].kind == tkPunct && p.toks[p.i+1].text == "(" {
		switch t.text {
		case "if_not_exists", "list_append":
		default:
			if isFunc(t.text) {
				return nil, &exprErr{msg: "The function is not allowed to be used this way in an expression; function: " + t.text}
			}
			return nil, &exprErr{msg: "Invalid function name; function: " + t.text}
		}
		p.next()
		p.next()
		o := &operand{kind: opListAppend}
		if t.text == "if_not_exists" {
			o.kind = opIfNotExists
		}
		for {
			a, err := p.setOperand()
			if err != nil {
				return nil, err
			}
			o.args = append(o.args, a)
			if p.isPunct(",") {
				p.next()
				continue
			}
			break
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		if len(o.args) != 2 {
			return nil, &exprErr{msg: fmt.Sprintf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", t.text, len(o.args))}
		}
		if o.kind == opIfNotExists && o.args[0].kind != opPath {
			return nil, &exprErr{msg: "Operator or function requires a document path; operator or function: if_not_exists"}
		}
		if o.kind == opListAppend {
			for _, a := range o.args {
				if a.kind == opValue && a.val.t != tL {
					return nil, &exprErr{msg: "Incorrect operand type for operator or function; operator or function: list_append, operand type: " + typeName(a.val.t)}
				}
			}
		}
		return o, nil
	}
	if t.kind == tkValueRef {
		return p.value()
	}
	if t.kind == tkName || t.kind == tkNameRef {
		pa, err := p.path()
		if err != nil {
			return nil, err
		}
		return &operand{kind: opPath, path: pa}, nil
	}
	return nil, p.errAt(p.next())
}

func (p *parser) updateExpr() ([]updateAction, *exprErr) {
	var acts []updateAction
	seen := map[string]bool{}
	for p.peek().kind != tkEOF {
		t := p.next()
		kw := strings.ToUpper(t.text)
		if t.kind != tkName || (kw != "SET" && kw != "REMOVE" && kw != "ADD" && kw != "DELETE") {
			return nil, p.errAt(t)
		}
		if seen[kw] {
			return nil, &exprErr{msg: fmt.Sprintf("The \"%s\" section can only be used once in an update expression;", kw)}
		}
		seen[kw] = true
		for {
			pa, err := p.path()
			if err != nil {
				return nil, err
			}
			a := updateAction{kind: kw, path: pa}
			switch kw {
			case "SET":
				if err := p.expect("="); err != nil {
					return nil, err
				}
				if a.val, err = p.setValue(); err != nil {
					return nil, err
				}
			case "ADD", "DELETE":
				if p.peek().kind != tkValueRef {
					if p.peek().kind == tkName || p.peek().kind == tkNameRef {
						return nil, &exprErr{msg: "Incorrect operand type for operator or function; operator: " + kw + ", operand type: PATH"}
					}
					return nil, p.errAt(p.peek())
				}
				if a.val, err = p.value(); err != nil {
					return nil, err
				}
				vt := a.val.val.t
				if kw == "ADD" && vt != tN && vt != tSS && vt != tNS && vt != tBS {
					return nil, &exprErr{msg: "Incorrect operand type for operator or function; operator: ADD, operand type: " + longTypeName(vt)}
				}
				if kw == "DELETE" && vt != tSS && vt != tNS && vt != tBS {
					return nil, &exprErr{msg: "Incorrect operand type for operator or function; operator: DELETE, operand type: " + longTypeName(vt)}
				}
			}
			acts = append(acts, a)
			if p.isPunct(",") {
				p.next()
				continue
			}
			break
		}
	}
	if len(acts) == 0 {
		return nil, &exprErr{msg: "The expression can not be empty;"}
	}
	// overlapping paths
	for i := range acts {
		for j := i + 1; j < len(acts); j++ {
			if overlap(acts[i].path, acts[j].path) {
				return nil, &exprErr{msg: fmt.Sprintf("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", acts[i].path.listString(), acts[j].path.listString())}
			}
		}
	}
	return acts, nil
}

func longTypeName(t byte) string {
	switch t {
	case tS:
		return "STRING"
	case tN:
		return "NUMBER"
	case tB:
		return "BINARY"
	case tBOOL:
		return "BOOLEAN"
	case tNULL:
		return "NULL"
	case tL:
		return "LIST"
	case tM:
		return "MAP"
	}
	return typeName(t)
}

func overlap(a, b path) bool {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (p *parser) projection() ([]path, *exprErr) {
	var out []path
	for {
		pa, err := p.path()
		if err != nil {
			return nil, err
		}
		out = append(out, pa)
		if p.isPunct(",") {
			p.next()
			continue
		}
		break
	}
	if p.peek().kind != tkEOF {
		return nil, p.errAt(p.peek())
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if overlap(out[i], out[j]) {
				return nil, &exprErr{msg: fmt.Sprintf("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", out[i].listString(), out[j].listString())}
			}
		}
	}
	return out, nil
}

// ---- entry points ----

func newParser(src string, ctx *exprCtx) (*parser, *exprErr) {
	if strings.TrimSpace(src) == "" {
		return nil, &exprErr{msg: "The expression can not be empty;"}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	return &parser{src: src, toks: toks, ctx: ctx}, nil
}

func parseCondition(src string, ctx *exprCtx) (*cond, *exprErr) {
	p, err := newParser(src, ctx)
	if err != nil {
		return nil, err
	}
	c, err := p.condition()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tkEOF {
		return nil, p.errAt(p.peek())
	}
	return c, nil
}

func parseUpdate(src string, ctx *exprCtx) ([]updateAction, *exprErr) {
	p, err := newParser(src, ctx)
	if err != nil {
		return nil, err
	}
	p.update = true
	return p.updateExpr()
}

func parseProjection(src string, ctx *exprCtx) ([]path, *exprErr) {
	p, err := newParser(src, ctx)
	if err != nil {
		return nil, err
	}
	return p.projection()
}
