// Package enforce applies IAM policy evaluation to API requests: it names
// each request's action ("sqs:SendMessage") and resource ARN(s), gathers
// the request's condition keys, asks package policy for a decision and, in
// strict mode, answers a denied request with the service's own AccessDenied
// error and AWS's message.
//
// # Fidelity
//
// Modes: off (nothing is evaluated), soft (every decision is logged with
// its reason and the request proceeds), strict (denied requests fail).
// Root credentials bypass identity-based policies, as in AWS. Action names
// use the IAM prefix of the service (the SigV4 signing name, with AWS's
// exceptions: monitoring is cloudwatch) and the operation name, with the
// documented exceptions of S3 (ListObjectsV2 is s3:ListBucket, HeadObject
// is s3:GetObject, GetObject with a VersionId is s3:GetObjectVersion, ...),
// SQS and SNS batch operations and Lambda (Invoke is lambda:InvokeFunction);
// DynamoDB transactions are authorized item by item (dynamodb:PutItem, ...)
// and PartiQL statements by their verb (dynamodb:PartiQLSelect, ...) on the
// table they name. Resources are resolved per service from the request
// (see resources.go); anything else is "*". A test checks every routed
// operation of every implemented service against the IAM Service
// Authorization Reference (testdata/iam-actions.json). Condition keys: aws:SourceIp, aws:CurrentTime, aws:EpochTime,
// aws:SecureTransport, aws:RequestedRegion, aws:UserAgent,
// aws:RequestTag/*, aws:TagKeys, principal keys (package policy), and
// sts:ExternalId, sts:RoleSessionName, sts:SourceIdentity,
// sts:TransitiveTagKeys, s3:prefix, s3:delimiter, s3:max-keys.
//
// Resource-based policies come from the look-ups the server registers in
// Enforcer.ResourcePolicies: S3 bucket policies, SQS queue policies, SNS
// topic policies (the default one when none is set), Lambda function
// policies (AddPermission) and role trust policies for sts:AssumeRole.
// Cross-account requests need both the caller's identity policies and the
// resource's policy to allow them; an allowed cross-account S3 request
// runs as the bucket owner's account. AuthorizeService decides calls of
// service principals (sns.amazonaws.com, ...) with aws:SourceArn and
// aws:SourceAccount against the resource's policy alone.
//
// Deviations: EC2, Elastic Load Balancing, Auto Scaling and CloudWatch
// actions are authorized on "*" (their resource ARNs are not resolved), as
// are the few operations whose input names an opaque handle
// (dynamodb:GetRecords, iam:GetAccessKeyLastUsed, logs:GetQueryResults,
// sqs:CancelMessageMoveTask); aws:ResourceTag/* is only known where a service registers a
// resource look-up; operations AWS authorizes against several actions
// (CopyObject's source read) check only the main one; Organizations SCPs
// are not modelled; service-to-service deliveries inside Overcast (SNS to
// SQS, S3 notifications) do not call AuthorizeService yet, because the
// services do not pass the source ARN through their delivery interfaces.
package enforce

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/policy"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

// Mode is the enforcement mode.
type Mode int

const (
	Off Mode = iota
	Soft
	Strict
)

// ParseMode parses "off", "soft" or "strict" ("" is off).
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "off":
		return Off, nil
	case "soft":
		return Soft, nil
	case "strict":
		return Strict, nil
	}
	return Off, fmt.Errorf("iam mode %q: want off, soft or strict", s)
}

func (m Mode) String() string {
	switch m {
	case Soft:
		return "soft"
	case Strict:
		return "strict"
	}
	return "off"
}

// ResourcePolicyFunc returns the resource-based policy of a resource and
// the account that owns it ("" when it is the ARN's or unknown); nil when
// the resource has none.
type ResourcePolicyFunc func(account, arn string) (pol *policy.Policy, owner string)

// Enforcer authorizes requests. Its fields must be set before first use.
type Enforcer struct {
	Mode   Mode
	Logger *slog.Logger
	// Principal returns the caller behind an access key ("" for unsigned
	// requests) in account; an error (an *awserr.Error) refuses the request
	// in strict mode, e.g. for expired temporary credentials.
	Principal func(accessKey, account string) (*policy.Principal, error)
	// ResourcePolicies maps an IAM service prefix ("iam", "s3", "sqs") to
	// the look-up of its resources' policies.
	ResourcePolicies map[string]ResourcePolicyFunc
	// Now is the clock for aws:CurrentTime; nil is time.Now.
	Now func() time.Time
}

// Authorize decides req; it returns nil when the request may proceed.
//
// A cross-account request that the resource's policy allows runs as the
// resource owner's account for services that address resources by the
// caller's account (S3 buckets): req.Account is set to the owner.
func (e *Enforcer) Authorize(svc, signingName string, req *service.Request) error {
	if e == nil || e.Mode == Off {
		return nil
	}
	prefix := Prefix(signingName)
	action := Action(prefix, req)
	if unauthorized[action] {
		return nil
	}
	p, err := e.Principal(req.AccessKey, req.Account)
	if err != nil {
		e.log(req, action, "*", false, "credentials refused: "+err.Error())
		if e.Mode == Strict {
			return err
		}
		return nil
	}
	ctx := e.context(prefix, req)
	owner := ""
	for _, c := range Checks(prefix, req, p) {
		d, resOwner := e.decide(prefix, c.Action, c.Resource, p, req, ctx)
		e.log(req, c.Action, c.Resource, d.Allowed, d.Reason.String())
		if !d.Allowed {
			if e.Mode == Strict {
				return Denied(req.Protocol, signingName, c.Action, c.Resource, p, d)
			}
			continue
		}
		if resOwner != "" {
			owner = resOwner
		}
	}
	if owner != "" && owner != req.Account && actAsOwner[prefix] && p.Type != policy.Anonymous {
		req.Account = owner
	}
	return nil
}

// actAsOwner are the services whose handlers find a resource under the
// caller's account, so an allowed cross-account request runs as the owner.
var actAsOwner = map[string]bool{"s3": true}

// AuthorizeService decides a service-to-service call: the service
// principal svc ("sns.amazonaws.com") performs action on resource on
// behalf of sourceARN in sourceAccount (aws:SourceArn, aws:SourceAccount).
// Only the resource's policy can allow it. It returns nil when allowed or
// when enforcement is off or soft (the decision is logged).
func (e *Enforcer) AuthorizeService(svc, action, resource, sourceARN, sourceAccount string) error {
	if e == nil || e.Mode == Off {
		return nil
	}
	prefix, _, _ := strings.Cut(action, ":")
	p := &policy.Principal{Type: policy.ServicePrincipal, ARN: svc}
	ctx := policy.Context{}
	if sourceARN != "" {
		ctx["aws:sourcearn"] = []string{sourceARN}
	}
	if sourceAccount != "" {
		ctx["aws:sourceaccount"] = []string{sourceAccount}
		ctx["aws:sourceowner"] = []string{sourceAccount}
	}
	now := time.Now()
	if e.Now != nil {
		now = e.Now()
	}
	ctx["aws:currenttime"] = []string{now.UTC().Format(time.RFC3339)}
	ctx["aws:epochtime"] = []string{strconv.FormatInt(now.Unix(), 10)}
	r := &policy.Request{Action: action, Resource: resource, Principal: p, Context: ctx}
	var rp *policy.Policy
	if f := e.ResourcePolicies[prefix]; f != nil {
		rp, r.ResourceAccount = f(sourceAccount, resource)
	}
	d := policy.Evaluate(r, rp)
	if e.Logger != nil {
		level := slog.LevelDebug
		if !d.Allowed {
			level = slog.LevelInfo
		}
		e.Logger.Log(context.Background(), level, "iam decision", "mode", e.Mode.String(), "principal", svc, "action", action, "resource", resource, "source_arn", sourceARN, "allowed", d.Allowed, "reason", d.Reason.String())
	}
	if d.Allowed || e.Mode != Strict {
		return nil
	}
	return &awserr.Error{Code: awserr.CodeAccessDenied, Status: http.StatusForbidden, QueryCode: awserr.CodeAccessDenied,
		Message: "Service: " + svc + " is not authorized to perform: " + action + " on resource: " + resource + " " + d.Reason.Because(action)}
}

func (e *Enforcer) decide(prefix, action, res string, p *policy.Principal, req *service.Request, ctx policy.Context) (policy.Decision, string) {
	r := &policy.Request{Action: action, Resource: res, Principal: p, Context: ctx}
	var rp *policy.Policy
	var owner string
	if f := e.ResourcePolicies[prefix]; f != nil && res != "*" {
		rp, owner = f(req.Account, res)
		r.ResourceAccount = owner
	}
	if r.ResourceAccount == "" {
		r.ResourceAccount = arnAccount(res)
	}
	if p.Type == policy.Root && action == "sts:AssumeRole" {
		return policy.Decision{Reason: policy.ImplicitDenyResource}, owner
	}
	return policy.Evaluate(r, rp), owner
}

func (e *Enforcer) log(req *service.Request, action, res string, allowed bool, reason string) {
	if e.Logger == nil {
		return
	}
	level := slog.LevelDebug
	if !allowed {
		level = slog.LevelInfo
	}
	if !e.Logger.Enabled(context.Background(), level) {
		return
	}
	e.Logger.Log(context.Background(), level, "iam decision", "request_id", req.RequestID, "mode", e.Mode.String(), "action", action, "resource", res, "access_key", req.AccessKey, "account", req.Account, "allowed", allowed, "reason", reason)
}

// unauthorized are the actions AWS lets any authenticated caller perform.
// AssumeRoleWithWebIdentity and AssumeRoleWithSAML carry their own
// credentials (a token or an assertion) and STS checks them against the
// role's trust policy itself.
var unauthorized = map[string]bool{"sts:GetCallerIdentity": true, "sts:AssumeRoleWithWebIdentity": true, "sts:AssumeRoleWithSAML": true}

// Prefix returns the IAM action prefix of a SigV4 signing name.
func Prefix(signingName string) string {
	switch signingName {
	case "monitoring":
		return "cloudwatch"
	case "email":
		return "ses"
	case "":
		return "s3"
	}
	return signingName
}

// Action returns the IAM action ("s3:GetObjectVersion") a request is
// authorized as: ActionName, refined by the input where IAM distinguishes
// (S3 operations on a specific object version).
func Action(prefix string, req *service.Request) string {
	name := ActionName(prefix, req.Operation)
	if prefix == "s3" && service.Str(req.Input, "VersionId") != "" {
		if v, ok := s3VersionActions[name]; ok {
			name = v
		}
	}
	return prefix + ":" + name
}

var s3VersionActions = map[string]string{
	"GetObject": "GetObjectVersion", "DeleteObject": "DeleteObjectVersion",
	"GetObjectAcl": "GetObjectVersionAcl", "PutObjectAcl": "PutObjectVersionAcl",
	"GetObjectTagging": "GetObjectVersionTagging", "PutObjectTagging": "PutObjectVersionTagging",
	"DeleteObjectTagging": "DeleteObjectVersionTagging", "GetObjectAttributes": "GetObjectVersionAttributes",
}

// ActionName returns the IAM action (without prefix) an operation is
// authorized as.
func ActionName(prefix, op string) string {
	if m := actionExceptions[prefix]; m != nil {
		if a, ok := m[op]; ok {
			return a
		}
	}
	return op
}

var actionExceptions = map[string]map[string]string{
	"s3": {
		"ListObjects": "ListBucket", "ListObjectsV2": "ListBucket", "HeadBucket": "ListBucket",
		"ListObjectVersions": "ListBucketVersions", "HeadObject": "GetObject", "ListBuckets": "ListAllMyBuckets",
		"DeleteObjects": "DeleteObject", "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject",
		"CompleteMultipartUpload": "PutObject", "UploadPartCopy": "PutObject", "CopyObject": "PutObject",
		"ListMultipartUploads": "ListBucketMultipartUploads", "ListParts": "ListMultipartUploadParts",
		"GetObjectAttributes":                "GetObjectAttributes",
		"PutBucketNotificationConfiguration": "PutBucketNotification", "GetBucketNotificationConfiguration": "GetBucketNotification",
		"PutBucketLifecycleConfiguration": "PutLifecycleConfiguration", "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
		"DeleteBucketLifecycle": "PutLifecycleConfiguration", "PutBucketCors": "PutBucketCORS", "GetBucketCors": "GetBucketCORS",
		"DeleteBucketCors": "PutBucketCORS", "PutBucketEncryption": "PutEncryptionConfiguration",
		"GetBucketEncryption": "GetEncryptionConfiguration", "DeleteBucketEncryption": "PutEncryptionConfiguration",
		"PutPublicAccessBlock": "PutBucketPublicAccessBlock", "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
		"DeletePublicAccessBlock": "PutBucketPublicAccessBlock", "DeleteBucketWebsite": "DeleteBucketWebsite",
		"GetBucketReplication": "GetReplicationConfiguration", "PutBucketReplication": "PutReplicationConfiguration",
		"DeleteBucketReplication": "PutReplicationConfiguration", "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
		"DeleteBucketTagging": "PutBucketTagging", "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
		"PutObjectLockConfiguration":       "PutBucketObjectLockConfiguration",
		"GetBucketAccelerateConfiguration": "GetAccelerateConfiguration", "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
		"GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration", "PutBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
		"DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration", "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
		"GetBucketMetricsConfiguration": "GetMetricsConfiguration", "PutBucketMetricsConfiguration": "PutMetricsConfiguration",
		"DeleteBucketMetricsConfiguration": "PutMetricsConfiguration", "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
		"GetBucketInventoryConfiguration": "GetInventoryConfiguration", "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
		"DeleteBucketInventoryConfiguration": "PutInventoryConfiguration", "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
		"GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration", "PutBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
		"DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration", "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
		"GetBucketLifecycle": "GetLifecycleConfiguration", "PutBucketLifecycle": "PutLifecycleConfiguration",
		"SelectObjectContent": "GetObject", "DeleteBucketMetadataTableConfiguration": "DeleteBucketMetadataTableConfiguration",
	},
	"sns": {"PublishBatch": "Publish"},
	"lambda": {
		"Invoke": "InvokeFunction", "InvokeWithResponseStream": "InvokeFunction", "GetLayerVersionByArn": "GetLayerVersion",
	},
	"sqs": {
		"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
		"ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
	},
	"dynamodb": {},
}

// Denied builds the error a denied request answers with.
func Denied(protocol, signingName, action, res string, p *policy.Principal, d policy.Decision) *awserr.Error {
	who := "User: " + principalARN(p)
	msg := who + " is not authorized to perform: " + action + " on resource: " + res
	if b := d.Reason.Because(action); b != "" {
		msg += " " + b
	}
	if p.Type == policy.Root && action == "sts:AssumeRole" {
		msg = "Roles may not be assumed by root accounts."
	}
	e := &awserr.Error{Code: awserr.CodeAccessDenied, Message: msg, Status: http.StatusForbidden, QueryCode: awserr.CodeAccessDenied}
	switch {
	case signingName == "ec2":
		e.Code, e.QueryCode = "UnauthorizedOperation", ""
		e.Message = "You are not authorized to perform this operation. " + msg + ". Encoded authorization failure message: " +
			EncodeAuthorizationMessage(map[string]any{"allowed": false, "explicitDeny": d.Reason.Explicit(), "context": map[string]any{"principal": map[string]any{"arn": p.ARN}, "action": action, "resource": res}})
	case protocol == "json" || protocol == "rest-json" || protocol == "smithy-rpc-v2-cbor":
		e.Code = "AccessDeniedException"
	}
	return e
}

func principalARN(p *policy.Principal) string {
	if p.ARN == "" {
		return "anonymous"
	}
	return p.ARN
}

// EncodeAuthorizationMessage encodes the details of a denied request as
// sts:DecodeAuthorizationMessage decodes them.
func EncodeAuthorizationMessage(details map[string]any) string {
	b, _ := json.Marshal(details)
	return "ovc-" + base64.RawURLEncoding.EncodeToString(b)
}

// context gathers the request's condition keys.
func (e *Enforcer) context(prefix string, req *service.Request) policy.Context {
	now := time.Now()
	if e.Now != nil {
		now = e.Now()
	}
	ctx := policy.Context{
		"aws:currenttime":     {now.UTC().Format(time.RFC3339)},
		"aws:epochtime":       {strconv.FormatInt(now.Unix(), 10)},
		"aws:requestedregion": {req.Region},
	}
	if r := req.HTTP; r != nil {
		ctx["aws:securetransport"] = []string{strconv.FormatBool(r.TLS != nil)}
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			ctx["aws:sourceip"] = []string{host}
		}
		if ua := r.UserAgent(); ua != "" {
			ctx["aws:useragent"] = []string{ua}
		}
		if ref := r.Referer(); ref != "" {
			ctx["aws:referer"] = []string{ref}
		}
	}
	in := req.Input
	// Tags on the request.
	var keys []string
	addTag := func(k, v string) {
		ctx["aws:requesttag/"+strings.ToLower(k)] = []string{v}
		keys = append(keys, k)
	}
	for _, field := range []string{"Tags", "tags", "TagList"} {
		switch t := in[field].(type) {
		case []any:
			for _, x := range t {
				m, _ := x.(map[string]any)
				k := service.Str(m, "Key")
				if k == "" {
					k = service.Str(m, "key")
				}
				v := service.Str(m, "Value")
				if v == "" {
					v = service.Str(m, "value")
				}
				if k != "" {
					addTag(k, v)
				}
			}
		case map[string]any:
			for k, v := range t {
				s, _ := v.(string)
				addTag(k, s)
			}
		}
	}
	if len(keys) > 0 {
		ctx["aws:tagkeys"] = keys
	}
	switch prefix {
	case "sts":
		if v := service.Str(in, "ExternalId"); v != "" {
			ctx["sts:externalid"] = []string{v}
		}
		if v := service.Str(in, "RoleSessionName"); v != "" {
			ctx["sts:rolesessionname"] = []string{v}
		}
		if v := service.Str(in, "SourceIdentity"); v != "" {
			ctx["sts:sourceidentity"] = []string{v}
		}
		if l := service.Strings(in, "TransitiveTagKeys"); len(l) > 0 {
			ctx["sts:transitivetagkeys"] = l
		}
	case "s3":
		if v, ok := in["Prefix"].(string); ok {
			ctx["s3:prefix"] = []string{v}
		}
		if v := service.Str(in, "Delimiter"); v != "" {
			ctx["s3:delimiter"] = []string{v}
		}
		if n, ok := service.Int(in, "MaxKeys"); ok {
			ctx["s3:max-keys"] = []string{strconv.FormatInt(n, 10)}
		}
	}
	return ctx
}

func arnAccount(arn string) string {
	if !strings.HasPrefix(arn, "arn:") {
		return ""
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[4] == "*" || parts[4] == "aws" {
		return ""
	}
	return parts[4]
}
