package cbor

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func FuzzUnmarshal(f *testing.F) {
	for _, tc := range rfcVectors {
		b, _ := hex.DecodeString(tc.hex)
		f.Add(b)
	}
	f.Add(putMetricDataPayload(f, 3))
	f.Add([]byte{0x9b, 0x10, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xbf, 0x61, 0x61, 0x9f, 0xff, 0xff})
	f.Add([]byte{0xc1, 0xfb, 0x41, 0xd4, 0x52, 0xd9, 0xec, 0x20, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Unmarshal(data)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %v is %T, not *Error", err, err)
			}
			return
		}
		b, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal of decoded %#v: %v", v, err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("Unmarshal of re-encoded %x: %v", b, err)
		}
		if !equal(got, v) {
			t.Fatalf("round trip changed value:\n in   %x\n out  %x\n got  %#v\n want %#v", data, b, got, v)
		}
		again, err := Marshal(got)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("second encoding %x differs from %x (%v)", again, b, err)
		}
	})
}

// FuzzDecoder checks that reading a CBOR sequence never panics and always
// makes progress.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0x01, 0x61, 0x61, 0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(data)
		for d.More() {
			before := d.Offset()
			if _, err := d.Decode(); err != nil {
				return
			}
			if d.Offset() <= before {
				t.Fatalf("Decode made no progress at %d", before)
			}
		}
	})
}
