package lambda_test

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/overcast-dev/overcast/internal/awstest"
)

// benchFunction starts a server with one Go function and warms it.
func benchFunction(b *testing.B) *awslambda.Client {
	srv := awstest.Start(b, awstest.WithServices("lambda"))
	c := awslambda.NewFromConfig(srv.Config)
	_, err := c.CreateFunction(context.Background(), &awslambda.CreateFunctionInput{FunctionName: aws.String("noop"), Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: goFunction(b)}})
	if err != nil {
		b.Fatal(err)
	}
	invokeNoop(b, c)
	return c
}

func invokeNoop(b *testing.B, c *awslambda.Client) {
	out, err := c.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String("noop"), Payload: []byte(`"noop"`)})
	if err != nil || out.FunctionError != nil {
		b.Fatalf("invoke: %v", err)
	}
}

func reportLatencies(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "invokes/s")
}

// BenchmarkWarmInvoke: synchronous invocations of a no-op aws-lambda-go
// function through the gateway with the Go SDK, one at a time (one warm
// environment): latency p50/p99 and invocations per second.
func BenchmarkWarmInvoke(b *testing.B) {
	c := benchFunction(b)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		t0 := time.Now()
		invokeNoop(b, c)
		lat = append(lat, time.Since(t0))
	}
	reportLatencies(b, lat, time.Since(start))
}

// BenchmarkWarmInvokeParallel: the same with 8 concurrent callers (up to 8
// environments).
func BenchmarkWarmInvokeParallel(b *testing.B) {
	c := benchFunction(b)
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	b.SetParallelism(4) // 4 x GOMAXPROCS callers
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			invokeNoop(b, c)
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	reportLatencies(b, lat, time.Since(start))
}

// BenchmarkColdStart: each iteration changes the function's configuration
// (a new revision needs a new environment) and times the first invocation:
// process start, Runtime API init of the Go bootstrap, and the invoke.
func BenchmarkColdStart(b *testing.B) {
	c := benchFunction(b)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		if _, err := c.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("noop"),
			Environment: &types.Environment{Variables: map[string]string{"REV": strconv.Itoa(i)}}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		invokeNoop(b, c)
		d := time.Since(t0)
		lat = append(lat, d)
		total += d
	}
	reportLatencies(b, lat, total)
}
