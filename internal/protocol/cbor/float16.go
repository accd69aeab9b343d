package cbor

import "math"

// halfToFloat32 converts IEEE 754 binary16 bits to a float32, exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0: // zero
		return math.Float32frombits(sign)
	}
	// Subnormal: mant × 2^-24, which float32 holds as a normal number.
	f := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		f = -f
	}
	return f
}

// float32ToHalf returns the binary16 bits of f and whether the conversion
// is exact. NaN is not handled here.
func float32ToHalf(f float32) (uint16, bool) {
	bits := math.Float32bits(f)
	sign := uint16(bits>>16) & 0x8000
	exp := int32(bits>>23&0xff) - 127
	mant := bits & 0x7fffff
	switch {
	case exp == 128: // infinity (NaN excluded by the caller)
		return sign | 0x7c00, mant == 0
	case exp == -127: // zero or float32 subnormal, far below binary16 range
		return sign, mant == 0
	case exp >= -14 && exp <= 15: // binary16 normal
		if mant&0x1fff != 0 {
			return 0, false
		}
		return sign | uint16(exp+15)<<10 | uint16(mant>>13), true
	case exp >= -24 && exp < -14: // binary16 subnormal: k × 2^-24
		full := mant | 0x800000 // value = full × 2^(exp-23)
		shift := uint32(-exp - 1)
		if full&(1<<shift-1) != 0 {
			return 0, false
		}
		return sign | uint16(full>>shift), true
	}
	return 0, false
}
