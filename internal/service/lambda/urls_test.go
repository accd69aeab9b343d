package lambda_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestFunctionURLs: the URL config API through the Go SDK, and HTTP
// requests to the URL's own host invoking the function with the payload
// format 2.0 event, its response mapped back to HTTP.
func TestFunctionURLs(t *testing.T) {
	srv, c := startServer(t)
	ctx := context.Background()
	createGo(t, c, "web", nil)
	cr, err := c.CreateFunctionUrlConfig(ctx, &awslambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("web"), AuthType: types.FunctionUrlAuthTypeNone,
		Cors: &types.Cors{AllowOrigins: []string{"*"}}})
	if err != nil {
		t.Fatal(err)
	}
	fu, err := url.Parse(aws.ToString(cr.FunctionUrl))
	if err != nil || !strings.HasSuffix(fu.Hostname(), ".lambda-url.us-east-1.localhost") || fu.Path != "/" ||
		aws.ToString(cr.FunctionArn) != "arn:aws:lambda:us-east-1:000000000000:function:web" || cr.InvokeMode != types.InvokeModeBuffered ||
		cr.Cors == nil || cr.Cors.AllowOrigins[0] != "*" || aws.ToString(cr.CreationTime) == "" {
		t.Fatalf("create: %s %+v", aws.ToString(cr.FunctionUrl), cr)
	}
	_, err = c.CreateFunctionUrlConfig(ctx, &awslambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("web"), AuthType: types.FunctionUrlAuthTypeNone})
	apiError(t, err, "ResourceConflictException")
	_, err = c.CreateFunctionUrlConfig(ctx, &awslambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("nope"), AuthType: types.FunctionUrlAuthTypeNone})
	apiError(t, err, "ResourceNotFoundException")
	_, err = c.GetFunctionUrlConfig(ctx, &awslambda.GetFunctionUrlConfigInput{FunctionName: aws.String("web"), Qualifier: aws.String("live")})
	apiError(t, err, "ResourceNotFoundException")
	got, err := c.GetFunctionUrlConfig(ctx, &awslambda.GetFunctionUrlConfigInput{FunctionName: aws.String("web")})
	if err != nil || aws.ToString(got.FunctionUrl) != aws.ToString(cr.FunctionUrl) || got.AuthType != types.FunctionUrlAuthTypeNone || aws.ToString(got.LastModifiedTime) == "" {
		t.Fatalf("get: %v %+v", err, got)
	}

	// The URL's host, on the server's port.
	base := srv.URL()
	do := func(method, path, body string, hdr map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = fu.Host
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, body := do("POST", "/orders/42?tag=a&tag=b&x=1", `{"item":"book"}`, map[string]string{"Content-Type": "application/json", "Cookie": "session=abc; theme=dark", "X-Trace": "t1"})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var out struct {
		Event events.LambdaFunctionURLRequest `json:"event"`
		Name  string                          `json:"name"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	ev := out.Event
	if ev.Version != "2.0" || ev.RawPath != "/orders/42" || ev.RawQueryString != "tag=a&tag=b&x=1" || ev.QueryStringParameters["tag"] != "a,b" ||
		ev.QueryStringParameters["x"] != "1" || len(ev.Cookies) != 2 || ev.Cookies[0] != "session=abc" || ev.Headers["x-trace"] != "t1" ||
		ev.Headers["cookie"] != "" || ev.Body != `{"item":"book"}` || ev.IsBase64Encoded || ev.RequestContext.HTTP.Method != "POST" ||
		ev.RequestContext.HTTP.Path != "/orders/42" || ev.RequestContext.DomainName != fu.Hostname() || ev.RequestContext.APIID != strings.Split(fu.Hostname(), ".")[0] ||
		ev.RequestContext.RequestID == "" || ev.RequestContext.TimeEpoch == 0 || ev.RequestContext.HTTP.SourceIP != "127.0.0.1" {
		t.Fatalf("event %s", body)
	}
	// A binary body arrives base64-encoded.
	resp, body = do("PUT", "/bin", "\x00\x01", map[string]string{"Content-Type": "application/octet-stream"})
	if json.Unmarshal(body, &out) != nil || !out.Event.IsBase64Encoded || out.Event.Body != "AAE=" {
		t.Fatalf("binary: %d %s", resp.StatusCode, body)
	}
	// A structured response: status, headers, cookies and a base64 body.
	resp, body = do("GET", "/structured", "", nil)
	if resp.StatusCode != 201 || resp.Header.Get("X-Custom") != "yes" || resp.Header.Get("Content-Type") != "application/octet-stream" ||
		len(resp.Header.Values("Set-Cookie")) != 2 || string(body) != "binary\x00ok" {
		t.Fatalf("structured: %d %v %q", resp.StatusCode, resp.Header, body)
	}

	// AWS_IAM: unsigned requests are refused, signed ones pass.
	up, err := c.UpdateFunctionUrlConfig(ctx, &awslambda.UpdateFunctionUrlConfigInput{FunctionName: aws.String("web"), AuthType: types.FunctionUrlAuthTypeAwsIam})
	if err != nil || up.AuthType != types.FunctionUrlAuthTypeAwsIam || aws.ToString(up.FunctionUrl) != aws.ToString(cr.FunctionUrl) {
		t.Fatalf("update: %v %+v", err, up)
	}
	resp, body = do("GET", "/private", "", nil)
	if resp.StatusCode != 403 || !strings.Contains(string(body), "Forbidden") {
		t.Fatalf("unsigned: %d %s", resp.StatusCode, body)
	}
	creds, err := srv.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", base+"/private", nil)
	req.Host = fu.Host
	empty := sha256.Sum256(nil)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(empty[:]), "lambda", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	sresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(sresp.Body)
	sresp.Body.Close()
	if sresp.StatusCode != 200 || json.Unmarshal(body, &out) != nil || out.Event.RequestContext.Authorizer == nil ||
		out.Event.RequestContext.Authorizer.IAM.AccessKey != creds.AccessKeyID || out.Event.RequestContext.AccountID != "000000000000" {
		t.Fatalf("signed: %d %s", sresp.StatusCode, body)
	}

	list, err := c.ListFunctionUrlConfigs(ctx, &awslambda.ListFunctionUrlConfigsInput{FunctionName: aws.String("web")})
	if err != nil || len(list.FunctionUrlConfigs) != 1 {
		t.Fatalf("list: %v", err)
	}
	if _, err := c.DeleteFunctionUrlConfig(ctx, &awslambda.DeleteFunctionUrlConfigInput{FunctionName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	resp, _ = do("GET", "/", "", nil)
	if resp.StatusCode != 404 {
		t.Fatalf("deleted URL answered %d", resp.StatusCode)
	}
	_, err = c.DeleteFunctionUrlConfig(ctx, &awslambda.DeleteFunctionUrlConfigInput{FunctionName: aws.String("web")})
	apiError(t, err, "ResourceNotFoundException")
}
