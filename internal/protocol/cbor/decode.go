package cbor

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/big"
	"time"
	"unicode/utf8"
)

// Unmarshal decodes the single CBOR data item that makes up data. Bytes
// after the item are an error wrapping [ErrTrailingData]; empty input is an
// error wrapping [ErrUnexpectedEnd]. The package documentation lists the Go
// type produced for each kind of item.
func Unmarshal(data []byte) (any, error) {
	d := Decoder{data: data, budget: len(data)}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.off != len(data) {
		return nil, &Error{Offset: d.off, Err: ErrTrailingData}
	}
	return v, nil
}

// A Decoder reads a sequence of CBOR data items (RFC 8742) from a byte slice.
// It never modifies the slice and no decoded value aliases it. Within one
// Decoder, equal short map keys and text values share their memory.
type Decoder struct {
	data []byte
	off  int
	// budget is how many array and map slots may still be preallocated.
	// Each slot of a well-formed item is backed by at least one input byte,
	// so valid input never runs out; hostile headers claiming huge counts
	// fall back to growing on demand.
	budget int
	keys   map[string]string // interned map keys
	vals   map[string]any    // interned short text values, already boxed
}

// NewDecoder returns a Decoder that reads data items from data.
func NewDecoder(data []byte) *Decoder {
	return &Decoder{data: data, budget: len(data)}
}

// Decode decodes the next data item. At the end of the input it returns
// io.EOF; any other error is an [*Error], after which the Decoder should not
// be used further.
func (d *Decoder) Decode() (any, error) {
	if d.off >= len(d.data) {
		return nil, io.EOF
	}
	return d.value(0)
}

// Offset returns the number of input bytes consumed so far.
func (d *Decoder) Offset() int { return d.off }

// More reports whether input remains to be decoded.
func (d *Decoder) More() bool { return d.off < len(d.data) }

var (
	errReservedInfo   = errors.New("reserved additional information value")
	errIndefinite     = errors.New("indefinite length not allowed for this major type")
	errBreak          = errors.New("unexpected break code")
	errChunk          = errors.New("indefinite-length string chunk of wrong type")
	errUTF8           = errors.New("text string is not valid UTF-8")
	errMapKey         = errors.New("map key is not a text string")
	errDupKey         = errors.New("duplicate map key")
	errSimple         = errors.New("two-byte simple value below 32")
	errBignum         = errors.New("bignum content is not a byte string")
	errEpochContent   = errors.New("epoch time content is not a number")
	errEpochRange     = errors.New("epoch time out of range")
	errLengthOverflow = errors.New("length exceeds remaining input")
)

func (d *Decoder) fail(off int, err error) error {
	return &Error{Offset: off, Err: err}
}

// head reads an initial byte and its argument. For additional information 31
// it returns indefinite = true and leaves the argument zero.
func (d *Decoder) head() (major, info byte, arg uint64, indefinite bool, err error) {
	start := d.off
	if start >= len(d.data) {
		return 0, 0, 0, false, d.fail(start, ErrUnexpectedEnd)
	}
	ib := d.data[start]
	major, info = ib>>5, ib&0x1f
	d.off++
	switch {
	case info < 24:
		return major, info, uint64(info), false, nil
	case info <= 27:
		n := 1 << (info - 24)
		if len(d.data)-d.off < n {
			return 0, 0, 0, false, d.fail(start, ErrUnexpectedEnd)
		}
		b := d.data[d.off : d.off+n]
		d.off += n
		switch n {
		case 1:
			arg = uint64(b[0])
		case 2:
			arg = uint64(binary.BigEndian.Uint16(b))
		case 4:
			arg = uint64(binary.BigEndian.Uint32(b))
		default:
			arg = binary.BigEndian.Uint64(b)
		}
		return major, info, arg, false, nil
	case info == 31:
		return major, info, 0, true, nil
	default:
		return 0, 0, 0, false, d.fail(start, errReservedInfo)
	}
}

func (d *Decoder) value(depth int) (any, error) {
	start := d.off
	major, info, arg, indef, err := d.head()
	if err != nil {
		return nil, err
	}
	switch major {
	case 0:
		if indef {
			return nil, d.fail(start, errIndefinite)
		}
		if arg <= math.MaxInt64 {
			return int64(arg), nil
		}
		return arg, nil
	case 1:
		if indef {
			return nil, d.fail(start, errIndefinite)
		}
		if arg <= math.MaxInt64 {
			return -1 - int64(arg), nil
		}
		b := new(big.Int).SetUint64(arg)
		return b.Not(b), nil // -1 - arg
	case 2:
		return d.bytes(start, 2, arg, indef)
	case 3:
		b, err := d.bytes(start, 3, arg, indef)
		if err != nil {
			return nil, err
		}
		if !indef {
			return d.internValue(b), nil
		}
		return string(b), nil
	case 4:
		if depth >= MaxDepth {
			return nil, d.fail(start, ErrTooDeep)
		}
		return d.array(start, arg, indef, depth+1)
	case 5:
		if depth >= MaxDepth {
			return nil, d.fail(start, ErrTooDeep)
		}
		return d.mapValue(start, arg, indef, depth+1)
	case 6:
		if indef {
			return nil, d.fail(start, errIndefinite)
		}
		if depth >= MaxDepth {
			return nil, d.fail(start, ErrTooDeep)
		}
		return d.tag(start, arg, depth+1)
	default:
		return d.simple(start, info, arg, indef)
	}
}

// bytes decodes the payload of a byte or text string whose head has been
// read. The result never aliases the input. For text strings each chunk is
// checked for valid UTF-8, since RFC 8949 forbids splitting a character
// across chunks.
func (d *Decoder) bytes(start int, major byte, n uint64, indef bool) ([]byte, error) {
	if !indef {
		b, err := d.chunk(start, major, n)
		if err != nil {
			return nil, err
		}
		if major == 2 {
			return append(make([]byte, 0, len(b)), b...), nil
		}
		return b, nil // caller converts to string, which copies
	}
	out := []byte{}
	for {
		if d.off >= len(d.data) {
			return nil, d.fail(d.off, ErrUnexpectedEnd)
		}
		if d.data[d.off] == 0xff {
			d.off++
			return out, nil
		}
		cstart := d.off
		cmajor, _, cn, cindef, err := d.head()
		if err != nil {
			return nil, err
		}
		if cmajor != major || cindef {
			return nil, d.fail(cstart, errChunk)
		}
		b, err := d.chunk(cstart, major, cn)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
}

// chunk returns the next n input bytes as a sub-slice of the input.
func (d *Decoder) chunk(start int, major byte, n uint64) ([]byte, error) {
	if n > uint64(len(d.data)-d.off) {
		return nil, d.fail(start, ErrUnexpectedEnd)
	}
	b := d.data[d.off : d.off+int(n)]
	if major == 3 && !utf8.Valid(b) {
		return nil, d.fail(start, errUTF8)
	}
	d.off += int(n)
	return b, nil
}

// reserve returns how many slots to preallocate for a container claiming n.
func (d *Decoder) reserve(n int) int {
	if n > d.budget {
		n = d.budget
	}
	d.budget -= n
	return n
}

func (d *Decoder) array(start int, n uint64, indef bool, depth int) (any, error) {
	if indef {
		out := []any{}
		for {
			if d.off >= len(d.data) {
				return nil, d.fail(d.off, ErrUnexpectedEnd)
			}
			if d.data[d.off] == 0xff {
				d.off++
				return out, nil
			}
			v, err := d.value(depth)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	// Every element takes at least one byte.
	if n > uint64(len(d.data)-d.off) {
		return nil, d.fail(start, errLengthOverflow)
	}
	count := int(n)
	out := make([]any, 0, d.reserve(count))
	for range count {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (d *Decoder) mapValue(start int, n uint64, indef bool, depth int) (any, error) {
	if indef {
		out := map[string]any{}
		for {
			if d.off >= len(d.data) {
				return nil, d.fail(d.off, ErrUnexpectedEnd)
			}
			if d.data[d.off] == 0xff {
				d.off++
				return out, nil
			}
			if err := d.entry(out, depth); err != nil {
				return nil, err
			}
		}
	}
	// Every entry takes at least two bytes.
	if n > uint64(len(d.data)-d.off)/2 {
		return nil, d.fail(start, errLengthOverflow)
	}
	count := int(n)
	out := make(map[string]any, d.reserve(2*count)/2)
	for range count {
		if err := d.entry(out, depth); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// entry decodes one key/value pair into m.
func (d *Decoder) entry(m map[string]any, depth int) error {
	kstart := d.off
	major, _, n, indef, err := d.head()
	if err != nil {
		return err
	}
	if major != 3 {
		return d.fail(kstart, errMapKey)
	}
	var key string
	if indef {
		b, err := d.bytes(kstart, 3, 0, true)
		if err != nil {
			return err
		}
		key = string(b)
	} else {
		b, err := d.chunk(kstart, 3, n)
		if err != nil {
			return err
		}
		key = d.intern(b)
	}
	if _, dup := m[key]; dup {
		return d.fail(kstart, errDupKey)
	}
	v, err := d.value(depth)
	if err != nil {
		return err
	}
	m[key] = v
	return nil
}

// intern returns b as a string, sharing one allocation between equal short
// keys within a Decoder: AWS payloads repeat the same member names in every
// element of a list.
func (d *Decoder) intern(b []byte) string {
	const maxKeyLen, maxKeys = 64, 512
	if len(b) > maxKeyLen {
		return string(b)
	}
	if s, ok := d.keys[string(b)]; ok {
		return s
	}
	s := string(b)
	if d.keys == nil {
		d.keys = make(map[string]string, 16)
	}
	if len(d.keys) < maxKeys {
		d.keys[s] = s
	}
	return s
}

// internValue returns b as a boxed string, sharing one allocation between
// equal short values within a Decoder (dimension names, units, enums).
func (d *Decoder) internValue(b []byte) any {
	const maxValLen, maxVals = 32, 512
	if len(b) > maxValLen {
		return string(b)
	}
	if v, ok := d.vals[string(b)]; ok {
		return v
	}
	var v any = string(b)
	if d.vals == nil {
		d.vals = make(map[string]any, 16)
	}
	if len(d.vals) < maxVals {
		d.vals[v.(string)] = v
	}
	return v
}

func (d *Decoder) tag(start int, num uint64, depth int) (any, error) {
	switch num {
	case 1:
		cstart := d.off
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		t, err := epochTime(v)
		if err != nil {
			return nil, d.fail(cstart, err)
		}
		return t, nil
	case 2, 3:
		cstart := d.off
		major, _, n, indef, err := d.head()
		if err != nil {
			return nil, err
		}
		if major != 2 {
			return nil, d.fail(cstart, errBignum)
		}
		b, err := d.bytes(cstart, 2, n, indef)
		if err != nil {
			return nil, err
		}
		return bignum(b, num == 3), nil
	}
	v, err := d.value(depth)
	if err != nil {
		return nil, err
	}
	return Tag{Number: num, Content: v}, nil
}

// bignum returns the integer encoded by a tag 2 (or, if neg, tag 3) byte
// string in its canonical Go type.
func bignum(b []byte, neg bool) any {
	i := 0
	for i < len(b) && b[i] == 0 {
		i++
	}
	b = b[i:]
	if len(b) <= 8 {
		var u uint64
		for _, c := range b {
			u = u<<8 | uint64(c)
		}
		if !neg {
			if u <= math.MaxInt64 {
				return int64(u)
			}
			return u
		}
		if u <= math.MaxInt64 {
			return -1 - int64(u)
		}
		x := new(big.Int).SetUint64(u)
		return x.Not(x)
	}
	x := new(big.Int).SetBytes(b)
	if neg {
		x.Not(x)
	}
	return x
}

// Bounds of tag 1 content: 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z.
const (
	minEpoch = -62135596800
	maxEpoch = 253402300800 // exclusive
)

func epochTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case int64:
		if v < minEpoch || v >= maxEpoch {
			return time.Time{}, errEpochRange
		}
		return time.Unix(v, 0).UTC(), nil
	case float64:
		if !(v >= minEpoch && v < maxEpoch) { // also rejects NaN
			return time.Time{}, errEpochRange
		}
		ms := int64(math.Round(v * 1e3))
		if ms >= maxEpoch*1e3 {
			return time.Time{}, errEpochRange
		}
		return time.UnixMilli(ms).UTC(), nil
	case uint64, *big.Int:
		return time.Time{}, errEpochRange
	}
	return time.Time{}, errEpochContent
}

func (d *Decoder) simple(start int, info byte, arg uint64, indef bool) (any, error) {
	if indef {
		return nil, d.fail(start, errBreak)
	}
	switch info {
	case 20:
		return false, nil
	case 21:
		return true, nil
	case 22, 23:
		return nil, nil
	case 24:
		if arg < 32 {
			return nil, d.fail(start, errSimple)
		}
		return Simple(arg), nil
	case 25:
		return float64(halfToFloat32(uint16(arg))), nil
	case 26:
		return float64(math.Float32frombits(uint32(arg))), nil
	case 27:
		return math.Float64frombits(arg), nil
	}
	return Simple(info), nil
}
