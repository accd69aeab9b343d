package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/server"
)

// An instance with an instance profile gets its role's STS credentials from
// the metadata service; they identify the role session, expire, and are
// enforced like any other credentials.
func TestInstanceProfileCredentials(t *testing.T) {
	for _, tool := range []string{"curl", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	srv := awstest.Start(t, awstest.WithServices("iam", "sts", "sqs", "ec2"), func(c *server.Config) { c.Auth = "verify"; c.IAM = "strict" })
	ctx := context.Background()
	ic := iam.NewFromConfig(srv.Config)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("send"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web-profile")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web-profile"), RoleName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	q, err := sqs.NewFromConfig(srv.Config).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("work")})
	if err != nil {
		t.Fatal(err)
	}
	script := `#!/bin/sh
TOKEN=$(curl -s -X PUT "${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
ROLE=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" "${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/meta-data/iam/security-credentials/")
echo "role: $ROLE"
echo "creds: $(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" "${AWS_EC2_METADATA_SERVICE_ENDPOINT}latest/meta-data/iam/security-credentials/$ROLE" | tr -d '\n ')"
python3 -c "import boto3; print('whoami:', boto3.client('sts').get_caller_identity()['Arn'])" 2>&1 | tail -1
`
	ec := ec2.NewFromConfig(srv.Config)
	run, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-0overcast00000001"), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		UserData:           aws.String(base64.StdEncoding.EncodeToString([]byte(script))),
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String("web-profile")},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	t.Cleanup(func() {
		ec.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	})
	var out string
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out, "[overcast] user data exited") {
		if time.Now().After(deadline) {
			t.Fatalf("user data did not finish:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
		co, err := ec.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := base64.StdEncoding.DecodeString(aws.ToString(co.Output))
		out = string(b)
	}
	if !strings.Contains(out, "role: web\n") {
		t.Errorf("role name not served:\n%s", out)
	}
	const session = "arn:aws:sts::000000000000:assumed-role/web/web-profile"
	if !strings.Contains(out, "whoami: "+session) {
		t.Errorf("boto3 on the instance is not the role session:\n%s", out)
	}
	_, line, _ := strings.Cut(out, "creds: ")
	line, _, _ = strings.Cut(line, "\n")
	var cr struct {
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string
		Token           string
		Expiration      time.Time
	}
	if err := json.Unmarshal([]byte(line), &cr); err != nil {
		t.Fatalf("credentials %q: %v", line, err)
	}
	if !strings.HasPrefix(cr.AccessKeyID, "ASIA") || cr.Token == "" || cr.Expiration.Before(time.Now().Add(30*time.Minute)) || cr.Expiration.After(time.Now().Add(61*time.Minute)) {
		t.Errorf("credentials %+v", cr)
	}
	cfg := srv.Config.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(cr.AccessKeyID, cr.SecretAccessKey, cr.Token)
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != session {
		t.Fatalf("caller %+v %v", who, err)
	}
	sq := sqs.NewFromConfig(cfg)
	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("from the instance")}); err != nil {
		t.Errorf("the role may send: %v", err)
	}
	_, err = sq.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" || !strings.Contains(err.Error(), "User: "+session+" is not authorized to perform: sqs:DeleteQueue") {
		t.Errorf("the role may not delete: %v", err)
	}
}
