package dynamodb

import (
	"math/big"
	"strings"
)

// A number is DynamoDB's arbitrary-precision decimal: up to 38 significant
// digits, magnitude between 1E-130 and 9.9999999999999999999999999999999999999E+125.
// Numbers are kept as canonical strings; num is their parsed form.
type num struct {
	neg    bool
	digits string // significant digits, no leading or trailing zeros; "" is zero
	exp    int    // value = 0.digits × 10^exp
}

const (
	maxDigits = 38
	minExp    = -129 // 0.1E-129 = 1E-130
	maxExp    = 126  // 0.99..E126 < 1E126
)

// numErr is the kind of invalid number.
type numErr int

const (
	numOK numErr = iota
	numSyntax
	numOverflow
	numUnderflow
	numPrecision
)

// parseNum parses a DynamoDB number literal.
func parseNum(s string) (num, numErr) {
	var n num
	s = strings.TrimSpace(s)
	if s == "" {
		return n, numSyntax
	}
	i := 0
	if s[0] == '-' || s[0] == '+' {
		n.neg = s[0] == '-'
		i++
	}
	var digits []byte
	var buf [48]byte
	digits = buf[:0]
	pointExp := 0 // digits after the point
	seenPoint, seenDigit := false, false
	for ; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			seenDigit = true
			if len(digits) == 0 && c == '0' {
				if seenPoint {
					pointExp++
				}
				continue
			}
			digits = append(digits, c)
			if seenPoint {
				pointExp++
			}
			continue
		}
		if c == '.' && !seenPoint {
			seenPoint = true
			continue
		}
		break
	}
	if !seenDigit {
		return n, numSyntax
	}
	e := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return n, numSyntax
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			eneg = s[i] == '-'
			i++
		}
		if i >= len(s) {
			return n, numSyntax
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return n, numSyntax
			}
			if e < 100000 {
				e = e*10 + int(c-'0')
			}
		}
		if eneg {
			e = -e
		}
	}
	// strip trailing zeros
	end := len(digits)
	for end > 0 && digits[end-1] == '0' {
		end--
	}
	trail := len(digits) - end
	digits = digits[:end]
	if len(digits) == 0 {
		return num{}, numOK
	}
	// value = digits × 10^(trail - pointExp + e) ; as 0.digits × 10^(len + that)
	n.exp = len(digits) + trail - pointExp + e
	if len(digits) > maxDigits {
		return n, numPrecision
	}
	if n.exp > maxExp {
		return n, numOverflow
	}
	if n.exp < minExp {
		return n, numUnderflow
	}
	n.digits = string(digits)
	return n, numOK
}

func (n num) isZero() bool { return n.digits == "" }

// String formats n the way DynamoDB returns numbers: plain decimal notation.
func (n num) String() string {
	if n.digits == "" {
		return "0"
	}
	var b strings.Builder
	if n.neg {
		b.WriteByte('-')
	}
	d := n.digits
	switch {
	case n.exp <= 0:
		b.WriteString("0.")
		for i := 0; i < -n.exp; i++ {
			b.WriteByte('0')
		}
		b.WriteString(d)
	case n.exp >= len(d):
		b.WriteString(d)
		for i := len(d); i < n.exp; i++ {
			b.WriteByte('0')
		}
	default:
		b.WriteString(d[:n.exp])
		b.WriteByte('.')
		b.WriteString(d[n.exp:])
	}
	return b.String()
}

// cmpNum compares a and b numerically.
func cmpNum(a, b num) int {
	sa, sb := a.sign(), b.sign()
	if sa != sb {
		if sa < sb {
			return -1
		}
		return 1
	}
	if sa == 0 {
		return 0
	}
	c := cmpMag(a, b)
	if sa < 0 {
		return -c
	}
	return c
}

func (n num) sign() int {
	if n.digits == "" {
		return 0
	}
	if n.neg {
		return -1
	}
	return 1
}

func cmpMag(a, b num) int {
	if a.exp != b.exp {
		if a.exp < b.exp {
			return -1
		}
		return 1
	}
	return strings.Compare(a.digits, b.digits)
}

// toBig returns n as an integer scaled by 10^-scale: n = i × 10^(scale).
func (n num) toBig() (*big.Int, int) {
	i := new(big.Int)
	if n.digits == "" {
		return i, 0
	}
	i.SetString(n.digits, 10)
	if n.neg {
		i.Neg(i)
	}
	return i, n.exp - len(n.digits)
}

var bigTen = big.NewInt(10)

// addNum returns a+b, or a numErr when the result is out of range.
func addNum(a, b num) (num, numErr) {
	if a.isZero() {
		return b, numOK
	}
	if b.isZero() {
		return a, numOK
	}
	ia, ea := a.toBig()
	ib, eb := b.toBig()
	e := min(ea, eb)
	if ea > e {
		ia.Mul(ia, new(big.Int).Exp(bigTen, big.NewInt(int64(ea-e)), nil))
	}
	if eb > e {
		ib.Mul(ib, new(big.Int).Exp(bigTen, big.NewInt(int64(eb-e)), nil))
	}
	ia.Add(ia, ib)
	return fromBig(ia, e)
}

func fromBig(i *big.Int, e int) (num, numErr) {
	if i.Sign() == 0 {
		return num{}, numOK
	}
	s := i.String()
	neg := false
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	end := len(s)
	for end > 0 && s[end-1] == '0' {
		end--
	}
	n := num{neg: neg, digits: s[:end], exp: len(s) + e}
	if len(n.digits) > maxDigits {
		return n, numPrecision
	}
	if n.exp > maxExp {
		return n, numOverflow
	}
	if n.exp < minExp {
		return n, numUnderflow
	}
	return n, numOK
}

func negNum(n num) num {
	if n.digits != "" {
		n.neg = !n.neg
	}
	return n
}

// appendNumKey appends an order-preserving, self-delimiting encoding of n:
// bytewise order of encodings equals numeric order.
func appendNumKey(b []byte, n num) []byte {
	switch n.sign() {
	case 0:
		return append(b, 0x02)
	case 1:
		e := uint16(n.exp + 1000)
		b = append(b, 0x03, byte(e>>8), byte(e))
		b = append(b, n.digits...)
		return append(b, 0x00)
	}
	e := ^uint16(n.exp + 1000)
	b = append(b, 0x01, byte(e>>8), byte(e))
	for i := 0; i < len(n.digits); i++ {
		b = append(b, ^n.digits[i])
	}
	return append(b, 0xFF)
}
