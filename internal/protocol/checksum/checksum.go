// Package checksum implements the checksum algorithms S3 accepts for object
// integrity — CRC32 (IEEE), CRC32C (Castagnoli), CRC64NVME, SHA1 and SHA256 —
// plus MD5 for Content-MD5, the wire encoding of their values (base64 of the
// big-endian digest), the composite and full-object checksums of multipart
// uploads, and readers that validate a body against a declared checksum.
//
// Algorithm names are the ones used in headers and in the
// x-amz-checksum-algorithm / x-amz-sdk-checksum-algorithm values: "CRC32",
// "CRC32C", "CRC64NVME", "SHA1", "SHA256" (and "MD5" for Content-MD5); they are
// matched case-insensitively and returned in upper case.
package checksum

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"net/http"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// Algorithm names as they appear on the wire.
const (
	CRC32     = "CRC32"
	CRC32C    = "CRC32C"
	CRC64NVME = "CRC64NVME"
	SHA1      = "SHA1"
	SHA256    = "SHA256"
	MD5       = "MD5"
)

// crc64NVMEPoly is the bit-reflected form of the NVMe CRC-64 polynomial
// 0xad93d23594c93659. hash/crc64 computes reflected CRCs with an all-ones
// initial value and final XOR, which is exactly CRC-64/NVME.
const crc64NVMEPoly = 0x9a6c9329ac4bc9b5

// Tables are immutable once built; building them is cheap but not free, so
// they are computed once. They are read-only values, not mutable state.
var (
	castagnoliTable = crc32.MakeTable(crc32.Castagnoli)
	nvmeTable       = crc64.MakeTable(crc64NVMEPoly)
)

// Algorithms lists the S3 checksum algorithms (MD5 excluded) in the order
// S3 documents them.
func Algorithms() []string {
	return []string{CRC32, CRC32C, CRC64NVME, SHA1, SHA256}
}

// Canonical returns the upper-case wire name of alg and whether it is a known
// algorithm (including MD5).
func Canonical(alg string) (string, bool) {
	switch strings.ToUpper(alg) {
	case CRC32:
		return CRC32, true
	case CRC32C:
		return CRC32C, true
	case CRC64NVME:
		return CRC64NVME, true
	case SHA1:
		return SHA1, true
	case SHA256:
		return SHA256, true
	case MD5:
		return MD5, true
	}
	return "", false
}

// New returns a fresh hash for alg. Sum of a CRC hash is its big-endian value,
// so base64 of Sum is the header value for every algorithm. Unknown names give
// an InvalidRequest error like S3's answer to a bad x-amz-checksum-algorithm.
func New(alg string) (hash.Hash, error) {
	name, ok := Canonical(alg)
	if !ok {
		return nil, awserr.New("InvalidRequest", "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
	}
	return newHash(name), nil
}

func newHash(name string) hash.Hash {
	switch name {
	case CRC32:
		return crc32.NewIEEE()
	case CRC32C:
		return crc32.New(castagnoliTable)
	case CRC64NVME:
		return crc64.New(nvmeTable)
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	case MD5:
		return md5.New()
	}
	panic("checksum: unreachable algorithm " + name)
}

// Size returns the digest length in bytes of alg, or 0 if it is unknown.
func Size(alg string) int {
	name, ok := Canonical(alg)
	if !ok {
		return 0
	}
	switch name {
	case CRC32, CRC32C:
		return 4
	case CRC64NVME:
		return 8
	case SHA1:
		return sha1.Size
	case SHA256:
		return sha256.Size
	default:
		return md5.Size
	}
}

// Header returns the header carrying alg's value, e.g. "x-amz-checksum-crc32"
// ("Content-MD5" for MD5), or "" if alg is unknown.
func Header(alg string) string {
	name, ok := Canonical(alg)
	if !ok {
		return ""
	}
	if name == MD5 {
		return "Content-MD5"
	}
	return "x-amz-checksum-" + strings.ToLower(name)
}

// FromHeader returns the algorithm named by a checksum header such as
// "x-amz-checksum-crc64nvme" or "Content-MD5" (any case).
func FromHeader(name string) (string, bool) {
	if strings.EqualFold(name, "Content-MD5") {
		return MD5, true
	}
	const prefix = "x-amz-checksum-"
	if len(name) <= len(prefix) || !strings.EqualFold(name[:len(prefix)], prefix) {
		return "", false
	}
	alg, ok := Canonical(name[len(prefix):])
	if !ok || alg == MD5 {
		return "", false
	}
	return alg, true
}

// Encode returns the wire form of a digest: standard base64 with padding.
func Encode(sum []byte) string {
	return base64.StdEncoding.EncodeToString(sum)
}

// Decode parses a wire value for alg and checks its length.
func Decode(alg, value string) ([]byte, bool) {
	size := Size(alg)
	if size == 0 || base64.StdEncoding.DecodedLen(len(value)) < size {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(value)
	if err != nil || len(b) != size {
		return nil, false
	}
	return b, true
}

// Sum returns the wire value of alg over data.
func Sum(alg string, data []byte) (string, error) {
	h, err := New(alg)
	if err != nil {
		return "", err
	}
	h.Write(data)
	return Encode(h.Sum(nil)), nil
}

// FromRequest returns the algorithm and value of the first x-amz-checksum-*
// header present in h (S3 allows one), or ok=false when there is none.
// x-amz-checksum-mode and x-amz-checksum-type and x-amz-checksum-algorithm are
// not value headers and are ignored.
func FromRequest(h http.Header) (alg, value string, ok bool) {
	for _, a := range Algorithms() {
		if v := h.Get(Header(a)); v != "" {
			return a, v, true
		}
	}
	return "", "", false
}
