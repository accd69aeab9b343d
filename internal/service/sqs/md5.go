package sqs

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

// md5Hex returns the hex MD5 of s, as MD5OfMessageBody.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Transport types in the attribute digest.
const (
	transportString byte = 1
	transportBinary byte = 2
)

// attrsMD5 computes MD5OfMessageAttributes (and MD5OfMessageSystemAttributes)
// exactly as SQS does: for each attribute in name order, the 4-byte
// big-endian length and bytes of the name and of the data type, a transport
// byte (1 string, 2 binary) and the length-prefixed value.
func attrsMD5(attrs map[string]service.MessageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	h := md5.New()
	var buf []byte
	put := func(b []byte) {
		buf = binary.BigEndian.AppendUint32(buf[:0], uint32(len(b)))
		h.Write(buf)
		h.Write(b)
	}
	for _, n := range names {
		a := attrs[n]
		put([]byte(n))
		put([]byte(a.DataType))
		if isBinaryType(a.DataType) {
			h.Write([]byte{transportBinary})
			put(a.BinaryValue)
		} else {
			h.Write([]byte{transportString})
			put([]byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func isBinaryType(dataType string) bool {
	return dataType == "Binary" || strings.HasPrefix(dataType, "Binary.")
}
