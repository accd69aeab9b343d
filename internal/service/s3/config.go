package s3

import (
	"encoding/json"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

// subresource is a bucket configuration document stored as sent and read
// back: Put stores the input payload member, Get returns it (unwrapped into
// the output's members, or wrapped as the output payload), Delete drops it.
type subresource struct {
	name, put, get, del string
	member              string
	wrap                bool
	missing             func(b *bucketRecord) (map[string]any, error)
}

func notFound(code, msg string) func(b *bucketRecord) (map[string]any, error) {
	return func(b *bucketRecord) (map[string]any, error) { return nil, errNotFoundConfig(code, msg, b.Name) }
}

func defaultDoc(doc map[string]any) func(b *bucketRecord) (map[string]any, error) {
	return func(*bucketRecord) (map[string]any, error) { return doc, nil }
}

var subresources = []subresource{
	{name: "cors", put: "PutBucketCors", get: "GetBucketCors", del: "DeleteBucketCors", member: "CORSConfiguration",
		missing: notFound("NoSuchCORSConfiguration", "The CORS configuration does not exist")},
	{name: "lifecycle", put: "PutBucketLifecycleConfiguration", get: "GetBucketLifecycleConfiguration", del: "DeleteBucketLifecycle", member: "LifecycleConfiguration",
		missing: notFound("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")},
	{name: "website", put: "PutBucketWebsite", get: "GetBucketWebsite", del: "DeleteBucketWebsite", member: "WebsiteConfiguration",
		missing: notFound("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration")},
	{name: "notification", put: "PutBucketNotificationConfiguration", get: "GetBucketNotificationConfiguration", member: "NotificationConfiguration",
		missing: defaultDoc(map[string]any{})},
	{name: "encryption", put: "PutBucketEncryption", get: "GetBucketEncryption", del: "DeleteBucketEncryption", member: "ServerSideEncryptionConfiguration", wrap: true,
		missing: defaultDoc(map[string]any{"Rules": []any{map[string]any{"ApplyServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": false}}})},
	{name: "publicAccessBlock", put: "PutPublicAccessBlock", get: "GetPublicAccessBlock", del: "DeletePublicAccessBlock", member: "PublicAccessBlockConfiguration", wrap: true,
		missing: notFound("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")},
	{name: "replication", put: "PutBucketReplication", get: "GetBucketReplication", del: "DeleteBucketReplication", member: "ReplicationConfiguration", wrap: true,
		missing: notFound("ReplicationConfigurationNotFoundError", "The replication configuration was not found")},
	{name: "objectLock", put: "PutObjectLockConfiguration", get: "GetObjectLockConfiguration", member: "ObjectLockConfiguration", wrap: true,
		missing: func(b *bucketRecord) (map[string]any, error) {
			if b.ObjectLock {
				return map[string]any{"ObjectLockEnabled": "Enabled"}, nil
			}
			return nil, errNotFoundConfig("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket", b.Name)
		}},
	{name: "logging", put: "PutBucketLogging", get: "GetBucketLogging", member: "BucketLoggingStatus", missing: defaultDoc(map[string]any{})},
	{name: "requestPayment", put: "PutBucketRequestPayment", get: "GetBucketRequestPayment", member: "RequestPaymentConfiguration",
		missing: defaultDoc(map[string]any{"Payer": "BucketOwner"})},
	{name: "ownership", put: "PutBucketOwnershipControls", get: "GetBucketOwnershipControls", del: "DeleteBucketOwnershipControls", member: "OwnershipControls", wrap: true,
		missing: func(b *bucketRecord) (map[string]any, error) {
			if b.Ownership == "" {
				return nil, errNotFoundConfig("OwnershipControlsNotFoundError", "The bucket ownership controls were not found", b.Name)
			}
			return map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": b.Ownership}}}, nil
		}},
}

func (s *Service) bucketConfigHandlers() map[string]service.Handler {
	h := map[string]service.Handler{
		"PutBucketVersioning":              s.putBucketVersioning,
		"GetBucketVersioning":              s.getBucketVersioning,
		"PutBucketAccelerateConfiguration": s.putBucketAccelerate,
		"GetBucketAccelerateConfiguration": s.getBucketAccelerate,
		"PutBucketPolicy":                  s.putBucketPolicy,
		"GetBucketPolicy":                  s.getBucketPolicy,
		"DeleteBucketPolicy":               s.deleteBucketPolicy,
		"GetBucketPolicyStatus":            s.getBucketPolicyStatus,
		"PutBucketTagging":                 s.putBucketTagging,
		"GetBucketTagging":                 s.getBucketTagging,
		"DeleteBucketTagging":              s.deleteBucketTagging,
		"GetBucketAcl":                     s.getBucketACL,
		"PutBucketAcl":                     s.putBucketACL,
	}
	for _, sr := range subresources {
		h[sr.put] = s.putSub(sr)
		h[sr.get] = s.getSub(sr)
		if sr.del != "" {
			h[sr.del] = s.delSub(sr)
		}
	}
	return h
}

func (s *Service) putSub(sr subresource) service.Handler {
	return func(req *service.Request) (map[string]any, error) {
		doc, _ := req.Input[sr.member].(map[string]any)
		if doc == nil {
			return nil, errMalformedXML()
		}
		if err := validateSub(sr.name, doc); err != nil {
			return nil, err
		}
		bucket := service.Str(req.Input, "Bucket")
		if sr.name == "notification" {
			if err := s.validateNotification(req, bucket, doc); err != nil {
				return nil, err
			}
		}
		err := s.updateBucket(req, bucket, func(b *bucketRecord) error {
			if sr.name == "ownership" {
				for _, r := range listOf(doc["Rules"]) {
					b.Ownership = service.Str(r, "ObjectOwnership")
				}
			}
			if sr.name == "objectLock" && !b.ObjectLock && service.Str(doc, "ObjectLockEnabled") == "Enabled" && b.Versioning != "Enabled" {
				return s3err(409, "InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
			}
			b.setConfig(sr.name, doc)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if sr.name == "lifecycle" {
			return map[string]any{"TransitionDefaultMinimumObjectSize": "all_storage_classes_128K"}, nil
		}
		return map[string]any{}, nil
	}
}

func validateSub(name string, doc map[string]any) error {
	switch name {
	case "cors":
		rules := listOf(doc["CORSRules"])
		if len(rules) == 0 || len(rules) > 100 {
			return errMalformedXML()
		}
		for _, r := range rules {
			for _, m := range service.Strings(r, "AllowedMethods") {
				switch m {
				case "GET", "PUT", "POST", "DELETE", "HEAD":
				default:
					return errInvalidRequest("Found unsupported HTTP method in CORS config. Unsupported method is " + m)
				}
			}
			if len(service.Strings(r, "AllowedOrigins")) == 0 || len(service.Strings(r, "AllowedMethods")) == 0 {
				return errMalformedXML()
			}
		}
	case "lifecycle":
		rules := listOf(doc["Rules"])
		if len(rules) == 0 {
			return errMalformedXML()
		}
		for _, r := range rules {
			st := service.Str(r, "Status")
			if st != "Enabled" && st != "Disabled" {
				return errMalformedXML()
			}
		}
	case "website":
		if doc["IndexDocument"] == nil && doc["RedirectAllRequestsTo"] == nil {
			return errInvalidArgument("A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty", "IndexDocument", "")
		}
		if idx, ok := doc["IndexDocument"].(map[string]any); ok {
			suffix := service.Str(idx, "Suffix")
			if suffix == "" || strings.Contains(suffix, "/") {
				return errInvalidArgument("The IndexDocument Suffix is not well formed", "IndexDocument", suffix)
			}
		}
	}
	return nil
}

func (s *Service) getSub(sr subresource) service.Handler {
	return func(req *service.Request) (map[string]any, error) {
		b, err := s.lookupBucket(req, service.Str(req.Input, "Bucket"))
		if err != nil {
			return nil, err
		}
		v, ok := b.config(sr.name)
		var doc map[string]any
		if ok {
			doc, _ = v.(map[string]any)
		} else {
			doc, err = sr.missing(b)
			if err != nil {
				return nil, err
			}
		}
		if sr.wrap {
			return map[string]any{sr.member: doc}, nil
		}
		out := make(map[string]any, len(doc))
		for k, v := range doc {
			out[k] = v
		}
		return out, nil
	}
}

func (s *Service) delSub(sr subresource) service.Handler {
	return func(req *service.Request) (map[string]any, error) {
		err := s.updateBucket(req, service.Str(req.Input, "Bucket"), func(b *bucketRecord) error {
			b.setConfig(sr.name, nil)
			if sr.name == "ownership" {
				b.Ownership = ""
			}
			return nil
		})
		return map[string]any{}, err
	}
}

func (s *Service) putBucketVersioning(req *service.Request) (map[string]any, error) {
	doc, _ := req.Input["VersioningConfiguration"].(map[string]any)
	st := service.Str(doc, "Status")
	if st != "Enabled" && st != "Suspended" {
		return nil, errMalformedXML()
	}
	err := s.updateBucket(req, service.Str(req.Input, "Bucket"), func(b *bucketRecord) error {
		if b.ObjectLock && st == "Suspended" {
			return s3err(409, "InvalidBucketState", "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.")
		}
		b.Versioning = st
		if m := service.Str(doc, "MFADelete"); m != "" {
			b.MFADelete = m
		}
		return nil
	})
	return map[string]any{}, err
}

func (s *Service) getBucketVersioning(req *service.Request) (map[string]any, error) {
	b, err := s.lookupBucket(req, service.Str(req.Input, "Bucket"))
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if b.Versioning != "" {
		out["Status"] = b.Versioning
	}
	if b.MFADelete != "" {
		out["MFADelete"] = b.MFADelete
	}
	return out, nil
}

func (s *Service) putBucketAccelerate(req *service.Request) (map[string]any, error) {
	doc, _ := req.Input["AccelerateConfiguration"].(map[string]any)
	st := service.Str(doc, "Status")
	if st != "Enabled" && st != "Suspended" {
		return nil, errMalformedXML()
	}
	bucket := service.Str(req.Input, "Bucket")
	if strings.Contains(bucket, ".") {
		return nil, errInvalidRequest("S3 Transfer Acceleration is not supported for buckets with periods (.) in their names")
	}
	err := s.updateBucket(req, bucket, func(b *bucketRecord) error { b.Accelerate = st; return nil })
	return map[string]any{}, err
}

func (s *Service) getBucketAccelerate(req *service.Request) (map[string]any, error) {
	b, err := s.lookupBucket(req, service.Str(req.Input, "Bucket"))
	if err != nil {
		return nil, err
	}
	if b.Accelerate == "" {
		return map[string]any{}, nil
	}
	return map[string]any{"Status": b.Accelerate}, nil
}

func (s *Service) putBucketPolicy(req *service.Request) (map[string]any, error) {
	p := service.Str(req.Input, "Policy")
	var v map[string]any
	if !strings.HasPrefix(strings.TrimSpace(p), "{") || json.Unmarshal([]byte(p), &v) != nil {
		return nil, s3err(400, "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")
	}
	if _, ok := v["Statement"]; !ok {
		return nil, s3err(400, "MalformedPolicy", "Missing required field Statement")
	}
	err := s.updateBucket(req, service.Str(req.Input, "Bucket"), func(b *bucketRecord) error { b.Policy = p; return nil })
	return map[string]any{}, err
}

func (s *Service) getBucketPolicy(req *service.Request) (map[string]any, error) {
	b, err := s.lookupBucket(req, service.Str(req.Input, "Bucket"))
	if err != nil {
		return nil, err
	}
	if b.Policy == "" {
		return nil, errNotFoundConfig("NoSuchBucketPolicy", "The bucket policy does not exist", b.Name)
	}
	return map[string]any{"Policy": b.Policy}, nil
}

func (s *Service) deleteBucketPolicy(req *service.Request) (map[string]any, error) {
	err := s.updateBucket(req, service.Str(req.Input, "Bucket"), func(b *bucketRecord) error { b.Policy = ""; return nil })
	return map[string]any{}, err
}

func (s *Service) getBucketPolicyStatus(req *service.Request) (map[string]any, error) {
	b, err := s.lookupBucket(req, service.Str(req.Input, "Bucket"))
	if err != nil {
		return nil, err
	}
	if b.Policy == "" {
		return nil, errNotFoundConfig("NoSuchBucketPolicy", "The bucket policy does not exist", b.Name)
	}
	return map[string]any{"PolicyStatus": map[string]any{"IsPublic": strings.Contains(b.Policy, `"Principal":"*"`) || strings.Contains(b.Policy, `"AWS":"*"`)}}, nil
}

func (s *Service) putBucketTagging(req *service.Request) (map[string]any, error) {
	tags, err := tagsFromInput(req.Input)
	if err != nil {
		return nil, err
	}
	if len(tags) > 50 {
		return nil, s3err(400, "InvalidTag", "Bucket tag count cannot be greater than 50")
	}
	err = s.updateBucket(req, service.Str(req.Input, "Bucket"), func(b *bucketRecord) error {
		b.Tags, b.TagOrder = nil, nil
		for _, t := range tags {
			b.setTag(t.Key, t.Value)
		}
		return nil
	})
	return map[string]any{}, err
}

func (s *Service) getBucketTagging(req *service.Request) (map[string]any, error) {
	b, err := s.lookupBucket(req, service.Str(req.Input, "Bucket"))
	if err != nil {
		return nil, err
	}
	if len(b.Tags) == 0 {
		return nil, errNotFoundConfig("NoSuchTagSet", "The TagSet does not exist", b.Name)
	}
	var tags []tag
	for _, k := range b.TagOrder {
		tags = append(tags, tag{Key: k, Value: b.Tags[k]})
	}
	return map[string]any{"TagSet": tagSet(tags)}, nil
}

func (s *Service) deleteBucketTagging(req *service.Request) (map[string]any, error) {
	err := s.updateBucket(req, service.Str(req.Input, "Bucket"), func(b *bucketRecord) error { b.Tags, b.TagOrder = nil, nil; return nil })
	return map[string]any{}, err
}

func (s *Service) getBucketACL(req *service.Request) (map[string]any, error) {
	b, err := s.lookupBucket(req, service.Str(req.Input, "Bucket"))
	if err != nil {
		return nil, err
	}
	out := fullControl(b.Account)
	if b.ACL == "public-read" || b.ACL == "public-read-write" {
		grants := out["Grants"].([]any)
		grants = append(grants, map[string]any{"Grantee": map[string]any{"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"})
		out["Grants"] = grants
	}
	return out, nil
}

func (s *Service) putBucketACL(req *service.Request) (map[string]any, error) {
	acl := service.Str(req.Input, "ACL")
	policy, _ := req.Input["AccessControlPolicy"].(map[string]any)
	err := s.updateBucket(req, service.Str(req.Input, "Bucket"), func(b *bucketRecord) error {
		if b.Ownership == "BucketOwnerEnforced" && !ownerOnlyACL(acl, policy, b.Account) {
			return s3err(400, "AccessControlListNotSupported", "The bucket does not allow ACLs")
		}
		b.ACL = acl
		return nil
	})
	return map[string]any{}, err
}

// ownerOnlyACL reports whether an ACL grants nothing beyond the owner's
// full control, the only ACL a bucket with ACLs disabled accepts.
func ownerOnlyACL(acl string, policy map[string]any, account string) bool {
	if acl != "" && acl != "private" && acl != "bucket-owner-full-control" {
		return false
	}
	for _, g := range listOf(policy["Grants"]) {
		grantee, _ := g["Grantee"].(map[string]any)
		if service.Str(g, "Permission") != "FULL_CONTROL" || service.Str(grantee, "ID") != canonicalID(account) {
			return false
		}
	}
	return true
}
