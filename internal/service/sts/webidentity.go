package sts

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/policy"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

const (
	codeInvalidIdentityToken = "InvalidIdentityToken"
	codeExpiredTokenExc      = "ExpiredTokenException"
	codeIDPCommunication     = "IDPCommunicationError"
)

func invalidIdentityToken(msg string) *awserr.Error {
	return awserr.WithStatus(http.StatusBadRequest, codeInvalidIdentityToken, "%s", msg)
}

// assumeRoleWithWebIdentity verifies an OpenID Connect ID token (RS256,
// against the issuer's keys), finds the IAM OIDC provider of the role's
// account for its issuer and audience, evaluates the role's trust policy
// for the provider as Federated principal with the <provider>:sub and
// <provider>:aud condition keys, and issues role credentials.
func (s *Service) assumeRoleWithWebIdentity(r *service.Request) (map[string]any, error) {
	roleARN := service.Str(r.Input, "RoleArn")
	sessName := service.Str(r.Input, "RoleSessionName")
	token := service.Str(r.Input, "WebIdentityToken")
	if len(roleARN) < 20 || len(roleARN) > 2048 {
		return nil, validationf("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", roleARN)
	}
	if err := validSessionName("roleSessionName", sessName, 2); err != nil {
		return nil, err
	}
	if len(token) < 4 || len(token) > 20000 {
		return nil, validationf("1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between 4 and 20000")
	}
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return nil, validationf("%s is invalid", roleARN)
	}
	account := parts[4]
	inline, arns, packed, err := sessionPolicies(r)
	if err != nil {
		return nil, err
	}
	t, err := parseJWT(token)
	if err != nil {
		return nil, invalidIdentityToken("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	}
	if t.Iss == "" {
		return nil, invalidIdentityToken("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	}
	dir := s.cfg.Directory
	if dir == nil {
		return nil, invalidIdentityToken("No OpenIDConnect provider found in your account for " + t.Iss)
	}
	providerARN, clients, ok := dir.OIDCProvider(account, t.Iss)
	if !ok {
		return nil, invalidIdentityToken("No OpenIDConnect provider found in your account for " + t.Iss)
	}
	aud := ""
	for _, a := range t.Aud {
		for _, c := range clients {
			if a == c && aud == "" {
				aud = a
			}
		}
	}
	if aud == "" {
		return nil, invalidIdentityToken("Incorrect token audience")
	}
	keys, err := s.issuerKeys(t.Iss)
	if err != nil {
		return nil, awserr.WithStatus(http.StatusBadRequest, codeIDPCommunication, "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements")
	}
	key := keys[t.Kid]
	if key == nil && t.Kid == "" && len(keys) == 1 {
		for _, k := range keys {
			key = k
		}
	}
	if !t.verify(key) {
		return nil, invalidIdentityToken("The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.")
	}
	now := s.cfg.Clock.Now()
	if t.Exp == 0 || now.Unix() >= t.Exp {
		return nil, awserr.WithStatus(http.StatusBadRequest, codeExpiredTokenExc, "Token expired: current date/time %d must be before the expiration date/time %d", now.Unix(), t.Exp)
	}
	if t.Nbf != 0 && now.Unix()+300 < t.Nbf {
		return nil, invalidIdentityToken("The ID Token provided is not yet valid.")
	}
	rp, trust, maxSess, ok := dir.RolePrincipal(account, roleARN)
	denied := &awserr.Error{Code: awserr.CodeAccessDenied, Status: http.StatusForbidden, QueryCode: awserr.CodeAccessDenied, Message: "Not authorized to perform sts:AssumeRoleWithWebIdentity"}
	if !ok || rp.ARN != roleARN || trust == nil {
		return nil, denied
	}
	host := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(t.Iss, "https://"), "http://"), "/")
	ctx := policy.Context{}
	ctx.Set(host+":sub", t.Sub)
	ctx.Set(host+":aud", aud)
	ctx.Set(host+":oaud", t.Aud...)
	ctx.Set("aws:FederatedProvider", providerARN)
	ctx.Set("aws:CurrentTime", now.UTC().Format(time.RFC3339))
	ctx.Set("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
	ctx.Set("aws:RequestedRegion", r.Region)
	ctx.Set("sts:RoleSessionName", sessName)
	caller := &policy.Principal{Type: policy.WebIdentity, Federated: providerARN, Account: account}
	d := policy.Evaluate(&policy.Request{Action: "sts:AssumeRoleWithWebIdentity", Resource: roleARN, ResourceAccount: account, Principal: caller, Context: ctx}, trust)
	if !d.Allowed {
		return nil, denied
	}
	dur := int64(3600)
	if v, set := service.Int(r.Input, "DurationSeconds"); set {
		dur = v
	}
	if dur < 900 {
		return nil, validationf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", dur)
	}
	if dur > maxSess {
		return nil, validationf("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	ss := &session{
		Account: account, Kind: "role", Role: rp.Name, RoleARN: rp.ARN, RoleID: rp.UserID, Name: sessName,
		Policy: service.Str(r.Input, "Policy"), PolicyARNs: arns,
		ARN:    "arn:" + parts[1] + ":sts::" + account + ":assumed-role/" + rp.Name + "/" + sessName,
		UserID: rp.UserID + ":" + sessName, inline: inline,
	}
	creds, err := s.issue(ss, time.Duration(dur)*time.Second)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"Credentials":                 creds,
		"SubjectFromWebIdentityToken": t.Sub,
		"AssumedRoleUser":             map[string]any{"AssumedRoleId": ss.UserID, "Arn": ss.ARN},
		"Provider":                    t.Iss,
		"Audience":                    aud,
	}
	if inline != nil || len(arns) > 0 {
		out["PackedPolicySize"] = packed
	}
	return out, nil
}
