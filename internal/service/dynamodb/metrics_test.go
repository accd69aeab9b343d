package dynamodb

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

type recorder struct {
	mu    sync.Mutex
	calls int
	data  []metrics.Datum
}

func (r *recorder) Publish(account, region, ns string, data []metrics.Datum) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if account != "000000000000" || region != "us-east-1" || ns != "AWS/DynamoDB" {
		panic("unexpected publish target " + account + " " + region + " " + ns)
	}
	r.calls++
	r.data = append(r.data, data...)
}

func (r *recorder) snapshot() (int, []metrics.Datum) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls, append([]metrics.Datum(nil), r.data...)
}

// find returns the datum with name and exactly the given dimension values.
func find(data []metrics.Datum, name string, dims ...string) (metrics.Datum, bool) {
	for _, d := range data {
		if d.Name != name || len(d.Dimensions)*2 != len(dims) {
			continue
		}
		ok := true
		for i, dim := range d.Dimensions {
			if dim.Name != dims[2*i] || dim.Value != dims[2*i+1] {
				ok = false
			}
		}
		if ok {
			return d, true
		}
	}
	return metrics.Datum{}, false
}

func TestMetricsPublishedPerMinute(t *testing.T) {
	fc := clock.NewFake(time.Unix(1_800_000_000, 0))
	rec := &recorder{}
	svc := New(memory.New(), WithClock(fc), WithMetrics(rec), WithThrottle(true))
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Stop(context.Background()) })
	h := &harness{t: t, s: svc, h: svc.Handlers()}
	h.must("CreateTable", map[string]any{"TableName": "met", "BillingMode": "PROVISIONED",
		"ProvisionedThroughput": map[string]any{"ReadCapacityUnits": int64(1), "WriteCapacityUnits": int64(1)},
		"AttributeDefinitions":  []any{map[string]any{"AttributeName": "pk", "AttributeType": "S"}, map[string]any{"AttributeName": "g", "AttributeType": "S"}},
		"KeySchema":             []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}},
		"GlobalSecondaryIndexes": []any{map[string]any{"IndexName": "byG", "Projection": map[string]any{"ProjectionType": "KEYS_ONLY"},
			"ProvisionedThroughput": map[string]any{"ReadCapacityUnits": int64(1), "WriteCapacityUnits": int64(1)},
			"KeySchema":             []any{map[string]any{"AttributeName": "g", "KeyType": "HASH"}}}}})
	for _, k := range []string{"a", "b", "c"} {
		h.must("PutItem", map[string]any{"TableName": "met", "Item": map[string]any{"pk": s(k), "g": s("x")}})
	}
	h.must("GetItem", map[string]any{"TableName": "met", "Key": map[string]any{"pk": s("a")}, "ConsistentRead": true})
	h.must("Query", map[string]any{"TableName": "met", "KeyConditionExpression": "pk = :p",
		"ExpressionAttributeValues": map[string]any{":p": s("a")}})
	// Drain the write burst (300 units) and get throttled once.
	big := string(make([]byte, 300*1024))
	h.must("PutItem", map[string]any{"TableName": "met", "Item": map[string]any{"pk": s("big"), "blob": s(big)}})
	if _, err := h.call("PutItem", map[string]any{"TableName": "met", "Item": map[string]any{"pk": s("d")}}); err == nil {
		t.Fatal("expected a throttle")
	}
	// Latency is recorded by the handler wrappers (timed), as the server calls them.
	if calls, _ := rec.snapshot(); calls != 0 {
		t.Fatalf("published on the request path: %d calls", calls)
	}

	if err := fc.BlockUntil(context.Background(), 2); err != nil { // the TTL and metrics tickers
		t.Fatal(err)
	}
	fc.Advance(time.Minute)
	var data []metrics.Datum
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		var calls int
		if calls, data = rec.snapshot(); calls > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	check := func(name string, want float64, dims ...string) {
		t.Helper()
		d, ok := find(data, name, dims...)
		if !ok {
			t.Fatalf("no %s %v in %+v", name, dims, data)
		}
		if want >= 0 && d.Value != want {
			t.Fatalf("%s %v = %v, want %v", name, dims, d.Value, want)
		}
	}
	check("ConsumedWriteCapacityUnits", 304, "TableName", "met")
	check("ConsumedWriteCapacityUnits", 3, "TableName", "met", "GlobalSecondaryIndexName", "byG")
	check("ConsumedReadCapacityUnits", 1.5, "TableName", "met")
	check("WriteThrottleEvents", 1, "TableName", "met")
	check("ThrottledRequests", 1, "TableName", "met", "Operation", "PutItem")
	check("ReturnedItemCount", 1, "TableName", "met", "Operation", "Query")
	check("SuccessfulRequestLatency", -1, "TableName", "met", "Operation", "PutItem")
	if d, _ := find(data, "SuccessfulRequestLatency", "TableName", "met", "Operation", "PutItem"); d.Count != 4 {
		t.Fatalf("PutItem latency samples %v, want 4", d.Count)
	}
	if _, ok := find(data, "ReadThrottleEvents", "TableName", "met"); ok {
		t.Fatal("read throttle events without throttled reads")
	}
}

var _ service.Handler
