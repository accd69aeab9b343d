package s3

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"sync"
	"time"
	"unsafe"
)

// Object records are on every request's path, so they are stored in a
// compact binary form rather than JSON: a version byte, then each field in
// a fixed order (strings and byte slices length-prefixed, integers and
// times as varints, times in Unix nanoseconds with 0 for the zero time).

const objectFormat = 1

var errBadRecord = errors.New("s3: malformed object record")

type recWriter struct{ b []byte }

func (w *recWriter) str(s string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}
func (w *recWriter) bytes(p []byte) {
	w.b = binary.AppendUvarint(w.b, uint64(len(p)))
	w.b = append(w.b, p...)
}
func (w *recWriter) int(n int64) { w.b = binary.AppendVarint(w.b, n) }
func (w *recWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}
func (w *recWriter) time(t time.Time) {
	if t.IsZero() {
		w.int(0)
		return
	}
	w.int(t.UnixNano())
}

type recReader struct {
	b   []byte
	err error
}

func (r *recReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.err = errBadRecord
		return 0
	}
	r.b = r.b[k:]
	return n
}
func (r *recReader) raw() []byte {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errBadRecord
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

// str returns the next string, sharing the record's bytes (see decodeObject).
func (r *recReader) str() string {
	p := r.raw()
	if len(p) == 0 {
		return ""
	}
	return unsafe.String(&p[0], len(p))
}
func (r *recReader) int() int64 {
	if r.err != nil {
		return 0
	}
	n, k := binary.Varint(r.b)
	if k <= 0 {
		r.err = errBadRecord
		return 0
	}
	r.b = r.b[k:]
	return n
}
func (r *recReader) bool() bool {
	if r.err != nil || len(r.b) == 0 {
		r.err = errBadRecord
		return false
	}
	v := r.b[0] == 1
	r.b = r.b[1:]
	return v
}
func (r *recReader) time() time.Time {
	n := r.int()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
func (r *recReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) { // every element takes at least a byte
		r.err = errBadRecord
		return 0
	}
	return int(n)
}

// recBufs holds encoding buffers: the store copies what it is given, so an
// encoded record's buffer is reused as soon as it is stored.
var recBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledRec is the largest buffer kept for reuse.
const maxPooledRec = 64 << 10

// appendObject appends o's encoding to b.
func appendObject(b []byte, o *objectRecord) []byte {
	w := recWriter{b: b}
	w.b = append(w.b, objectFormat)
	for _, s := range []string{o.Key, o.VersionID, o.Order, o.Blob, o.ETag, o.ContentType, o.Encoding, o.Disposition, o.Language,
		o.CacheControl, o.Expires, o.StorageClass, o.SSE, o.SSEKMSKey, o.SSECAlg, o.SSECKeyMD5, o.Redirect, o.ChecksumAlg, o.Checksum,
		o.ChecksumType, o.Owner, o.LockMode, o.LegalHold} {
		w.str(s)
	}
	w.bool(o.DeleteMarker)
	w.bool(o.BucketKey)
	w.int(o.Size)
	w.time(o.Modified)
	w.time(o.LockUntil)
	w.bytes(o.Data)
	w.b = binary.AppendUvarint(w.b, uint64(len(o.Meta)))
	for _, k := range sortedStrings(o.Meta) {
		w.str(k)
		w.str(o.Meta[k])
	}
	w.b = binary.AppendUvarint(w.b, uint64(len(o.Parts)))
	for _, p := range o.Parts {
		w.int(p.Size)
		w.str(p.ETag)
		w.str(p.Checksum)
	}
	w.b = binary.AppendUvarint(w.b, uint64(len(o.Tags)))
	for _, t := range o.Tags {
		w.str(t.Key)
		w.str(t.Value)
	}
	return w.b
}

func encodeObject(o *objectRecord) []byte { return appendObject(nil, o) }

// decodeObject decodes a record made by appendObject into o. The strings
// and the inline body of o share b's memory: b MUST NOT be modified
// afterwards (the store hands out fresh copies, which nothing modifies).
func decodeObject(b []byte, o *objectRecord) error {
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, o)
	}
	if len(b) == 0 || b[0] != objectFormat {
		return errBadRecord
	}
	r := recReader{b: b[1:]}
	for _, p := range []*string{&o.Key, &o.VersionID, &o.Order, &o.Blob, &o.ETag, &o.ContentType, &o.Encoding, &o.Disposition, &o.Language,
		&o.CacheControl, &o.Expires, &o.StorageClass, &o.SSE, &o.SSEKMSKey, &o.SSECAlg, &o.SSECKeyMD5, &o.Redirect, &o.ChecksumAlg, &o.Checksum,
		&o.ChecksumType, &o.Owner, &o.LockMode, &o.LegalHold} {
		*p = r.str()
	}
	o.DeleteMarker = r.bool()
	o.BucketKey = r.bool()
	o.Size = r.int()
	o.Modified = r.time()
	o.LockUntil = r.time()
	if d := r.raw(); len(d) > 0 {
		o.Data = d
	}
	if n := r.count(); n > 0 {
		o.Meta = make(map[string]string, n)
		for range n {
			k := r.str()
			o.Meta[k] = r.str()
		}
	}
	if n := r.count(); n > 0 {
		o.Parts = make([]partInfo, n)
		for i := range o.Parts {
			o.Parts[i] = partInfo{Size: r.int(), ETag: r.str(), Checksum: r.str()}
		}
	}
	if n := r.count(); n > 0 {
		o.Tags = make([]tag, n)
		for i := range o.Tags {
			o.Tags[i] = tag{Key: r.str(), Value: r.str()}
		}
	}
	if r.err == nil && len(r.b) != 0 {
		return errBadRecord
	}
	return r.err
}
