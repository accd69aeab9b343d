package cbor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Marshal returns the CBOR encoding of v. See [AppendValue] for the types
// accepted.
func Marshal(v any) ([]byte, error) {
	return AppendValue(nil, v)
}

// AppendValue appends the CBOR encoding of v to dst and returns the extended
// slice. On error the returned slice is dst with undefined bytes appended
// beyond len(dst), and the error is an [*Error].
//
// Accepted types: nil; bool; int, int8, int16, int32, int64, uint, uint8,
// uint16, uint32, uint64, uintptr; float32, float64; string (must be valid
// UTF-8); []byte; time.Time and *time.Time (nil is null); *big.Int (major
// type 0 or 1 when it fits in 64 bits, else tag 2 or 3; nil is null); []any;
// map[string]any; []string; map[string]string; []map[string]any; Tag;
// Simple. A time.Time must fall in years 0001 to 9999.
func AppendValue(dst []byte, v any) ([]byte, error) {
	e := encoder{buf: dst}
	if err := e.value(v, 0); err != nil {
		return e.buf, &Error{Offset: len(e.buf), Err: err}
	}
	return e.buf, nil
}

var (
	errInvalidUTF8 = errors.New("string is not valid UTF-8")
	errTimeRange   = errors.New("time outside years 0001 to 9999")
	errSimpleValue = errors.New("simple value 24 to 31 is not well-formed")
)

// encoder holds the output and a stack of map keys shared by all maps being
// sorted, so that nested maps need no allocation of their own.
type encoder struct {
	buf  []byte
	keys []string
}

// head appends an initial byte with the shortest form of arg.
func appendHead(dst []byte, major byte, arg uint64) []byte {
	m := major << 5
	switch {
	case arg < 24:
		return append(dst, m|byte(arg))
	case arg <= math.MaxUint8:
		return append(dst, m|24, byte(arg))
	case arg <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, m|25), uint16(arg))
	case arg <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, m|26), uint32(arg))
	}
	return binary.BigEndian.AppendUint64(append(dst, m|27), arg)
}

func appendInt(dst []byte, i int64) []byte {
	if i >= 0 {
		return appendHead(dst, 0, uint64(i))
	}
	return appendHead(dst, 1, uint64(-1-i))
}

// appendFloat appends f in the shortest of half, single and double
// precision that represents it exactly.
func appendFloat(dst []byte, f float64) []byte {
	if f != f {
		return append(dst, 0xf9, 0x7e, 0x00)
	}
	f32 := float32(f)
	if float64(f32) != f {
		return binary.BigEndian.AppendUint64(append(dst, 0xfb), math.Float64bits(f))
	}
	if h, ok := float32ToHalf(f32); ok {
		return binary.BigEndian.AppendUint16(append(dst, 0xf9), h)
	}
	return binary.BigEndian.AppendUint32(append(dst, 0xfa), math.Float32bits(f32))
}

func (e *encoder) text(s string) error {
	if !utf8.ValidString(s) {
		return errInvalidUTF8
	}
	e.buf = append(appendHead(e.buf, 3, uint64(len(s))), s...)
	return nil
}

func (e *encoder) value(v any, depth int) error {
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, 0xf6)
	case bool:
		if v {
			e.buf = append(e.buf, 0xf5)
		} else {
			e.buf = append(e.buf, 0xf4)
		}
	case string:
		return e.text(v)
	case int64:
		e.buf = appendInt(e.buf, v)
	case float64:
		e.buf = appendFloat(e.buf, v)
	case map[string]any:
		if depth >= MaxDepth {
			return ErrTooDeep
		}
		return e.mapAny(v, depth+1)
	case []any:
		if depth >= MaxDepth {
			return ErrTooDeep
		}
		e.buf = appendHead(e.buf, 4, uint64(len(v)))
		for _, x := range v {
			if err := e.value(x, depth+1); err != nil {
				return err
			}
		}
	case time.Time:
		if depth >= MaxDepth {
			return ErrTooDeep
		}
		return e.time(v)
	case *time.Time:
		if v == nil {
			e.buf = append(e.buf, 0xf6)
			return nil
		}
		if depth >= MaxDepth {
			return ErrTooDeep
		}
		return e.time(*v)
	case []byte:
		e.buf = append(appendHead(e.buf, 2, uint64(len(v))), v...)
	case int:
		e.buf = appendInt(e.buf, int64(v))
	case int8:
		e.buf = appendInt(e.buf, int64(v))
	case int16:
		e.buf = appendInt(e.buf, int64(v))
	case int32:
		e.buf = appendInt(e.buf, int64(v))
	case uint:
		e.buf = appendHead(e.buf, 0, uint64(v))
	case uint8:
		e.buf = appendHead(e.buf, 0, uint64(v))
	case uint16:
		e.buf = appendHead(e.buf, 0, uint64(v))
	case uint32:
		e.buf = appendHead(e.buf, 0, uint64(v))
	case uint64:
		e.buf = appendHead(e.buf, 0, v)
	case uintptr:
		e.buf = appendHead(e.buf, 0, uint64(v))
	case float32:
		e.buf = appendFloat(e.buf, float64(v))
	case []string:
		if depth >= MaxDepth {
			return ErrTooDeep
		}
		e.buf = appendHead(e.buf, 4, uint64(len(v)))
		for _, s := range v {
			if err := e.text(s); err != nil {
				return err
			}
		}
	case map[string]string:
		if depth >= MaxDepth {
			return ErrTooDeep
		}
		return e.mapString(v)
	case []map[string]any:
		if depth >= MaxDepth {
			return ErrTooDeep
		}
		e.buf = appendHead(e.buf, 4, uint64(len(v)))
		for _, m := range v {
			if depth+1 >= MaxDepth {
				return ErrTooDeep
			}
			if err := e.mapAny(m, depth+2); err != nil {
				return err
			}
		}
	case *big.Int:
		if v == nil {
			e.buf = append(e.buf, 0xf6)
			return nil
		}
		e.bigInt(v)
	case Tag:
		if depth >= MaxDepth {
			return ErrTooDeep
		}
		e.buf = appendHead(e.buf, 6, v.Number)
		return e.value(v.Content, depth+1)
	case Simple:
		switch {
		case v < 24:
			e.buf = append(e.buf, 0xe0|byte(v))
		case v < 32:
			return errSimpleValue
		default:
			e.buf = append(e.buf, 0xf8, byte(v))
		}
	default:
		return fmt.Errorf("unsupported type %T", v)
	}
	return nil
}

// compareKeys orders text map keys shortest first, then bytewise: the
// RFC 8949 section 4.2.1 order of their encodings.
func compareKeys(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// sortedKeys pushes m's keys onto e.keys, sorts them, and returns the index
// of the first. The caller truncates e.keys back to that index when done;
// it must index e.keys afresh after any nested call, which may grow it.
func sortedKeys[V any](e *encoder, m map[string]V) int {
	base := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	slices.SortFunc(e.keys[base:], compareKeys)
	return base
}

func (e *encoder) mapAny(m map[string]any, depth int) error {
	e.buf = appendHead(e.buf, 5, uint64(len(m)))
	base := sortedKeys(e, m)
	defer func() { clear(e.keys[base:]); e.keys = e.keys[:base] }()
	for i := range len(m) {
		k := e.keys[base+i]
		if err := e.text(k); err != nil {
			return err
		}
		if err := e.value(m[k], depth); err != nil {
			return err
		}
	}
	return nil
}

func (e *encoder) mapString(m map[string]string) error {
	e.buf = appendHead(e.buf, 5, uint64(len(m)))
	base := sortedKeys(e, m)
	defer func() { clear(e.keys[base:]); e.keys = e.keys[:base] }()
	for i := range len(m) {
		k := e.keys[base+i]
		if err := e.text(k); err != nil {
			return err
		}
		if err := e.text(m[k]); err != nil {
			return err
		}
	}
	return nil
}

func (e *encoder) bigInt(v *big.Int) {
	major, tag, x := byte(0), uint64(2), v
	if v.Sign() < 0 {
		// Major type 1 and tag 3 carry -1 - v, which is non-negative.
		major, tag, x = 1, 3, new(big.Int).Not(v)
	}
	if x.IsUint64() {
		e.buf = appendHead(e.buf, major, x.Uint64())
		return
	}
	b := x.Bytes()
	e.buf = appendHead(e.buf, 6, tag)
	e.buf = append(appendHead(e.buf, 2, uint64(len(b))), b...)
}

// time appends t as tag 1. Whole seconds are an integer; otherwise the
// value is milliseconds/1000 as a double, nudged by a few ulps where needed
// so that both rounding and truncating f×1000 give back the milliseconds
// (some client decoders truncate).
func (e *encoder) time(t time.Time) error {
	sec := t.Unix()
	if sec < minEpoch || sec >= maxEpoch {
		return errTimeRange
	}
	e.buf = append(e.buf, 0xc1)
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		e.buf = appendInt(e.buf, ms/1000)
		return nil
	}
	f := float64(ms) / 1e3
	for range 8 {
		got := int64(f * 1e3)
		if got == ms {
			break
		}
		if got < ms {
			f = math.Nextafter(f, math.Inf(1))
		} else {
			f = math.Nextafter(f, math.Inf(-1))
		}
	}
	e.buf = binary.BigEndian.AppendUint64(append(e.buf, 0xfb), math.Float64bits(f))
	return nil
}
