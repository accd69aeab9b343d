package iam_test

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/clock"
)

func TestLoginProfiles(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("iam"))
	c := iam.NewFromConfig(srv.Config)
	ctx := context.Background()
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ann")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("ann")}); apiCode(t, err) != "NoSuchEntity" || !strings.Contains(err.Error(), "Login Profile for User ann cannot be found.") {
		t.Errorf("no profile: %v", err)
	}
	if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("ann"), Password: aws.String("short")}); apiCode(t, err) != "PasswordPolicyViolation" {
		t.Errorf("weak password: %v", err)
	}
	out, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("ann"), Password: aws.String("Correct-Horse-1"), PasswordResetRequired: true})
	if err != nil || aws.ToString(out.LoginProfile.UserName) != "ann" || !out.LoginProfile.PasswordResetRequired || out.LoginProfile.CreateDate == nil {
		t.Fatalf("create %+v %v", out, err)
	}
	if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("ann"), Password: aws.String("Correct-Horse-2")}); apiCode(t, err) != "EntityAlreadyExists" {
		t.Errorf("second profile: %v", err)
	}
	if _, err := c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("ann"), Password: aws.String("Another-Horse-3"), PasswordResetRequired: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	g, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("ann")})
	if err != nil || g.LoginProfile.PasswordResetRequired {
		t.Errorf("get %+v %v", g, err)
	}
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("ann")}); apiCode(t, err) != "DeleteConflict" {
		t.Errorf("delete user with a login profile: %v", err)
	}
	if _, err := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("ann")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("ann")}); apiCode(t, err) != "NoSuchEntity" {
		t.Errorf("second delete: %v", err)
	}
	if _, err := c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("nobody")}); apiCode(t, err) != "NoSuchEntity" {
		t.Errorf("update for a missing user: %v", err)
	}
}

func TestCredentialReport(t *testing.T) {
	fake := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	srv := awstest.Start(t, awstest.WithServices("iam"), awstest.WithClock(fake))
	c := iam.NewFromConfig(srv.Config)
	ctx := context.Background()
	if _, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}); apiCode(t, err) != "ReportNotPresent" {
		t.Errorf("before generation: %v", err)
	}
	for _, u := range []string{"bob", "amy"} {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("amy"), Password: aws.String("Correct-Horse-1")}); err != nil {
		t.Fatal(err)
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k.AccessKey.AccessKeyId, Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	gen, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil || gen.State != types.ReportStateTypeStarted {
		t.Fatalf("generate %+v %v", gen, err)
	}
	if gen, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}); err != nil || gen.State != types.ReportStateTypeComplete {
		t.Errorf("generate again %+v %v", gen, err)
	}
	rep, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ReportFormat != types.ReportFormatTypeTextCsv || !rep.GeneratedTime.Equal(fake.Now()) {
		t.Errorf("report %s %v", rep.ReportFormat, rep.GeneratedTime)
	}
	rows, err := csv.NewReader(strings.NewReader(string(rep.Content))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated" {
		t.Fatalf("rows %q", rows)
	}
	if rows[1][0] != "<root_account>" || rows[1][1] != "arn:aws:iam::000000000000:root" || rows[1][3] != "not_supported" {
		t.Errorf("root row %q", rows[1])
	}
	created := "2026-03-01T12:00:00+00:00"
	amy := []string{"amy", "arn:aws:iam::000000000000:user/amy", created, "true", "no_information", created, "N/A", "false", "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"}
	bob := []string{"bob", "arn:aws:iam::000000000000:user/bob", created, "false", "N/A", "N/A", "N/A", "false", "false", created, "N/A", "N/A", "N/A", "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"}
	if strings.Join(rows[2], ",") != strings.Join(amy, ",") || strings.Join(rows[3], ",") != strings.Join(bob, ",") {
		t.Errorf("user rows\n%q\n%q", rows[2], rows[3])
	}
	fake.Advance(5 * time.Hour)
	if _, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}); apiCode(t, err) != "ReportExpired" {
		t.Errorf("old report: %v", err)
	}
}

func TestAccountViews(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("iam"))
	c := iam.NewFromConfig(srv.Config)
	ctx := context.Background()
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("g1"), UserName: aws.String("u1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u1"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(s3ReadDoc)}); err != nil {
		t.Fatal(err)
	}
	p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("local"), PolicyDocument: aws.String(s3ReadDoc)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("unused"), PolicyDocument: aws.String(s3ReadDoc)}); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r1"), AssumeRolePolicyDocument: aws.String(trust), PermissionsBoundary: p.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r1"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u1"), PolicyArn: p.Policy.Arn}); err != nil {
		t.Fatal(err)
	}

	d, err := c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.UserDetailList) != 1 || len(d.GroupDetailList) != 1 || len(d.RoleDetailList) != 1 || len(d.Policies) != 3 {
		t.Fatalf("details: %d users %d groups %d roles %d policies", len(d.UserDetailList), len(d.GroupDetailList), len(d.RoleDetailList), len(d.Policies))
	}
	u := d.UserDetailList[0]
	if len(u.GroupList) != 1 || u.GroupList[0] != "g1" || len(u.UserPolicyList) != 1 || aws.ToString(u.UserPolicyList[0].PolicyName) != "inline" ||
		len(u.AttachedManagedPolicies) != 1 || aws.ToString(u.AttachedManagedPolicies[0].PolicyArn) != aws.ToString(p.Policy.Arn) {
		t.Errorf("user detail %+v", u)
	}
	if r := d.RoleDetailList[0]; aws.ToString(r.AssumeRolePolicyDocument) == "" || r.PermissionsBoundary == nil || len(r.AttachedManagedPolicies) != 1 {
		t.Errorf("role detail %+v", r)
	}
	for _, pd := range d.Policies {
		if len(pd.PolicyVersionList) == 0 || !pd.PolicyVersionList[0].IsDefaultVersion {
			t.Errorf("policy detail %+v", pd)
		}
	}
	// Filtered and paged.
	only, err := c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{types.EntityTypeRole}})
	if err != nil || len(only.RoleDetailList) != 1 || len(only.UserDetailList)+len(only.Policies) != 0 {
		t.Errorf("role filter %+v %v", only, err)
	}
	pg, err := c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(2)})
	if err != nil || !pg.IsTruncated || len(pg.UserDetailList)+len(pg.GroupDetailList) != 2 {
		t.Errorf("page %+v %v", pg, err)
	}

	sum, err := c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.SummaryMap["Users"] != 1 || sum.SummaryMap["Groups"] != 1 || sum.SummaryMap["Roles"] != 1 || sum.SummaryMap["Policies"] != 2 || sum.SummaryMap["UsersQuota"] != 5000 {
		t.Errorf("summary %v", sum.SummaryMap)
	}

	names := func(in *iam.ListPoliciesInput) []string {
		out, err := c.ListPolicies(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		var l []string
		for _, p := range out.Policies {
			l = append(l, aws.ToString(p.PolicyName))
		}
		return l
	}
	if got := names(&iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal}); strings.Join(got, ",") != "local,unused" {
		t.Errorf("local: %v", got)
	}
	if got := names(&iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, OnlyAttached: true}); strings.Join(got, ",") != "ReadOnlyAccess" {
		t.Errorf("attached AWS: %v", got)
	}
	if got := names(&iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal, OnlyAttached: true, PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}); strings.Join(got, ",") != "local" {
		t.Errorf("boundaries: %v", got)
	}
	if _, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: "Everything"}); apiCode(t, err) != "ValidationError" {
		t.Errorf("bad scope: %v", err)
	}
}
