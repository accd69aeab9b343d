package awstest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// ClientEnv is the environment for external AWS clients (the AWS CLI,
// boto3): static credentials, region us-east-1, a fresh HOME, no user
// configuration and no instance metadata look-ups.
func ClientEnv(t testing.TB, accessKey, secretKey string) []string {
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

// Tool is an external client: an AWS CLI or a Python interpreter with boto3.
type Tool struct {
	// Name describes it in subtest names.
	Name string
	// Path is the executable.
	Path string
}

// CLIs returns the AWS CLIs on this machine: the pip-installed v1 found on
// PATH and Debian's v2 in /usr/bin (which speaks the query protocol to SQS).
// It skips the test when there is none.
func CLIs(t testing.TB) []Tool {
	var out []Tool
	seen := map[string]bool{}
	if p, err := exec.LookPath("aws"); err == nil {
		out = append(out, Tool{"cli-path", p})
		seen[p] = true
	}
	if _, err := os.Stat("/usr/bin/aws"); err == nil && !seen["/usr/bin/aws"] {
		out = append(out, Tool{"cli-debian", "/usr/bin/aws"})
	}
	if len(out) == 0 {
		t.Skip("no AWS CLI installed (make test-deps installs one)")
	}
	return out
}

// Pythons returns the Python interpreters that have boto3: the one on PATH
// (pip's current boto3) and Debian's /usr/bin/python3 (python3-boto3, which
// speaks the query protocol to SQS). It skips the test when there is none.
func Pythons(t testing.TB) []Tool {
	var out []Tool
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
		name := "boto3-path"
		if path == "/usr/bin/python3" {
			name = "boto3-debian"
		}
		out = append(out, Tool{name, path})
	}
	if len(out) == 0 {
		t.Skip("no python with boto3 (make test-deps installs one)")
	}
	return out
}
