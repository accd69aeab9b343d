package sts_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/server"
)

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// mint asks the local issuer for an ID token.
func mint(t *testing.T, base, sub, aud string, expires int) string {
	t.Helper()
	form := url.Values{"sub": {sub}, "aud": {aud}}
	if expires > 0 {
		form.Set("expires_in", strconvI(expires))
	}
	resp, err := http.PostForm(base+"/_overcast/oidc/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || out.IDToken == "" {
		t.Fatalf("mint: %d %v", resp.StatusCode, err)
	}
	return out.IDToken
}

func strconvI(n int) string { return big.NewInt(int64(n)).String() }

type webIdentity struct {
	srv               *awstest.Server
	fake              *clock.Fake
	issuer, host      string
	providerARN       string
	roleARN, queueURL string
	anon              *sts.Client
}

func setupWebIdentity(t *testing.T) *webIdentity {
	fake := clock.NewFake(time.Now())
	srv := awstest.Start(t, awstest.WithServices("iam", "sts", "sqs"), awstest.WithClock(fake), func(c *server.Config) { c.Auth = "verify"; c.IAM = "strict" })
	ctx := context.Background()
	w := &webIdentity{srv: srv, fake: fake, issuer: srv.URL() + "/_overcast/oidc"}
	w.host = strings.TrimPrefix(w.issuer, "http://")
	ic := iam.NewFromConfig(srv.Config)
	p, err := ic.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(w.issuer), ClientIDList: []string{"sts.amazonaws.com"}})
	if err != nil {
		t.Fatal(err)
	}
	w.providerARN = aws.ToString(p.OpenIDConnectProviderArn)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + w.providerARN + `"},"Action":"sts:AssumeRoleWithWebIdentity",
		"Condition":{"StringEquals":{"` + w.host + `:sub":"system:serviceaccount:prod:app","` + w.host + `:aud":"sts.amazonaws.com"}}}]}`
	r, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("workload"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	w.roleARN = aws.ToString(r.Role.Arn)
	if _, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("workload"), PolicyName: aws.String("send"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	q, err := sqs.NewFromConfig(srv.Config).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")})
	if err != nil {
		t.Fatal(err)
	}
	w.queueURL = aws.ToString(q.QueueUrl)
	cfg := srv.Config.Copy()
	cfg.Credentials = aws.AnonymousCredentials{}
	w.anon = sts.NewFromConfig(cfg)
	return w
}

func TestLocalIssuerDocuments(t *testing.T) {
	w := setupWebIdentity(t)
	var disc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, w.issuer+"/.well-known/openid-configuration", &disc)
	var d2 map[string]any
	getJSON(t, w.issuer+"/.well-known/openid-configuration", &d2)
	if d2["issuer"] != w.issuer || disc.JWKSURI != w.issuer+"/keys" {
		t.Fatalf("discovery %v", d2)
	}
	var set struct {
		Keys []struct{ Kty, Alg, Kid, N, E string } `json:"keys"`
	}
	getJSON(t, disc.JWKSURI, &set)
	if len(set.Keys) != 1 || set.Keys[0].Kty != "RSA" || set.Keys[0].Alg != "RS256" {
		t.Fatalf("jwks %+v", set)
	}
	// A minted token verifies with the published key.
	tok := mint(t, w.srv.URL(), "someone", "my-app", 0)
	parts := strings.Split(tok, ".")
	n, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	e, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if err := verifyRS256(pub, parts); err != nil {
		t.Errorf("token does not verify with the JWKS: %v", err)
	}
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	json.Unmarshal(claims, &c)
	if c["iss"] != w.issuer || c["sub"] != "someone" || c["aud"] != "my-app" {
		t.Errorf("claims %v", c)
	}
	resp, err := http.PostForm(w.srv.URL()+"/_overcast/oidc/token", url.Values{"aud": {"x"}})
	if err != nil || resp.StatusCode != 400 {
		t.Errorf("token without sub: %v %v", resp.StatusCode, err)
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	w := setupWebIdentity(t)
	ctx := context.Background()
	assume := func(tok string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return w.anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(w.roleARN), RoleSessionName: aws.String("pod-1"), WebIdentityToken: aws.String(tok), DurationSeconds: aws.Int32(900)})
	}
	tok := mint(t, w.srv.URL(), "system:serviceaccount:prod:app", "sts.amazonaws.com", 3600)
	out, err := assume(tok)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SubjectFromWebIdentityToken) != "system:serviceaccount:prod:app" || aws.ToString(out.Provider) != w.issuer || aws.ToString(out.Audience) != "sts.amazonaws.com" ||
		aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::000000000000:assumed-role/workload/pod-1" {
		t.Errorf("output %+v %+v", out, out.AssumedRoleUser)
	}
	cr := out.Credentials
	cfg := w.srv.Config.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:sts::000000000000:assumed-role/workload/pod-1" {
		t.Fatalf("caller %+v %v", id, err)
	}
	sq := sqs.NewFromConfig(cfg)
	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(w.queueURL), MessageBody: aws.String("job")}); err != nil {
		t.Errorf("the role may send: %v", err)
	}
	if _, err := sq.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(w.queueURL)}); code(err) != "AccessDenied" {
		t.Errorf("the role may not delete: %v", err)
	}

	// Refusals.
	other := mint(t, w.srv.URL(), "system:serviceaccount:dev:app", "sts.amazonaws.com", 3600)
	if _, err := assume(other); code(err) != "AccessDenied" || !strings.Contains(err.Error(), "Not authorized to perform sts:AssumeRoleWithWebIdentity") {
		t.Errorf("other subject: %v", err)
	}
	if _, err := assume(mint(t, w.srv.URL(), "system:serviceaccount:prod:app", "someone-else", 3600)); code(err) != "InvalidIdentityToken" || !strings.Contains(err.Error(), "Incorrect token audience") {
		t.Errorf("other audience: %v", err)
	}
	// A payload changed after signing does not verify.
	p := strings.Split(other, ".")
	q := strings.Split(tok, ".")
	if _, err := assume(p[0] + "." + q[1] + "." + p[2]); code(err) != "InvalidIdentityToken" || !strings.Contains(err.Error(), "could not be validated") {
		t.Errorf("tampered token: %v", err)
	}
	if _, err := assume("not-a-jwt"); code(err) != "InvalidIdentityToken" {
		t.Errorf("garbage: %v", err)
	}
	// A token for a provider the account does not trust.
	if _, err := iam.NewFromConfig(w.srv.Config).DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(w.providerARN)}); err != nil {
		t.Fatal(err)
	}
	if _, err := assume(tok); code(err) != "InvalidIdentityToken" || !strings.Contains(err.Error(), "No OpenIDConnect provider found in your account for "+w.issuer) {
		t.Errorf("no provider: %v", err)
	}
	if _, err := iam.NewFromConfig(w.srv.Config).CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(w.issuer), ClientIDList: []string{"sts.amazonaws.com"}}); err != nil {
		t.Fatal(err)
	}
	// An hour later the token has expired, and so have the credentials.
	w.fake.Advance(time.Hour + time.Second)
	if _, err := assume(tok); code(err) != "ExpiredTokenException" {
		t.Errorf("expired token: %v", err)
	}
	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(w.queueURL), MessageBody: aws.String("late")}); code(err) != "ExpiredToken" {
		t.Errorf("expired credentials: %v", err)
	}
}

func TestOIDCProviders(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("iam"))
	ctx := context.Background()
	ic := iam.NewFromConfig(srv.Config)
	thumb := strings.Repeat("a", 40)
	p, err := ic.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://oidc.example.com/id/ABC"), ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{thumb}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(p.OpenIDConnectProviderArn)
	if arn != "arn:aws:iam::000000000000:oidc-provider/oidc.example.com/id/ABC" {
		t.Errorf("arn %s", arn)
	}
	if _, err := ic.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://oidc.example.com/id/ABC")}); code(err) != "EntityAlreadyExists" {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := ic.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://x.example.com"), ThumbprintList: []string{"short"}}); code(err) != "ValidationError" {
		t.Errorf("bad thumbprint: %v", err)
	}
	if _, err := ic.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	g, err := ic.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	if err != nil || aws.ToString(g.Url) != "oidc.example.com/id/ABC" || len(g.ClientIDList) != 2 || len(g.ThumbprintList) != 1 || g.CreateDate == nil {
		t.Fatalf("get %+v %v", g, err)
	}
	l, err := ic.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil || len(l.OpenIDConnectProviderList) != 1 || aws.ToString(l.OpenIDConnectProviderList[0].Arn) != arn {
		t.Fatalf("list %+v %v", l, err)
	}
	if _, err := ic.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)}); code(err) != "NoSuchEntity" {
		t.Errorf("deleted: %v", err)
	}
}

const boto3WebIdentity = `
import boto3, sys, os, json
url, role, tok = sys.argv[1], sys.argv[2], sys.argv[3]
sts = boto3.client("sts", endpoint_url=url)
out = sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="py", WebIdentityToken=tok)
c = out["Credentials"]
who = boto3.client("sts", endpoint_url=url, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"]).get_caller_identity()["Arn"]
res = {"explicit": who}
if os.environ.get("AWS_ENDPOINT_URL"):
    # The default credential chain: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE.
    res["chain"] = boto3.Session().client("sts").get_caller_identity()["Arn"]
print(json.dumps(res))
`

func TestWebIdentityBoto3AndCLI(t *testing.T) {
	w := setupWebIdentity(t)
	tok := mint(t, w.srv.URL(), "system:serviceaccount:prod:app", "sts.amazonaws.com", 3600)
	tokFile := t.TempDir() + "/token"
	if err := os.WriteFile(tokFile, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(t *testing.T, chain bool) []string {
		var out []string
		for _, kv := range awstest.ClientEnv(t, "unused", "unused") {
			if !strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") && !strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") {
				out = append(out, kv)
			}
		}
		if chain {
			out = append(out, "AWS_ENDPOINT_URL="+w.srv.URL(), "AWS_ROLE_ARN="+w.roleARN, "AWS_WEB_IDENTITY_TOKEN_FILE="+tokFile, "AWS_ROLE_SESSION_NAME=chain")
		}
		return out
	}
	for _, py := range awstest.Pythons(t) {
		t.Run(py.Name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(py.Path, "-c", boto3WebIdentity, w.srv.URL(), w.roleARN, tok)
			cmd.Env = env(t, py.Name == "boto3-path")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			var res map[string]string
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if res["explicit"] != "arn:aws:sts::000000000000:assumed-role/workload/py" {
				t.Errorf("explicit: %v", res)
			}
			if py.Name == "boto3-path" && res["chain"] != "arn:aws:sts::000000000000:assumed-role/workload/chain" {
				t.Errorf("credential chain: %v", res)
			}
		})
	}
	for _, c := range awstest.CLIs(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(c.Path, "--endpoint-url", w.srv.URL(), "--output", "json", "sts", "assume-role-with-web-identity",
				"--role-arn", w.roleARN, "--role-session-name", "cli", "--web-identity-token", tok)
			cmd.Env = env(t, false)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "arn:aws:sts::000000000000:assumed-role/workload/cli") || !strings.Contains(string(out), `"SubjectFromWebIdentityToken": "system:serviceaccount:prod:app"`) {
				t.Errorf("%v: %s", err, out)
			}
		})
	}
}
