package iam

import (
	"strings"

	"github.com/overcast-dev/overcast/internal/policy"
	"github.com/overcast-dev/overcast/internal/service"
)

func (ro *role) out() map[string]any {
	m := map[string]any{"Path": ro.Path, "RoleName": ro.Name, "RoleId": ro.ID, "Arn": ro.ARN, "CreateDate": ro.Created, "AssumeRolePolicyDocument": encodeDocument(ro.Trust), "MaxSessionDuration": ro.MaxSession}
	if ro.Description != "" {
		m["Description"] = ro.Description
	}
	if ro.Boundary != "" {
		m["PermissionsBoundary"] = boundaryOut(ro.Boundary)
	}
	if len(ro.Tags) > 0 {
		m["Tags"] = tagList(ro.Tags)
	}
	last := map[string]any{}
	if ro.LastUsed != nil {
		last["LastUsedDate"] = *ro.LastUsed
		last["Region"] = ro.LastRegion
	}
	m["RoleLastUsed"] = last
	return m
}

func (st *state) role(name string) (*role, error) {
	ro := st.Roles[strings.ToLower(name)]
	if ro == nil {
		return nil, noSuchEntity("The role with name %s cannot be found.", name)
	}
	return ro, nil
}

// maxTrustPolicy is the default quota on a role trust policy's size.
const maxTrustPolicy = 2048

func parseTrust(doc string) (*policy.Policy, error) {
	if policy.NonWhitespaceLen(doc) > maxTrustPolicy {
		return nil, limitExceeded("Cannot exceed quota for ACLSizePerRole: %d", maxTrustPolicy)
	}
	p, err := policy.Parse(doc, policy.Trust)
	if err != nil {
		return nil, malformed(err)
	}
	return p, nil
}

func maxSession(in map[string]any) (int64, error) {
	n, ok := service.Int(in, "MaxSessionDuration")
	if !ok {
		return 3600, nil
	}
	if n < 3600 {
		return 0, validation("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600", n)
	}
	if n > 43200 {
		return 0, validation("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200", n)
	}
	return n, nil
}

func (s *Service) createRole(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "RoleName")
	if err := validName("roleName", name, 64, ""); err != nil {
		return nil, err
	}
	path, err := validPath(r.Input, "Path")
	if err != nil {
		return nil, err
	}
	doc := service.Str(r.Input, "AssumeRolePolicyDocument")
	trust, err := parseTrust(doc)
	if err != nil {
		return nil, err
	}
	dur, err := maxSession(r.Input)
	if err != nil {
		return nil, err
	}
	tags, err := parseTags(r.Input)
	if err != nil {
		return nil, err
	}
	desc := service.Str(r.Input, "Description")
	if len(desc) > 1000 {
		return nil, validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	boundary := service.Str(r.Input, "PermissionsBoundary")
	var out map[string]any
	err = s.update(r.Account, func(st *state) error {
		if st.Roles[strings.ToLower(name)] != nil {
			return alreadyExists("Role with name %s already exists.", name)
		}
		if boundary != "" {
			if _, err := s.policyByARN(st, boundary); err != nil {
				return invalidInput("ARN %s is not valid.", boundary)
			}
		}
		ro := &role{entity: entity{Name: name, ID: newID("AROA", 17), Path: path, ARN: "arn:" + partition(r) + ":iam::" + r.Account + ":role" + path + name, Created: s.clock.Now().UTC(), Tags: tags, Boundary: boundary}, Trust: doc, Description: desc, MaxSession: dur, trust: trust}
		ro.compileInline(0)
		st.Roles[strings.ToLower(name)] = ro
		o := ro.out()
		delete(o, "RoleLastUsed")
		delete(o, "MaxSessionDuration")
		out = map[string]any{"Role": o}
		return nil
	})
	return out, err
}

func (s *Service) createServiceLinkedRole(r *service.Request) (map[string]any, error) {
	svc := service.Str(r.Input, "AWSServiceName")
	if !strings.HasSuffix(svc, ".amazonaws.com") {
		return nil, invalidInput("Invalid service name: %s", svc)
	}
	prefix := strings.TrimSuffix(svc, ".amazonaws.com")
	name := "AWSServiceRoleFor" + serviceTitle(prefix)
	if suf := service.Str(r.Input, "CustomSuffix"); suf != "" {
		name += "_" + suf
	}
	path := "/aws-service-role/" + svc + "/"
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + svc + `"},"Action":"sts:AssumeRole"}]}`
	trust, _ := policy.Parse(doc, policy.Trust)
	var out map[string]any
	err := s.update(r.Account, func(st *state) error {
		if st.Roles[strings.ToLower(name)] != nil {
			return invalidInput("Service role name %s has been taken in this account, please try a different suffix.", name)
		}
		ro := &role{entity: entity{Name: name, ID: newID("AROA", 17), Path: path, ARN: "arn:" + partition(r) + ":iam::" + r.Account + ":role" + path + name, Created: s.clock.Now().UTC()}, Trust: doc, Description: service.Str(r.Input, "Description"), MaxSession: 3600, trust: trust}
		ro.compileInline(0)
		st.Roles[strings.ToLower(name)] = ro
		o := ro.out()
		delete(o, "RoleLastUsed")
		out = map[string]any{"Role": o}
		return nil
	})
	return out, err
}

func serviceTitle(p string) string {
	var b strings.Builder
	up := true
	for _, c := range p {
		if c == '-' || c == '.' {
			up = true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		b.WriteRune(c)
	}
	return b.String()
}

func (s *Service) getRole(r *service.Request) (map[string]any, error) {
	var out map[string]any
	err := s.read(r.Account, func(st *state) error {
		ro, err := st.role(service.Str(r.Input, "RoleName"))
		if err != nil {
			return err
		}
		out = map[string]any{"Role": ro.out()}
		return nil
	})
	return out, err
}

func (s *Service) listRoles(r *service.Request) (map[string]any, error) {
	var items []any
	s.read(r.Account, func(st *state) error {
		for _, k := range sortedKeys(st.Roles) {
			if ro := st.Roles[k]; pathPrefixOK(r.Input, ro.Path) {
				o := ro.out()
				delete(o, "Tags")
				delete(o, "PermissionsBoundary")
				delete(o, "RoleLastUsed")
				items = append(items, o)
			}
		}
		return nil
	})
	return list(r.Input, "Roles", items)
}

func (s *Service) updateRole(r *service.Request) (map[string]any, error) {
	var dur int64
	_, set := service.Int(r.Input, "MaxSessionDuration")
	if set {
		var err error
		if dur, err = maxSession(r.Input); err != nil {
			return nil, err
		}
	}
	desc, hasDesc := r.Input["Description"].(string)
	return map[string]any{}, s.update(r.Account, func(st *state) error {
		ro, err := st.role(service.Str(r.Input, "RoleName"))
		if err != nil {
			return err
		}
		if set {
			ro.MaxSession = dur
		}
		if hasDesc {
			ro.Description = desc
		}
		return nil
	})
}

func (s *Service) updateRoleDescription(r *service.Request) (map[string]any, error) {
	var out map[string]any
	err := s.update(r.Account, func(st *state) error {
		ro, err := st.role(service.Str(r.Input, "RoleName"))
		if err != nil {
			return err
		}
		ro.Description = service.Str(r.Input, "Description")
		out = map[string]any{"Role": ro.out()}
		return nil
	})
	return out, err
}

func (s *Service) updateAssumeRolePolicy(r *service.Request) (map[string]any, error) {
	doc := service.Str(r.Input, "PolicyDocument")
	trust, err := parseTrust(doc)
	if err != nil {
		return nil, err
	}
	return nil, s.update(r.Account, func(st *state) error {
		ro, err := st.role(service.Str(r.Input, "RoleName"))
		if err != nil {
			return err
		}
		ro.Trust, ro.trust = doc, trust
		return nil
	})
}

func (s *Service) deleteRole(r *service.Request) (map[string]any, error) {
	return nil, s.update(r.Account, func(st *state) error {
		ro, err := st.role(service.Str(r.Input, "RoleName"))
		if err != nil {
			return err
		}
		lname := strings.ToLower(ro.Name)
		for _, ip := range st.Profiles {
			for _, rn := range ip.Roles {
				if rn == lname {
					return deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
				}
			}
		}
		if len(ro.Inline) > 0 {
			return deleteConflict("Cannot delete entity, must delete policies first.")
		}
		if len(ro.Attached) > 0 {
			return deleteConflict("Cannot delete entity, must detach all policies first.")
		}
		delete(st.Roles, lname)
		return nil
	})
}

// boundaries

func (s *Service) putBoundary(kind string) service.Handler {
	return func(r *service.Request) (map[string]any, error) {
		arn := service.Str(r.Input, "PermissionsBoundary")
		return nil, s.update(r.Account, func(st *state) error {
			e, err := st.entity(kind, r.Input)
			if err != nil {
				return err
			}
			if _, err := s.policyByARN(st, arn); err != nil {
				return invalidInput("ARN %s is not valid.", arn)
			}
			e.Boundary = arn
			return nil
		})
	}
}

func (s *Service) deleteBoundary(kind string) service.Handler {
	return func(r *service.Request) (map[string]any, error) {
		return nil, s.update(r.Account, func(st *state) error {
			e, err := st.entity(kind, r.Input)
			if err != nil {
				return err
			}
			e.Boundary = ""
			return nil
		})
	}
}

// entity returns the user, group or role the input names.
func (st *state) entity(kind string, in map[string]any) (*entity, error) {
	switch kind {
	case "user":
		u, err := st.user(service.Str(in, "UserName"))
		if err != nil {
			return nil, err
		}
		return &u.entity, nil
	case "group":
		g, err := st.group(service.Str(in, "GroupName"))
		if err != nil {
			return nil, err
		}
		return &g.entity, nil
	}
	ro, err := st.role(service.Str(in, "RoleName"))
	if err != nil {
		return nil, err
	}
	return &ro.entity, nil
}

// instance profiles

func (st *state) profile(name string) (*instanceProfile, error) {
	ip := st.Profiles[strings.ToLower(name)]
	if ip == nil {
		return nil, noSuchEntity("Instance Profile %s cannot be found.", name)
	}
	return ip, nil
}

func (ip *instanceProfile) out(st *state) map[string]any {
	roles := []any{}
	for _, rn := range ip.Roles {
		if ro := st.Roles[rn]; ro != nil {
			o := ro.out()
			delete(o, "RoleLastUsed")
			delete(o, "Tags")
			delete(o, "PermissionsBoundary")
			delete(o, "MaxSessionDuration")
			roles = append(roles, o)
		}
	}
	m := map[string]any{"Path": ip.Path, "InstanceProfileName": ip.Name, "InstanceProfileId": ip.ID, "Arn": ip.ARN, "CreateDate": ip.Created, "Roles": roles}
	if len(ip.Tags) > 0 {
		m["Tags"] = tagList(ip.Tags)
	}
	return m
}

func (s *Service) createInstanceProfile(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "InstanceProfileName")
	if err := validName("instanceProfileName", name, 128, ""); err != nil {
		return nil, err
	}
	path, err := validPath(r.Input, "Path")
	if err != nil {
		return nil, err
	}
	tags, err := parseTags(r.Input)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = s.update(r.Account, func(st *state) error {
		if st.Profiles[strings.ToLower(name)] != nil {
			return alreadyExists("Instance Profile %s already exists.", name)
		}
		ip := &instanceProfile{Name: name, ID: newID("AIPA", 17), Path: path, ARN: "arn:" + partition(r) + ":iam::" + r.Account + ":instance-profile" + path + name, Created: s.clock.Now().UTC(), Tags: tags}
		st.Profiles[strings.ToLower(name)] = ip
		out = map[string]any{"InstanceProfile": ip.out(st)}
		return nil
	})
	return out, err
}

func (s *Service) getInstanceProfile(r *service.Request) (map[string]any, error) {
	var out map[string]any
	err := s.read(r.Account, func(st *state) error {
		ip, err := st.profile(service.Str(r.Input, "InstanceProfileName"))
		if err != nil {
			return err
		}
		out = map[string]any{"InstanceProfile": ip.out(st)}
		return nil
	})
	return out, err
}

func (s *Service) listInstanceProfiles(r *service.Request) (map[string]any, error) {
	var items []any
	s.read(r.Account, func(st *state) error {
		for _, k := range sortedKeys(st.Profiles) {
			if ip := st.Profiles[k]; pathPrefixOK(r.Input, ip.Path) {
				items = append(items, ip.out(st))
			}
		}
		return nil
	})
	return list(r.Input, "InstanceProfiles", items)
}

func (s *Service) listInstanceProfilesForRole(r *service.Request) (map[string]any, error) {
	var items []any
	err := s.read(r.Account, func(st *state) error {
		ro, err := st.role(service.Str(r.Input, "RoleName"))
		if err != nil {
			return err
		}
		for _, k := range sortedKeys(st.Profiles) {
			ip := st.Profiles[k]
			for _, rn := range ip.Roles {
				if rn == strings.ToLower(ro.Name) {
					items = append(items, ip.out(st))
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list(r.Input, "InstanceProfiles", items)
}

func (s *Service) deleteInstanceProfile(r *service.Request) (map[string]any, error) {
	return nil, s.update(r.Account, func(st *state) error {
		ip, err := st.profile(service.Str(r.Input, "InstanceProfileName"))
		if err != nil {
			return err
		}
		if len(ip.Roles) > 0 {
			return deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
		delete(st.Profiles, strings.ToLower(ip.Name))
		return nil
	})
}

func (s *Service) addRoleToInstanceProfile(r *service.Request) (map[string]any, error) {
	return nil, s.update(r.Account, func(st *state) error {
		ip, err := st.profile(service.Str(r.Input, "InstanceProfileName"))
		if err != nil {
			return err
		}
		ro, err := st.role(service.Str(r.Input, "RoleName"))
		if err != nil {
			return err
		}
		if len(ip.Roles) >= 1 {
			return limitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
		}
		ip.Roles = append(ip.Roles, strings.ToLower(ro.Name))
		return nil
	})
}

func (s *Service) removeRoleFromInstanceProfile(r *service.Request) (map[string]any, error) {
	return nil, s.update(r.Account, func(st *state) error {
		ip, err := st.profile(service.Str(r.Input, "InstanceProfileName"))
		if err != nil {
			return err
		}
		name := service.Str(r.Input, "RoleName")
		for i, rn := range ip.Roles {
			if rn == strings.ToLower(name) {
				ip.Roles = append(ip.Roles[:i:i], ip.Roles[i+1:]...)
				return nil
			}
		}
		return noSuchEntity("The role with name %s cannot be found.", name)
	})
}

func (s *Service) deleteServiceLinkedRole(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "RoleName")
	id := newID("task/", 12)
	err := s.update(r.Account, func(st *state) error {
		ro, err := st.role(name)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(ro.Path, "/aws-service-role/") {
			return invalidInput("Role %s is not a service-linked role.", name)
		}
		delete(st.Roles, strings.ToLower(ro.Name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"DeletionTaskId": "arn:" + partition(r) + ":iam::" + r.Account + ":role/aws-service-role/" + id}, nil
}
