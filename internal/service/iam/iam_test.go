package iam_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/awstest"
)

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an API error, got %v", err)
	}
	return ae.ErrorCode()
}

const s3ReadDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/public/*"}]}`

func TestUsersGroupsPolicies(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("iam"))
	c := iam.NewFromConfig(srv.Config)
	ctx := context.Background()

	u, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/dev/"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(u.User.Arn); got != "arn:aws:iam::000000000000:user/dev/alice" {
		t.Errorf("arn %s", got)
	}
	if !strings.HasPrefix(aws.ToString(u.User.UserId), "AIDA") {
		t.Errorf("user id %s", aws.ToString(u.User.UserId))
	}
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ALICE")}); apiCode(t, err) != "EntityAlreadyExists" {
		t.Errorf("duplicate (case-insensitive) user: %v", err)
	}
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad name")}); apiCode(t, err) != "ValidationError" {
		t.Errorf("bad name: %v", err)
	}
	if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")}); apiCode(t, err) != "NoSuchEntity" {
		t.Errorf("missing user: %v", err)
	} else if !strings.Contains(err.Error(), "The user with name nobody cannot be found.") {
		t.Errorf("message: %v", err)
	}

	// Groups and membership.
	if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	g, err := c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("devs")})
	if err != nil || len(g.Users) != 1 || aws.ToString(g.Users[0].UserName) != "alice" {
		t.Fatalf("group users %+v %v", g, err)
	}
	if _, err := c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("devs")}); apiCode(t, err) != "DeleteConflict" {
		t.Errorf("delete non-empty group: %v", err)
	}

	// Managed policies, versions, attachment.
	if _, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("bad"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}`)}); apiCode(t, err) != "MalformedPolicyDocument" {
		t.Errorf("policy without resource: %v", err)
	} else if !strings.Contains(err.Error(), "Policy statement must contain resources.") {
		t.Errorf("message: %v", err)
	}
	if _, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("bad"), PolicyDocument: aws.String(`{"Version":"2012-10-17",`)}); apiCode(t, err) != "MalformedPolicyDocument" {
		t.Errorf("bad json: %v", err)
	}
	p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read"), PolicyDocument: aws.String(s3ReadDoc)})
	if err != nil {
		t.Fatal(err)
	}
	arn := p.Policy.Arn
	for i := 0; i < 4; i++ {
		if _, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(s3ReadDoc), SetAsDefault: i == 3}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(s3ReadDoc)}); apiCode(t, err) != "LimitExceeded" {
		t.Errorf("sixth version: %v", err)
	}
	if _, err := c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v5")}); apiCode(t, err) != "DeleteConflict" {
		t.Errorf("delete default version: %v", err)
	}
	pv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v5")})
	if err != nil || !aws.ToBool(&pv.PolicyVersion.IsDefaultVersion) {
		t.Fatalf("v5 %+v %v", pv, err)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(pv.PolicyVersion.Document)); doc != s3ReadDoc {
		t.Errorf("document %q", doc)
	}
	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	ents, err := c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: arn})
	if err != nil || len(ents.PolicyUsers) != 1 || len(ents.PolicyGroups) != 0 {
		t.Fatalf("entities %+v %v", ents, err)
	}
	if _, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn}); apiCode(t, err) != "DeleteConflict" {
		t.Errorf("delete attached policy: %v", err)
	}
	gp, _ := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: arn})
	if aws.ToInt32(gp.Policy.AttachmentCount) != 1 {
		t.Errorf("attachment count %d", aws.ToInt32(gp.Policy.AttachmentCount))
	}

	// Inline policies.
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(s3ReadDoc)}); err != nil {
		t.Fatal(err)
	}
	ip, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("inline")})
	if err != nil {
		t.Fatal(err)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(ip.PolicyDocument)); doc != s3ReadDoc {
		t.Errorf("inline document %q", doc)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("p2"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`)}); apiCode(t, err) != "MalformedPolicyDocument" {
		t.Errorf("principal in identity policy: %v", err)
	}

	// Access keys.
	k1, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil || !strings.HasPrefix(aws.ToString(k1.AccessKey.AccessKeyId), "AKIA") || len(aws.ToString(k1.AccessKey.SecretAccessKey)) != 40 {
		t.Fatalf("key %+v %v", k1, err)
	}
	if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}); apiCode(t, err) != "LimitExceeded" {
		t.Errorf("third key: %v", err)
	}
	if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k1.AccessKey.AccessKeyId, Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	keys, _ := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	if len(keys.AccessKeyMetadata) != 2 {
		t.Errorf("keys %+v", keys.AccessKeyMetadata)
	}
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}); apiCode(t, err) != "DeleteConflict" {
		t.Errorf("delete user with keys: %v", err)
	}

	// Pagination.
	for _, n := range []string{"b1", "b2", "b3"} {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	pager := iam.NewListUsersPaginator(c, &iam.ListUsersInput{MaxItems: aws.Int32(2)})
	pages := 0
	for pager.HasMorePages() {
		out, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.UserName))
		}
	}
	if pages != 2 || strings.Join(names, ",") != "alice,b1,b2,b3" {
		t.Errorf("pages %d names %v", pages, names)
	}
}

func TestRolesAndInstanceProfiles(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("iam"))
	c := iam.NewFromConfig(srv.Config)
	ctx := context.Background()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`)}); apiCode(t, err) != "MalformedPolicyDocument" {
		t.Errorf("trust without principal: %v", err)
	}
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(60)}); apiCode(t, err) != "ValidationError" {
		t.Errorf("short max session: %v", err)
	}
	r, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(7200),
		PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(r.Role.RoleId), "AROA") || aws.ToString(r.Role.Arn) != "arn:aws:iam::000000000000:role/r" {
		t.Errorf("role %+v", r.Role)
	}
	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
	if err != nil || aws.ToInt32(got.Role.MaxSessionDuration) != 7200 || got.Role.PermissionsBoundary == nil || len(got.Role.Tags) != 1 {
		t.Fatalf("get role %+v %v", got, err)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument)); doc != trust {
		t.Errorf("trust %q", doc)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"), PolicyDocument: aws.String(s3ReadDoc)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("r")}); err != nil {
		t.Fatal(err)
	}
	ipr, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("ip")})
	if err != nil || len(ipr.InstanceProfile.Roles) != 1 {
		t.Fatalf("profile %+v %v", ipr, err)
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")}); apiCode(t, err) != "DeleteConflict" {
		t.Errorf("delete role in profile: %v", err)
	}
	if _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")}); apiCode(t, err) != "NoSuchEntity" {
		t.Errorf("missing role: %v", err)
	}
}

func TestStatePersists(t *testing.T) {
	dir := t.TempDir()
	t.Run("first", func(t *testing.T) {
		srv := awstest.Start(t, awstest.WithServices("iam"), awstest.WithDataDir(dir))
		c := iam.NewFromConfig(srv.Config)
		if _, err := c.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String("kept")}); err != nil {
			t.Fatal(err)
		}
	})
	srv := awstest.Start(t, awstest.WithServices("iam"), awstest.WithDataDir(dir))
	c := iam.NewFromConfig(srv.Config)
	if _, err := c.GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String("kept")}); err != nil {
		t.Fatalf("user lost across restart: %v", err)
	}
}
