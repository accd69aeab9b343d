package server_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/overcast-dev/overcast/internal/awstest"
)

func TestCLIGetCallerIdentity(t *testing.T) {
	srv := awstest.Start(t)
	for _, c := range awstest.CLIs(t) {
		t.Run(c.Name, func(t *testing.T) {
			cmd := exec.Command(c.Path, "--endpoint-url", srv.URL(), "--output", "json", "sts", "get-caller-identity")
			cmd.Env = awstest.ClientEnv(t, "test", "test")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			var v struct{ Account, Arn, UserId string }
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("output %s: %v", out, err)
			}
			if v.Account != "000000000000" || v.Arn != "arn:aws:iam::000000000000:root" {
				t.Errorf("got %+v", v)
			}
		})
	}
}

func TestCLIWrongSecretRefused(t *testing.T) {
	srv := awstest.Start(t, awstest.WithVerify())
	for _, c := range awstest.CLIs(t) {
		t.Run(c.Name, func(t *testing.T) {
			cmd := exec.Command(c.Path, "--endpoint-url", srv.URL(), "sts", "get-caller-identity")
			cmd.Env = awstest.ClientEnv(t, "test", "nottherightsecret")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("wrong secret accepted: %s", out)
			}
			if !strings.Contains(string(out), "SignatureDoesNotMatch") {
				t.Errorf("output does not name SignatureDoesNotMatch: %s", out)
			}
		})
	}
}

const boto3Script = `
import boto3, json, sys
sts = boto3.client("sts", endpoint_url=sys.argv[1])
r = sts.get_caller_identity()
print(json.dumps({"Account": r["Account"], "Arn": r["Arn"], "Version": boto3.__version__}))
`

func TestBoto3GetCallerIdentity(t *testing.T) {
	srv := awstest.Start(t)
	for _, py := range awstest.Pythons(t) {
		t.Run(py.Name, func(t *testing.T) {
			cmd := exec.Command(py.Path, "-c", boto3Script, srv.URL())
			cmd.Env = awstest.ClientEnv(t, "123456789012", "test")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			var v struct{ Account, Arn, Version string }
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("output %s: %v", out, err)
			}
			if v.Account != "123456789012" || v.Arn != "arn:aws:iam::123456789012:root" {
				t.Errorf("boto3 %s got %+v", v.Version, v)
			}
		})
	}
}
