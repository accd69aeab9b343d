package lambda_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func TestFunctionLifecycle(t *testing.T) {
	_, c := startServer(t)
	ctx := context.Background()

	created := createGo(t, c, "life", func(in *awslambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"CUSTOM": "v1"}}
		in.Tags = map[string]string{"team": "a"}
		in.MemorySize = aws.Int32(256)
	})
	if created.State != types.StatePending || *created.FunctionArn != "arn:aws:lambda:us-east-1:000000000000:function:life" || *created.Version != "$LATEST" {
		t.Fatalf("create: state %s arn %s version %s", created.State, *created.FunctionArn, *created.Version)
	}
	if *created.MemorySize != 256 || *created.Timeout != 3 || created.CodeSha256 == nil || created.CodeSize == 0 {
		t.Fatalf("create: memory %d timeout %d", *created.MemorySize, *created.Timeout)
	}
	w := awslambda.NewFunctionActiveV2Waiter(c, func(o *awslambda.FunctionActiveV2WaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("life")}, 10*time.Second); err != nil {
		t.Fatalf("FunctionActiveV2 waiter: %v", err)
	}

	// Duplicate and bad input.
	_, err := c.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("life"), Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: goFunction(t)}})
	if ae := apiError(t, err, "ResourceConflictException"); ae.ErrorMessage() != "Function already exist: life" {
		t.Fatalf("conflict message %q", ae.ErrorMessage())
	}
	_, err = c.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("bad"), Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Role: aws.String("not-a-role"), Code: &types.FunctionCode{ZipFile: goFunction(t)}})
	apiError(t, err, "ValidationException")
	_, err = c.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("bad"), Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: []byte("not a zip")}})
	apiError(t, err, "InvalidParameterValueException")
	_, err = c.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("bad")})
	if ae := apiError(t, err, "ResourceNotFoundException"); ae.ErrorMessage() != "Function not found: arn:aws:lambda:us-east-1:000000000000:function:bad" {
		t.Fatalf("not found message %q", ae.ErrorMessage())
	}

	got, err := c.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("life")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Configuration.State != types.StateActive || got.Configuration.LastUpdateStatus != types.LastUpdateStatusSuccessful ||
		got.Tags["team"] != "a" || got.Configuration.Environment.Variables["CUSTOM"] != "v1" || *got.Code.RepositoryType != "S3" {
		t.Fatalf("get: %+v", got.Configuration)
	}

	// Update configuration, then the FunctionUpdatedV2 waiter.
	up, err := c.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("life"), Timeout: aws.Int32(10),
		Environment: &types.Environment{Variables: map[string]string{"CUSTOM": "v2"}}})
	if err != nil {
		t.Fatal(err)
	}
	if up.LastUpdateStatus != types.LastUpdateStatusInProgress || *up.Timeout != 10 {
		t.Fatalf("update: %s %d", up.LastUpdateStatus, *up.Timeout)
	}
	uw := awslambda.NewFunctionUpdatedV2Waiter(c, func(o *awslambda.FunctionUpdatedV2WaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := uw.Wait(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("life")}, 10*time.Second); err != nil {
		t.Fatalf("FunctionUpdatedV2 waiter: %v", err)
	}
	_, err = c.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("life"), Timeout: aws.Int32(0)})
	apiError(t, err, "ValidationException")
	_, err = c.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("life"),
		Environment: &types.Environment{Variables: map[string]string{"AWS_REGION": "x"}}})
	apiError(t, err, "InvalidParameterValueException")

	// Versions and aliases.
	v1, err := c.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("life"), Description: aws.String("first")})
	if err != nil || *v1.Version != "1" || !strings.HasSuffix(*v1.FunctionArn, ":life:1") {
		t.Fatalf("publish: %v %+v", err, v1)
	}
	again, err := c.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("life")})
	if err != nil || *again.Version != "1" {
		t.Fatalf("publishing unchanged code should return version 1: %v", err)
	}
	if _, err := c.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("life"), ZipFile: goFunction(t), Publish: true}); err != nil {
		t.Fatal(err)
	}
	vs, err := c.ListVersionsByFunction(ctx, &awslambda.ListVersionsByFunctionInput{FunctionName: aws.String("life")})
	if err != nil || len(vs.Versions) != 3 || *vs.Versions[0].Version != "$LATEST" || *vs.Versions[2].Version != "2" {
		t.Fatalf("versions: %v %d", err, len(vs.Versions))
	}
	alias, err := c.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("life"), Name: aws.String("live"), FunctionVersion: aws.String("1"),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.5}}})
	if err != nil || *alias.AliasArn != "arn:aws:lambda:us-east-1:000000000000:function:life:live" {
		t.Fatalf("alias: %v", err)
	}
	_, err = c.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("life"), Name: aws.String("live"), FunctionVersion: aws.String("1")})
	apiError(t, err, "ResourceConflictException")
	_, err = c.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("life"), Name: aws.String("x"), FunctionVersion: aws.String("9")})
	apiError(t, err, "ResourceNotFoundException")
	if _, err := c.UpdateAlias(ctx, &awslambda.UpdateAliasInput{FunctionName: aws.String("life"), Name: aws.String("live"), FunctionVersion: aws.String("2"),
		RoutingConfig: &types.AliasRoutingConfiguration{}}); err != nil {
		t.Fatal(err)
	}
	ga, err := c.GetAlias(ctx, &awslambda.GetAliasInput{FunctionName: aws.String("life"), Name: aws.String("live")})
	if err != nil || *ga.FunctionVersion != "2" || ga.RoutingConfig != nil {
		t.Fatalf("get alias: %v %+v", err, ga)
	}
	la, err := c.ListAliases(ctx, &awslambda.ListAliasesInput{FunctionName: aws.String("life")})
	if err != nil || len(la.Aliases) != 1 {
		t.Fatalf("list aliases: %v", err)
	}
	_, err = c.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("life"), Qualifier: aws.String("2")})
	apiError(t, err, "ResourceConflictException")
	gq, err := c.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("life:live")})
	if err != nil || *gq.Version != "2" || *gq.FunctionArn != "arn:aws:lambda:us-east-1:000000000000:function:life:live" {
		t.Fatalf("get by alias: %v", err)
	}

	// Concurrency.
	if _, err := c.PutFunctionConcurrency(ctx, &awslambda.PutFunctionConcurrencyInput{FunctionName: aws.String("life"), ReservedConcurrentExecutions: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	fc, err := c.GetFunctionConcurrency(ctx, &awslambda.GetFunctionConcurrencyInput{FunctionName: aws.String("life")})
	if err != nil || *fc.ReservedConcurrentExecutions != 5 {
		t.Fatalf("concurrency: %v", err)
	}
	_, err = c.PutFunctionConcurrency(ctx, &awslambda.PutFunctionConcurrencyInput{FunctionName: aws.String("life"), ReservedConcurrentExecutions: aws.Int32(950)})
	apiError(t, err, "InvalidParameterValueException")
	as, err := c.GetAccountSettings(ctx, &awslambda.GetAccountSettingsInput{})
	if err != nil || as.AccountLimit.ConcurrentExecutions != 1000 || *as.AccountLimit.UnreservedConcurrentExecutions != 995 || as.AccountUsage.FunctionCount != 1 {
		t.Fatalf("account settings: %v %+v", err, as.AccountLimit)
	}
	if _, err := c.DeleteFunctionConcurrency(ctx, &awslambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("life")}); err != nil {
		t.Fatal(err)
	}

	// Resource policy.
	ap, err := c.AddPermission(ctx, &awslambda.AddPermissionInput{FunctionName: aws.String("life"), StatementId: aws.String("s3"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::bucket")})
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if json.Unmarshal([]byte(*ap.Statement), &st) != nil || st["Principal"].(map[string]any)["Service"] != "s3.amazonaws.com" {
		t.Fatalf("statement %s", *ap.Statement)
	}
	_, err = c.AddPermission(ctx, &awslambda.AddPermissionInput{FunctionName: aws.String("life"), StatementId: aws.String("s3"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("s3.amazonaws.com")})
	apiError(t, err, "ResourceConflictException")
	pol, err := c.GetPolicy(ctx, &awslambda.GetPolicyInput{FunctionName: aws.String("life")})
	if err != nil || !strings.Contains(*pol.Policy, `"Sid":"s3"`) {
		t.Fatalf("policy: %v", err)
	}
	if _, err := c.RemovePermission(ctx, &awslambda.RemovePermissionInput{FunctionName: aws.String("life"), StatementId: aws.String("s3")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetPolicy(ctx, &awslambda.GetPolicyInput{FunctionName: aws.String("life")})
	apiError(t, err, "ResourceNotFoundException")

	// Event invoke config.
	if _, err := c.PutFunctionEventInvokeConfig(ctx, &awslambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("life"), MaximumRetryAttempts: aws.Int32(1),
		DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String("arn:aws:sqs:us-east-1:000000000000:dlq")}}}); err != nil {
		t.Fatal(err)
	}
	eic, err := c.GetFunctionEventInvokeConfig(ctx, &awslambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("life")})
	if err != nil || *eic.MaximumRetryAttempts != 1 || *eic.DestinationConfig.OnFailure.Destination != "arn:aws:sqs:us-east-1:000000000000:dlq" {
		t.Fatalf("event invoke config: %v", err)
	}
	_, err = c.PutFunctionEventInvokeConfig(ctx, &awslambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("life"), MaximumRetryAttempts: aws.Int32(3)})
	apiError(t, err, "ValidationException")
	if _, err := c.DeleteFunctionEventInvokeConfig(ctx, &awslambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String("life")}); err != nil {
		t.Fatal(err)
	}

	// Tags.
	arn := "arn:aws:lambda:us-east-1:000000000000:function:life"
	if _, err := c.TagResource(ctx, &awslambda.TagResourceInput{Resource: aws.String(arn), Tags: map[string]string{"env": "test"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &awslambda.UntagResourceInput{Resource: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTags(ctx, &awslambda.ListTagsInput{Resource: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || tags.Tags["env"] != "test" {
		t.Fatalf("tags: %v %v", err, tags.Tags)
	}

	// Listing with pagination.
	for _, n := range []string{"a-fn", "b-fn", "c-fn"} {
		createGo(t, c, n, nil)
	}
	var names []string
	p := awslambda.NewListFunctionsPaginator(c, &awslambda.ListFunctionsInput{MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, f := range out.Functions {
			names = append(names, *f.FunctionName)
		}
	}
	if strings.Join(names, ",") != "a-fn,b-fn,c-fn,life" || pages != 2 {
		t.Fatalf("listed %v in %d pages", names, pages)
	}

	if _, err := c.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("life")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("life")})
	apiError(t, err, "ResourceNotFoundException")
	_, err = c.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("life")})
	apiError(t, err, "ResourceNotFoundException")
}
