package lambda_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/overcast-dev/overcast/internal/awstest"
)

const pyHandler = `import json, os, logging

def handler(event, context):
    print("python says", event.get("who"))
    if event.get("fail"):
        raise ValueError("bad input")
    return {"hello": event.get("who"), "fn": context.function_name, "left": context.get_remaining_time_in_millis() > 0,
            "region": os.environ["AWS_REGION"]}
`

func createPython(t *testing.T, c *awslambda.Client, name, handler string, files map[string]zipEntry) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	_, err := c.CreateFunction(context.Background(), &awslambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.RuntimePython312, Handler: aws.String(handler),
		Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: zipFiles(t, files)},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPythonFunction(t *testing.T) {
	srv, c := startServer(t)
	createPython(t, c, "py", "app.handler", map[string]zipEntry{"app.py": {[]byte(pyHandler), 0o644}})

	// aws-sdk-go-v2: a result and an error.
	out := invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("py"), Payload: []byte(`{"who":"go"}`), LogType: types.LogTypeTail})
	var res map[string]any
	if err := json.Unmarshal(out.Payload, &res); err != nil || res["hello"] != "go" || res["fn"] != "py" || res["left"] != true || res["region"] != "us-east-1" {
		t.Fatalf("python result %s (%v)", out.Payload, err)
	}
	out = invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("py"), Payload: []byte(`{"fail":true}`)})
	var doc map[string]any
	json.Unmarshal(out.Payload, &doc)
	if aws.ToString(out.FunctionError) != "Unhandled" || doc["errorType"] != "ValueError" || doc["errorMessage"] != "bad input" {
		t.Fatalf("python error: %s", out.Payload)
	}
	if st, ok := doc["stackTrace"].([]any); !ok || len(st) == 0 {
		t.Fatalf("python error has no stack trace: %s", out.Payload)
	}

	// A module that does not import.
	createPython(t, c, "pybad", "missing.handler", map[string]zipEntry{"app.py": {[]byte(pyHandler), 0o644}})
	out = invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("pybad")})
	json.Unmarshal(out.Payload, &doc)
	if aws.ToString(out.FunctionError) != "Unhandled" || doc["errorType"] != "Runtime.ImportModuleError" {
		t.Fatalf("import error: %s", out.Payload)
	}

	// boto3.
	for _, py := range awstest.Pythons(t) {
		t.Run(py.Name, func(t *testing.T) {
			script := `import boto3, json, sys
c = boto3.client("lambda", endpoint_url=sys.argv[1])
r = c.invoke(FunctionName="py", Payload=json.dumps({"who": "boto3"}), LogType="Tail")
print(json.dumps({"status": r["StatusCode"], "payload": json.loads(r["Payload"].read()), "log": r.get("LogResult", "")}))
`
			cmd := exec.Command(py.Path, "-c", script, srv.URL())
			cmd.Env = awstest.ClientEnv(t, "test", "test")
			b, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, b)
			}
			var got struct {
				Status  int            `json:"status"`
				Payload map[string]any `json:"payload"`
				Log     string         `json:"log"`
			}
			if err := json.Unmarshal(b, &got); err != nil || got.Status != 200 || got.Payload["hello"] != "boto3" || got.Log == "" {
				t.Fatalf("boto3 got %s", b)
			}
		})
	}

	// The AWS CLI.
	for _, cli := range awstest.CLIs(t) {
		t.Run(cli.Name, func(t *testing.T) {
			outFile := filepath.Join(t.TempDir(), "out.json")
			args := []string{"--endpoint-url", srv.URL(), "lambda", "invoke", "--function-name", "py", "--payload", `{"who":"cli"}`}
			if ver, _ := exec.Command(cli.Path, "--version").CombinedOutput(); strings.HasPrefix(string(ver), "aws-cli/2") {
				args = append(args, "--cli-binary-format", "raw-in-base64-out")
			}
			cmd := exec.Command(cli.Path, append(args, outFile)...)
			cmd.Env = awstest.ClientEnv(t, "test", "test")
			b, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, b)
			}
			var meta map[string]any
			if json.Unmarshal(b, &meta) != nil || meta["StatusCode"] != float64(200) || meta["ExecutedVersion"] != "$LATEST" {
				t.Fatalf("cli output %s", b)
			}
			p, _ := os.ReadFile(outFile)
			if err := json.Unmarshal(p, &meta); err != nil || meta["hello"] != "cli" {
				t.Fatalf("cli payload %s", p)
			}
		})
	}
}

func TestNodeFunction(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node")
	}
	_, c := startServer(t)
	src := `exports.handler = async (event, context) => {
  console.log("node says", event.who);
  if (event.fail) throw new TypeError("nope");
  return { hello: event.who, fn: context.functionName };
};`
	_, err := c.CreateFunction(context.Background(), &awslambda.CreateFunctionInput{
		FunctionName: aws.String("nodefn"), Runtime: types.RuntimeNodejs20x, Handler: aws.String("index.handler"),
		Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: zipFiles(t, map[string]zipEntry{"index.js": {[]byte(src), 0o644}})},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("nodefn"), Payload: []byte(`{"who":"node"}`)})
	var res map[string]any
	if json.Unmarshal(out.Payload, &res) != nil || res["hello"] != "node" || res["fn"] != "nodefn" {
		t.Fatalf("node result %s", out.Payload)
	}
	out = invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("nodefn"), Payload: []byte(`{"fail":true}`)})
	json.Unmarshal(out.Payload, &res)
	if aws.ToString(out.FunctionError) != "Unhandled" || res["errorType"] != "TypeError" || res["errorMessage"] != "nope" {
		t.Fatalf("node error %s", out.Payload)
	}
}

func TestUnsupportedRuntime(t *testing.T) {
	_, c := startServer(t)
	_, err := c.CreateFunction(context.Background(), &awslambda.CreateFunctionInput{
		FunctionName: aws.String("javafn"), Runtime: types.RuntimeJava21, Handler: aws.String("a.B::handle"),
		Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: zipFiles(t, map[string]zipEntry{"a.class": {[]byte("x"), 0o644}})},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String("javafn")})
	apiError(t, err, "InvalidRuntimeException")
}
