package cbor

import (
	"fmt"
	"testing"
	"time"
)

// putMetricData returns a value shaped like a CloudWatch PutMetricData
// request with n metric data entries.
func putMetricData(n int) map[string]any {
	base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	data := make([]any, n)
	for i := range data {
		data[i] = map[string]any{
			"MetricName": fmt.Sprintf("Latency%d", i%4),
			"Dimensions": []any{
				map[string]any{"Name": "Service", "Value": "checkout"},
				map[string]any{"Name": "Host", "Value": fmt.Sprintf("i-%017x", i)},
			},
			"Timestamp":         base.Add(time.Duration(i) * 1500 * time.Millisecond),
			"Value":             float64(i) * 12.25,
			"Unit":              "Milliseconds",
			"StorageResolution": int64(60),
		}
	}
	return map[string]any{"Namespace": "Overcast/Bench", "MetricData": data}
}

func putMetricDataPayload(tb testing.TB, n int) []byte {
	b, err := Marshal(putMetricData(n))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestPutMetricDataRoundTrip(t *testing.T) {
	v := putMetricData(20)
	got, err := Unmarshal(putMetricDataPayload(t, 20))
	if err != nil {
		t.Fatal(err)
	}
	if !equal(got, any(v)) {
		t.Fatalf("got %#v", got)
	}
}

func BenchmarkUnmarshalPutMetricData(b *testing.B) {
	payload := putMetricDataPayload(b, 20)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unmarshal(payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalPutMetricData(b *testing.B) {
	v := putMetricData(20)
	buf, _ := Marshal(v)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendValue(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}
