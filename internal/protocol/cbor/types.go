package cbor

import (
	"errors"
	"strconv"
)

// MaxDepth is the deepest nesting of arrays, maps and tags that the decoder
// accepts and the encoder produces. A value at top level has depth zero; each
// enclosing array, map or tag adds one.
const MaxDepth = 1000

// Tag is a tagged data item (major type 6) whose tag number has no more
// specific Go representation. Tags 1 (epoch time), 2 and 3 (bignums) are
// never decoded as Tag.
type Tag struct {
	Number  uint64
	Content any
}

// Simple is a simple value (major type 7) other than false, true, null and
// undefined: 0 to 19 and 32 to 255. Values 24 to 31 are not well-formed and
// fail to encode; values 20 to 23 encode as false, true, null and undefined.
type Simple uint8

// Errors that an [*Error] may wrap, for use with errors.Is.
var (
	// ErrUnexpectedEnd means the input ended inside a data item.
	ErrUnexpectedEnd = errors.New("unexpected end of input")
	// ErrTooDeep means nesting exceeded MaxDepth.
	ErrTooDeep = errors.New("nesting exceeds maximum depth")
	// ErrTrailingData means Unmarshal found bytes after the first data item.
	ErrTrailingData = errors.New("data after top-level item")
)

// Error describes a decoding or encoding failure. For decoding, Offset is the
// byte offset in the input of the item (or header byte) at fault; for
// encoding it is the length of the output written so far.
type Error struct {
	Offset int
	Err    error
}

func (e *Error) Error() string {
	return "cbor: " + e.Err.Error() + " at offset " + strconv.Itoa(e.Offset)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
