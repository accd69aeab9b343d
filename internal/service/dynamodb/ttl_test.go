package dynamodb

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
	"github.com/overcast-dev/overcast/internal/storage/disk"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

type harness struct {
	t *testing.T
	s *Service
	h map[string]service.Handler
}

func newHarness(t *testing.T, kv storage.KV, c clock.Clock) *harness {
	s := New(kv, WithClock(c))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return &harness{t: t, s: s, h: s.Handlers()}
}

func (h *harness) call(op string, in map[string]any) (map[string]any, error) {
	return h.h[op](&service.Request{Context: context.Background(), Account: "000000000000", Region: "us-east-1", Operation: op, Input: in})
}

func (h *harness) must(op string, in map[string]any) map[string]any {
	h.t.Helper()
	out, err := h.call(op, in)
	if err != nil {
		h.t.Fatalf("%s: %v", op, err)
	}
	return out
}

func s(v string) map[string]any { return map[string]any{"S": v} }
func n(v string) map[string]any { return map[string]any{"N": v} }

func (h *harness) table(name string, stream bool) {
	in := map[string]any{"TableName": name, "BillingMode": "PAY_PER_REQUEST",
		"AttributeDefinitions": []any{map[string]any{"AttributeName": "pk", "AttributeType": "S"}},
		"KeySchema":            []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}}}
	if stream {
		in["StreamSpecification"] = map[string]any{"StreamEnabled": true, "StreamViewType": "OLD_IMAGE"}
	}
	h.must("CreateTable", in)
}

func TestTTLExpiry(t *testing.T) {
	fc := clock.NewFake(time.Unix(1_800_000_000, 0))
	h := newHarness(t, memory.New(), fc)
	h.table("ttl-tab", true)
	h.must("UpdateTimeToLive", map[string]any{"TableName": "ttl-tab", "TimeToLiveSpecification": map[string]any{"AttributeName": "exp", "Enabled": true}})
	now := fc.Now().Unix()
	h.must("PutItem", map[string]any{"TableName": "ttl-tab", "Item": map[string]any{"pk": s("old"), "exp": n(strconv.FormatInt(now+5, 10))}})
	h.must("PutItem", map[string]any{"TableName": "ttl-tab", "Item": map[string]any{"pk": s("new"), "exp": n(strconv.FormatInt(now+3600, 10))}})
	h.must("PutItem", map[string]any{"TableName": "ttl-tab", "Item": map[string]any{"pk": s("none")}})
	if err := fc.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	fc.Advance(ttlInterval) // sweep at now+10s: "old" has expired
	var count int64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		out := h.must("Scan", map[string]any{"TableName": "ttl-tab", "Select": "COUNT"})
		if count = out["Count"].(int64); count == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if count != 2 {
		t.Fatalf("items after sweep: %d", count)
	}
	if out := h.must("GetItem", map[string]any{"TableName": "ttl-tab", "Key": map[string]any{"pk": s("old")}}); out["Item"] != nil {
		t.Fatal("expired item still readable")
	}
	// The deletion is a service REMOVE in the stream.
	tb := h.s.lookup(storage.Scope{Service: serviceName, Account: "000000000000", Region: "us-east-1"}, "ttl-tab")
	recs, _, err := h.s.ReadStream("000000000000", "us-east-1", tb.stream.arn, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	if last["eventName"] != "REMOVE" || last["userIdentity"] == nil {
		t.Fatalf("ttl stream record: %+v", last)
	}
	if _, ok := last["dynamodb"].(map[string]any)["OldImage"]; !ok {
		t.Fatal("OLD_IMAGE stream lacks the old image")
	}
}

func TestRestartKeepsTablesAndCounts(t *testing.T) {
	dir := t.TempDir()
	kv, err := disk.Open(dir, disk.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, kv, clock.Real())
	h.table("keep", true)
	for i := 0; i < 10; i++ {
		h.must("PutItem", map[string]any{"TableName": "keep", "Item": map[string]any{"pk": s(strconv.Itoa(i))}})
	}
	h.s.Stop(context.Background())
	kv.Close()

	kv, err = disk.Open(dir, disk.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	h = newHarness(t, kv, clock.Real())
	d := h.must("DescribeTable", map[string]any{"TableName": "keep"})["Table"].(map[string]any)
	if d["ItemCount"].(int64) != 10 {
		t.Fatalf("item count after restart: %v", d["ItemCount"])
	}
	h.must("PutItem", map[string]any{"TableName": "keep", "Item": map[string]any{"pk": s("x")}})
	tb := h.s.lookup(storage.Scope{Service: serviceName, Account: "000000000000", Region: "us-east-1"}, "keep")
	recs, _, err := h.s.ReadStream("000000000000", "us-east-1", tb.stream.arn, "", 100)
	if err != nil || len(recs) != 11 {
		t.Fatalf("stream after restart: %d %v", len(recs), err)
	}
	if recs[10]["dynamodb"].(map[string]any)["SequenceNumber"].(string) <= recs[9]["dynamodb"].(map[string]any)["SequenceNumber"].(string) {
		t.Fatal("sequence numbers not increasing across restart")
	}
}

func TestGSIBackfillAndLimits(t *testing.T) {
	h := newHarness(t, memory.New(), clock.Real())
	h.table("gsi-tab", false)
	for i := 0; i < 20; i++ {
		it := map[string]any{"pk": s(strconv.Itoa(i))}
		if i%4 == 0 {
			it["color"] = s("red")
		}
		h.must("PutItem", map[string]any{"TableName": "gsi-tab", "Item": it})
	}
	h.must("UpdateTable", map[string]any{"TableName": "gsi-tab",
		"AttributeDefinitions": []any{map[string]any{"AttributeName": "color", "AttributeType": "S"}},
		"GlobalSecondaryIndexUpdates": []any{map[string]any{"Create": map[string]any{"IndexName": "byColor",
			"KeySchema":  []any{map[string]any{"AttributeName": "color", "KeyType": "HASH"}},
			"Projection": map[string]any{"ProjectionType": "ALL"}}}}})
	out := h.must("Query", map[string]any{"TableName": "gsi-tab", "IndexName": "byColor", "KeyConditionExpression": "color = :c",
		"ExpressionAttributeValues": map[string]any{":c": s("red")}})
	if out["Count"].(int64) != 5 {
		t.Fatalf("backfilled index has %v items", out["Count"])
	}
	_, err := h.call("PutItem", map[string]any{"TableName": "gsi-tab", "Item": map[string]any{"pk": s("1"), "color": n("1")}})
	if e := awserr.As(err); e.Code != codeValidation || e.Message != "One or more parameter values were invalid: Type mismatch for Index Key color Expected: S Actual: N IndexName: byColor" {
		t.Fatalf("index key type: %v", err)
	}
	big := make([]byte, 400*1024)
	for i := range big {
		big[i] = 'x'
	}
	_, err = h.call("PutItem", map[string]any{"TableName": "gsi-tab", "Item": map[string]any{"pk": s("big"), "v": s(string(big))}})
	if e := awserr.As(err); e.Message != "Item size has exceeded the maximum allowed size" {
		t.Fatalf("item size: %v", err)
	}
	_, err = h.call("PutItem", map[string]any{"TableName": "gsi-tab", "Item": map[string]any{"pk": s("")}})
	if e := awserr.As(err); e.Message != "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk" {
		t.Fatalf("empty key: %v", err)
	}
	_, err = h.call("PutItem", map[string]any{"TableName": "gsi-tab", "Item": map[string]any{"pk": s("e"), "ss": map[string]any{"SS": []any{}}}})
	if e := awserr.As(err); e.Message != "One or more parameter values were invalid: An string set  may not be empty" {
		t.Fatalf("empty set: %v", err)
	}
	// 1 MB page limit.
	half := s(string(big[:300*1024]))
	for i := 0; i < 5; i++ {
		h.must("PutItem", map[string]any{"TableName": "gsi-tab", "Item": map[string]any{"pk": s("b" + strconv.Itoa(i)), "v": half}})
	}
	out = h.must("Scan", map[string]any{"TableName": "gsi-tab", "Select": "COUNT"})
	if out["LastEvaluatedKey"] == nil || out["ScannedCount"].(int64) >= 25 {
		t.Fatalf("1 MB page: scanned %v, lek %v", out["ScannedCount"], out["LastEvaluatedKey"])
	}
}
