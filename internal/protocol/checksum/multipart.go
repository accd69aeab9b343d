package checksum

import (
	"encoding/binary"
	"strconv"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// Composite returns the composite checksum S3 reports for a multipart object
// uploaded with alg: the checksum of the concatenated binary part checksums,
// base64-encoded, followed by "-N" where N is the number of parts. parts are
// the parts' wire values (base64) in part-number order.
func Composite(alg string, parts []string) (string, error) {
	h, err := New(alg)
	if err != nil {
		return "", err
	}
	name, _ := Canonical(alg)
	for i, p := range parts {
		b, ok := Decode(name, p)
		if !ok {
			return "", awserr.New("InvalidPart", "The %s checksum of part %d is invalid.", name, i+1)
		}
		h.Write(b)
	}
	return Encode(h.Sum(nil)) + "-" + strconv.Itoa(len(parts)), nil
}

// Part is one part of a multipart upload for FullObject: its wire checksum
// (base64) and its size in bytes.
type Part struct {
	Checksum string
	Size     int64
}

// FullObject returns the full-object checksum of a multipart upload, the CRC
// of the whole object computed from the parts' CRCs and sizes without reading
// the data. Only the CRC algorithms (CRC32, CRC32C, CRC64NVME) support it.
func FullObject(alg string, parts []Part) (string, error) {
	name, ok := Canonical(alg)
	if !ok || !IsCRC(name) {
		return "", awserr.New("InvalidRequest", "The FULL_OBJECT checksum type cannot be used with the %s checksum algorithm.", alg)
	}
	var crc uint64
	for i, p := range parts {
		b, ok := Decode(name, p.Checksum)
		if !ok || p.Size < 0 {
			return "", awserr.New("InvalidPart", "The %s checksum of part %d is invalid.", name, i+1)
		}
		part := fromBytes(b)
		if i == 0 {
			crc = part
			continue
		}
		crc, _ = Combine(name, crc, part, p.Size)
	}
	if len(parts) == 0 {
		h := newHash(name)
		return Encode(h.Sum(nil)), nil
	}
	return Encode(toBytes(name, crc)), nil
}

// IsCRC reports whether alg is one of the CRC algorithms.
func IsCRC(alg string) bool {
	name, _ := Canonical(alg)
	return name == CRC32 || name == CRC32C || name == CRC64NVME
}

// Combine returns the CRC of the concatenation A‖B given crcA = CRC(A),
// crcB = CRC(B) and lenB = len(B), for the CRC algorithm alg (CRC32, CRC32C
// or CRC64NVME). It fails only for other algorithms.
func Combine(alg string, crcA, crcB uint64, lenB int64) (uint64, error) {
	name, _ := Canonical(alg)
	var poly uint64
	var width uint
	switch name {
	case CRC32:
		poly, width = 0xedb88320, 32 // reflected IEEE
	case CRC32C:
		poly, width = 0x82f63b78, 32 // reflected Castagnoli
	case CRC64NVME:
		poly, width = crc64NVMEPoly, 64
	default:
		return 0, awserr.New("InvalidRequest", "%s is not a CRC algorithm", alg)
	}
	if lenB <= 0 {
		return crcA, nil
	}
	g := gf2{poly: poly, one: 1 << (width - 1)}
	return g.mul(g.xpow8n(uint64(lenB)), crcA) ^ crcB, nil
}

// gf2 is arithmetic modulo a CRC polynomial in the bit-reflected
// representation used by hash/crc32 and hash/crc64: the most significant bit
// of the register is the coefficient of x^0. The combine technique is the one
// zlib's crc32_combine uses; because every CRC here starts from all ones and
// ends with an all-ones XOR, the pre- and post-conditioning cancel out and
// CRC(A‖B) = CRC(A)·x^(8·len(B)) + CRC(B) mod P.
type gf2 struct {
	poly uint64 // reflected polynomial
	one  uint64 // the polynomial 1 (x^0)
}

// mul returns a·b mod P.
func (g gf2) mul(a, b uint64) uint64 {
	var p uint64
	for m := g.one; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		if b&1 != 0 {
			b = b>>1 ^ g.poly
		} else {
			b >>= 1
		}
	}
	return p
}

// xpow8n returns x^(8n) mod P by square-and-multiply.
func (g gf2) xpow8n(n uint64) uint64 {
	sq := g.one >> 1 // x^1
	for range 3 {
		sq = g.mul(sq, sq) // x^2, x^4, x^8
	}
	p := g.one
	for ; n != 0; n >>= 1 {
		if n&1 != 0 {
			p = g.mul(sq, p)
		}
		sq = g.mul(sq, sq)
	}
	return p
}

func fromBytes(b []byte) uint64 {
	if len(b) == 4 {
		return uint64(binary.BigEndian.Uint32(b))
	}
	return binary.BigEndian.Uint64(b)
}

func toBytes(alg string, v uint64) []byte {
	if alg == CRC64NVME {
		return binary.BigEndian.AppendUint64(nil, v)
	}
	return binary.BigEndian.AppendUint32(nil, uint32(v))
}
