package cbor

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name, hex string
		offset    int
		is        error  // checked with errors.Is when set
		msg       string // substring of the message otherwise
	}{
		{"empty", "", 0, ErrUnexpectedEnd, ""},
		{"truncated argument", "19 01", 0, ErrUnexpectedEnd, ""},
		{"truncated 8-byte argument", "1b 00 00 00", 0, ErrUnexpectedEnd, ""},
		{"reserved info 28", "1c", 0, nil, "reserved"},
		{"reserved info 30", "83 01 02 1e", 3, nil, "reserved"},
		{"indefinite uint", "1f", 0, nil, "indefinite"},
		{"indefinite negint", "3f", 0, nil, "indefinite"},
		{"indefinite tag", "df 00", 0, nil, "indefinite"},
		{"top-level break", "ff", 0, nil, "break"},
		{"break in definite array", "83 01 02 ff", 3, nil, "break"},
		{"2^60-byte string", "5b 10 00 00 00 00 00 00 00", 0, ErrUnexpectedEnd, ""},
		{"4 GiB string", "5a ff ff ff ff", 0, ErrUnexpectedEnd, ""},
		{"2^60-element array", "9b 10 00 00 00 00 00 00 00", 0, nil, "exceeds remaining"},
		{"2^60-entry map", "bb 10 00 00 00 00 00 00 00 61 61", 0, nil, "exceeds remaining"},
		{"array longer than input", "83 01 02", 0, nil, "exceeds remaining"},
		{"array missing item", "82 01 81", 2, nil, "exceeds remaining"},
		{"truncated text", "62 c3", 0, ErrUnexpectedEnd, ""},
		{"invalid UTF-8", "61 ff", 0, nil, "UTF-8"},
		{"surrogate in UTF-8", "63 ed a0 80", 0, nil, "UTF-8"},
		{"character split across chunks", "7f 61 c3 61 bc ff", 1, nil, "UTF-8"},
		{"byte chunk in text string", "7f 41 61 ff", 1, nil, "chunk"},
		{"nested indefinite chunk", "5f 5f ff ff", 1, nil, "chunk"},
		{"unterminated indefinite string", "5f 41 00", 3, ErrUnexpectedEnd, ""},
		{"unterminated indefinite array", "9f 01", 2, ErrUnexpectedEnd, ""},
		{"unterminated indefinite map", "bf 61 61 01", 4, ErrUnexpectedEnd, ""},
		{"map missing value", "a1 61 61", 3, ErrUnexpectedEnd, ""},
		{"indefinite map missing value", "bf 61 61 ff", 3, nil, "break"},
		{"integer map key", "a1 01 02", 1, nil, "map key"},
		{"byte string map key", "a1 41 61 02", 1, nil, "map key"},
		{"duplicate key", "a2 61 61 01 61 61 02", 4, nil, "duplicate"},
		{"duplicate key indefinite", "bf 61 61 01 7f 61 61 ff 02 ff", 4, nil, "duplicate"},
		{"two-byte simple below 32", "f8 18", 0, nil, "simple"},
		{"truncated half", "f9 00", 0, ErrUnexpectedEnd, ""},
		{"truncated double", "fb 00 00 00 00", 0, ErrUnexpectedEnd, ""},
		{"epoch string", "c1 61 61", 1, nil, "not a number"},
		{"epoch NaN", "c1 f9 7e 00", 1, nil, "out of range"},
		{"epoch infinity", "c1 f9 7c 00", 1, nil, "out of range"},
		{"epoch huge int", "c1 1b 7f ff ff ff ff ff ff ff", 1, nil, "out of range"},
		{"epoch uint64", "c1 1b ff ff ff ff ff ff ff ff", 1, nil, "out of range"},
		{"epoch year 10000", "c1 1b 00 00 00 3a ff f4 41 80", 1, nil, "out of range"},
		{"epoch float rounds to year 10000", "c1 fb 42 4d 7f fa 20 bf ff f3", 1, nil, "out of range"},
		{"epoch before year 1", "c1 3b 00 00 00 0e 77 91 f7 00", 1, nil, "out of range"},
		{"bignum of integer", "c2 01", 1, nil, "bignum"},
		{"trailing data", "00 00", 1, ErrTrailingData, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Unmarshal(mustHex(t, tc.hex))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error = %v (%T), want *Error", err, err)
			}
			if e.Offset != tc.offset {
				t.Errorf("offset = %d, want %d (%v)", e.Offset, tc.offset, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error = %v, want %v", err, tc.is)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error = %q, want it to mention %q", err, tc.msg)
			}
		})
	}
}

func TestEpochBounds(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		want time.Time
	}{
		{"c1 3b 00 00 00 0e 77 91 f6 ff", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"c1 1b 00 00 00 3a ff f4 41 7f", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"c1 f9 3e 00", time.UnixMilli(1500).UTC()},
		{"c1 fa 3f c0 00 00", time.UnixMilli(1500).UTC()},
		{"c1 f9 be 00", time.UnixMilli(-1500).UTC()},
		{"c1 c2 41 05", time.Unix(5, 0).UTC()}, // bignum content is an integer too
	} {
		got, err := Unmarshal(mustHex(t, tc.hex))
		if err != nil {
			t.Errorf("Unmarshal(%s): %v", tc.hex, err)
			continue
		}
		if !equal(got, tc.want) {
			t.Errorf("Unmarshal(%s) = %v, want %v", tc.hex, got, tc.want)
		}
	}
}

func TestEpochFloatRoundsToMillisecond(t *testing.T) {
	// 1700000000.123 is not exactly representable; it must come back as
	// .123 exactly, not .122999906.
	enc := appendFloat([]byte{0xc1}, 1700000000.123)
	got, err := Unmarshal(enc)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.UnixMilli(1700000000123).UTC(); !got.(time.Time).Equal(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func depthInput(n int, open byte, leaf []byte) []byte {
	return append(bytes.Repeat([]byte{open}, n), leaf...)
}

func TestMaxDepth(t *testing.T) {
	for _, open := range []byte{0x81, 0xc6, 0x9f} {
		ok := depthInput(MaxDepth, open, []byte{0})
		deep := depthInput(MaxDepth+1, open, []byte{0})
		if open == 0x9f {
			ok = append(ok, bytes.Repeat([]byte{0xff}, MaxDepth)...)
			deep = append(deep, bytes.Repeat([]byte{0xff}, MaxDepth+1)...)
		}
		if _, err := Unmarshal(ok); err != nil {
			t.Errorf("%#x × MaxDepth: %v", open, err)
		}
		_, err := Unmarshal(deep)
		if !errors.Is(err, ErrTooDeep) {
			t.Errorf("%#x × (MaxDepth+1): error = %v, want ErrTooDeep", open, err)
		}
		if e := (*Error)(nil); errors.As(err, &e) && e.Offset != MaxDepth {
			t.Errorf("%#x: offset = %d, want %d", open, e.Offset, MaxDepth)
		}
	}
	// Maps nest through their values.
	m := bytes.Repeat([]byte{0xa1, 0x60}, MaxDepth+1)
	if _, err := Unmarshal(append(m, 0)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("nested maps: error = %v, want ErrTooDeep", err)
	}
	// A long run of tags is bounded by depth, not by the stack.
	if _, err := Unmarshal(depthInput(1<<20, 0xd8, nil)); err == nil {
		t.Error("run of tags decoded")
	}
}

// Nested arrays that each claim nearly the whole remaining input must not
// each preallocate that many slots: that would cost depth × 16 × input bytes
// (about 14 GB here). With the budget, the cost stays linear: the slots the
// outer arrays reserve plus the innermost array growing by append.
func TestPreallocationBudget(t *testing.T) {
	const size = 1 << 20
	var in []byte
	for range 900 {
		in = append(in, 0x9a, 0x00, 0x0f, 0x00, 0x00) // array of 983040
	}
	in = append(in, make([]byte, size-len(in))...) // zeros, then the input ends
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Unmarshal(in)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrUnexpectedEnd) {
		t.Fatalf("error = %v, want ErrUnexpectedEnd", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 128*size {
		t.Fatalf("allocated %d bytes for a %d-byte input", got, size)
	}
}

func TestByteStringsDoNotAlias(t *testing.T) {
	in := mustHex(t, "82 43 01 02 03 5f 41 04 ff")
	v, err := Unmarshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 0xee
	}
	want := []any{[]byte{1, 2, 3}, []byte{4}}
	if !equal(v, want) {
		t.Fatalf("decoded value changed with the input: %#v", v)
	}
}

func TestDecoderSequence(t *testing.T) {
	d := NewDecoder(mustHex(t, "01 61 61 a0 f6"))
	var got []any
	for d.More() {
		v, err := d.Decode()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if want := []any{int64(1), "a", map[string]any{}, nil}; !equal(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	if d.Offset() != 5 {
		t.Errorf("Offset = %d, want 5", d.Offset())
	}
	if _, err := d.Decode(); err != io.EOF {
		t.Errorf("Decode at end = %v, want io.EOF", err)
	}
}

func TestNonPreferredEncodingsAccepted(t *testing.T) {
	for h, want := range map[string]any{
		"1b 00 00 00 00 00 00 00 01":          int64(1),
		"39 00 00":                            int64(-1),
		"fb 3f f0 00 00 00 00 00 00":          1.0,
		"fa 3f 80 00 00":                      1.0,
		"78 01 61":                            "a",
		"98 01 00":                            []any{int64(0)},
		"b8 00":                               map[string]any{},
		"c2 4a 00 00 00 00 00 00 00 00 00 05": int64(5),
		"c3 40":                               int64(-1),
		"c3 48 7f ff ff ff ff ff ff ff":       int64(-1 << 63),
		"c3 48 80 00 00 00 00 00 00 00":       bigInt("-9223372036854775809"),
		"c2 48 80 00 00 00 00 00 00 00":       uint64(1 << 63),
		"3b 7f ff ff ff ff ff ff ff":          int64(-1 << 63),
		"3b 80 00 00 00 00 00 00 00":          bigInt("-9223372036854775809"),
		"1b 7f ff ff ff ff ff ff ff":          int64(1<<63 - 1),
		"1b 80 00 00 00 00 00 00 00":          uint64(1 << 63),
	} {
		got, err := Unmarshal(mustHex(t, h))
		if err != nil {
			t.Errorf("Unmarshal(%s): %v", h, err)
			continue
		}
		if !equal(got, want) {
			t.Errorf("Unmarshal(%s) = %#v (%T), want %#v", h, got, got, want)
		}
	}
}
