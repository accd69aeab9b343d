// Package sts implements AWS Security Token Service: who the caller is, and
// temporary credentials (AssumeRole, GetSessionToken, GetFederationToken)
// that carry a session token and really expire.
//
// # Fidelity
//
// Emulated: GetCallerIdentity for the account root, IAM users, assumed-role
// sessions (arn:aws:sts::<account>:assumed-role/<role>/<session>, UserId
// "<role id>:<session>") and federated users; AssumeRole with session name,
// duration (900 s up to the role's MaxSessionDuration, one hour when
// chaining roles), inline and managed session policies, session tags,
// transitive tag keys, external id and source identity; GetSessionToken
// (900 s to 36 h, one hour for the root); GetFederationToken;
// GetAccessKeyInfo; DecodeAuthorizationMessage for messages Overcast
// encoded; AssumeRoleWithWebIdentity with RS256 OpenID Connect ID tokens,
// verified against the issuer's keys, for an IAM OIDC provider of the
// role's account whose client ids include the token's audience, and the
// role's trust policy evaluated for the provider as Federated principal
// with the <provider>:sub, <provider>:aud and <provider>:oaud condition
// keys (always, whatever the enforcement mode: the token is the
// credential). A local issuer is served under /_overcast/oidc/ (discovery
// document, JWKS, and a token endpoint for tests, see OIDCHandler); other
// issuers' keys are fetched from their discovery document. Temporary credentials are stored (they survive a restart) and
// expire by the injected clock; the gateway refuses them once expired.
//
// Whether the caller may assume a role (its identity policies and the
// role's trust policy, sts:ExternalId, ...) is decided by the gateway's
// policy enforcement, as for every other action: with enforcement off any
// caller may assume any existing role.
//
// Deviations: MFA (SerialNumber, TokenCode) is accepted and not checked;
// AssumeRoleWithSAML, AssumeRoot and the outbound web identity operations
// answer NotImplemented; web identity tokens must be RS256 (no ES256) and
// thumbprints of OIDC providers are not checked; session tokens are opaque random strings, not
// encrypted blobs; a caller without IAM (a key Overcast did not issue) is
// the root of the key's account.
package sts

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/policy"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// AccountResolver maps an access key that is neither IAM-issued nor
// temporary to its account.
type AccountResolver func(accessKey string) string

// Directory is what STS needs from IAM.
type Directory interface {
	// KeyPrincipal returns the IAM user behind a long-term access key.
	KeyPrincipal(accessKey string) (*policy.Principal, bool)
	// AccessKey returns an IAM key's secret and account, and whether it is
	// active; ok is false for a key IAM did not issue.
	AccessKey(id string) (secret, account string, active, ok bool)
	// RolePrincipal returns a role by name or ARN, with its policies, trust
	// policy and maximum session duration in seconds.
	RolePrincipal(account, name string) (p *policy.Principal, trust *policy.Policy, maxSession int64, ok bool)
	// ManagedPolicy returns the default version of a managed policy.
	ManagedPolicy(account, arn string) (*policy.Policy, bool)
	// OIDCProvider returns account's OpenID Connect provider for an issuer
	// URL (with or without scheme): its ARN and client ids.
	OIDCProvider(account, issuer string) (arn string, clientIDs []string, ok bool)
}

// Config configures STS.
type Config struct {
	// Account resolves keys that are neither IAM-issued nor temporary.
	Account AccountResolver
	// KV stores temporary credentials; nil keeps them in memory only.
	KV storage.KV
	// Clock dates and expires credentials; nil is the real clock.
	Clock clock.Clock
	// Directory is IAM; nil means there are no users or roles.
	Directory Directory
}

// Service is STS.
type Service struct {
	cfg Config

	mu       sync.RWMutex
	sessions map[string]*session

	issuer issuer
	jwks   jwksCache
}

// session is one set of temporary credentials.
type session struct {
	AccessKey string    `json:"ak"`
	Secret    string    `json:"secret"`
	Token     string    `json:"token"`
	Expires   time.Time `json:"expires"`
	Account   string    `json:"account"`
	// Kind is "role", "user" (GetSessionToken of a user), "root" or
	// "federated".
	Kind           string            `json:"kind"`
	Role           string            `json:"role,omitempty"` // role name
	RoleARN        string            `json:"roleArn,omitempty"`
	RoleID         string            `json:"roleId,omitempty"`
	Name           string            `json:"name,omitempty"` // session or federated user name
	UserKey        string            `json:"userKey,omitempty"`
	Policy         string            `json:"policy,omitempty"`
	PolicyARNs     []string          `json:"policyArns,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
	Transitive     []string          `json:"transitive,omitempty"`
	SourceIdentity string            `json:"sourceIdentity,omitempty"`
	ARN            string            `json:"arn"`
	UserID         string            `json:"userId"`

	inline *policy.Policy
}

// New returns STS.
func New(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real()
	}
	if cfg.Account == nil {
		cfg.Account = func(string) string { return "000000000000" }
	}
	return &Service{cfg: cfg, sessions: map[string]*session{}}
}

// Name implements service.Service.
func (*Service) Name() string { return "sts" }

// APIs implements service.Service.
func (*Service) APIs() []string { return []string{"sts"} }

var scope = storage.Scope{Service: "sts"}

// Start loads the unexpired sessions.
func (s *Service) Start(ctx context.Context) error {
	if s.cfg.KV == nil {
		return nil
	}
	now := s.cfg.Clock.Now()
	start, end := scope.Range("session")
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.KV.View(func(tx storage.Tx) error {
		return tx.Scan(start, end, func(k, v []byte) bool {
			var ss session
			if json.Unmarshal(v, &ss) != nil || !now.Before(ss.Expires) {
				return true
			}
			if ss.Policy != "" {
				ss.inline, _ = policy.Parse(ss.Policy, policy.Any)
			}
			s.sessions[ss.AccessKey] = &ss
			return true
		})
	})
}

// Handlers implements service.Service.
func (s *Service) Handlers() map[string]service.Handler {
	return map[string]service.Handler{
		"GetCallerIdentity":          s.getCallerIdentity,
		"GetAccessKeyInfo":           s.getAccessKeyInfo,
		"AssumeRole":                 s.assumeRole,
		"AssumeRoleWithWebIdentity":  s.assumeRoleWithWebIdentity,
		"GetSessionToken":            s.getSessionToken,
		"GetFederationToken":         s.getFederationToken,
		"DecodeAuthorizationMessage": s.decodeAuthorizationMessage,
	}
}

// Errors.
const (
	codeExpiredToken        = "ExpiredToken"
	codeMalformedPolicy     = "MalformedPolicyDocument"
	codePackedPolicyTooBig  = "PackedPolicyTooLarge"
	codeInvalidAuthMessage  = "InvalidAuthorizationMessageException"
	maxPackedPolicyNonSpace = 2048
)

// Temporary credential lookups, for the server's authentication.

// Lookup returns the session of temporary credentials. expired reports
// whether they have expired; ok is false for keys STS did not issue.
func (s *Service) Lookup(accessKey string) (secret, token, account string, expired, ok bool) {
	s.mu.RLock()
	ss := s.sessions[accessKey]
	s.mu.RUnlock()
	if ss == nil {
		return "", "", "", false, false
	}
	return ss.Secret, ss.Token, ss.Account, !s.cfg.Clock.Now().Before(ss.Expires), true
}

// Principal returns the principal behind temporary credentials, with the
// role's policies as they are now and the session's own policies and tags.
// ok is false for unknown or expired credentials.
func (s *Service) Principal(accessKey string) (*policy.Principal, bool) {
	s.mu.RLock()
	ss := s.sessions[accessKey]
	s.mu.RUnlock()
	if ss == nil || !s.cfg.Clock.Now().Before(ss.Expires) {
		return nil, false
	}
	return s.sessionPrincipal(ss), true
}

func (s *Service) sessionPrincipal(ss *session) *policy.Principal {
	var p *policy.Principal
	switch ss.Kind {
	case "role":
		if s.cfg.Directory != nil {
			rp, _, _, ok := s.cfg.Directory.RolePrincipal(ss.Account, ss.Role)
			if ok && rp.ARN == ss.RoleARN {
				p = rp
			}
		}
		if p == nil {
			// The role is gone: the session keeps its name but no permissions.
			p = &policy.Principal{Type: policy.AssumedRole, RoleARN: ss.RoleARN, Name: ss.Role}
		}
		p.Type = policy.AssumedRole
		p.RoleARN = ss.RoleARN
		p.SessionName = ss.Name
		if len(ss.Tags) > 0 {
			tags := map[string]string{}
			for k, v := range p.Tags {
				tags[k] = v
			}
			for k, v := range ss.Tags {
				for old := range tags {
					if strings.EqualFold(old, k) {
						delete(tags, old)
					}
				}
				tags[k] = v
			}
			p.Tags = tags
		}
		p.HasSession = ss.Policy != "" || len(ss.PolicyARNs) > 0
	case "user", "federated":
		if s.cfg.Directory != nil {
			if up, ok := s.cfg.Directory.KeyPrincipal(ss.UserKey); ok {
				p = up
			}
		}
		if p == nil {
			p = &policy.Principal{Type: policy.Root, ARN: "arn:aws:iam::" + ss.Account + ":root"}
		}
		if ss.Kind == "federated" {
			p.Type = policy.FederatedUser
			p.HasSession = true
		}
	default:
		p = &policy.Principal{Type: policy.Root}
	}
	p.ARN, p.UserID, p.Account = ss.ARN, ss.UserID, ss.Account
	p.SourceIdentity = ss.SourceIdentity
	if ss.inline != nil {
		p.Session = append(p.Session, ss.inline)
	}
	if s.cfg.Directory != nil {
		for _, arn := range ss.PolicyARNs {
			if mp, ok := s.cfg.Directory.ManagedPolicy(ss.Account, arn); ok {
				p.Session = append(p.Session, mp)
			}
		}
	}
	return p
}

// caller returns the principal of the request's credentials.
func (s *Service) caller(r *service.Request) (*policy.Principal, *session) {
	s.mu.RLock()
	ss := s.sessions[r.AccessKey]
	s.mu.RUnlock()
	if ss != nil {
		return s.sessionPrincipal(ss), ss
	}
	if s.cfg.Directory != nil {
		if p, ok := s.cfg.Directory.KeyPrincipal(r.AccessKey); ok {
			return p, nil
		}
	}
	return &policy.Principal{Type: policy.Root, ARN: "arn:" + service.Partition(r.Region) + ":iam::" + r.Account + ":root", Account: r.Account, UserID: r.Account}, nil
}

func (s *Service) getCallerIdentity(r *service.Request) (map[string]any, error) {
	p, _ := s.caller(r)
	return map[string]any{"Account": p.Account, "Arn": p.ARN, "UserId": p.UserID}, nil
}

func (s *Service) getAccessKeyInfo(r *service.Request) (map[string]any, error) {
	key := service.Str(r.Input, "AccessKeyId")
	if len(key) < 16 || len(key) > 128 {
		return nil, awserr.New(awserr.CodeValidation, "1 validation error detected: Value '%s' at 'accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 16", key)
	}
	if _, _, acct, _, ok := s.Lookup(key); ok {
		return map[string]any{"Account": acct}, nil
	}
	if s.cfg.Directory != nil {
		if _, acct, _, ok := s.cfg.Directory.AccessKey(key); ok {
			return map[string]any{"Account": acct}, nil
		}
	}
	return map[string]any{"Account": s.cfg.Account(key)}, nil
}

// credentials

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func newID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// issue stores a new session and returns its Credentials member.
func (s *Service) issue(ss *session, d time.Duration) (map[string]any, error) {
	ss.AccessKey = newID("ASIA", 16)
	ss.Secret = randomString(30)
	ss.Token = "IQoJb3JpZ2luX2VjE" + randomString(180)
	ss.Expires = s.cfg.Clock.Now().Add(d).UTC().Truncate(time.Second)
	if s.cfg.KV != nil {
		b, err := json.Marshal(ss)
		if err != nil {
			return nil, err
		}
		if err := s.cfg.KV.Update(func(tx storage.Tx) error {
			// Drop a few expired sessions on the way.
			s.pruneLocked(tx)
			return tx.Put(scope.Key("session", ss.AccessKey), b)
		}); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	s.sessions[ss.AccessKey] = ss
	s.mu.Unlock()
	return map[string]any{"AccessKeyId": ss.AccessKey, "SecretAccessKey": ss.Secret, "SessionToken": ss.Token, "Expiration": ss.Expires}, nil
}

// pruneLocked deletes expired sessions from memory and tx.
func (s *Service) pruneLocked(tx storage.Tx) {
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, ss := range s.sessions {
		if n >= 16 {
			break
		}
		if !now.Before(ss.Expires.Add(time.Hour)) {
			delete(s.sessions, k)
			tx.Delete(scope.Key("session", k))
			n++
		}
	}
}

func validationf(format string, args ...any) *awserr.Error {
	return awserr.New(awserr.CodeValidation, format, args...)
}

func validSessionName(field, v string, min int) error {
	if len(v) < min || len(v) > 64 {
		return validationf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length between %d and 64", v, field, min)
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_+=,.@-", r)) {
			return validationf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", v, field)
		}
	}
	return nil
}

// sessionPolicies validates the Policy and PolicyArns members.
func sessionPolicies(r *service.Request) (*policy.Policy, []string, int64, error) {
	var inline *policy.Policy
	doc := service.Str(r.Input, "Policy")
	size := int64(0)
	if doc != "" {
		var err error
		inline, err = policy.Parse(doc, policy.Identity)
		if err != nil {
			msg := policy.MsgSyntax
			if pe, ok := err.(*policy.Error); ok {
				msg = pe.Message
			}
			return nil, nil, 0, awserr.New(codeMalformedPolicy, "%s", msg)
		}
		inline.Name = "session"
		size = int64(policy.NonWhitespaceLen(doc))
	}
	var arns []string
	l, _ := r.Input["PolicyArns"].([]any)
	if len(l) > 10 {
		return nil, nil, 0, validationf("1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10")
	}
	for _, e := range l {
		m, _ := e.(map[string]any)
		arn := service.Str(m, "arn")
		if !strings.HasPrefix(arn, "arn:") {
			return nil, nil, 0, validationf("1 validation error detected: Value '%s' at 'policyArns.member.arn' failed to satisfy constraint: Member must have length greater than or equal to 20", arn)
		}
		arns = append(arns, arn)
		size += int64(len(arn))
	}
	packed := size * 100 / maxPackedPolicyNonSpace
	if packed > 100 {
		return nil, nil, 0, awserr.New(codePackedPolicyTooBig, "Packed policy consumes %d%% of allotted space, please use smaller policy for the session.", packed)
	}
	return inline, arns, packed, nil
}

func sessionTags(r *service.Request) (map[string]string, error) {
	l, _ := r.Input["Tags"].([]any)
	if len(l) > 50 {
		return nil, validationf("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
	if len(l) == 0 {
		return nil, nil
	}
	tags := map[string]string{}
	for _, e := range l {
		m, _ := e.(map[string]any)
		k, v := service.Str(m, "Key"), service.Str(m, "Value")
		if k == "" || len(k) > 128 || len(v) > 256 {
			return nil, validationf("1 validation error detected: Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128", k)
		}
		for old := range tags {
			if strings.EqualFold(old, k) {
				return nil, awserr.New("InvalidParameterValue", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
			}
		}
		tags[k] = v
	}
	return tags, nil
}

func (s *Service) assumeRole(r *service.Request) (map[string]any, error) {
	roleARN := service.Str(r.Input, "RoleArn")
	sessName := service.Str(r.Input, "RoleSessionName")
	if len(roleARN) < 20 || len(roleARN) > 2048 {
		return nil, validationf("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", roleARN)
	}
	if err := validSessionName("roleSessionName", sessName, 2); err != nil {
		return nil, err
	}
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return nil, validationf("%s is invalid", roleARN)
	}
	roleAccount := parts[4]
	inline, arns, packed, err := sessionPolicies(r)
	if err != nil {
		return nil, err
	}
	tags, err := sessionTags(r)
	if err != nil {
		return nil, err
	}
	if src := service.Str(r.Input, "SourceIdentity"); src != "" {
		if err := validSessionName("sourceIdentity", src, 2); err != nil {
			return nil, err
		}
		if strings.HasPrefix(strings.ToLower(src), "aws:") {
			return nil, validationf("1 validation error detected: Value '%s' at 'sourceIdentity' failed to satisfy constraint: Member must not start with 'aws:'", src)
		}
	}
	caller, callerSession := s.caller(r)
	var rp *policy.Principal
	var maxSess int64
	ok := false
	if s.cfg.Directory != nil {
		rp, _, maxSess, ok = s.cfg.Directory.RolePrincipal(roleAccount, roleARN)
		if ok && rp.ARN != roleARN {
			ok = false
		}
	}
	if !ok {
		return nil, &awserr.Error{Code: awserr.CodeAccessDenied, Status: http.StatusForbidden,
			Message: "User: " + caller.ARN + " is not authorized to perform: sts:AssumeRole on resource: " + roleARN}
	}
	dur := int64(3600)
	if d, set := service.Int(r.Input, "DurationSeconds"); set {
		dur = d
	}
	if dur < 900 {
		return nil, validationf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", dur)
	}
	if callerSession != nil && callerSession.Kind == "role" && dur > 3600 {
		return nil, validationf("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if dur > maxSess {
		return nil, validationf("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	// Transitive tags of a chained session carry over.
	if callerSession != nil && len(callerSession.Transitive) > 0 {
		if tags == nil {
			tags = map[string]string{}
		}
		for _, k := range callerSession.Transitive {
			if v, ok := callerSession.Tags[k]; ok {
				if _, set := tags[k]; set {
					return nil, awserr.New("InvalidParameterValue", "One or more of the specified transitive tag keys conflict with session tags.")
				}
				tags[k] = v
			}
		}
	}
	transitive := service.Strings(r.Input, "TransitiveTagKeys")
	for _, k := range transitive {
		if _, ok := tags[k]; !ok {
			return nil, awserr.New("InvalidParameterValue", "The specified transitive tag key must be included in the requested tags.")
		}
	}
	if callerSession != nil {
		transitive = append(transitive, callerSession.Transitive...)
	}
	source := service.Str(r.Input, "SourceIdentity")
	if callerSession != nil && callerSession.SourceIdentity != "" {
		if source != "" && source != callerSession.SourceIdentity {
			return nil, &awserr.Error{Code: awserr.CodeAccessDenied, Status: http.StatusForbidden, Message: "The source identity of a role session cannot be changed."}
		}
		source = callerSession.SourceIdentity
	}
	partition := parts[1]
	ss := &session{
		Account: roleAccount, Kind: "role", Role: rp.Name, RoleARN: rp.ARN, RoleID: rp.UserID, Name: sessName,
		Policy: service.Str(r.Input, "Policy"), PolicyARNs: arns, Tags: tags, Transitive: transitive, SourceIdentity: source,
		ARN:    "arn:" + partition + ":sts::" + roleAccount + ":assumed-role/" + rp.Name + "/" + sessName,
		UserID: rp.UserID + ":" + sessName, inline: inline,
	}
	creds, err := s.issue(ss, time.Duration(dur)*time.Second)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"Credentials":     creds,
		"AssumedRoleUser": map[string]any{"AssumedRoleId": ss.UserID, "Arn": ss.ARN},
	}
	if inline != nil || len(arns) > 0 || len(tags) > 0 {
		out["PackedPolicySize"] = packed
	}
	if source != "" {
		out["SourceIdentity"] = source
	}
	return out, nil
}

func (s *Service) getSessionToken(r *service.Request) (map[string]any, error) {
	caller, callerSession := s.caller(r)
	if callerSession != nil {
		return nil, &awserr.Error{Code: awserr.CodeAccessDenied, Status: http.StatusForbidden, Message: "Cannot call GetSessionToken with session credentials"}
	}
	dur := int64(43200)
	max := int64(129600)
	if caller.Type == policy.Root {
		dur, max = 3600, 3600
	}
	if d, set := service.Int(r.Input, "DurationSeconds"); set {
		if d < 900 {
			return nil, validationf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", d)
		}
		if d > 129600 {
			return nil, validationf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 129600", d)
		}
		dur = min(d, max)
	}
	kind := "user"
	if caller.Type == policy.Root {
		kind = "root"
	}
	ss := &session{Account: caller.Account, Kind: kind, UserKey: r.AccessKey, ARN: caller.ARN, UserID: caller.UserID, Name: caller.Name}
	creds, err := s.issue(ss, time.Duration(dur)*time.Second)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Credentials": creds}, nil
}

func (s *Service) getFederationToken(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "Name")
	if err := validSessionName("name", name, 2); err != nil {
		return nil, err
	}
	caller, callerSession := s.caller(r)
	if callerSession != nil {
		return nil, &awserr.Error{Code: awserr.CodeAccessDenied, Status: http.StatusForbidden, Message: "Cannot call GetFederationToken with session credentials"}
	}
	inline, arns, packed, err := sessionPolicies(r)
	if err != nil {
		return nil, err
	}
	tags, err := sessionTags(r)
	if err != nil {
		return nil, err
	}
	dur := int64(43200)
	if d, set := service.Int(r.Input, "DurationSeconds"); set {
		if d < 900 || d > 129600 {
			return nil, validationf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 129600", d)
		}
		dur = d
	}
	if caller.Type == policy.Root {
		dur = min(dur, 3600)
	}
	ss := &session{Account: caller.Account, Kind: "federated", UserKey: r.AccessKey, Name: name, Policy: service.Str(r.Input, "Policy"), PolicyARNs: arns, Tags: tags,
		ARN: "arn:" + service.Partition(r.Region) + ":sts::" + caller.Account + ":federated-user/" + name, UserID: caller.Account + ":" + name, inline: inline}
	creds, err := s.issue(ss, time.Duration(dur)*time.Second)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"Credentials":      creds,
		"FederatedUser":    map[string]any{"FederatedUserId": ss.UserID, "Arn": ss.ARN},
		"PackedPolicySize": packed,
	}, nil
}

// EncodeAuthorizationMessage encodes the details of a denied request the
// way DecodeAuthorizationMessage expects them.
func EncodeAuthorizationMessage(details map[string]any) string {
	b, _ := json.Marshal(details)
	return "ovc-" + base64.RawURLEncoding.EncodeToString(b)
}

func (s *Service) decodeAuthorizationMessage(r *service.Request) (map[string]any, error) {
	msg := service.Str(r.Input, "EncodedMessage")
	raw, ok := strings.CutPrefix(msg, "ovc-")
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if !ok || err != nil || !json.Valid(b) {
		return nil, awserr.New(codeInvalidAuthMessage, "Message is not valid")
	}
	return map[string]any{"DecodedMessage": string(b)}, nil
}

var _ service.Service = (*Service)(nil)
var _ service.Starter = (*Service)(nil)
