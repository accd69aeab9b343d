package s3

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/checksum"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

const (
	minPartSize = 5 << 20
	maxParts    = 10000
)

func hexString(b []byte) string { return hex.EncodeToString(b) }

func (s *Service) createMultipartUpload(req *service.Request) (map[string]any, error) {
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
	u := uploadRecord{ID: randomHex(24), Key: key, Initiated: s.clk.Now().UTC()}
	u.Object = objectRecord{Key: key, StorageClass: sc, Tags: tags, Owner: req.Account}
	if sc == "STANDARD" {
		u.Object.StorageClass = ""
	}
	metaFromInput(&u.Object, req.Input)
	sseFromInput(&u.Object, req.Input)
	if a := service.Str(req.Input, "ChecksumAlgorithm"); a != "" {
		alg, ok := checksum.Canonical(a)
		if !ok || alg == checksum.MD5 {
			return nil, errInvalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
		u.ChecksumAlg = alg
		u.ChecksumType = "COMPOSITE"
		if alg == checksum.CRC64NVME {
			u.ChecksumType = "FULL_OBJECT"
		}
	}
	if t := service.Str(req.Input, "ChecksumType"); t != "" {
		if t != "COMPOSITE" && t != "FULL_OBJECT" {
			return nil, errInvalidRequest("Value for x-amz-checksum-type header is invalid.")
		}
		if u.ChecksumAlg == "" {
			return nil, errInvalidRequest("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
		}
		if t == "FULL_OBJECT" && !checksum.IsCRC(u.ChecksumAlg) || t == "COMPOSITE" && u.ChecksumAlg == checksum.CRC64NVME {
			return nil, errInvalidRequest("The " + t + " checksum type cannot be used with the " + strings.ToLower(u.ChecksumAlg) + " checksum algorithm.")
		}
		u.ChecksumType = t
	}
	err = s.kv.Update(func(tx storage.Tx) error {
		return putRec(tx, scopeOf(req).Key(tagUpload, bucket, u.ID), &u)
	})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"Bucket": bucket, "Key": key, "UploadId": u.ID}
	if u.ChecksumAlg != "" {
		out["ChecksumAlgorithm"] = u.ChecksumAlg
		out["ChecksumType"] = u.ChecksumType
	}
	if u.Object.SSE != "" {
		out["ServerSideEncryption"] = u.Object.SSE
	}
	return out, nil
}

func (s *Service) readUpload(req *service.Request, bucket, id string) (*uploadRecord, error) {
	var u uploadRecord
	var found bool
	err := s.kv.View(func(tx storage.Tx) error {
		var err error
		found, err = getRec(tx, scopeOf(req).Key(tagUpload, bucket, id), &u)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errNoSuchUpload(id)
	}
	return &u, nil
}

func partNumber(in map[string]any) (int64, error) {
	n, _ := service.Int(in, "PartNumber")
	if n < 1 || n > maxParts {
		return 0, errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", strconv.FormatInt(n, 10))
	}
	return n, nil
}

// commitPart records a part and drops the part it replaces.
func (s *Service) commitPart(req *service.Request, bucket, id string, p *partRecord) error {
	sc := scopeOf(req)
	var old partRecord
	var hadOld bool
	err := s.kv.Update(func(tx storage.Tx) error {
		ok, err := tx.Get(sc.Key(tagUpload, bucket, id))
		_ = ok
		if isNotFound(err) {
			return errNoSuchUpload(id)
		}
		if err != nil {
			return err
		}
		pk := sc.Key(tagPart, bucket, id, partKey(p.Number))
		hadOld, err = getRec(tx, pk, &old)
		if err != nil {
			return err
		}
		return putRec(tx, pk, p)
	})
	if err != nil {
		return err
	}
	if hadOld && old.Blob != p.Blob {
		s.deleteBlobs([]string{old.Blob})
	}
	return nil
}

func (s *Service) uploadPart(req *service.Request) (map[string]any, error) {
	bucket, id := service.Str(req.Input, "Bucket"), service.Str(req.Input, "UploadId")
	if _, err := s.lookupBucket(req, bucket); err != nil {
		return nil, err
	}
	n, err := partNumber(req.Input)
	if err != nil {
		return nil, err
	}
	up, err := s.readUpload(req, bucket, id)
	if err != nil {
		return nil, err
	}
	if up.Key != service.Str(req.Input, "Key") {
		return nil, errNoSuchUpload(id)
	}
	u, err := openUpload(req)
	if err != nil {
		return nil, err
	}
	if up.ChecksumAlg != "" && u.hr.alg == "" {
		u.hr.alg = up.ChecksumAlg
		u.hr.sum, _ = checksum.New(up.ChecksumAlg)
	}
	if err := s.checkRate(req, bucket, up.Key, true); err != nil {
		return nil, err
	}
	blob, err := s.storeBody(u)
	if err != nil {
		return nil, err
	}
	p := &partRecord{Number: n, Blob: blob, Size: u.hr.n, ETag: u.hr.etag(), Modified: s.clk.Now().UTC(), Alg: u.hr.alg, Checksum: u.hr.checksum()}
	if u.chunked != nil && u.trailer != "" {
		if v := u.chunked.Trailer().Get(checksum.Header(u.trailer)); v != "" {
			p.Checksum = v
		}
	}
	if err := s.commitPart(req, bucket, id, p); err != nil {
		s.deleteBlobs([]string{blob})
		return nil, err
	}
	out := map[string]any{"ETag": p.ETag}
	if p.Alg != "" {
		out[checksumMembers[p.Alg]] = p.Checksum
	}
	if up.Object.SSE != "" {
		out["ServerSideEncryption"] = up.Object.SSE
	}
	return out, nil
}

func (s *Service) uploadPartCopy(req *service.Request) (map[string]any, error) {
	bucket, id := service.Str(req.Input, "Bucket"), service.Str(req.Input, "UploadId")
	if _, err := s.lookupBucket(req, bucket); err != nil {
		return nil, err
	}
	n, err := partNumber(req.Input)
	if err != nil {
		return nil, err
	}
	up, err := s.readUpload(req, bucket, id)
	if err != nil {
		return nil, err
	}
	_, src, err := s.readSource(req)
	if err != nil {
		return nil, err
	}
	off, size := int64(0), src.Size
	if r := service.Str(req.Input, "CopySourceRange"); r != "" {
		a, b, ok := parseCopyRange(r)
		if !ok || a >= src.Size || b >= src.Size {
			return nil, errInvalidArgument("Range specified is not valid for source object of size: "+strconv.FormatInt(src.Size, 10), "x-amz-copy-source-range", r)
		}
		off, size = a, b-a+1
	}
	blob, etag, err := s.copyBlob(src, off, size, true)
	if err != nil {
		return nil, err
	}
	p := &partRecord{Number: n, Blob: blob, Size: size, ETag: etag, Modified: s.clk.Now().UTC()}
	if up.ChecksumAlg != "" {
		p.Alg = up.ChecksumAlg
		p.Checksum, _ = s.bodyChecksum(&objectRecord{Blob: blob}, up.ChecksumAlg)
	}
	if err := s.commitPart(req, bucket, id, p); err != nil {
		s.deleteBlobs([]string{blob})
		return nil, err
	}
	res := map[string]any{"ETag": etag, "LastModified": p.Modified}
	if p.Alg != "" {
		res[checksumMembers[p.Alg]] = p.Checksum
	}
	out := map[string]any{"CopyPartResult": res}
	if src.VersionID != "" {
		out["CopySourceVersionId"] = src.VersionID
	}
	return out, nil
}

func parseCopyRange(r string) (int64, int64, bool) {
	spec, ok := strings.CutPrefix(r, "bytes=")
	if !ok {
		return 0, 0, false
	}
	as, bs, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, false
	}
	a, err1 := strconv.ParseInt(as, 10, 64)
	b, err2 := strconv.ParseInt(bs, 10, 64)
	if err1 != nil || err2 != nil || a < 0 || b < a {
		return 0, 0, false
	}
	return a, b, true
}

func (s *Service) parts(req *service.Request, bucket, id string) ([]partRecord, error) {
	var out []partRecord
	err := s.kv.View(func(tx storage.Tx) error {
		start, end := scopeOf(req).Range(tagPart, bucket, id)
		var ierr error
		err := tx.Scan(start, end, func(k, v []byte) bool {
			var p partRecord
			if ierr = decodeRec(v, &p); ierr != nil {
				return false
			}
			out = append(out, p)
			return true
		})
		if ierr != nil {
			return ierr
		}
		return err
	})
	return out, err
}

func (s *Service) listParts(req *service.Request) (map[string]any, error) {
	bucket, id := service.Str(req.Input, "Bucket"), service.Str(req.Input, "UploadId")
	if _, err := s.lookupBucket(req, bucket); err != nil {
		return nil, err
	}
	up, err := s.readUpload(req, bucket, id)
	if err != nil {
		return nil, err
	}
	parts, err := s.parts(req, bucket, id)
	if err != nil {
		return nil, err
	}
	marker, _ := service.Int(req.Input, "PartNumberMarker")
	max, ok := service.Int(req.Input, "MaxParts")
	if !ok || max > 1000 || max < 0 {
		max = 1000
	}
	var list []any
	truncated := false
	next := int64(0)
	for _, p := range parts {
		if p.Number <= marker {
			continue
		}
		if int64(len(list)) == max {
			truncated = true
			break
		}
		e := map[string]any{"PartNumber": p.Number, "LastModified": p.Modified, "ETag": p.ETag, "Size": p.Size}
		if p.Alg != "" {
			e[checksumMembers[p.Alg]] = p.Checksum
		}
		list = append(list, e)
		next = p.Number
	}
	sc := up.Object.StorageClass
	if sc == "" {
		sc = "STANDARD"
	}
	out := map[string]any{"Bucket": bucket, "Key": up.Key, "UploadId": id, "PartNumberMarker": marker, "NextPartNumberMarker": next,
		"MaxParts": max, "IsTruncated": truncated, "StorageClass": sc,
		"Initiator": map[string]any{"ID": canonicalID(req.Account), "DisplayName": "webfile"}, "Owner": owner(req.Account)}
	if len(list) > 0 {
		out["Parts"] = list
	}
	if up.ChecksumAlg != "" {
		out["ChecksumAlgorithm"] = up.ChecksumAlg
		out["ChecksumType"] = up.ChecksumType
	}
	return out, nil
}

func (s *Service) listMultipartUploads(req *service.Request) (map[string]any, error) {
	bucket := service.Str(req.Input, "Bucket")
	if _, err := s.lookupBucket(req, bucket); err != nil {
		return nil, err
	}
	prefix, delim := service.Str(req.Input, "Prefix"), service.Str(req.Input, "Delimiter")
	keyMarker, idMarker := service.Str(req.Input, "KeyMarker"), service.Str(req.Input, "UploadIdMarker")
	urlEnc, err := checkEncodingType(req.Input)
	if err != nil {
		return nil, err
	}
	max, ok := service.Int(req.Input, "MaxUploads")
	if !ok || max > 1000 || max < 0 {
		max = 1000
	}
	var ups []uploadRecord
	err = s.kv.View(func(tx storage.Tx) error {
		start, end := scopeOf(req).Range(tagUpload, bucket)
		return tx.Scan(start, end, func(k, v []byte) bool {
			var u uploadRecord
			if decodeRec(v, &u) == nil && strings.HasPrefix(u.Key, prefix) {
				ups = append(ups, u)
			}
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(ups, func(i, j int) bool {
		if ups[i].Key != ups[j].Key {
			return ups[i].Key < ups[j].Key
		}
		return ups[i].Initiated.Before(ups[j].Initiated)
	})
	var list, cps []any
	seenCP := map[string]bool{}
	truncated := false
	nextKey, nextID := "", ""
	passed := keyMarker == ""
	for _, u := range ups {
		if !passed {
			if u.Key < keyMarker || (u.Key == keyMarker && (idMarker == "" || u.ID != idMarker)) {
				continue
			}
			if u.Key == keyMarker && u.ID == idMarker {
				passed = true
				continue
			}
			passed = true
		}
		if delim != "" {
			if i := strings.Index(u.Key[len(prefix):], delim); i >= 0 {
				cp := u.Key[:len(prefix)+i+len(delim)]
				if !seenCP[cp] {
					if int64(len(list)+len(cps)) == max {
						truncated = true
						break
					}
					seenCP[cp] = true
					cps = append(cps, map[string]any{"Prefix": encodeKey(cp, urlEnc)})
				}
				continue
			}
		}
		if int64(len(list)+len(cps)) == max {
			truncated = true
			break
		}
		sc := u.Object.StorageClass
		if sc == "" {
			sc = "STANDARD"
		}
		e := map[string]any{"UploadId": u.ID, "Key": encodeKey(u.Key, urlEnc), "Initiated": u.Initiated, "StorageClass": sc,
			"Owner": owner(req.Account), "Initiator": map[string]any{"ID": canonicalID(req.Account), "DisplayName": "webfile"}}
		if u.ChecksumAlg != "" {
			e["ChecksumAlgorithm"] = u.ChecksumAlg
			e["ChecksumType"] = u.ChecksumType
		}
		list = append(list, e)
		nextKey, nextID = u.Key, u.ID
	}
	out := map[string]any{"Bucket": bucket, "KeyMarker": keyMarker, "UploadIdMarker": idMarker, "MaxUploads": max, "IsTruncated": truncated, "Prefix": prefix}
	if truncated {
		out["NextKeyMarker"], out["NextUploadIdMarker"] = encodeKey(nextKey, urlEnc), nextID
	}
	if len(list) > 0 {
		out["Uploads"] = list
	}
	if len(cps) > 0 {
		out["CommonPrefixes"] = cps
	}
	if delim != "" {
		out["Delimiter"] = delim
	}
	if urlEnc {
		out["EncodingType"] = "url"
	}
	return out, nil
}

func (s *Service) abortMultipartUpload(req *service.Request) (map[string]any, error) {
	bucket, id := service.Str(req.Input, "Bucket"), service.Str(req.Input, "UploadId")
	if _, err := s.lookupBucket(req, bucket); err != nil {
		return nil, err
	}
	blobs, err := s.dropUpload(req, bucket, id)
	if err != nil {
		return nil, err
	}
	s.deleteBlobs(blobs)
	return map[string]any{}, nil
}

// dropUpload deletes an upload's records and returns its part blobs.
func (s *Service) dropUpload(req *service.Request, bucket, id string) ([]string, error) {
	sc := scopeOf(req)
	var blobs []string
	err := s.kv.Update(func(tx storage.Tx) error {
		return dropUploadTx(tx, sc, bucket, id, &blobs)
	})
	return blobs, err
}

func dropUploadTx(tx storage.Tx, sc storage.Scope, bucket, id string, blobs *[]string) error {
	uk := sc.Key(tagUpload, bucket, id)
	if _, err := tx.Get(uk); err != nil {
		if isNotFound(err) {
			return errNoSuchUpload(id)
		}
		return err
	}
	start, end := sc.Range(tagPart, bucket, id)
	var keys [][]byte
	if err := tx.Scan(start, end, func(k, v []byte) bool {
		var p partRecord
		if decodeRec(v, &p) == nil {
			*blobs = append(*blobs, p.Blob)
		}
		keys = append(keys, k)
		return true
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return tx.Delete(uk)
}

func (s *Service) completeMultipartUpload(req *service.Request) (map[string]any, error) {
	bucket, key, id := service.Str(req.Input, "Bucket"), service.Str(req.Input, "Key"), service.Str(req.Input, "UploadId")
	if _, err := s.lookupBucket(req, bucket); err != nil {
		return nil, err
	}
	up, err := s.readUpload(req, bucket, id)
	if err != nil {
		return nil, err
	}
	if up.Key != key {
		return nil, errNoSuchUpload(id)
	}
	mu, _ := req.Input["MultipartUpload"].(map[string]any)
	asked := listOf(mu["Parts"])
	if len(asked) == 0 {
		return nil, errMalformedXML()
	}
	stored, err := s.parts(req, bucket, id)
	if err != nil {
		return nil, err
	}
	byNum := make(map[int64]*partRecord, len(stored))
	for i := range stored {
		byNum[stored[i].Number] = &stored[i]
	}
	invalidPart := func() error {
		return s3err(400, "InvalidPart", "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
	}
	var chosen []*partRecord
	last := int64(0)
	for _, a := range asked {
		n, _ := service.Int(a, "PartNumber")
		if n <= last {
			return nil, s3err(400, "InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.")
		}
		last = n
		p := byNum[n]
		if p == nil || trimQuotes(service.Str(a, "ETag")) != trimQuotes(p.ETag) {
			return nil, invalidPart()
		}
		if up.ChecksumAlg != "" && up.ChecksumType == "COMPOSITE" {
			if v := service.Str(a, checksumMembers[up.ChecksumAlg]); v != "" && v != p.Checksum {
				return nil, invalidPart()
			}
		}
		chosen = append(chosen, p)
	}
	for i, p := range chosen {
		if i < len(chosen)-1 && p.Size < minPartSize {
			return nil, s3err(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.",
				"ProposedSize", strconv.FormatInt(p.Size, 10), "MinSizeAllowed", strconv.Itoa(minPartSize), "PartNumber", strconv.FormatInt(p.Number, 10), "ETag", p.ETag)
		}
	}
	h := md5.New()
	var total int64
	o := up.Object
	o.Parts = make([]partInfo, len(chosen))
	var sums []string
	var fparts []checksum.Part
	for i, p := range chosen {
		b, _ := hex.DecodeString(trimQuotes(p.ETag))
		h.Write(b)
		total += p.Size
		o.Parts[i] = partInfo{Size: p.Size, ETag: p.ETag, Checksum: p.Checksum}
		sums = append(sums, p.Checksum)
		fparts = append(fparts, checksum.Part{Checksum: p.Checksum, Size: p.Size})
	}
	if ms, ok := service.Int(req.Input, "MpuObjectSize"); ok && ms != total {
		return nil, errInvalidRequest("The provided 'x-amz-mp-object-size' header value " + strconv.FormatInt(ms, 10) + " does not match what was computed: " + strconv.FormatInt(total, 10))
	}
	o.ETag = `"` + hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(chosen)) + `"`
	o.Size = total
	if up.ChecksumAlg != "" {
		o.ChecksumAlg, o.ChecksumType = up.ChecksumAlg, up.ChecksumType
		var sum string
		var cerr error
		if up.ChecksumType == "FULL_OBJECT" {
			sum, cerr = checksum.FullObject(up.ChecksumAlg, fparts)
		} else {
			sum, cerr = checksum.Composite(up.ChecksumAlg, sums)
		}
		if cerr != nil {
			return nil, cerr
		}
		o.Checksum = sum
		if v := service.Str(req.Input, checksumMembers[up.ChecksumAlg]); v != "" && up.ChecksumType == "FULL_OBJECT" && v != sum {
			return nil, checksum.Mismatch(up.ChecksumAlg)
		}
	}
	blob := newBlobKey()
	if _, err := s.blobs.Put(blob, &concatReader{s: s, parts: chosen}); err != nil {
		return nil, err
	}
	o.Blob = blob
	cond := writeCond{ifMatch: service.Str(req.Input, "IfMatch"), ifNoneMatch: service.Str(req.Input, "IfNoneMatch")}
	// Commit the object and retire the upload in one transaction.
	b, garbage, err := s.commitCompleted(req, bucket, id, &o, cond)
	if err != nil {
		s.deleteBlobs([]string{blob})
		return nil, err
	}
	s.deleteBlobs(garbage)
	s.notify(req, b, "ObjectCreated:CompleteMultipartUpload", &o)
	out := map[string]any{"Bucket": bucket, "Key": key, "ETag": o.ETag, "Location": "/" + bucket + "/" + key}
	objectHeaders(out, &o, b, false)
	if o.ChecksumAlg != "" {
		out[checksumMembers[o.ChecksumAlg]] = o.Checksum
		out["ChecksumType"] = o.ChecksumType
	}
	return out, nil
}

func (s *Service) commitCompleted(req *service.Request, bucket, id string, o *objectRecord, cond writeCond) (*bucketRecord, []string, error) {
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
		var parts []string
		if err := dropUploadTx(tx, sc, bucket, id, &parts); err != nil {
			return err
		}
		okey := sc.Key(tagObject, bucket, o.Key)
		var cur objectRecord
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
		g, err := s.retire(tx, sc, &b, bucket, curp, o)
		if err != nil {
			return err
		}
		garbage = append(parts, g...)
		return putRec(tx, okey, o)
	})
	return &b, garbage, err
}

// concatReader streams the parts of a multipart upload, one blob after the
// other; written to a file, each part is copied by the kernel.
type concatReader struct {
	s     *Service
	parts []*partRecord
	i     int
	cur   storage.Blob
}

func (c *concatReader) Read(p []byte) (int, error) {
	for {
		if c.cur == nil {
			if c.i == len(c.parts) {
				return 0, io.EOF
			}
			b, err := c.s.blobs.Open(c.parts[c.i].Blob)
			if err != nil {
				return 0, err
			}
			c.cur = b
			c.i++
		}
		n, err := c.cur.Read(p)
		if err == io.EOF {
			c.cur.Close()
			c.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (c *concatReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for _, p := range c.parts {
		b, err := c.s.blobs.Open(p.Blob)
		if err != nil {
			return total, err
		}
		var n int64
		if f, ok := b.(storage.Filer); ok {
			n, err = io.Copy(w, f.File())
		} else {
			n, err = io.Copy(w, b)
		}
		b.Close()
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
