// Package insights parses and runs CloudWatch Logs Insights queries: the
// commands fields (and display), filter, stats with count, sum, avg, min,
// max and count_distinct grouped by fields or bin(period), sort, limit and
// parse (glob and regular-expression forms), piped with |.
package insights

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("malformed query")

func syntaxErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSyntax, fmt.Sprintf(format, args...))
}

// Query is a parsed query.
type Query struct {
	cmds []command
}

type command interface{}

type fieldsCmd struct {
	fields []alias
}

type alias struct {
	name, as string
}

type filterCmd struct{ e expr }

type parseCmd struct {
	field string
	re    *regexp.Regexp
	names []string // glob form: names for each capture
}

type agg struct {
	fn    string // count, sum, avg, min, max, count_distinct
	arg   string // "" for count(*)
	label string
}

type groupKey struct {
	field string
	bin   time.Duration
	label string
}

type statsCmd struct {
	aggs []agg
	by   []groupKey
}

type sortKey struct {
	field string
	desc  bool
}

type sortCmd struct{ keys []sortKey }

type limitCmd struct{ n int }

// ---- tokens ----

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tString
	tRegex
	tOp
	tLParen
	tRParen
	tComma
	tStar
	tLBrack
	tRBrack
)

type token struct {
	kind tokKind
	text string
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '@' || c == '.' || c == '$' || c == '-' ||
		c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{tLParen, "("})
			i++
		case c == ')':
			out = append(out, token{tRParen, ")"})
			i++
		case c == '[':
			out = append(out, token{tLBrack, "["})
			i++
		case c == ']':
			out = append(out, token{tRBrack, "]"})
			i++
		case c == ',':
			out = append(out, token{tComma, ","})
			i++
		case c == '*':
			out = append(out, token{tStar, "*"})
			i++
		case c == '"' || c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, syntaxErr("unterminated string")
			}
			out = append(out, token{tString, b.String()})
			i = j + 1
		case c == '/':
			j := i + 1
			for ; j < len(s) && s[j] != '/'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
			}
			if j >= len(s) {
				return nil, syntaxErr("unterminated regular expression")
			}
			out = append(out, token{tRegex, s[i+1 : j]})
			i = j + 1
		case c == '`':
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				return nil, syntaxErr("unterminated field name")
			}
			out = append(out, token{tIdent, s[i+1 : i+1+j]})
			i += j + 2
		case strings.ContainsRune("=!<>~", rune(c)):
			j := i + 1
			for j < len(s) && strings.ContainsRune("=!<>~", rune(s[j])) {
				j++
			}
			op := s[i:j]
			switch op {
			case "=", "==", "!=", "<", ">", "<=", ">=", "=~":
			default:
				return nil, syntaxErr("unknown operator %q", op)
			}
			out = append(out, token{tOp, op})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isIdentByte(s[j])) {
				j++
			}
			if _, err := strconv.ParseFloat(s[i:j], 64); err == nil {
				out = append(out, token{tNumber, s[i:j]})
			} else {
				out = append(out, token{tIdent, s[i:j]})
			}
			i = j
		case isIdentByte(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			out = append(out, token{tIdent, s[i:j]})
			i = j
		default:
			return nil, syntaxErr("unexpected character %q", c)
		}
	}
	return append(out, token{kind: tEOF}), nil
}

// splitPipes splits a query at | outside strings and regular expressions.
func splitPipes(q string) []string {
	var out []string
	start := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '/' || c == '`':
			quote = c
		case c == '|':
			out = append(out, q[start:i])
			start = i + 1
		}
	}
	return append(out, q[start:])
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}
func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, w)
}

// Parse parses a query.
func Parse(q string) (*Query, error) {
	if strings.TrimSpace(q) == "" {
		return nil, syntaxErr("empty query")
	}
	if !utf8.ValidString(q) {
		return nil, syntaxErr("query is not valid UTF-8")
	}
	var out Query
	for _, part := range splitPipes(q) {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, syntaxErr("empty command")
		}
		name, rest, _ := strings.Cut(part, " ")
		toks, err := lex(rest)
		if err != nil {
			return nil, err
		}
		p := &parser{toks: toks}
		var cmd command
		switch strings.ToLower(name) {
		case "fields", "display":
			cmd, err = p.fields()
		case "filter":
			var e expr
			e, err = p.parseOr(0)
			cmd = &filterCmd{e}
		case "stats":
			cmd, err = p.stats()
		case "sort":
			cmd, err = p.sort()
		case "limit":
			t := p.next()
			n, convErr := strconv.Atoi(t.text)
			if t.kind != tNumber || convErr != nil || n < 1 || n > 10000 {
				return nil, syntaxErr("limit needs a number from 1 to 10000")
			}
			cmd = &limitCmd{n}
		case "parse":
			cmd, err = p.parse()
		default:
			return nil, syntaxErr("unknown command %q", name)
		}
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tEOF {
			return nil, syntaxErr("unexpected %q in %s", p.peek().text, name)
		}
		out.cmds = append(out.cmds, cmd)
	}
	return &out, nil
}

func (p *parser) fields() (*fieldsCmd, error) {
	var c fieldsCmd
	for {
		t := p.next()
		if t.kind != tIdent {
			return nil, syntaxErr("expected a field name, found %q", t.text)
		}
		a := alias{name: t.text, as: t.text}
		if p.isWord("as") {
			p.next()
			n := p.next()
			if n.kind != tIdent {
				return nil, syntaxErr("expected a name after as")
			}
			a.as = n.text
		}
		c.fields = append(c.fields, a)
		if p.peek().kind != tComma {
			return &c, nil
		}
		p.next()
	}
}

func (p *parser) sort() (*sortCmd, error) {
	var c sortCmd
	for {
		t := p.next()
		if t.kind != tIdent {
			return nil, syntaxErr("expected a field to sort by")
		}
		k := sortKey{field: t.text}
		if p.isWord("desc") {
			p.next()
			k.desc = true
		} else if p.isWord("asc") {
			p.next()
		}
		c.keys = append(c.keys, k)
		if p.peek().kind != tComma {
			return &c, nil
		}
		p.next()
	}
}

func (p *parser) parse() (*parseCmd, error) {
	f := p.next()
	if f.kind != tIdent {
		return nil, syntaxErr("parse needs a field")
	}
	c := &parseCmd{field: f.text}
	pat := p.next()
	switch pat.kind {
	case tRegex:
		re, err := regexp.Compile(pat.text)
		if err != nil {
			return nil, syntaxErr("parse regular expression: %v", err)
		}
		if len(re.SubexpNames()) < 2 {
			return nil, syntaxErr("parse regular expression has no named groups")
		}
		for _, n := range re.SubexpNames()[1:] {
			if n == "" {
				return nil, syntaxErr("every group of a parse regular expression needs a name")
			}
		}
		c.re = re
		c.names = re.SubexpNames()[1:]
		return c, nil
	case tString:
		parts := strings.Split(pat.text, "*")
		if len(parts) < 2 {
			return nil, syntaxErr("parse pattern has no *")
		}
		var b strings.Builder
		for i, part := range parts {
			b.WriteString(regexp.QuoteMeta(part))
			if i < len(parts)-1 {
				if i == len(parts)-2 && parts[len(parts)-1] == "" {
					b.WriteString("(.*)")
				} else {
					b.WriteString("(.*?)")
				}
			}
		}
		re, err := regexp.Compile(b.String())
		if err != nil {
			return nil, syntaxErr("parse pattern: %v", err)
		}
		c.re = re
		if !p.isWord("as") {
			return nil, syntaxErr("parse with a glob needs as")
		}
		p.next()
		for {
			n := p.next()
			if n.kind != tIdent {
				return nil, syntaxErr("expected a field name after as")
			}
			c.names = append(c.names, n.text)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
		if len(c.names) != len(parts)-1 {
			return nil, syntaxErr("parse pattern has %d * but %d names", len(parts)-1, len(c.names))
		}
		return c, nil
	}
	return nil, syntaxErr("parse needs a \"glob\" or a /regular expression/")
}

var aggFns = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true, "count_distinct": true}

func (p *parser) stats() (*statsCmd, error) {
	var c statsCmd
	for {
		fn := p.next()
		if fn.kind != tIdent || !aggFns[strings.ToLower(fn.text)] {
			return nil, syntaxErr("unknown stats function %q", fn.text)
		}
		a := agg{fn: strings.ToLower(fn.text)}
		if p.next().kind != tLParen {
			return nil, syntaxErr("expected ( after %s", fn.text)
		}
		arg := p.next()
		switch {
		case arg.kind == tStar && a.fn == "count":
		case arg.kind == tIdent:
			a.arg = arg.text
		default:
			return nil, syntaxErr("bad argument to %s", fn.text)
		}
		if p.next().kind != tRParen {
			return nil, syntaxErr("expected ) after %s argument", fn.text)
		}
		a.label = fn.text + "(" + arg.text + ")"
		if p.isWord("as") {
			p.next()
			n := p.next()
			if n.kind != tIdent {
				return nil, syntaxErr("expected a name after as")
			}
			a.label = n.text
		}
		c.aggs = append(c.aggs, a)
		if p.peek().kind == tComma {
			p.next()
			continue
		}
		break
	}
	if !p.isWord("by") {
		return &c, nil
	}
	p.next()
	for {
		t := p.next()
		if t.kind != tIdent {
			return nil, syntaxErr("expected a field or bin() after by")
		}
		k := groupKey{field: t.text, label: t.text}
		if strings.EqualFold(t.text, "bin") && p.peek().kind == tLParen {
			p.next()
			d := p.next()
			if p.next().kind != tRParen {
				return nil, syntaxErr("expected ) after bin period")
			}
			dur, err := parsePeriod(d.text)
			if err != nil {
				return nil, err
			}
			k = groupKey{field: "@timestamp", bin: dur, label: "bin(" + d.text + ")"}
		}
		if p.isWord("as") {
			p.next()
			n := p.next()
			if n.kind != tIdent {
				return nil, syntaxErr("expected a name after as")
			}
			k.label = n.text
		}
		c.by = append(c.by, k)
		if p.peek().kind != tComma {
			return &c, nil
		}
		p.next()
	}
}

func parsePeriod(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		d      time.Duration
	}{{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.Atoi(n)
			if err == nil && v > 0 && v < 1<<20 {
				return time.Duration(v) * u.d, nil
			}
		}
	}
	return 0, syntaxErr("bad bin period %q", s)
}
