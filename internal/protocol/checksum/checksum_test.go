package checksum

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

func TestCheckValues(t *testing.T) {
	// Check values of "123456789" from the CRC catalogue, and the standard
	// digests of the same string.
	cases := []struct{ alg, hex string }{
		{"CRC32", "cbf43926"},
		{"crc32c", "e3069283"},
		{"CRC64NVME", "ae8b14860a799888"},
		{"sha1", "f7c3bc1d808e04732adf679965ccc34ca7ae3441"},
		{"SHA256", "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"},
		{"md5", "25f9e794323b453885f5181f1b624d0b"},
	}
	for _, c := range cases {
		h, err := New(c.alg)
		if err != nil {
			t.Fatalf("New(%q): %v", c.alg, err)
		}
		io.WriteString(h, "123456789")
		if got := hex.EncodeToString(h.Sum(nil)); got != c.hex {
			t.Errorf("%s: got %s, want %s", c.alg, got, c.hex)
		}
		if h.Size() != Size(c.alg) {
			t.Errorf("%s: Size %d, hash size %d", c.alg, Size(c.alg), h.Size())
		}
	}
}

func TestWireValues(t *testing.T) {
	// Wire values for the body "Hello, World!": base64 of the big-endian
	// digest, cross-checked with an independent bitwise implementation.
	cases := []struct{ alg, want string }{
		{CRC32, "7ErD0A=="},
		{CRC32C, "TVUQaA=="},
		{CRC64NVME, "1Km+Qyat0k0="},
		{SHA1, "CgqfKmdylCVXq1NV12r0Qvj2XgE="},
		{SHA256, "3/1gIbsr1bCvZ2KQgJ7DpTGR3YHH9wpLKGiKNiGCmG8="},
	}
	for _, c := range cases {
		got, err := Sum(c.alg, []byte("Hello, World!"))
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: got %s, want %s", c.alg, got, c.want)
		}
	}
	if _, err := Sum("CRC16", nil); err == nil {
		t.Error("unknown algorithm accepted")
	}
}

func TestNames(t *testing.T) {
	if got := Header("crc64nvme"); got != "x-amz-checksum-crc64nvme" {
		t.Errorf("Header: %q", got)
	}
	if got := Header("MD5"); got != "Content-MD5" {
		t.Errorf("Header(MD5): %q", got)
	}
	if got := Header("nope"); got != "" {
		t.Errorf("Header(nope): %q", got)
	}
	for _, alg := range Algorithms() {
		got, ok := FromHeader(strings.ToUpper(Header(alg)))
		if !ok || got != alg {
			t.Errorf("FromHeader(%s) = %q %v", Header(alg), got, ok)
		}
	}
	for _, bad := range []string{"x-amz-checksum-mode", "x-amz-checksum-", "x-amz-checksum-md5", "content-type"} {
		if _, ok := FromHeader(bad); ok {
			t.Errorf("FromHeader(%q) accepted", bad)
		}
	}
}

func TestComposite(t *testing.T) {
	parts := [][]byte{bytes.Repeat([]byte("a"), 5<<20), []byte("tail")}
	var wire []string
	var concat []byte
	for _, p := range parts {
		h, _ := New(CRC32)
		h.Write(p)
		wire = append(wire, Encode(h.Sum(nil)))
		concat = h.Sum(concat)
	}
	want, _ := Sum(CRC32, concat)
	got, err := Composite("crc32", wire)
	if err != nil {
		t.Fatal(err)
	}
	if got != want+"-2" {
		t.Errorf("got %s, want %s-2", got, want)
	}
	if _, err := Composite(CRC32, []string{"bad!"}); err == nil {
		t.Error("malformed part accepted")
	}
}

func TestCombineAndFullObject(t *testing.T) {
	data := []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 300))
	for _, alg := range []string{CRC32, CRC32C, CRC64NVME} {
		for _, cuts := range [][]int{{0}, {1}, {17, 4000}, {len(data) / 3, 2 * len(data) / 3}, {len(data)}} {
			var parts []Part
			prev := 0
			for _, c := range append(cuts, len(data)) {
				s, _ := Sum(alg, data[prev:c])
				parts = append(parts, Part{Checksum: s, Size: int64(c - prev)})
				prev = c
			}
			want, _ := Sum(alg, data)
			got, err := FullObject(alg, parts)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s cuts %v: got %s, want %s", alg, cuts, got, want)
			}
		}
	}
	if _, err := FullObject(SHA256, nil); err == nil {
		t.Error("FullObject accepted SHA256")
	}
	if _, err := Combine(SHA1, 1, 2, 3); err == nil {
		t.Error("Combine accepted SHA1")
	}
	empty, _ := FullObject(CRC32, nil)
	if want, _ := Sum(CRC32, nil); empty != want {
		t.Errorf("empty: %s want %s", empty, want)
	}
}

func TestVerifying(t *testing.T) {
	body := "some object body"
	for _, alg := range append(Algorithms(), MD5) {
		good, _ := Sum(alg, []byte(body))
		r, err := Verifying(strings.NewReader(body), alg, good)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || string(got) != body {
			t.Errorf("%s: read %q, %v", alg, got, err)
		}
		if r.Sum() != good {
			t.Errorf("%s: Sum %s", alg, r.Sum())
		}

		other, _ := Sum(alg, []byte("other"))
		r, _ = Verifying(strings.NewReader(body), alg, other)
		_, err = io.ReadAll(r)
		var ae *awserr.Error
		if !errors.As(err, &ae) || ae.Code != "BadDigest" || ae.HTTPStatus() != 400 {
			t.Errorf("%s: mismatch gave %v", alg, err)
		}
		if _, err2 := r.Read(make([]byte, 1)); err2 != err {
			t.Errorf("%s: error not sticky: %v", alg, err2)
		}

		_, err = Verifying(strings.NewReader(body), alg, "not base64")
		want := "InvalidRequest"
		if alg == MD5 {
			want = "InvalidDigest"
		}
		if !errors.As(err, &ae) || ae.Code != want {
			t.Errorf("%s: malformed gave %v", alg, err)
		}
	}
	ae := Mismatch("crc32")
	if ae.Message != "The CRC32 you specified did not match the calculated checksum." {
		t.Errorf("message %q", ae.Message)
	}
}
