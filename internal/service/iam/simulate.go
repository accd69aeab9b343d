package iam

import (
	"strings"

	"github.com/overcast-dev/overcast/internal/policy"
	"github.com/overcast-dev/overcast/internal/service"
)

// simulation is what both simulator operations evaluate.
type simulation struct {
	principal *policy.Principal
	resource  *policy.Policy
	owner     string
}

func (s *Service) simulatePrincipalPolicy(r *service.Request) (map[string]any, error) {
	src := service.Str(r.Input, "PolicySourceArn")
	sim := &simulation{}
	err := s.read(r.Account, func(st *state) error {
		kind, name := arnEntity(src)
		switch kind {
		case "user":
			u := st.Users[strings.ToLower(name)]
			if u == nil {
				return noSuchEntity("The user with name %s cannot be found.", name)
			}
			sim.principal = s.userPrincipal(st, r.Account, u)
		case "role":
			ro := st.Roles[strings.ToLower(name)]
			if ro == nil {
				return noSuchEntity("The role with name %s cannot be found.", name)
			}
			sim.principal = &policy.Principal{Type: policy.AssumedRole, ARN: ro.ARN, RoleARN: ro.ARN, Account: r.Account, UserID: ro.ID, Name: ro.Name, Tags: tagMap(ro.Tags)}
			sim.principal.Identity = s.entityPolicies(st, &ro.entity, nil)
			sim.principal.Boundary = s.compiledDefault(st, ro.Boundary)
		case "group":
			g := st.Groups[strings.ToLower(name)]
			if g == nil {
				return noSuchEntity("The group with name %s cannot be found.", name)
			}
			sim.principal = &policy.Principal{Type: policy.User, ARN: g.ARN, Account: r.Account, Name: g.Name}
			sim.principal.Identity = s.entityPolicies(st, &g.entity, nil)
		default:
			return invalidInput("Invalid Entity Arn: %s does not clearly define entity type and name.", src)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.simulate(r, sim)
}

func arnEntity(arn string) (kind, name string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" {
		return "", ""
	}
	res := parts[5]
	kind, rest, ok := strings.Cut(res, "/")
	if !ok {
		return "", ""
	}
	return kind, rest[strings.LastIndexByte(rest, '/')+1:]
}

func (s *Service) simulateCustomPolicy(r *service.Request) (map[string]any, error) {
	sim := &simulation{principal: &policy.Principal{Type: policy.User, Account: r.Account}}
	if caller := service.Str(r.Input, "CallerArn"); caller != "" {
		sim.principal.ARN = caller
		_, sim.principal.Name = arnEntity(caller)
	}
	if len(service.Strings(r.Input, "PolicyInputList")) == 0 {
		return nil, invalidInput("PolicyInputList must contain at least one policy.")
	}
	return s.simulate(r, sim)
}

func (s *Service) simulate(r *service.Request, sim *simulation) (map[string]any, error) {
	p := sim.principal
	for i, doc := range service.Strings(r.Input, "PolicyInputList") {
		pol, err := policy.Parse(doc, policy.Identity)
		if err != nil {
			return nil, malformed(err)
		}
		pol.Name = "PolicyInputList." + itoa(i+1)
		p.Identity = append(p.Identity, pol)
	}
	for i, doc := range service.Strings(r.Input, "PermissionsBoundaryPolicyInputList") {
		pol, err := policy.Parse(doc, policy.Identity)
		if err != nil {
			return nil, malformed(err)
		}
		pol.Name = "PermissionsBoundaryPolicyInputList." + itoa(i+1)
		p.Boundary = pol
	}
	if doc := service.Str(r.Input, "ResourcePolicy"); doc != "" {
		pol, err := policy.Parse(doc, policy.Resource)
		if err != nil {
			return nil, malformed(err)
		}
		pol.Name = "ResourcePolicy"
		sim.resource = pol
	}
	if caller := service.Str(r.Input, "CallerArn"); caller != "" && p.Type == policy.User {
		p.ARN = caller
	}
	ctx := policy.Context{}
	entries, _ := r.Input["ContextEntries"].([]any)
	for _, e := range entries {
		m, _ := e.(map[string]any)
		ctx.Set(service.Str(m, "ContextKeyName"), service.Strings(m, "ContextKeyValues")...)
	}
	owner := service.Str(r.Input, "ResourceOwner")
	if owner != "" {
		if parts := strings.SplitN(owner, ":", 6); len(parts) == 6 {
			owner = parts[4]
		}
	}
	resources := service.Strings(r.Input, "ResourceArns")
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	var results []any
	for _, action := range service.Strings(r.Input, "ActionNames") {
		for _, res := range resources {
			req := &policy.Request{Action: action, Resource: res, Principal: p, Context: ctx, ResourceAccount: owner}
			if owner == "" && sim.resource != nil {
				if parts := strings.SplitN(res, ":", 6); len(parts) == 6 && parts[4] != "" {
					req.ResourceAccount = parts[4]
				}
			}
			d := policy.Evaluate(req, sim.resource)
			results = append(results, evaluationResult(action, res, d, p))
		}
	}
	return list(r.Input, "EvaluationResults", results)
}

func evaluationResult(action, resource string, d policy.Decision, p *policy.Principal) map[string]any {
	matched := []any{}
	for _, m := range d.Matched {
		typ := "IAM Policy"
		switch {
		case m.Policy.Name == "ResourcePolicy":
			typ = "resource"
		case strings.HasPrefix(m.Policy.Name, "PermissionsBoundary"):
			typ = "permissions boundary"
		case strings.HasPrefix(m.Policy.Name, "arn:aws:iam::aws:policy"):
			typ = "aws-managed"
		case strings.HasPrefix(m.Policy.Name, "arn:"):
			typ = "user-managed"
		case strings.HasPrefix(m.Policy.Name, "PolicyInputList"):
			typ = "IAM Policy"
		}
		matched = append(matched, map[string]any{
			"SourcePolicyId":   m.Policy.Name,
			"SourcePolicyType": typ,
			"StartPosition":    map[string]any{"Line": int64(1), "Column": int64(m.Statement.Index + 1)},
			"EndPosition":      map[string]any{"Line": int64(1), "Column": int64(m.Statement.Index + 1)},
		})
	}
	out := map[string]any{
		"EvalActionName":       action,
		"EvalResourceName":     resource,
		"EvalDecision":         d.DecisionString(),
		"MatchedStatements":    matched,
		"MissingContextValues": []any{},
	}
	if p.Boundary != nil {
		out["PermissionsBoundaryDecisionDetail"] = map[string]any{"AllowedByPermissionsBoundary": d.Reason != policy.ImplicitDenyBoundary && d.Reason != policy.ExplicitDenyBoundary}
	}
	return out
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
