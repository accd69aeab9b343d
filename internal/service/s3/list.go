package s3

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// walkKeys visits the latest version of each key of bucket under prefix,
// strictly after `after`, in UTF-8 binary order. With a delimiter, keys
// that share a common prefix are reported once, as cp, and skipped; a
// common prefix whose keys are all delete markers is not reported when
// skipMarkers is set. When afterIsCP is set and after falls inside a
// common prefix, that whole prefix is skipped (it was already reported).
func walkKeys(tx storage.Tx, sc storage.Scope, bucket, prefix, delim, after string, afterIsCP, skipMarkers bool,
	fn func(key string, rec *objectRecord, raw []byte, cp string) bool) error {
	start, end := sc.PrefixRange([]string{tagObject, bucket}, prefix)
	if after != "" {
		from := after
		skipPrefix := false
		if afterIsCP && delim != "" && strings.HasPrefix(after, prefix) {
			if i := strings.Index(after[len(prefix):], delim); i >= 0 {
				from = after[:len(prefix)+i+len(delim)]
				skipPrefix = true
			}
		}
		var s []byte
		if skipPrefix {
			_, s = sc.PrefixRange([]string{tagObject, bucket}, from)
		} else {
			s = append(sc.Key(tagObject, bucket, from), 0)
		}
		if s == nil {
			return nil
		}
		if bytes.Compare(s, start) > 0 {
			start = s
		}
	}
	lastCP := ""
	for {
		var restart []byte
		stop := false
		var ierr error
		err := tx.Scan(start, end, func(k, v []byte) bool {
			parts, err := sc.Parts(k)
			if err != nil || len(parts) != 3 {
				return true
			}
			key := parts[2]
			var rec objectRecord
			if ierr = decodeRec(v, &rec); ierr != nil {
				return false
			}
			if delim != "" {
				if i := strings.Index(key[len(prefix):], delim); i >= 0 {
					cp := key[:len(prefix)+i+len(delim)]
					if skipMarkers && rec.DeleteMarker {
						return true
					}
					if cp != lastCP {
						lastCP = cp
						if !fn("", nil, nil, cp) {
							stop = true
							return false
						}
					}
					_, restart = sc.PrefixRange([]string{tagObject, bucket}, cp)
					return false
				}
			}
			if skipMarkers && rec.DeleteMarker {
				return true
			}
			if !fn(key, &rec, v, "") {
				stop = true
				return false
			}
			return true
		})
		if ierr != nil {
			return ierr
		}
		if err != nil || stop || restart == nil {
			return err
		}
		start = restart
	}
}

func encodeKey(s string, urlEnc bool) string {
	if !urlEnc {
		return s
	}
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}

func objectEntry(o *objectRecord, urlEnc bool, fetchOwner bool) map[string]any {
	sc := o.StorageClass
	if sc == "" {
		sc = "STANDARD"
	}
	m := map[string]any{"Key": encodeKey(o.Key, urlEnc), "LastModified": o.Modified, "ETag": o.ETag, "Size": o.Size, "StorageClass": sc}
	if o.ChecksumAlg != "" {
		m["ChecksumAlgorithm"] = []any{o.ChecksumAlg}
		m["ChecksumType"] = o.ChecksumType
	}
	if fetchOwner {
		m["Owner"] = owner(o.Owner)
	}
	return m
}

func maxKeys(in map[string]any) (int, error) {
	n, ok := service.Int(in, "MaxKeys")
	if !ok {
		return 1000, nil
	}
	if n < 0 {
		return 0, errInvalidArgument("Argument maxKeys must be an integer between 0 and 2147483647", "maxKeys", "")
	}
	if n > 1000 {
		n = 1000
	}
	return int(n), nil
}

func checkEncodingType(in map[string]any) (bool, error) {
	switch e := service.Str(in, "EncodingType"); e {
	case "":
		return false, nil
	case "url":
		return true, nil
	default:
		return false, errInvalidArgument("Invalid Encoding Method specified in Request", "encoding-type", e)
	}
}

type listPage struct {
	contents  []any
	prefixes  []any
	truncated bool
	last      string // last key or common prefix returned
}

func (s *Service) listPage(req *service.Request, bucket, prefix, delim, after string, afterIsCP bool, max int, urlEnc, fetchOwner bool) (*listPage, error) {
	p := &listPage{}
	sc := scopeOf(req)
	err := s.kv.View(func(tx storage.Tx) error {
		n := 0
		return walkKeys(tx, sc, bucket, prefix, delim, after, afterIsCP, true, func(key string, rec *objectRecord, raw []byte, cp string) bool {
			if n == max {
				p.truncated = max > 0
				return false
			}
			n++
			if cp != "" {
				p.prefixes = append(p.prefixes, map[string]any{"Prefix": encodeKey(cp, urlEnc)})
				p.last = cp
				return true
			}
			p.contents = append(p.contents, objectEntry(rec, urlEnc, fetchOwner))
			p.last = key
			return true
		})
	})
	return p, err
}

func (s *Service) listObjectsV2(req *service.Request) (map[string]any, error) {
	bucket := service.Str(req.Input, "Bucket")
	if _, err := s.lookupBucket(req, bucket); err != nil {
		return nil, err
	}
	if err := s.checkRate(req, bucket, service.Str(req.Input, "Prefix"), false); err != nil {
		return nil, err
	}
	urlEnc, err := checkEncodingType(req.Input)
	if err != nil {
		return nil, err
	}
	max, err := maxKeys(req.Input)
	if err != nil {
		return nil, err
	}
	prefix, delim := service.Str(req.Input, "Prefix"), service.Str(req.Input, "Delimiter")
	after, afterIsCP := service.Str(req.Input, "StartAfter"), false
	token := service.Str(req.Input, "ContinuationToken")
	if _, has := req.Input["ContinuationToken"]; has {
		b, derr := base64.RawURLEncoding.DecodeString(token)
		if derr != nil || len(b) == 0 {
			return nil, errInvalidArgument("The continuation token provided is incorrect", "continuation-token", token)
		}
		after, afterIsCP = string(b[1:]), true
	}
	p, err := s.listPage(req, bucket, prefix, delim, after, afterIsCP, max, urlEnc, service.Bool(req.Input, "FetchOwner"))
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"Name": bucket, "Prefix": encodeKey(prefix, urlEnc), "MaxKeys": int64(max), "KeyCount": int64(len(p.contents) + len(p.prefixes)),
		"IsTruncated": p.truncated,
	}
	if len(p.contents) > 0 {
		out["Contents"] = p.contents
	}
	if len(p.prefixes) > 0 {
		out["CommonPrefixes"] = p.prefixes
	}
	if delim != "" {
		out["Delimiter"] = encodeKey(delim, urlEnc)
	}
	if urlEnc {
		out["EncodingType"] = "url"
	}
	if token != "" {
		out["ContinuationToken"] = token
	}
	if sa := service.Str(req.Input, "StartAfter"); sa != "" {
		out["StartAfter"] = encodeKey(sa, urlEnc)
	}
	if p.truncated {
		out["NextContinuationToken"] = base64.RawURLEncoding.EncodeToString([]byte("k" + p.last))
	}
	return out, nil
}

func (s *Service) listObjects(req *service.Request) (map[string]any, error) {
	bucket := service.Str(req.Input, "Bucket")
	if _, err := s.lookupBucket(req, bucket); err != nil {
		return nil, err
	}
	if err := s.checkRate(req, bucket, service.Str(req.Input, "Prefix"), false); err != nil {
		return nil, err
	}
	urlEnc, err := checkEncodingType(req.Input)
	if err != nil {
		return nil, err
	}
	max, err := maxKeys(req.Input)
	if err != nil {
		return nil, err
	}
	prefix, delim, marker := service.Str(req.Input, "Prefix"), service.Str(req.Input, "Delimiter"), service.Str(req.Input, "Marker")
	p, err := s.listPage(req, bucket, prefix, delim, marker, true, max, urlEnc, true)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"Name": bucket, "Prefix": encodeKey(prefix, urlEnc), "Marker": encodeKey(marker, urlEnc), "MaxKeys": int64(max), "IsTruncated": p.truncated}
	if len(p.contents) > 0 {
		out["Contents"] = p.contents
	}
	if len(p.prefixes) > 0 {
		out["CommonPrefixes"] = p.prefixes
	}
	if delim != "" {
		out["Delimiter"] = encodeKey(delim, urlEnc)
		if p.truncated {
			out["NextMarker"] = encodeKey(p.last, urlEnc)
		}
	}
	if urlEnc {
		out["EncodingType"] = "url"
	}
	return out, nil
}

func (s *Service) listObjectVersions(req *service.Request) (map[string]any, error) {
	bucket := service.Str(req.Input, "Bucket")
	if _, err := s.lookupBucket(req, bucket); err != nil {
		return nil, err
	}
	urlEnc, err := checkEncodingType(req.Input)
	if err != nil {
		return nil, err
	}
	max, err := maxKeys(req.Input)
	if err != nil {
		return nil, err
	}
	prefix, delim := service.Str(req.Input, "Prefix"), service.Str(req.Input, "Delimiter")
	keyMarker, vidMarker := service.Str(req.Input, "KeyMarker"), service.Str(req.Input, "VersionIdMarker")
	if vidMarker != "" && keyMarker == "" {
		return nil, errInvalidArgument("A version-id marker cannot be specified without a key marker.", "version-id-marker", vidMarker)
	}
	sc := scopeOf(req)
	var versions, markers, prefixes []any
	truncated := false
	nextKey, nextVid := "", ""
	n := 0
	emit := func(rec *objectRecord, latest bool) bool {
		if n == max {
			truncated = max > 0
			return false
		}
		n++
		nextKey, nextVid = rec.Key, rec.wireVersion()
		e := map[string]any{"Key": encodeKey(rec.Key, urlEnc), "VersionId": rec.wireVersion(), "IsLatest": latest, "LastModified": rec.Modified, "Owner": owner(rec.Owner)}
		if rec.DeleteMarker {
			markers = append(markers, e)
			return true
		}
		sc := rec.StorageClass
		if sc == "" {
			sc = "STANDARD"
		}
		e["ETag"], e["Size"], e["StorageClass"] = rec.ETag, rec.Size, sc
		if rec.ChecksumAlg != "" {
			e["ChecksumAlgorithm"] = []any{rec.ChecksumAlg}
			e["ChecksumType"] = rec.ChecksumType
		}
		versions = append(versions, e)
		return true
	}
	err = s.kv.View(func(tx storage.Tx) error {
		// versionsOf emits a key's versions, newest first, after vid.
		versionsOf := func(rec *objectRecord, afterVid string) bool {
			skipping := afterVid != ""
			if !skipping {
				if !emit(rec, true) {
					return false
				}
			} else if rec.wireVersion() == afterVid {
				skipping = false
			}
			start, end := sc.Range(tagVersion, bucket, rec.Key)
			ok := true
			tx.Scan(start, end, func(k, v []byte) bool {
				var r objectRecord
				if decodeRec(v, &r) != nil {
					return true
				}
				if skipping {
					if r.wireVersion() == afterVid {
						skipping = false
					}
					return true
				}
				if !emit(&r, false) {
					ok = false
					return false
				}
				return true
			})
			return ok
		}
		after := keyMarker
		if vidMarker != "" {
			var rec objectRecord
			found, err := getRec(tx, sc.Key(tagObject, bucket, keyMarker), &rec)
			if err != nil {
				return err
			}
			if found && !versionsOf(&rec, vidMarker) {
				return nil
			}
		}
		return walkKeys(tx, sc, bucket, prefix, delim, after, keyMarker != "", false, func(key string, rec *objectRecord, raw []byte, cp string) bool {
			if cp != "" {
				if n == max {
					truncated = max > 0
					return false
				}
				n++
				prefixes = append(prefixes, map[string]any{"Prefix": encodeKey(cp, urlEnc)})
				nextKey, nextVid = cp, ""
				return true
			}
			return versionsOf(rec, "")
		})
	})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"Name": bucket, "Prefix": encodeKey(prefix, urlEnc), "KeyMarker": encodeKey(keyMarker, urlEnc), "VersionIdMarker": vidMarker,
		"MaxKeys": int64(max), "IsTruncated": truncated}
	if len(versions) > 0 {
		out["Versions"] = versions
	}
	if len(markers) > 0 {
		out["DeleteMarkers"] = markers
	}
	if len(prefixes) > 0 {
		out["CommonPrefixes"] = prefixes
	}
	if delim != "" {
		out["Delimiter"] = encodeKey(delim, urlEnc)
	}
	if urlEnc {
		out["EncodingType"] = "url"
	}
	if truncated {
		out["NextKeyMarker"] = encodeKey(nextKey, urlEnc)
		if nextVid != "" {
			out["NextVersionIdMarker"] = nextVid
		}
	}
	return out, nil
}
