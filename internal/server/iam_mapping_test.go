package server

import (
	"encoding/json"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/policy"
	"github.com/overcast-dev/overcast/internal/policy/enforce"
	"github.com/overcast-dev/overcast/internal/protocol/model"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

// starOnly are the IAM prefixes whose resources the enforcement does not
// resolve yet: every action of theirs is authorized against "*"
// (documented in package enforce).
var starOnly = map[string]bool{"ec2": true, "elasticloadbalancing": true, "autoscaling": true, "cloudwatch": true}

// starOps are operations authorized against "*" on purpose although IAM
// defines resource types for their action: they create or list things
// that have no ARN before the call, or AWS evaluates them on "*".
var starOps = map[string]bool{
	// The input names an opaque handle, not the resource.
	"dynamodb:GetRecords":       true, // ShardIterator
	"iam:GetAccessKeyLastUsed":  true, // AccessKeyId (the user is the key's)
	"logs:GetQueryResults":      true, // queryId
	"sqs:CancelMessageMoveTask": true, // TaskHandle
}

// TestEveryOperationHasAnIAMAction checks, for every operation every
// implemented service routes, that the action it is authorized as exists
// in IAM (testdata/iam-actions.json, from the Service Authorization
// Reference) and that it resolves to a resource ARN of the service when
// the action has resource types.
func TestEveryOperationHasAnIAMAction(t *testing.T) {
	raw, err := os.ReadFile("../policy/enforce/testdata/iam-actions.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string]map[string]bool
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	p := &parts{cfg: Config{Memory: true}, logger: slog.New(slog.DiscardHandler), kv: memory.New(), blobs: memory.NewBlobs(),
		account: AccountOf, clock: clock.NewFake(clock.Real().Now()), metrics: newMetricsSlot()}
	principal := &policy.Principal{Type: policy.User, ARN: "arn:aws:iam::000000000000:user/u", Account: "000000000000", Name: "u"}
	checked := 0
	var problems []string
	seen := map[string]bool{}
	for _, m := range modules() {
		svc := m.build(p)
		if service.IsPending(svc) {
			continue
		}
		handlers := svc.Handlers()
		for _, apiName := range svc.APIs() {
			api, err := model.Load(apiName)
			if err != nil {
				t.Fatal(err)
			}
			prefix := enforce.Prefix(api.SigningName())
			known := ref[prefix]
			if known == nil {
				problems = append(problems, "no IAM reference data for prefix "+prefix)
				continue
			}
			for op := range handlers {
				o := api.Operation(op)
				if o == nil {
					continue
				}
				in := map[string]any{}
				if o.Input != nil {
					in = sample(o.Input.Shape, prefix, 0)
				}
				req := &service.Request{Account: "000000000000", Region: "us-east-1", Operation: op, Input: in}
				checked++
				for _, c := range enforce.Checks(prefix, req, principal) {
					if pr := checkMapping(known, prefix, c); pr != "" && !seen[m.name+op+pr] {
						seen[m.name+op+pr] = true
						problems = append(problems, m.name+" "+op+": "+pr)
					}
				}
			}
		}
	}
	sort.Strings(problems)
	for _, pr := range problems {
		t.Error(pr)
	}
	if checked < 300 {
		t.Errorf("checked only %d operations", checked)
	}
}

// checkMapping returns what is wrong with one authorization check.
func checkMapping(known map[string]bool, prefix string, c enforce.Check) string {
	name, ok := strings.CutPrefix(c.Action, prefix+":")
	hasResources, defined := known[name]
	if !ok || !defined {
		return "authorized as " + c.Action + ", which IAM does not define"
	}
	if c.Resource == "*" {
		if hasResources && !starOnly[prefix] && !starOps[c.Action] {
			return c.Action + " has resource types but resolves to *"
		}
		return ""
	}
	want := prefix
	if prefix == "sts" && strings.Contains(c.Resource, ":role/") {
		want = "iam"
	}
	if f := strings.SplitN(c.Resource, ":", 4); len(f) < 4 || f[0] != "arn" || f[2] != want {
		return c.Action + " resolves to " + c.Resource
	}
	return ""
}

// identifiers are optional members that name the resource an operation
// acts on; the sample sets them as a client naming a resource would.
var identifiers = map[string]bool{
	"TopicArn": true, "TargetArn": true, "logGroupName": true, "logGroupIdentifier": true, "logGroupNames": true,
	"resourceArn": true, "resourceIdentifier": true, "SourceArn": true, "UserName": true, "FunctionName": true,
	"Put": true, "Get": true, // DynamoDB transaction items
}

// sample returns an input with every required member, and the optional
// resource identifiers, set to plausible values.
func sample(s *model.Shape, prefix string, depth int) map[string]any {
	out := map[string]any{}
	if s == nil || depth > 4 {
		return out
	}
	names := append([]string(nil), s.Required...)
	for _, n := range s.MemberNames {
		if identifiers[n] {
			names = append(names, n)
		}
	}
	for _, name := range names {
		r := s.Members[name]
		if r == nil {
			continue
		}
		if v := sampleValue(r.Shape, name, prefix, depth); v != nil {
			out[name] = v
		}
	}
	return out
}

func sampleValue(s *model.Shape, name, prefix string, depth int) any {
	switch s.Type {
	case "string":
		switch {
		case name == "QueueUrl":
			return "http://localhost:4566/000000000000/q"
		case name == "Statement":
			return `SELECT * FROM "example" WHERE pk = 'a'`
		case strings.HasSuffix(name, "Arn") || strings.HasSuffix(name, "ARN") || name == "Resource":
			if prefix == "sts" || prefix == "iam" {
				return "arn:aws:iam::000000000000:role/example"
			}
			return "arn:aws:" + prefix + ":us-east-1:000000000000:example"
		case len(s.Enum) > 0:
			return s.Enum[0]
		}
		return "example"
	case "structure":
		return sample(s, prefix, depth+1)
	case "list":
		if s.Member != nil {
			if v := sampleValue(s.Member.Shape, name, prefix, depth+1); v != nil {
				return []any{v}
			}
		}
		return []any{}
	case "map":
		if s.Value != nil {
			if v := sampleValue(s.Value.Shape, name, prefix, depth+1); v != nil {
				return map[string]any{"example": v}
			}
		}
		return map[string]any{}
	case "integer", "long":
		return int64(1)
	case "boolean":
		return true
	case "blob":
		return []byte("x")
	}
	return nil
}
