package dynamodb_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/overcast-dev/overcast/internal/awstest"
)

// The gateway benchmarks send raw json 1.0 requests (a well-formed SigV4
// Authorization header, not verified in the default auth mode) through the
// whole server, so ns/op is the server's cost plus a lean net/http client.
// cpu-µs/op is the process CPU (server and client) per operation.

func gatewayBench(b *testing.B) (do func(op string, body []byte)) {
	srv := awstest.Start(b, awstest.WithServices("dynamodb"))
	c := dynamodb.NewFromConfig(srv.Config)
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("bench"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	url := srv.URL() + "/"
	return func(op string, body []byte) {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
		req.Header.Set("X-Amz-Date", "20260101T000000Z")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s: status %d", op, resp.StatusCode)
		}
	}
}

func putBody(i int) []byte {
	return []byte(`{"TableName":"bench","Item":{"pk":{"S":"user-` + strconv.Itoa(i) + `"},"name":{"S":"some name value"},"n":{"N":"12345"},"tags":{"SS":["a","b"]}}}`)
}

func cpuTime() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e3
}

func runGateway(b *testing.B, op string, body func(i int) []byte) {
	do := gatewayBench(b)
	for i := 0; i < 1000; i++ {
		do("PutItem", putBody(i))
	}
	bodies := make([][]byte, 1000)
	for i := range bodies {
		bodies[i] = body(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			do(op, bodies[i%len(bodies)])
			i++
		}
	})
	b.ReportMetric((cpuTime()-start)/float64(b.N), "cpu-µs/op")
}

func BenchmarkGatewayPutItem(b *testing.B) { runGateway(b, "PutItem", putBody) }

func BenchmarkGatewayGetItem(b *testing.B) {
	runGateway(b, "GetItem", func(i int) []byte {
		return []byte(`{"TableName":"bench","Key":{"pk":{"S":"user-` + strconv.Itoa(i) + `"}}}`)
	})
}
