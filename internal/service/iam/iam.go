// Package iam implements AWS Identity and Access Management: users, groups,
// roles, managed and inline policies, access keys, instance profiles, account
// aliases, login profiles, OpenID Connect providers, the credential report,
// GetAccountAuthorizationDetails, GetAccountSummary and the policy
// simulator. It is also the directory the gateway asks
// who a caller is and which policies apply to it (see Principal methods).
//
// # Fidelity
//
// Emulated: the entities and their relations with IAM's validation and error
// messages (NoSuchEntity, EntityAlreadyExists, DeleteConflict, LimitExceeded,
// MalformedPolicyDocument through package policy), names unique without
// regard to case, paths, tags, permissions boundaries, up to five policy
// versions with a default, attachment counts, pagination with Marker and
// IsTruncated, access key status and last use, AWS managed policies (a
// curated set: AdministratorAccess, ReadOnlyAccess, PowerUserAccess,
// IAMFullAccess and the S3/SQS/SNS/DynamoDB/CloudWatch/Logs/Lambda ones),
// and SimulatePrincipalPolicy / SimulateCustomPolicy answered by the same
// engine the gateway enforces with. Policy documents are returned
// URL-encoded, as AWS does. IAM is global: state is partitioned by account
// only.
//
// Deviations: the AWS managed policy set is small and the documents of
// ReadOnlyAccess and PowerUserAccess are approximations; MFA devices, SAML
// providers, server certificates, signing certificates and password
// policies answer NotImplemented (the credential report shows no MFA and
// no certificates; passwords are checked against AWS's default password
// policy); OIDC provider thumbprints are stored, not checked, and http
// provider URLs are accepted for local issuers; a mutation rewrites the account's whole IAM state
// (IAM accounts are small), under one lock.
package iam

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/policy"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// Service is IAM.
type Service struct {
	kv    storage.KV
	clock clock.Clock

	mu       sync.RWMutex
	accounts map[string]*state
	keys     map[string]*accessKey // every account's access keys by id
	keyAcct  map[string]string

	usedMu   sync.Mutex
	lastUsed map[string]keyUse
}

type keyUse struct {
	when            time.Time
	service, region string
}

// New returns IAM storing its state in kv; clk dates entities.
func New(kv storage.KV, clk clock.Clock) *Service {
	if clk == nil {
		clk = clock.Real()
	}
	return &Service{kv: kv, clock: clk, accounts: map[string]*state{}, keys: map[string]*accessKey{}, keyAcct: map[string]string{}, lastUsed: map[string]keyUse{}}
}

// Name implements service.Service.
func (*Service) Name() string { return "iam" }

// APIs implements service.Service.
func (*Service) APIs() []string { return []string{"iam"} }

var scope = storage.Scope{Service: "iam"}

// Start loads every account's IAM state.
func (s *Service) Start(ctx context.Context) error {
	start, end := scope.Range("account")
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kv.View(func(tx storage.Tx) error {
		var err error
		tx.Scan(start, end, func(k, v []byte) bool {
			parts, perr := scope.Parts(k)
			if perr != nil || len(parts) != 2 {
				return true
			}
			st := newState()
			if err = json.Unmarshal(v, st); err != nil {
				err = fmt.Errorf("iam state of %s: %w", parts[1], err)
				return false
			}
			st.compile()
			s.accounts[parts[1]] = st
			for id, k := range st.Keys {
				s.keys[id] = k
				s.keyAcct[id] = parts[1]
			}
			return true
		})
		return err
	})
}

// state is one account's IAM.
type state struct {
	Users     map[string]*user            `json:"users"`
	Groups    map[string]*group           `json:"groups"`
	Roles     map[string]*role            `json:"roles"`
	Policies  map[string]*managedPolicy   `json:"policies"` // by ARN
	Profiles  map[string]*instanceProfile `json:"profiles"`
	Keys      map[string]*accessKey       `json:"keys"`
	Aliases   []string                    `json:"aliases,omitempty"`
	Providers map[string]*oidcProvider    `json:"providers,omitempty"`
	// Report is when the credential report was last generated.
	Report *time.Time `json:"report,omitempty"`
}

func newState() *state {
	return &state{Users: map[string]*user{}, Groups: map[string]*group{}, Roles: map[string]*role{}, Policies: map[string]*managedPolicy{}, Profiles: map[string]*instanceProfile{}, Keys: map[string]*accessKey{}, Providers: map[string]*oidcProvider{}}
}

type tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

type entity struct {
	Name     string            `json:"name"`
	ID       string            `json:"id"`
	Path     string            `json:"path"`
	ARN      string            `json:"arn"`
	Created  time.Time         `json:"created"`
	Inline   map[string]string `json:"inline,omitempty"` // policy name → document
	Attached []string          `json:"attached,omitempty"`
	Tags     []tag             `json:"tags,omitempty"`
	Boundary string            `json:"boundary,omitempty"`

	inline map[string]*policy.Policy
}

type user struct {
	entity
	Groups []string      `json:"groups,omitempty"` // lower-case group names
	Login  *loginProfile `json:"login,omitempty"`
}

// loginProfile is a user's console password; only its hash is kept.
type loginProfile struct {
	Created       time.Time `json:"created"`
	Changed       time.Time `json:"changed"`
	ResetRequired bool      `json:"reset,omitempty"`
	Hash          string    `json:"hash"`
	Salt          string    `json:"salt"`
}

type group struct{ entity }

type role struct {
	entity
	Trust       string     `json:"trust"`
	Description string     `json:"description,omitempty"`
	MaxSession  int64      `json:"maxSession"`
	LastUsed    *time.Time `json:"lastUsed,omitempty"`
	LastRegion  string     `json:"lastRegion,omitempty"`

	trust *policy.Policy
}

type policyVersion struct {
	ID      string    `json:"id"`
	Doc     string    `json:"doc"`
	Created time.Time `json:"created"`

	compiled *policy.Policy
}

type managedPolicy struct {
	Name        string           `json:"name"`
	ID          string           `json:"id"`
	Path        string           `json:"path"`
	ARN         string           `json:"arn"`
	Description string           `json:"description,omitempty"`
	Created     time.Time        `json:"created"`
	Updated     time.Time        `json:"updated"`
	Versions    []*policyVersion `json:"versions"`
	Default     string           `json:"default"`
	Next        int              `json:"next"`
	Tags        []tag            `json:"tags,omitempty"`
}

func (p *managedPolicy) defaultVersion() *policyVersion {
	for _, v := range p.Versions {
		if v.ID == p.Default {
			return v
		}
	}
	return nil
}

type instanceProfile struct {
	Name    string    `json:"name"`
	ID      string    `json:"id"`
	Path    string    `json:"path"`
	ARN     string    `json:"arn"`
	Created time.Time `json:"created"`
	Roles   []string  `json:"roles,omitempty"` // lower-case role names
	Tags    []tag     `json:"tags,omitempty"`
}

type accessKey struct {
	ID      string    `json:"id"`
	Secret  string    `json:"secret"`
	User    string    `json:"user"` // lower-case user name
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
}

type oidcProvider struct {
	ARN        string    `json:"arn"`
	URL        string    `json:"url"`
	ClientIDs  []string  `json:"clientIds,omitempty"`
	Thumbprint []string  `json:"thumbprints,omitempty"`
	Created    time.Time `json:"created"`
	Tags       []tag     `json:"tags,omitempty"`
}

// compile parses every stored document (they were validated on write).
func (st *state) compile() {
	for _, u := range st.Users {
		u.compileInline(policy.Identity)
	}
	for _, g := range st.Groups {
		g.compileInline(policy.Identity)
	}
	for _, r := range st.Roles {
		r.compileInline(policy.Identity)
		r.trust, _ = policy.Parse(r.Trust, policy.Any)
	}
	for _, p := range st.Policies {
		for _, v := range p.Versions {
			v.compiled, _ = policy.Parse(v.Doc, policy.Any)
			if v.compiled != nil {
				v.compiled.Name = p.ARN
			}
		}
	}
}

func (e *entity) compileInline(kind policy.Kind) {
	e.inline = map[string]*policy.Policy{}
	for name, doc := range e.Inline {
		if p, err := policy.Parse(doc, policy.Any); err == nil {
			p.Name = name
			e.inline[name] = p
		}
	}
}

// read runs fn over an account's state under the read lock; the state is
// empty when the account has none.
func (s *Service) read(account string, fn func(st *state) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.accounts[account]
	if st == nil {
		st = newState()
	}
	return fn(st)
}

// update runs fn over an account's state and persists it. fn MUST validate
// before it changes anything: when it returns an error nothing is saved and
// the state must be as it was.
func (s *Service) update(account string, fn func(st *state) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.accounts[account]
	if st == nil {
		st = newState()
		s.accounts[account] = st
	}
	if err := fn(st); err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := s.kv.Update(func(tx storage.Tx) error { return tx.Put(scope.Key("account", account), b) }); err != nil {
		// Put memory back in line with what is stored.
		s.reloadLocked(account)
		return err
	}
	for id := range s.keys {
		if s.keyAcct[id] == account && st.Keys[id] == nil {
			delete(s.keys, id)
			delete(s.keyAcct, id)
		}
	}
	for id, k := range st.Keys {
		s.keys[id] = k
		s.keyAcct[id] = account
	}
	return nil
}

func (s *Service) reloadLocked(account string) {
	st := newState()
	_ = s.kv.View(func(tx storage.Tx) error {
		b, err := tx.Get(scope.Key("account", account))
		if err != nil {
			return err
		}
		return json.Unmarshal(b, st)
	})
	st.compile()
	s.accounts[account] = st
}

// Errors.
const (
	codeNoSuchEntity       = "NoSuchEntity"
	codeEntityExists       = "EntityAlreadyExists"
	codeDeleteConflict     = "DeleteConflict"
	codeLimitExceeded      = "LimitExceeded"
	codeMalformedPolicy    = "MalformedPolicyDocument"
	codeInvalidInput       = "InvalidInput"
	codePolicyEvaluation   = "PolicyEvaluation"
	codeValidation         = "ValidationError"
	codeUnmodifiableEntity = "UnmodifiableEntity"
)

func noSuchEntity(format string, args ...any) *awserr.Error {
	return awserr.WithStatus(http.StatusNotFound, codeNoSuchEntity, format, args...)
}

func alreadyExists(format string, args ...any) *awserr.Error {
	return awserr.WithStatus(http.StatusConflict, codeEntityExists, format, args...)
}

func deleteConflict(format string, args ...any) *awserr.Error {
	return awserr.WithStatus(http.StatusConflict, codeDeleteConflict, format, args...)
}

func limitExceeded(format string, args ...any) *awserr.Error {
	return awserr.WithStatus(http.StatusConflict, codeLimitExceeded, format, args...)
}

func invalidInput(format string, args ...any) *awserr.Error {
	return awserr.New(codeInvalidInput, format, args...)
}

func malformed(err error) *awserr.Error {
	var pe *policy.Error
	if errors.As(err, &pe) {
		return awserr.New(codeMalformedPolicy, "%s", pe.Message)
	}
	return awserr.New(codeMalformedPolicy, "%s", policy.MsgSyntax)
}

func validation(format string, args ...any) *awserr.Error {
	return awserr.New(codeValidation, format, args...)
}

// ids

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// newID returns prefix followed by n random characters of IAM's alphabet.
func newID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}

func newSecret() string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 40)
	rand.Read(b)
	for i := range b {
		b[i] = alpha[int(b[i])%len(alpha)]
	}
	return string(b)
}

// validation of names and paths

func validName(field, v string, max int, extra string) error {
	if v == "" {
		return validation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	if len(v) > max {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", v, field, max)
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_+=,.@-"+extra, r)) {
			return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", v, field)
		}
	}
	return nil
}

func validPath(in map[string]any, field string) (string, error) {
	p := service.Str(in, field)
	if p == "" {
		return "/", nil
	}
	if len(p) > 512 || p[0] != '/' || p[len(p)-1] != '/' {
		return "", validation("The specified value for %s is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.", strings.ToLower(field[:1])+field[1:])
	}
	for _, r := range p {
		if r < 0x21 || r > 0x7e {
			return "", validation("The specified value for %s is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.", strings.ToLower(field[:1])+field[1:])
		}
	}
	return p, nil
}

func parseTags(in map[string]any) ([]tag, error) {
	l, _ := in["Tags"].([]any)
	if len(l) > 50 {
		return nil, limitExceeded("The number of tags has reached the maximum limit.")
	}
	var out []tag
	for _, t := range l {
		m, _ := t.(map[string]any)
		k, v := service.Str(m, "Key"), service.Str(m, "Value")
		if k == "" || len(k) > 128 || len(v) > 256 {
			return nil, validation("1 validation error detected: Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must have length between 1 and 128", k)
		}
		out = append(out, tag{k, v})
	}
	return out, nil
}

func mergeTags(old, add []tag) []tag {
	out := append([]tag(nil), old...)
	for _, t := range add {
		found := false
		for i := range out {
			if strings.EqualFold(out[i].Key, t.Key) {
				out[i] = t
				found = true
			}
		}
		if !found {
			out = append(out, t)
		}
	}
	return out
}

func removeTags(old []tag, keys []string) []tag {
	var out []tag
	for _, t := range old {
		drop := false
		for _, k := range keys {
			if strings.EqualFold(k, t.Key) {
				drop = true
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

func tagList(tags []tag) []any {
	out := make([]any, 0, len(tags))
	for _, t := range tags {
		out = append(out, map[string]any{"Key": t.Key, "Value": t.Value})
	}
	return out
}

// pagination

// page cuts items per Marker/MaxItems; the marker is the index of the next
// item.
func page(in map[string]any, items []any) ([]any, map[string]any, error) {
	start := 0
	if m := service.Str(in, "Marker"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 || n > len(items) {
			return nil, nil, validation("Invalid Marker.")
		}
		start = n
	}
	max := int64(100)
	if n, ok := service.Int(in, "MaxItems"); ok {
		if n < 1 || n > 1000 {
			return nil, nil, validation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", n)
		}
		max = n
	}
	end := start + int(max)
	out := map[string]any{"IsTruncated": false}
	if end < len(items) {
		out["IsTruncated"] = true
		out["Marker"] = strconv.Itoa(end)
	} else {
		end = len(items)
	}
	return items[start:end], out, nil
}

func list(in map[string]any, member string, items []any) (map[string]any, error) {
	got, out, err := page(in, items)
	if err != nil {
		return nil, err
	}
	out[member] = got
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func pathPrefixOK(in map[string]any, path string) bool {
	pp := service.Str(in, "PathPrefix")
	return pp == "" || strings.HasPrefix(path, pp)
}

// encodeDocument percent-encodes a policy document as IAM returns it.
func encodeDocument(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func partition(r *service.Request) string { return service.Partition(r.Region) }

var _ service.Service = (*Service)(nil)
var _ service.Starter = (*Service)(nil)
