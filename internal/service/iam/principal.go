package iam

import (
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/policy"
)

// AccessKey returns the secret and account of an IAM-issued access key, and
// whether the key is Active. ok is false for a key IAM never issued or
// has deleted.
func (s *Service) AccessKey(id string) (secret, account string, active, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k := s.keys[id]
	if k == nil {
		return "", "", false, false
	}
	return k.Secret, s.keyAcct[id], k.Status == "Active", true
}

// RecordKeyUse remembers the last use of an access key, for
// GetAccessKeyLastUsed. It is kept in memory only.
func (s *Service) RecordKeyUse(id, service, region string, when time.Time) {
	s.mu.RLock()
	_, known := s.keys[id]
	s.mu.RUnlock()
	if !known {
		return
	}
	s.usedMu.Lock()
	s.lastUsed[id] = keyUse{when: when.UTC(), service: service, region: region}
	s.usedMu.Unlock()
}

// KeyPrincipal returns the IAM user behind an access key, with its
// identity-based policies (its own and its groups'), permissions boundary
// and tags. ok is false when IAM did not issue the key.
func (s *Service) KeyPrincipal(id string) (*policy.Principal, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k := s.keys[id]
	if k == nil {
		return nil, false
	}
	st := s.accounts[s.keyAcct[id]]
	u := st.Users[k.User]
	if u == nil {
		return nil, false
	}
	return s.userPrincipal(st, s.keyAcct[id], u), true
}

// UserPrincipal returns a user by name as a principal.
func (s *Service) UserPrincipal(account, name string) (*policy.Principal, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.accounts[account]
	if st == nil {
		return nil, false
	}
	u := st.Users[strings.ToLower(name)]
	if u == nil {
		return nil, false
	}
	return s.userPrincipal(st, account, u), true
}

func (s *Service) userPrincipal(st *state, account string, u *user) *policy.Principal {
	p := &policy.Principal{Type: policy.User, ARN: u.ARN, Account: account, UserID: u.ID, Name: u.Name, Tags: tagMap(u.Tags)}
	p.Identity = s.entityPolicies(st, &u.entity, nil)
	for _, gn := range u.Groups {
		if g := st.Groups[gn]; g != nil {
			p.Identity = s.entityPolicies(st, &g.entity, p.Identity)
		}
	}
	p.Boundary = s.compiledDefault(st, u.Boundary)
	return p
}

// RolePrincipal returns a role by name (or by ARN) with its identity-based
// policies, boundary and tags, its trust policy and its maximum session
// duration in seconds. The principal's ARN is the role's ARN and its UserID
// the role id: STS turns it into a session.
func (s *Service) RolePrincipal(account, name string) (p *policy.Principal, trust *policy.Policy, maxSession int64, ok bool) {
	if strings.HasPrefix(name, "arn:") {
		name = name[strings.LastIndexByte(name, '/')+1:]
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.accounts[account]
	if st == nil {
		return nil, nil, 0, false
	}
	ro := st.Roles[strings.ToLower(name)]
	if ro == nil {
		return nil, nil, 0, false
	}
	p = &policy.Principal{Type: policy.AssumedRole, ARN: ro.ARN, RoleARN: ro.ARN, Account: account, UserID: ro.ID, Name: ro.Name, Tags: tagMap(ro.Tags)}
	p.Identity = s.entityPolicies(st, &ro.entity, nil)
	p.Boundary = s.compiledDefault(st, ro.Boundary)
	return p, ro.trust, ro.MaxSession, true
}

// RecordRoleUse sets a role's last-used date and region (in memory until
// the account's next change is saved).
func (s *Service) RecordRoleUse(account, name, region string, when time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.accounts[account]; st != nil {
		if ro := st.Roles[strings.ToLower(name)]; ro != nil {
			t := when.UTC()
			ro.LastUsed, ro.LastRegion = &t, region
		}
	}
}

// ManagedPolicy returns the default version of a managed policy (customer
// managed in account, or AWS managed), compiled.
func (s *Service) ManagedPolicy(account, arn string) (*policy.Policy, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.accounts[account]
	if st == nil {
		st = newState()
	}
	p := s.compiledDefault(st, arn)
	return p, p != nil
}

func (s *Service) entityPolicies(st *state, e *entity, out []*policy.Policy) []*policy.Policy {
	for _, name := range sortedKeys(e.inline) {
		out = append(out, e.inline[name])
	}
	for _, arn := range e.Attached {
		if p := s.compiledDefault(st, arn); p != nil {
			out = append(out, p)
		}
	}
	return out
}

func (s *Service) compiledDefault(st *state, arn string) *policy.Policy {
	if arn == "" {
		return nil
	}
	mp, err := s.policyByARN(st, arn)
	if err != nil {
		return nil
	}
	if v := mp.defaultVersion(); v != nil {
		return v.compiled
	}
	return nil
}

func tagMap(tags []tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// InstanceProfileRole returns the ARN of the role in an instance profile
// (given by ARN or name) of account; ok is false when the profile does not
// exist or holds no role.
func (s *Service) InstanceProfileRole(account, profile string) (roleARN string, ok bool) {
	if strings.HasPrefix(profile, "arn:") {
		profile = profile[strings.LastIndexByte(profile, '/')+1:]
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.accounts[account]
	if st == nil {
		return "", false
	}
	ip := st.Profiles[strings.ToLower(profile)]
	if ip == nil || len(ip.Roles) == 0 {
		return "", false
	}
	ro := st.Roles[ip.Roles[0]]
	if ro == nil {
		return "", false
	}
	return ro.ARN, true
}
