package dynamodb

import (
	"context"
	"strconv"
	"syscall"
	"testing"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

func benchService(b *testing.B) (*Service, func(op string, in map[string]any) (map[string]any, error)) {
	s := New(memory.New())
	h := s.Handlers()
	call := func(op string, in map[string]any) (map[string]any, error) {
		return h[op](&service.Request{Context: context.Background(), Account: "000000000000", Region: "us-east-1", Operation: op, Input: in})
	}
	_, err := call("CreateTable", map[string]any{
		"TableName": "bench", "BillingMode": "PAY_PER_REQUEST",
		"AttributeDefinitions": []any{map[string]any{"AttributeName": "pk", "AttributeType": "S"}, map[string]any{"AttributeName": "sk", "AttributeType": "N"}},
		"KeySchema":            []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}, map[string]any{"AttributeName": "sk", "KeyType": "RANGE"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return s, call
}

func benchItem(i int) map[string]any {
	return map[string]any{
		"pk":   map[string]any{"S": "user-" + strconv.Itoa(i%1000)},
		"sk":   map[string]any{"N": strconv.Itoa(i)},
		"name": map[string]any{"S": "some name value"},
		"n":    map[string]any{"N": "12345"},
		"tags": map[string]any{"SS": []any{"a", "b"}},
	}
}

func BenchmarkPutItem(b *testing.B) {
	_, call := benchService(b)
	b.ReportAllocs()
	defer reportCPU(b)()
	for i := 0; b.Loop(); i++ {
		if _, err := call("PutItem", map[string]any{"TableName": "bench", "Item": benchItem(i)}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetItem(b *testing.B) {
	_, call := benchService(b)
	for i := 0; i < 10000; i++ {
		call("PutItem", map[string]any{"TableName": "bench", "Item": benchItem(i)})
	}
	b.ReportAllocs()
	defer reportCPU(b)()
	for i := 0; b.Loop(); i++ {
		k := benchItem(i % 10000)
		if _, err := call("GetItem", map[string]any{"TableName": "bench", "Key": map[string]any{"pk": k["pk"], "sk": k["sk"]}}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQuery100(b *testing.B) {
	_, call := benchService(b)
	for i := 0; i < 100000; i++ {
		call("PutItem", map[string]any{"TableName": "bench", "Item": benchItem(i)})
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := call("Query", map[string]any{"TableName": "bench", "KeyConditionExpression": "pk = :p", "Limit": int64(100),
			"ExpressionAttributeValues": map[string]any{":p": map[string]any{"S": "user-" + strconv.Itoa(i%1000)}}}); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU reports the process CPU time per operation (stable under load,
// unlike ns/op on a shared machine).
func reportCPU(b *testing.B) func() {
	cpu := func() float64 {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e3
	}
	start := cpu()
	return func() { b.ReportMetric((cpu()-start)/float64(b.N), "cpu-µs/op") }
}
