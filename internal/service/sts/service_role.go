package sts

import (
	"errors"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/policy"
)

// Credentials are temporary credentials STS issued.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
}

// ErrNotTrusted is returned by AssumeRoleForService when the role's trust
// policy does not let the service assume it.
var ErrNotTrusted = errors.New("the role's trust policy does not allow the service to assume it")

// AssumeRoleForService issues credentials of role roleARN to an AWS
// service principal ("ec2.amazonaws.com", "lambda.amazonaws.com") acting
// for a resource of the role's account, as the service would call
// AssumeRole: the role's trust policy must allow the service principal
// sts:AssumeRole (with aws:SourceAccount and aws:SourceArn set from
// sourceARN). The session is named sessionName.
func (s *Service) AssumeRoleForService(servicePrincipal, roleARN, sourceARN, sessionName string, d time.Duration) (Credentials, error) {
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) != 6 || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return Credentials{}, errors.New("invalid role ARN " + roleARN)
	}
	account := parts[4]
	if s.cfg.Directory == nil {
		return Credentials{}, errors.New("no IAM directory")
	}
	rp, trust, _, ok := s.cfg.Directory.RolePrincipal(account, roleARN)
	if !ok || rp.ARN != roleARN {
		return Credentials{}, errors.New("no role " + roleARN)
	}
	ctx := policy.Context{}
	ctx.Set("aws:SourceAccount", account)
	if sourceARN != "" {
		ctx.Set("aws:SourceArn", sourceARN)
	}
	caller := &policy.Principal{Type: policy.ServicePrincipal, ARN: servicePrincipal}
	if trust == nil || !policy.Evaluate(&policy.Request{Action: "sts:AssumeRole", Resource: roleARN, ResourceAccount: account, Principal: caller, Context: ctx}, trust).Allowed {
		return Credentials{}, ErrNotTrusted
	}
	if len(sessionName) > 64 {
		sessionName = sessionName[:64]
	}
	ss := &session{
		Account: account, Kind: "role", Role: rp.Name, RoleARN: rp.ARN, RoleID: rp.UserID, Name: sessionName,
		ARN:    "arn:" + parts[1] + ":sts::" + account + ":assumed-role/" + rp.Name + "/" + sessionName,
		UserID: rp.UserID + ":" + sessionName,
	}
	out, err := s.issue(ss, d)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{AccessKeyID: ss.AccessKey, SecretAccessKey: ss.Secret, SessionToken: ss.Token, Expiration: out["Expiration"].(time.Time)}, nil
}
