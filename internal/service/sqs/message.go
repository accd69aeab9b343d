package sqs

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
)

// Message states.
const (
	stReady    uint8 = iota // visible, waiting to be received
	stDelayed               // sent with a delay that has not passed
	stInflight              // received, invisible until visibleAt
)

// message is one message and its places in its queue's indexes.
type message struct {
	// Immutable once sent (the "msg" record).
	seq       uint64
	id        string
	body      string
	md5Body   string
	md5Attrs  string
	attrs     map[string]service.MessageAttribute
	trace     string // AWSTraceHeader system attribute
	md5Sys    string
	sent      int64 // unix ms
	groupID   string
	dedupID   string
	senderID  string
	sourceArn string // DeadLetterQueueSourceArn
	size      int

	// Mutable receive state (the "rcv" record).
	receives     uint32
	firstReceive int64 // unix ms
	visibleAt    int64 // unix ns; for delayed and in-flight messages

	state   uint8
	heapIdx int
	// prev/next link the standard ready list, or the FIFO group's list.
	prev, next *message
	// aprev/anext link the queue's list of all messages in send order.
	aprev, anext *message
	grp          *group
}

// record encoding: a version byte and length-prefixed fields.
const recVersion = 1

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (m *message) encode() []byte {
	b := make([]byte, 0, 64+len(m.body)+len(m.id)+len(m.md5Body)*2)
	b = append(b, recVersion)
	b = appendStr(b, m.id)
	b = appendStr(b, m.body)
	b = appendStr(b, m.md5Body)
	b = appendStr(b, m.md5Attrs)
	b = appendStr(b, m.trace)
	b = appendStr(b, m.md5Sys)
	b = binary.AppendVarint(b, m.sent)
	b = appendStr(b, m.groupID)
	b = appendStr(b, m.dedupID)
	b = appendStr(b, m.senderID)
	b = appendStr(b, m.sourceArn)
	delayed := int64(0)
	if m.state == stDelayed {
		delayed = m.visibleAt
	}
	b = binary.AppendVarint(b, delayed)
	b = binary.AppendUvarint(b, uint64(len(m.attrs)))
	for k, a := range m.attrs {
		b = appendStr(b, k)
		b = appendStr(b, a.DataType)
		if isBinaryType(a.DataType) {
			b = appendStr(b, string(a.BinaryValue))
		} else {
			b = appendStr(b, a.StringValue)
		}
	}
	return b
}

var errCorrupt = errors.New("sqs: corrupt message record")

type reader struct {
	b   []byte
	err error
}

func (r *reader) str() string {
	n, k := binary.Uvarint(r.b)
	if k <= 0 || uint64(len(r.b)-k) < n {
		r.err = errCorrupt
		r.b = nil
		return ""
	}
	s := string(r.b[k : k+int(n)])
	r.b = r.b[k+int(n):]
	return s
}

func (r *reader) varint() int64 {
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.err = errCorrupt
		r.b = nil
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.err = errCorrupt
		r.b = nil
		return 0
	}
	r.b = r.b[k:]
	return v
}

func decodeMessage(seq uint64, b []byte) (*message, error) {
	if len(b) == 0 || b[0] != recVersion {
		return nil, errCorrupt
	}
	r := &reader{b: b[1:]}
	m := &message{seq: seq, heapIdx: -1}
	m.id = r.str()
	m.body = r.str()
	m.md5Body = r.str()
	m.md5Attrs = r.str()
	m.trace = r.str()
	m.md5Sys = r.str()
	m.sent = r.varint()
	m.groupID = r.str()
	m.dedupID = r.str()
	m.senderID = r.str()
	m.sourceArn = r.str()
	if d := r.varint(); d != 0 {
		m.state, m.visibleAt = stDelayed, d
	}
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return nil, errCorrupt
	}
	if n > 0 {
		m.attrs = make(map[string]service.MessageAttribute, n)
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		k, t, v := r.str(), r.str(), r.str()
		a := service.MessageAttribute{DataType: t}
		if isBinaryType(t) {
			a.BinaryValue = []byte(v)
		} else {
			a.StringValue = v
		}
		m.attrs[k] = a
	}
	if r.err != nil {
		return nil, r.err
	}
	m.size = messageSize(m.body, m.attrs)
	return m, nil
}

func (m *message) encodeState() []byte {
	b := make([]byte, 0, 24)
	b = append(b, recVersion)
	b = binary.AppendUvarint(b, uint64(m.receives))
	b = binary.AppendVarint(b, m.firstReceive)
	b = binary.AppendVarint(b, m.visibleAt)
	return b
}

func (m *message) decodeState(b []byte) error {
	if len(b) == 0 || b[0] != recVersion {
		return errCorrupt
	}
	r := &reader{b: b[1:]}
	rc := r.uvarint()
	fr := r.varint()
	va := r.varint()
	if r.err != nil {
		return r.err
	}
	m.receives, m.firstReceive, m.visibleAt = uint32(rc), fr, va
	m.state = stInflight
	return nil
}

// messageSize is what counts against MaximumMessageSize: the body plus each
// attribute's name, data type and value.
func messageSize(body string, attrs map[string]service.MessageAttribute) int {
	n := len(body)
	for k, a := range attrs {
		n += len(k) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	return n
}

func seqKey(seq uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	return string(b[:])
}

func unixMs(t time.Time) int64 { return t.UnixMilli() }
