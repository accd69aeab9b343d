package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/awstest"
)

func TestGetCallerIdentitySDK(t *testing.T) {
	srv := awstest.Start(t)
	out, err := sts.NewFromConfig(srv.Config).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Account); got != "000000000000" {
		t.Errorf("Account = %q", got)
	}
	if got := aws.ToString(out.Arn); got != "arn:aws:iam::000000000000:root" {
		t.Errorf("Arn = %q", got)
	}
}

func TestAccountFromAccessKey(t *testing.T) {
	srv := awstest.Start(t)
	cfg := awstest.Config(srv.URL(), "123456789012", "whatever")
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Account); got != "123456789012" {
		t.Errorf("Account = %q", got)
	}
}

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae.ErrorCode()
}

func TestVerifyRejectsWrongSecret(t *testing.T) {
	srv := awstest.Start(t, awstest.WithVerify())
	good := sts.NewFromConfig(srv.Config)
	if _, err := good.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("right secret refused: %v", err)
	}
	bad := sts.NewFromConfig(awstest.Config(srv.URL(), "test", "wrong"))
	_, err := bad.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if code := apiCode(t, err); code != "SignatureDoesNotMatch" {
		t.Errorf("code = %s", code)
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != 403 {
		t.Errorf("status = %d", re.HTTPStatusCode())
	}
	unknown := sts.NewFromConfig(awstest.Config(srv.URL(), "AKIANOTAKEY000000000", "x"))
	_, err = unknown.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if code := apiCode(t, err); code != "InvalidClientTokenId" {
		t.Errorf("unknown key code = %s", code)
	}
}

func TestUnsignedRefusedWhenVerifying(t *testing.T) {
	srv := awstest.Start(t, awstest.WithVerify())
	resp, err := http.Post(srv.URL(), "application/x-www-form-urlencoded", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !bytes.Contains(body, []byte("<Code>MissingAuthenticationToken</Code>")) {
		t.Errorf("status %d body %s", resp.StatusCode, body)
	}
}

func TestHealth(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("sts", "s3"))
	for _, path := range []string{"/_overcast/health", "/_localstack/health"} {
		resp, err := http.Get(srv.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Services map[string]any `json:"services"`
		}
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: status %d err %v", path, resp.StatusCode, err)
		}
		if _, ok := v.Services["sts"]; !ok {
			t.Errorf("%s: sts missing from %v", path, v.Services)
		}
		if _, ok := v.Services["sqs"]; ok {
			t.Errorf("%s: sqs should not run with --services=sts,s3", path)
		}
	}
}
