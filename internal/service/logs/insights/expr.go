package insights

import (
	"regexp"
	"strconv"
	"strings"
)

type expr interface {
	eval(r Record) (string, bool) // value, present
}

type fieldExpr string
type litExpr string

func (f fieldExpr) eval(r Record) (string, bool) { v, ok := r[string(f)]; return v, ok }
func (l litExpr) eval(Record) (string, bool)     { return string(l), true }

func truth(b bool) (string, bool) {
	if b {
		return "1", true
	}
	return "0", true
}

type andExpr struct{ a, b expr }
type orExpr struct{ a, b expr }
type notExpr struct{ e expr }

func isTrue(e expr, r Record) bool {
	v, ok := e.eval(r)
	return ok && v != "0" && v != "" && v != "false"
}

func (e andExpr) eval(r Record) (string, bool) { return truth(isTrue(e.a, r) && isTrue(e.b, r)) }
func (e orExpr) eval(r Record) (string, bool)  { return truth(isTrue(e.a, r) || isTrue(e.b, r)) }
func (e notExpr) eval(r Record) (string, bool) { return truth(!isTrue(e.e, r)) }

type cmpExpr struct {
	op   string
	a, b expr
}

func (e cmpExpr) eval(r Record) (string, bool) {
	av, aok := e.a.eval(r)
	bv, bok := e.b.eval(r)
	if !aok || !bok {
		return truth(false)
	}
	c := compare(av, bv)
	switch e.op {
	case "=", "==":
		return truth(c == 0)
	case "!=":
		return truth(c != 0)
	case "<":
		return truth(c < 0)
	case ">":
		return truth(c > 0)
	case "<=":
		return truth(c <= 0)
	case ">=":
		return truth(c >= 0)
	}
	return truth(false)
}

// compare orders values numerically when both are numbers.
func compare(a, b string) int {
	fa, ea := strconv.ParseFloat(a, 64)
	fb, eb := strconv.ParseFloat(b, 64)
	if ea == nil && eb == nil {
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

type likeExpr struct {
	e      expr
	re     *regexp.Regexp
	substr string
	neg    bool
}

func (l likeExpr) eval(r Record) (string, bool) {
	v, ok := l.e.eval(r)
	if !ok {
		return truth(l.neg)
	}
	var m bool
	if l.re != nil {
		m = l.re.MatchString(v)
	} else {
		m = strings.Contains(v, l.substr)
	}
	return truth(m != l.neg)
}

type inExpr struct {
	e    expr
	list []string
	neg  bool
}

func (in inExpr) eval(r Record) (string, bool) {
	v, ok := in.e.eval(r)
	found := false
	if ok {
		for _, x := range in.list {
			if compare(v, x) == 0 {
				found = true
				break
			}
		}
	}
	return truth(found != in.neg)
}

type presentExpr struct {
	field string
}

func (p presentExpr) eval(r Record) (string, bool) {
	_, ok := r[p.field]
	return truth(ok)
}

const maxDepth = 64

func (p *parser) parseOr(depth int) (expr, error) {
	if depth > maxDepth {
		return nil, syntaxErr("expression nested too deeply")
	}
	left, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	for p.isWord("or") || (p.peek().kind == tOp && p.peek().text == "||") {
		p.next()
		right, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		left = orExpr{left, right}
	}
	return left, nil
}

func (p *parser) parseAnd(depth int) (expr, error) {
	left, err := p.parseNot(depth)
	if err != nil {
		return nil, err
	}
	for p.isWord("and") {
		p.next()
		right, err := p.parseNot(depth)
		if err != nil {
			return nil, err
		}
		left = andExpr{left, right}
	}
	return left, nil
}

func (p *parser) parseNot(depth int) (expr, error) {
	if p.isWord("not") {
		p.next()
		e, err := p.parseNot(depth + 1)
		if err != nil {
			return nil, err
		}
		return notExpr{e}, nil
	}
	return p.parseCmp(depth)
}

func (p *parser) parseCmp(depth int) (expr, error) {
	left, err := p.primary(depth)
	if err != nil {
		return nil, err
	}
	neg := false
	if p.isWord("not") {
		p.next()
		neg = true
		if !p.isWord("like") && !p.isWord("in") {
			return nil, syntaxErr("expected like or in after not")
		}
	}
	switch {
	case p.isWord("like") || (p.peek().kind == tOp && p.peek().text == "=~"):
		p.next()
		t := p.next()
		switch t.kind {
		case tRegex:
			re, err := regexp.Compile(t.text)
			if err != nil {
				return nil, syntaxErr("regular expression: %v", err)
			}
			return likeExpr{e: left, re: re, neg: neg}, nil
		case tString:
			return likeExpr{e: left, substr: t.text, neg: neg}, nil
		}
		return nil, syntaxErr("like needs a string or a /regular expression/")
	case p.isWord("in"):
		p.next()
		if p.next().kind != tLBrack {
			return nil, syntaxErr("in needs a [list]")
		}
		var list []string
		for p.peek().kind != tRBrack {
			t := p.next()
			if t.kind != tString && t.kind != tNumber && t.kind != tIdent {
				return nil, syntaxErr("bad list element %q", t.text)
			}
			list = append(list, t.text)
			if p.peek().kind == tComma {
				p.next()
			} else if p.peek().kind != tRBrack {
				return nil, syntaxErr("expected , or ] in list")
			}
		}
		p.next()
		return inExpr{e: left, list: list, neg: neg}, nil
	case neg:
		return nil, syntaxErr("expected like or in after not")
	case p.peek().kind == tOp:
		op := p.next().text
		right, err := p.primary(depth)
		if err != nil {
			return nil, err
		}
		return cmpExpr{op: op, a: left, b: right}, nil
	}
	return left, nil
}

func (p *parser) primary(depth int) (expr, error) {
	t := p.next()
	switch t.kind {
	case tLParen:
		e, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.next().kind != tRParen {
			return nil, syntaxErr("missing )")
		}
		return e, nil
	case tNumber, tString:
		return litExpr(t.text), nil
	case tIdent:
		if p.peek().kind == tLParen {
			fn := strings.ToLower(t.text)
			if fn != "ispresent" && fn != "isempty" {
				return nil, syntaxErr("unknown function %q", t.text)
			}
			p.next()
			f := p.next()
			if f.kind != tIdent || p.next().kind != tRParen {
				return nil, syntaxErr("%s needs one field", t.text)
			}
			if fn == "isempty" {
				return notExpr{andExpr{presentExpr{f.text}, notEmpty(f.text)}}, nil
			}
			return presentExpr{f.text}, nil
		}
		if strings.EqualFold(t.text, "true") {
			return litExpr("1"), nil
		}
		if strings.EqualFold(t.text, "false") {
			return litExpr("0"), nil
		}
		return fieldExpr(t.text), nil
	}
	return nil, syntaxErr("unexpected %q", t.text)
}

type notEmpty string

func (n notEmpty) eval(r Record) (string, bool) { return truth(r[string(n)] != "") }
