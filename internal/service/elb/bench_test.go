package elb_test

import (
	"io"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkALBProxy measures requests through the ALB hot path against
// requests straight to the same backend, with keep-alive clients running in
// parallel (-cpu sets the parallelism). It reports requests/s.
func BenchmarkALBProxy(b *testing.B) {
	e := newEnv(b)
	be := newBackend(b, "bench", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello, world\n")
	})
	lb := e.lb("bench", "")
	tg := e.tg("bench", "HTTP", 80)
	e.register(tg, be)
	_, addr := e.listener(*lb.LoadBalancerArn, "HTTP", 18089, forward(tg))
	e.waitState(tg, be.ip, "healthy")
	run := func(b *testing.B, url string) {
		client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 256, DisableCompression: true}}
		var failed atomic.Int64
		cpu0 := cpuTime()
		start := time.Now()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Get(url)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		// CPU of the whole process (client, proxy and backend) per request:
		// the difference between the two sub-benchmarks is the proxy's cost.
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/req")
		if n := failed.Load(); n > 0 {
			b.Fatalf("%d failed requests", n)
		}
	}
	b.Run("direct", func(b *testing.B) { run(b, be.URL+"/") })
	b.Run("alb", func(b *testing.B) { run(b, "http://"+addr+"/") })
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
