package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/service"
)

// Every operation of a service that is registered but not implemented
// answers a well-formed NotImplemented error in the request's protocol.
func TestPendingServicesAnswerNotImplemented(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "")
	g := newGateway(t, time.Now(),
		service.Pending("sqs", "sqs", "sqs-query"),
		service.Pending("cloudwatch", "cloudwatch"),
		service.Pending("sts", "sts"),
		service.Pending("ec2", "ec2"),
		service.Pending("lambda", "lambda"),
		service.Pending("s3", "s3"),
	)
	srv := httptest.NewServer(g)
	defer srv.Close()
	cfg := awstest.Config(srv.URL, "AKIDEXAMPLE", "secret")
	ctx := context.Background()
	calls := map[string]func() error{
		"json (sqs)": func() error { _, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{}); return err },
		"rpc-v2-cbor (cloudwatch)": func() error {
			_, err := cloudwatch.NewFromConfig(cfg).ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
			return err
		},
		"query (sts)": func() error {
			_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		},
		"ec2": func() error {
			_, err := ec2.NewFromConfig(cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
			return err
		},
		"rest-json (lambda)": func() error {
			_, err := lambda.NewFromConfig(cfg).ListFunctions(ctx, &lambda.ListFunctionsInput{})
			return err
		},
		"rest-xml (s3)": func() error {
			_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(ctx, &s3.ListBucketsInput{})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an API error", err)
			}
			if ae.ErrorCode() != "NotImplemented" {
				t.Errorf("code %s (%v)", ae.ErrorCode(), err)
			}
			var re interface{ HTTPStatusCode() int }
			if errors.As(err, &re) && re.HTTPStatusCode() != http.StatusNotImplemented {
				t.Errorf("status %d", re.HTTPStatusCode())
			}
		})
	}
}
