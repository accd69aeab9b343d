package dynamodb

import (
	"fmt"
	"strconv"
	"strings"
)

// This file is the PartiQL parser: DynamoDB's subset of PartiQL (SELECT,
// INSERT, UPDATE, DELETE) compiled into the same condition and update
// structures the expression language uses, so evaluation is shared.

// pqErr is a PartiQL error message (a ValidationException).
type pqErr struct{ msg string }

const notWellFormed = "Statement wasn't well formed, can't be processed: "

func malformed(detail string) *pqErr { return &pqErr{msg: notWellFormed + detail} }

type pqTokKind uint8

const (
	pqEOF    pqTokKind = iota
	pqIdent            // bare identifier or keyword
	pqQIdent           // "quoted identifier"
	pqStr              // 'string literal'
	pqNum              // number literal
	pqPunct            // operator or punctuation
	pqParam            // ?
)

type pqTok struct {
	kind pqTokKind
	text string // identifier/literal text (unescaped) or punctuation
	pos  int    // byte offset in the statement
	n    int    // length in the statement
}

// pqLex splits a statement into tokens, dropping -- and /* */ comments.
func pqLex(s string) ([]pqTok, *pqErr) {
	var toks []pqTok
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return nil, malformed("")
			}
			i += j + 4
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(s) {
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						b.WriteByte(c)
						j += 2
						continue
					}
					closed = true
					j++
					break
				}
				b.WriteByte(s[j])
				j++
			}
			if !closed {
				return nil, malformed("")
			}
			k := pqStr
			if c == '"' {
				k = pqQIdent
			}
			toks = append(toks, pqTok{k, b.String(), i, j - i})
			i = j
		case isIdentStart(c) || c == '$':
			j := i + 1
			for j < len(s) && (isIdent(s[j]) || s[j] == '$') {
				j++
			}
			toks = append(toks, pqTok{pqIdent, s[i:j], i, j - i})
			i = j
		case (c >= '0' && c <= '9') || (c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9'):
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j < len(s) && s[j] == '.' {
				j++
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
			}
			if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
				k := j + 1
				if k < len(s) && (s[k] == '+' || s[k] == '-') {
					k++
				}
				if k < len(s) && s[k] >= '0' && s[k] <= '9' {
					for k < len(s) && s[k] >= '0' && s[k] <= '9' {
						k++
					}
					j = k
				}
			}
			toks = append(toks, pqTok{pqNum, s[i:j], i, j - i})
			i = j
		case c == '?':
			toks = append(toks, pqTok{pqParam, "?", i, 1})
			i++
		default:
			two := ""
			if i+1 < len(s) {
				two = s[i : i+2]
			}
			switch two {
			case "<=", ">=", "<>", "!=", "<<", ">>":
				toks = append(toks, pqTok{pqPunct, two, i, 2})
				i += 2
				continue
			}
			if strings.IndexByte("*,.()[]{}:=<>+-", c) >= 0 {
				toks = append(toks, pqTok{pqPunct, s[i : i+1], i, 1})
				i++
				continue
			}
			return nil, malformed("")
		}
	}
	toks = append(toks, pqTok{pqEOF, "", len(s), 0})
	return toks, nil
}

// statement kinds
const (
	pqSelect = iota
	pqInsert
	pqUpdate
	pqDelete
)

// pqStmt is a parsed statement.
type pqStmt struct {
	kind      int
	table     string
	index     string
	proj      []path // SELECT list; nil means *
	where     *cond
	orderBy   string
	desc      bool
	item      item           // INSERT
	acts      []updateAction // UPDATE
	returning string         // ALL_OLD, ALL_NEW, UPDATED_OLD, UPDATED_NEW
}

func (st *pqStmt) isRead() bool { return st.kind == pqSelect }

type pqParser struct {
	src    string
	toks   []pqTok
	i      int
	params []av
	np     int
}

// parsePartiQL parses one statement with its positional parameters.
func parsePartiQL(src string, params []av) (*pqStmt, *pqErr) {
	toks, err := pqLex(src)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, t := range toks {
		if t.kind == pqParam {
			n++
		}
	}
	if n != len(params) {
		return nil, &pqErr{msg: "Number of parameters in request and statement don't match."}
	}
	p := &pqParser{src: src, toks: toks, params: params}
	st, err := p.statement()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != pqEOF {
		return nil, malformed("Unexpected token after expression")
	}
	return st, nil
}

func (p *pqParser) peek() pqTok { return p.toks[p.i] }
func (p *pqParser) next() pqTok {
	t := p.toks[p.i]
	if t.kind != pqEOF {
		p.i++
	}
	return t
}

func (p *pqParser) kw(s string) bool {
	t := p.peek()
	return t.kind == pqIdent && strings.EqualFold(t.text, s)
}

func (p *pqParser) punct(s string) bool {
	t := p.peek()
	return t.kind == pqPunct && t.text == s
}

// at is DynamoDB's position suffix: line:column:length, 1-based.
func (p *pqParser) at(t pqTok) string {
	line, col := 1, 1
	for i := 0; i < t.pos && i < len(p.src); i++ {
		if p.src[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf(" at %d:%d:%d", line, col, t.n)
}

func (p *pqParser) expectKW(s string) *pqErr {
	if !p.kw(s) {
		return p.unexpected()
	}
	p.next()
	return nil
}

func (p *pqParser) expectPunct(s string) *pqErr {
	if !p.punct(s) {
		return p.unexpected()
	}
	p.next()
	return nil
}

func (p *pqParser) unexpected() *pqErr {
	t := p.peek()
	switch t.kind {
	case pqEOF:
		return malformed("Unexpected end of statement")
	case pqIdent:
		if pqKeywords[strings.ToUpper(t.text)] {
			return malformed("Unexpected keyword")
		}
	}
	return malformed("Unexpected token")
}

// pqKeywords are the words that cannot be bare attribute or table names.
var pqKeywords = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "INSERT": true, "INTO": true, "VALUE": true, "VALUES": true,
	"UPDATE": true, "SET": true, "REMOVE": true, "DELETE": true, "AND": true, "OR": true, "NOT": true,
	"BETWEEN": true, "IN": true, "IS": true, "NULL": true, "MISSING": true, "TRUE": true, "FALSE": true,
	"ORDER": true, "BY": true, "ASC": true, "DESC": true, "RETURNING": true, "AS": true, "EXISTS": true,
	"INNER": true, "JOIN": true, "GROUP": true, "LIMIT": true, "ALL": true,
}

func (p *pqParser) statement() (*pqStmt, *pqErr) {
	t := p.peek()
	if t.kind != pqIdent {
		return nil, malformed("Expected data manipulation")
	}
	switch strings.ToUpper(t.text) {
	case "SELECT":
		p.next()
		return p.selectStmt()
	case "INSERT":
		p.next()
		return p.insertStmt()
	case "UPDATE":
		p.next()
		return p.updateStmt()
	case "DELETE":
		p.next()
		return p.deleteStmt()
	}
	return nil, malformed("Expected data manipulation")
}

// name reads an attribute or table name: bare (not a keyword) or quoted.
func (p *pqParser) name() (string, *pqErr) {
	t := p.peek()
	switch t.kind {
	case pqQIdent:
		p.next()
		return t.text, nil
	case pqIdent:
		if pqKeywords[strings.ToUpper(t.text)] {
			return "", malformed("Unexpected keyword")
		}
		p.next()
		return t.text, nil
	}
	return "", p.unexpected()
}

func (p *pqParser) tableRef(st *pqStmt, alias bool) *pqErr {
	n, err := p.name()
	if err != nil {
		return err
	}
	st.table = n
	if p.punct(".") {
		p.next()
		if st.index, err = p.name(); err != nil {
			return err
		}
	}
	if alias {
		t := p.peek()
		if (t.kind == pqIdent && !pqKeywords[strings.ToUpper(t.text)]) || t.kind == pqQIdent || p.kw("AS") {
			return &pqErr{msg: "Aliasing is not supported"}
		}
	}
	return nil
}

// path reads a document path: name { .name | [n] }.
func (p *pqParser) path() (path, *pqErr) {
	n, err := p.name()
	if err != nil {
		return nil, err
	}
	pa := path{{name: n}}
	for {
		switch {
		case p.punct("."):
			p.next()
			t := p.peek()
			if t.kind == pqIdent && pqKeywords[strings.ToUpper(t.text)] {
				return nil, malformed("Invalid path dot component")
			}
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			pa = append(pa, pathElem{name: n})
		case p.punct("["):
			p.next()
			t := p.next()
			if t.kind != pqNum {
				return nil, malformed("Invalid path index component")
			}
			idx, e := strconv.Atoi(t.text)
			if e != nil || idx < 0 {
				return nil, malformed("Invalid path index component")
			}
			if err := p.expectPunct("]"); err != nil {
				return nil, err
			}
			pa = append(pa, pathElem{idx: idx, isIdx: true})
		default:
			if len(pa) > 32 {
				return nil, &pqErr{msg: "The document path has too many nesting levels; nesting levels: " + strconv.Itoa(len(pa))}
			}
			return pa, nil
		}
	}
}

func (p *pqParser) selectStmt() (*pqStmt, *pqErr) {
	st := &pqStmt{kind: pqSelect}
	if p.punct("*") {
		p.next()
	} else {
		for {
			t := p.peek()
			if t.kind == pqIdent && p.toks[p.i+1].kind == pqPunct && p.toks[p.i+1].text == "(" {
				return nil, &pqErr{msg: "Unexpected path component" + p.at(t)}
			}
			pa, err := p.path()
			if err != nil {
				return nil, err
			}
			st.proj = append(st.proj, pa)
			if !p.punct(",") {
				break
			}
			p.next()
		}
	}
	if err := p.expectKW("FROM"); err != nil {
		return nil, err
	}
	if err := p.tableRef(st, true); err != nil {
		return nil, err
	}
	if p.kw("WHERE") {
		p.next()
		c, err := p.condition()
		if err != nil {
			return nil, err
		}
		st.where = c
	}
	if p.kw("ORDER") {
		p.next()
		if err := p.expectKW("BY"); err != nil {
			return nil, err
		}
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		st.orderBy = n
		if p.kw("ASC") {
			p.next()
		} else if p.kw("DESC") {
			p.next()
			st.desc = true
		}
	}
	return st, nil
}

func (p *pqParser) insertStmt() (*pqStmt, *pqErr) {
	st := &pqStmt{kind: pqInsert}
	if err := p.expectKW("INTO"); err != nil {
		return nil, err
	}
	if err := p.tableRef(st, false); err != nil {
		return nil, err
	}
	if !p.kw("VALUE") {
		if p.peek().kind == pqEOF || p.kw("VALUES") {
			return nil, p.unexpected()
		}
		return nil, malformed("Unexpected token after expression")
	}
	p.next()
	t := p.peek()
	v, err := p.value("root")
	if err != nil {
		return nil, err
	}
	if v.t != tM {
		return nil, &pqErr{msg: "Unsupported data type: item must be a tuple" + p.at(t)}
	}
	st.item = item(v.m)
	return st, nil
}

func (p *pqParser) returning(st *pqStmt, allowed ...string) *pqErr {
	if !p.kw("RETURNING") {
		return nil
	}
	p.next()
	var which, age string
	switch {
	case p.kw("ALL"):
		which = "ALL"
	case p.kw("MODIFIED"):
		which = "UPDATED"
	default:
		return p.unexpected()
	}
	p.next()
	switch {
	case p.kw("OLD"):
		age = "OLD"
	case p.kw("NEW"):
		age = "NEW"
	default:
		return p.unexpected()
	}
	p.next()
	if err := p.expectPunct("*"); err != nil {
		return err
	}
	st.returning = which + "_" + age
	for _, a := range allowed {
		if a == st.returning {
			return nil
		}
	}
	return &pqErr{msg: "Unsupported RETURNING clause: " + strings.ReplaceAll(st.returning, "_", " ") + " *"}
}

func (p *pqParser) updateStmt() (*pqStmt, *pqErr) {
	st := &pqStmt{kind: pqUpdate}
	if err := p.tableRef(st, true); err != nil {
		return nil, err
	}
	for p.kw("SET") || p.kw("REMOVE") {
		if p.next().text[0]|0x20 == 's' {
			for {
				a, err := p.assignment()
				if err != nil {
					return nil, err
				}
				st.acts = append(st.acts, a)
				if !p.punct(",") {
					break
				}
				p.next()
			}
		} else {
			for {
				pa, err := p.path()
				if err != nil {
					return nil, err
				}
				st.acts = append(st.acts, updateAction{kind: "REMOVE", path: pa})
				if !p.punct(",") {
					break
				}
				p.next()
			}
		}
	}
	if len(st.acts) == 0 {
		return nil, p.unexpected()
	}
	for i := range st.acts {
		for j := i + 1; j < len(st.acts); j++ {
			if overlap(st.acts[i].path, st.acts[j].path) {
				return nil, &pqErr{msg: fmt.Sprintf("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", st.acts[i].path.listString(), st.acts[j].path.listString())}
			}
		}
	}
	if err := p.expectKW("WHERE"); err != nil {
		return nil, err
	}
	c, err := p.condition()
	if err != nil {
		return nil, err
	}
	st.where = c
	return st, p.returning(st, "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW")
}

func (p *pqParser) deleteStmt() (*pqStmt, *pqErr) {
	st := &pqStmt{kind: pqDelete}
	if err := p.expectKW("FROM"); err != nil {
		return nil, err
	}
	if err := p.tableRef(st, true); err != nil {
		return nil, err
	}
	if err := p.expectKW("WHERE"); err != nil {
		return nil, err
	}
	c, err := p.condition()
	if err != nil {
		return nil, err
	}
	st.where = c
	return st, p.returning(st, "ALL_OLD")
}

// assignment parses path = expr in an UPDATE's SET clause.
func (p *pqParser) assignment() (updateAction, *pqErr) {
	pa, err := p.path()
	if err != nil {
		return updateAction{}, err
	}
	if err := p.expectPunct("="); err != nil {
		return updateAction{}, err
	}
	t := p.peek()
	if t.kind == pqIdent && p.toks[p.i+1].kind == pqPunct && p.toks[p.i+1].text == "(" {
		switch fn := strings.ToLower(t.text); fn {
		case "set_add", "set_delete":
			p.next()
			p.next()
			upper := strings.ToUpper(fn)
			var args []*operand
			var argToks []pqTok
			for !p.punct(")") {
				argToks = append(argToks, p.peek())
				o, err := p.setTerm()
				if err != nil {
					return updateAction{}, err
				}
				args = append(args, o)
				if !p.punct(",") {
					break
				}
				p.next()
			}
			if err := p.expectPunct(")"); err != nil {
				return updateAction{}, err
			}
			if len(args) != 2 {
				return updateAction{}, &pqErr{msg: upper + " must have exactly two arguments" + p.at(t)}
			}
			if args[0].kind != opPath || args[0].path.String() != pa.String() {
				return updateAction{}, &pqErr{msg: "The first argument to " + upper + " must equal the assignment value" + p.at(t)}
			}
			if args[1].kind != opValue || (args[1].val.t != tSS && args[1].val.t != tNS && args[1].val.t != tBS) {
				return updateAction{}, &pqErr{msg: "The second argument to " + upper + " must be a value with type SET" + p.at(argToks[0])}
			}
			kind := "ADD"
			if fn == "set_delete" {
				kind = "DELETE"
			}
			return updateAction{kind: kind, path: pa, val: args[1]}, nil
		}
	}
	o, err := p.setExpr()
	if err != nil {
		return updateAction{}, err
	}
	return updateAction{kind: "SET", path: pa, val: o}, nil
}

func (p *pqParser) setExpr() (*operand, *pqErr) {
	a, err := p.setTerm()
	if err != nil {
		return nil, err
	}
	for p.punct("+") || p.punct("-") {
		k := opPlus
		if p.next().text == "-" {
			k = opMinus
		}
		b, err := p.setTerm()
		if err != nil {
			return nil, err
		}
		a = &operand{kind: k, args: []*operand{a, b}}
	}
	return a, nil
}

func (p *pqParser) setTerm() (*operand, *pqErr) {
	t := p.peek()
	if t.kind == pqIdent && p.toks[p.i+1].kind == pqPunct && p.toks[p.i+1].text == "(" {
		fn := strings.ToLower(t.text)
		if fn != "list_append" && fn != "if_not_exists" {
			return nil, &pqErr{msg: "Unrecognized function: " + fn + p.at(t)}
		}
		p.next()
		p.next()
		o := &operand{kind: opListAppend}
		if fn == "if_not_exists" {
			o.kind = opIfNotExists
		}
		for !p.punct(")") {
			a, err := p.setExpr()
			if err != nil {
				return nil, err
			}
			o.args = append(o.args, a)
			if !p.punct(",") {
				break
			}
			p.next()
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		if len(o.args) != 2 {
			return nil, &pqErr{msg: fmt.Sprintf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", fn, len(o.args))}
		}
		if o.kind == opIfNotExists && o.args[0].kind != opPath {
			return nil, &pqErr{msg: "Operator or function requires a document path; operator or function: if_not_exists"}
		}
		return o, nil
	}
	if t.kind == pqQIdent || (t.kind == pqIdent && !pqKeywords[strings.ToUpper(t.text)]) {
		pa, err := p.path()
		if err != nil {
			return nil, err
		}
		return &operand{kind: opPath, path: pa}, nil
	}
	v, err := p.value("root")
	if err != nil {
		return nil, err
	}
	return &operand{kind: opValue, val: v}, nil
}

// value parses a literal or parameter; at names its place for number errors.
func (p *pqParser) value(at string) (av, *pqErr) {
	t := p.peek()
	switch t.kind {
	case pqParam:
		p.next()
		v := p.params[p.np]
		p.np++
		return v, nil
	case pqStr:
		p.next()
		return av{t: tS, s: t.text}, nil
	case pqNum:
		p.next()
		return p.number(t.text, at)
	case pqPunct:
		switch t.text {
		case "-", "+":
			p.next()
			n := p.peek()
			if n.kind != pqNum {
				return av{}, p.unexpected()
			}
			p.next()
			return p.number(t.text+n.text, at)
		case "{":
			p.next()
			m := map[string]av{}
			for !p.punct("}") {
				if k := p.peek(); k.kind != pqStr && k.kind != pqQIdent {
					return av{}, p.unexpected()
				}
				k := p.next()
				if err := p.expectPunct(":"); err != nil {
					return av{}, err
				}
				v, err := p.value(at + "." + k.text)
				if err != nil {
					return av{}, err
				}
				if _, dup := m[k.text]; dup {
					return av{}, &pqErr{msg: "Duplicate tuple key: " + k.text}
				}
				m[k.text] = v
				if !p.punct(",") {
					break
				}
				p.next()
			}
			if err := p.expectPunct("}"); err != nil {
				return av{}, err
			}
			return av{t: tM, m: m}, nil
		case "[":
			p.next()
			l := []av{}
			for !p.punct("]") {
				v, err := p.value(at + "[" + strconv.Itoa(len(l)) + "]")
				if err != nil {
					return av{}, err
				}
				l = append(l, v)
				if !p.punct(",") {
					break
				}
				p.next()
			}
			if err := p.expectPunct("]"); err != nil {
				return av{}, err
			}
			return av{t: tL, l: l}, nil
		case "<<":
			p.next()
			var members []av
			for !p.punct(">>") {
				v, err := p.value(at)
				if err != nil {
					return av{}, err
				}
				members = append(members, v)
				if !p.punct(",") {
					break
				}
				p.next()
			}
			if err := p.expectPunct(">>"); err != nil {
				return av{}, err
			}
			return setLiteral(members)
		}
	case pqIdent:
		switch strings.ToUpper(t.text) {
		case "TRUE", "FALSE":
			p.next()
			return av{t: tBOOL, b: strings.EqualFold(t.text, "TRUE")}, nil
		case "NULL":
			p.next()
			return av{t: tNULL, b: true}, nil
		}
		if p.toks[p.i+1].kind == pqPunct && p.toks[p.i+1].text == "(" {
			return av{}, &pqErr{msg: "Unsupported data type: " + strings.ToLower(t.text) + " under key " + at + p.at(t)}
		}
	}
	return av{}, p.unexpected()
}

func (p *pqParser) number(text, at string) (av, *pqErr) {
	n, e := parseNum(text)
	switch e {
	case numOK:
		return av{t: tN, s: n.String()}, nil
	case numOverflow:
		return av{}, &pqErr{msg: "Number overflow. Attempting to store a number with magnitude larger than supported range under " + at}
	case numUnderflow:
		return av{}, &pqErr{msg: "Number underflow. Attempting to store a number with magnitude smaller than supported range under " + at}
	case numPrecision:
		return av{}, &pqErr{msg: "Attempting to store more than 38 significant digits in a Number under " + at}
	}
	return av{}, malformed("")
}

// setLiteral builds an SS, NS or BS from a <<...>> bag.
func setLiteral(members []av) (av, *pqErr) {
	if len(members) == 0 {
		return av{}, &pqErr{msg: "Empty bags are not supported"}
	}
	t := members[0].t
	var st byte
	switch t {
	case tS:
		st = tSS
	case tN:
		st = tNS
	case tB:
		st = tBS
	default:
		return av{}, &pqErr{msg: "Unsupported data type in a set: " + typeName(t)}
	}
	set := make([]string, 0, len(members))
	raw := make([]string, 0, len(members))
	dup := false
	for _, m := range members {
		if m.t != t {
			return av{}, &pqErr{msg: "Sets must contain values of the same type"}
		}
		raw = append(raw, m.s)
		if setHas(set, m.s) {
			dup = true
		}
		set = append(set, m.s)
	}
	if dup {
		return av{}, &pqErr{msg: "One or more parameter values were invalid: Input collection [" + strings.Join(raw, ", ") + "] contains duplicates."}
	}
	return av{t: st, set: set}, nil
}

// ---- conditions ----

func (p *pqParser) condition() (*cond, *pqErr) {
	l, err := p.andCond()
	if err != nil {
		return nil, err
	}
	for p.kw("OR") {
		p.next()
		r, err := p.andCond()
		if err != nil {
			return nil, err
		}
		l = &cond{kind: cOr, sub: []*cond{l, r}}
	}
	return l, nil
}

func (p *pqParser) andCond() (*cond, *pqErr) {
	l, err := p.notCond()
	if err != nil {
		return nil, err
	}
	for p.kw("AND") {
		p.next()
		r, err := p.notCond()
		if err != nil {
			return nil, err
		}
		l = &cond{kind: cAnd, sub: []*cond{l, r}}
	}
	return l, nil
}

func (p *pqParser) notCond() (*cond, *pqErr) {
	if p.kw("NOT") {
		p.next()
		c, err := p.notCond()
		if err != nil {
			return nil, err
		}
		return &cond{kind: cNot, sub: []*cond{c}}, nil
	}
	return p.predicate()
}

func (p *pqParser) predicate() (*cond, *pqErr) {
	if p.punct("(") {
		p.next()
		c, err := p.condition()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return c, nil
	}
	t := p.peek()
	if t.kind == pqIdent && p.toks[p.i+1].kind == pqPunct && p.toks[p.i+1].text == "(" && !strings.EqualFold(t.text, "size") {
		fn := strings.ToLower(t.text)
		kind, ok := boolFuncs[fn]
		if !ok {
			return nil, &pqErr{msg: "Unrecognized function: " + fn + p.at(t)}
		}
		p.next()
		p.next()
		var args []*operand
		for !p.punct(")") {
			o, err := p.operand()
			if err != nil {
				return nil, err
			}
			args = append(args, o)
			if !p.punct(",") {
				break
			}
			p.next()
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		want := 2
		if kind == cExists || kind == cNotExists {
			want = 1
		}
		if len(args) != want {
			return nil, &pqErr{msg: fmt.Sprintf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", fn, len(args))}
		}
		if args[0].kind != opPath && kind != cContains {
			return nil, &pqErr{msg: "Operator or function requires a document path; operator or function: " + fn}
		}
		if kind == cType && args[1].kind == opValue {
			if args[1].val.t != tS {
				return nil, &pqErr{msg: "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: " + typeName(args[1].val.t)}
			}
			if _, ok := typeFromName(args[1].val.s); !ok {
				return nil, &pqErr{msg: "Invalid attribute type name found; type: " + args[1].val.s + ", valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }"}
			}
		}
		return &cond{kind: kind, ops: args}, nil
	}
	a, err := p.operand()
	if err != nil {
		return nil, err
	}
	switch {
	case p.peek().kind == pqPunct && isPQComparator(p.peek().text):
		op := p.next().text
		if op == "!=" {
			op = "<>"
		}
		b, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &cond{kind: cCompare, op: op, ops: []*operand{a, b}}, nil
	case p.kw("BETWEEN"):
		p.next()
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if err := p.expectKW("AND"); err != nil {
			return nil, err
		}
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &cond{kind: cBetween, ops: []*operand{a, lo, hi}}, nil
	case p.kw("IN"):
		p.next()
		closer := "]"
		if p.punct("(") {
			closer = ")"
		} else if !p.punct("[") {
			return nil, p.unexpected()
		}
		p.next()
		c := &cond{kind: cIn, ops: []*operand{a}}
		for !p.punct(closer) {
			o, err := p.operand()
			if err != nil {
				return nil, err
			}
			c.ops = append(c.ops, o)
			if !p.punct(",") {
				break
			}
			p.next()
		}
		if err := p.expectPunct(closer); err != nil {
			return nil, err
		}
		if len(c.ops) == 1 {
			return nil, malformed("Unexpected token")
		}
		if len(c.ops) > 101 {
			return nil, &pqErr{msg: fmt.Sprintf("The IN operator is provided with too many operands; number of operands: %d", len(c.ops)-1)}
		}
		return c, nil
	case p.kw("IS"):
		p.next()
		neg := false
		if p.kw("NOT") {
			p.next()
			neg = true
		}
		if a.kind != opPath {
			return nil, &pqErr{msg: "Operator or function requires a document path; operator or function: IS"}
		}
		var c *cond
		switch {
		case p.kw("MISSING"):
			c = &cond{kind: cNotExists, ops: []*operand{a}}
		case p.kw("NULL"):
			c = &cond{kind: cType, ops: []*operand{a, {kind: opValue, val: av{t: tS, s: "NULL"}}}}
		default:
			return nil, p.unexpected()
		}
		p.next()
		if neg {
			c = &cond{kind: cNot, sub: []*cond{c}}
		}
		return c, nil
	}
	return nil, p.unexpected()
}

func isPQComparator(s string) bool {
	switch s {
	case "=", "<>", "!=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

// operand parses a path, size(path), literal or parameter.
func (p *pqParser) operand() (*operand, *pqErr) {
	t := p.peek()
	if t.kind == pqIdent && strings.EqualFold(t.text, "size") && p.toks[p.i+1].kind == pqPunct && p.toks[p.i+1].text == "(" {
		p.next()
		p.next()
		pa, err := p.path()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return &operand{kind: opSize, path: pa}, nil
	}
	if t.kind == pqIdent && p.toks[p.i+1].kind == pqPunct && p.toks[p.i+1].text == "(" {
		return nil, &pqErr{msg: "Unrecognized function: " + strings.ToLower(t.text) + p.at(t)}
	}
	if t.kind == pqQIdent || (t.kind == pqIdent && !pqKeywords[strings.ToUpper(t.text)]) {
		pa, err := p.path()
		if err != nil {
			return nil, err
		}
		return &operand{kind: opPath, path: pa}, nil
	}
	v, err := p.value("root")
	if err != nil {
		return nil, err
	}
	return &operand{kind: opValue, val: v}, nil
}
