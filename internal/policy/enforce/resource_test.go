package enforce_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/server"
)

const (
	ownerAcct = "000000000000"
	otherAcct = "111111111111"
)

// crossAccount is a server in strict mode where account 111111111111 has
// two users: alice, whose identity policy allows the actions under test on
// any resource, and bob, who has no policy.
type crossAccount struct {
	srv               *awstest.Server
	aliceARN, bobARN  string
	alice, bob, owner aws.Config
}

func newCrossAccount(t *testing.T) *crossAccount {
	t.Helper()
	// Accounts come from 12-digit root keys, which --auth=verify does not
	// know the secrets of: signatures are not checked here, identities are.
	srv := awstest.Start(t, awstest.WithServices("iam", "sts", "s3", "sqs", "sns", "lambda"), func(c *server.Config) { c.IAM = "strict" })
	ctx := context.Background()
	x := &crossAccount{srv: srv, owner: srv.Config}
	otherIAM := iam.NewFromConfig(awstest.Config(srv.URL(), otherAcct, "x"))
	const allow = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","sqs:SendMessage","sns:Publish","lambda:GetFunction"],"Resource":"*"}]}`
	for _, name := range []string{"alice", "bob"} {
		u, err := otherIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if name == "alice" {
			x.aliceARN = aws.ToString(u.User.Arn)
			if _, err := otherIAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(allow)}); err != nil {
				t.Fatal(err)
			}
		} else {
			x.bobARN = aws.ToString(u.User.Arn)
		}
		k, err := otherIAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		cfg := awstest.Config(srv.URL(), aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey))
		if name == "alice" {
			x.alice = cfg
		} else {
			x.bob = cfg
		}
	}
	return x
}

func pathStyle(o *s3.Options) { o.UsePathStyle = true }

// wantDenied checks a strict-mode AccessDenied with AWS's message.
func wantDenied(t *testing.T, err error, who, action, resource, because string) {
	t.Helper()
	code, status := errCode(err)
	if (code != "AccessDenied" && code != "AccessDeniedException") || status != 403 {
		t.Fatalf("want AccessDenied 403, got %s %d (%v)", code, status, err)
	}
	want := "User: " + who + " is not authorized to perform: " + action + " on resource: " + resource + " " + because
	if !strings.Contains(err.Error(), want) {
		t.Errorf("message %v\nwant %s", err, want)
	}
}

func TestCrossAccountResourcePolicies(t *testing.T) {
	x := newCrossAccount(t)
	ctx := context.Background()
	noResource := func(a string) string { return "because no resource-based policy allows the " + a + " action" }

	t.Run("s3 bucket policy", func(t *testing.T) {
		t.Parallel()
		owner := s3.NewFromConfig(x.owner, pathStyle)
		for _, b := range []string{"shared", "closed"} {
			if _, err := owner.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
				t.Fatal(err)
			}
			if _, err := owner.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("doc.txt"), Body: strings.NewReader("shared doc")}); err != nil {
				t.Fatal(err)
			}
		}
		alice := s3.NewFromConfig(x.alice, pathStyle)
		get := func(c *s3.Client, bucket string) (string, error) {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("doc.txt")})
			if err != nil {
				return "", err
			}
			defer out.Body.Close()
			b, err := io.ReadAll(out.Body)
			return string(b), err
		}
		_, err := get(alice, "shared")
		wantDenied(t, err, x.aliceARN, "s3:GetObject", "arn:aws:s3:::shared/doc.txt", noResource("s3:GetObject"))

		pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + otherAcct + `:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}`
		if _, err := owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("shared"), Policy: aws.String(pol)}); err != nil {
			t.Fatal(err)
		}
		if body, err := get(alice, "shared"); err != nil || body != "shared doc" {
			t.Fatalf("allowed cross-account read: %q %v", body, err)
		}
		// The policy grants objects, not listing.
		_, err = alice.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("shared")})
		wantDenied(t, err, x.aliceARN, "s3:ListBucket", "arn:aws:s3:::shared", noResource("s3:ListBucket"))
		// Another bucket of the owner without a policy stays closed.
		_, err = get(alice, "closed")
		wantDenied(t, err, x.aliceARN, "s3:GetObject", "arn:aws:s3:::closed/doc.txt", noResource("s3:GetObject"))
		// Both sides must allow: bob's account is trusted, bob is not.
		_, err = get(s3.NewFromConfig(x.bob, pathStyle), "shared")
		wantDenied(t, err, x.bobARN, "s3:GetObject", "arn:aws:s3:::shared/doc.txt", "because no identity-based policy allows the s3:GetObject action")
		// An explicit deny in the bucket policy wins over the allow.
		deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + otherAcct + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"},` +
			`{"Effect":"Deny","Principal":{"AWS":"` + x.aliceARN + `"},"Action":"s3:*","Resource":"arn:aws:s3:::shared/*"}]}`
		if _, err := owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("shared"), Policy: aws.String(deny)}); err != nil {
			t.Fatal(err)
		}
		_, err = get(alice, "shared")
		wantDenied(t, err, x.aliceARN, "s3:GetObject", "arn:aws:s3:::shared/doc.txt", "with an explicit deny in a resource-based policy")
	})

	t.Run("sqs queue policy", func(t *testing.T) {
		t.Parallel()
		owner := sqs.NewFromConfig(x.owner)
		q, err := owner.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("inbox")})
		if err != nil {
			t.Fatal(err)
		}
		arn := "arn:aws:sqs:us-east-1:" + ownerAcct + ":inbox"
		alice := sqs.NewFromConfig(x.alice)
		send := func() error {
			_, err := alice.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("hi")})
			return err
		}
		wantDenied(t, send(), x.aliceARN, "sqs:SendMessage", arn, noResource("sqs:SendMessage"))
		pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + x.aliceARN + `"},"Action":"sqs:SendMessage","Resource":"` + arn + `"}]}`
		if _, err := owner.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: q.QueueUrl, Attributes: map[string]string{"Policy": pol}}); err != nil {
			t.Fatal(err)
		}
		if err := send(); err != nil {
			t.Fatalf("allowed cross-account send: %v", err)
		}
		out, err := owner.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"SenderId"}})
		if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "hi" {
			t.Fatalf("owner receives %+v %v", out, err)
		}
	})

	t.Run("sns topic policy", func(t *testing.T) {
		t.Parallel()
		owner := sns.NewFromConfig(x.owner)
		tp, err := owner.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("news")})
		if err != nil {
			t.Fatal(err)
		}
		alice := sns.NewFromConfig(x.alice)
		pub := func() error {
			_, err := alice.Publish(ctx, &sns.PublishInput{TopicArn: tp.TopicArn, Message: aws.String("m")})
			return err
		}
		// The default topic policy only trusts the owner's account.
		wantDenied(t, pub(), x.aliceARN, "sns:Publish", aws.ToString(tp.TopicArn), noResource("sns:Publish"))
		pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + otherAcct + `"},"Action":"sns:Publish","Resource":"` + aws.ToString(tp.TopicArn) + `"}]}`
		if _, err := owner.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: tp.TopicArn, AttributeName: aws.String("Policy"), AttributeValue: aws.String(pol)}); err != nil {
			t.Fatal(err)
		}
		if err := pub(); err != nil {
			t.Fatalf("allowed cross-account publish: %v", err)
		}
	})

	t.Run("lambda resource policy", func(t *testing.T) {
		t.Parallel()
		owner := lambda.NewFromConfig(x.owner)
		fn, err := owner.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName: aws.String("shared-fn"), Runtime: lambdatypes.RuntimePython312, Handler: aws.String("index.handler"),
			Role: aws.String("arn:aws:iam::" + ownerAcct + ":role/fn"), Code: &lambdatypes.FunctionCode{ZipFile: handlerZip(t)},
		})
		if err != nil {
			t.Fatal(err)
		}
		arn := aws.ToString(fn.FunctionArn)
		alice := lambda.NewFromConfig(x.alice)
		getFn := func() error {
			_, err := alice.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(arn)})
			return err
		}
		wantDenied(t, getFn(), x.aliceARN, "lambda:GetFunction", arn, noResource("lambda:GetFunction"))
		if _, err := owner.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("shared-fn"), StatementId: aws.String("other"),
			Action: aws.String("lambda:GetFunction"), Principal: aws.String(otherAcct)}); err != nil {
			t.Fatal(err)
		}
		if err := getFn(); err != nil {
			t.Fatalf("allowed cross-account GetFunction: %v", err)
		}
	})
}

func handlerZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("index.py")
	io.WriteString(w, "def handler(event, context):\n    return event\n")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
