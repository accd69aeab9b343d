package s3

import (
	"crypto/md5"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/checksum"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// parseCopySource splits x-amz-copy-source ("/bucket/key?versionId=v",
// URL-encoded) into its parts.
func parseCopySource(src string) (bucket, key, versionID string, err error) {
	raw, q, _ := strings.Cut(src, "?")
	if q != "" {
		vals, perr := url.ParseQuery(q)
		if perr != nil {
			return "", "", "", errInvalidArgument("Invalid copy source encoding", "x-amz-copy-source", src)
		}
		versionID = vals.Get("versionId")
	}
	dec, perr := url.PathUnescape(raw)
	if perr != nil {
		return "", "", "", errInvalidArgument("Invalid copy source encoding", "x-amz-copy-source", src)
	}
	dec = strings.TrimPrefix(dec, "/")
	bucket, key, ok := strings.Cut(dec, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", "", errInvalidArgument("Invalid copy source object key", "x-amz-copy-source", src)
	}
	return bucket, key, versionID, nil
}

// copySourceConditions checks the x-amz-copy-source-if-* headers.
func copySourceConditions(in map[string]any, o *objectRecord) error {
	mod := o.Modified.Truncate(time.Second)
	ifMatch := service.Str(in, "CopySourceIfMatch")
	if ifMatch != "" && !etagMatches(ifMatch, o.ETag) {
		return errPrecondition("x-amz-copy-source-If-Match")
	}
	if t, ok := in["CopySourceIfUnmodifiedSince"].(time.Time); ok && ifMatch == "" && mod.After(t) {
		return errPrecondition("x-amz-copy-source-If-Unmodified-Since")
	}
	ifNone := service.Str(in, "CopySourceIfNoneMatch")
	if ifNone != "" && etagMatches(ifNone, o.ETag) {
		return errPrecondition("x-amz-copy-source-If-None-Match")
	}
	if t, ok := in["CopySourceIfModifiedSince"].(time.Time); ok && ifNone == "" && !mod.After(t) {
		return errPrecondition("x-amz-copy-source-If-Modified-Since")
	}
	return nil
}

// readSource resolves and reads a copy source the caller may read.
func (s *Service) readSource(req *service.Request) (*bucketRecord, *objectRecord, error) {
	sb, sk, sv, err := parseCopySource(service.Str(req.Input, "CopySource"))
	if err != nil {
		return nil, nil, err
	}
	b, err := s.lookupBucket(req, sb)
	if err != nil {
		return nil, nil, err
	}
	o, err := s.readObject(req, b, sk, sv)
	if err != nil {
		return nil, nil, err
	}
	if err := copySourceConditions(req.Input, o); err != nil {
		return nil, nil, err
	}
	return b, o, nil
}

// copyBlob copies [off, off+n) of an object's body into a new blob,
// computing its MD5 when want is set; a whole-blob copy of a file is done
// by the kernel.
func (s *Service) copyBlob(src *objectRecord, off, n int64, wantMD5 bool) (key, etag string, err error) {
	key = newBlobKey()
	var r io.Reader
	blob, err := s.openBody(src)
	if err != nil {
		return "", "", err
	}
	defer blob.Close()
	if off == 0 && n == blob.Size() && !wantMD5 {
		r = blob
	} else {
		r = io.NewSectionReader(blob, off, n)
	}
	h := md5.New()
	if wantMD5 {
		r = io.TeeReader(r, h)
	}
	if _, err := s.blobs.Put(key, r); err != nil {
		return "", "", err
	}
	if wantMD5 {
		etag = `"` + hexString(h.Sum(nil)) + `"`
	}
	return key, etag, nil
}

func (s *Service) copyObject(req *service.Request) (map[string]any, error) {
	bucket, key := service.Str(req.Input, "Bucket"), service.Str(req.Input, "Key")
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if _, err := s.lookupBucket(req, bucket); err != nil {
		return nil, err
	}
	sb, src, err := s.readSource(req)
	if err != nil {
		return nil, err
	}
	directive := service.Str(req.Input, "MetadataDirective")
	if directive != "" && directive != "COPY" && directive != "REPLACE" {
		return nil, errInvalidArgument("Unknown metadata directive.", "x-amz-metadata-directive", directive)
	}
	tagDirective := service.Str(req.Input, "TaggingDirective")
	sc := service.Str(req.Input, "StorageClass")
	if !validStorageClass(sc) {
		return nil, s3err(400, "InvalidStorageClass", "The storage class you specified is not valid", "StorageClassRequested", sc)
	}
	if sb.Name == bucket && src.Key == key && directive != "REPLACE" && sc == "" && service.Str(req.Input, "ServerSideEncryption") == "" &&
		service.Str(req.Input, "WebsiteRedirectLocation") == "" && service.Str(req.Input, "SSECustomerAlgorithm") == "" {
		return nil, errInvalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	o := *src
	o.Key, o.VersionID, o.Order, o.DeleteMarker = key, "", "", false
	o.Owner = req.Account
	if directive == "REPLACE" {
		metaFromInput(&o, req.Input)
	}
	sseFromInput(&o, req.Input)
	o.StorageClass = sc
	if sc == "STANDARD" {
		o.StorageClass = ""
	}
	if tagDirective == "REPLACE" {
		tags, err := parseTagging(service.Str(req.Input, "Tagging"))
		if err != nil {
			return nil, err
		}
		o.Tags = tags
	}
	multipart := len(src.Parts) > 0
	blob, etag := "", ""
	if src.Blob != "" {
		blob, etag, err = s.copyBlob(src, 0, src.Size, multipart)
		if err != nil {
			return nil, err
		}
	}
	o.Blob = blob
	if multipart {
		o.ETag, o.Parts = etag, nil
		if o.ChecksumType != "FULL_OBJECT" {
			o.ChecksumAlg, o.Checksum, o.ChecksumType = "", "", ""
		}
	}
	if alg := service.Str(req.Input, "ChecksumAlgorithm"); alg != "" && o.ChecksumAlg == "" {
		if sum, err := s.bodyChecksum(&o, alg); err == nil {
			o.ChecksumAlg, o.Checksum, o.ChecksumType = strings.ToUpper(alg), sum, "FULL_OBJECT"
		}
	}
	cond := writeCond{ifMatch: service.Str(req.Input, "IfMatch"), ifNoneMatch: service.Str(req.Input, "IfNoneMatch")}
	b, err := s.commitObject(req, bucket, &o, cond)
	if err != nil {
		s.deleteBlobs([]string{blob})
		return nil, err
	}
	s.notify(req, b, "ObjectCreated:Copy", &o)
	result := map[string]any{"ETag": o.ETag, "LastModified": o.Modified}
	if o.ChecksumAlg != "" {
		result[checksumMembers[o.ChecksumAlg]] = o.Checksum
		result["ChecksumType"] = o.ChecksumType
	}
	out := map[string]any{"CopyObjectResult": result}
	objectHeaders(out, &o, b, false)
	if src.VersionID != "" {
		out["CopySourceVersionId"] = src.VersionID
	}
	return out, nil
}

// bodyChecksum computes a checksum of an object's body.
func (s *Service) bodyChecksum(o *objectRecord, alg string) (string, error) {
	h, err := checksum.New(alg)
	if err != nil {
		return "", err
	}
	blob, err := s.openBody(o)
	if err != nil {
		return "", err
	}
	defer blob.Close()
	if _, err := io.Copy(h, blob); err != nil {
		return "", err
	}
	return checksum.Encode(h.Sum(nil)), nil
}

// updateObject rewrites the metadata of one version in place.
func (s *Service) updateObject(req *service.Request, bucket, key, versionID string, fn func(o *objectRecord) error) (*objectRecord, error) {
	sc := scopeOf(req)
	var out objectRecord
	err := s.kv.Update(func(tx storage.Tx) error {
		var b bucketRecord
		found, err := getRec(tx, sc.Key(tagBucket, bucket), &b)
		if err != nil {
			return err
		}
		if !found {
			return errNoSuchBucket(bucket)
		}
		if b.Account != req.Account {
			return errAccessDenied()
		}
		k := sc.Key(tagObject, bucket, key)
		found, err = getRec(tx, k, &out)
		if err != nil {
			return err
		}
		if versionID != "" && (!found || out.wireVersion() != versionID) {
			found = false
			if versionID == "null" {
				start, end := sc.Range(tagVersion, bucket, key)
				tx.Scan(start, end, func(kk, v []byte) bool {
					var r objectRecord
					if decodeRec(v, &r) == nil && r.VersionID == "" {
						out, k, found = r, kk, true
						return false
					}
					return true
				})
			} else if order, ok := orderOfVersion(versionID); ok {
				k = sc.Key(tagVersion, bucket, key, order)
				found, err = getRec(tx, k, &out)
				if err != nil {
					return err
				}
				found = found && out.VersionID == versionID
			} else {
				return errInvalidVersion(versionID)
			}
			if !found {
				return errNoSuchVersion(key, versionID)
			}
		}
		if !found || (out.DeleteMarker && versionID == "") {
			return errNoSuchKey(key)
		}
		if out.DeleteMarker {
			return errMethodNotAllowed(req.HTTP.Method)
		}
		if err := fn(&out); err != nil {
			return err
		}
		return putRec(tx, k, &out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func tagsFromInput(in map[string]any) ([]tag, error) {
	t, _ := in["Tagging"].(map[string]any)
	var tags []tag
	for _, m := range listOf(t["TagSet"]) {
		tags = append(tags, tag{Key: service.Str(m, "Key"), Value: service.Str(m, "Value")})
	}
	return tags, validateTags(tags)
}

func tagSet(tags []tag) []any {
	out := make([]any, 0, len(tags))
	for _, t := range tags {
		out = append(out, map[string]any{"Key": t.Key, "Value": t.Value})
	}
	return out
}

func (s *Service) putObjectTagging(req *service.Request) (map[string]any, error) {
	tags, err := tagsFromInput(req.Input)
	if err != nil {
		return nil, err
	}
	o, err := s.updateObject(req, service.Str(req.Input, "Bucket"), service.Str(req.Input, "Key"), service.Str(req.Input, "VersionId"),
		func(o *objectRecord) error { o.Tags = tags; return nil })
	if err != nil {
		return nil, err
	}
	return versionOut(o), nil
}

func versionOut(o *objectRecord) map[string]any {
	if o.VersionID == "" {
		return map[string]any{}
	}
	return map[string]any{"VersionId": o.VersionID}
}

func (s *Service) deleteObjectTagging(req *service.Request) (map[string]any, error) {
	o, err := s.updateObject(req, service.Str(req.Input, "Bucket"), service.Str(req.Input, "Key"), service.Str(req.Input, "VersionId"),
		func(o *objectRecord) error { o.Tags = nil; return nil })
	if err != nil {
		return nil, err
	}
	return versionOut(o), nil
}

func (s *Service) getObjectTagging(req *service.Request) (map[string]any, error) {
	b, err := s.lookupBucket(req, service.Str(req.Input, "Bucket"))
	if err != nil {
		return nil, err
	}
	o, err := s.readObject(req, b, service.Str(req.Input, "Key"), service.Str(req.Input, "VersionId"))
	if err != nil {
		return nil, err
	}
	out := versionOut(o)
	out["TagSet"] = tagSet(o.Tags)
	return out, nil
}

func fullControl(account string) map[string]any {
	return map[string]any{
		"Owner": owner(account),
		"Grants": []any{map[string]any{
			"Grantee":    map[string]any{"Type": "CanonicalUser", "ID": canonicalID(account), "DisplayName": "webfile"},
			"Permission": "FULL_CONTROL",
		}},
	}
}

func (s *Service) getObjectACL(req *service.Request) (map[string]any, error) {
	b, err := s.lookupBucket(req, service.Str(req.Input, "Bucket"))
	if err != nil {
		return nil, err
	}
	if _, err := s.readObject(req, b, service.Str(req.Input, "Key"), service.Str(req.Input, "VersionId")); err != nil {
		return nil, err
	}
	return fullControl(b.Account), nil
}

func (s *Service) putObjectACL(req *service.Request) (map[string]any, error) {
	b, err := s.lookupBucket(req, service.Str(req.Input, "Bucket"))
	if err != nil {
		return nil, err
	}
	policy, _ := req.Input["AccessControlPolicy"].(map[string]any)
	if b.Ownership == "BucketOwnerEnforced" && !ownerOnlyACL(service.Str(req.Input, "ACL"), policy, b.Account) {
		return nil, s3err(400, "AccessControlListNotSupported", "The bucket does not allow ACLs")
	}
	if _, err := s.readObject(req, b, service.Str(req.Input, "Key"), service.Str(req.Input, "VersionId")); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) getObjectAttributes(req *service.Request) (map[string]any, error) {
	b, err := s.lookupBucket(req, service.Str(req.Input, "Bucket"))
	if err != nil {
		return nil, err
	}
	o, err := s.readObject(req, b, service.Str(req.Input, "Key"), service.Str(req.Input, "VersionId"))
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, a := range service.Strings(req.Input, "ObjectAttributes") {
		want[a] = true
	}
	out := map[string]any{"LastModified": o.Modified}
	if o.VersionID != "" {
		out["VersionId"] = o.VersionID
	}
	if want["ETag"] {
		out["ETag"] = trimQuotes(o.ETag)
	}
	if want["ObjectSize"] {
		out["ObjectSize"] = o.Size
	}
	if want["StorageClass"] {
		sc := o.StorageClass
		if sc == "" {
			sc = "STANDARD"
		}
		out["StorageClass"] = sc
	}
	if want["Checksum"] && o.ChecksumAlg != "" {
		out["Checksum"] = map[string]any{checksumMembers[o.ChecksumAlg]: o.Checksum, "ChecksumType": o.ChecksumType}
	}
	if want["ObjectParts"] && len(o.Parts) > 0 {
		marker, _ := service.Int(req.Input, "PartNumberMarker")
		max, ok := service.Int(req.Input, "MaxParts")
		if !ok || max > 1000 {
			max = 1000
		}
		var parts []any
		next := int64(0)
		for i, p := range o.Parts {
			n := int64(i + 1)
			if n <= marker {
				continue
			}
			if int64(len(parts)) == max {
				break
			}
			pm := map[string]any{"PartNumber": n, "Size": p.Size}
			if o.ChecksumAlg != "" && p.Checksum != "" {
				pm[checksumMembers[o.ChecksumAlg]] = p.Checksum
			}
			parts = append(parts, pm)
			next = n
		}
		op := map[string]any{"TotalPartsCount": int64(len(o.Parts)), "PartNumberMarker": marker, "NextPartNumberMarker": next,
			"MaxParts": max, "IsTruncated": next < int64(len(o.Parts)), "Parts": orEmpty(parts)}
		out["ObjectParts"] = op
	}
	return out, nil
}
