package sqs

import (
	"strings"
	"testing"
)

// Receipt handles begin as SQS's do, never with "-" (which the AWS CLI
// would read as an option), and parse back.
func TestReceiptHandleShape(t *testing.T) {
	q := &queue{}
	copy(q.idBytes[:], "\xfb\xef\xbe\xfb\xef\xbe\xfb\xef")
	for seq := uint64(0); seq < 2000; seq++ {
		h := q.handle(&message{seq: seq, receives: uint32(seq)})
		if !strings.HasPrefix(h, "AQEB") {
			t.Fatalf("handle %q", h)
		}
		if got, ok := q.parseHandle(h); !ok || got != seq {
			t.Fatalf("parse %q = %d %v", h, got, ok)
		}
	}
	if _, ok := q.parseHandle("-nVZrd5k-ekY696l_TR9sAAAAAE"); ok {
		t.Error("a handle without the prefix parsed")
	}
}
