package s3

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/checksum"
	"github.com/overcast-dev/overcast/internal/protocol/sigv4"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

const maxKeyLength = 1024

// checksumMembers maps each supported algorithm to its input/output member.
var checksumMembers = map[string]string{
	checksum.CRC32: "ChecksumCRC32", checksum.CRC32C: "ChecksumCRC32C", checksum.CRC64NVME: "ChecksumCRC64NVME",
	checksum.SHA1: "ChecksumSHA1", checksum.SHA256: "ChecksumSHA256",
}

func checkKey(key string) error {
	if key == "" {
		return errInvalidArgument("The key must not be empty.", "key", "")
	}
	if len(key) > maxKeyLength {
		return s3err(400, "KeyTooLongError", "Your key is too long", "Size", strconv.Itoa(len(key)), "MaxSizeAllowed", "1024")
	}
	return nil
}

// hashingReader computes the ETag (MD5) and at most one declared checksum
// in the pass that stores the body, and fails at the end instead of
// returning io.EOF when a declared digest does not match: the blob store
// then keeps nothing.
type hashingReader struct {
	r       io.Reader
	md5     hash.Hash
	wantMD5 []byte
	alg     string
	sum     hash.Hash
	want    []byte
	n       int64
	err     error
}

func (h *hashingReader) Read(p []byte) (int, error) {
	if h.err != nil {
		return 0, h.err
	}
	n, err := h.r.Read(p)
	if n > 0 {
		h.md5.Write(p[:n])
		if h.sum != nil {
			h.sum.Write(p[:n])
		}
		h.n += int64(n)
	}
	if err == io.EOF {
		if h.wantMD5 != nil && !bytes.Equal(h.md5.Sum(nil), h.wantMD5) {
			err = checksum.Mismatch(checksum.MD5)
		} else if h.want != nil && !bytes.Equal(h.sum.Sum(nil), h.want) {
			err = checksum.Mismatch(h.alg)
		}
	}
	if err != nil {
		h.err = err
	}
	return n, err
}

// copyBufs holds the buffers bodies are stored through: big enough that a
// large body takes few read and write calls.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

const copyBufSize = 256 << 10

// WriteTo stores the body in w (io.Copy prefers it to w's ReadFrom): each
// buffer-full is read, hashed and written once, in one pass.
func (h *hashingReader) WriteTo(w io.Writer) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var total int64
	for {
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var k int
			k, err = h.Read(buf[n:])
			n += k
		}
		if err != nil && err != io.EOF {
			return total, err
		}
		if n > 0 {
			wn, werr := w.Write(buf[:n])
			total += int64(wn)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
	}
}

func (h *hashingReader) etag() string {
	var sum [md5.Size]byte
	var b [2 + 2*md5.Size]byte
	b[0], b[len(b)-1] = '"', '"'
	hex.Encode(b[1:], h.md5.Sum(sum[:0]))
	return string(b[:])
}

func (h *hashingReader) checksum() string {
	if h.sum == nil {
		return ""
	}
	return checksum.Encode(h.sum.Sum(nil))
}

// uploadBody is a request body being stored: framing removed, digests
// checked as it is read.
type uploadBody struct {
	hr      *hashingReader
	chunked *sigv4.ChunkedReader
	trailer string // algorithm announced in x-amz-trailer
}

// openUpload prepares req's streaming body for storage.
func openUpload(req *service.Request) (*uploadBody, error) {
	var body io.Reader = http.NoBody
	if _, ok := req.Input["Body"]; ok {
		b, err := sigv4.Unchunk(req.HTTP)
		if err != nil {
			return nil, err
		}
		body = b
	}
	u := &uploadBody{}
	if cr, ok := body.(*sigv4.ChunkedReader); ok {
		u.chunked = cr
		for _, v := range req.HTTP.Header.Values("X-Amz-Trailer") {
			for name := range strings.SplitSeq(v, ",") {
				if alg, ok := checksum.FromHeader(strings.TrimSpace(name)); ok {
					u.trailer = alg
				}
			}
		}
	} else if req.HTTP.ContentLength < 0 && req.HTTP.Body != nil && req.HTTP.Body != http.NoBody {
		return nil, s3err(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
	}
	hr := &hashingReader{r: body, md5: md5.New()}
	if v := service.Str(req.Input, "ContentMD5"); v != "" {
		want, ok := checksum.Decode(checksum.MD5, v)
		if !ok {
			return nil, s3err(400, "InvalidDigest", "The Content-MD5 you specified was invalid.")
		}
		hr.wantMD5 = want
	}
	declared := 0
	for _, alg := range checksum.Algorithms() {
		v := service.Str(req.Input, checksumMembers[alg])
		if v == "" {
			continue
		}
		declared++
		want, ok := checksum.Decode(alg, v)
		if !ok {
			return nil, errInvalidRequest("Value for " + checksum.Header(alg) + " header is invalid.")
		}
		hr.alg, hr.want = alg, want
	}
	if declared > 1 {
		return nil, errInvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	}
	if algName := service.Str(req.Input, "ChecksumAlgorithm"); algName != "" && hr.alg == "" {
		alg, ok := checksum.Canonical(algName)
		if !ok || alg == checksum.MD5 {
			return nil, errInvalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
		if u.trailer == "" {
			hr.alg = alg
		}
	}
	if hr.alg == "" && u.trailer != "" {
		hr.alg = u.trailer
	}
	if hr.alg != "" {
		hr.sum, _ = checksum.New(hr.alg)
	}
	u.hr = hr
	return u, nil
}

// storeBody writes the body into a new blob and returns its key.
func (s *Service) storeBody(u *uploadBody) (string, error) {
	key := newBlobKey()
	if _, err := s.blobs.Put(key, u.hr); err != nil {
		return "", bodyError(err)
	}
	return key, nil
}

// storeObjectBody stores a PUT body: a body of at most inlineMax bytes is
// returned to be kept in the object's record (one KV write, no file);
// anything larger streams into a new blob. data lives in a pooled buffer
// that the caller hands back with s.releaseInline(buf) once data is stored.
func (s *Service) storeObjectBody(u *uploadBody) (data []byte, buf *[]byte, blob string, err error) {
	if s.inlineMax < 0 {
		key, err := s.storeBody(u)
		return nil, nil, key, err
	}
	buf = s.inlineBufs.Get().(*[]byte)
	b := (*buf)[:0]
	if cap(b) < s.inlineMax+1 {
		b = make([]byte, 0, s.inlineMax+1)
	}
	for len(b) <= s.inlineMax {
		n, rerr := u.hr.Read(b[len(b) : s.inlineMax+1])
		b = b[:len(b)+n]
		if rerr == io.EOF {
			*buf = b
			return b, buf, "", nil
		}
		if rerr != nil {
			*buf = b
			s.releaseInline(buf)
			return nil, nil, "", bodyError(rerr)
		}
	}
	*buf = b
	defer s.releaseInline(buf)
	key := newBlobKey()
	if _, err := s.blobs.Put(key, io.MultiReader(bytes.NewReader(b), u.hr)); err != nil {
		return nil, nil, "", bodyError(err)
	}
	return nil, nil, key, nil
}

// releaseInline returns a buffer from storeObjectBody to the pool.
func (s *Service) releaseInline(buf *[]byte) {
	if buf != nil {
		*buf = (*buf)[:0]
		s.inlineBufs.Put(buf)
	}
}

// openBody opens the body of an object version.
func (s *Service) openBody(o *objectRecord) (storage.Blob, error) {
	if o.Blob == "" {
		b := &bytesBlob{data: o.Data}
		b.Reset(o.Data)
		return b, nil
	}
	return s.blobs.Open(o.Blob)
}

// bytesBlob is an inline body as a storage.Blob.
type bytesBlob struct {
	bytes.Reader
	data []byte
}

func (b *bytesBlob) Close() error { return nil }

// bodyError maps a failure to store a request body to what S3 answers.
func bodyError(err error) error {
	var e *awserr.Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return s3err(400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header")
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return s3err(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
	}
	if strings.Contains(err.Error(), "http:") || strings.Contains(err.Error(), "connection") {
		return s3err(400, "IncompleteBody", "The request body terminated unexpectedly")
	}
	return err
}

// metaFromInput fills the content headers and user metadata of o.
func metaFromInput(o *objectRecord, in map[string]any) {
	o.ContentType = service.Str(in, "ContentType")
	o.Encoding = sigv4.StripAWSChunked(service.Str(in, "ContentEncoding"))
	o.Disposition = service.Str(in, "ContentDisposition")
	o.Language = service.Str(in, "ContentLanguage")
	o.CacheControl = service.Str(in, "CacheControl")
	switch x := in["Expires"].(type) {
	case string:
		o.Expires = x
	case time.Time:
		o.Expires = x.UTC().Format(http.TimeFormat)
	}
	o.Meta = nil
	if m, ok := in["Metadata"].(map[string]any); ok && len(m) > 0 {
		o.Meta = make(map[string]string, len(m))
		for k, v := range m {
			s, _ := v.(string)
			o.Meta[strings.ToLower(k)] = s
		}
	}
	o.Redirect = service.Str(in, "WebsiteRedirectLocation")
}

func sseFromInput(o *objectRecord, in map[string]any) {
	o.SSE = service.Str(in, "ServerSideEncryption")
	o.SSEKMSKey = service.Str(in, "SSEKMSKeyId")
	o.BucketKey = service.Bool(in, "BucketKeyEnabled")
	o.SSECAlg = service.Str(in, "SSECustomerAlgorithm")
	o.SSECKeyMD5 = service.Str(in, "SSECustomerKeyMD5")
	if o.SSE == "aws:kms" && o.SSEKMSKey == "" {
		o.SSEKMSKey = "arn:aws:kms:us-east-1:000000000000:alias/aws/s3"
	}
	if o.SSE == "" && o.SSECAlg == "" {
		o.SSE = "AES256" // S3 encrypts every new object (SSE-S3) by default
	}
}

func validStorageClass(sc string) bool {
	switch sc {
	case "", "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE", "FSX_OPENZFS", "FSX_ONTAP":
		return true
	}
	return false
}

// parseTagging parses the x-amz-tagging header (a URL query string).
func parseTagging(s string) ([]tag, error) {
	if s == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(s)
	if err != nil {
		return nil, errInvalidArgument("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.", "x-amz-tagging", s)
	}
	var out []tag
	for _, kv := range strings.Split(s, "&") {
		k, _, _ := strings.Cut(kv, "=")
		k, _ = url.QueryUnescape(k)
		if k == "" {
			continue
		}
		vs := q[k]
		if len(vs) != 1 {
			return nil, errInvalidArgument("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.", "x-amz-tagging", s)
		}
		out = append(out, tag{Key: k, Value: vs[0]})
	}
	return out, validateTags(out)
}

func validateTags(tags []tag) error {
	if len(tags) > 10 {
		return s3err(400, "BadRequest", "Object tags cannot be greater than 10")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if len(t.Key) == 0 || len(t.Key) > 128 {
			return s3err(400, "InvalidTag", "The TagKey you have provided is invalid")
		}
		if len(t.Value) > 256 {
			return s3err(400, "InvalidTag", "The TagValue you have provided is invalid")
		}
		if seen[t.Key] {
			return s3err(400, "InvalidTag", "Cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
	}
	return nil
}

func (s *Service) putObject(req *service.Request) (map[string]any, error) {
	return s.putObjectAs(req, "ObjectCreated:Put")
}

// putObjectAs stores an object and announces it as event.
func (s *Service) putObjectAs(req *service.Request, event string) (map[string]any, error) {
	bucket, key := service.Str(req.Input, "Bucket"), service.Str(req.Input, "Key")
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if _, err := s.lookupBucket(req, bucket); err != nil {
		return nil, err
	}
	sc := service.Str(req.Input, "StorageClass")
	if !validStorageClass(sc) {
		return nil, s3err(400, "InvalidStorageClass", "The storage class you specified is not valid", "StorageClassRequested", sc)
	}
	tags, err := parseTagging(service.Str(req.Input, "Tagging"))
	if err != nil {
		return nil, err
	}
	u, err := openUpload(req)
	if err != nil {
		return nil, err
	}
	if err := s.checkRate(req, bucket, key, true); err != nil {
		return nil, err
	}
	data, buf, blob, err := s.storeObjectBody(u)
	if err != nil {
		return nil, err
	}
	defer s.releaseInline(buf)
	o := &objectRecord{Key: key, Blob: blob, Data: data, Size: u.hr.n, ETag: u.hr.etag(), StorageClass: sc, Tags: tags, Owner: req.Account}
	if sc == "STANDARD" {
		o.StorageClass = ""
	}
	metaFromInput(o, req.Input)
	sseFromInput(o, req.Input)
	o.ChecksumAlg = u.hr.alg
	o.Checksum = u.hr.checksum()
	if u.chunked != nil && u.trailer != "" {
		if v := u.chunked.Trailer().Get(checksum.Header(u.trailer)); v != "" {
			o.Checksum = v
		}
	}
	if o.ChecksumAlg != "" {
		o.ChecksumType = "FULL_OBJECT"
	}
	o.LockMode = service.Str(req.Input, "ObjectLockMode")
	o.LegalHold = service.Str(req.Input, "ObjectLockLegalHoldStatus")
	if t, ok := req.Input["ObjectLockRetainUntilDate"].(time.Time); ok {
		o.LockUntil = t
	}
	cond := writeCond{ifMatch: service.Str(req.Input, "IfMatch"), ifNoneMatch: service.Str(req.Input, "IfNoneMatch")}
	b, err := s.commitObject(req, bucket, o, cond)
	if err != nil {
		s.deleteBlobs([]string{blob})
		return nil, err
	}
	s.notify(req, b, event, o)
	out := map[string]any{"ETag": o.ETag}
	objectHeaders(out, o, b, false)
	if o.ChecksumAlg != "" {
		out[checksumMembers[o.ChecksumAlg]] = o.Checksum
		out["ChecksumType"] = o.ChecksumType
	}
	return out, nil
}

// writeCond are the conditions of a conditional write.
type writeCond struct{ ifMatch, ifNoneMatch string }

func (c writeCond) check(cur *objectRecord, key string) error {
	live := cur != nil && !cur.DeleteMarker
	if c.ifNoneMatch != "" {
		if c.ifNoneMatch != "*" {
			return s3err(501, "NotImplemented", "A header you provided implies functionality that is not implemented", "Header", "If-None-Match")
		}
		if live {
			return errPrecondition("If-None-Match")
		}
	}
	if c.ifMatch != "" {
		if !live {
			return errNoSuchKey(key)
		}
		if !etagMatches(c.ifMatch, cur.ETag) {
			return errPrecondition("If-Match")
		}
	}
	return nil
}

// commitObject makes o the latest version of its key, following the
// bucket's versioning state, and deletes the blobs it replaces once the
// metadata is committed. It returns the bucket as of the commit.
func (s *Service) commitObject(req *service.Request, bucket string, o *objectRecord, cond writeCond) (*bucketRecord, error) {
	sc := scopeOf(req)
	now := s.clk.Now().UTC()
	o.Modified = now
	o.Order = orderKey(s.seq.next(now))
	var b bucketRecord
	var garbage []string
	err := s.kv.Update(func(tx storage.Tx) error {
		found, err := s.getBucket(tx, sc.Key(tagBucket, bucket), &b)
		if err != nil {
			return err
		}
		if !found {
			return errNoSuchBucket(bucket)
		}
		if b.Account != req.Account {
			return errAccessDenied()
		}
		var cur objectRecord
		okey := sc.Key(tagObject, bucket, o.Key)
		has, err := getRec(tx, okey, &cur)
		if err != nil {
			return err
		}
		var curp *objectRecord
		if has {
			curp = &cur
		}
		if err := cond.check(curp, o.Key); err != nil {
			return err
		}
		garbage, err = s.retire(tx, sc, &b, bucket, curp, o)
		if err != nil {
			return err
		}
		return putRec(tx, okey, o)
	})
	if err != nil {
		return nil, err
	}
	s.deleteBlobs(garbage)
	return &b, nil
}

// retire handles the version that o replaces as the latest, per the
// bucket's versioning state, and sets o's version id. It returns blobs
// that are no longer referenced.
func (s *Service) retire(tx storage.Tx, sc storage.Scope, b *bucketRecord, bucket string, cur, o *objectRecord) ([]string, error) {
	var garbage []string
	switch b.Versioning {
	case "":
		o.VersionID = ""
		if cur != nil {
			garbage = append(garbage, cur.Blob)
		}
		return garbage, nil
	case "Enabled":
		o.VersionID = newVersionID(o.Order)
	default: // Suspended: the new version is the null version
		o.VersionID = ""
		start, end := sc.Range(tagVersion, bucket, o.Key)
		var nullKey []byte
		var nullRec objectRecord
		if err := tx.Scan(start, end, func(k, v []byte) bool {
			var r objectRecord
			if decodeRec(v, &r) == nil && r.VersionID == "" {
				nullKey, nullRec = k, r
				return false
			}
			return true
		}); err != nil {
			return nil, err
		}
		if nullKey != nil {
			if err := tx.Delete(nullKey); err != nil {
				return nil, err
			}
			garbage = append(garbage, nullRec.Blob)
		}
	}
	if cur != nil {
		if cur.VersionID == "" && b.Versioning == "Suspended" {
			garbage = append(garbage, cur.Blob)
		} else if err := putRec(tx, sc.Key(tagVersion, bucket, cur.Key, cur.Order), cur); err != nil {
			return nil, err
		}
	}
	return garbage, nil
}

// objectHeaders adds the version, SSE and storage class headers.
func objectHeaders(out map[string]any, o *objectRecord, b *bucketRecord, withClass bool) {
	if b.Versioning != "" || o.VersionID != "" {
		out["VersionId"] = o.wireVersion()
	}
	if o.SSE != "" {
		out["ServerSideEncryption"] = o.SSE
	}
	if o.SSEKMSKey != "" {
		out["SSEKMSKeyId"] = o.SSEKMSKey
	}
	if o.BucketKey {
		out["BucketKeyEnabled"] = true
	}
	if o.SSECAlg != "" {
		out["SSECustomerAlgorithm"] = o.SSECAlg
		out["SSECustomerKeyMD5"] = o.SSECKeyMD5
	}
	if withClass && o.StorageClass != "" {
		out["StorageClass"] = o.StorageClass
	}
}

// readObject finds the version a GET, HEAD or copy names.
func (s *Service) readObject(req *service.Request, b *bucketRecord, key, versionID string) (*objectRecord, error) {
	sc := scopeOf(req)
	var o objectRecord
	var found bool
	err := s.kv.View(func(tx storage.Tx) error {
		var err error
		found, err = getRec(tx, sc.Key(tagObject, b.Name, key), &o)
		if err != nil || versionID == "" || (found && o.wireVersion() == versionID) {
			return err
		}
		found = false
		if versionID == "null" {
			start, end := sc.Range(tagVersion, b.Name, key)
			return tx.Scan(start, end, func(k, v []byte) bool {
				var r objectRecord
				if decodeRec(v, &r) == nil && r.VersionID == "" {
					o, found = r, true
					return false
				}
				return true
			})
		}
		order, ok := orderOfVersion(versionID)
		if !ok {
			return errInvalidVersion(versionID)
		}
		found, err = getRec(tx, sc.Key(tagVersion, b.Name, key, order), &o)
		if found && o.VersionID != versionID {
			found = false
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found {
		if versionID != "" {
			return nil, errNoSuchVersion(key, versionID)
		}
		return nil, errNoSuchKey(key)
	}
	if o.DeleteMarker {
		if versionID != "" {
			e := errMethodNotAllowed(req.HTTP.Method).(*awserr.Error)
			e.Header = http.Header{"X-Amz-Delete-Marker": {"true"}, "X-Amz-Version-Id": {o.wireVersion()}, "Last-Modified": {o.Modified.Format(http.TimeFormat)}}
			return nil, e
		}
		e := errNoSuchKey(key).(*awserr.Error)
		e.Header = http.Header{"X-Amz-Delete-Marker": {"true"}, "X-Amz-Version-Id": {o.wireVersion()}}
		return nil, e
	}
	return &o, nil
}

func etagMatches(header, etag string) bool {
	for _, e := range strings.Split(header, ",") {
		e = strings.TrimSpace(e)
		if e == "*" || trimQuotes(e) == trimQuotes(etag) {
			return true
		}
	}
	return false
}

// checkConditions evaluates If-Match, If-Unmodified-Since, If-None-Match
// and If-Modified-Since the way S3 does.
func checkConditions(in map[string]any, o *objectRecord) error {
	mod := o.Modified.Truncate(time.Second)
	ifMatch := service.Str(in, "IfMatch")
	if ifMatch != "" && !etagMatches(ifMatch, o.ETag) {
		return errPrecondition("If-Match")
	}
	if t, ok := in["IfUnmodifiedSince"].(time.Time); ok && ifMatch == "" && mod.After(t) {
		return errPrecondition("If-Unmodified-Since")
	}
	ifNone := service.Str(in, "IfNoneMatch")
	if ifNone != "" && etagMatches(ifNone, o.ETag) {
		return errNotModified(o.ETag, o.Modified.Format(http.TimeFormat))
	}
	if t, ok := in["IfModifiedSince"].(time.Time); ok && ifNone == "" && !mod.After(t) {
		return errNotModified(o.ETag, o.Modified.Format(http.TimeFormat))
	}
	return nil
}

// objectOutput fills the headers GET and HEAD share.
func objectOutput(in map[string]any, o *objectRecord, b *bucketRecord) map[string]any {
	out := map[string]any{
		"ETag": o.ETag, "LastModified": o.Modified, "ContentLength": o.Size, "AcceptRanges": "bytes",
	}
	ct := o.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	out["ContentType"] = ct
	set := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	set("ContentEncoding", o.Encoding)
	set("ContentDisposition", o.Disposition)
	set("ContentLanguage", o.Language)
	set("CacheControl", o.CacheControl)
	set("Expires", o.Expires)
	set("WebsiteRedirectLocation", o.Redirect)
	set("ObjectLockMode", o.LockMode)
	set("ObjectLockLegalHoldStatus", o.LegalHold)
	if !o.LockUntil.IsZero() {
		out["ObjectLockRetainUntilDate"] = o.LockUntil
	}
	for k, m := range map[string]string{"ResponseContentType": "ContentType", "ResponseContentEncoding": "ContentEncoding",
		"ResponseContentDisposition": "ContentDisposition", "ResponseContentLanguage": "ContentLanguage", "ResponseCacheControl": "CacheControl"} {
		set(m, service.Str(in, k))
	}
	if t, ok := in["ResponseExpires"].(time.Time); ok {
		out["Expires"] = t.UTC().Format(http.TimeFormat)
	}
	if len(o.Meta) > 0 {
		m := make(map[string]any, len(o.Meta))
		for k, v := range o.Meta {
			m[k] = v
		}
		out["Metadata"] = m
	}
	if len(o.Tags) > 0 {
		out["TagCount"] = int64(len(o.Tags))
	}
	objectHeaders(out, o, b, true)
	if o.ChecksumAlg != "" && strings.EqualFold(service.Str(in, "ChecksumMode"), "ENABLED") {
		out[checksumMembers[o.ChecksumAlg]] = o.Checksum
		out["ChecksumType"] = o.ChecksumType
	}
	return out
}

func (s *Service) getObject(req *service.Request) (map[string]any, error) {
	return s.serveObject(req, false)
}

func (s *Service) headObject(req *service.Request) (map[string]any, error) {
	return s.serveObject(req, true)
}

func (s *Service) serveObject(req *service.Request, head bool) (map[string]any, error) {
	bucket, key := service.Str(req.Input, "Bucket"), service.Str(req.Input, "Key")
	b, err := s.lookupBucket(req, bucket)
	if err != nil {
		return nil, err
	}
	if err := s.checkRate(req, bucket, key, false); err != nil {
		return nil, err
	}
	versionID := service.Str(req.Input, "VersionId")
	for attempt := 0; ; attempt++ {
		o, err := s.readObject(req, b, key, versionID)
		if err != nil {
			return nil, err
		}
		if err := checkConditions(req.Input, o); err != nil {
			return nil, err
		}
		out := objectOutput(req.Input, o, b)
		start, n, status := int64(0), o.Size, 0
		if pn, ok := service.Int(req.Input, "PartNumber"); ok {
			start, n, err = partRange(o, pn)
			if err != nil {
				return nil, err
			}
			if len(o.Parts) > 0 {
				out["PartsCount"] = int64(len(o.Parts))
			}
			status = http.StatusPartialContent
			delete(out, checksumMembers[o.ChecksumAlg])
		} else if rs := service.Str(req.Input, "Range"); rs != "" {
			rstart, rn, ok, err := parseRange(rs, o.Size)
			if err != nil {
				return nil, err
			}
			if ok {
				start, n, status = rstart, rn, http.StatusPartialContent
				delete(out, checksumMembers[o.ChecksumAlg])
				delete(out, "ChecksumType")
			}
		}
		if status == http.StatusPartialContent {
			out["ContentRange"] = "bytes " + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(start+n-1, 10) + "/" + strconv.FormatInt(o.Size, 10)
			if n == 0 {
				out["ContentRange"] = "bytes */" + strconv.FormatInt(o.Size, 10)
			}
		}
		out["ContentLength"] = n
		if head {
			return out, nil
		}
		blob, err := s.openBody(o)
		if isNotFound(err) && attempt < 5 {
			continue // replaced between reading the metadata and opening it
		}
		if err != nil {
			return nil, err
		}
		s.countBytes(req, bucket, "BytesDownloaded", n)
		out["Body"] = &protocol.Stream{Body: &blobBody{blob: blob, off: start, n: n}, Length: n, Status: status}
		return out, nil
	}
}

// parseRange parses a Range header against size. ok is false when the
// header is to be ignored (not a single byte range).
func parseRange(spec string, size int64) (start, n int64, ok bool, err error) {
	const p = "bytes="
	if !strings.HasPrefix(spec, p) {
		return 0, 0, false, nil
	}
	r := strings.TrimSpace(spec[len(p):])
	if strings.Contains(r, ",") {
		return 0, 0, false, nil
	}
	first, last, found := strings.Cut(r, "-")
	if !found {
		return 0, 0, false, nil
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		suffix, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || suffix < 0 {
			return 0, 0, false, nil
		}
		if suffix == 0 || size == 0 {
			return 0, 0, false, errInvalidRange(spec, size)
		}
		if suffix > size {
			suffix = size
		}
		return size - suffix, suffix, true, nil
	}
	a, perr := strconv.ParseInt(first, 10, 64)
	if perr != nil || a < 0 {
		return 0, 0, false, nil
	}
	end := size - 1
	if last != "" {
		e, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || e < a {
			return 0, 0, false, nil
		}
		if e < end {
			end = e
		}
	}
	if a >= size {
		return 0, 0, false, errInvalidRange(spec, size)
	}
	return a, end - a + 1, true, nil
}

// partRange returns the byte range of part pn of o.
func partRange(o *objectRecord, pn int64) (int64, int64, error) {
	if len(o.Parts) == 0 {
		if pn == 1 {
			return 0, o.Size, nil
		}
		return 0, 0, errInvalidPartNumber()
	}
	if pn < 1 || pn > int64(len(o.Parts)) {
		return 0, 0, errInvalidPartNumber()
	}
	var off int64
	for i := int64(0); i < pn-1; i++ {
		off += o.Parts[i].Size
	}
	return off, o.Parts[pn-1].Size, nil
}

func errInvalidPartNumber() error {
	return s3err(416, "InvalidPartNumber", "The requested partnumber is not satisfiable")
}

// blobBody streams a range of a blob to the client; over a file it lets
// the kernel send the bytes (sendfile).
type blobBody struct {
	blob   storage.Blob
	off, n int64
	rd     io.Reader
}

func (b *blobBody) Read(p []byte) (int, error) {
	if b.blob == nil {
		return 0, io.EOF
	}
	if b.rd == nil {
		b.rd = io.NewSectionReader(b.blob, b.off, b.n)
	}
	return b.rd.Read(p)
}

// WriteTo implements io.WriterTo so io.Copy hands a file to the
// ResponseWriter's ReadFrom (sendfile).
func (b *blobBody) WriteTo(w io.Writer) (int64, error) {
	if b.blob == nil || b.n == 0 {
		return 0, nil
	}
	if bb, ok := b.blob.(*bytesBlob); ok && b.rd == nil {
		n, err := w.Write(bb.data[b.off : b.off+b.n])
		return int64(n), err
	}
	if f, ok := b.blob.(storage.Filer); ok && b.rd == nil {
		if rf, ok := w.(io.ReaderFrom); ok {
			file := f.File()
			if _, err := file.Seek(b.off, io.SeekStart); err == nil {
				return rf.ReadFrom(&io.LimitedReader{R: file, N: b.n})
			}
		}
	}
	return io.Copy(w, struct{ io.Reader }{b})
}

func (b *blobBody) Close() error {
	if b.blob == nil {
		return nil
	}
	return b.blob.Close()
}
