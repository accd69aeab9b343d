package lambda_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/awstest"
)

const testRole = "arn:aws:iam::000000000000:role/lambda-role"

var (
	goFuncOnce sync.Once
	goFuncZip  []byte
	goFuncErr  error
)

// goFunction returns the zip of testdata/gofunc built as a bootstrap, built
// once per test binary.
func goFunction(t testing.TB) []byte {
	t.Helper()
	goFuncOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gofunc-")
		if err != nil {
			goFuncErr = err
			return
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "bootstrap")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./testdata/gofunc")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			goFuncErr = errors.New("build test function: " + err.Error() + ": " + string(out))
			return
		}
		b, err := os.ReadFile(bin)
		if err != nil {
			goFuncErr = err
			return
		}
		goFuncZip = zipFiles(t, map[string]zipEntry{"bootstrap": {b, 0o755}})
	})
	if goFuncErr != nil {
		t.Fatal(goFuncErr)
	}
	return goFuncZip
}

type zipEntry struct {
	data []byte
	mode os.FileMode
}

func zipFiles(t testing.TB, files map[string]zipEntry) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, f := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(f.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func startServer(t *testing.T) (*awstest.Server, *awslambda.Client) {
	t.Helper()
	srv := awstest.Start(t, awstest.WithServices("lambda"))
	return srv, awslambda.NewFromConfig(srv.Config)
}

// createGo creates a provided.al2023 function running the test bootstrap.
func createGo(t *testing.T, c *awslambda.Client, name string, mod func(*awslambda.CreateFunctionInput)) *awslambda.CreateFunctionOutput {
	t.Helper()
	in := &awslambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Role:         aws.String(testRole),
		Code:         &types.FunctionCode{ZipFile: goFunction(t)},
	}
	if mod != nil {
		mod(in)
	}
	out, err := c.CreateFunction(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateFunction %s: %v", name, err)
	}
	return out
}

// apiError asserts err is an API error with code and returns it.
func apiError(t *testing.T, err error, code string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	return ae
}
