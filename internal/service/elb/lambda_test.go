package elb_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/overcast-dev/overcast/internal/awstest"
)

var (
	albFuncOnce sync.Once
	albFuncZip  []byte
	albFuncErr  error
)

// albFunction returns the zip of testdata/albfunc built as a bootstrap,
// built once per test binary.
func albFunction(t testing.TB) []byte {
	t.Helper()
	albFuncOnce.Do(func() {
		dir, err := os.MkdirTemp("", "albfunc-")
		if err != nil {
			albFuncErr = err
			return
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "bootstrap")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./testdata/albfunc")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			albFuncErr = errors.New("build test function: " + err.Error() + ": " + string(out))
			return
		}
		b, err := os.ReadFile(bin)
		if err != nil {
			albFuncErr = err
			return
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
		h.SetMode(0o755)
		w, _ := zw.CreateHeader(h)
		w.Write(b)
		if albFuncErr = zw.Close(); albFuncErr == nil {
			albFuncZip = buf.Bytes()
		}
	})
	if albFuncErr != nil {
		t.Fatal(albFuncErr)
	}
	return albFuncZip
}

// albCall sends a request to the load balancer through the edge port.
func albCall(t *testing.T, srv *awstest.Server, host, method, path, ctype string, body []byte, hdr http.Header) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func TestLambdaTargets(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("elasticloadbalancing", "lambda"))
	ctx := context.Background()
	lc := awslambda.NewFromConfig(srv.Config)
	ec := elbv2.NewFromConfig(srv.Config)

	fn, err := lc.CreateFunction(ctx, &awslambda.CreateFunctionInput{
		FunctionName: aws.String("albfn"),
		Runtime:      ltypes.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Role:         aws.String("arn:aws:iam::000000000000:role/lambda-role"),
		Code:         &ltypes.FunctionCode{ZipFile: albFunction(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
	fnARN := aws.ToString(fn.FunctionArn)
	eventually(t, "function active", func() bool {
		g, err := lc.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("albfn")})
		return err == nil && g.Configuration.State == ltypes.StateActive
	})

	// AWS's validation: no port, protocol or VPC for lambda target groups.
	for name, in := range map[string]*elbv2.CreateTargetGroupInput{
		"port":     {Port: aws.Int32(80)},
		"protocol": {Protocol: types.ProtocolEnumHttp},
		"vpc":      {VpcId: aws.String("vpc-1")},
	} {
		in.Name, in.TargetType = aws.String("bad-"+name), types.TargetTypeEnumLambda
		if _, err := ec.CreateTargetGroup(ctx, in); apiCode(err) != "ValidationError" {
			t.Fatalf("%s: want ValidationError, got %v", name, err)
		}
	}
	ctg, err := ec.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("fn-tg"), TargetType: types.TargetTypeEnumLambda})
	if err != nil {
		t.Fatal(err)
	}
	tg := ctg.TargetGroups[0]
	if tg.Protocol != "" || tg.Port != nil || tg.VpcId != nil || aws.ToBool(tg.HealthCheckEnabled) || tg.TargetType != types.TargetTypeEnumLambda {
		t.Fatalf("lambda target group: %+v", tg)
	}
	tgARN := aws.ToString(tg.TargetGroupArn)
	attrs, err := ec.DescribeTargetGroupAttributes(ctx, &elbv2.DescribeTargetGroupAttributesInput{TargetGroupArn: &tgARN})
	if err != nil || len(attrs.Attributes) != 1 || aws.ToString(attrs.Attributes[0].Key) != "lambda.multi_value_headers.enabled" || aws.ToString(attrs.Attributes[0].Value) != "false" {
		t.Fatalf("attributes: %+v, %v", attrs, err)
	}
	if _, err := ec.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &tgARN, Targets: []types.TargetDescription{{Id: aws.String("i-123")}}}); apiCode(err) != "InvalidTarget" {
		t.Fatalf("instance id in a lambda target group: %v", err)
	}
	if _, err := ec.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &tgARN, Targets: []types.TargetDescription{{Id: &fnARN}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ec.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &tgARN, Targets: []types.TargetDescription{{Id: aws.String(fnARN + "-other")}}}); apiCode(err) != "TooManyTargets" {
		t.Fatalf("a second function: %v", err)
	}

	lb, err := ec.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("fn-alb"), Type: types.LoadBalancerTypeEnumApplication})
	if err != nil {
		t.Fatal(err)
	}
	host := aws.ToString(lb.LoadBalancers[0].DNSName)
	if _, err := ec.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: &tgARN}},
	}); err != nil {
		t.Fatal(err)
	}
	th, err := ec.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: &tgARN})
	if err != nil || len(th.TargetHealthDescriptions) != 1 {
		t.Fatalf("health: %+v %v", th, err)
	}
	if d := th.TargetHealthDescriptions[0]; aws.ToString(d.Target.Id) != fnARN || d.Target.Port != nil ||
		d.TargetHealth.State != types.TargetHealthStateEnumUnavailable || d.TargetHealth.Reason != types.TargetHealthReasonEnumHealthCheckDisabled {
		t.Fatalf("health description: %+v %+v", d.Target, d.TargetHealth)
	}

	// Text request: the event AWS sends, single-value mode.
	st, h, body := albCall(t, srv, host, "POST", "/echo?a=1&b=x%20y&a=2&flag", "text/plain", []byte("hello"), http.Header{"X-Multi": {"one", "two"}})
	if st != 200 || h.Get("X-Echo") != "yes" || h.Get("Content-Type") != "application/json" {
		t.Fatalf("echo: %d %v %s", st, h, body)
	}
	var ev events.ALBTargetGroupRequest
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.RequestContext.ELB.TargetGroupArn != tgARN || ev.HTTPMethod != "POST" || ev.Path != "/echo" || ev.Body != "hello" || ev.IsBase64Encoded {
		t.Fatalf("event: %+v", ev)
	}
	if q := ev.QueryStringParameters; len(q) != 3 || q["a"] != "2" || q["b"] != "x%20y" || q["flag"] != "" {
		t.Fatalf("query: %v", q)
	}
	if hh := ev.Headers; hh["x-multi"] != "two" || hh["host"] != host || hh["content-type"] != "text/plain" || hh["x-forwarded-proto"] != "http" ||
		hh["x-forwarded-port"] != "80" || hh["x-forwarded-for"] == "" || !strings.HasPrefix(hh["x-amzn-trace-id"], "Root=1-") {
		t.Fatalf("headers: %v", hh)
	}
	if ev.MultiValueHeaders != nil || ev.MultiValueQueryStringParameters != nil {
		t.Fatalf("multi-value members in single-value mode: %+v", ev)
	}

	// Binary request bodies are base64-encoded.
	bin := []byte{0, 1, 2, 0xff, 0xfe}
	st, _, body = albCall(t, srv, host, "PUT", "/echo", "application/octet-stream", bin, nil)
	ev = events.ALBTargetGroupRequest{}
	if err := json.Unmarshal(body, &ev); st != 200 || err != nil || !ev.IsBase64Encoded || ev.Body != "AAEC//4=" || len(ev.QueryStringParameters) != 0 {
		t.Fatalf("binary request: %d %+v %v", st, ev, err)
	}

	// Binary and other responses.
	st, h, body = albCall(t, srv, host, "GET", "/binary", "", nil, nil)
	if st != 200 || h.Get("Content-Type") != "image/png" || len(body) != 256 || body[255] != 255 || body[0] != 0 {
		t.Fatalf("binary response: %d %v %d bytes", st, h, len(body))
	}
	st, h, body = albCall(t, srv, host, "GET", "/created", "", nil, nil)
	if st != 201 || h.Get("Location") != "/things/1" || string(body) != "made" {
		t.Fatalf("created: %d %v %q", st, h, body)
	}
	for _, p := range []string{"/fail", "/bad"} {
		if st, _, body = albCall(t, srv, host, "GET", p, "", nil, nil); st != 502 || !strings.Contains(string(body), "502 Bad Gateway") {
			t.Fatalf("%s: %d %s", p, st, body)
		}
	}

	// Multi-value mode.
	if _, err := ec.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: &tgARN,
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("lambda.multi_value_headers.enabled"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	st, h, body = albCall(t, srv, host, "GET", "/echo?a=1&a=2&b=3", "", nil, http.Header{"X-Multi": {"one", "two"}})
	ev = events.ALBTargetGroupRequest{}
	if err := json.Unmarshal(body, &ev); st != 200 || err != nil {
		t.Fatalf("multi echo: %d %s %v", st, body, err)
	}
	if q := ev.MultiValueQueryStringParameters; len(q["a"]) != 2 || q["a"][0] != "1" || q["a"][1] != "2" || q["b"][0] != "3" {
		t.Fatalf("multi query: %v", q)
	}
	if m := ev.MultiValueHeaders["x-multi"]; len(m) != 2 || m[0] != "one" || m[1] != "two" || ev.Headers != nil || ev.QueryStringParameters != nil {
		t.Fatalf("multi headers: %+v", ev)
	}
	if out := h.Values("X-Out"); len(out) != 2 || out[0] != "p" || out[1] != "q" {
		t.Fatalf("multi-value response headers: %v", h)
	}

	// Health checks invoke the function.
	if _, err := ec.ModifyTargetGroup(ctx, &elbv2.ModifyTargetGroupInput{TargetGroupArn: &tgARN, HealthCheckEnabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	var last *types.TargetHealth
	defer func() {
		if last != nil && last.State != types.TargetHealthStateEnumHealthy {
			t.Logf("last health: %s %s %s", last.State, last.Reason, aws.ToString(last.Description))
		}
	}()
	eventually(t, "lambda target healthy", func() bool {
		th, err := ec.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: &tgARN})
		if err == nil && len(th.TargetHealthDescriptions) == 1 {
			last = th.TargetHealthDescriptions[0].TargetHealth
		}
		return last != nil && last.State == types.TargetHealthStateEnumHealthy
	})

	// A throttled function: 503.
	if _, err := lc.PutFunctionConcurrency(ctx, &awslambda.PutFunctionConcurrencyInput{FunctionName: aws.String("albfn"), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	if st, _, body = albCall(t, srv, host, "GET", "/", "", nil, nil); st != 503 {
		t.Fatalf("throttled: %d %s", st, body)
	}
}
