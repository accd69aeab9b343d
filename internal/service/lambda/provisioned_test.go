package lambda_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestProvisionedConcurrency: a config on a published version becomes READY
// once its environments are initialised, and the invocations that use them
// are not cold starts (no Init Duration).
func TestProvisionedConcurrency(t *testing.T) {
	_, c := startServer(t)
	ctx := context.Background()
	createGo(t, c, "prov", nil)
	if _, err := c.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("prov")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutProvisionedConcurrencyConfig(ctx, &awslambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String("prov"),
		Qualifier: aws.String("$LATEST"), ProvisionedConcurrentExecutions: aws.Int32(2)})
	apiError(t, err, "InvalidParameterValueException")
	_, err = c.GetProvisionedConcurrencyConfig(ctx, &awslambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String("prov"), Qualifier: aws.String("1")})
	apiError(t, err, "ProvisionedConcurrencyConfigNotFoundException")
	put, err := c.PutProvisionedConcurrencyConfig(ctx, &awslambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String("prov"),
		Qualifier: aws.String("1"), ProvisionedConcurrentExecutions: aws.Int32(2)})
	if err != nil || put.Status != types.ProvisionedConcurrencyStatusEnumInProgress || aws.ToInt32(put.RequestedProvisionedConcurrentExecutions) != 2 {
		t.Fatalf("put: %v %+v", err, put)
	}
	// A generous bound: environments start real processes on a loaded machine.
	for deadline := time.Now().Add(60 * time.Second); ; {
		got, err := c.GetProvisionedConcurrencyConfig(ctx, &awslambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String("prov"), Qualifier: aws.String("1")})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == types.ProvisionedConcurrencyStatusEnumReady {
			if aws.ToInt32(got.AvailableProvisionedConcurrentExecutions) != 2 {
				t.Fatalf("ready: %+v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("provisioned concurrency never READY")
		}
		time.Sleep(25 * time.Millisecond)
	}
	out, err := c.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("prov"), Qualifier: aws.String("1"), LogType: types.LogTypeTail})
	if err != nil || out.FunctionError != nil {
		t.Fatalf("invoke: %v", err)
	}
	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if !strings.Contains(string(tail), "REPORT RequestId") || strings.Contains(string(tail), "Init Duration") {
		t.Fatalf("a provisioned environment's invocation reported a cold start:\n%s", tail)
	}
	list, err := c.ListProvisionedConcurrencyConfigs(ctx, &awslambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String("prov")})
	if err != nil || len(list.ProvisionedConcurrencyConfigs) != 1 ||
		aws.ToString(list.ProvisionedConcurrencyConfigs[0].FunctionArn) != "arn:aws:lambda:us-east-1:000000000000:function:prov:1" {
		t.Fatalf("list: %v %+v", err, list)
	}
	if _, err := c.DeleteProvisionedConcurrencyConfig(ctx, &awslambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String("prov"), Qualifier: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteProvisionedConcurrencyConfig(ctx, &awslambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String("prov"), Qualifier: aws.String("1")})
	apiError(t, err, "ProvisionedConcurrencyConfigNotFoundException")
}
