package pattern

import (
	"encoding/json"
	"strconv"
	"strings"
)

// ---- lexer shared by JSON and space-delimited expressions ----

type tokKind int

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tAnd
	tOr
	tOp
	tSelector // $.a.b
	tWord     // bare word: name, keyword or unquoted value
	tString   // "quoted"
	tRegex    // %regex%
)

type token struct {
	kind tokKind
	text string
	op   op
}

func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{kind: tLParen})
			i++
		case c == ')':
			out = append(out, token{kind: tRParen})
			i++
		case strings.HasPrefix(s[i:], "&&"):
			out = append(out, token{kind: tAnd})
			i += 2
		case strings.HasPrefix(s[i:], "||"):
			out = append(out, token{kind: tOr})
			i += 2
		case strings.HasPrefix(s[i:], "!="):
			out = append(out, token{kind: tOp, op: opNe, text: "!="})
			i += 2
		case strings.HasPrefix(s[i:], "<="):
			out = append(out, token{kind: tOp, op: opLe, text: "<="})
			i += 2
		case strings.HasPrefix(s[i:], ">="):
			out = append(out, token{kind: tOp, op: opGe, text: ">="})
			i += 2
		case c == '=':
			out = append(out, token{kind: tOp, op: opEq, text: "="})
			i++
		case c == '<':
			out = append(out, token{kind: tOp, op: opLt, text: "<"})
			i++
		case c == '>':
			out = append(out, token{kind: tOp, op: opGt, text: ">"})
			i++
		case c == '"':
			text, n, err := quoted(s[i:])
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: tString, text: text})
			i += n
		case c == '%':
			end := strings.IndexByte(s[i+1:], '%')
			if end < 0 {
				return nil, syntaxErr("unterminated regular expression")
			}
			out = append(out, token{kind: tRegex, text: s[i+1 : i+1+end]})
			i += end + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()=<>!\"", rune(s[j])) &&
				!strings.HasPrefix(s[j:], "&&") && !strings.HasPrefix(s[j:], "||") {
				j++
			}
			if j == i {
				return nil, syntaxErr("unexpected %q", s[i:i+1])
			}
			k := tWord
			if c == '$' {
				k = tSelector
			}
			out = append(out, token{kind: k, text: s[i:j]})
			i = j
		}
	}
	return append(out, token{kind: tEOF}), nil
}

// ---- expression tree ----

// env resolves a reference to a value: a JSON document for JSON patterns,
// the field map for space-delimited ones.
type ref interface {
	get(doc any) (any, bool)
}

type node interface {
	eval(doc any) bool
}

type andNode struct{ a, b node }
type orNode struct{ a, b node }

func (n andNode) eval(doc any) bool { return n.a.eval(doc) && n.b.eval(doc) }
func (n orNode) eval(doc any) bool  { return n.a.eval(doc) || n.b.eval(doc) }

type cmpNode struct {
	ref ref
	op  op
	lit literal
}

func (n *cmpNode) eval(doc any) bool {
	v, ok := n.ref.get(doc)
	if !ok {
		return false
	}
	switch n.op {
	case opEq, opNe:
		eq := n.equal(v)
		return eq == (n.op == opEq)
	}
	f, ok := number(v)
	return ok && compareNum(n.op, f, n.lit.num)
}

func (n *cmpNode) equal(v any) bool {
	if n.lit.re != nil {
		return n.lit.re.MatchString(textOf(v))
	}
	if n.lit.isNum {
		if f, ok := number(v); ok {
			return f == n.lit.num
		}
	}
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return n.lit.matchString(textOf(v))
}

type postfix int

const (
	pNull postfix = iota
	pNotExists
	pExists
	pTrue
	pFalse
)

type postfixNode struct {
	ref  ref
	what postfix
}

func (n *postfixNode) eval(doc any) bool {
	v, ok := n.ref.get(doc)
	switch n.what {
	case pNotExists:
		return !ok
	case pExists:
		return ok
	case pNull:
		return ok && v == nil
	case pTrue:
		b, isBool := v.(bool)
		return ok && isBool && b
	case pFalse:
		b, isBool := v.(bool)
		return ok && isBool && !b
	}
	return false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// textOf renders a value as the text comparisons and extracted values use.
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// ---- parser ----

type parser struct {
	toks  []token
	pos   int
	depth int
	// mkRef turns a left-hand side token into a reference.
	mkRef   func(token) (ref, error)
	lhsKind tokKind
	regexes int
}

const maxDepth = 64

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) parseOr() (node, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tOr {
		p.next()
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = orNode{left, right}
	}
	return left, nil
}

func (p *parser) parseAnd() (node, error) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tAnd {
		p.next()
		right, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		left = andNode{left, right}
	}
	return left, nil
}

func (p *parser) parseUnary() (node, error) {
	t := p.next()
	if t.kind == tLParen {
		p.depth++
		if p.depth > maxDepth {
			return nil, syntaxErr("expression nested too deeply")
		}
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.next().kind != tRParen {
			return nil, syntaxErr("missing )")
		}
		p.depth--
		return n, nil
	}
	if t.kind != p.lhsKind {
		if p.lhsKind == tSelector {
			return nil, syntaxErr("expected a $. selector, found %q", t.text)
		}
		return nil, syntaxErr("expected a field name, found %q", t.text)
	}
	r, err := p.mkRef(t)
	if err != nil {
		return nil, err
	}
	nt := p.next()
	switch nt.kind {
	case tOp:
		v := p.next()
		var lit literal
		switch v.kind {
		case tString:
			lit = newLiteral(v.text, true)
		case tWord, tSelector:
			lit = newLiteral(v.text, false)
		case tRegex:
			if nt.op != opEq && nt.op != opNe {
				return nil, syntaxErr("regular expressions only compare with = and !=")
			}
			re, err := compileRegex(v.text)
			if err != nil {
				return nil, err
			}
			p.regexes++
			if p.regexes > maxRegexes {
				return nil, syntaxErr("a filter pattern may contain at most %d regular expressions", maxRegexes)
			}
			lit = literal{text: v.text, re: re}
		default:
			return nil, syntaxErr("missing value after %s", nt.text)
		}
		if nt.op != opEq && nt.op != opNe && !lit.isNum {
			return nil, syntaxErr("%s needs a numeric value, found %q", nt.text, lit.text)
		}
		return &cmpNode{ref: r, op: nt.op, lit: lit}, nil
	case tWord:
		kw := strings.ToUpper(nt.text)
		switch kw {
		case "IS":
			w := p.next()
			switch strings.ToUpper(w.text) {
			case "NULL":
				return &postfixNode{r, pNull}, nil
			case "TRUE":
				return &postfixNode{r, pTrue}, nil
			case "FALSE":
				return &postfixNode{r, pFalse}, nil
			}
			return nil, syntaxErr("expected NULL, TRUE or FALSE after IS")
		case "NOT":
			if w := p.next(); strings.ToUpper(w.text) != "EXISTS" {
				return nil, syntaxErr("expected EXISTS after NOT")
			}
			return &postfixNode{r, pNotExists}, nil
		case "EXISTS":
			return &postfixNode{r, pExists}, nil
		}
	}
	return nil, syntaxErr("expected a comparison after %q", t.text)
}

// ---- JSON patterns ----

type step struct {
	key   string
	index int // >= 0 for [n]
}

type selector []step

func (s selector) get(doc any) (any, bool) { return s.lookup(doc) }

func (s selector) lookup(doc any) (any, bool) {
	v := doc
	for _, st := range s {
		if st.index >= 0 {
			l, ok := v.([]any)
			if !ok || st.index >= len(l) {
				return nil, false
			}
			v = l[st.index]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok = m[st.key]
		if !ok {
			return nil, false
		}
	}
	return v, true
}

func parseSelector(s string) (selector, error) {
	if !strings.HasPrefix(s, "$") {
		return nil, syntaxErr("selector %q must start with $", s)
	}
	rest := s[1:]
	var out selector
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			j := 0
			for j < len(rest) && rest[j] != '.' && rest[j] != '[' {
				j++
			}
			if j == 0 {
				return nil, syntaxErr("empty key in selector %q", s)
			}
			out = append(out, step{key: rest[:j], index: -1})
			rest = rest[j:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, syntaxErr("missing ] in selector %q", s)
			}
			inner := rest[1:end]
			if n, err := strconv.Atoi(inner); err == nil && n >= 0 {
				out = append(out, step{index: n})
			} else if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				out = append(out, step{key: inner[1 : len(inner)-1], index: -1})
			} else {
				return nil, syntaxErr("bad index %q in selector %q", inner, s)
			}
			rest = rest[end+1:]
		default:
			return nil, syntaxErr("selector %q: expected . or [", s)
		}
	}
	if len(out) == 0 {
		return nil, syntaxErr("selector %q names no field", s)
	}
	return out, nil
}

func (p *Pattern) parseJSON(s string) error {
	if !strings.HasSuffix(s, "}") {
		return syntaxErr("JSON pattern must end with }")
	}
	toks, err := lex(s[1 : len(s)-1])
	if err != nil {
		return err
	}
	ps := &parser{toks: toks, lhsKind: tSelector, mkRef: func(t token) (ref, error) {
		sel, err := parseSelector(t.text)
		if err != nil {
			return nil, err
		}
		p.selectors = append(p.selectors, t.text)
		return sel, nil
	}}
	n, err := ps.parseOr()
	if err != nil {
		return err
	}
	if ps.peek().kind != tEOF {
		return syntaxErr("unexpected %q after expression", ps.peek().text)
	}
	p.json = n
	return nil
}

func parseDoc(msg string) (any, bool) {
	t := strings.TrimSpace(msg)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return nil, false
	}
	var doc any
	if err := json.Unmarshal([]byte(t), &doc); err != nil {
		return nil, false
	}
	return doc, true
}

// ---- space-delimited patterns ----

type field struct {
	ellipsis bool
	name     string
	cond     node // nil: any value
}

type nameRef string

func (n nameRef) get(doc any) (any, bool) {
	m, _ := doc.(map[string]string)
	v, ok := m[string(n)]
	return v, ok
}

func (p *Pattern) parseDelimited(s string) error {
	if !strings.HasSuffix(s, "]") {
		return syntaxErr("space-delimited pattern must end with ]")
	}
	body := s[1 : len(s)-1]
	parts, err := splitFields(body)
	if err != nil {
		return err
	}
	regexes := 0
	seen := map[string]bool{}
	for i, part := range parts {
		part = strings.TrimSpace(part)
		if part == "..." {
			p.delim = append(p.delim, field{ellipsis: true})
			continue
		}
		if part == "" {
			if len(parts) == 1 {
				break
			}
			return syntaxErr("empty field %d", i+1)
		}
		toks, err := lex(part)
		if err != nil {
			return err
		}
		f := field{}
		if len(toks) == 2 && toks[0].kind == tWord {
			f.name = toks[0].text
		} else {
			ps := &parser{toks: toks, lhsKind: tWord, regexes: regexes, mkRef: func(t token) (ref, error) {
				if f.name == "" {
					f.name = t.text
				} else if t.text != f.name {
					return nil, syntaxErr("field %d compares %q and %q: each field's conditions name that field", i+1, f.name, t.text)
				}
				return nameRef(t.text), nil
			}}
			n, err := ps.parseOr()
			if err != nil {
				return err
			}
			if ps.peek().kind != tEOF {
				return syntaxErr("unexpected %q in field %d", ps.peek().text, i+1)
			}
			regexes = ps.regexes
			f.cond = n
		}
		if seen[f.name] {
			return syntaxErr("field %q named twice", f.name)
		}
		seen[f.name] = true
		p.delim = append(p.delim, f)
	}
	return nil
}

// splitFields splits at commas outside quotes.
func splitFields(s string) ([]string, error) {
	var out []string
	start, inQuote := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if inQuote {
				i++
			}
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if inQuote {
		return nil, syntaxErr("unterminated quoted string")
	}
	return append(out, s[start:]), nil
}

// splitMessage splits a log line into space-delimited fields; text between
// "quotes" or [brackets] is one field, without them.
func splitMessage(msg string) []string {
	var out []string
	i := 0
	for i < len(msg) {
		c := msg[i]
		if c == ' ' || c == '\t' {
			i++
			continue
		}
		var close byte
		switch c {
		case '"':
			close = '"'
		case '[':
			close = ']'
		}
		if close != 0 {
			if end := strings.IndexByte(msg[i+1:], close); end >= 0 {
				out = append(out, msg[i+1:i+1+end])
				i += end + 2
				continue
			}
		}
		j := i
		for j < len(msg) && msg[j] != ' ' && msg[j] != '\t' {
			j++
		}
		out = append(out, msg[i:j])
		i = j
	}
	return out
}

func (p *Pattern) matchDelimited(msg string) (map[string]string, bool) {
	toks := splitMessage(strings.TrimRight(msg, "\r\n"))
	if len(p.delim) == 0 {
		return map[string]string{}, true
	}
	assign := make([]int, len(p.delim)) // token index per field (-1 for ellipsis)
	var rec func(fi, ti int) bool
	steps := 0
	rec = func(fi, ti int) bool {
		steps++
		if steps > 100000 {
			return false
		}
		if fi == len(p.delim) {
			return ti == len(toks)
		}
		f := p.delim[fi]
		if f.ellipsis {
			assign[fi] = -1
			for k := ti; k <= len(toks); k++ {
				if rec(fi+1, k) {
					return true
				}
			}
			return false
		}
		if ti >= len(toks) {
			return false
		}
		if f.cond != nil && !f.cond.eval(map[string]string{f.name: toks[ti]}) {
			return false
		}
		assign[fi] = ti
		return rec(fi+1, ti+1)
	}
	if !rec(0, 0) {
		return nil, false
	}
	out := make(map[string]string, len(p.delim))
	for fi, f := range p.delim {
		if !f.ellipsis && f.name != "" {
			out[f.name] = toks[assign[fi]]
		}
	}
	return out, true
}
