package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/service/ec2"
)

// instanceRoles is ec2.InstanceCredentials over IAM and STS: an instance
// profile's role, assumed by ec2.amazonaws.com through the role's trust
// policy, with STS-issued credentials that expire and are enforced like
// any others. Credentials are reused until fifteen minutes before they
// expire, as the metadata service rotates them ahead of expiry.
type instanceRoles struct {
	p *parts

	mu    sync.Mutex
	cache map[string]cachedRole // by account and profile ARN
}

type cachedRole struct {
	role  string
	creds ec2.Credentials
}

// instanceSessionDuration is how long instance role credentials last.
const instanceSessionDuration = time.Hour

func newInstanceRoles(p *parts) *instanceRoles {
	return &instanceRoles{p: p, cache: map[string]cachedRole{}}
}

// RoleCredentials implements ec2.InstanceCredentials.
func (ir *instanceRoles) RoleCredentials(ctx context.Context, account, profileARN string) (string, ec2.Credentials, error) {
	iamSvc, stsSvc := ir.p.iam, ir.p.sts
	if iamSvc == nil || stsSvc == nil {
		// Without IAM and STS, instances get the root credentials.
		role := profileARN[lastSlash(profileARN)+1:]
		return role, ec2.Credentials{AccessKeyID: ir.p.cfg.AccessKey, SecretAccessKey: ir.p.cfg.SecretKey}, nil
	}
	roleARN, ok := iamSvc.InstanceProfileRole(account, profileARN)
	if !ok {
		return "", ec2.Credentials{}, errors.New("instance profile " + profileARN + " has no role")
	}
	role := roleARN[lastSlash(roleARN)+1:]
	key := account + "\x00" + profileARN
	now := ir.p.clock.Now()
	ir.mu.Lock()
	defer ir.mu.Unlock()
	if c, ok := ir.cache[key]; ok && c.role == role && now.Add(15*time.Minute).Before(c.creds.Expiration) {
		if _, _, _, expired, known := stsSvc.Lookup(c.creds.AccessKeyID); known && !expired {
			return c.role, c.creds, nil
		}
	}
	profile := profileARN[lastSlash(profileARN)+1:]
	cr, err := stsSvc.AssumeRoleForService("ec2.amazonaws.com", roleARN, "", profile, instanceSessionDuration)
	if err != nil {
		return "", ec2.Credentials{}, err
	}
	c := cachedRole{role: role, creds: ec2.Credentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken, Expiration: cr.Expiration}}
	ir.cache[key] = c
	return c.role, c.creds, nil
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

var _ ec2.InstanceCredentials = (*instanceRoles)(nil)
