package dynamodb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sort"
	"strings"
	"unicode/utf8"
)

// Attribute value types, as the single letters DynamoDB names them in
// messages and attribute_type.
const (
	tS    = 'S'
	tN    = 'N'
	tB    = 'B'
	tBOOL = 'T'
	tNULL = '0'
	tSS   = 's'
	tNS   = 'n'
	tBS   = 'b'
	tL    = 'L'
	tM    = 'M'
)

// av is one attribute value.
type av struct {
	t   byte
	b   bool
	s   string   // S, N (canonical), B (raw bytes)
	set []string // SS, NS (canonical), BS (raw)
	l   []av
	m   map[string]av
}

type item map[string]av

func typeName(t byte) string {
	switch t {
	case tS:
		return "S"
	case tN:
		return "N"
	case tB:
		return "B"
	case tBOOL:
		return "BOOL"
	case tNULL:
		return "NULL"
	case tSS:
		return "SS"
	case tNS:
		return "NS"
	case tBS:
		return "BS"
	case tL:
		return "L"
	case tM:
		return "M"
	}
	return "?"
}

func typeFromName(s string) (byte, bool) {
	switch s {
	case "S":
		return tS, true
	case "N":
		return tN, true
	case "B":
		return tB, true
	case "BOOL":
		return tBOOL, true
	case "NULL":
		return tNULL, true
	case "SS":
		return tSS, true
	case "NS":
		return tNS, true
	case "BS":
		return tBS, true
	case "L":
		return tL, true
	case "M":
		return tM, true
	}
	return 0, false
}

// ---- wire conversion ----

func numError(e numErr) error {
	switch e {
	case numOverflow:
		return validation("Number overflow. Attempting to store a number with magnitude larger than supported range")
	case numUnderflow:
		return validation("Number underflow. Attempting to store a number with magnitude smaller than supported range")
	case numPrecision:
		return validation("Attempting to store more than 38 significant digits in a Number")
	}
	return validation("A value provided cannot be converted into a number")
}

func canonNum(s string) (string, error) {
	if isCanonicalInt(s) {
		return s, nil
	}
	n, e := parseNum(s)
	if e != numOK {
		return "", numError(e)
	}
	return n.String(), nil
}

// isCanonicalInt reports whether s is an integer already in canonical form
// (no sign but '-', no leading zeros, at most 38 digits).
func isCanonicalInt(s string) bool {
	if s == "0" {
		return true
	}
	d := s
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > maxDigits || d[0] == '0' {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// fromWire converts a decoded AttributeValue structure.
func fromWire(v any, depth int) (av, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return av{}, validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	}
	if depth > 32 {
		return av{}, validation("Nesting Levels have exceeded supported limits")
	}
	if len(m) == 0 {
		return av{}, validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	}
	if len(m) > 1 {
		return av{}, validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	for k, x := range m {
		switch k {
		case "S":
			s, _ := x.(string)
			return av{t: tS, s: s}, nil
		case "N":
			s, _ := x.(string)
			c, err := canonNum(s)
			if err != nil {
				return av{}, err
			}
			return av{t: tN, s: c}, nil
		case "B":
			b, _ := x.([]byte)
			return av{t: tB, s: string(b)}, nil
		case "BOOL":
			b, _ := x.(bool)
			return av{t: tBOOL, b: b}, nil
		case "NULL":
			b, _ := x.(bool)
			if !b {
				return av{}, validation("One or more parameter values were invalid: Null attribute value types must have the value of true")
			}
			return av{t: tNULL, b: true}, nil
		case "SS", "NS", "BS":
			l, _ := x.([]any)
			t, _ := typeFromName(k)
			if len(l) == 0 {
				return av{}, validation("One or more parameter values were invalid: An %s set  may not be empty", map[string]string{"SS": "string", "NS": "number", "BS": "binary"}[k])
			}
			set := make([]string, 0, len(l))
			seen := make(map[string]struct{}, len(l))
			raw := make([]string, 0, len(l))
			for _, e := range l {
				var s string
				switch ev := e.(type) {
				case string:
					s = ev
				case []byte:
					s = string(ev)
				}
				raw = append(raw, s)
				if t == tNS {
					c, err := canonNum(s)
					if err != nil {
						return av{}, err
					}
					s = c
				}
				if _, dup := seen[s]; dup {
					return av{}, validation("One or more parameter values were invalid: Input collection [%s] contains duplicates.", strings.Join(raw, ", "))
				}
				seen[s] = struct{}{}
				set = append(set, s)
			}
			return av{t: t, set: set}, nil
		case "L":
			l, _ := x.([]any)
			out := make([]av, len(l))
			for i, e := range l {
				c, err := fromWire(e, depth+1)
				if err != nil {
					return av{}, err
				}
				out[i] = c
			}
			return av{t: tL, l: out}, nil
		case "M":
			mm, _ := x.(map[string]any)
			out := make(map[string]av, len(mm))
			for name, e := range mm {
				c, err := fromWire(e, depth+1)
				if err != nil {
					return av{}, err
				}
				out[name] = c
			}
			return av{t: tM, m: out}, nil
		}
	}
	return av{}, validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
}

// itemFromWire converts an attribute map.
func itemFromWire(v any) (item, error) {
	m, _ := v.(map[string]any)
	it := make(item, len(m))
	for k, x := range m {
		a, err := fromWire(x, 0)
		if err != nil {
			return nil, err
		}
		it[k] = a
	}
	return it, nil
}

func (a av) wire() map[string]any {
	switch a.t {
	case tS:
		return map[string]any{"S": a.s}
	case tN:
		return map[string]any{"N": a.s}
	case tB:
		return map[string]any{"B": []byte(a.s)}
	case tBOOL:
		return map[string]any{"BOOL": a.b}
	case tNULL:
		return map[string]any{"NULL": true}
	case tSS, tNS:
		l := make([]any, len(a.set))
		for i, s := range a.set {
			l[i] = s
		}
		return map[string]any{typeName(a.t): l}
	case tBS:
		l := make([]any, len(a.set))
		for i, s := range a.set {
			l[i] = []byte(s)
		}
		return map[string]any{"BS": l}
	case tL:
		l := make([]any, len(a.l))
		for i, e := range a.l {
			l[i] = e.wire()
		}
		return map[string]any{"L": l}
	case tM:
		m := make(map[string]any, len(a.m))
		for k, e := range a.m {
			m[k] = e.wire()
		}
		return map[string]any{"M": m}
	}
	return map[string]any{"NULL": true}
}

func (it item) wire() map[string]any {
	m := make(map[string]any, len(it))
	for k, a := range it {
		m[k] = a.wire()
	}
	return m
}

// ---- equality and size ----

func avEqual(a, b av) bool {
	if a.t != b.t {
		return false
	}
	switch a.t {
	case tS, tB:
		return a.s == b.s
	case tN:
		return a.s == b.s // canonical
	case tBOOL:
		return a.b == b.b
	case tNULL:
		return true
	case tSS, tNS, tBS:
		if len(a.set) != len(b.set) {
			return false
		}
		for _, x := range a.set {
			if !setHas(b.set, x) {
				return false
			}
		}
		return true
	case tL:
		if len(a.l) != len(b.l) {
			return false
		}
		for i := range a.l {
			if !avEqual(a.l[i], b.l[i]) {
				return false
			}
		}
		return true
	case tM:
		if len(a.m) != len(b.m) {
			return false
		}
		for k, x := range a.m {
			y, ok := b.m[k]
			if !ok || !avEqual(x, y) {
				return false
			}
		}
		return true
	}
	return false
}

func setHas(set []string, x string) bool {
	for _, s := range set {
		if s == x {
			return true
		}
	}
	return false
}

func numSize(s string) int {
	// Count significant digits without parsing (numbers are canonical
	// decimals once stored; anything with an exponent takes the slow path).
	first, last, pos := -1, -1, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if c != '0' {
				if first < 0 {
					first = pos
				}
				last = pos
			}
			pos++
		case c == '.' || c == '-' || c == '+':
		default:
			n, _ := parseNum(s)
			return (len(n.digits)+1)/2 + 1
		}
	}
	digits := 0
	if first >= 0 {
		digits = last - first + 1
	}
	return (digits+1)/2 + 1
}

// size approximates DynamoDB's item size accounting.
func (a av) size() int {
	switch a.t {
	case tS, tB:
		return len(a.s)
	case tN:
		return numSize(a.s)
	case tBOOL, tNULL:
		return 1
	case tSS, tBS:
		n := 0
		for _, s := range a.set {
			n += len(s)
		}
		return n
	case tNS:
		n := 0
		for _, s := range a.set {
			n += numSize(s)
		}
		return n
	case tL:
		n := 3
		for _, e := range a.l {
			n += e.size() + 1
		}
		return n
	case tM:
		n := 3
		for k, e := range a.m {
			n += len(k) + e.size() + 1
		}
		return n
	}
	return 0
}

func (it item) size() int {
	n := 0
	for k, a := range it {
		n += len(k) + a.size()
	}
	return n
}

func (it item) clone() item {
	c := make(item, len(it))
	for k, v := range it {
		c[k] = v
	}
	return c
}

// ---- binary encoding for storage ----

func appendUvarint(b []byte, n int) []byte { return binary.AppendUvarint(b, uint64(n)) }

func appendStr(b []byte, s string) []byte {
	b = appendUvarint(b, len(s))
	return append(b, s...)
}

func (a av) appendBin(b []byte) []byte {
	b = append(b, a.t)
	switch a.t {
	case tS, tN, tB:
		b = appendStr(b, a.s)
	case tBOOL:
		if a.b {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	case tSS, tNS, tBS:
		b = appendUvarint(b, len(a.set))
		for _, s := range a.set {
			b = appendStr(b, s)
		}
	case tL:
		b = appendUvarint(b, len(a.l))
		for _, e := range a.l {
			b = e.appendBin(b)
		}
	case tM:
		b = appendMap(b, a.m)
	}
	return b
}

func appendMap(b []byte, m map[string]av) []byte {
	b = appendUvarint(b, len(m))
	for k, e := range m {
		b = appendStr(b, k)
		b = e.appendBin(b)
	}
	return b
}

func encodeItem(it item) []byte { return encodeItemSized(it, it.size()) }

// encodeItemSized encodes an item whose size() is known.
func encodeItemSized(it item, size int) []byte {
	return appendMap(make([]byte, 0, 64+size+4*len(it)), it)
}

var errCorrupt = errors.New("dynamodb: corrupt stored item")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() int {
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)) {
		d.err = errCorrupt
		d.b = nil
		return 0
	}
	d.b = d.b[k:]
	return int(n)
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > len(d.b) {
		d.err = errCorrupt
		d.b = nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) value() av {
	if len(d.b) == 0 {
		d.err = errCorrupt
		return av{}
	}
	a := av{t: d.b[0]}
	d.b = d.b[1:]
	switch a.t {
	case tS, tN, tB:
		a.s = d.str()
	case tBOOL:
		if len(d.b) == 0 {
			d.err = errCorrupt
			return a
		}
		a.b = d.b[0] == 1
		d.b = d.b[1:]
	case tNULL:
		a.b = true
	case tSS, tNS, tBS:
		n := d.uvarint()
		a.set = make([]string, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			a.set = append(a.set, d.str())
		}
	case tL:
		n := d.uvarint()
		a.l = make([]av, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			a.l = append(a.l, d.value())
		}
	case tM:
		a.m = d.mapv()
	default:
		d.err = errCorrupt
	}
	return a
}

func (d *decoder) mapv() map[string]av {
	n := d.uvarint()
	m := make(map[string]av, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		m[k] = d.value()
	}
	return m
}

func decodeItem(b []byte) (item, error) {
	d := decoder{b: b}
	m := d.mapv()
	if d.err != nil {
		return nil, d.err
	}
	return item(m), nil
}

// ---- key encoding ----

// appendKeyAV appends an order-preserving, self-delimiting encoding of a
// key attribute (S, N or B): bytewise order equals DynamoDB's sort order.
func appendKeyAV(b []byte, a av) []byte {
	switch a.t {
	case tN:
		n, _ := parseNum(a.s)
		return appendNumKey(b, n)
	default:
		for i := 0; i < len(a.s); i++ {
			if a.s[i] == 0 {
				b = append(b, 0, 0xFF)
			} else {
				b = append(b, a.s[i])
			}
		}
		return append(b, 0, 0)
	}
}

// decodeKeyAV decodes one key value of type t from b, returning the rest.
func decodeKeyAV(b []byte, t byte) (av, []byte, bool) {
	if t == tN {
		if len(b) == 0 {
			return av{}, nil, false
		}
		switch b[0] {
		case 0x02:
			return av{t: tN, s: "0"}, b[1:], true
		case 0x03, 0x01:
			if len(b) < 3 {
				return av{}, nil, false
			}
			neg := b[0] == 0x01
			e := uint16(b[1])<<8 | uint16(b[2])
			term := byte(0)
			if neg {
				e = ^e
				term = 0xFF
			}
			i := bytes.IndexByte(b[3:], term)
			if i < 0 {
				return av{}, nil, false
			}
			d := []byte(string(b[3 : 3+i]))
			if neg {
				for j := range d {
					d[j] = ^d[j]
				}
			}
			n := num{neg: neg, digits: string(d), exp: int(e) - 1000}
			return av{t: tN, s: n.String()}, b[3+i+1:], true
		}
		return av{}, nil, false
	}
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			out = append(out, b[i])
			continue
		}
		if i+1 >= len(b) {
			return av{}, nil, false
		}
		if b[i+1] == 0xFF {
			out = append(out, 0)
			i++
			continue
		}
		return av{t: t, s: string(out)}, b[i+2:], true
	}
	return av{}, nil, false
}

// compareAV orders two values of the same scalar type as DynamoDB does.
func compareAV(a, b av) int {
	if a.t == tN {
		x, _ := parseNum(a.s)
		y, _ := parseNum(b.s)
		return cmpNum(x, y)
	}
	return strings.Compare(a.s, b.s)
}

func sortedNames(it item) []string {
	ks := make([]string, 0, len(it))
	for k := range it {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

var _ = utf8.RuneError

// ---- stored item straight to wire form ----

// decodeWire decodes a stored item directly into its wire form (skipping
// the item representation) and returns its size as item.size counts it.
func decodeWire(b []byte) (map[string]any, int, error) {
	d := decoder{b: b}
	size := 0
	n := d.uvarint()
	m := make(map[string]any, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.str()
		v, sz := d.wireValue()
		size += len(k) + sz
		m[k] = v
	}
	if d.err != nil {
		return nil, 0, d.err
	}
	return m, size, nil
}

func (d *decoder) wireValue() (map[string]any, int) {
	if len(d.b) == 0 {
		d.err = errCorrupt
		return nil, 0
	}
	t := d.b[0]
	d.b = d.b[1:]
	switch t {
	case tS:
		s := d.str()
		return map[string]any{"S": s}, len(s)
	case tN:
		s := d.str()
		return map[string]any{"N": s}, numSize(s)
	case tB:
		s := d.str()
		return map[string]any{"B": []byte(s)}, len(s)
	case tBOOL:
		if len(d.b) == 0 {
			d.err = errCorrupt
			return nil, 0
		}
		v := d.b[0] == 1
		d.b = d.b[1:]
		return map[string]any{"BOOL": v}, 1
	case tNULL:
		return map[string]any{"NULL": true}, 1
	case tSS, tNS, tBS:
		n := d.uvarint()
		l := make([]any, 0, n)
		size := 0
		for i := 0; i < n && d.err == nil; i++ {
			s := d.str()
			switch t {
			case tNS:
				size += numSize(s)
				l = append(l, s)
			case tBS:
				size += len(s)
				l = append(l, []byte(s))
			default:
				size += len(s)
				l = append(l, s)
			}
		}
		return map[string]any{typeName(t): l}, size
	case tL:
		n := d.uvarint()
		l := make([]any, 0, n)
		size := 3
		for i := 0; i < n && d.err == nil; i++ {
			v, sz := d.wireValue()
			l = append(l, v)
			size += sz + 1
		}
		return map[string]any{"L": l}, size
	case tM:
		n := d.uvarint()
		m := make(map[string]any, n)
		size := 3
		for i := 0; i < n && d.err == nil; i++ {
			k := d.str()
			v, sz := d.wireValue()
			m[k] = v
			size += len(k) + sz + 1
		}
		return map[string]any{"M": m}, size
	}
	d.err = errCorrupt
	return nil, 0
}
