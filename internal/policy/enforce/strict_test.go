package enforce_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/server"
)

const readerPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/public/*"}]}`

func strict(c *server.Config) { c.IAM = "strict"; c.Auth = "verify" }

func errCode(err error) (string, int) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "", 0
	}
	status := 0
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

type fixture struct {
	srv         *awstest.Server
	key, secret string
	userARN     string
	queueURL    string
	rootIAM     *iam.Client
	readerS3    *s3.Client
	readerSQS   *sqs.Client
	readerIAM   *iam.Client
	readerSTS   *sts.Client
	readerCfg   aws.Config
}

func setup(t *testing.T, opts ...awstest.Option) *fixture {
	t.Helper()
	opts = append([]awstest.Option{awstest.WithServices("iam", "sts", "s3", "sqs"), strict}, opts...)
	srv := awstest.Start(t, opts...)
	ctx := context.Background()
	f := &fixture{srv: srv, rootIAM: iam.NewFromConfig(srv.Config)}
	u, err := f.rootIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	f.userARN = aws.ToString(u.User.Arn)
	if _, err := f.rootIAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("read-public"), PolicyDocument: aws.String(readerPolicy)}); err != nil {
		t.Fatal(err)
	}
	k, err := f.rootIAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	f.key, f.secret = aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)

	rootS3 := s3.NewFromConfig(srv.Config, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := rootS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"public/a.txt", "private/b.txt"} {
		if _, err := rootS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), Body: strings.NewReader("hello")}); err != nil {
			t.Fatal(err)
		}
	}
	q, err := sqs.NewFromConfig(srv.Config).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q")})
	if err != nil {
		t.Fatal(err)
	}
	f.queueURL = aws.ToString(q.QueueUrl)

	f.readerCfg = awstest.Config(srv.URL(), f.key, f.secret)
	f.readerS3 = s3.NewFromConfig(f.readerCfg, func(o *s3.Options) { o.UsePathStyle = true })
	f.readerSQS = sqs.NewFromConfig(f.readerCfg)
	f.readerIAM = iam.NewFromConfig(f.readerCfg)
	f.readerSTS = sts.NewFromConfig(f.readerCfg)
	return f
}

// simulate asks the simulator what it decides for the reader.
func (f *fixture) simulate(t *testing.T, action, resource string) string {
	t.Helper()
	out, err := f.rootIAM.SimulatePrincipalPolicy(context.Background(), &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(f.userARN), ActionNames: []string{action}, ResourceArns: []string{resource},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(out.EvaluationResults[0].EvalDecision)
}

func TestStrictGoSDK(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	queueARN := "arn:aws:sqs:us-east-1:000000000000:q"
	type call struct {
		name, action, resource string
		do                     func() error
		allowed                bool
		code                   string
		status                 int
	}
	calls := []call{
		{"get public object", "s3:GetObject", "arn:aws:s3:::bkt/public/a.txt", func() error {
			out, err := f.readerS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("public/a.txt")})
			if err == nil {
				b, _ := io.ReadAll(out.Body)
				out.Body.Close()
				if string(b) != "hello" {
					return fmt.Errorf("body %q", b)
				}
			}
			return err
		}, true, "", 0},
		{"get private object", "s3:GetObject", "arn:aws:s3:::bkt/private/b.txt", func() error {
			_, err := f.readerS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("private/b.txt")})
			return err
		}, false, "AccessDenied", 403},
		{"put public object", "s3:PutObject", "arn:aws:s3:::bkt/public/new.txt", func() error {
			_, err := f.readerS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("public/new.txt"), Body: strings.NewReader("x")})
			return err
		}, false, "AccessDenied", 403},
		{"list bucket", "s3:ListBucket", "arn:aws:s3:::bkt", func() error {
			_, err := f.readerS3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
			return err
		}, false, "AccessDenied", 403},
		{"sqs send", "sqs:SendMessage", queueARN, func() error {
			_, err := f.readerSQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f.queueURL), MessageBody: aws.String("m")})
			return err
		}, false, "AccessDenied", 403},
		{"iam list users", "iam:ListUsers", "*", func() error {
			_, err := f.readerIAM.ListUsers(ctx, &iam.ListUsersInput{})
			return err
		}, false, "AccessDenied", 403},
		{"sqs receive", "sqs:ReceiveMessage", queueARN, func() error {
			_, err := f.readerSQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.queueURL)})
			return err
		}, false, "AccessDenied", 403},
		{"sts assume role", "sts:AssumeRole", "arn:aws:iam::000000000000:role/admin", func() error {
			_, err := f.readerSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/admin"), RoleSessionName: aws.String("sess")})
			return err
		}, false, "AccessDenied", 403},
		{"iam attach (escalation)", "iam:AttachUserPolicy", "arn:aws:iam::000000000000:user/reader", func() error {
			_, err := f.readerIAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
			return err
		}, false, "AccessDenied", 403},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			err := c.do()
			if c.allowed {
				if err != nil {
					t.Fatalf("allowed call failed: %v", err)
				}
			} else {
				code, status := errCode(err)
				if code != c.code || status != c.status {
					t.Fatalf("got %s %d (%v), want %s %d", code, status, err, c.code, c.status)
				}
				want := "User: " + f.userARN + " is not authorized to perform: " + c.action + " on resource: " + c.resource + " because no identity-based policy allows the " + c.action + " action"
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %v\nwant %s", err, want)
				}
			}
			wantDecision := "implicitDeny"
			if c.allowed {
				wantDecision = "allowed"
			}
			if got := f.simulate(t, c.action, c.resource); got != wantDecision {
				t.Errorf("simulator says %s, gateway %s", got, wantDecision)
			}
		})
	}
	// Nothing changed: the escalation attempt attached nothing.
	att, err := f.rootIAM.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("reader")})
	if err != nil || len(att.AttachedPolicies) != 0 {
		t.Errorf("attached %+v %v", att, err)
	}
	// Anyone may ask who they are.
	id, err := f.readerSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != f.userARN || !strings.HasPrefix(aws.ToString(id.UserId), "AIDA") {
		t.Errorf("caller identity %+v %v", id, err)
	}
}

func TestDeactivatedAndDeletedKeysRefused(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, err := f.rootIAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("reader"), AccessKeyId: aws.String(f.key), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	_, err := f.readerSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code, status := errCode(err); code != "InvalidClientTokenId" || status != 403 {
		t.Errorf("inactive key: %s %d %v", code, status, err)
	}
	if _, err := f.rootIAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("reader"), AccessKeyId: aws.String(f.key)}); err != nil {
		t.Fatal(err)
	}
	_, err = f.readerS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("public/a.txt")})
	if code, status := errCode(err); code != "InvalidAccessKeyId" || status != 403 {
		t.Errorf("deleted key: %s %d %v", code, status, err)
	}
}

func TestAssumeRoleSessionsExpire(t *testing.T) {
	fake := clock.NewFake(time.Now())
	f := setup(t, func(c *server.Config) { c.Clock = fake })
	ctx := context.Background()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + f.userARN + `"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}}]}`
	if _, err := f.rootIAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("sqs-writer"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.rootIAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("sqs-writer"), PolicyName: aws.String("send"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	roleARN := "arn:aws:iam::000000000000:role/sqs-writer"
	// Without the external id the trust policy does not allow it.
	_, err := f.readerSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1")})
	if code, _ := errCode(err); code != "AccessDenied" {
		t.Fatalf("assume without external id: %v", err)
	}
	out, err := f.readerSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), ExternalId: aws.String("ext-1"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	cr := out.Credentials
	if !strings.HasPrefix(aws.ToString(cr.AccessKeyId), "ASIA") || aws.ToString(cr.SessionToken) == "" {
		t.Fatalf("credentials %+v", cr)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::000000000000:assumed-role/sqs-writer/s1" {
		t.Errorf("assumed role arn %s", got)
	}
	cfg := f.readerCfg.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != "arn:aws:sts::000000000000:assumed-role/sqs-writer/s1" || !strings.HasPrefix(aws.ToString(id.UserId), "AROA") || !strings.HasSuffix(aws.ToString(id.UserId), ":s1") {
		t.Errorf("session identity %+v", id)
	}
	sq := sqs.NewFromConfig(cfg)
	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f.queueURL), MessageBody: aws.String("from role")}); err != nil {
		t.Fatalf("role may send: %v", err)
	}
	_, err = sq.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(f.queueURL)})
	if code, _ := errCode(err); code != "AccessDenied" {
		t.Errorf("role may not delete: %v", err)
	} else if !strings.Contains(err.Error(), "User: arn:aws:sts::000000000000:assumed-role/sqs-writer/s1 is not authorized to perform: sqs:DeleteQueue") {
		t.Errorf("message %v", err)
	}
	// A wrong session token is refused.
	bad := f.readerCfg.Copy()
	bad.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), "not-the-token")
	if _, err := sts.NewFromConfig(bad).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); func() string { c, _ := errCode(err); return c }() != "InvalidClientTokenId" {
		t.Errorf("wrong token: %v", err)
	}
	// Fifteen minutes later the session has expired.
	fake.Advance(901 * time.Second)
	_, err = sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f.queueURL), MessageBody: aws.String("late")})
	if code, status := errCode(err); code != "ExpiredToken" || status != http.StatusForbidden {
		t.Errorf("expired session: %s %d %v", code, status, err)
	}
}

const boto3Strict = `
import boto3, sys, json
from botocore.exceptions import ClientError
url = sys.argv[1]
s3 = boto3.client("s3", endpoint_url=url)
sqs = boto3.client("sqs", endpoint_url=url)
iam = boto3.client("iam", endpoint_url=url)
sts = boto3.client("sts", endpoint_url=url)
res = {}
res["get_public"] = s3.get_object(Bucket="bkt", Key="public/a.txt")["Body"].read().decode()
res["whoami"] = sts.get_caller_identity()["Arn"]
for name, fn in [("get_private", lambda: s3.get_object(Bucket="bkt", Key="private/b.txt")),
                 ("put", lambda: s3.put_object(Bucket="bkt", Key="public/n", Body=b"x")),
                 ("list", lambda: s3.list_objects_v2(Bucket="bkt", Prefix="public/")),
                 ("sqs_send", lambda: sqs.send_message(QueueUrl=sys.argv[2], MessageBody="m")),
                 ("sqs_receive", lambda: sqs.receive_message(QueueUrl=sys.argv[2])),
                 ("sts_assume", lambda: sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/admin", RoleSessionName="sess")),
                 ("iam_list", lambda: iam.list_users()),
                 ("iam_attach", lambda: iam.attach_user_policy(UserName="reader", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"))]:
    try:
        fn()
        res[name] = "allowed"
    except ClientError as e:
        res[name] = e.response["Error"]["Code"] + "|" + str(e.response["ResponseMetadata"]["HTTPStatusCode"]) + "|" + e.response["Error"].get("Message", "")
print(json.dumps(res))
`

// strictCalls are the denied calls of the boto3 script and the CLI runs,
// with the action and resource AWS names in the message.
var strictDenied = map[string][2]string{
	"get_private": {"s3:GetObject", "arn:aws:s3:::bkt/private/b.txt"},
	"put":         {"s3:PutObject", "arn:aws:s3:::bkt/public/n"},
	"list":        {"s3:ListBucket", "arn:aws:s3:::bkt"},
	"sqs_send":    {"sqs:SendMessage", "arn:aws:sqs:us-east-1:000000000000:q"},
	"sqs_receive": {"sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:000000000000:q"},
	"sts_assume":  {"sts:AssumeRole", "arn:aws:iam::000000000000:role/admin"},
	"iam_list":    {"iam:ListUsers", "*"},
	"iam_attach":  {"iam:AttachUserPolicy", "arn:aws:iam::000000000000:user/reader"},
}

func TestStrictBoto3AndCLI(t *testing.T) {
	f := setup(t)
	// The simulator agrees with the gateway on every denied call.
	for name, ar := range strictDenied {
		if got := f.simulate(t, ar[0], ar[1]); got != "implicitDeny" {
			t.Errorf("%s: simulator says %s", name, got)
		}
	}
	deniedMsg := func(action, resource string) string {
		return "User: " + f.userARN + " is not authorized to perform: " + action + " on resource: " + resource + " because no identity-based policy allows the " + action + " action"
	}
	for _, py := range awstest.Pythons(t) {
		t.Run(py.Name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(py.Path, "-c", boto3Strict, f.srv.URL(), f.queueURL)
			cmd.Env = awstest.ClientEnv(t, f.key, f.secret)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			var res map[string]string
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if res["get_public"] != "hello" || res["whoami"] != f.userARN {
				t.Errorf("allowed calls: %v", res)
			}
			for name, ar := range strictDenied {
				if want := "AccessDenied|403|" + deniedMsg(ar[0], ar[1]); res[name] != want {
					t.Errorf("%s:\n got %s\nwant %s", name, res[name], want)
				}
			}
		})
	}
	for _, c := range awstest.CLIs(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			run := func(key, secret string, args ...string) (string, error) {
				cmd := exec.Command(c.Path, append([]string{"--endpoint-url", f.srv.URL(), "--output", "json"}, args...)...)
				cmd.Env = awstest.ClientEnv(t, key, secret)
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			dst := t.TempDir() + "/a.txt"
			type cliCall struct {
				args   []string
				denied string // strictDenied key; "" when allowed
				want   string // in the output of an allowed call
			}
			calls := []cliCall{
				{[]string{"s3api", "get-object", "--bucket", "bkt", "--key", "public/a.txt", dst}, "", `"ContentLength": 5`},
				{[]string{"s3api", "get-object", "--bucket", "bkt", "--key", "private/b.txt", dst + "2"}, "get_private", ""},
				{[]string{"sqs", "send-message", "--queue-url", f.queueURL, "--message-body", "m"}, "sqs_send", ""},
				{[]string{"sts", "assume-role", "--role-arn", "arn:aws:iam::000000000000:role/admin", "--role-session-name", "sess"}, "sts_assume", ""},
				{[]string{"iam", "list-users"}, "iam_list", ""},
			}
			var wg sync.WaitGroup
			for _, call := range calls {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out, err := run(f.key, f.secret, call.args...)
					if call.denied == "" {
						if err != nil || !strings.Contains(out, call.want) {
							t.Errorf("%v: %v %s", call.args, err, out)
						}
						return
					}
					ar := strictDenied[call.denied]
					if err == nil || !strings.Contains(out, "(AccessDenied)") || !strings.Contains(out, deniedMsg(ar[0], ar[1])) {
						t.Errorf("%v: %v %s", call.args, err, out)
					}
				}()
			}
			if c.Name != "cli-path" {
				// One CLI is enough to show the simulator's answer.
				wg.Wait()
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := run("test", "test", "iam", "simulate-principal-policy", "--policy-source-arn", f.userARN, "--action-names", "s3:GetObject", "sqs:SendMessage", "--resource-arns", "arn:aws:s3:::bkt/public/a.txt")
				if err != nil || strings.Count(out, `"allowed"`) != 1 || strings.Count(out, `"implicitDeny"`) != 1 {
					t.Errorf("simulator via CLI: %v %s", err, out)
				}
			}()
			wg.Wait()
		})
	}
}
