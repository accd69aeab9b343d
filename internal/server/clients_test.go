package server_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/overcast-dev/overcast/internal/awstest"
)

// clientEnv is the environment for external AWS clients: static test
// credentials, no user configuration.
func clientEnv(t *testing.T, accessKey, secretKey string) []string {
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+home,
		"AWS_ACCESS_KEY_ID="+accessKey,
		"AWS_SECRET_ACCESS_KEY="+secretKey,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+home+"/config",
		"AWS_SHARED_CREDENTIALS_FILE="+home+"/credentials",
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

type cli struct {
	name string
	path string
}

// clis returns the AWS CLIs on this machine: the pip-installed v1 on PATH and
// Debian's v2 in /usr/bin.
func clis(t *testing.T) []cli {
	var out []cli
	seen := map[string]bool{}
	if p, err := exec.LookPath("aws"); err == nil {
		out = append(out, cli{"aws (PATH)", p})
		seen[p] = true
	}
	if _, err := os.Stat("/usr/bin/aws"); err == nil && !seen["/usr/bin/aws"] {
		out = append(out, cli{"aws (/usr/bin)", "/usr/bin/aws"})
	}
	if len(out) == 0 {
		t.Skip("no AWS CLI installed (make test-deps installs one)")
	}
	return out
}

func TestCLIGetCallerIdentity(t *testing.T) {
	srv := awstest.Start(t)
	for _, c := range clis(t) {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(c.path, "--endpoint-url", srv.URL(), "--output", "json", "sts", "get-caller-identity")
			cmd.Env = clientEnv(t, "test", "test")
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
	for _, c := range clis(t) {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(c.path, "--endpoint-url", srv.URL(), "sts", "get-caller-identity")
			cmd.Env = clientEnv(t, "test", "nottherightsecret")
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

type python struct {
	name string
	path string
}

// pythons returns the interpreters that have boto3: the image's (pip boto3)
// and Debian's (python3-boto3).
func pythons(t *testing.T) []python {
	var out []python
	seen := map[string]bool{}
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(p)
		if err != nil || seen[path] {
			continue
		}
		if exec.Command(path, "-c", "import boto3").Run() != nil {
			continue
		}
		seen[path] = true
		out = append(out, python{p, path})
	}
	if len(out) == 0 {
		t.Skip("no python with boto3 (make test-deps installs one)")
	}
	return out
}

const boto3Script = `
import boto3, json, sys
sts = boto3.client("sts", endpoint_url=sys.argv[1])
r = sts.get_caller_identity()
print(json.dumps({"Account": r["Account"], "Arn": r["Arn"], "Version": boto3.__version__}))
`

func TestBoto3GetCallerIdentity(t *testing.T) {
	srv := awstest.Start(t)
	for _, py := range pythons(t) {
		t.Run(py.name, func(t *testing.T) {
			cmd := exec.Command(py.path, "-c", boto3Script, srv.URL())
			cmd.Env = clientEnv(t, "123456789012", "test")
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
