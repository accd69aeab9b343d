package s3

import (
	"net/http"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// deleteResult is what deleting one key or version did.
type deleteResult struct {
	versionID    string // version deleted or delete marker created
	deleteMarker bool   // a delete marker was created or deleted
	event        string
	removed      *objectRecord
}

// deleteOne deletes key (or one version of it) following the bucket's
// versioning state.
func (s *Service) deleteOne(req *service.Request, bucket, key, versionID string, ifMatch string) (*bucketRecord, deleteResult, error) {
	var res deleteResult
	b, garbage, err := s.deleteBatch(req, bucket, func(del func(key, versionID, ifMatch string, res *deleteResult) error) error {
		return del(key, versionID, ifMatch, &res)
	})
	if err != nil {
		return nil, res, err
	}
	s.deleteBlobs(garbage)
	return b, res, nil
}

// deleteBatch runs fn in one transaction over bucket; fn deletes keys with
// the function it is given. It returns the bucket and the blobs to delete
// once the transaction has committed.
func (s *Service) deleteBatch(req *service.Request, bucket string, fn func(del func(key, versionID, ifMatch string, res *deleteResult) error) error) (*bucketRecord, []string, error) {
	sc := scopeOf(req)
	var b bucketRecord
	var garbage []string
	err := s.kv.Update(func(tx storage.Tx) error {
		garbage = garbage[:0]
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
		return fn(func(key, versionID, ifMatch string, res *deleteResult) error {
			*res = deleteResult{}
			return s.deleteTx(tx, sc, &b, req.Account, key, versionID, ifMatch, res, &garbage)
		})
	})
	if err != nil {
		return nil, nil, err
	}
	return &b, garbage, nil
}

// deleteTx deletes one key or version inside a transaction. Client errors
// (a failed If-Match, an invalid version id) are returned before anything
// is written.
func (s *Service) deleteTx(tx storage.Tx, sc storage.Scope, b *bucketRecord, account, key, versionID, ifMatch string, res *deleteResult, garbage *[]string) error {
	bucket := b.Name
	okey := sc.Key(tagObject, bucket, key)
	var cur objectRecord
	has, err := getRec(tx, okey, &cur)
	if err != nil {
		return err
	}
	if ifMatch != "" {
		if !has || cur.DeleteMarker {
			return errNoSuchKey(key)
		}
		if !etagMatches(ifMatch, cur.ETag) {
			return errPrecondition("If-Match")
		}
	}
	if versionID != "" {
		return s.deleteVersion(tx, sc, bucket, key, versionID, has, &cur, res, garbage)
	}
	if b.Versioning == "" {
		if has {
			*garbage = append(*garbage, cur.Blob)
			res.removed = &cur
			res.event = "ObjectRemoved:Delete"
			return tx.Delete(okey)
		}
		return nil
	}
	now := s.clk.Now().UTC()
	marker := &objectRecord{Key: key, DeleteMarker: true, Modified: now, Order: orderKey(s.seq.next(now)), Owner: account}
	var curp *objectRecord
	if has {
		curp = &cur
	}
	g, err := s.retire(tx, sc, b, bucket, curp, marker)
	if err != nil {
		return err
	}
	*garbage = append(*garbage, g...)
	res.versionID = marker.wireVersion()
	res.deleteMarker = true
	res.event = "ObjectRemoved:DeleteMarkerCreated"
	res.removed = marker
	return putRec(tx, okey, marker)
}

// deleteVersion permanently deletes one version; when it was the latest,
// the newest noncurrent version becomes the latest.
func (s *Service) deleteVersion(tx storage.Tx, sc storage.Scope, bucket, key, versionID string, has bool, cur *objectRecord, res *deleteResult, garbage *[]string) error {
	res.versionID = versionID
	if has && cur.wireVersion() == versionID {
		res.deleteMarker = cur.DeleteMarker
		res.removed = cur
		*garbage = append(*garbage, cur.Blob)
		res.event = "ObjectRemoved:Delete"
		okey := sc.Key(tagObject, bucket, key)
		if err := tx.Delete(okey); err != nil {
			return err
		}
		start, end := sc.Range(tagVersion, bucket, key)
		var nk []byte
		var next objectRecord
		if err := tx.Scan(start, end, func(k, v []byte) bool {
			if decodeRec(v, &next) == nil {
				nk = k
			}
			return false
		}); err != nil {
			return err
		}
		if nk != nil {
			if err := tx.Delete(nk); err != nil {
				return err
			}
			return putRec(tx, okey, &next)
		}
		return nil
	}
	var vk []byte
	var rec objectRecord
	if versionID == "null" {
		start, end := sc.Range(tagVersion, bucket, key)
		if err := tx.Scan(start, end, func(k, v []byte) bool {
			var r objectRecord
			if decodeRec(v, &r) == nil && r.VersionID == "" {
				vk, rec = k, r
				return false
			}
			return true
		}); err != nil {
			return err
		}
	} else {
		order, ok := orderOfVersion(versionID)
		if !ok {
			return errInvalidVersion(versionID)
		}
		k := sc.Key(tagVersion, bucket, key, order)
		found, err := getRec(tx, k, &rec)
		if err != nil {
			return err
		}
		if found && rec.VersionID == versionID {
			vk = k
		}
	}
	if vk == nil {
		return nil // S3 answers 204 for a version that does not exist
	}
	res.deleteMarker = rec.DeleteMarker
	res.removed = &rec
	res.event = "ObjectRemoved:Delete"
	*garbage = append(*garbage, rec.Blob)
	return tx.Delete(vk)
}

func (s *Service) deleteObject(req *service.Request) (map[string]any, error) {
	bucket, key := service.Str(req.Input, "Bucket"), service.Str(req.Input, "Key")
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := s.checkRate(req, bucket, key, true); err != nil {
		return nil, err
	}
	if _, err := s.lookupBucket(req, bucket); err != nil {
		return nil, err
	}
	b, res, err := s.deleteOne(req, bucket, key, service.Str(req.Input, "VersionId"), service.Str(req.Input, "IfMatch"))
	if err != nil {
		return nil, err
	}
	if res.event != "" {
		s.notify(req, b, res.event, res.removed)
	}
	out := map[string]any{}
	if res.versionID != "" {
		out["VersionId"] = res.versionID
	}
	if res.deleteMarker {
		out["DeleteMarker"] = true
	}
	return out, nil
}

func (s *Service) deleteObjects(req *service.Request) (map[string]any, error) {
	bucket := service.Str(req.Input, "Bucket")
	if _, err := s.lookupBucket(req, bucket); err != nil {
		return nil, err
	}
	del, _ := req.Input["Delete"].(map[string]any)
	objs := listOf(del["Objects"])
	if len(objs) > 1000 {
		return nil, errMalformedXML()
	}
	if req.HTTP.Header.Get("Content-MD5") == "" && req.HTTP.Header.Get("X-Amz-Sdk-Checksum-Algorithm") == "" && !hasChecksumHeader(req.HTTP.Header) {
		return nil, errInvalidRequest("Missing required header for this request: Content-MD5 OR x-amz-checksum-*")
	}
	quiet := service.Bool(del, "Quiet")
	type outcome struct {
		key, vid string
		res      deleteResult
		err      error
	}
	var outcomes []outcome
	// One transaction for the whole batch: one commit instead of one per key.
	b, garbage, err := s.deleteBatch(req, bucket, func(delete func(key, versionID, ifMatch string, res *deleteResult) error) error {
		outcomes = outcomes[:0]
		for _, ob := range objs {
			o := outcome{key: service.Str(ob, "Key"), vid: service.Str(ob, "VersionId")}
			o.err = checkKey(o.key)
			if o.err == nil {
				o.err = delete(o.key, o.vid, service.Str(ob, "ETag"), &o.res)
			}
			if o.err != nil {
				if _, client := o.err.(*awserr.Error); !client {
					return o.err // storage failure: nothing is deleted
				}
			}
			outcomes = append(outcomes, o)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.deleteBlobs(garbage)
	var deleted, errs []any
	for _, o := range outcomes {
		key, vid, res := o.key, o.vid, o.res
		if o.err != nil {
			errs = append(errs, deleteError(key, vid, o.err))
			continue
		}
		if res.event != "" {
			s.notify(req, b, res.event, res.removed)
		}
		if quiet {
			continue
		}
		d := map[string]any{"Key": key}
		if vid != "" {
			d["VersionId"] = vid
			if res.deleteMarker {
				d["DeleteMarker"] = true
				d["DeleteMarkerVersionId"] = vid
			}
		} else if res.deleteMarker {
			d["DeleteMarker"] = true
			d["DeleteMarkerVersionId"] = res.versionID
		}
		deleted = append(deleted, d)
	}
	out := map[string]any{}
	if len(deleted) > 0 {
		out["Deleted"] = deleted
	}
	if len(errs) > 0 {
		out["Errors"] = errs
	}
	return out, nil
}

func hasChecksumHeader(h http.Header) bool {
	for k := range h {
		if len(k) > 15 && (k[:15] == "X-Amz-Checksum-") {
			return true
		}
	}
	return false
}

func deleteError(key, vid string, err error) map[string]any {
	e := awserr.As(err)
	m := map[string]any{"Key": key, "Code": e.Code, "Message": e.Message}
	if vid != "" {
		m["VersionId"] = vid
	}
	return m
}
