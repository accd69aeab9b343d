package policy

import (
	"strings"
)

// PrincipalType says what kind of caller a Principal is.
type PrincipalType uint8

const (
	Anonymous PrincipalType = iota
	Root
	User
	AssumedRole
	FederatedUser
	ServicePrincipal
	WebIdentity
)

func (t PrincipalType) String() string {
	switch t {
	case Root:
		return "Account"
	case User:
		return "User"
	case AssumedRole:
		return "AssumedRole"
	case FederatedUser:
		return "FederatedUser"
	case ServicePrincipal:
		return "Service"
	case WebIdentity:
		return "WebIdentityUser"
	}
	return "Anonymous"
}

// Principal is the caller of a request, with everything evaluation needs
// about it: its identity-based policies, permissions boundary and session
// policies, already resolved.
type Principal struct {
	Type PrincipalType
	// ARN is the caller's ARN (a user, the root, an assumed-role session),
	// or the service name for a service principal.
	ARN     string
	Account string
	// UserID is aws:userid: the user id, "AROA...:session", or the account.
	UserID string
	// Name is the user name (aws:username) or the role name.
	Name string
	// RoleARN is the role an assumed-role session belongs to.
	RoleARN string
	// SessionName is the role session name.
	SessionName string
	// Federated is the identity provider of a web identity caller.
	Federated string
	// Tags are principal tags (aws:PrincipalTag/<key>), keyed as given.
	Tags map[string]string
	// SourceIdentity is sts:SourceIdentity / aws:SourceIdentity.
	SourceIdentity string

	// Identity are the identity-based policies (inline and managed, with
	// the groups' for a user).
	Identity []*Policy
	// Boundary is the permissions boundary, if any.
	Boundary *Policy
	// Session are the session policies, if any; when non-empty the session
	// may only do what one of them allows.
	Session []*Policy
	// HasSession marks a session whose policies (possibly none) cap it.
	HasSession bool
}

// Context holds request condition keys, lower-cased, each with its values.
type Context map[string][]string

// Set stores key's values (key in any case).
func (c Context) Set(key string, values ...string) { c[strings.ToLower(key)] = values }

// Request is what is being asked.
type Request struct {
	// Action is "<service prefix>:<Operation>", e.g. "sqs:SendMessage".
	Action string
	// Resource is the resource ARN, or "*".
	Resource string
	// ResourceAccount is the account owning the resource ("" means the
	// principal's own account).
	ResourceAccount string
	// Principal is the caller; nil is anonymous.
	Principal *Principal
	// Context holds the other condition keys.
	Context Context

	action string // lower-cased
}

// lookup returns a condition key's values (key lower-cased).
func (r *Request) lookup(key string) ([]string, bool) {
	p := r.Principal
	if p != nil && strings.HasPrefix(key, "aws:") {
		switch key {
		case "aws:username":
			if p.Type == User {
				return []string{p.Name}, true
			}
			return nil, false
		case "aws:userid":
			return []string{p.UserID}, p.UserID != ""
		case "aws:principalarn":
			if p.Type == AssumedRole {
				return []string{p.RoleARN}, true
			}
			return []string{p.ARN}, p.ARN != ""
		case "aws:principalaccount":
			return []string{p.Account}, p.Account != ""
		case "aws:principaltype":
			return []string{p.Type.String()}, true
		case "aws:sourceidentity":
			return []string{p.SourceIdentity}, p.SourceIdentity != ""
		case "aws:principalservicename":
			if p.Type == ServicePrincipal {
				return []string{p.ARN}, true
			}
			return nil, false
		}
		if tag, ok := strings.CutPrefix(key, "aws:principaltag/"); ok {
			for k, v := range p.Tags {
				if strings.EqualFold(k, tag) {
					return []string{v}, true
				}
			}
			return nil, false
		}
	}
	v, ok := r.Context[key]
	return v, ok
}

// Reason says why a decision was made.
type Reason uint8

const (
	// Allowed: some policy allowed the request and none denied it.
	Allowed Reason = iota
	// ImplicitDenyIdentity: no identity-based policy allows the action.
	ImplicitDenyIdentity
	// ImplicitDenyBoundary: the permissions boundary does not allow it.
	ImplicitDenyBoundary
	// ImplicitDenySession: no session policy allows it.
	ImplicitDenySession
	// ImplicitDenyResource: cross-account, and no resource-based policy allows it.
	ImplicitDenyResource
	// ExplicitDenyIdentity: an identity-based policy denies it.
	ExplicitDenyIdentity
	// ExplicitDenyResource: a resource-based policy denies it.
	ExplicitDenyResource
	// ExplicitDenyBoundary: the permissions boundary denies it.
	ExplicitDenyBoundary
	// ExplicitDenySession: a session policy denies it.
	ExplicitDenySession
)

// Explicit reports whether the reason is an explicit deny.
func (r Reason) Explicit() bool { return r >= ExplicitDenyIdentity }

// Because returns the end of AWS's AccessDenied message for the reason, e.g.
// "because no identity-based policy allows the sqs:SendMessage action".
func (r Reason) Because(action string) string {
	switch r {
	case ImplicitDenyIdentity:
		return "because no identity-based policy allows the " + action + " action"
	case ImplicitDenyBoundary:
		return "because no permissions boundary allows the " + action + " action"
	case ImplicitDenySession:
		return "because no session policy allows the " + action + " action"
	case ImplicitDenyResource:
		return "because no resource-based policy allows the " + action + " action"
	case ExplicitDenyIdentity:
		return "with an explicit deny in an identity-based policy"
	case ExplicitDenyResource:
		return "with an explicit deny in a resource-based policy"
	case ExplicitDenyBoundary:
		return "with an explicit deny in a permissions boundary"
	case ExplicitDenySession:
		return "with an explicit deny in a session policy"
	}
	return ""
}

func (r Reason) String() string {
	switch r {
	case Allowed:
		return "allowed"
	case ImplicitDenyIdentity:
		return "implicit deny: no identity-based policy allows"
	case ImplicitDenyBoundary:
		return "implicit deny: permissions boundary"
	case ImplicitDenySession:
		return "implicit deny: session policy"
	case ImplicitDenyResource:
		return "implicit deny: no resource-based policy allows (cross-account)"
	case ExplicitDenyIdentity:
		return "explicit deny: identity-based policy"
	case ExplicitDenyResource:
		return "explicit deny: resource-based policy"
	case ExplicitDenyBoundary:
		return "explicit deny: permissions boundary"
	case ExplicitDenySession:
		return "explicit deny: session policy"
	}
	return "unknown"
}

// Match is a statement that took part in a decision.
type Match struct {
	Policy    *Policy
	Statement *Statement
}

// Decision is the outcome of an evaluation.
type Decision struct {
	Allowed bool
	Reason  Reason
	// Matched are the statements that decided: the denying statements for
	// an explicit deny, otherwise the allowing ones.
	Matched []Match
}

// DecisionString is the simulator's name for the decision: "allowed",
// "explicitDeny" or "implicitDeny".
func (d Decision) DecisionString() string {
	switch {
	case d.Allowed:
		return "allowed"
	case d.Reason.Explicit():
		return "explicitDeny"
	}
	return "implicitDeny"
}

type evaluation struct {
	req     *Request
	matched []Match
}

// principalMatch is how a resource policy's Principal named the caller.
type principalMatch uint8

const (
	pmNone principalMatch = iota
	pmAccount
	pmRole
	pmAny
	pmSpecific
)

// Evaluate decides req against the principal's policies and the resource's
// resource-based policy (nil when it has none).
func Evaluate(req *Request, resource *Policy) Decision {
	req.action = strings.ToLower(req.Action)
	e := &evaluation{req: req}
	p := req.Principal
	if p == nil {
		p = &Principal{Type: Anonymous}
	}
	root := p.Type == Root
	// 1. An explicit deny anywhere wins.
	if !root {
		for _, pol := range p.Identity {
			if e.denies(pol) {
				return e.decide(false, ExplicitDenyIdentity)
			}
		}
	}
	if resource != nil && e.denies(resource) {
		return e.decide(false, ExplicitDenyResource)
	}
	if p.Boundary != nil && e.denies(p.Boundary) {
		return e.decide(false, ExplicitDenyBoundary)
	}
	for _, pol := range p.Session {
		if e.denies(pol) {
			return e.decide(false, ExplicitDenySession)
		}
	}
	// 2. Allows.
	var resMatches []Match
	resAllow := pmNone
	if resource != nil {
		resAllow = e.allowsPrincipal(resource, p)
		resMatches = e.matched
		e.matched = nil
	}
	identityAllow := root
	if !root {
		for _, pol := range p.Identity {
			if e.allows(pol) {
				identityAllow = true
			}
		}
	}
	identityMatches := e.matched
	cross := req.ResourceAccount != "" && p.Account != "" && req.ResourceAccount != p.Account
	if p.Type == Anonymous || p.Type == ServicePrincipal {
		// Only a resource-based policy can grant these callers anything.
		if resAllow != pmNone {
			e.matched = resMatches
			return e.decide(true, Allowed)
		}
		return e.decide(false, ImplicitDenyResource)
	}
	if cross {
		if !identityAllow {
			return e.decide(false, ImplicitDenyIdentity)
		}
		if resAllow == pmNone {
			return e.decide(false, ImplicitDenyResource)
		}
		if r, ok := e.capped(p); !ok {
			return e.decide(false, r)
		}
		e.matched = append(identityMatches, resMatches...)
		return e.decide(true, Allowed)
	}
	switch resAllow {
	case pmSpecific:
		// A resource policy naming this user or role session grants by itself.
		e.matched = resMatches
		return e.decide(true, Allowed)
	case pmRole, pmAny:
		if r, ok := e.capped(p); !ok {
			return e.decide(false, r)
		}
		e.matched = resMatches
		return e.decide(true, Allowed)
	}
	if !identityAllow {
		return e.decide(false, ImplicitDenyIdentity)
	}
	e.matched = identityMatches
	if r, ok := e.capped(p); !ok {
		return e.decide(false, r)
	}
	return e.decide(true, Allowed)
}

// capped checks the permissions boundary and session policies, which can
// only take permissions away.
func (e *evaluation) capped(p *Principal) (Reason, bool) {
	keep := e.matched
	defer func() { e.matched = keep }()
	if p.Boundary != nil && !e.allows(p.Boundary) {
		return ImplicitDenyBoundary, false
	}
	if p.HasSession || len(p.Session) > 0 {
		ok := false
		for _, pol := range p.Session {
			if e.allows(pol) {
				ok = true
			}
		}
		if !ok {
			return ImplicitDenySession, false
		}
	}
	return Allowed, true
}

func (e *evaluation) decide(allowed bool, r Reason) Decision {
	return Decision{Allowed: allowed, Reason: r, Matched: e.matched}
}

// denies reports whether a Deny statement of pol applies; it records the
// denying statements.
func (e *evaluation) denies(pol *Policy) bool {
	found := false
	for _, s := range pol.Statements {
		if s.Effect == Deny && e.applies(pol, s) && (s.Principal == nil || e.principalOf(s) != pmNone) {
			if !found {
				e.matched = e.matched[:0]
			}
			found = true
			e.matched = append(e.matched, Match{pol, s})
		}
	}
	return found
}

// allows reports whether an Allow statement of an identity-style policy
// applies, recording it.
func (e *evaluation) allows(pol *Policy) bool {
	found := false
	for _, s := range pol.Statements {
		if s.Effect == Allow && e.applies(pol, s) {
			found = true
			e.matched = append(e.matched, Match{pol, s})
		}
	}
	return found
}

// allowsPrincipal reports the strongest way an Allow statement of a
// resource policy names the caller.
func (e *evaluation) allowsPrincipal(pol *Policy, p *Principal) principalMatch {
	best := pmNone
	for _, s := range pol.Statements {
		if s.Effect != Allow || s.Principal == nil || !e.applies(pol, s) {
			continue
		}
		if m := e.principalOf(s); m != pmNone {
			e.matched = append(e.matched, Match{pol, s})
			if m > best {
				best = m
			}
		}
	}
	return best
}

func (e *evaluation) principalOf(s *Statement) principalMatch {
	m := matchPrincipal(s.Principal, e.req.Principal)
	if s.NotPrincipal {
		if m != pmNone {
			return pmNone
		}
		return pmAny
	}
	return m
}

func matchPrincipal(ps *Principals, p *Principal) principalMatch {
	if ps == nil {
		return pmNone
	}
	if ps.Any {
		return pmAny
	}
	if p == nil {
		return pmNone
	}
	best := pmNone
	switch p.Type {
	case ServicePrincipal:
		for _, s := range ps.Service {
			if s == p.ARN {
				return pmSpecific
			}
		}
		return pmNone
	case WebIdentity:
		for _, f := range ps.Federated {
			if f == p.Federated {
				return pmSpecific
			}
		}
		return pmNone
	}
	rootARN := "arn:" + partitionOf(p.ARN) + ":iam::" + p.Account + ":root"
	for _, a := range ps.AWS {
		switch {
		case a == p.ARN && p.Type != Root:
			return pmSpecific
		case p.Type == AssumedRole && a == p.RoleARN:
			best = max(best, pmRole)
		case a == rootARN:
			if p.Type == Root {
				return pmSpecific
			}
			best = max(best, pmAccount)
		}
	}
	return best
}

func partitionOf(arn string) string {
	if rest, ok := strings.CutPrefix(arn, "arn:"); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			return rest[:i]
		}
	}
	return "aws"
}

// applies reports whether s's action, resource and conditions match.
func (e *evaluation) applies(pol *Policy, s *Statement) bool {
	am := false
	for _, a := range s.Action {
		if globMatch(a, e.req.action, false) {
			am = true
			break
		}
	}
	if am == s.NotAction {
		return false
	}
	if s.Resource != nil {
		rm := false
		for _, r := range s.Resource {
			if pol.variables && strings.Contains(r, "${") {
				var ok bool
				if r, ok = e.substitute(r); !ok {
					continue
				}
			}
			if globMatch(r, e.req.Resource, false) {
				rm = true
				break
			}
		}
		if rm == s.NotResource {
			return false
		}
	}
	for _, c := range s.Conditions {
		if c.vars && !pol.variables {
			// Under 2008-10-17 variables are literal text.
			cc := *c
			cc.vars = false
			if !cc.eval(e) {
				return false
			}
			continue
		}
		if !c.eval(e) {
			return false
		}
	}
	return true
}

// substitute replaces policy variables in s; it reports false when a
// variable without a default has no value (the element then matches nothing).
func (e *evaluation) substitute(s string) (string, bool) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		expr := s[i+2 : i+j]
		s = s[i+j+1:]
		switch expr {
		case "*":
			b.WriteString("\x00*")
			continue
		case "?":
			b.WriteString("\x00?")
			continue
		case "$":
			b.WriteByte('$')
			continue
		}
		name, def, hasDef := strings.Cut(expr, ",")
		name = strings.ToLower(strings.TrimSpace(name))
		vals, ok := e.req.lookup(name)
		if ok && len(vals) == 1 {
			b.WriteString(vals[0])
			continue
		}
		if hasDef {
			def = strings.TrimSpace(def)
			def = strings.TrimSuffix(strings.TrimPrefix(def, "'"), "'")
			b.WriteString(def)
			continue
		}
		return "", false
	}
}

// globMatch matches v against pattern with * (any run) and ? (any one
// character); "\x00*" and "\x00?" in the pattern are literal characters.
// fold compares ASCII letters case-insensitively.
func globMatch(pattern, v string, fold bool) bool {
	if pattern == "*" {
		return true
	}
	p, s := 0, 0
	starP, starS := -1, 0
	for s < len(v) {
		if p < len(pattern) {
			c := pattern[p]
			switch {
			case c == 0 && p+1 < len(pattern):
				if pattern[p+1] == v[s] {
					p += 2
					s++
					continue
				}
			case c == '*':
				starP, starS = p, s
				p++
				continue
			case c == '?':
				p++
				s++
				continue
			case c == v[s] || fold && lower(c) == lower(v[s]):
				p++
				s++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		p, s = starP+1, starS
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// MatchAction reports whether an action pattern matches an action, as IAM
// does (case-insensitively, with wildcards).
func MatchAction(pattern, action string) bool { return globMatch(pattern, action, true) }

// MatchResource reports whether a resource pattern matches an ARN.
func MatchResource(pattern, arn string) bool { return globMatch(pattern, arn, false) }
