package query_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/model"
	"github.com/overcast-dev/overcast/internal/protocol/query"
)

// FuzzDecodeRequest feeds arbitrary form bodies to the query and ec2 codecs
// with real service models: decoding never panics and every failure is an
// AWS error with a 4xx status.
func FuzzDecodeRequest(f *testing.F) {
	f.Add("Action=SendMessage&Version=2012-11-05&QueueUrl=q&MessageBody=hi&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v")
	f.Add("Action=CreateQueue&QueueName=q&Attribute.1.Name=DelaySeconds&Attribute.1.Value=5&Tag.1.Key=k&Tag.1.Value=v")
	f.Add("Action=ReceiveMessage&QueueUrl=q&MaxNumberOfMessages=abc&AttributeName.1=All")
	f.Add("Action=RunInstances&ImageId=ami-1&MinCount=1&MaxCount=1&TagSpecification.1.Tag.1.Key=a")
	f.Add("Action=DescribeInstances&Filter.1.Name=x&Filter.1.Value.1=y&Filter.99999999999999999999.Value=z")
	f.Add("Action=GetSessionToken&DurationSeconds=9999999999999999999999")
	f.Add("Action=AssumeRole&RoleArn=a&RoleSessionName=b&Tags.member.1.Key=k&Tags.member.1.Value=v&PolicyArns.member.1.arn=x")
	apis := []struct {
		api   *model.API
		codec *query.Codec
	}{
		{model.MustLoad("sqs-query"), query.New()},
		{model.MustLoad("sts"), query.New()},
		{model.MustLoad("ec2"), query.NewEC2()},
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, a := range apis {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			op, err := a.codec.Operation(r, a.api)
			if err != nil {
				checkErr(t, err)
				continue
			}
			if _, err := a.codec.DecodeRequest(r, a.api, op); err != nil {
				checkErr(t, err)
			}
		}
	})
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	e, ok := err.(*awserr.Error)
	if !ok {
		t.Fatalf("error %T %v is not an AWS error", err, err)
	}
	if s := e.HTTPStatus(); s < 400 || s >= 500 {
		t.Fatalf("status %d for %v", s, e)
	}
}
