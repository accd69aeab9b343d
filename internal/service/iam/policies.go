package iam

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/policy"
	"github.com/overcast-dev/overcast/internal/service"
)

// Quotas (AWS defaults).
const (
	maxManagedPolicySize = 6144
	maxVersions          = 5
	maxAttached          = 10
	maxInlineUser        = 2048
	maxInlineGroup       = 5120
	maxInlineRole        = 10240
)

// awsManaged are the AWS managed policies Overcast knows.
var awsManaged = func() map[string]*managedPolicy {
	docs := map[string]string{
		"AdministratorAccess":                      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		"ReadOnlyAccess":                           `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["*:Describe*","*:Get*","*:List*","*:BatchGet*","*:Query","*:Scan","*:Head*"],"Resource":"*"}]}`,
		"PowerUserAccess":                          `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization","account:ListRegions","account:GetAccountInformation"],"Resource":"*"}]}`,
		"IAMFullAccess":                            `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}`,
		"IAMReadOnlyAccess":                        `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}`,
		"AmazonS3FullAccess":                       `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}`,
		"AmazonS3ReadOnlyAccess":                   `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}`,
		"AmazonSQSFullAccess":                      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:*"],"Resource":"*"}]}`,
		"AmazonSQSReadOnlyAccess":                  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:GetQueueAttributes","sqs:GetQueueUrl","sqs:ListDeadLetterSourceQueues","sqs:ListQueues","sqs:ListMessageMoveTasks","sqs:ListQueueTags"],"Resource":"*"}]}`,
		"AmazonSNSFullAccess":                      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sns:*"],"Resource":"*"}]}`,
		"AmazonDynamoDBFullAccess":                 `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:*"],"Resource":"*"}]}`,
		"AmazonDynamoDBReadOnlyAccess":             `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:BatchGetItem","dynamodb:Describe*","dynamodb:List*","dynamodb:GetItem","dynamodb:Query","dynamodb:Scan","dynamodb:PartiQLSelect"],"Resource":"*"}]}`,
		"CloudWatchFullAccess":                     `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["autoscaling:Describe*","cloudwatch:*","logs:*","sns:*","iam:GetPolicy","iam:GetPolicyVersion","iam:GetRole"],"Resource":"*"}]}`,
		"CloudWatchLogsFullAccess":                 `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:*","cloudwatch:GenerateQuery"],"Resource":"*"}]}`,
		"AWSLambda_FullAccess":                     `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:*","logs:*","iam:PassRole","iam:GetRole","iam:ListRoles","s3:ListAllMyBuckets","sqs:ListQueues","sns:ListTopics"],"Resource":"*"}]}`,
		"service-role/AWSLambdaBasicExecutionRole": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`,
	}
	created := time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC)
	out := map[string]*managedPolicy{}
	for name, doc := range docs {
		path := "/"
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			path, name = "/"+name[:i+1], name[i+1:]
		}
		arn := "arn:aws:iam::aws:policy" + path + name
		v := &policyVersion{ID: "v1", Doc: doc, Created: created}
		v.compiled, _ = policy.Parse(doc, policy.Identity)
		v.compiled.Name = arn
		out[arn] = &managedPolicy{Name: name, ID: "ANPA" + strings.ToUpper(strconv.FormatUint(uint64(len(name))*7919+uint64(len(doc)), 36)) + "AWSMANAGED", Path: path, ARN: arn, Created: created, Updated: created, Versions: []*policyVersion{v}, Default: "v1", Next: 2}
	}
	return out
}()

// policyByARN finds a customer managed policy of st or an AWS managed one.
func (s *Service) policyByARN(st *state, arn string) (*managedPolicy, error) {
	if p := st.Policies[arn]; p != nil {
		return p, nil
	}
	if p := awsManaged[arn]; p != nil {
		return p, nil
	}
	return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
}

func (st *state) attachmentCount(arn string) (n, boundary int64) {
	count := func(e *entity) {
		for _, a := range e.Attached {
			if a == arn {
				n++
			}
		}
		if e.Boundary == arn {
			boundary++
		}
	}
	for _, u := range st.Users {
		count(&u.entity)
	}
	for _, g := range st.Groups {
		count(&g.entity)
	}
	for _, r := range st.Roles {
		count(&r.entity)
	}
	return
}

func (p *managedPolicy) out(st *state) map[string]any {
	n, b := st.attachmentCount(p.ARN)
	m := map[string]any{"PolicyName": p.Name, "PolicyId": p.ID, "Arn": p.ARN, "Path": p.Path, "DefaultVersionId": p.Default, "AttachmentCount": n, "PermissionsBoundaryUsageCount": b, "IsAttachable": true, "CreateDate": p.Created, "UpdateDate": p.Updated}
	if p.Description != "" {
		m["Description"] = p.Description
	}
	if len(p.Tags) > 0 {
		m["Tags"] = tagList(p.Tags)
	}
	return m
}

func parseIdentityPolicy(doc string, max int, quota func() error) (*policy.Policy, error) {
	if policy.NonWhitespaceLen(doc) > max {
		return nil, quota()
	}
	p, err := policy.Parse(doc, policy.Identity)
	if err != nil {
		return nil, malformed(err)
	}
	return p, nil
}

func (s *Service) createPolicy(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "PolicyName")
	if err := validName("policyName", name, 128, ""); err != nil {
		return nil, err
	}
	path, err := validPath(r.Input, "Path")
	if err != nil {
		return nil, err
	}
	doc := service.Str(r.Input, "PolicyDocument")
	compiled, err := parseIdentityPolicy(doc, maxManagedPolicySize, func() error {
		return limitExceeded("Cannot exceed quota for PolicySize: %d", maxManagedPolicySize)
	})
	if err != nil {
		return nil, err
	}
	tags, err := parseTags(r.Input)
	if err != nil {
		return nil, err
	}
	arn := "arn:" + partition(r) + ":iam::" + r.Account + ":policy" + path + name
	compiled.Name = arn
	var out map[string]any
	err = s.update(r.Account, func(st *state) error {
		for _, p := range st.Policies {
			if strings.EqualFold(p.Name, name) {
				return alreadyExists("A policy called %s already exists. Duplicate names are not allowed.", name)
			}
		}
		now := s.clock.Now().UTC()
		p := &managedPolicy{Name: name, ID: newID("ANPA", 17), Path: path, ARN: arn, Description: service.Str(r.Input, "Description"), Created: now, Updated: now, Versions: []*policyVersion{{ID: "v1", Doc: doc, Created: now, compiled: compiled}}, Default: "v1", Next: 2, Tags: tags}
		st.Policies[arn] = p
		o := p.out(st)
		delete(o, "Description")
		out = map[string]any{"Policy": o}
		return nil
	})
	return out, err
}

func (s *Service) getPolicy(r *service.Request) (map[string]any, error) {
	arn := service.Str(r.Input, "PolicyArn")
	var out map[string]any
	err := s.read(r.Account, func(st *state) error {
		p, err := s.policyByARN(st, arn)
		if err != nil {
			return noSuchEntity("Policy %s was not found.", arn)
		}
		out = map[string]any{"Policy": p.out(st)}
		return nil
	})
	return out, err
}

func (s *Service) listPolicies(r *service.Request) (map[string]any, error) {
	scopeIn := service.Str(r.Input, "Scope")
	onlyAttached := service.Bool(r.Input, "OnlyAttached")
	usage := service.Str(r.Input, "PolicyUsageFilter")
	if scopeIn != "" && scopeIn != "All" && scopeIn != "AWS" && scopeIn != "Local" {
		return nil, validation("1 validation error detected: Value '%s' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]", scopeIn)
	}
	if usage != "" && usage != "PermissionsPolicy" && usage != "PermissionsBoundary" {
		return nil, validation("1 validation error detected: Value '%s' at 'policyUsageFilter' failed to satisfy constraint: Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]", usage)
	}
	var items []any
	s.read(r.Account, func(st *state) error {
		var all []*managedPolicy
		if scopeIn != "Local" {
			for _, p := range awsManaged {
				all = append(all, p)
			}
		}
		if scopeIn != "AWS" {
			for _, p := range st.Policies {
				all = append(all, p)
			}
		}
		sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
		for _, p := range all {
			if !pathPrefixOK(r.Input, p.Path) {
				continue
			}
			o := p.out(st)
			n, b := o["AttachmentCount"].(int64), o["PermissionsBoundaryUsageCount"].(int64)
			// OnlyAttached keeps the attached policies, or with
			// PolicyUsageFilter those used as permissions policies or as
			// permissions boundaries.
			if onlyAttached && (usage != "PermissionsBoundary" && n == 0 || usage == "PermissionsBoundary" && b == 0) {
				continue
			}
			delete(o, "Description")
			delete(o, "Tags")
			items = append(items, o)
		}
		return nil
	})
	return list(r.Input, "Policies", items)
}

func (s *Service) deletePolicy(r *service.Request) (map[string]any, error) {
	arn := service.Str(r.Input, "PolicyArn")
	return nil, s.update(r.Account, func(st *state) error {
		p := st.Policies[arn]
		if p == nil {
			if awsManaged[arn] != nil {
				return invalidInput("ARN %s is not valid.", arn)
			}
			return noSuchEntity("Policy %s was not found.", arn)
		}
		if n, b := st.attachmentCount(arn); n+b > 0 {
			return deleteConflict("Cannot delete a policy attached to entities.")
		}
		if len(p.Versions) > 1 {
			return deleteConflict("Cannot delete a policy with versions other than the default version.")
		}
		delete(st.Policies, arn)
		return nil
	})
}

func versionOut(v *policyVersion, def bool, withDoc bool) map[string]any {
	m := map[string]any{"VersionId": v.ID, "IsDefaultVersion": def, "CreateDate": v.Created}
	if withDoc {
		m["Document"] = encodeDocument(v.Doc)
	}
	return m
}

func (s *Service) localPolicy(st *state, arn string) (*managedPolicy, error) {
	p := st.Policies[arn]
	if p == nil {
		return nil, noSuchEntity("Policy %s was not found.", arn)
	}
	return p, nil
}

func (s *Service) createPolicyVersion(r *service.Request) (map[string]any, error) {
	arn := service.Str(r.Input, "PolicyArn")
	doc := service.Str(r.Input, "PolicyDocument")
	compiled, err := parseIdentityPolicy(doc, maxManagedPolicySize, func() error {
		return limitExceeded("Cannot exceed quota for PolicySize: %d", maxManagedPolicySize)
	})
	if err != nil {
		return nil, err
	}
	compiled.Name = arn
	var out map[string]any
	err = s.update(r.Account, func(st *state) error {
		p, err := s.localPolicy(st, arn)
		if err != nil {
			return err
		}
		if len(p.Versions) >= maxVersions {
			return limitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxVersions)
		}
		now := s.clock.Now().UTC()
		v := &policyVersion{ID: "v" + strconv.Itoa(p.Next), Doc: doc, Created: now, compiled: compiled}
		p.Next++
		p.Versions = append(p.Versions, v)
		if service.Bool(r.Input, "SetAsDefault") {
			p.Default = v.ID
		}
		p.Updated = now
		out = map[string]any{"PolicyVersion": versionOut(v, p.Default == v.ID, false)}
		return nil
	})
	return out, err
}

func (s *Service) getPolicyVersion(r *service.Request) (map[string]any, error) {
	arn := service.Str(r.Input, "PolicyArn")
	id := service.Str(r.Input, "VersionId")
	var out map[string]any
	err := s.read(r.Account, func(st *state) error {
		p, err := s.policyByARN(st, arn)
		if err != nil {
			return noSuchEntity("Policy %s was not found.", arn)
		}
		for _, v := range p.Versions {
			if v.ID == id {
				out = map[string]any{"PolicyVersion": versionOut(v, v.ID == p.Default, true)}
				return nil
			}
		}
		return noSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, id)
	})
	return out, err
}

func (s *Service) listPolicyVersions(r *service.Request) (map[string]any, error) {
	arn := service.Str(r.Input, "PolicyArn")
	var items []any
	err := s.read(r.Account, func(st *state) error {
		p, err := s.policyByARN(st, arn)
		if err != nil {
			return noSuchEntity("Policy %s was not found.", arn)
		}
		for i := len(p.Versions) - 1; i >= 0; i-- {
			v := p.Versions[i]
			items = append(items, versionOut(v, v.ID == p.Default, false))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list(r.Input, "Versions", items)
}

func (s *Service) deletePolicyVersion(r *service.Request) (map[string]any, error) {
	arn := service.Str(r.Input, "PolicyArn")
	id := service.Str(r.Input, "VersionId")
	return nil, s.update(r.Account, func(st *state) error {
		p, err := s.localPolicy(st, arn)
		if err != nil {
			return err
		}
		for i, v := range p.Versions {
			if v.ID == id {
				if v.ID == p.Default {
					return deleteConflict("Cannot delete the default version of a policy.")
				}
				p.Versions = append(p.Versions[:i:i], p.Versions[i+1:]...)
				return nil
			}
		}
		return noSuchEntity("Policy %s version %s does not exist or is not deletable.", arn, id)
	})
}

func (s *Service) setDefaultPolicyVersion(r *service.Request) (map[string]any, error) {
	arn := service.Str(r.Input, "PolicyArn")
	id := service.Str(r.Input, "VersionId")
	return nil, s.update(r.Account, func(st *state) error {
		p, err := s.localPolicy(st, arn)
		if err != nil {
			return err
		}
		for _, v := range p.Versions {
			if v.ID == id {
				p.Default = id
				p.Updated = s.clock.Now().UTC()
				return nil
			}
		}
		return noSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, id)
	})
}

// attachment

func (s *Service) attach(kind string) service.Handler {
	return func(r *service.Request) (map[string]any, error) {
		arn := service.Str(r.Input, "PolicyArn")
		return nil, s.update(r.Account, func(st *state) error {
			e, err := st.entity(kind, r.Input)
			if err != nil {
				return err
			}
			if _, err := s.policyByARN(st, arn); err != nil {
				return err
			}
			for _, a := range e.Attached {
				if a == arn {
					return nil
				}
			}
			if len(e.Attached) >= maxAttached {
				return limitExceeded("Cannot exceed quota for PoliciesPer%s: %d", strings.ToUpper(kind[:1])+kind[1:], maxAttached)
			}
			e.Attached = append(e.Attached, arn)
			return nil
		})
	}
}

func (s *Service) detach(kind string) service.Handler {
	return func(r *service.Request) (map[string]any, error) {
		arn := service.Str(r.Input, "PolicyArn")
		return nil, s.update(r.Account, func(st *state) error {
			e, err := st.entity(kind, r.Input)
			if err != nil {
				return err
			}
			for i, a := range e.Attached {
				if a == arn {
					e.Attached = append(e.Attached[:i:i], e.Attached[i+1:]...)
					return nil
				}
			}
			return noSuchEntity("Policy %s was not found.", arn)
		})
	}
}

func (s *Service) listAttached(kind string) service.Handler {
	return func(r *service.Request) (map[string]any, error) {
		var items []any
		err := s.read(r.Account, func(st *state) error {
			e, err := st.entity(kind, r.Input)
			if err != nil {
				return err
			}
			for _, a := range e.Attached {
				p, err := s.policyByARN(st, a)
				if err != nil || !pathPrefixOK(r.Input, p.Path) {
					continue
				}
				items = append(items, map[string]any{"PolicyName": p.Name, "PolicyArn": p.ARN})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return list(r.Input, "AttachedPolicies", items)
	}
}

func (s *Service) listEntitiesForPolicy(r *service.Request) (map[string]any, error) {
	arn := service.Str(r.Input, "PolicyArn")
	filter := service.Str(r.Input, "EntityFilter")
	usage := service.Str(r.Input, "PolicyUsageFilter")
	var items []any
	type ent struct {
		kind string
		m    map[string]any
	}
	var ents []ent
	err := s.read(r.Account, func(st *state) error {
		if _, err := s.policyByARN(st, arn); err != nil {
			return noSuchEntity("Policy %s was not found.", arn)
		}
		uses := func(e *entity) bool {
			if usage != "PermissionsBoundary" {
				for _, a := range e.Attached {
					if a == arn {
						return true
					}
				}
			}
			return usage != "PermissionsPolicy" && usage != "" && e.Boundary == arn
		}
		if filter == "" || filter == "User" {
			for _, k := range sortedKeys(st.Users) {
				if u := st.Users[k]; uses(&u.entity) && pathPrefixOK(r.Input, u.Path) {
					ents = append(ents, ent{"PolicyUsers", map[string]any{"UserName": u.Name, "UserId": u.ID}})
				}
			}
		}
		if filter == "" || filter == "Group" {
			for _, k := range sortedKeys(st.Groups) {
				if g := st.Groups[k]; uses(&g.entity) && pathPrefixOK(r.Input, g.Path) {
					ents = append(ents, ent{"PolicyGroups", map[string]any{"GroupName": g.Name, "GroupId": g.ID}})
				}
			}
		}
		if filter == "" || filter == "Role" {
			for _, k := range sortedKeys(st.Roles) {
				if ro := st.Roles[k]; uses(&ro.entity) && pathPrefixOK(r.Input, ro.Path) {
					ents = append(ents, ent{"PolicyRoles", map[string]any{"RoleName": ro.Name, "RoleId": ro.ID}})
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		items = append(items, e)
	}
	got, out, err := page(r.Input, items)
	if err != nil {
		return nil, err
	}
	lists := map[string][]any{"PolicyUsers": {}, "PolicyGroups": {}, "PolicyRoles": {}}
	for _, g := range got {
		e := g.(ent)
		lists[e.kind] = append(lists[e.kind], e.m)
	}
	for k, v := range lists {
		out[k] = v
	}
	return out, nil
}

// inline policies

func inlineQuota(kind string) (int, string) {
	switch kind {
	case "user":
		return maxInlineUser, "user"
	case "group":
		return maxInlineGroup, "group"
	}
	return maxInlineRole, "role"
}

func (s *Service) putInline(kind string) service.Handler {
	return func(r *service.Request) (map[string]any, error) {
		name := service.Str(r.Input, "PolicyName")
		if err := validName("policyName", name, 128, ""); err != nil {
			return nil, err
		}
		doc := service.Str(r.Input, "PolicyDocument")
		max, word := inlineQuota(kind)
		compiled, err := policy.Parse(doc, policy.Identity)
		if err != nil {
			if policy.NonWhitespaceLen(doc) > max {
				return nil, limitExceeded("Maximum policy size of %d bytes exceeded for %s %s", max, word, entityName(kind, r.Input))
			}
			return nil, malformed(err)
		}
		compiled.Name = name
		return nil, s.update(r.Account, func(st *state) error {
			e, err := st.entity(kind, r.Input)
			if err != nil {
				return err
			}
			total := policy.NonWhitespaceLen(doc)
			for n, d := range e.Inline {
				if n != name {
					total += policy.NonWhitespaceLen(d)
				}
			}
			if total > max {
				return limitExceeded("Maximum policy size of %d bytes exceeded for %s %s", max, word, e.Name)
			}
			if e.Inline == nil {
				e.Inline = map[string]string{}
			}
			if e.inline == nil {
				e.inline = map[string]*policy.Policy{}
			}
			e.Inline[name] = doc
			e.inline[name] = compiled
			return nil
		})
	}
}

func entityName(kind string, in map[string]any) string {
	switch kind {
	case "user":
		return service.Str(in, "UserName")
	case "group":
		return service.Str(in, "GroupName")
	}
	return service.Str(in, "RoleName")
}

func (s *Service) getInline(kind string) service.Handler {
	field := map[string]string{"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
	return func(r *service.Request) (map[string]any, error) {
		name := service.Str(r.Input, "PolicyName")
		var out map[string]any
		err := s.read(r.Account, func(st *state) error {
			e, err := st.entity(kind, r.Input)
			if err != nil {
				return err
			}
			doc, ok := e.Inline[name]
			if !ok {
				return noSuchEntity("The %s policy with name %s cannot be found.", kind, name)
			}
			out = map[string]any{field: e.Name, "PolicyName": name, "PolicyDocument": encodeDocument(doc)}
			return nil
		})
		return out, err
	}
}

func (s *Service) deleteInline(kind string) service.Handler {
	return func(r *service.Request) (map[string]any, error) {
		name := service.Str(r.Input, "PolicyName")
		return nil, s.update(r.Account, func(st *state) error {
			e, err := st.entity(kind, r.Input)
			if err != nil {
				return err
			}
			if _, ok := e.Inline[name]; !ok {
				return noSuchEntity("The %s policy with name %s cannot be found.", kind, name)
			}
			delete(e.Inline, name)
			delete(e.inline, name)
			return nil
		})
	}
}

func (s *Service) listInline(kind string) service.Handler {
	return func(r *service.Request) (map[string]any, error) {
		var items []any
		err := s.read(r.Account, func(st *state) error {
			e, err := st.entity(kind, r.Input)
			if err != nil {
				return err
			}
			for _, n := range sortedKeys(e.Inline) {
				items = append(items, n)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return list(r.Input, "PolicyNames", items)
	}
}
