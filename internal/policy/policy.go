// Package policy parses, validates and evaluates AWS IAM policy documents:
// identity-based policies, resource-based policies (S3 bucket policies, SQS
// queue policies, role trust policies, ...), permissions boundaries and
// session policies, with the evaluation logic AWS documents: an explicit deny
// wins, then an allow, else the request is implicitly denied.
//
// Parse compiles a document once (actions, resources and conditions are
// pre-processed), so that Evaluate costs a few microseconds per request.
//
// # Fidelity
//
// Emulated: Version 2012-10-17 and 2008-10-17 (policy variables are only
// substituted under 2012-10-17, as in AWS), Statement as an object or a list,
// Effect, Action/NotAction, Resource/NotResource, Principal/NotPrincipal
// (AWS, Service, Federated, CanonicalUser, "*"), Condition with every
// operator family (String*, Numeric*, Date*, Bool, BinaryEquals, IpAddress,
// NotIpAddress, Arn*, Null), the IfExists suffix and the ForAnyValue /
// ForAllValues set qualifiers; policy variables including ${aws:username},
// ${aws:userid}, ${aws:PrincipalTag/key}, the ${*} ${?} ${$} escapes and
// default values (${aws:username, 'none'}); the identity / resource /
// permissions boundary / session policy combination for same-account and
// cross-account requests.
//
// Deviations: Organizations SCPs and RCPs are not modelled; wildcards in a
// resource ARN may span segments (AWS matches segment by segment, which only
// differs for patterns that put a wildcard across a colon); validation
// messages cover the common MalformedPolicyDocument cases, and anything
// structurally wrong that AWS words differently is reported as "Syntax
// errors in policy.".
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Kind says what a document is used as; validation differs.
type Kind int

const (
	// Identity is an identity-based policy, a permissions boundary or a
	// session policy: no Principal, Resource required.
	Identity Kind = iota
	// Resource is a resource-based policy: Principal required.
	Resource
	// Trust is a role trust policy: Principal required, Resource prohibited.
	Trust
	// Any parses without the kind-specific checks (simulator input,
	// permissive resource policies of services).
	Any
)

// Versions.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is Allow or Deny.
type Effect bool

const (
	Deny  Effect = false
	Allow Effect = true
)

func (e Effect) String() string {
	if e {
		return "Allow"
	}
	return "Deny"
}

// Policy is a parsed, compiled policy document.
type Policy struct {
	Version    string
	ID         string
	Statements []*Statement
	// Source is the document as given.
	Source string
	// Name identifies the policy in evaluation results (a policy ARN or an
	// inline policy name); set by the caller.
	Name string
	// variables is true when the version allows policy variables.
	variables bool
}

// Statement is one compiled statement.
type Statement struct {
	Sid          string
	Effect       Effect
	Principal    *Principals // nil when absent
	NotPrincipal bool
	Action       []string // lower-cased patterns
	NotAction    bool
	Resource     []string // nil when the statement has none
	NotResource  bool
	Conditions   []*Condition
	// Index is the statement's position in the policy.
	Index int
}

// Principals is a Principal or NotPrincipal element.
type Principals struct {
	// Any is "Principal": "*" (or {"AWS": "*"}).
	Any bool
	// AWS, Service, Federated and CanonicalUser hold the named principals;
	// 12-digit account ids in AWS are normalised to the account's root ARN.
	AWS, Service, Federated, CanonicalUser []string
}

// Error is a validation failure; Message is IAM's MalformedPolicyDocument
// message.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

// Common messages.
const (
	MsgSyntax          = "Syntax errors in policy."
	MsgLegacy          = "The policy failed legacy parsing"
	MsgNoPrincipal     = "Policy document should not specify a principal."
	MsgNeedActions     = "Policy statement must contain actions."
	MsgNeedResources   = "Policy statement must contain resources."
	MsgNeedPrincipal   = "Missing required field Principal"
	MsgResourceInTrust = "Has prohibited field Resource"
	MsgVendor          = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	MsgDuplicateSid    = "Statement IDs (SID) in a single policy must be unique."
)

func errf(format string, args ...any) *Error { return &Error{Message: fmt.Sprintf(format, args...)} }

// MaxDocumentBytes bounds what Parse reads at all.
const MaxDocumentBytes = 128 << 10

// Parse parses and validates doc as a policy of the given kind.
func Parse(doc string, kind Kind) (*Policy, error) {
	if len(doc) > MaxDocumentBytes {
		return nil, &Error{MsgSyntax}
	}
	var top map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil || top == nil {
		return nil, &Error{MsgSyntax}
	}
	if dec.More() {
		return nil, &Error{MsgSyntax}
	}
	p := &Policy{Source: doc, Version: Version2008}
	for k, v := range top {
		switch k {
		case "Version":
			if err := json.Unmarshal(v, &p.Version); err != nil {
				return nil, &Error{MsgSyntax}
			}
			if p.Version != Version2012 && p.Version != Version2008 {
				return nil, &Error{MsgLegacy}
			}
		case "Id":
			if err := json.Unmarshal(v, &p.ID); err != nil {
				return nil, &Error{MsgSyntax}
			}
		case "Statement":
		default:
			return nil, &Error{MsgSyntax}
		}
	}
	p.variables = p.Version == Version2012
	raw, ok := top["Statement"]
	if !ok {
		return nil, &Error{MsgSyntax}
	}
	var stmts []map[string]json.RawMessage
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, &Error{MsgSyntax}
		}
		stmts = append(stmts, one)
	} else if err := json.Unmarshal(raw, &stmts); err != nil {
		return nil, &Error{MsgSyntax}
	}
	sids := map[string]bool{}
	for i, m := range stmts {
		if m == nil {
			return nil, &Error{MsgSyntax}
		}
		s, err := parseStatement(m, kind)
		if err != nil {
			return nil, err
		}
		s.Index = i
		if s.Sid != "" {
			if sids[s.Sid] {
				return nil, &Error{MsgDuplicateSid}
			}
			sids[s.Sid] = true
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func stringOrList(v json.RawMessage) ([]string, error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	var l []string
	if err := json.Unmarshal(v, &l); err != nil {
		return nil, err
	}
	if l == nil {
		return nil, errors.New("null")
	}
	return l, nil
}

func parseStatement(m map[string]json.RawMessage, kind Kind) (*Statement, error) {
	s := &Statement{}
	var haveEffect bool
	var actions, resources []string
	var haveAction, haveResource, havePrincipal bool
	for k, v := range m {
		var err error
		switch k {
		case "Sid":
			err = json.Unmarshal(v, &s.Sid)
		case "Effect":
			var e string
			if err = json.Unmarshal(v, &e); err == nil {
				switch e {
				case "Allow":
					s.Effect = Allow
				case "Deny":
					s.Effect = Deny
				default:
					return nil, &Error{MsgSyntax}
				}
				haveEffect = true
			}
		case "Action", "NotAction":
			if haveAction {
				return nil, &Error{MsgSyntax}
			}
			haveAction, s.NotAction = true, k == "NotAction"
			actions, err = stringOrList(v)
		case "Resource", "NotResource":
			if haveResource {
				return nil, &Error{MsgSyntax}
			}
			haveResource, s.NotResource = true, k == "NotResource"
			resources, err = stringOrList(v)
		case "Principal", "NotPrincipal":
			if havePrincipal {
				return nil, &Error{MsgSyntax}
			}
			havePrincipal, s.NotPrincipal = true, k == "NotPrincipal"
			s.Principal, err = parsePrincipals(v)
		case "Condition":
			s.Conditions, err = parseConditions(v)
		default:
			return nil, &Error{MsgSyntax}
		}
		if err != nil {
			var pe *Error
			if errors.As(err, &pe) {
				return nil, pe
			}
			return nil, &Error{MsgSyntax}
		}
	}
	if !haveEffect {
		return nil, &Error{MsgSyntax}
	}
	switch kind {
	case Identity:
		if havePrincipal {
			return nil, &Error{MsgNoPrincipal}
		}
		if !haveResource {
			return nil, &Error{MsgNeedResources}
		}
	case Resource:
		if !havePrincipal {
			return nil, &Error{MsgNeedPrincipal}
		}
	case Trust:
		if !havePrincipal {
			return nil, &Error{MsgNeedPrincipal}
		}
		if haveResource {
			return nil, &Error{MsgResourceInTrust}
		}
	}
	if !haveAction || len(actions) == 0 {
		return nil, &Error{MsgNeedActions}
	}
	for _, a := range actions {
		if a == "*" {
			s.Action = append(s.Action, a)
			continue
		}
		vendor, rest, ok := strings.Cut(a, ":")
		if !ok || vendor == "" || rest == "" || !validVendor(vendor) {
			return nil, &Error{MsgVendor}
		}
		s.Action = append(s.Action, strings.ToLower(a))
	}
	if haveResource {
		if len(resources) == 0 {
			return nil, &Error{MsgNeedResources}
		}
		for _, r := range resources {
			if err := validResource(r); err != nil {
				return nil, err
			}
		}
		s.Resource = resources
	}
	return s, nil
}

func validVendor(v string) bool {
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '*' || r == '?') {
			return false
		}
	}
	return true
}

func validResource(r string) error {
	if r == "*" {
		return nil
	}
	if !strings.HasPrefix(r, "arn:") {
		return errf("Resource %s must be in ARN format or \"*\".", r)
	}
	parts := strings.SplitN(r, ":", 6)
	if len(parts) < 6 {
		return errf("Resource %s must be in ARN format or \"*\".", r)
	}
	switch parts[1] {
	case "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "*":
	default:
		if !strings.ContainsAny(parts[1], "*?$") {
			return errf("Partition \"%s\" is not valid for resource \"%s\".", parts[1], r)
		}
	}
	if parts[2] == "" {
		return errf("Resource %s must be in ARN format or \"*\".", r)
	}
	return nil
}

func parsePrincipals(v json.RawMessage) (*Principals, error) {
	v = bytes.TrimSpace(v)
	p := &Principals{}
	if len(v) > 0 && v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, err
		}
		if s != "*" {
			return nil, errf("Invalid principal in policy: %s", s)
		}
		p.Any = true
		return p, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil || m == nil {
		return nil, &Error{MsgSyntax}
	}
	for k, raw := range m {
		l, err := stringOrList(raw)
		if err != nil {
			return nil, &Error{MsgSyntax}
		}
		switch k {
		case "AWS":
			for _, a := range l {
				switch {
				case a == "*":
					p.Any = true
				case len(a) == 12 && allDigits(a):
					p.AWS = append(p.AWS, "arn:aws:iam::"+a+":root")
				case strings.HasPrefix(a, "arn:"):
					parts := strings.SplitN(a, ":", 6)
					if len(parts) < 6 || (parts[2] != "iam" && parts[2] != "sts") {
						return nil, errf("Invalid principal in policy: \"AWS\":\"%s\"", a)
					}
					p.AWS = append(p.AWS, a)
				default:
					return nil, errf("Invalid principal in policy: \"AWS\":\"%s\"", a)
				}
			}
		case "Service":
			p.Service = append(p.Service, l...)
		case "Federated":
			p.Federated = append(p.Federated, l...)
		case "CanonicalUser":
			p.CanonicalUser = append(p.CanonicalUser, l...)
		default:
			return nil, &Error{MsgSyntax}
		}
	}
	return p, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// NonWhitespaceLen is the size IAM counts against its policy size quotas:
// the document's length without whitespace.
func NonWhitespaceLen(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}
