package lambda_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/overcast-dev/overcast/internal/awstest"
)

type echo struct {
	PID       int             `json:"pid"`
	Event     json.RawMessage `json:"event"`
	RequestID string          `json:"requestId"`
	ARN       string          `json:"arn"`
	Name      string          `json:"name"`
	Version   string          `json:"version"`
	Memory    int             `json:"memory"`
	Region    string          `json:"region"`
	Handler   string          `json:"handler"`
	TaskRoot  string          `json:"taskRoot"`
	Endpoint  string          `json:"endpoint"`
	AccessKey string          `json:"accessKey"`
	LogGroup  string          `json:"logGroup"`
	Custom    string          `json:"custom"`
	MsLeft    int64           `json:"msLeft"`
}

func invoke(t *testing.T, c *awslambda.Client, in *awslambda.InvokeInput) *awslambda.InvokeOutput {
	t.Helper()
	out, err := c.Invoke(context.Background(), in)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	return out
}

func TestInvokeGo(t *testing.T) {
	srv, c := startServer(t)
	ctx := context.Background()
	createGo(t, c, "gofn", func(in *awslambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"CUSTOM": "hello"}}
		in.Timeout = aws.Int32(5) // generous: the machine may be loaded; "forever" still times out
	})

	// Synchronous, with the log tail.
	out := invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("gofn"), Payload: []byte(`{"print":"line from the function"}`), LogType: types.LogTypeTail})
	if out.StatusCode != 200 || out.FunctionError != nil || *out.ExecutedVersion != "$LATEST" {
		t.Fatalf("invoke: status %d error %v", out.StatusCode, out.FunctionError)
	}
	var e1 echo
	if err := json.Unmarshal(out.Payload, &e1); err != nil {
		t.Fatalf("payload %s: %v", out.Payload, err)
	}
	if e1.Name != "gofn" || e1.Version != "$LATEST" || e1.Memory != 128 || e1.Region != "us-east-1" || e1.Handler != "bootstrap" || e1.Custom != "hello" ||
		e1.ARN != "arn:aws:lambda:us-east-1:000000000000:function:gofn" || e1.Endpoint != srv.URL() || e1.AccessKey != "test" ||
		e1.LogGroup != "/aws/lambda/gofn" || e1.TaskRoot == "" || e1.MsLeft <= 0 || e1.MsLeft > 5000 {
		t.Fatalf("function saw %+v", e1)
	}
	logs, _ := base64.StdEncoding.DecodeString(*out.LogResult)
	for _, want := range []string{"START RequestId: " + e1.RequestID + " Version: $LATEST", "line from the function", "END RequestId: " + e1.RequestID,
		"REPORT RequestId: " + e1.RequestID, "Billed Duration:", "Memory Size: 128 MB", "Max Memory Used:", "Init Duration:"} {
		if !strings.Contains(string(logs), want) {
			t.Errorf("log tail lacks %q:\n%s", want, logs)
		}
	}

	// Warm: the same environment answers, without an init.
	out = invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("gofn"), LogType: types.LogTypeTail})
	var e2 echo
	json.Unmarshal(out.Payload, &e2)
	if e2.PID != e1.PID || string(e2.Event) != "{}" {
		t.Fatalf("warm invoke ran in pid %d (first %d), event %s", e2.PID, e1.PID, e2.Event)
	}
	if logs, _ := base64.StdEncoding.DecodeString(*out.LogResult); strings.Contains(string(logs), "Init Duration") {
		t.Fatalf("warm invoke reported an init:\n%s", logs)
	}

	// A function error.
	out = invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("gofn"), Payload: []byte(`{"action":"error"}`)})
	var doc map[string]any
	json.Unmarshal(out.Payload, &doc)
	if out.StatusCode != 200 || aws.ToString(out.FunctionError) != "Unhandled" || doc["errorMessage"] != "something went wrong" || doc["errorType"] != "errorString" {
		t.Fatalf("error invoke: %d %v %s", out.StatusCode, out.FunctionError, out.Payload)
	}

	// A timeout kills the environment.
	out = invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("gofn"), Payload: []byte(`{"action":"forever"}`), LogType: types.LogTypeTail})
	json.Unmarshal(out.Payload, &doc)
	if aws.ToString(out.FunctionError) != "Unhandled" || doc["errorType"] != "Sandbox.Timedout" || !strings.HasSuffix(doc["errorMessage"].(string), "Task timed out after 5.00 seconds") {
		t.Fatalf("timeout invoke: %v %s", out.FunctionError, out.Payload)
	}
	if logs, _ := base64.StdEncoding.DecodeString(*out.LogResult); !strings.Contains(string(logs), "Task timed out after 5.00 seconds") || !strings.Contains(string(logs), "Status: timeout") {
		t.Fatalf("timeout log:\n%s", logs)
	}
	out = invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("gofn")})
	var e3 echo
	json.Unmarshal(out.Payload, &e3)
	if e3.PID == e1.PID || e3.PID == 0 {
		t.Fatalf("after a timeout the old environment (pid %d) answered again (%d)", e1.PID, e3.PID)
	}

	// A crash mid-invocation.
	out = invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("gofn"), Payload: []byte(`{"action":"crash"}`)})
	json.Unmarshal(out.Payload, &doc)
	if aws.ToString(out.FunctionError) != "Unhandled" || doc["errorType"] != "Runtime.ExitError" || !strings.Contains(doc["errorMessage"].(string), "exit status 2") {
		t.Fatalf("crash invoke: %v %s", out.FunctionError, out.Payload)
	}

	// A response over 6 MB.
	out = invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("gofn"), Payload: []byte(`{"action":"big","size":7000000}`)})
	json.Unmarshal(out.Payload, &doc)
	if aws.ToString(out.FunctionError) != "Unhandled" || doc["errorType"] != "Function.ResponseSizeTooLarge" {
		t.Fatalf("big response: %v %.200s", out.FunctionError, out.Payload)
	}

	// A request over 6 MB.
	_, err := c.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("gofn"), Payload: []byte(`"` + strings.Repeat("x", 6<<20) + `"`)})
	apiError(t, err, "RequestTooLargeException")
	_, err = c.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("gofn"), Payload: []byte(`not json`)})
	apiError(t, err, "InvalidRequestContentException")
	_, err = c.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("nope")})
	apiError(t, err, "ResourceNotFoundException")

	// DryRun.
	out = invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("gofn"), InvocationType: types.InvocationTypeDryRun})
	if out.StatusCode != 204 {
		t.Fatalf("dry run status %d", out.StatusCode)
	}

	// Versions and aliases route invocations.
	if _, err := c.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("gofn")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAlias(ctx, &awslambda.CreateAliasInput{FunctionName: aws.String("gofn"), Name: aws.String("prod"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	out = invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("gofn"), Qualifier: aws.String("prod")})
	var e4 echo
	json.Unmarshal(out.Payload, &e4)
	if *out.ExecutedVersion != "1" || e4.Version != "1" || e4.ARN != "arn:aws:lambda:us-east-1:000000000000:function:gofn:prod" {
		t.Fatalf("alias invoke: executed %s, saw %+v", *out.ExecutedVersion, e4)
	}
}

func TestInitCrash(t *testing.T) {
	_, c := startServer(t)
	createGo(t, c, "crasher", func(in *awslambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"CRASH_AT_INIT": "1"}}
	})
	out := invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("crasher"), LogType: types.LogTypeTail})
	var doc map[string]any
	json.Unmarshal(out.Payload, &doc)
	if aws.ToString(out.FunctionError) != "Unhandled" || doc["errorType"] != "Runtime.ExitError" || !strings.Contains(doc["errorMessage"].(string), "exit status 3") {
		t.Fatalf("init crash: %v %s", out.FunctionError, out.Payload)
	}
	if logs, _ := base64.StdEncoding.DecodeString(*out.LogResult); !strings.Contains(string(logs), "crashing during init") {
		t.Fatalf("init output missing from log:\n%s", logs)
	}
	// No bootstrap in the package.
	createGo(t, c, "empty", func(in *awslambda.CreateFunctionInput) {
		in.Code = &types.FunctionCode{ZipFile: zipFiles(t, map[string]zipEntry{"readme.txt": {[]byte("hi"), 0o644}})}
	})
	out = invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("empty")})
	json.Unmarshal(out.Payload, &doc)
	if aws.ToString(out.FunctionError) != "Unhandled" || doc["errorType"] != "Runtime.InvalidEntrypoint" {
		t.Fatalf("no bootstrap: %v %s", out.FunctionError, out.Payload)
	}
}

// TestConcurrencyThrottle: 50 parallel invocations of a 200 ms function
// with reserved concurrency 10 run in exactly 10 environments; the rest are
// throttled.
func TestConcurrencyThrottle(t *testing.T) {
	_, c := startServer(t)
	ctx := context.Background()
	createGo(t, c, "busy", nil)
	if _, err := c.PutFunctionConcurrency(ctx, &awslambda.PutFunctionConcurrencyInput{FunctionName: aws.String("busy"), ReservedConcurrentExecutions: aws.Int32(10)}); err != nil {
		t.Fatal(err)
	}
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		pids      = map[int]int{}
		throttled int
		other     []error
	)
	start := make(chan struct{})
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out, err := c.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("busy"), Payload: []byte(`{"action":"sleep","ms":200}`)})
			mu.Lock()
			defer mu.Unlock()
			var tm *types.TooManyRequestsException
			switch {
			case errors.As(err, &tm):
				if tm.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
					other = append(other, err)
				}
				throttled++
			case err != nil:
				other = append(other, err)
			default:
				var e echo
				json.Unmarshal(out.Payload, &e)
				pids[e.PID]++
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("unexpected errors: %v", other)
	}
	served := 0
	for _, n := range pids {
		served += n
	}
	if len(pids) != 10 || served+throttled != 50 || throttled == 0 {
		t.Fatalf("%d environments served %d invocations, %d throttled; want exactly 10 environments and the rest throttled", len(pids), served, throttled)
	}
}

func TestInvokeAsyncDestinations(t *testing.T) {
	srv := awstest.Start(t, awstest.WithServices("lambda", "sqs"))
	c := awslambda.NewFromConfig(srv.Config)
	q := sqs.NewFromConfig(srv.Config)
	ctx := context.Background()
	var arns []string
	for _, name := range []string{"ok-dest", "fail-dest"} {
		cq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, "arn:aws:sqs:us-east-1:000000000000:"+name)
		_ = cq
	}
	createGo(t, c, "asyncfn", nil)
	if _, err := c.PutFunctionEventInvokeConfig(ctx, &awslambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("asyncfn"), MaximumRetryAttempts: aws.Int32(0),
		DestinationConfig: &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String(arns[0])}, OnFailure: &types.OnFailure{Destination: aws.String(arns[1])}}}); err != nil {
		t.Fatal(err)
	}
	out := invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("asyncfn"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"n":1}`)})
	if out.StatusCode != 202 {
		t.Fatalf("event invoke status %d", out.StatusCode)
	}
	invoke(t, c, &awslambda.InvokeInput{FunctionName: aws.String("asyncfn"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"action":"error"}`)})

	receive := func(name string) map[string]any {
		t.Helper()
		url := srv.URL() + "/000000000000/" + name
		for range 100 {
			r, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Messages) > 0 {
				var rec map[string]any
				if err := json.Unmarshal([]byte(*r.Messages[0].Body), &rec); err != nil {
					t.Fatal(err)
				}
				return rec
			}
		}
		t.Fatalf("no record in %s", name)
		return nil
	}
	ok := receive("ok-dest")
	if rc := ok["requestContext"].(map[string]any); rc["condition"] != "Success" || ok["requestPayload"].(map[string]any)["n"] != float64(1) {
		t.Fatalf("success record %v", ok)
	}
	bad := receive("fail-dest")
	if rc := bad["requestContext"].(map[string]any); rc["condition"] != "RetriesExhausted" || bad["responseContext"].(map[string]any)["functionError"] != "Unhandled" {
		t.Fatalf("failure record %v", bad)
	}
	_ = time.Second
}
