package lambda_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/overcast-dev/overcast/internal/awstest"
)

// TestExecutionRoleCredentials: a function whose role exists in IAM runs
// with temporary credentials of that role from STS; one whose role does not
// exist gets the server's own credentials.
func TestExecutionRoleCredentials(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("lambda", "iam", "sts"))
	ctx := context.Background()
	c := awslambda.NewFromConfig(srv.Config)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role, err := iam.NewFromConfig(srv.Config).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("fn-exec"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	createGo(t, c, "withrole", func(in *awslambda.CreateFunctionInput) { in.Role = role.Role.Arn })
	createGo(t, c, "fakerole", nil)
	key := func(fn string) string {
		out, err := c.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String(fn)})
		if err != nil || out.FunctionError != nil {
			t.Fatalf("invoke %s: %v", fn, err)
		}
		var r struct {
			AccessKey string `json:"accessKey"`
		}
		json.Unmarshal(out.Payload, &r)
		return r.AccessKey
	}
	if k := key("withrole"); !strings.HasPrefix(k, "ASIA") {
		t.Fatalf("function with an IAM role got key %q, want temporary credentials", k)
	}
	creds, _ := srv.Config.Credentials.Retrieve(ctx)
	if k := key("fakerole"); k != creds.AccessKeyID {
		t.Fatalf("function with an unknown role got key %q, want %q", k, creds.AccessKeyID)
	}
}
