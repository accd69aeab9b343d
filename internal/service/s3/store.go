package s3

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/overcast-dev/overcast/internal/storage"
)

// Key layout. Bucket names are global within a partition, so buckets and
// everything inside them live in one scope per partition, with the owning
// account recorded in the bucket:
//
//	b, bucket                        → bucketRecord
//	o, bucket, key                   → objectRecord of the latest version (may be a delete marker)
//	v, bucket, key, order            → objectRecord of a noncurrent version (order: newest first)
//	u, bucket, uploadID              → uploadRecord
//	p, bucket, uploadID, partNumber  → partRecord
//
// Blob keys are random ("o/<32 hex>"), never derived from object keys.
const (
	tagBucket  = "b"
	tagObject  = "o"
	tagVersion = "v"
	tagUpload  = "u"
	tagPart    = "p"
)

// partitionScope is the key scope of one AWS partition's buckets.
func partitionScope(partition string) storage.Scope {
	return storage.Scope{Service: "s3", Region: partition}
}

// bucketRecord is a bucket and its configuration sub-resources. Sub-resource
// documents are kept as the decoded input values (see package model), stored
// with encodeValue so timestamps and integers round-trip.
type bucketRecord struct {
	Name       string            `json:"n"`
	Account    string            `json:"a"`
	Region     string            `json:"r"`
	Created    time.Time         `json:"c"`
	Versioning string            `json:"ver,omitempty"` // "", Enabled, Suspended
	MFADelete  string            `json:"mfa,omitempty"`
	Ownership  string            `json:"own,omitempty"`
	ACL        string            `json:"acl,omitempty"`
	ObjectLock bool              `json:"lock,omitempty"`
	Accelerate string            `json:"acc,omitempty"`
	Policy     string            `json:"pol,omitempty"`
	Configs    map[string]any    `json:"cfg,omitempty"` // sub-resource name → encoded value
	Tags       map[string]string `json:"tags,omitempty"`
	TagOrder   []string          `json:"tago,omitempty"`
}

func (b *bucketRecord) config(name string) (any, bool) {
	v, ok := b.Configs[name]
	if !ok {
		return nil, false
	}
	return decodeValue(v), true
}

func (b *bucketRecord) setConfig(name string, v any) {
	if b.Configs == nil {
		b.Configs = map[string]any{}
	}
	if v == nil {
		delete(b.Configs, name)
		return
	}
	b.Configs[name] = encodeValue(v)
}

// objectRecord is one version of an object.
type objectRecord struct {
	Key          string            `json:"k"`
	VersionID    string            `json:"v,omitempty"` // "" when the bucket never had versioning ("null" on the wire)
	Order        string            `json:"o,omitempty"`
	DeleteMarker bool              `json:"dm,omitempty"`
	Blob         string            `json:"b,omitempty"`
	Data         []byte            `json:"d,omitempty"` // the body of a small object, kept inline
	Size         int64             `json:"s"`
	ETag         string            `json:"e,omitempty"` // quoted
	Modified     time.Time         `json:"m"`
	ContentType  string            `json:"ct,omitempty"`
	Encoding     string            `json:"ce,omitempty"`
	Disposition  string            `json:"cd,omitempty"`
	Language     string            `json:"cl,omitempty"`
	CacheControl string            `json:"cc,omitempty"`
	Expires      string            `json:"ex,omitempty"`
	Meta         map[string]string `json:"md,omitempty"`
	StorageClass string            `json:"sc,omitempty"`
	SSE          string            `json:"sse,omitempty"`
	SSEKMSKey    string            `json:"kms,omitempty"`
	BucketKey    bool              `json:"bk,omitempty"`
	SSECAlg      string            `json:"ssec,omitempty"`
	SSECKeyMD5   string            `json:"ssecmd5,omitempty"`
	Redirect     string            `json:"wr,omitempty"`
	ChecksumAlg  string            `json:"ca,omitempty"`
	Checksum     string            `json:"cv,omitempty"`
	ChecksumType string            `json:"cty,omitempty"`
	Parts        []partInfo        `json:"pt,omitempty"` // multipart objects
	Tags         []tag             `json:"tg,omitempty"`
	Owner        string            `json:"ow,omitempty"`
	LockMode     string            `json:"lm,omitempty"`
	LockUntil    time.Time         `json:"lu,omitzero"`
	LegalHold    string            `json:"lh,omitempty"`
}

type partInfo struct {
	Size     int64  `json:"s"`
	ETag     string `json:"e,omitempty"`
	Checksum string `json:"c,omitempty"`
}

type tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// wireVersion is the version id a client sees.
func (o *objectRecord) wireVersion() string {
	if o.VersionID == "" {
		return "null"
	}
	return o.VersionID
}

// uploadRecord is an in-progress multipart upload.
type uploadRecord struct {
	ID           string    `json:"id"`
	Key          string    `json:"k"`
	Initiated    time.Time `json:"i"`
	Object       objectRecord
	ChecksumAlg  string `json:"ca,omitempty"`
	ChecksumType string `json:"cty,omitempty"`
}

type partRecord struct {
	Number   int64     `json:"n"`
	Blob     string    `json:"b"`
	Size     int64     `json:"s"`
	ETag     string    `json:"e"`
	Modified time.Time `json:"m"`
	Checksum string    `json:"c,omitempty"`
	Alg      string    `json:"a,omitempty"`
}

func partKey(n int64) string { return fmt.Sprintf("%05d", n) }

// getRec reads the record under key into v; found is false when there is
// none.
func getRec(tx storage.Tx, key []byte, v any) (bool, error) {
	b, err := tx.Get(key)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, decodeRec(b, v)
}

// putRec stores v under key: object records in their binary form, every
// other record as JSON.
func putRec(tx storage.Tx, key []byte, v any) error {
	if o, ok := v.(*objectRecord); ok {
		bp := recBufs.Get().(*[]byte)
		buf := appendObject((*bp)[:0], o)
		err := tx.Put(key, buf)
		if cap(buf) <= maxPooledRec {
			*bp = buf
			recBufs.Put(bp)
		}
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(key, b)
}

// decodeRec decodes a record stored by putRec.
func decodeRec(b []byte, v any) error {
	if o, ok := v.(*objectRecord); ok {
		return decodeObject(b, o)
	}
	return json.Unmarshal(b, v)
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newBlobKey() string { return "o/" + randomHex(16) }

// versionSeq orders versions: every new version gets a larger sequence
// number, taken from the clock and made strictly increasing.
type versionSeq struct{ last atomic.Int64 }

func (v *versionSeq) next(now time.Time) int64 {
	n := now.UnixNano()
	for {
		last := v.last.Load()
		if n <= last {
			n = last + 1
		}
		if v.last.CompareAndSwap(last, n) {
			return n
		}
	}
}

// orderKey sorts newest first: the bitwise complement in fixed-width hex.
func orderKey(seq int64) string {
	var b [16]byte
	const digits = "0123456789abcdef"
	u := ^uint64(seq)
	for i := 15; i >= 0; i-- {
		b[i] = digits[u&0xf]
		u >>= 4
	}
	return string(b[:])
}

// newVersionID returns a version id that embeds its order key, so a version
// is found by id without a scan: 16 hex digits of order, then 16 random.
func newVersionID(order string) string { return order + randomHex(8) }

// orderOfVersion returns the order key embedded in a version id made by
// newVersionID.
func orderOfVersion(id string) (string, bool) {
	if len(id) != 32 {
		return "", false
	}
	if _, err := strconv.ParseUint(id[:16], 16, 64); err != nil {
		return "", false
	}
	return id[:16], true
}

// encodeValue turns a decoded input value into a JSON-safe form that
// decodeValue restores exactly (timestamps, integers, blobs).
func encodeValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = encodeValue(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = encodeValue(e)
		}
		return l
	case time.Time:
		return map[string]any{"$t": x.UTC().Format(time.RFC3339Nano)}
	case int64:
		return map[string]any{"$i": strconv.FormatInt(x, 10)}
	case []byte:
		return map[string]any{"$b": x}
	}
	return v
}

func decodeValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if s, ok := x["$t"].(string); ok {
				t, _ := time.Parse(time.RFC3339Nano, s)
				return t
			}
			if s, ok := x["$i"].(string); ok {
				n, _ := strconv.ParseInt(s, 10, 64)
				return n
			}
			if s, ok := x["$b"].(string); ok {
				var b []byte
				json.Unmarshal([]byte(strconv.Quote(s)), &b)
				return b
			}
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = decodeValue(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = decodeValue(e)
		}
		return l
	}
	return v
}
