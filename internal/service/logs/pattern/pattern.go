// Package pattern parses and evaluates CloudWatch Logs filter patterns, the
// syntax shared by FilterLogEvents, metric filters and subscription filters:
//
//   - term patterns: words and "quoted phrases" that must all appear in the
//     event (case-sensitive), ?term groups of which one must match, -term
//     exclusions and %regex% terms;
//   - JSON patterns: { $.field = value } with =, !=, <, >, <=, >=, *
//     wildcards in string values, &&, ||, parentheses, IS NULL, NOT EXISTS,
//     IS TRUE, IS FALSE and array indexes ($.list[0].id);
//   - space-delimited patterns: [ip, user, ..., status=4*, bytes>1000] over
//     fields separated by spaces, where "..." stands for any number of fields
//     and text in "quotes" or [brackets] is one field.
//
// A compiled Pattern is safe for concurrent use.
package pattern

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Pattern is a compiled filter pattern.
type Pattern struct {
	src   string
	kind  kind
	terms []termGroup // kindTerms
	json  node        // kindJSON
	delim []field     // kindDelimited
	// selectors lists the JSON selectors the pattern references, for
	// extracted values.
	selectors []string
}

type kind int

const (
	kindAll kind = iota
	kindTerms
	kindJSON
	kindDelimited
)

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("invalid filter pattern")

func syntaxErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSyntax, fmt.Sprintf(format, args...))
}

// maxRegexes is the number of %regex% expressions a pattern may hold.
const maxRegexes = 2

// Parse compiles a filter pattern. The empty pattern matches every event.
func Parse(s string) (*Pattern, error) {
	p := &Pattern{src: s}
	t := strings.TrimSpace(s)
	var err error
	switch {
	case t == "":
		p.kind = kindAll
	case t[0] == '{':
		p.kind = kindJSON
		err = p.parseJSON(t)
	case t[0] == '[':
		p.kind = kindDelimited
		err = p.parseDelimited(t)
	default:
		p.kind = kindTerms
		err = p.parseTerms(t)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// String returns the pattern as written.
func (p *Pattern) String() string { return p.src }

// MatchesAll reports whether the pattern matches every event.
func (p *Pattern) MatchesAll() bool { return p.kind == kindAll }

// Match reports whether msg matches the pattern.
func (p *Pattern) Match(msg string) bool {
	switch p.kind {
	case kindAll:
		return true
	case kindTerms:
		return matchTerms(p.terms, msg)
	case kindJSON:
		doc, ok := parseDoc(msg)
		if !ok {
			return false
		}
		return p.json.eval(doc)
	case kindDelimited:
		_, ok := p.matchDelimited(msg)
		return ok
	}
	return false
}

// Result is a match with access to the event's fields.
type Result struct {
	doc    any               // JSON patterns
	fields map[string]string // space-delimited patterns, by name
	p      *Pattern
}

// MatchFields matches msg and, on a match, returns its fields so metric
// filters can read values ($.field or $name).
func (p *Pattern) MatchFields(msg string) (*Result, bool) {
	switch p.kind {
	case kindJSON:
		doc, ok := parseDoc(msg)
		if !ok || !p.json.eval(doc) {
			return nil, false
		}
		return &Result{doc: doc, p: p}, true
	case kindDelimited:
		f, ok := p.matchDelimited(msg)
		if !ok {
			return nil, false
		}
		return &Result{fields: f, p: p}, true
	}
	if !p.Match(msg) {
		return nil, false
	}
	return &Result{p: p}, true
}

// Value returns the text of the field selector names: "$.a.b[0]" for JSON
// patterns, "$name" for space-delimited ones.
func (r *Result) Value(selector string) (string, bool) {
	if r == nil {
		return "", false
	}
	if r.fields != nil {
		v, ok := r.fields[strings.TrimPrefix(selector, "$")]
		return v, ok
	}
	if r.doc == nil {
		return "", false
	}
	path, err := parseSelector(selector)
	if err != nil {
		return "", false
	}
	v, ok := path.lookup(r.doc)
	if !ok {
		return "", false
	}
	return textOf(v), true
}

// Extracted returns the values a test of the pattern reports: the JSON
// selectors it names, or the named space-delimited fields, keyed "$.x" or
// "$name".
func (r *Result) Extracted() map[string]string {
	out := map[string]string{}
	if r == nil {
		return out
	}
	if r.fields != nil {
		for k, v := range r.fields {
			out["$"+k] = v
		}
		return out
	}
	for _, sel := range r.p.selectors {
		if v, ok := r.Value(sel); ok {
			out[sel] = v
		}
	}
	return out
}

// ---- term patterns ----

type term struct {
	text    string
	re      *regexp.Regexp
	exclude bool
}

// termGroup matches when every term in it does; a pattern of groups matches
// when any group does (groups start with ?).
type termGroup []term

func (t term) match(msg string) bool {
	var found bool
	if t.re != nil {
		found = t.re.MatchString(msg)
	} else {
		found = strings.Contains(msg, t.text)
	}
	return found != t.exclude
}

func matchTerms(groups []termGroup, msg string) bool {
	for _, g := range groups {
		ok := true
		for _, t := range g {
			if !t.match(msg) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (p *Pattern) parseTerms(s string) error {
	var cur termGroup
	regexes := 0
	i := 0
	for i < len(s) {
		if s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' {
			i++
			continue
		}
		var t term
		newGroup := false
		for i < len(s) && (s[i] == '?' || s[i] == '-') {
			if s[i] == '?' {
				newGroup = true
			} else {
				t.exclude = !t.exclude
			}
			i++
		}
		if i >= len(s) {
			return syntaxErr("dangling operator at end of pattern")
		}
		switch s[i] {
		case '"':
			text, n, err := quoted(s[i:])
			if err != nil {
				return err
			}
			t.text = text
			i += n
		case '%':
			end := strings.IndexByte(s[i+1:], '%')
			if end < 0 {
				return syntaxErr("unterminated regular expression")
			}
			re, err := compileRegex(s[i+1 : i+1+end])
			if err != nil {
				return err
			}
			regexes++
			t.re = re
			i += end + 2
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' && s[j] != '\r' {
				j++
			}
			t.text = s[i:j]
			i = j
		}
		if regexes > maxRegexes {
			return syntaxErr("a filter pattern may contain at most %d regular expressions", maxRegexes)
		}
		if newGroup && len(cur) > 0 {
			p.terms = append(p.terms, cur)
			cur = nil
		}
		cur = append(cur, t)
	}
	if len(cur) > 0 {
		p.terms = append(p.terms, cur)
	}
	if len(p.terms) == 0 {
		p.kind = kindAll
	}
	return nil
}

// quoted reads a "double-quoted" string with backslash escapes at the start
// of s and returns its text and the bytes consumed.
func quoted(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, syntaxErr("unterminated quoted string")
}

func compileRegex(src string) (*regexp.Regexp, error) {
	if src == "" {
		return nil, syntaxErr("empty regular expression")
	}
	if strings.ContainsAny(src, "()") {
		return nil, syntaxErr("regular expressions do not support ( and )")
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, syntaxErr("regular expression %q: %v", src, err)
	}
	return re, nil
}

// ---- values shared by JSON and space-delimited patterns ----

type op int

const (
	opEq op = iota
	opNe
	opLt
	opGt
	opLe
	opGe
)

// literal is the right-hand side of a comparison.
type literal struct {
	text    string
	num     float64
	isNum   bool // unquoted and numeric
	quoted  bool
	re      *regexp.Regexp
	pattern []string // text split at * when it holds wildcards
}

func newLiteral(text string, isQuoted bool) literal {
	l := literal{text: text, quoted: isQuoted}
	if !isQuoted {
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			l.num, l.isNum = f, true
		}
	}
	if strings.Contains(text, "*") {
		l.pattern = strings.Split(text, "*")
	}
	return l
}

// matchString compares a string value with = semantics (wildcards, regex).
func (l *literal) matchString(v string) bool {
	if l.re != nil {
		return l.re.MatchString(v)
	}
	if l.pattern != nil {
		return wildcard(l.pattern, v)
	}
	return v == l.text
}

func wildcard(parts []string, v string) bool {
	if !strings.HasPrefix(v, parts[0]) {
		return false
	}
	v = v[len(parts[0]):]
	last := len(parts) - 1
	for _, p := range parts[1:last] {
		i := strings.Index(v, p)
		if i < 0 {
			return false
		}
		v = v[i+len(p):]
	}
	return strings.HasSuffix(v, parts[last])
}

func compareNum(o op, a, b float64) bool {
	switch o {
	case opEq:
		return a == b
	case opNe:
		return a != b
	case opLt:
		return a < b
	case opGt:
		return a > b
	case opLe:
		return a <= b
	case opGe:
		return a >= b
	}
	return false
}
