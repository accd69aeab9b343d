// Command gofunc is the function the lambda package's tests run: a
// provided.al2023 bootstrap built with github.com/aws/aws-lambda-go.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Action  string            `json:"action"`
	Ms      int               `json:"ms"`
	Print   string            `json:"print"`
	Size    int               `json:"size"`
	Records []json.RawMessage `json:"Records"`
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	if string(raw) == `"noop"` { // the benchmark's no-op
		return nil, nil
	}
	var ev event
	json.Unmarshal(raw, &ev)
	if os.Getenv("ECHO_EVENT") != "" {
		fmt.Println("EVENT " + string(raw))
	}
	if ev.Print != "" {
		fmt.Println(ev.Print)
	}
	if len(ev.Records) > 0 {
		// SQS: report the records whose body contains "fail".
		var failures []map[string]string
		for _, r := range ev.Records {
			var rec struct {
				MessageID string `json:"messageId"`
				Body      string `json:"body"`
			}
			json.Unmarshal(r, &rec)
			if strings.Contains(rec.Body, "fail") {
				failures = append(failures, map[string]string{"itemIdentifier": rec.MessageID})
			}
		}
		return map[string]any{"batchItemFailures": failures}, nil
	}
	var web struct {
		RawPath string `json:"rawPath"`
	}
	json.Unmarshal(raw, &web)
	if web.RawPath == "/structured" { // a function URL response with every member
		return map[string]any{"statusCode": 201, "headers": map[string]string{"X-Custom": "yes", "Content-Type": "application/octet-stream"},
			"cookies": []string{"a=1; Path=/", "b=2"}, "body": "YmluYXJ5AG9r", "isBase64Encoded": true}, nil
	}
	lc, _ := lambdacontext.FromContext(ctx)
	switch ev.Action {
	case "error":
		return nil, errors.New("something went wrong")
	case "sleep":
		time.Sleep(time.Duration(ev.Ms) * time.Millisecond)
	case "forever":
		select {}
	case "crash":
		os.Exit(2)
	case "big":
		return strings.Repeat("x", ev.Size), nil
	}
	deadline, _ := ctx.Deadline()
	return map[string]any{
		"pid":        os.Getpid(),
		"event":      raw,
		"requestId":  lc.AwsRequestID,
		"arn":        lc.InvokedFunctionArn,
		"name":       lambdacontext.FunctionName,
		"version":    lambdacontext.FunctionVersion,
		"memory":     lambdacontext.MemoryLimitInMB,
		"region":     os.Getenv("AWS_REGION"),
		"handler":    os.Getenv("_HANDLER"),
		"taskRoot":   os.Getenv("LAMBDA_TASK_ROOT"),
		"endpoint":   os.Getenv("AWS_ENDPOINT_URL"),
		"accessKey":  os.Getenv("AWS_ACCESS_KEY_ID"),
		"logGroup":   os.Getenv("AWS_LAMBDA_LOG_GROUP_NAME"),
		"custom":     os.Getenv("CUSTOM"),
		"msLeft":     time.Until(deadline).Milliseconds(),
		"executable": os.Args[0],
	}, nil
}

func main() {
	if os.Getenv("CRASH_AT_INIT") != "" {
		fmt.Println("crashing during init")
		os.Exit(3)
	}
	lambda.Start(handle)
}
