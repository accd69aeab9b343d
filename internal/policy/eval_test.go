package policy

import (
	"fmt"
	"strings"
	"testing"
)

const acct = "111122223333"
const other = "444455556666"

func user(name string, pols ...string) *Principal {
	p := &Principal{Type: User, ARN: "arn:aws:iam::" + acct + ":user/" + name, Account: acct, UserID: "AIDAEXAMPLE" + strings.ToUpper(name), Name: name,
		Tags: map[string]string{"team": "blue", "Project": "apollo"}}
	for _, d := range pols {
		p.Identity = append(p.Identity, mustParse(d, Identity))
	}
	return p
}

func mustParse(doc string, k Kind) *Policy {
	p, err := Parse(doc, k)
	if err != nil {
		panic(fmt.Sprintf("%v: %s", err, doc))
	}
	return p
}

func allow(action, resource string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`
}

func deny(action, resource string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"` + action + `","Resource":"` + resource + `"}]}`
}

func withCond(cond string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":` + cond + `}]}`
}

type evalCase struct {
	name      string
	principal *Principal
	action    string
	resource  string
	ctx       Context
	resPolicy string
	resAcct   string
	want      Reason
}

func TestEvaluateTable(t *testing.T) {
	obj := "arn:aws:s3:::bkt/public/a.txt"
	var cases []evalCase
	add := func(c evalCase) {
		if c.action == "" {
			c.action = "s3:GetObject"
		}
		if c.resource == "" {
			c.resource = obj
		}
		cases = append(cases, c)
	}
	// Actions and wildcards.
	for _, a := range []struct {
		pattern, action string
		ok              bool
	}{
		{"s3:GetObject", "s3:GetObject", true}, {"s3:getobject", "s3:GetObject", true}, {"S3:GETOBJECT", "s3:GetObject", true},
		{"s3:*", "s3:PutObject", true}, {"s3:Get*", "s3:GetObject", true}, {"s3:Get*", "s3:PutObject", false},
		{"s3:*Object", "s3:DeleteObject", true}, {"s3:*Object", "s3:DeleteObjects", false}, {"s3:Get?bject", "s3:GetObject", true},
		{"s3:Get?bject", "s3:GetObjject", false}, {"*", "sqs:SendMessage", true}, {"sqs:*", "s3:GetObject", false},
		{"s3:GetObject", "s3:GetObjectAcl", false}, {"s3:GetObject*", "s3:GetObjectAcl", true}, {"*:Get*", "iam:GetUser", true},
		{"iam:*User*", "iam:ListUsers", true}, {"sqs:SendMessage", "sqs:SendMessageBatch", false}, {"s*:*", "sns:Publish", true},
	} {
		want := ImplicitDenyIdentity
		if a.ok {
			want = Allowed
		}
		add(evalCase{name: "action " + a.pattern + " vs " + a.action, principal: user("u", allow(a.pattern, "*")), action: a.action, want: want})
	}
	// Resources and wildcards.
	for _, r := range []struct {
		pattern, res string
		ok           bool
	}{
		{"*", obj, true}, {"arn:aws:s3:::bkt/public/*", obj, true}, {"arn:aws:s3:::bkt/private/*", obj, false},
		{"arn:aws:s3:::bkt/*", obj, true}, {"arn:aws:s3:::bkt", obj, false}, {"arn:aws:s3:::BKT/*", obj, false},
		{"arn:aws:s3:::bkt/public/?.txt", obj, true}, {"arn:aws:s3:::bkt/public/??.txt", obj, false}, {"arn:aws:s3:::*", obj, true},
		{"arn:aws:s3:::bkt/public/a.txt", obj, true}, {"arn:aws:s3:::bkt/public/a.tx", obj, false}, {"arn:aws:s3:::*/public/*", obj, true},
		{"arn:aws:sqs:*:" + acct + ":q", "arn:aws:sqs:us-east-1:" + acct + ":q", true}, {"arn:aws:sqs:us-west-2:*:q", "arn:aws:sqs:us-east-1:" + acct + ":q", false},
		{"arn:aws:sqs:*:*:*", "arn:aws:sqs:us-east-1:" + acct + ":q", true}, {"arn:aws:sqs:us-east-1:" + other + ":q", "arn:aws:sqs:us-east-1:" + acct + ":q", false},
	} {
		want := ImplicitDenyIdentity
		if r.ok {
			want = Allowed
		}
		add(evalCase{name: "resource " + r.pattern + " vs " + r.res, principal: user("u", allow("*", r.pattern)), resource: r.res, want: want})
	}
	// NotAction / NotResource traps.
	notAction := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`
	add(evalCase{name: "NotAction allows others", principal: user("u", notAction), want: Allowed})
	add(evalCase{name: "NotAction excludes iam", principal: user("u", notAction), action: "iam:CreateUser", want: ImplicitDenyIdentity})
	denyNotAction := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["s3:GetObject"],"Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	add(evalCase{name: "Deny NotAction lets listed action", principal: user("u", denyNotAction), want: Allowed})
	add(evalCase{name: "Deny NotAction denies everything else", principal: user("u", denyNotAction), action: "s3:PutObject", want: ExplicitDenyIdentity})
	add(evalCase{name: "Deny NotAction denies other services", principal: user("u", denyNotAction), action: "sqs:SendMessage", resource: "*", want: ExplicitDenyIdentity})
	notRes := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::bkt/private/*"}]}`
	add(evalCase{name: "NotResource allows outside", principal: user("u", notRes), want: Allowed})
	add(evalCase{name: "NotResource excludes inside", principal: user("u", notRes), resource: "arn:aws:s3:::bkt/private/x", want: ImplicitDenyIdentity})
	denyNotRes := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::bkt","arn:aws:s3:::bkt/*"]}]}`
	add(evalCase{name: "Deny NotResource spares listed", principal: user("u", denyNotRes), want: Allowed})
	add(evalCase{name: "Deny NotResource denies others", principal: user("u", denyNotRes), resource: "arn:aws:s3:::other/x", want: ExplicitDenyIdentity})
	add(evalCase{name: "Deny NotResource only its actions", principal: user("u", denyNotRes), action: "sqs:SendMessage", resource: "arn:aws:sqs:us-east-1:1:q", want: Allowed})
	// Deny precedence and multiple policies.
	add(evalCase{name: "explicit deny beats allow", principal: user("u", allow("s3:*", "*"), deny("s3:GetObject", obj)), want: ExplicitDenyIdentity})
	add(evalCase{name: "deny elsewhere does not apply", principal: user("u", allow("s3:*", "*"), deny("s3:GetObject", "arn:aws:s3:::bkt/private/*")), want: Allowed})
	add(evalCase{name: "allow in second policy", principal: user("u", allow("sqs:*", "*"), allow("s3:GetObject", "*")), want: Allowed})
	add(evalCase{name: "no policies", principal: user("u"), want: ImplicitDenyIdentity})
	add(evalCase{name: "deny only", principal: user("u", deny("s3:*", "*")), want: ExplicitDenyIdentity})
	add(evalCase{name: "deny other action only", principal: user("u", deny("s3:PutObject", "*")), want: ImplicitDenyIdentity})
	add(evalCase{name: "root bypasses identity", principal: &Principal{Type: Root, ARN: "arn:aws:iam::" + acct + ":root", Account: acct}, want: Allowed})
	add(evalCase{name: "root denied by resource policy", principal: &Principal{Type: Root, ARN: "arn:aws:iam::" + acct + ":root", Account: acct},
		resPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`, want: ExplicitDenyResource})
	add(evalCase{name: "anonymous without resource policy", principal: nil, want: ImplicitDenyResource})
	add(evalCase{name: "anonymous with public resource policy", principal: nil,
		resPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}]}`, want: Allowed})
	add(evalCase{name: "anonymous with AWS:* resource policy", principal: nil,
		resPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}]}`, want: Allowed})

	// Resource-based policies, same account.
	rpUser := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/u"},"Action":"s3:GetObject","Resource":"*"}]}`
	rpAccount := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + acct + `"},"Action":"s3:GetObject","Resource":"*"}]}`
	rpRole := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:role/r"},"Action":"s3:GetObject","Resource":"*"}]}`
	rpOther := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/someone"},"Action":"s3:GetObject","Resource":"*"}]}`
	rpDenyUser := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/u"},"Action":"s3:*","Resource":"*"}]}`
	rpNotPrincipal := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::` + acct + `:user/admin"},"Action":"s3:*","Resource":"*"}]}`
	boundaryS3 := mustParse(allow("s3:*", "*"), Identity)
	boundarySQS := mustParse(allow("sqs:*", "*"), Identity)
	withBoundary := func(p *Principal, b *Policy) *Principal { p.Boundary = b; return p }
	session := func(name string, identity string, sess ...string) *Principal {
		p := &Principal{Type: AssumedRole, ARN: "arn:aws:sts::" + acct + ":assumed-role/r/" + name, RoleARN: "arn:aws:iam::" + acct + ":role/r", Account: acct, UserID: "AROAEXAMPLE:" + name, Name: "r", SessionName: name}
		if identity != "" {
			p.Identity = []*Policy{mustParse(identity, Identity)}
		}
		for _, s := range sess {
			p.Session = append(p.Session, mustParse(s, Identity))
		}
		p.HasSession = len(sess) > 0
		return p
	}
	rpSession := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::` + acct + `:assumed-role/r/s1"},"Action":"s3:GetObject","Resource":"*"}]}`
	add(evalCase{name: "resource policy names user: no identity needed", principal: user("u"), resPolicy: rpUser, want: Allowed})
	add(evalCase{name: "resource policy names account: identity needed", principal: user("u"), resPolicy: rpAccount, want: ImplicitDenyIdentity})
	add(evalCase{name: "resource policy names account, identity allows", principal: user("u", allow("s3:*", "*")), resPolicy: rpAccount, want: Allowed})
	add(evalCase{name: "resource policy names someone else", principal: user("u"), resPolicy: rpOther, want: ImplicitDenyIdentity})
	add(evalCase{name: "resource policy names someone else, identity allows", principal: user("u", allow("s3:*", "*")), resPolicy: rpOther, want: Allowed})
	add(evalCase{name: "resource policy denies user", principal: user("u", allow("s3:*", "*")), resPolicy: rpDenyUser, want: ExplicitDenyResource})
	add(evalCase{name: "resource deny NotPrincipal hits others", principal: user("u", allow("s3:*", "*")), resPolicy: rpNotPrincipal, want: ExplicitDenyResource})
	add(evalCase{name: "resource deny NotPrincipal spares admin", principal: user("admin", allow("s3:*", "*")), resPolicy: rpNotPrincipal, want: Allowed})
	add(evalCase{name: "resource policy names user beats boundary implicit deny", principal: withBoundary(user("u"), boundarySQS), resPolicy: rpUser, want: Allowed})
	add(evalCase{name: "resource policy names role: boundary applies", principal: func() *Principal { p := session("s1", ""); p.Boundary = boundarySQS; return p }(), resPolicy: rpRole, want: ImplicitDenyBoundary})
	add(evalCase{name: "resource policy names role: allowed", principal: session("s1", ""), resPolicy: rpRole, want: Allowed})
	add(evalCase{name: "resource policy names role: session policy applies", principal: session("s1", "", allow("sqs:*", "*")), resPolicy: rpRole, want: ImplicitDenySession})
	add(evalCase{name: "resource policy names session: session policy does not limit", principal: session("s1", "", allow("sqs:*", "*")), resPolicy: rpSession, want: Allowed})
	add(evalCase{name: "resource policy names other session", principal: session("s2", ""), resPolicy: rpSession, want: ImplicitDenyIdentity})
	add(evalCase{name: "resource policy other action", principal: user("u"), action: "s3:PutObject", resPolicy: rpUser, want: ImplicitDenyIdentity})
	add(evalCase{name: "service principal allowed by resource policy", principal: &Principal{Type: ServicePrincipal, ARN: "sns.amazonaws.com"}, action: "sqs:SendMessage", resource: "arn:aws:sqs:us-east-1:" + acct + ":q",
		resPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:` + acct + `:t"}}}]}`,
		ctx:       Context{"aws:sourcearn": {"arn:aws:sns:us-east-1:" + acct + ":t"}}, want: Allowed})
	add(evalCase{name: "service principal wrong source arn", principal: &Principal{Type: ServicePrincipal, ARN: "sns.amazonaws.com"}, action: "sqs:SendMessage", resource: "arn:aws:sqs:us-east-1:" + acct + ":q",
		resPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:` + acct + `:t"}}}]}`,
		ctx:       Context{"aws:sourcearn": {"arn:aws:sns:us-east-1:" + acct + ":evil"}}, want: ImplicitDenyResource})
	add(evalCase{name: "other service principal", principal: &Principal{Type: ServicePrincipal, ARN: "events.amazonaws.com"}, action: "sqs:SendMessage", resource: "*",
		resPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*"}]}`, want: ImplicitDenyResource})
	add(evalCase{name: "source account condition", principal: &Principal{Type: ServicePrincipal, ARN: "s3.amazonaws.com"}, action: "sns:Publish", resource: "*",
		resPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sns:Publish","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"` + acct + `"}}}]}`,
		ctx:       Context{"aws:sourceaccount": {acct}}, want: Allowed})

	// Cross-account: both sides must allow.
	xUser := func(pols ...string) *Principal {
		p := user("x", pols...)
		p.ARN = "arn:aws:iam::" + other + ":user/x"
		p.Account = other
		return p
	}
	rpXUser := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + other + `:user/x"},"Action":"s3:GetObject","Resource":"*"}]}`
	rpXAccount := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + other + `:root"},"Action":"s3:*","Resource":"*"}]}`
	add(evalCase{name: "cross-account: both allow", principal: xUser(allow("s3:GetObject", "*")), resPolicy: rpXUser, resAcct: acct, want: Allowed})
	add(evalCase{name: "cross-account: only identity", principal: xUser(allow("s3:GetObject", "*")), resAcct: acct, want: ImplicitDenyResource})
	add(evalCase{name: "cross-account: only resource", principal: xUser(), resPolicy: rpXUser, resAcct: acct, want: ImplicitDenyIdentity})
	add(evalCase{name: "cross-account: account principal + identity", principal: xUser(allow("s3:*", "*")), resPolicy: rpXAccount, resAcct: acct, want: Allowed})
	add(evalCase{name: "cross-account: account principal, no identity", principal: xUser(), resPolicy: rpXAccount, resAcct: acct, want: ImplicitDenyIdentity})
	add(evalCase{name: "cross-account: resource names other account", principal: xUser(allow("s3:*", "*")), resPolicy: rpAccount, resAcct: acct, want: ImplicitDenyResource})
	add(evalCase{name: "cross-account: identity deny", principal: xUser(allow("s3:*", "*"), deny("s3:GetObject", "*")), resPolicy: rpXUser, resAcct: acct, want: ExplicitDenyIdentity})
	add(evalCase{name: "cross-account: boundary caps", principal: withBoundary(xUser(allow("s3:*", "*")), boundarySQS), resPolicy: rpXUser, resAcct: acct, want: ImplicitDenyBoundary})
	add(evalCase{name: "cross-account root needs resource policy", principal: &Principal{Type: Root, ARN: "arn:aws:iam::" + other + ":root", Account: other}, resAcct: acct, want: ImplicitDenyResource})
	add(evalCase{name: "cross-account root with resource policy", principal: &Principal{Type: Root, ARN: "arn:aws:iam::" + other + ":root", Account: other}, resPolicy: rpXAccount, resAcct: acct, want: Allowed})
	add(evalCase{name: "same account explicit", principal: user("u", allow("s3:*", "*")), resAcct: acct, want: Allowed})

	// Permissions boundaries.
	add(evalCase{name: "boundary allows", principal: withBoundary(user("u", allow("s3:*", "*")), boundaryS3), want: Allowed})
	add(evalCase{name: "boundary does not allow", principal: withBoundary(user("u", allow("*", "*")), boundarySQS), want: ImplicitDenyBoundary})
	add(evalCase{name: "boundary allows, identity does not", principal: withBoundary(user("u"), boundaryS3), want: ImplicitDenyIdentity})
	add(evalCase{name: "boundary explicit deny", principal: withBoundary(user("u", allow("*", "*")), mustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}`, Identity)), want: ExplicitDenyBoundary})
	add(evalCase{name: "boundary does not grant", principal: withBoundary(user("u", allow("sqs:*", "*")), boundaryS3), want: ImplicitDenyIdentity})
	add(evalCase{name: "boundary resource scoped", principal: withBoundary(user("u", allow("s3:*", "*")), mustParse(allow("s3:*", "arn:aws:s3:::bkt/private/*"), Identity)), want: ImplicitDenyBoundary})

	// Session policies.
	add(evalCase{name: "session allows", principal: session("s1", allow("s3:*", "*"), allow("s3:GetObject", "*")), want: Allowed})
	add(evalCase{name: "session does not allow", principal: session("s1", allow("s3:*", "*"), allow("sqs:*", "*")), want: ImplicitDenySession})
	add(evalCase{name: "session allows, role does not", principal: session("s1", allow("sqs:*", "*"), allow("s3:*", "*")), want: ImplicitDenyIdentity})
	add(evalCase{name: "session explicit deny", principal: session("s1", allow("s3:*", "*"), `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}`), want: ExplicitDenySession})
	add(evalCase{name: "one of two session policies allows", principal: session("s1", allow("s3:*", "*"), allow("sqs:*", "*"), allow("s3:GetObject", "*")), want: Allowed})
	add(evalCase{name: "no session policy", principal: session("s1", allow("s3:*", "*")), want: Allowed})
	add(evalCase{name: "federated session without policy", principal: &Principal{Type: FederatedUser, ARN: "arn:aws:sts::" + acct + ":federated-user/f", Account: acct, Identity: []*Policy{mustParse(allow("*", "*"), Identity)}, HasSession: true}, want: ImplicitDenySession})

	// Policy variables.
	varPol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bkt/home/${aws:username}/*"}]}`
	add(evalCase{name: "variable username match", principal: user("alice", varPol), resource: "arn:aws:s3:::bkt/home/alice/f", want: Allowed})
	add(evalCase{name: "variable username other", principal: user("alice", varPol), resource: "arn:aws:s3:::bkt/home/bob/f", want: ImplicitDenyIdentity})
	add(evalCase{name: "variable username absent for role", principal: session("s1", varPol), resource: "arn:aws:s3:::bkt/home/s1/f", want: ImplicitDenyIdentity})
	add(evalCase{name: "variable literal in 2008 version", principal: user("alice", strings.Replace(varPol, "2012-10-17", "2008-10-17", 1)), resource: "arn:aws:s3:::bkt/home/alice/f", want: ImplicitDenyIdentity})
	add(evalCase{name: "variable literal in 2008 version matches literally", principal: user("alice", strings.Replace(varPol, "2012-10-17", "2008-10-17", 1)), resource: "arn:aws:s3:::bkt/home/${aws:username}/f", want: Allowed})
	tagPol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bkt/${aws:PrincipalTag/team}/*"}]}`
	add(evalCase{name: "principal tag variable", principal: user("alice", tagPol), resource: "arn:aws:s3:::bkt/blue/x", want: Allowed})
	add(evalCase{name: "principal tag variable other", principal: user("alice", tagPol), resource: "arn:aws:s3:::bkt/red/x", want: ImplicitDenyIdentity})
	defPol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bkt/${aws:PrincipalTag/missing, 'shared'}/*"}]}`
	add(evalCase{name: "variable default value", principal: user("alice", defPol), resource: "arn:aws:s3:::bkt/shared/x", want: Allowed})
	escPol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bkt/${*}/${?}/x"}]}`
	add(evalCase{name: "escaped star is literal", principal: user("alice", escPol), resource: "arn:aws:s3:::bkt/*/?/x", want: Allowed})
	add(evalCase{name: "escaped star is not a wildcard", principal: user("alice", escPol), resource: "arn:aws:s3:::bkt/abc/d/x", want: ImplicitDenyIdentity})
	uidPol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bkt/${aws:userid}/*"}]}`
	add(evalCase{name: "userid variable for session", principal: session("s1", uidPol), resource: "arn:aws:s3:::bkt/AROAEXAMPLE:s1/x", want: Allowed})
	condVar := withCond(`{"StringEquals":{"s3:prefix":"home/${aws:username}/"}}`)
	add(evalCase{name: "variable in condition", principal: user("alice", condVar), ctx: Context{"s3:prefix": {"home/alice/"}}, want: Allowed})
	add(evalCase{name: "variable in condition other", principal: user("alice", condVar), ctx: Context{"s3:prefix": {"home/bob/"}}, want: ImplicitDenyIdentity})

	// Condition operators: (condition, context value(s) or nil for absent, want allowed).
	type cc struct {
		cond string
		key  string
		vals []string
		ok   bool
	}
	condCases := []cc{
		{`{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}`, "aws:requestedregion", []string{"us-east-1"}, true},
		{`{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}`, "aws:requestedregion", []string{"US-EAST-1"}, false},
		{`{"StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}`, "aws:requestedregion", []string{"us-east-1"}, true},
		{`{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}`, "aws:requestedregion", nil, false},
		{`{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}`, "aws:requestedregion", []string{"eu-west-1"}, true},
		{`{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}`, "aws:requestedregion", []string{"us-east-1"}, false},
		{`{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}`, "aws:requestedregion", []string{"eu-west-1"}, false},
		{`{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}`, "aws:requestedregion", nil, true},
		{`{"StringEqualsIgnoreCase":{"aws:RequestedRegion":"US-EAST-1"}}`, "aws:requestedregion", []string{"us-east-1"}, true},
		{`{"StringNotEqualsIgnoreCase":{"aws:RequestedRegion":"US-EAST-1"}}`, "aws:requestedregion", []string{"us-east-1"}, false},
		{`{"StringLike":{"s3:prefix":"home/*"}}`, "s3:prefix", []string{"home/alice/"}, true},
		{`{"StringLike":{"s3:prefix":"home/*"}}`, "s3:prefix", []string{"work/"}, false},
		{`{"StringLike":{"s3:prefix":["","home/"]}}`, "s3:prefix", []string{""}, true},
		{`{"StringLike":{"s3:prefix":"h?me/"}}`, "s3:prefix", []string{"home/"}, true},
		{`{"StringNotLike":{"s3:prefix":"home/*"}}`, "s3:prefix", []string{"work/"}, true},
		{`{"StringNotLike":{"s3:prefix":"home/*"}}`, "s3:prefix", []string{"home/x"}, false},
		{`{"StringNotLike":{"s3:prefix":"home/*"}}`, "s3:prefix", nil, true},
		{`{"StringEqualsIfExists":{"s3:prefix":"home/"}}`, "s3:prefix", nil, true},
		{`{"StringEqualsIfExists":{"s3:prefix":"home/"}}`, "s3:prefix", []string{"home/"}, true},
		{`{"StringEqualsIfExists":{"s3:prefix":"home/"}}`, "s3:prefix", []string{"work/"}, false},
		{`{"StringLikeIfExists":{"s3:prefix":"h*"}}`, "s3:prefix", nil, true},
		{`{"NumericEquals":{"s3:max-keys":"10"}}`, "s3:max-keys", []string{"10"}, true},
		{`{"NumericEquals":{"s3:max-keys":"10"}}`, "s3:max-keys", []string{"10.0"}, true},
		{`{"NumericEquals":{"s3:max-keys":"10"}}`, "s3:max-keys", []string{"11"}, false},
		{`{"NumericNotEquals":{"s3:max-keys":"10"}}`, "s3:max-keys", []string{"11"}, true},
		{`{"NumericNotEquals":{"s3:max-keys":"10"}}`, "s3:max-keys", []string{"10"}, false},
		{`{"NumericLessThan":{"s3:max-keys":"10"}}`, "s3:max-keys", []string{"9"}, true},
		{`{"NumericLessThan":{"s3:max-keys":"10"}}`, "s3:max-keys", []string{"10"}, false},
		{`{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, "s3:max-keys", []string{"10"}, true},
		{`{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, "s3:max-keys", []string{"11"}, false},
		{`{"NumericGreaterThan":{"s3:max-keys":"10"}}`, "s3:max-keys", []string{"11"}, true},
		{`{"NumericGreaterThan":{"s3:max-keys":"10"}}`, "s3:max-keys", []string{"10"}, false},
		{`{"NumericGreaterThanEquals":{"s3:max-keys":"10"}}`, "s3:max-keys", []string{"10"}, true},
		{`{"NumericGreaterThanEquals":{"s3:max-keys":"10"}}`, "s3:max-keys", []string{"9"}, false},
		{`{"NumericLessThan":{"s3:max-keys":10}}`, "s3:max-keys", []string{"abc"}, false},
		{`{"NumericLessThan":{"s3:max-keys":10}}`, "s3:max-keys", nil, false},
		{`{"NumericLessThanIfExists":{"s3:max-keys":10}}`, "s3:max-keys", nil, true},
		{`{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, "aws:currenttime", []string{"2024-05-01T12:00:00Z"}, true},
		{`{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, "aws:currenttime", []string{"2024-05-01T12:00:00Z"}, false},
		{`{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, "aws:currenttime", []string{"2024-05-01T12:00:00Z"}, true},
		{`{"DateLessThan":{"aws:CurrentTime":"2020-01-01"}}`, "aws:currenttime", []string{"2024-05-01T12:00:00Z"}, false},
		{`{"DateEquals":{"aws:CurrentTime":"2024-05-01T12:00:00Z"}}`, "aws:currenttime", []string{"2024-05-01T12:00:00Z"}, true},
		{`{"DateNotEquals":{"aws:CurrentTime":"2024-05-01T12:00:00Z"}}`, "aws:currenttime", []string{"2024-05-01T12:00:01Z"}, true},
		{`{"DateLessThanEquals":{"aws:CurrentTime":"2024-05-01T12:00:00Z"}}`, "aws:currenttime", []string{"2024-05-01T12:00:00Z"}, true},
		{`{"DateGreaterThanEquals":{"aws:CurrentTime":"2024-05-01T12:00:00Z"}}`, "aws:currenttime", []string{"2024-05-01T11:59:59Z"}, false},
		{`{"DateGreaterThan":{"aws:EpochTime":"1700000000"}}`, "aws:epochtime", []string{"1714564800"}, true},
		{`{"DateLessThan":{"aws:TokenIssueTime":"2024-01-01T00:00:00Z"}}`, "aws:tokenissuetime", nil, false},
		{`{"DateLessThanIfExists":{"aws:TokenIssueTime":"2024-01-01T00:00:00Z"}}`, "aws:tokenissuetime", nil, true},
		{`{"Bool":{"aws:SecureTransport":"true"}}`, "aws:securetransport", []string{"true"}, true},
		{`{"Bool":{"aws:SecureTransport":"true"}}`, "aws:securetransport", []string{"false"}, false},
		{`{"Bool":{"aws:SecureTransport":true}}`, "aws:securetransport", []string{"true"}, true},
		{`{"Bool":{"aws:SecureTransport":"false"}}`, "aws:securetransport", []string{"false"}, true},
		{`{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`, "aws:multifactorauthpresent", nil, false},
		{`{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, "aws:multifactorauthpresent", nil, true},
		{`{"BinaryEquals":{"s3:x-bin":"aGVsbG8="}}`, "s3:x-bin", []string{"aGVsbG8="}, true},
		{`{"BinaryEquals":{"s3:x-bin":"aGVsbG8="}}`, "s3:x-bin", []string{"d29ybGQ="}, false},
		{`{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, "aws:sourceip", []string{"203.0.113.7"}, true},
		{`{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, "aws:sourceip", []string{"198.51.100.7"}, false},
		{`{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","127.0.0.1/32"]}}`, "aws:sourceip", []string{"127.0.0.1"}, true},
		{`{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, "aws:sourceip", []string{"2001:db8::1"}, true},
		{`{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, "aws:sourceip", []string{"127.0.0.1"}, false},
		{`{"IpAddress":{"aws:SourceIp":"203.0.113.5"}}`, "aws:sourceip", []string{"203.0.113.5"}, true},
		{`{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, "aws:sourceip", []string{"198.51.100.7"}, true},
		{`{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, "aws:sourceip", []string{"203.0.113.7"}, false},
		{`{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, "aws:sourceip", nil, false},
		{`{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:` + acct + `:t"}}`, "aws:sourcearn", []string{"arn:aws:sns:us-east-1:" + acct + ":t"}, true},
		{`{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:` + acct + `:*"}}`, "aws:sourcearn", []string{"arn:aws:sns:eu-west-1:" + acct + ":t"}, true},
		{`{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:` + acct + `:*"}}`, "aws:sourcearn", []string{"arn:aws:sns:eu-west-1:" + other + ":t"}, false},
		{`{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::bkt*"}}`, "aws:sourcearn", []string{"arn:aws:s3:::bkt-logs"}, true},
		{`{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:` + acct + `:*"}}`, "aws:sourcearn", []string{"arn:aws:sns:eu-west-1:" + other + ":t"}, true},
		{`{"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:` + acct + `:t"}}`, "aws:sourcearn", []string{"arn:aws:sns:us-east-1:" + acct + ":t"}, false},
		{`{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:` + acct + `:*"}}`, "aws:sourcearn", []string{"not-an-arn"}, false},
		{`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::` + acct + `:user/*"}}`, "", nil, true},
		{`{"Null":{"aws:TokenIssueTime":"true"}}`, "aws:tokenissuetime", nil, true},
		{`{"Null":{"aws:TokenIssueTime":"true"}}`, "aws:tokenissuetime", []string{"2024-01-01T00:00:00Z"}, false},
		{`{"Null":{"aws:TokenIssueTime":"false"}}`, "aws:tokenissuetime", []string{"2024-01-01T00:00:00Z"}, true},
		{`{"Null":{"aws:TokenIssueTime":"false"}}`, "aws:tokenissuetime", nil, false},
		{`{"Null":{"aws:RequestTag/env":"false"}}`, "aws:requesttag/env", []string{"prod"}, true},
		{`{"StringEquals":{"aws:RequestTag/env":"prod"}}`, "aws:requesttag/env", []string{"prod"}, true},
		{`{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`, "aws:resourcetag/owner", []string{"u"}, true},
		{`{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`, "aws:resourcetag/owner", []string{"v"}, false},
		{`{"StringEquals":{"aws:PrincipalTag/team":"blue"}}`, "", nil, true},
		{`{"StringEquals":{"aws:PrincipalTag/TEAM":"blue"}}`, "", nil, true},
		{`{"StringEquals":{"aws:PrincipalTag/team":"red"}}`, "", nil, false},
		{`{"StringEquals":{"aws:PrincipalAccount":"` + acct + `"}}`, "", nil, true},
		{`{"StringEquals":{"aws:PrincipalAccount":"` + other + `"}}`, "", nil, false},
		{`{"StringEquals":{"aws:username":"u"}}`, "", nil, true},
		{`{"StringEquals":{"aws:PrincipalType":"User"}}`, "", nil, true},
		{`{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::` + acct + `:user/u"}}`, "", nil, true},
		{`{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, "aws:tagkeys", []string{"env", "cost"}, true},
		{`{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, "aws:tagkeys", []string{"cost"}, false},
		{`{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, "aws:tagkeys", nil, false},
		{`{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, "aws:tagkeys", []string{"env", "team"}, true},
		{`{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, "aws:tagkeys", []string{"env", "cost"}, false},
		{`{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, "aws:tagkeys", nil, true},
		{`{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, "aws:tagkeys", []string{}, true},
		{`{"ForAllValues:StringLike":{"aws:TagKeys":["env*"]}}`, "aws:tagkeys", []string{"env", "environment"}, true},
		{`{"ForAnyValue:StringLike":{"aws:TagKeys":["cost*"]}}`, "aws:tagkeys", []string{"env", "costcenter"}, true},
		{`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env"]}}`, "aws:tagkeys", []string{"env", "team"}, true},
		{`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env"]}}`, "aws:tagkeys", []string{"env"}, false},
		{`{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}`, "aws:tagkeys", []string{"env", "team"}, true},
		{`{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}`, "aws:tagkeys", []string{"env", "secret"}, false},
		{`{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["env"]}}`, "aws:tagkeys", nil, true},
		{`{"StringEquals":{"aws:TagKeys":"env"}}`, "aws:tagkeys", []string{"team", "env"}, true},
		{`{"StringNotEquals":{"aws:TagKeys":"env"}}`, "aws:tagkeys", []string{"team", "env"}, false},
		{`{"StringEquals":{"sts:ExternalId":"abc"}}`, "sts:externalid", []string{"abc"}, true},
		{`{"StringEquals":{"sts:ExternalId":"abc"}}`, "sts:externalid", nil, false},
		{`{"StringEquals":{"aws:RequestedRegion":"us-east-1"},"Bool":{"aws:SecureTransport":"true"}}`, "aws:requestedregion", []string{"us-east-1"}, false},
		{`{"StringEquals":{"aws:RequestedRegion":"us-east-1","aws:PrincipalTag/team":"blue"}}`, "aws:requestedregion", []string{"us-east-1"}, true},
		{`{"StringEquals":{"aws:RequestedRegion":"us-east-1","aws:PrincipalTag/team":"red"}}`, "aws:requestedregion", []string{"us-east-1"}, false},
		{`{"StringEquals":{"AWS:REQUESTEDREGION":"us-east-1"}}`, "aws:requestedregion", []string{"us-east-1"}, true},
	}
	for i, c := range condCases {
		ctx := Context{}
		if c.key != "" && c.vals != nil {
			ctx[c.key] = c.vals
		}
		want := ImplicitDenyIdentity
		if c.ok {
			want = Allowed
		}
		add(evalCase{name: fmt.Sprintf("cond %d %s %v", i, c.cond, c.vals), principal: user("u", withCond(c.cond)), ctx: ctx, want: want})
	}
	// Conditions in deny statements: the deny applies only when they hold.
	denyHTTP := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	add(evalCase{name: "deny over http", principal: user("u", denyHTTP), ctx: Context{"aws:securetransport": {"false"}}, want: ExplicitDenyIdentity})
	add(evalCase{name: "allowed over https", principal: user("u", denyHTTP), ctx: Context{"aws:securetransport": {"true"}}, want: Allowed})
	add(evalCase{name: "deny condition key absent", principal: user("u", denyHTTP), want: Allowed})
	denyIP := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}]}`
	add(evalCase{name: "deny outside ip range", principal: user("u", denyIP), ctx: Context{"aws:sourceip": {"203.0.113.1"}}, want: ExplicitDenyIdentity})
	add(evalCase{name: "allow inside ip range", principal: user("u", denyIP), ctx: Context{"aws:sourceip": {"192.0.2.1"}}, want: Allowed})
	add(evalCase{name: "deny NotIpAddress when key absent", principal: user("u", denyIP), want: ExplicitDenyIdentity})
	denyRegion := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}]}`
	add(evalCase{name: "region guard allows listed", principal: user("u", denyRegion), ctx: Context{"aws:requestedregion": {"eu-west-1"}}, want: Allowed})
	add(evalCase{name: "region guard denies others", principal: user("u", denyRegion), ctx: Context{"aws:requestedregion": {"ap-south-1"}}, want: ExplicitDenyIdentity})
	add(evalCase{name: "region guard spares iam", principal: user("u", denyRegion), action: "iam:ListUsers", resource: "*", ctx: Context{"aws:requestedregion": {"ap-south-1"}}, want: Allowed})
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/u"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x1"}}}]}`
	add(evalCase{name: "trust with external id", principal: user("u"), action: "sts:AssumeRole", resource: "arn:aws:iam::" + acct + ":role/r", resPolicy: trust, ctx: Context{"sts:externalid": {"x1"}}, want: Allowed})
	add(evalCase{name: "trust wrong external id", principal: user("u"), action: "sts:AssumeRole", resource: "arn:aws:iam::" + acct + ":role/r", resPolicy: trust, ctx: Context{"sts:externalid": {"x2"}}, want: ImplicitDenyIdentity})
	add(evalCase{name: "trust other user", principal: user("v"), action: "sts:AssumeRole", resource: "arn:aws:iam::" + acct + ":role/r", resPolicy: trust, ctx: Context{"sts:externalid": {"x1"}}, want: ImplicitDenyIdentity})
	add(evalCase{name: "trust cross-account user needs identity", principal: xUser(), action: "sts:AssumeRole", resource: "arn:aws:iam::" + acct + ":role/r", resAcct: acct,
		resPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + other + `"},"Action":"sts:AssumeRole"}]}`, want: ImplicitDenyIdentity})
	add(evalCase{name: "trust cross-account user with identity", principal: xUser(allow("sts:AssumeRole", "*")), action: "sts:AssumeRole", resource: "arn:aws:iam::" + acct + ":role/r", resAcct: acct,
		resPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + other + `"},"Action":"sts:AssumeRole"}]}`, want: Allowed})

	if len(cases) < 200 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var rp *Policy
			if c.resPolicy != "" {
				rp = mustParse(c.resPolicy, Resource)
			}
			req := &Request{Action: c.action, Resource: c.resource, Principal: c.principal, Context: c.ctx, ResourceAccount: c.resAcct}
			d := Evaluate(req, rp)
			if d.Reason != c.want || d.Allowed != (c.want == Allowed) {
				t.Errorf("got %v (allowed %v), want %v", d.Reason, d.Allowed, c.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		doc  string
		kind Kind
		msg  string
	}{
		{`{`, Identity, MsgSyntax},
		{`[]`, Identity, MsgSyntax},
		{`{"Version":"2012-10-17"}`, Identity, MsgSyntax},
		{`{"Version":"2013-01-01","Statement":[]}`, Identity, MsgLegacy},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}`, Identity, MsgNeedResources},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}`, Identity, MsgNeedActions},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Permit","Action":"s3:*","Resource":"*"}}`, Identity, MsgSyntax},
		{`{"Version":"2012-10-17","Statement":{"Action":"s3:*","Resource":"*"}}`, Identity, MsgSyntax},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"getobject","Resource":"*"}}`, Identity, MsgVendor},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}}`, Identity, `Resource bucket must be in ARN format or "*".`},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Principal":"*"}}`, Identity, MsgNoPrincipal},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`, Trust, MsgNeedPrincipal},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"*","Resource":"*"}}`, Trust, MsgResourceInTrust},
		{`{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"a","Effect":"Deny","Action":"s3:*","Resource":"*"}]}`, Identity, MsgDuplicateSid},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringFoo":{"a:b":"c"}}}}`, Identity, MsgSyntax},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"nope"}}}}`, Identity, MsgSyntax},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Extra":1}}`, Identity, MsgSyntax},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}}`, Identity, MsgSyntax},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}} trailing`, Identity, MsgSyntax},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:bogus:s3:::b"}}`, Identity, `Partition "bogus" is not valid for resource "arn:bogus:s3:::b".`},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:*","Resource":"*"}}`, Resource, `Invalid principal in policy: "AWS":"bob"`},
	} {
		_, err := Parse(c.doc, c.kind)
		if err == nil || err.Error() != c.msg {
			t.Errorf("%s: got %v, want %q", c.doc, err, c.msg)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":["a*"]},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`)
	f.Add(`{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["123456789012","arn:aws:iam::1:user/x"]},"NotAction":"iam:*","NotResource":"*"}}`)
	f.Add(`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"Null":{"a:b":"true"},"DateLessThan":{"aws:CurrentTime":"2020-01-01"}}}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		for _, k := range []Kind{Identity, Resource, Trust, Any} {
			p, err := Parse(doc, k)
			if err != nil {
				continue
			}
			req := &Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/x", Principal: user("u"), Context: Context{"aws:sourceip": {"10.1.2.3"}, "aws:tagkeys": {"a", "b"}}}
			Evaluate(req, p)
			req.Principal.Identity = []*Policy{p}
			Evaluate(req, nil)
		}
	})
}

func BenchmarkEvaluate10Statements(b *testing.B) {
	doc := `{"Version":"2012-10-17","Statement":[`
	for i := 0; i < 9; i++ {
		doc += fmt.Sprintf(`{"Sid":"s%d","Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:Get*"],"Resource":"arn:aws:sqs:*:%s:queue-%d","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},`, i, acct, i)
	}
	doc += `{"Sid":"last","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/${aws:username}/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	p := user("alice", doc)
	p.Identity = append(p.Identity, mustParse(deny("s3:DeleteObject", "*"), Identity))
	ctx := Context{"aws:requestedregion": {"us-east-1"}, "aws:sourceip": {"10.1.2.3"}, "aws:securetransport": {"false"}, "aws:currenttime": {"2024-01-01T00:00:00Z"}}
	req := &Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::bkt/alice/photo.jpg", Principal: p, Context: ctx}
	if d := Evaluate(req, nil); !d.Allowed {
		b.Fatalf("not allowed: %v", d.Reason)
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(req, nil)
	}
}
