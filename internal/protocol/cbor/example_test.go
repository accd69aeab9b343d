package cbor_test

import (
	"fmt"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/cbor"
)

func Example() {
	body, err := cbor.Marshal(map[string]any{
		"Namespace": "App",
		"MetricData": []any{map[string]any{
			"MetricName": "Latency",
			"Timestamp":  time.Date(2026, 5, 1, 12, 0, 0, 250e6, time.UTC),
			"Value":      12.5,
		}},
	})
	if err != nil {
		panic(err)
	}
	v, err := cbor.Unmarshal(body)
	if err != nil {
		panic(err)
	}
	datum := v.(map[string]any)["MetricData"].([]any)[0].(map[string]any)
	fmt.Printf("%T %v\n", datum["Timestamp"], datum["Timestamp"])
	fmt.Printf("%T %v\n", datum["Value"], datum["Value"])
	// Output:
	// time.Time 2026-05-01 12:00:00.25 +0000 UTC
	// float64 12.5
}

func ExampleUnmarshal_integers() {
	for _, in := range [][]byte{
		{0x18, 0x64}, // 100
		{0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // 2^64-1
		{0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // -2^64
	} {
		v, _ := cbor.Unmarshal(in)
		fmt.Printf("%T %v\n", v, v)
	}
	// Output:
	// int64 100
	// uint64 18446744073709551615
	// *big.Int -18446744073709551616
}
