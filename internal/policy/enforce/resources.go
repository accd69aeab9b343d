package enforce

import (
	"net/url"
	"sort"
	"strings"

	"github.com/overcast-dev/overcast/internal/policy"
	"github.com/overcast-dev/overcast/internal/service"
)

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
	case service.Str(in, "PolicyArn") != "":
		return []string{service.Str(in, "PolicyArn")}
	case service.Str(in, "PolicyName") != "" && req.Operation == "CreatePolicy":
		path := service.Str(in, "Path")
		if path == "" {
			path = "/"
		}
		return []string{base + "policy" + path + service.Str(in, "PolicyName")}
	}
	switch req.Operation {
	case "GetUser", "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey":
		if p != nil && p.Type == policy.User {
			return []string{p.ARN}
		}
	}
	return nil
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
	group := service.Str(req.Input, "logGroupName")
	if group == "" {
		return nil
	}
	arn := "arn:" + partition(req) + ":logs:" + req.Region + ":" + req.Account + ":log-group:" + group
	if stream := service.Str(req.Input, "logStreamName"); stream != "" {
		return []string{arn + ":log-stream:" + stream}
	}
	return []string{arn}
}

func lambdaResources(req *service.Request, p *policy.Principal) []string {
	fn := service.Str(req.Input, "FunctionName")
	if fn == "" {
		return nil
	}
	if strings.HasPrefix(fn, "arn:") {
		return []string{fn}
	}
	return []string{"arn:" + partition(req) + ":lambda:" + req.Region + ":" + req.Account + ":function:" + fn}
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
