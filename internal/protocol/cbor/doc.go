// Package cbor encodes and decodes CBOR (RFC 8949) as generic Go values.
//
// It is the byte-level layer under the Smithy RPC v2 CBOR protocol: it knows
// nothing of shapes or services. Decoding produces a tree of a small, fixed
// set of Go types; encoding accepts that set and a few conveniences.
//
// # Decoded representation
//
// [Unmarshal] and [Decoder.Decode] map each CBOR data item to exactly one Go
// type, so a given value always has one representation:
//
//	unsigned integer (major 0)   int64 when <= math.MaxInt64, else uint64
//	negative integer (major 1)   int64 when >= math.MinInt64, else *big.Int
//	bignum (tags 2 and 3)        the same integer types: int64, uint64 or
//	                             *big.Int, whichever the integer rule above picks
//	float (half/single/double)   float64 (exact, except that NaN payloads
//	                             are not guaranteed)
//	byte string                  []byte (a copy; never aliases the input)
//	text string                  string (must be valid UTF-8)
//	array                        []any
//	map                          map[string]any (keys must be text strings
//	                             and unique; anything else is an error)
//	false, true                  bool
//	null, undefined              nil
//	other simple values          Simple
//	tag 1 (epoch time)           time.Time in UTC, rounded to the millisecond
//	any other tag                Tag
//
// Indefinite-length strings, arrays and maps are accepted. Tag 1 content must
// be an integer or a finite float of seconds between 0001-01-01 and
// 9999-12-31 (the range RFC 3339 can write); a float is rounded to the
// nearest millisecond, which is the precision AWS timestamps carry.
//
// Decoding is safe on hostile input: nesting deeper than [MaxDepth] is an
// error, every length is checked against the bytes that remain before
// anything is allocated, and the total number of preallocated array and map
// slots in one call never exceeds the input length. Every decoding error is
// an [*Error] carrying the byte offset of the offending item.
//
// # Encoding
//
// [Marshal] and [AppendValue] accept the decoded types above plus every Go
// integer kind, float32, time.Time, []string and map[string]string (see
// [AppendValue] for the full list). Encoding always uses definite lengths and
// the shortest argument form. Floats use the smallest of half, single and
// double precision that holds the value exactly (RFC 8949 preferred
// serialization); NaN is written as the half-precision quiet NaN 0xf97e00.
// Map keys are sorted shortest first, then bytewise, which is the RFC 8949
// core deterministic order for text keys. A time.Time is written as tag 1
// with integer seconds when it falls on a whole second, and otherwise as a
// double of milliseconds/1000 (sub-millisecond digits are dropped).
//
// Encoding a decoded value and decoding it again yields an equal value, with
// these normalisations: undefined becomes null, and a NaN's payload becomes
// the quiet NaN.
package cbor
