package server

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/gateway"
	"github.com/overcast-dev/overcast/internal/policy"
	"github.com/overcast-dev/overcast/internal/policy/enforce"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/sigv4"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/iam"
	"github.com/overcast-dev/overcast/internal/service/sts"
)

// auth adapts the SigV4 verifier to the gateway and resolves callers: the
// root access key, IAM-issued keys and STS temporary credentials (with
// their session token). iam and sts are nil when those services do not run.
type auth struct {
	verifier            *sigv4.Verifier
	rootKey, rootSecret string
	iam                 *iam.Service
	sts                 *sts.Service
	clock               clock.Clock
	// services are the running services, for their resource policies.
	services []service.Service
	// policies caches parsed resource policies by document.
	policies policyCache
}

func newAuth(accessKey, secretKey string) *auth {
	a := &auth{rootKey: accessKey, rootSecret: secretKey}
	a.verifier = &sigv4.Verifier{Secret: a.secret}
	return a
}

// secret returns the secret of a root, IAM (active) or temporary key.
func (a *auth) secret(k string) (string, bool) {
	if k == a.rootKey {
		return a.rootSecret, true
	}
	if a.sts != nil {
		if secret, _, _, _, ok := a.sts.Lookup(k); ok {
			return secret, true
		}
	}
	if a.iam != nil {
		if secret, _, active, ok := a.iam.AccessKey(k); ok && active {
			return secret, true
		}
	}
	return "", false
}

func (a *auth) Identify(r *http.Request) (*gateway.Credential, error) {
	c, err := sigv4.Parse(r)
	if errors.Is(err, sigv4.ErrUnsigned) {
		if unsignedSTS(r) {
			return &gateway.Credential{Service: "sts", Raw: anonymousCall{}}, nil
		}
		return nil, nil
	}
	if c == nil {
		return nil, err
	}
	return &gateway.Credential{AccessKey: c.AccessKey, Region: c.Region, Service: c.Service, Raw: c}, err
}

func (a *auth) Verify(r *http.Request, c *gateway.Credential) error {
	if _, ok := c.Raw.(anonymousCall); ok {
		return nil
	}
	sc, _ := c.Raw.(*sigv4.Credential)
	if sc != nil && a.sts != nil {
		if _, token, _, expired, ok := a.sts.Lookup(sc.AccessKey); ok {
			if sc.SessionToken != token {
				return invalidToken(sc.IsS3())
			}
			if expired {
				return expiredToken(sc.IsS3())
			}
		}
	}
	if err := a.verifier.Verify(r, sc); err != nil {
		return err
	}
	if sc != nil && a.iam != nil && a.clock != nil {
		a.iam.RecordKeyUse(sc.AccessKey, sc.Service, sc.Region, a.clock.Now())
	}
	return nil
}

// anonymousCall marks an unsigned request for an operation AWS serves
// without a signature.
type anonymousCall struct{}

// unsignedSTS reports whether an unsigned request is an STS call that
// carries its own credentials (AssumeRoleWithWebIdentity and
// AssumeRoleWithSAML, which clients send unsigned). It reads a small
// form body and puts it back.
func unsignedSTS(r *http.Request) bool {
	isOp := func(vs []string) bool {
		for _, v := range vs {
			if v != "AssumeRoleWithWebIdentity" && v != "AssumeRoleWithSAML" {
				return false
			}
		}
		return len(vs) > 0
	}
	q := r.URL.Query()
	actions := q["Action"]
	if r.Method == http.MethodPost && r.Body != nil && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if r.ContentLength < 0 || r.ContentLength > 64<<10 {
			return false
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, r.ContentLength))
		r.Body = io.NopCloser(bytes.NewReader(b))
		if err != nil {
			return false
		}
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return false
		}
		actions = append(actions, form["Action"]...)
	}
	return isOp(actions)
}

func invalidToken(s3 bool) *awserr.Error {
	if s3 {
		return awserr.WithStatus(http.StatusBadRequest, "InvalidToken", "The provided token is malformed or otherwise invalid.")
	}
	return awserr.WithStatus(http.StatusForbidden, awserr.CodeInvalidClientTokenID, "The security token included in the request is invalid.")
}

func expiredToken(s3 bool) *awserr.Error {
	if s3 {
		return awserr.WithStatus(http.StatusBadRequest, "ExpiredToken", "The provided token has expired.")
	}
	return awserr.WithStatus(http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
}

// Account returns the account of an access key: the account that issued an
// IAM or temporary key, else the root key rules of AccountOf.
func (a *auth) Account(accessKey string) string {
	if a.sts != nil && strings.HasPrefix(accessKey, "ASIA") {
		if _, _, acct, _, ok := a.sts.Lookup(accessKey); ok {
			return acct
		}
	}
	if a.iam != nil && strings.HasPrefix(accessKey, "AKIA") {
		if _, acct, _, ok := a.iam.AccessKey(accessKey); ok {
			return acct
		}
	}
	return AccountOf(accessKey)
}

// principal returns the caller behind an access key, for policy
// enforcement.
func (a *auth) principal(accessKey, account string) (*policy.Principal, error) {
	if accessKey == "" {
		return &policy.Principal{Type: policy.Anonymous}, nil
	}
	if a.sts != nil {
		if _, _, _, expired, ok := a.sts.Lookup(accessKey); ok {
			if expired {
				return nil, expiredToken(false)
			}
			if p, ok := a.sts.Principal(accessKey); ok {
				return p, nil
			}
			return nil, expiredToken(false)
		}
	}
	if a.iam != nil {
		if _, _, active, ok := a.iam.AccessKey(accessKey); ok {
			if !active {
				return nil, invalidToken(false)
			}
			if p, ok := a.iam.KeyPrincipal(accessKey); ok {
				return p, nil
			}
			return nil, invalidToken(false)
		}
	}
	if strings.HasPrefix(accessKey, "ASIA") && accessKey != a.rootKey {
		return nil, invalidToken(false)
	}
	return &policy.Principal{Type: policy.Root, ARN: "arn:aws:iam::" + account + ":root", Account: account, UserID: account}, nil
}

// authorizer returns the gateway's policy enforcement for mode, or nil
// when it is off.
func (a *auth) authorizer(mode enforce.Mode, logger *slog.Logger) gateway.Authorizer {
	if mode == enforce.Off {
		return nil
	}
	e := &enforce.Enforcer{Mode: mode, Logger: logger, Principal: a.principal, ResourcePolicies: map[string]enforce.ResourcePolicyFunc{}}
	if a.clock != nil {
		e.Now = a.clock.Now
	}
	if a.iam != nil {
		e.ResourcePolicies["sts"] = func(account, arn string) (*policy.Policy, string) {
			parts := strings.SplitN(arn, ":", 6)
			if len(parts) != 6 {
				return nil, ""
			}
			_, trust, _, ok := a.iam.RolePrincipal(parts[4], arn)
			if !ok {
				return nil, parts[4]
			}
			return trust, parts[4]
		}
	}
	for _, svc := range a.services {
		switch x := svc.(type) {
		case bucketPolicies:
			e.ResourcePolicies["s3"] = func(account, arn string) (*policy.Policy, string) {
				// arn:<partition>:s3:::<bucket>[/<key>]
				parts := strings.SplitN(arn, ":", 6)
				if len(parts) != 6 {
					return nil, ""
				}
				bucket, _, _ := strings.Cut(parts[5], "/")
				doc, owner, ok := x.BucketPolicy(parts[1], bucket)
				if !ok {
					return nil, ""
				}
				return a.policies.get(doc), owner
			}
		case queuePolicies:
			e.ResourcePolicies["sqs"] = func(account, arn string) (*policy.Policy, string) {
				doc, _ := x.QueuePolicy(arn)
				return a.policies.get(doc), ""
			}
		case topicPolicies:
			e.ResourcePolicies["sns"] = func(account, arn string) (*policy.Policy, string) {
				doc, owner, _ := x.TopicPolicy(arn)
				return a.policies.get(doc), owner
			}
		case functionPolicies:
			e.ResourcePolicies["lambda"] = func(account, arn string) (*policy.Policy, string) {
				// arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]
				parts := strings.Split(arn, ":")
				if len(parts) < 7 || parts[5] != "function" {
					return nil, ""
				}
				sts := x.PolicyStatements(parts[4], parts[3], parts[6])
				if len(sts) == 0 {
					return nil, ""
				}
				return a.policies.get(`{"Version":"2012-10-17","Statement":[` + strings.Join(sts, ",") + `]}`), ""
			}
		}
	}
	return e
}

// The resource-policy look-ups services export (see each package's
// policy_export.go).
type (
	bucketPolicies interface {
		BucketPolicy(partition, bucket string) (policy, owner string, found bool)
	}
	queuePolicies interface {
		QueuePolicy(queueARN string) (policy string, found bool)
	}
	topicPolicies interface {
		TopicPolicy(topicARN string) (policy, owner string, found bool)
	}
	functionPolicies interface {
		PolicyStatements(account, region, name string) []string
	}
)

// policyCache keeps parsed resource policies by their text, so a request
// does not parse its resource's policy again.
type policyCache struct {
	mu sync.RWMutex
	m  map[string]*policy.Policy
}

// get returns doc parsed (nil for "" or a document that does not parse).
func (c *policyCache) get(doc string) *policy.Policy {
	if doc == "" {
		return nil
	}
	c.mu.RLock()
	p, ok := c.m[doc]
	c.mu.RUnlock()
	if ok {
		return p
	}
	p, err := policy.Parse(doc, policy.Any)
	if err != nil {
		p = nil
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= 4096 {
		c.m = map[string]*policy.Policy{}
	}
	c.m[doc] = p
	c.mu.Unlock()
	return p
}
