package elb_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// backendEnv, set in a re-executed test binary, makes it the benchmark's
// backend: it serves the listener it inherits as file descriptor 3.
const backendEnv = "ELB_BENCH_BACKEND"

func TestMain(m *testing.M) {
	if os.Getenv(backendEnv) != "" {
		ln, err := net.FileListener(os.NewFile(3, "listener"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "backend:", err)
			os.Exit(1)
		}
		body := []byte("hello, world\n")
		http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = []string{"text/plain"}
			w.Write(body)
		}))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// BenchmarkALBProxyWrk measures the proxy alone: the backend runs in a
// child process and wrk (when installed) drives the load from another, so
// this process's CPU time is the ALB's. It runs wrk once for -wrk-duration
// whatever b.N is and reports requests/s, the proxy's CPU µs per request
// and wrk's latency percentiles; profile it with -cpuprofile.
func BenchmarkALBProxyWrk(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk is not installed")
	}
	var ln net.Listener
	for i := 0; i < 50 && ln == nil; i++ {
		ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", nextIP.Add(1)%250+2))
	}
	if ln == nil {
		b.Skipf("no loopback address: %v", err)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		b.Fatal(err)
	}
	ip, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), backendEnv+"=1")
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	e := newEnv(b)
	lb := e.lb("wrk", "")
	tg := e.tg("wrk", "HTTP", 80)
	p, _ := strconv.Atoi(port)
	e.register(tg, &backend{ip: ip, port: int32(p)})
	_, addr := e.listener(*lb.LoadBalancerArn, "HTTP", 18090, forward(tg))
	e.waitState(tg, ip, "healthy")

	d := 3 * time.Second
	if v := os.Getenv("ELB_BENCH_WRK_DURATION"); v != "" {
		if d, err = time.ParseDuration(v); err != nil {
			b.Fatal(err)
		}
	}
	run := func(url string) {
		var out bytes.Buffer
		c := exec.Command(wrk, "-t1", "-c64", fmt.Sprintf("-d%ds", int(d.Seconds())), "--latency", url)
		c.Stdout = &out
		c.Stderr = io.Discard
		cpu0 := cpuTime()
		b.ResetTimer()
		if err := c.Run(); err != nil {
			b.Fatalf("wrk: %v\n%s", err, out.String())
		}
		b.StopTimer()
		cpu := cpuTime() - cpu0
		n := wrkNumber(b, out.String(), `(\d+) requests in`)
		if bad := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindStringSubmatch(out.String()); bad != nil {
			b.Fatalf("wrk: %s failed responses", bad[1])
		}
		b.ReportMetric(wrkNumber(b, out.String(), `Requests/sec:\s+([\d.]+)`), "req/s")
		b.ReportMetric(float64(cpu.Microseconds())/n, "proxy-cpu-µs/req")
	}
	run("http://" + addr + "/")
}

func wrkNumber(b *testing.B, out, re string) float64 {
	m := regexp.MustCompile(re).FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("wrk output lacks %q:\n%s", re, out)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}
