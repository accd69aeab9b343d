package iam

import (
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

func (u *user) out() map[string]any {
	m := map[string]any{"Path": u.Path, "UserName": u.Name, "UserId": u.ID, "Arn": u.ARN, "CreateDate": u.Created}
	if u.Boundary != "" {
		m["PermissionsBoundary"] = boundaryOut(u.Boundary)
	}
	if len(u.Tags) > 0 {
		m["Tags"] = tagList(u.Tags)
	}
	return m
}

func boundaryOut(arn string) map[string]any {
	return map[string]any{"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}
}

func (g *group) out() map[string]any {
	return map[string]any{"Path": g.Path, "GroupName": g.Name, "GroupId": g.ID, "Arn": g.ARN, "CreateDate": g.Created}
}

func (st *state) user(name string) (*user, error) {
	u := st.Users[strings.ToLower(name)]
	if u == nil {
		return nil, noSuchEntity("The user with name %s cannot be found.", name)
	}
	return u, nil
}

func (st *state) group(name string) (*group, error) {
	g := st.Groups[strings.ToLower(name)]
	if g == nil {
		return nil, noSuchEntity("The group with name %s cannot be found.", name)
	}
	return g, nil
}

func (s *Service) createUser(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "UserName")
	if err := validName("userName", name, 64, ""); err != nil {
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
	boundary := service.Str(r.Input, "PermissionsBoundary")
	var out map[string]any
	err = s.update(r.Account, func(st *state) error {
		if st.Users[strings.ToLower(name)] != nil {
			return alreadyExists("User with name %s already exists.", name)
		}
		if boundary != "" {
			if _, err := s.policyByARN(st, boundary); err != nil {
				return invalidInput("ARN %s is not valid.", boundary)
			}
		}
		u := &user{entity: entity{Name: name, ID: newID("AIDA", 17), Path: path, ARN: "arn:" + partition(r) + ":iam::" + r.Account + ":user" + path + name, Created: s.clock.Now().UTC(), Tags: tags, Boundary: boundary}}
		u.compileInline(0)
		st.Users[strings.ToLower(name)] = u
		out = map[string]any{"User": u.out()}
		return nil
	})
	return out, err
}

// callerUser returns the user the request's access key belongs to, or nil
// for the root and for temporary credentials.
func (s *Service) callerUser(st *state, accessKey string) *user {
	k := st.Keys[accessKey]
	if k == nil {
		return nil
	}
	return st.Users[k.User]
}

func (s *Service) getUser(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "UserName")
	var out map[string]any
	err := s.read(r.Account, func(st *state) error {
		if name == "" {
			if u := s.callerUser(st, r.AccessKey); u != nil {
				out = map[string]any{"User": u.out()}
				return nil
			}
			if strings.HasPrefix(r.AccessKey, "ASIA") {
				return validation("Must specify userName when calling with non-User credentials")
			}
			out = map[string]any{"User": map[string]any{"UserId": r.Account, "Arn": "arn:" + partition(r) + ":iam::" + r.Account + ":root", "CreateDate": s.clock.Now().UTC().Truncate(24 * time.Hour)}}
			return nil
		}
		u, err := st.user(name)
		if err != nil {
			return err
		}
		out = map[string]any{"User": u.out()}
		return nil
	})
	return out, err
}

func (s *Service) listUsers(r *service.Request) (map[string]any, error) {
	var items []any
	s.read(r.Account, func(st *state) error {
		for _, k := range sortedKeys(st.Users) {
			if u := st.Users[k]; pathPrefixOK(r.Input, u.Path) {
				o := u.out()
				delete(o, "Tags")
				delete(o, "PermissionsBoundary")
				items = append(items, o)
			}
		}
		return nil
	})
	return list(r.Input, "Users", items)
}

func (s *Service) updateUser(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "UserName")
	newName := service.Str(r.Input, "NewUserName")
	if newName != "" {
		if err := validName("newUserName", newName, 64, ""); err != nil {
			return nil, err
		}
	}
	newPath := service.Str(r.Input, "NewPath")
	if newPath != "" {
		if _, err := validPath(r.Input, "NewPath"); err != nil {
			return nil, err
		}
	}
	return nil, s.update(r.Account, func(st *state) error {
		u, err := st.user(name)
		if err != nil {
			return err
		}
		if newName != "" && !strings.EqualFold(newName, name) && st.Users[strings.ToLower(newName)] != nil {
			return alreadyExists("User with name %s already exists.", newName)
		}
		old := strings.ToLower(u.Name)
		if newPath != "" {
			u.Path = newPath
		}
		if newName != "" {
			u.Name = newName
			delete(st.Users, old)
			st.Users[strings.ToLower(newName)] = u
			for _, k := range st.Keys {
				if k.User == old {
					k.User = strings.ToLower(newName)
				}
			}
		}
		u.ARN = "arn:" + partition(r) + ":iam::" + r.Account + ":user" + u.Path + u.Name
		return nil
	})
}

func (s *Service) deleteUser(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "UserName")
	return nil, s.update(r.Account, func(st *state) error {
		u, err := st.user(name)
		if err != nil {
			return err
		}
		for _, k := range st.Keys {
			if k.User == strings.ToLower(u.Name) {
				return deleteConflict("Cannot delete entity, must delete access keys first.")
			}
		}
		if u.Login != nil {
			return deleteConflict("Cannot delete entity, must delete login profile first.")
		}
		if len(u.Inline) > 0 {
			return deleteConflict("Cannot delete entity, must delete policies first.")
		}
		if len(u.Attached) > 0 {
			return deleteConflict("Cannot delete entity, must detach all policies first.")
		}
		if len(u.Groups) > 0 {
			return deleteConflict("Cannot delete entity, must remove users from group first.")
		}
		delete(st.Users, strings.ToLower(u.Name))
		return nil
	})
}

// tags

func (s *Service) tagEntity(kind string) service.Handler {
	return func(r *service.Request) (map[string]any, error) {
		tags, err := parseTags(r.Input)
		if err != nil {
			return nil, err
		}
		return nil, s.update(r.Account, func(st *state) error {
			e, err := s.taggable(st, kind, r.Input)
			if err != nil {
				return err
			}
			merged := mergeTags(*e, tags)
			if len(merged) > 50 {
				return limitExceeded("The number of tags has reached the maximum limit.")
			}
			*e = merged
			return nil
		})
	}
}

func (s *Service) untagEntity(kind string) service.Handler {
	return func(r *service.Request) (map[string]any, error) {
		keys := service.Strings(r.Input, "TagKeys")
		return nil, s.update(r.Account, func(st *state) error {
			e, err := s.taggable(st, kind, r.Input)
			if err != nil {
				return err
			}
			*e = removeTags(*e, keys)
			return nil
		})
	}
}

func (s *Service) listEntityTags(kind string) service.Handler {
	return func(r *service.Request) (map[string]any, error) {
		var items []any
		err := s.read(r.Account, func(st *state) error {
			e, err := s.taggable(st, kind, r.Input)
			if err != nil {
				return err
			}
			items = tagList(*e)
			return nil
		})
		if err != nil {
			return nil, err
		}
		return list(r.Input, "Tags", items)
	}
}

func (s *Service) taggable(st *state, kind string, in map[string]any) (*[]tag, error) {
	switch kind {
	case "user":
		u, err := st.user(service.Str(in, "UserName"))
		if err != nil {
			return nil, err
		}
		return &u.Tags, nil
	case "role":
		ro, err := st.role(service.Str(in, "RoleName"))
		if err != nil {
			return nil, err
		}
		return &ro.Tags, nil
	case "policy":
		arn := service.Str(in, "PolicyArn")
		p := st.Policies[arn]
		if p == nil {
			return nil, noSuchEntity("Policy %s was not found.", arn)
		}
		return &p.Tags, nil
	case "instance-profile":
		ip, err := st.profile(service.Str(in, "InstanceProfileName"))
		if err != nil {
			return nil, err
		}
		return &ip.Tags, nil
	case "oidc-provider":
		op, err := st.oidcProvider(service.Str(in, "OpenIDConnectProviderArn"))
		if err != nil {
			return nil, err
		}
		return &op.Tags, nil
	}
	return nil, awserr.New(codeInvalidInput, "unknown entity")
}

// groups

func (s *Service) createGroup(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "GroupName")
	if err := validName("groupName", name, 128, ""); err != nil {
		return nil, err
	}
	path, err := validPath(r.Input, "Path")
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = s.update(r.Account, func(st *state) error {
		if st.Groups[strings.ToLower(name)] != nil {
			return alreadyExists("Group with name %s already exists.", name)
		}
		g := &group{entity{Name: name, ID: newID("AGPA", 17), Path: path, ARN: "arn:" + partition(r) + ":iam::" + r.Account + ":group" + path + name, Created: s.clock.Now().UTC()}}
		g.compileInline(0)
		st.Groups[strings.ToLower(name)] = g
		out = map[string]any{"Group": g.out()}
		return nil
	})
	return out, err
}

func (s *Service) getGroup(r *service.Request) (map[string]any, error) {
	var out map[string]any
	var users []any
	err := s.read(r.Account, func(st *state) error {
		g, err := st.group(service.Str(r.Input, "GroupName"))
		if err != nil {
			return err
		}
		for _, k := range sortedKeys(st.Users) {
			u := st.Users[k]
			for _, gn := range u.Groups {
				if gn == strings.ToLower(g.Name) {
					o := u.out()
					delete(o, "Tags")
					delete(o, "PermissionsBoundary")
					users = append(users, o)
				}
			}
		}
		out = g.out()
		return nil
	})
	if err != nil {
		return nil, err
	}
	res, err := list(r.Input, "Users", users)
	if err != nil {
		return nil, err
	}
	res["Group"] = out
	return res, nil
}

func (s *Service) listGroups(r *service.Request) (map[string]any, error) {
	var items []any
	s.read(r.Account, func(st *state) error {
		for _, k := range sortedKeys(st.Groups) {
			if g := st.Groups[k]; pathPrefixOK(r.Input, g.Path) {
				items = append(items, g.out())
			}
		}
		return nil
	})
	return list(r.Input, "Groups", items)
}

func (s *Service) listGroupsForUser(r *service.Request) (map[string]any, error) {
	var items []any
	err := s.read(r.Account, func(st *state) error {
		u, err := st.user(service.Str(r.Input, "UserName"))
		if err != nil {
			return err
		}
		for _, gn := range u.Groups {
			if g := st.Groups[gn]; g != nil {
				items = append(items, g.out())
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list(r.Input, "Groups", items)
}

func (s *Service) deleteGroup(r *service.Request) (map[string]any, error) {
	return nil, s.update(r.Account, func(st *state) error {
		g, err := st.group(service.Str(r.Input, "GroupName"))
		if err != nil {
			return err
		}
		lname := strings.ToLower(g.Name)
		for _, u := range st.Users {
			for _, gn := range u.Groups {
				if gn == lname {
					return deleteConflict("Cannot delete entity, must remove users from group first.")
				}
			}
		}
		if len(g.Inline) > 0 {
			return deleteConflict("Cannot delete entity, must delete policies first.")
		}
		if len(g.Attached) > 0 {
			return deleteConflict("Cannot delete entity, must detach all policies first.")
		}
		delete(st.Groups, lname)
		return nil
	})
}

func (s *Service) addUserToGroup(r *service.Request) (map[string]any, error) {
	return nil, s.update(r.Account, func(st *state) error {
		g, err := st.group(service.Str(r.Input, "GroupName"))
		if err != nil {
			return err
		}
		u, err := st.user(service.Str(r.Input, "UserName"))
		if err != nil {
			return err
		}
		lname := strings.ToLower(g.Name)
		for _, gn := range u.Groups {
			if gn == lname {
				return nil
			}
		}
		if len(u.Groups) >= 10 {
			return limitExceeded("Cannot exceed quota for GroupsPerUser: 10")
		}
		u.Groups = append(u.Groups, lname)
		return nil
	})
}

func (s *Service) removeUserFromGroup(r *service.Request) (map[string]any, error) {
	return nil, s.update(r.Account, func(st *state) error {
		g, err := st.group(service.Str(r.Input, "GroupName"))
		if err != nil {
			return err
		}
		u, err := st.user(service.Str(r.Input, "UserName"))
		if err != nil {
			return err
		}
		lname := strings.ToLower(g.Name)
		for i, gn := range u.Groups {
			if gn == lname {
				u.Groups = append(u.Groups[:i:i], u.Groups[i+1:]...)
				return nil
			}
		}
		return noSuchEntity("The user with name %s cannot be found.", u.Name)
	})
}

// access keys

func (s *Service) keyUser(st *state, r *service.Request) (*user, error) {
	name := service.Str(r.Input, "UserName")
	if name == "" {
		if u := s.callerUser(st, r.AccessKey); u != nil {
			return u, nil
		}
		return nil, nil // the root's own keys
	}
	return st.user(name)
}

func (s *Service) createAccessKey(r *service.Request) (map[string]any, error) {
	var out map[string]any
	err := s.update(r.Account, func(st *state) error {
		u, err := s.keyUser(st, r)
		if err != nil {
			return err
		}
		if u == nil {
			return validation("Must specify userName when calling with non-User credentials")
		}
		n := 0
		for _, k := range st.Keys {
			if k.User == strings.ToLower(u.Name) {
				n++
			}
		}
		if n >= 2 {
			return limitExceeded("Cannot exceed quota for AccessKeysPerUser: 2")
		}
		k := &accessKey{ID: newID("AKIA", 16), Secret: newSecret(), User: strings.ToLower(u.Name), Status: "Active", Created: s.clock.Now().UTC()}
		st.Keys[k.ID] = k
		out = map[string]any{"AccessKey": map[string]any{"UserName": u.Name, "AccessKeyId": k.ID, "Status": k.Status, "SecretAccessKey": k.Secret, "CreateDate": k.Created}}
		return nil
	})
	return out, err
}

func (s *Service) listAccessKeys(r *service.Request) (map[string]any, error) {
	var items []any
	err := s.read(r.Account, func(st *state) error {
		u, err := s.keyUser(st, r)
		if err != nil {
			return err
		}
		if u == nil {
			return nil
		}
		for _, id := range sortedKeys(st.Keys) {
			if k := st.Keys[id]; k.User == strings.ToLower(u.Name) {
				items = append(items, map[string]any{"UserName": u.Name, "AccessKeyId": k.ID, "Status": k.Status, "CreateDate": k.Created})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list(r.Input, "AccessKeyMetadata", items)
}

func (s *Service) findKey(st *state, r *service.Request) (*accessKey, error) {
	id := service.Str(r.Input, "AccessKeyId")
	u, err := s.keyUser(st, r)
	if err != nil {
		return nil, err
	}
	k := st.Keys[id]
	if k == nil || (u != nil && k.User != strings.ToLower(u.Name)) {
		return nil, noSuchEntity("The Access Key with id %s cannot be found.", id)
	}
	return k, nil
}

func (s *Service) updateAccessKey(r *service.Request) (map[string]any, error) {
	status := service.Str(r.Input, "Status")
	if status != "Active" && status != "Inactive" {
		return nil, validation("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	return nil, s.update(r.Account, func(st *state) error {
		k, err := s.findKey(st, r)
		if err != nil {
			return err
		}
		k.Status = status
		return nil
	})
}

func (s *Service) deleteAccessKey(r *service.Request) (map[string]any, error) {
	return nil, s.update(r.Account, func(st *state) error {
		k, err := s.findKey(st, r)
		if err != nil {
			return err
		}
		delete(st.Keys, k.ID)
		return nil
	})
}

func (s *Service) getAccessKeyLastUsed(r *service.Request) (map[string]any, error) {
	id := service.Str(r.Input, "AccessKeyId")
	s.mu.RLock()
	defer s.mu.RUnlock()
	k := s.keys[id]
	if k == nil || s.keyAcct[id] != r.Account {
		return nil, awserr.WithStatus(403, awserr.CodeAccessDenied, "The Access Key with id %s cannot be found.", id)
	}
	st := s.accounts[r.Account]
	name := k.User
	if u := st.Users[k.User]; u != nil {
		name = u.Name
	}
	last := map[string]any{"ServiceName": "N/A", "Region": "N/A"}
	s.usedMu.Lock()
	use, ok := s.lastUsed[id]
	s.usedMu.Unlock()
	if ok {
		last = map[string]any{"LastUsedDate": use.when, "ServiceName": use.service, "Region": use.region}
	}
	return map[string]any{"UserName": name, "AccessKeyLastUsed": last}, nil
}

// account aliases

func (s *Service) createAccountAlias(r *service.Request) (map[string]any, error) {
	alias := service.Str(r.Input, "AccountAlias")
	if len(alias) < 3 || len(alias) > 63 || strings.Trim(alias, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" || alias[0] == '-' || alias[len(alias)-1] == '-' {
		return nil, validation("1 validation error detected: Value '%s' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$", alias)
	}
	s.mu.RLock()
	for acct, st := range s.accounts {
		if acct != r.Account && len(st.Aliases) > 0 && st.Aliases[0] == alias {
			s.mu.RUnlock()
			return nil, alreadyExists("The account alias %s already exists.", alias)
		}
	}
	s.mu.RUnlock()
	return nil, s.update(r.Account, func(st *state) error {
		st.Aliases = []string{alias}
		return nil
	})
}

func (s *Service) deleteAccountAlias(r *service.Request) (map[string]any, error) {
	alias := service.Str(r.Input, "AccountAlias")
	return nil, s.update(r.Account, func(st *state) error {
		if len(st.Aliases) == 0 || st.Aliases[0] != alias {
			return noSuchEntity("The account alias %s cannot be found.", alias)
		}
		st.Aliases = nil
		return nil
	})
}

func (s *Service) listAccountAliases(r *service.Request) (map[string]any, error) {
	var items []any
	s.read(r.Account, func(st *state) error {
		for _, a := range st.Aliases {
			items = append(items, a)
		}
		return nil
	})
	return list(r.Input, "AccountAliases", items)
}
