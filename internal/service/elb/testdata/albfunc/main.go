// Command albfunc is the Lambda function the elb package's tests put behind
// a load balancer: a provided.al2023 bootstrap built with
// github.com/aws/aws-lambda-go, answering by the request path.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(ctx context.Context, req events.ALBTargetGroupRequest) (any, error) {
	multi := req.MultiValueHeaders != nil
	switch req.Path {
	case "/echo":
		b, _ := json.Marshal(req)
		res := events.ALBTargetGroupResponse{StatusCode: 200, StatusDescription: "200 OK", Body: string(b)}
		if multi {
			res.MultiValueHeaders = map[string][]string{"Content-Type": {"application/json"}, "X-Out": {"p", "q"}}
		} else {
			res.Headers = map[string]string{"Content-Type": "application/json", "X-Echo": "yes"}
		}
		return res, nil
	case "/binary":
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return events.ALBTargetGroupResponse{
			StatusCode: 200, StatusDescription: "200 OK",
			Headers: map[string]string{"Content-Type": "image/png"},
			Body:    base64.StdEncoding.EncodeToString(b), IsBase64Encoded: true,
		}, nil
	case "/created":
		return events.ALBTargetGroupResponse{StatusCode: 201, StatusDescription: "201 Created",
			Headers: map[string]string{"Content-Type": "text/plain", "Location": "/things/1"}, Body: "made"}, nil
	case "/fail":
		return nil, errors.New("the function failed")
	case "/bad":
		return "not a response", nil
	}
	return events.ALBTargetGroupResponse{StatusCode: 200, StatusDescription: "200 OK", Headers: map[string]string{"Content-Type": "text/plain"}, Body: "ok"}, nil
}

func main() { lambda.Start(handle) }
