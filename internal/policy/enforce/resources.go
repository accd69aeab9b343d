package enforce

import (
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/policy"
	"github.com/overcast-dev/overcast/internal/service"
)

// Check is one authorization a request needs: an action on a resource.
type Check struct{ Action, Resource string }

// Checks returns what a request is authorized against: its action on each
// of its resources, or, for operations AWS authorizes item by item
// (DynamoDB transactions and PartiQL statements), each item's action on
// its table.
func Checks(prefix string, req *service.Request, p *policy.Principal) []Check {
	if prefix == "dynamodb" {
		if out := dynamodbChecks(req); out != nil {
			return out
		}
	}
	action := Action(prefix, req)
	res := Resources(prefix, req, p)
	out := make([]Check, len(res))
	for i, r := range res {
		out[i] = Check{action, r}
	}
	return out
}

// Resources returns the resource ARNs a request touches; "*" when the
// action has no resource or the service has no resolver.
func Resources(prefix string, req *service.Request, p *policy.Principal) []string {
	if f := resolvers[prefix]; f != nil {
		if out := f(req, p); len(out) > 0 {
			return out
		}
	}
	return star
}

var star = []string{"*"}

type resolver func(req *service.Request, p *policy.Principal) []string

var resolvers = map[string]resolver{
	"sts":        stsResources,
	"iam":        iamResources,
	"s3":         s3Resources,
	"sqs":        sqsResources,
	"sns":        snsResources,
	"dynamodb":   dynamodbResources,
	"logs":       logsResources,
	"lambda":     lambdaResources,
	"cloudwatch": func(*service.Request, *policy.Principal) []string { return nil },
}

func partition(req *service.Request) string { return service.Partition(req.Region) }

func stsResources(req *service.Request, p *policy.Principal) []string {
	if arn := service.Str(req.Input, "RoleArn"); arn != "" {
		return []string{arn}
	}
	if req.Operation == "GetFederationToken" {
		if name := service.Str(req.Input, "Name"); name != "" {
			return []string{"arn:" + partition(req) + ":sts::" + req.Account + ":federated-user/" + name}
		}
	}
	return nil
}

func iamResources(req *service.Request, p *policy.Principal) []string {
	in := req.Input
	base := "arn:" + partition(req) + ":iam::" + req.Account + ":"
	switch {
	case service.Str(in, "PolicySourceArn") != "":
		return []string{service.Str(in, "PolicySourceArn")}
	case service.Str(in, "UserName") != "":
		return []string{base + "user/" + service.Str(in, "UserName")}
	case service.Str(in, "RoleName") != "":
		return []string{base + "role/" + service.Str(in, "RoleName")}
	case service.Str(in, "GroupName") != "":
		return []string{base + "group/" + service.Str(in, "GroupName")}
	case service.Str(in, "InstanceProfileName") != "":
		return []string{base + "instance-profile/" + service.Str(in, "InstanceProfileName")}
	case service.Str(in, "OpenIDConnectProviderArn") != "":
		return []string{service.Str(in, "OpenIDConnectProviderArn")}
	case req.Operation == "CreateOpenIDConnectProvider" && service.Str(in, "Url") != "":
		u := service.Str(in, "Url")
		u = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://"), "/")
		return []string{base + "oidc-provider/" + u}
	case service.Str(in, "PolicyArn") != "":
		return []string{service.Str(in, "PolicyArn")}
	case service.Str(in, "PolicyName") != "" && req.Operation == "CreatePolicy":
		path := service.Str(in, "Path")
		if path == "" {
			path = "/"
		}
		return []string{base + "policy" + path + service.Str(in, "PolicyName")}
	}
	if svc := service.Str(in, "AWSServiceName"); svc != "" && req.Operation == "CreateServiceLinkedRole" {
		name := "AWSServiceRoleFor" + title(strings.TrimSuffix(svc, ".amazonaws.com"))
		if suf := service.Str(in, "CustomSuffix"); suf != "" {
			name += "_" + suf
		}
		return []string{base + "role/aws-service-role/" + svc + "/" + name}
	}
	switch req.Operation {
	case "GetUser", "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey":
		if p != nil && p.Type == policy.User {
			return []string{p.ARN}
		}
	}
	return nil
}

// title is IAM's service-linked role name of a service prefix:
// "elasticloadbalancing" → "Elasticloadbalancing", "auto-scaling" →
// "AutoScaling".
func title(p string) string {
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

func s3Resources(req *service.Request, p *policy.Principal) []string {
	bucket := service.Str(req.Input, "Bucket")
	if bucket == "" {
		return nil
	}
	if key, ok := req.Input["Key"].(string); ok {
		return []string{"arn:" + partition(req) + ":s3:::" + bucket + "/" + key}
	}
	if req.Operation == "DeleteObjects" {
		del, _ := req.Input["Delete"].(map[string]any)
		objs, _ := del["Objects"].([]any)
		var out []string
		for _, o := range objs {
			m, _ := o.(map[string]any)
			out = append(out, "arn:"+partition(req)+":s3:::"+bucket+"/"+service.Str(m, "Key"))
		}
		return dedupe(out)
	}
	return []string{"arn:" + partition(req) + ":s3:::" + bucket}
}

func sqsResources(req *service.Request, p *policy.Principal) []string {
	if u := service.Str(req.Input, "QueueUrl"); u != "" {
		// As SQS reads it: a full URL, a path, or a bare queue name.
		if pu, err := url.Parse(u); err == nil && pu.Path != "" {
			u = pu.Path
		}
		parts := strings.Split(strings.Trim(u, "/"), "/")
		switch len(parts) {
		case 1:
			return []string{"arn:" + partition(req) + ":sqs:" + req.Region + ":" + req.Account + ":" + parts[0]}
		case 2, 3:
			n := len(parts)
			return []string{"arn:" + partition(req) + ":sqs:" + req.Region + ":" + parts[n-2] + ":" + parts[n-1]}
		}
		return nil
	}
	if arn := service.Str(req.Input, "SourceArn"); arn != "" {
		return []string{arn}
	}
	if name := service.Str(req.Input, "QueueName"); name != "" {
		acct := req.Account
		if o := service.Str(req.Input, "QueueOwnerAWSAccountId"); o != "" {
			acct = o
		}
		return []string{"arn:" + partition(req) + ":sqs:" + req.Region + ":" + acct + ":" + name}
	}
	return nil
}

func snsResources(req *service.Request, p *policy.Principal) []string {
	for _, f := range []string{"TopicArn", "TargetArn", "ResourceArn"} {
		if arn := service.Str(req.Input, f); arn != "" {
			return []string{arn}
		}
	}
	if arn := service.Str(req.Input, "SubscriptionArn"); arn != "" {
		if i := strings.LastIndexByte(arn, ':'); i > 0 {
			return []string{arn[:i]}
		}
	}
	if req.Operation == "CreateTopic" {
		if name := service.Str(req.Input, "Name"); name != "" {
			return []string{"arn:" + partition(req) + ":sns:" + req.Region + ":" + req.Account + ":" + name}
		}
	}
	return nil
}

func dynamodbTable(req *service.Request, name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return "arn:" + partition(req) + ":dynamodb:" + req.Region + ":" + req.Account + ":table/" + name
}

func dynamodbResources(req *service.Request, p *policy.Principal) []string {
	in := req.Input
	if t := service.Str(in, "TableName"); t != "" {
		arn := dynamodbTable(req, t)
		if idx := service.Str(in, "IndexName"); idx != "" {
			arn += "/index/" + idx
		}
		return []string{arn}
	}
	if arn := service.Str(in, "StreamArn"); arn != "" {
		return []string{arn}
	}
	if arn := service.Str(in, "ResourceArn"); arn != "" {
		return []string{arn}
	}
	if items, ok := in["RequestItems"].(map[string]any); ok {
		var out []string
		for t := range items {
			out = append(out, dynamodbTable(req, t))
		}
		sort.Strings(out)
		return out
	}
	if items, ok := in["TransactItems"].([]any); ok {
		var out []string
		for _, it := range items {
			m, _ := it.(map[string]any)
			for _, v := range m {
				op, _ := v.(map[string]any)
				if t := service.Str(op, "TableName"); t != "" {
					out = append(out, dynamodbTable(req, t))
				}
			}
		}
		return dedupe(out)
	}
	return nil
}

func logsResources(req *service.Request, p *policy.Principal) []string {
	in := req.Input
	for _, f := range []string{"resourceArn", "resourceIdentifier"} {
		if arn := service.Str(in, f); strings.HasPrefix(arn, "arn:") {
			return []string{strings.TrimSuffix(arn, ":*")}
		}
	}
	group := service.Str(in, "logGroupName")
	if group == "" {
		group = service.Str(in, "logGroupIdentifier")
	}
	if group == "" {
		var out []string
		for _, g := range append(service.Strings(in, "logGroupNames"), service.Strings(in, "logGroupIdentifiers")...) {
			out = append(out, logGroupARN(req, g))
		}
		return dedupe(out)
	}
	arn := logGroupARN(req, group)
	if stream := service.Str(in, "logStreamName"); stream != "" {
		return []string{arn + ":log-stream:" + stream}
	}
	return []string{arn}
}

// logGroupARN is the ARN of a log group given by name or ARN.
func logGroupARN(req *service.Request, group string) string {
	if strings.HasPrefix(group, "arn:") {
		return strings.TrimSuffix(group, ":*")
	}
	return "arn:" + partition(req) + ":logs:" + req.Region + ":" + req.Account + ":log-group:" + group
}

func lambdaResources(req *service.Request, p *policy.Principal) []string {
	in := req.Input
	base := "arn:" + partition(req) + ":lambda:" + req.Region + ":" + req.Account + ":"
	if fn := service.Str(in, "FunctionName"); fn != "" {
		switch {
		case strings.HasPrefix(fn, "arn:"):
			return []string{fn}
		case strings.Contains(fn, ":function:"):
			// account:function:name[:qualifier]
			acct, rest, _ := strings.Cut(fn, ":")
			return []string{"arn:" + partition(req) + ":lambda:" + req.Region + ":" + acct + ":" + rest}
		}
		return []string{base + "function:" + fn}
	}
	if arn := service.Str(in, "Resource"); strings.HasPrefix(arn, "arn:") {
		return []string{arn}
	}
	if arn := service.Str(in, "Arn"); strings.HasPrefix(arn, "arn:") {
		return []string{arn}
	}
	if id := service.Str(in, "UUID"); id != "" {
		return []string{base + "event-source-mapping:" + id}
	}
	if layer := service.Str(in, "LayerName"); layer != "" {
		if strings.HasPrefix(layer, "arn:") {
			return []string{layer}
		}
		arn := base + "layer:" + layer
		if v, ok := service.Int(in, "VersionNumber"); ok {
			arn += ":" + strconv.FormatInt(v, 10)
		}
		return []string{arn}
	}
	return nil
}

func dedupe(l []string) []string {
	sort.Strings(l)
	out := l[:0]
	for i, s := range l {
		if i == 0 || s != l[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// dynamodbChecks authorizes transactions item by item and PartiQL
// statements by their verb, as DynamoDB does; nil for other operations.
func dynamodbChecks(req *service.Request) []Check {
	in := req.Input
	var out []Check
	switch req.Operation {
	case "TransactWriteItems", "TransactGetItems":
		items, _ := in["TransactItems"].([]any)
		for _, it := range items {
			m, _ := it.(map[string]any)
			for kind, v := range m {
				op, _ := v.(map[string]any)
				action := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}[kind]
				if t := service.Str(op, "TableName"); action != "" && t != "" {
					out = append(out, Check{"dynamodb:" + action, dynamodbTable(req, t)})
				}
			}
		}
	case "ExecuteStatement":
		out = appendStatement(out, req, service.Str(in, "Statement"))
	case "BatchExecuteStatement", "ExecuteTransaction":
		field := "Statements"
		if req.Operation == "ExecuteTransaction" {
			field = "TransactStatements"
		}
		l, _ := in[field].([]any)
		for _, st := range l {
			m, _ := st.(map[string]any)
			out = appendStatement(out, req, service.Str(m, "Statement"))
		}
	default:
		return nil
	}
	if len(out) == 0 {
		// Nothing to name: authorize the operation's own verb on "*" so
		// that an empty request is still decided.
		return []Check{{"dynamodb:PartiQLSelect", "*"}}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Action != out[j].Action {
			return out[i].Action < out[j].Action
		}
		return out[i].Resource < out[j].Resource
	})
	dd := out[:0]
	for i, c := range out {
		if i == 0 || c != out[i-1] {
			dd = append(dd, c)
		}
	}
	return dd
}

func appendStatement(out []Check, req *service.Request, stmt string) []Check {
	verb, table, index := PartiQLTarget(stmt)
	action := map[string]string{"SELECT": "PartiQLSelect", "INSERT": "PartiQLInsert", "UPDATE": "PartiQLUpdate", "DELETE": "PartiQLDelete"}[verb]
	if action == "" {
		action = "PartiQLSelect"
	}
	res := "*"
	if table != "" {
		res = dynamodbTable(req, table)
		if index != "" {
			res += "/index/" + index
		}
	}
	return append(out, Check{"dynamodb:" + action, res})
}

// PartiQLTarget reads a DynamoDB PartiQL statement's verb (upper-case
// SELECT, INSERT, UPDATE or DELETE) and the table (and index) it names;
// empty strings when it cannot tell.
func PartiQLTarget(stmt string) (verb, table, index string) {
	toks := partiqlTokens(stmt, 64)
	if len(toks) == 0 {
		return "", "", ""
	}
	verb = strings.ToUpper(toks[0].s)
	if toks[0].quoted {
		return "", "", ""
	}
	after := ""
	switch verb {
	case "SELECT", "DELETE":
		after = "FROM"
	case "INSERT":
		after = "INTO"
	case "UPDATE":
		after = "UPDATE"
	default:
		return "", "", ""
	}
	for i, t := range toks {
		if t.quoted || !strings.EqualFold(t.s, after) || (after == "UPDATE" && i != 0) {
			continue
		}
		if i+1 < len(toks) {
			table = toks[i+1].s
			if i+3 < len(toks) && toks[i+2].s == "." && !toks[i+2].quoted {
				index = toks[i+3].s
			}
		}
		break
	}
	return verb, table, index
}

type partiqlToken struct {
	s      string
	quoted bool
}

// partiqlTokens splits a statement into words, double-quoted identifiers
// and single punctuation characters, skipping single-quoted strings; at
// most max tokens.
func partiqlTokens(s string, max int) []partiqlToken {
	var out []partiqlToken
	for i := 0; i < len(s) && len(out) < max; {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				j = len(s) - i - 1
			}
			if c == '"' {
				out = append(out, partiqlToken{s[i+1 : i+1+j], true})
			}
			i += j + 2
		case c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '-' || s[j] >= '0' && s[j] <= '9' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
				j++
			}
			out = append(out, partiqlToken{s[i:j], false})
			i = j
		default:
			out = append(out, partiqlToken{s[i : i+1], false})
			i++
		}
	}
	return out
}
