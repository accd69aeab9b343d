package enforce

import (
	"strings"
	"testing"

	"github.com/overcast-dev/overcast/internal/policy"
)

func TestAuthorizeServicePrincipal(t *testing.T) {
	const queue = "arn:aws:sqs:us-east-1:000000000000:q"
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"` + queue + `",
		"Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:000000000000:topic"},"StringEquals":{"aws:SourceAccount":"000000000000"}}}]}`
	pol, err := policy.Parse(doc, policy.Resource)
	if err != nil {
		t.Fatal(err)
	}
	e := &Enforcer{Mode: Strict, ResourcePolicies: map[string]ResourcePolicyFunc{
		"sqs": func(account, arn string) (*policy.Policy, string) {
			if arn == queue {
				return pol, "000000000000"
			}
			return nil, ""
		},
	}}
	for _, c := range []struct {
		name, svc, resource, source, account string
		allowed                              bool
	}{
		{"the topic the policy names", "sns.amazonaws.com", queue, "arn:aws:sns:us-east-1:000000000000:topic", "000000000000", true},
		{"another topic", "sns.amazonaws.com", queue, "arn:aws:sns:us-east-1:000000000000:other", "000000000000", false},
		{"another source account", "sns.amazonaws.com", queue, "arn:aws:sns:us-east-1:000000000000:topic", "222222222222", false},
		{"no source", "sns.amazonaws.com", queue, "", "", false},
		{"another service", "s3.amazonaws.com", queue, "arn:aws:sns:us-east-1:000000000000:topic", "000000000000", false},
		{"a queue without a policy", "sns.amazonaws.com", "arn:aws:sqs:us-east-1:000000000000:open", "arn:aws:sns:us-east-1:000000000000:topic", "000000000000", false},
	} {
		err := e.AuthorizeService(c.svc, "sqs:SendMessage", c.resource, c.source, c.account)
		if c.allowed != (err == nil) {
			t.Errorf("%s: allowed %v, got %v", c.name, c.allowed, err)
		}
		if err != nil && !strings.Contains(err.Error(), "Service: "+c.svc+" is not authorized to perform: sqs:SendMessage on resource: "+c.resource) {
			t.Errorf("%s: message %v", c.name, err)
		}
	}
	e.Mode = Soft
	if err := e.AuthorizeService("s3.amazonaws.com", "sqs:SendMessage", queue, "", ""); err != nil {
		t.Errorf("soft mode refused: %v", err)
	}
}
