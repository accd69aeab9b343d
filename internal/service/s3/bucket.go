package s3

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"sort"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// validBucketName applies S3's general purpose bucket naming rules.
func validBucketName(n string) bool {
	if len(n) < 3 || len(n) > 63 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	if !isAlnum(n[0]) || !isAlnum(n[len(n)-1]) {
		return false
	}
	if strings.Contains(n, "..") || strings.Contains(n, ".-") || strings.Contains(n, "-.") {
		return false
	}
	if net.ParseIP(n) != nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(n, p) {
			return false
		}
	}
	for _, p := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(n, p) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// canonicalID is the account's S3 canonical user id.
func canonicalID(account string) string {
	sum := sha256.Sum256([]byte("overcast-canonical-user/" + account))
	return hex.EncodeToString(sum[:])
}

func owner(account string) map[string]any {
	return map[string]any{"ID": canonicalID(account), "DisplayName": "webfile"}
}

func (s *Service) createBucket(req *service.Request) (map[string]any, error) {
	name := service.Str(req.Input, "Bucket")
	if !validBucketName(name) {
		return nil, errInvalidBucketName(name)
	}
	region := "us-east-1"
	cfg, _ := req.Input["CreateBucketConfiguration"].(map[string]any)
	lc := service.Str(cfg, "LocationConstraint")
	switch {
	case lc == "" && req.Region != "us-east-1":
		return nil, s3err(400, "IllegalLocationConstraintException", "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	case lc == "us-east-1":
		return nil, s3err(400, "InvalidLocationConstraint", "The specified location-constraint is not valid", "LocationConstraint", lc)
	case lc == "EU":
		region = "eu-west-1"
	case lc != "":
		if req.Region != "us-east-1" && lc != req.Region {
			return nil, s3err(400, "IllegalLocationConstraintException", "The "+lc+" location constraint is incompatible for the region specific endpoint this request was sent to.")
		}
		region = lc
	}
	b := bucketRecord{Name: name, Account: req.Account, Region: region, Created: s.clk.Now().UTC().Truncate(1e6),
		Ownership: service.Str(req.Input, "ObjectOwnership"), ACL: service.Str(req.Input, "ACL"),
		ObjectLock: service.Bool(req.Input, "ObjectLockEnabledForBucket")}
	if b.Ownership == "" {
		b.Ownership = "BucketOwnerEnforced"
	}
	if b.ObjectLock {
		b.Versioning = "Enabled"
	}
	for _, t := range listOf(cfg["Tags"]) {
		b.setTag(service.Str(t, "Key"), service.Str(t, "Value"))
	}
	key := scopeOf(req).Key(tagBucket, name)
	err := s.kv.Update(func(tx storage.Tx) error {
		var cur bucketRecord
		found, err := getRec(tx, key, &cur)
		if err != nil {
			return err
		}
		if found {
			if cur.Account != req.Account {
				return s3err(409, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.", "BucketName", name)
			}
			if cur.Region == "us-east-1" && region == "us-east-1" {
				return errAlreadyOwnedLegacy
			}
			return s3err(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.", "BucketName", name)
		}
		return putRec(tx, key, &b)
	})
	if err != nil && err != errAlreadyOwnedLegacy {
		return nil, err
	}
	return map[string]any{"Location": "/" + name, "BucketArn": "arn:" + arnPartition(req.Region) + ":s3:::" + name}, nil
}

// errAlreadyOwnedLegacy marks re-creating one's own bucket in us-east-1,
// which S3 answers with success.
var errAlreadyOwnedLegacy = &awserr.Error{Code: "BucketAlreadyOwnedByYou"}

func (b *bucketRecord) setTag(k, v string) {
	if b.Tags == nil {
		b.Tags = map[string]string{}
	}
	if _, ok := b.Tags[k]; !ok {
		b.TagOrder = append(b.TagOrder, k)
	}
	b.Tags[k] = v
}

func (s *Service) headBucket(req *service.Request) (map[string]any, error) {
	b, err := s.lookupBucket(req, service.Str(req.Input, "Bucket"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"BucketRegion": b.Region, "AccessPointAlias": false, "BucketArn": "arn:" + arnPartition(req.Region) + ":s3:::" + b.Name}, nil
}

func (s *Service) getBucketLocation(req *service.Request) (map[string]any, error) {
	b, err := s.lookupBucket(req, service.Str(req.Input, "Bucket"))
	if err != nil {
		return nil, err
	}
	if b.Region == "us-east-1" {
		return map[string]any{}, nil
	}
	return map[string]any{"LocationConstraint": b.Region}, nil
}

func (s *Service) listBuckets(req *service.Request) (map[string]any, error) {
	prefix := service.Str(req.Input, "Prefix")
	token := service.Str(req.Input, "ContinuationToken")
	regionFilter := service.Str(req.Input, "BucketRegion")
	max, hasMax := service.Int(req.Input, "MaxBuckets")
	if hasMax && (max < 1 || max > 10000) {
		return nil, errInvalidArgument("Argument max-buckets must be an integer between 1 and 10000.", "max-buckets", "")
	}
	var list []any
	next := ""
	start, end := scopeOf(req).PrefixRange([]string{tagBucket}, prefix)
	if token != "" {
		start = scopeOf(req).Key(tagBucket, token)
	}
	err := s.kv.View(func(tx storage.Tx) error {
		var ierr error
		err := tx.Scan(start, end, func(k, v []byte) bool {
			var b bucketRecord
			if ierr = decodeRec(v, &b); ierr != nil {
				return false
			}
			if b.Account != req.Account || (regionFilter != "" && b.Region != regionFilter) || b.Name == token {
				return true
			}
			if hasMax && int64(len(list)) == max {
				next = list[len(list)-1].(map[string]any)["Name"].(string)
				return false
			}
			list = append(list, map[string]any{"Name": b.Name, "CreationDate": b.Created, "BucketRegion": b.Region,
				"BucketArn": "arn:" + arnPartition(req.Region) + ":s3:::" + b.Name})
			return true
		})
		if ierr != nil {
			return ierr
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"Buckets": orEmpty(list), "Owner": owner(req.Account)}
	if prefix != "" {
		out["Prefix"] = prefix
	}
	if next != "" {
		out["ContinuationToken"] = next
	}
	return out, nil
}

func orEmpty(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

func (s *Service) deleteBucket(req *service.Request) (map[string]any, error) {
	name := service.Str(req.Input, "Bucket")
	sc := scopeOf(req)
	var blobs []string
	err := s.kv.Update(func(tx storage.Tx) error {
		var b bucketRecord
		found, err := getRec(tx, sc.Key(tagBucket, name), &b)
		if err != nil {
			return err
		}
		if !found {
			return errNoSuchBucket(name)
		}
		if b.Account != req.Account {
			return errAccessDenied()
		}
		for _, tagName := range []string{tagObject, tagVersion} {
			empty := true
			start, end := sc.Range(tagName, name)
			if err := tx.Scan(start, end, func(k, v []byte) bool { empty = false; return false }); err != nil {
				return err
			}
			if !empty {
				return s3err(409, "BucketNotEmpty", "The bucket you tried to delete is not empty", "BucketName", name)
			}
		}
		// In-progress multipart uploads go with the bucket.
		for _, tagName := range []string{tagUpload, tagPart} {
			start, end := sc.Range(tagName, name)
			var keys [][]byte
			if err := tx.Scan(start, end, func(k, v []byte) bool {
				keys = append(keys, k)
				if tagName == tagPart {
					var p partRecord
					if decodeRec(v, &p) == nil {
						blobs = append(blobs, p.Blob)
					}
				}
				return true
			}); err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
		}
		return tx.Delete(sc.Key(tagBucket, name))
	})
	if err != nil {
		return nil, err
	}
	s.deleteBlobs(blobs)
	return map[string]any{}, nil
}

func (s *Service) deleteBlobs(keys []string) {
	for _, k := range keys {
		if k == "" {
			continue
		}
		if err := s.blobs.Delete(k); err != nil && !isNotFound(err) {
			s.log.Warn("delete blob", "blob", k, "err", err)
		}
	}
}

func listOf(v any) []map[string]any {
	l, _ := v.([]any)
	out := make([]map[string]any, 0, len(l))
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func sortedStrings(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
