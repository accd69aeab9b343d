package iam

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

// Login profiles.

func hashPassword(salt, pw string) string {
	sum := sha256.Sum256([]byte(salt + "\x00" + pw))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// checkPassword applies AWS's default password policy: at least 8
// characters and three of uppercase, lowercase, digits and symbols.
func checkPassword(pw string) error {
	if len(pw) > 128 {
		return validation("1 validation error detected: Value at 'password' failed to satisfy constraint: Member must have length less than or equal to 128")
	}
	var up, low, digit, sym int
	for _, c := range pw {
		switch {
		case c >= 'A' && c <= 'Z':
			up = 1
		case c >= 'a' && c <= 'z':
			low = 1
		case c >= '0' && c <= '9':
			digit = 1
		default:
			sym = 1
		}
	}
	if len(pw) < 8 || up+low+digit+sym < 3 {
		return awserr.WithStatus(http.StatusBadRequest, "PasswordPolicyViolation", "Password does not conform to the account password policy.")
	}
	return nil
}

func newLogin(pw string, reset bool, now time.Time) *loginProfile {
	b := make([]byte, 12)
	rand.Read(b)
	salt := base64.StdEncoding.EncodeToString(b)
	return &loginProfile{Created: now, Changed: now, ResetRequired: reset, Salt: salt, Hash: hashPassword(salt, pw)}
}

func loginOut(u *user) map[string]any {
	return map[string]any{"UserName": u.Name, "CreateDate": u.Login.Created, "PasswordResetRequired": u.Login.ResetRequired}
}

func (s *Service) createLoginProfile(r *service.Request) (map[string]any, error) {
	pw := service.Str(r.Input, "Password")
	var out map[string]any
	err := s.update(r.Account, func(st *state) error {
		u, err := st.user(service.Str(r.Input, "UserName"))
		if err != nil {
			return err
		}
		if u.Login != nil {
			return alreadyExists("Login Profile for user %s already exists.", u.Name)
		}
		if err := checkPassword(pw); err != nil {
			return err
		}
		u.Login = newLogin(pw, service.Bool(r.Input, "PasswordResetRequired"), s.clock.Now().UTC())
		out = map[string]any{"LoginProfile": loginOut(u)}
		return nil
	})
	return out, err
}

func (s *Service) getLoginProfile(r *service.Request) (map[string]any, error) {
	var out map[string]any
	err := s.read(r.Account, func(st *state) error {
		u, err := st.user(service.Str(r.Input, "UserName"))
		if err != nil {
			return err
		}
		if u.Login == nil {
			return noSuchEntity("Login Profile for User %s cannot be found.", u.Name)
		}
		out = map[string]any{"LoginProfile": loginOut(u)}
		return nil
	})
	return out, err
}

func (s *Service) updateLoginProfile(r *service.Request) (map[string]any, error) {
	return nil, s.update(r.Account, func(st *state) error {
		u, err := st.user(service.Str(r.Input, "UserName"))
		if err != nil {
			return err
		}
		if u.Login == nil {
			return noSuchEntity("Login Profile for User %s cannot be found.", u.Name)
		}
		pw, setPW := r.Input["Password"].(string)
		if setPW {
			if err := checkPassword(pw); err != nil {
				return err
			}
		}
		l := *u.Login
		if setPW {
			n := newLogin(pw, l.ResetRequired, s.clock.Now().UTC())
			l.Salt, l.Hash, l.Changed = n.Salt, n.Hash, n.Changed
		}
		if v, ok := r.Input["PasswordResetRequired"].(bool); ok {
			l.ResetRequired = v
		}
		u.Login = &l
		return nil
	})
}

func (s *Service) deleteLoginProfile(r *service.Request) (map[string]any, error) {
	return nil, s.update(r.Account, func(st *state) error {
		u, err := st.user(service.Str(r.Input, "UserName"))
		if err != nil {
			return err
		}
		if u.Login == nil {
			return noSuchEntity("Login Profile for User %s cannot be found.", u.Name)
		}
		u.Login = nil
		return nil
	})
}

// Credential report.

// reportLifetime is how long a credential report is current: AWS
// regenerates it only when it is older.
const reportLifetime = 4 * time.Hour

var reportColumns = []string{"user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
	"password_next_rotation", "mfa_active", "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service", "access_key_2_active", "access_key_2_last_rotated",
	"access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_active",
	"cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated"}

func reportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

func (s *Service) generateCredentialReport(r *service.Request) (map[string]any, error) {
	now := s.clock.Now().UTC()
	started := false
	err := s.update(r.Account, func(st *state) error {
		if st.Report != nil && now.Sub(*st.Report) < reportLifetime {
			return nil
		}
		started = true
		st.Report = &now
		return nil
	})
	if err != nil {
		return nil, err
	}
	if started {
		return map[string]any{"State": "STARTED", "Description": "No report exists. Starting a new report generation task"}, nil
	}
	return map[string]any{"State": "COMPLETE"}, nil
}

func (s *Service) getCredentialReport(r *service.Request) (map[string]any, error) {
	now := s.clock.Now().UTC()
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.accounts[r.Account]
	if st == nil || st.Report == nil {
		return nil, awserr.WithStatus(http.StatusGone, "ReportNotPresent", "Unknown")
	}
	if now.Sub(*st.Report) >= reportLifetime {
		return nil, awserr.WithStatus(http.StatusGone, "ReportExpired", "Unknown")
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(reportColumns)
	created := *st.Report
	for _, u := range st.Users {
		if u.Created.Before(created) {
			created = u.Created
		}
	}
	na := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "N/A"
		}
		return out
	}
	root := []string{"<root_account>", "arn:" + partition(r) + ":iam::" + r.Account + ":root", reportTime(created), "not_supported", "no_information", "not_supported", "not_supported", "false", "false"}
	root = append(root, na(4)...)
	root = append(root, "false")
	root = append(root, na(4)...)
	root = append(root, "false", "N/A", "false", "N/A")
	w.Write(root)
	users := make([]*user, 0, len(st.Users))
	for _, u := range st.Users {
		if !u.Created.After(*st.Report) {
			users = append(users, u)
		}
	}
	sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	s.usedMu.Lock()
	defer s.usedMu.Unlock()
	for _, u := range users {
		row := []string{u.Name, u.ARN, reportTime(u.Created)}
		if u.Login != nil {
			row = append(row, "true", "no_information", reportTime(u.Login.Changed), "N/A")
		} else {
			row = append(row, "false", "N/A", "N/A", "N/A")
		}
		row = append(row, "false")
		var keys []*accessKey
		for _, k := range st.Keys {
			if k.User == strings.ToLower(u.Name) {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].Created.Before(keys[j].Created) })
		for i := 0; i < 2; i++ {
			if i >= len(keys) {
				row = append(row, "false")
				row = append(row, na(4)...)
				continue
			}
			k := keys[i]
			row = append(row, strconv.FormatBool(k.Status == "Active"), reportTime(k.Created))
			if use, ok := s.lastUsed[k.ID]; ok {
				row = append(row, reportTime(use.when), use.region, use.service)
			} else {
				row = append(row, na(3)...)
			}
		}
		row = append(row, "false", "N/A", "false", "N/A")
		w.Write(row)
	}
	w.Flush()
	return map[string]any{"Content": []byte(b.String()), "ReportFormat": "text/csv", "GeneratedTime": *st.Report}, nil
}

// Account views.

func (s *Service) getAccountSummary(r *service.Request) (map[string]any, error) {
	m := map[string]any{}
	s.read(r.Account, func(st *state) error {
		versions := 0
		for _, p := range st.Policies {
			versions += len(p.Versions)
		}
		m = map[string]any{
			"Users": int64(len(st.Users)), "UsersQuota": int64(5000), "Groups": int64(len(st.Groups)), "GroupsQuota": int64(300),
			"Roles": int64(len(st.Roles)), "RolesQuota": int64(1000), "Policies": int64(len(st.Policies)), "PoliciesQuota": int64(1500),
			"InstanceProfiles": int64(len(st.Profiles)), "InstanceProfilesQuota": int64(1000), "Providers": int64(len(st.Providers)),
			"ServerCertificates": int64(0), "ServerCertificatesQuota": int64(20), "MFADevices": int64(0), "MFADevicesInUse": int64(0),
			"AccountMFAEnabled": int64(0), "AccountAccessKeysPresent": int64(0), "AccountPasswordPresent": int64(0), "AccountSigningCertificatesPresent": int64(0),
			"PolicyVersionsInUse": int64(versions), "PolicyVersionsInUseQuota": int64(10000), "VersionsPerPolicyQuota": int64(5),
			"GroupPolicySizeQuota": int64(5120), "UserPolicySizeQuota": int64(2048), "RolePolicySizeQuota": int64(10240), "PolicySizeQuota": int64(6144),
			"GroupsPerUserQuota": int64(10), "AttachedPoliciesPerUserQuota": int64(10), "AttachedPoliciesPerGroupQuota": int64(10),
			"AttachedPoliciesPerRoleQuota": int64(10), "AccessKeysPerUserQuota": int64(2), "SigningCertificatesPerUserQuota": int64(2),
			"AssumeRolePolicySizeQuota": int64(2048), "GlobalEndpointTokenVersion": int64(1),
		}
		return nil
	})
	return map[string]any{"SummaryMap": m}, nil
}

func inlineList(e *entity) []any {
	out := []any{}
	for _, name := range sortedKeys(e.Inline) {
		out = append(out, map[string]any{"PolicyName": name, "PolicyDocument": encodeDocument(e.Inline[name])})
	}
	return out
}

func (s *Service) attachedList(st *state, e *entity) []any {
	out := []any{}
	for _, arn := range e.Attached {
		if p, err := s.policyByARN(st, arn); err == nil {
			out = append(out, map[string]any{"PolicyName": p.Name, "PolicyArn": arn})
		}
	}
	return out
}

func (s *Service) getAccountAuthorizationDetails(r *service.Request) (map[string]any, error) {
	filter := map[string]bool{}
	for _, f := range service.Strings(r.Input, "Filter") {
		filter[f] = true
	}
	want := func(k string) bool { return len(filter) == 0 || filter[k] }
	type item struct {
		kind string
		v    map[string]any
	}
	var items []any
	s.read(r.Account, func(st *state) error {
		if want("User") {
			for _, name := range sortedKeys(st.Users) {
				u := st.Users[name]
				d := u.out()
				groups := []any{}
				for _, g := range u.Groups {
					if gr := st.Groups[g]; gr != nil {
						groups = append(groups, gr.Name)
					}
				}
				d["GroupList"], d["UserPolicyList"], d["AttachedManagedPolicies"] = groups, inlineList(&u.entity), s.attachedList(st, &u.entity)
				items = append(items, item{"UserDetailList", d})
			}
		}
		if want("Group") {
			for _, name := range sortedKeys(st.Groups) {
				g := st.Groups[name]
				d := g.out()
				d["GroupPolicyList"], d["AttachedManagedPolicies"] = inlineList(&g.entity), s.attachedList(st, &g.entity)
				items = append(items, item{"GroupDetailList", d})
			}
		}
		if want("Role") {
			for _, name := range sortedKeys(st.Roles) {
				ro := st.Roles[name]
				d := ro.out()
				delete(d, "MaxSessionDuration")
				delete(d, "Description")
				profiles := []any{}
				for _, pn := range sortedKeys(st.Profiles) {
					ip := st.Profiles[pn]
					for _, rn := range ip.Roles {
						if rn == name {
							profiles = append(profiles, ip.out(st))
						}
					}
				}
				d["InstanceProfileList"], d["RolePolicyList"], d["AttachedManagedPolicies"] = profiles, inlineList(&ro.entity), s.attachedList(st, &ro.entity)
				items = append(items, item{"RoleDetailList", d})
			}
		}
		var pols []*managedPolicy
		if want("LocalManagedPolicy") {
			for _, arn := range sortedKeys(st.Policies) {
				pols = append(pols, st.Policies[arn])
			}
		}
		if want("AWSManagedPolicy") {
			for _, arn := range sortedKeys(awsManaged) {
				if n, b := st.attachmentCount(arn); n+b > 0 {
					pols = append(pols, awsManaged[arn])
				}
			}
		}
		for _, p := range pols {
			d := p.out(st)
			delete(d, "Tags")
			versions := []any{}
			for _, v := range p.Versions {
				versions = append(versions, map[string]any{"Document": encodeDocument(v.Doc), "VersionId": v.ID, "IsDefaultVersion": v.ID == p.Default, "CreateDate": v.Created})
			}
			d["PolicyVersionList"] = versions
			items = append(items, item{"Policies", d})
		}
		return nil
	})
	got, out, err := page(r.Input, items)
	if err != nil {
		return nil, err
	}
	lists := map[string][]any{"UserDetailList": {}, "GroupDetailList": {}, "RoleDetailList": {}, "Policies": {}}
	for _, it := range got {
		x := it.(item)
		lists[x.kind] = append(lists[x.kind], x.v)
	}
	for k, v := range lists {
		out[k] = v
	}
	return out, nil
}
