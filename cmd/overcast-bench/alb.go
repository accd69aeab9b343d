package main

// The ALB data-plane benchmark (-alb): requests/s, the proxy process's CPU
// per request and p50/p99 latency through Overcast's application load
// balancer, against the same backend reached directly and through nginx and
// haproxy configured as reverse proxies, in one run.
//
//	go run ./cmd/overcast-bench -alb [-duration 5s] [-runs 3] [-connections 64]
//	    [-threads 2] [-warmup 1s] [-loadgen auto|wrk|go] [-overcast PATH] [-json]
//
// The backend is this binary re-executed as a small net/http server on
// 127.0.0.1. Overcast (built from this module unless -overcast is given)
// runs in memory mode; its ALB is created through the Go SDK with an ip
// target group whose one target is the backend. nginx and haproxy, when
// installed (apt-get install nginx haproxy), get a configuration in a
// temporary directory that proxies to the same backend over pooled
// keep-alive connections; each is skipped with a note when absent. The load
// comes from wrk (apt-get install wrk) when it is on PATH, else from a
// keep-alive Go client in this process. Runs are interleaved path by path;
// medians are printed.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

const (
	// albFlag, as the first argument, selects the ALB benchmark.
	albFlag = "-alb"
	// albBackendFlag, as the first argument, turns this binary into the
	// ALB benchmark's backend. It is not a registered flag.
	albBackendFlag = "-alb-backend"
	albBody        = "hello, world\n"
)

// albMain runs the ALB benchmark or its backend when args (os.Args[1:])
// ask for either, and exits; it returns when they do not.
func albMain(args []string) {
	if len(args) == 0 {
		return
	}
	switch args[0] {
	case albBackendFlag:
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, "usage: overcast-bench -alb-backend HOST:PORT")
			os.Exit(2)
		}
		body := []byte(albBody)
		err := http.ListenAndServe(args[1], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = []string{"text/plain"}
			w.Write(body)
		}))
		fmt.Fprintln(os.Stderr, "alb backend:", err)
		os.Exit(1)
	case albFlag:
		if err := runALB(args[1:], os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "overcast-bench -alb:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// albSettings are the -alb flags.
type albSettings struct {
	Duration    time.Duration `json:"duration"`
	Warmup      time.Duration `json:"warmup"`
	Runs        int           `json:"runs"`
	Connections int           `json:"connections"`
	Threads     int           `json:"threads"`
	Loadgen     string        `json:"loadgen"`
}

// albPath is one way to the backend: direct, or through a proxy.
type albPath struct {
	Key   string `json:"key"`
	Name  string `json:"name"`
	About string `json:"about"`
	url   string
	proc  *child // the proxy process; nil for direct
}

// albSample is one measured run.
type albSample struct {
	Requests    int64   `json:"requests"`
	Errors      int64   `json:"errors"`
	Seconds     float64 `json:"seconds"`
	ReqPerSec   float64 `json:"reqPerSec"`
	ProxyCPUus  float64 `json:"proxyCpuUsPerReq"`   // proxy process group CPU ÷ requests
	BackendCPUs float64 `json:"backendCpuUsPerReq"` // backend CPU ÷ requests
	P50ms       float64 `json:"p50ms"`
	P99ms       float64 `json:"p99ms"`
}

// albResult is a path's runs and their medians.
type albResult struct {
	albPath
	Runs   []albSample `json:"runs"`
	Median albSample   `json:"median"`
	Error  string      `json:"error,omitempty"`
}

type albReport struct {
	Time         time.Time   `json:"time"`
	Host         string      `json:"host"`
	Settings     albSettings `json:"settings"`
	Command      string      `json:"command"`
	Backend      string      `json:"backend"`
	LoadAvgStart string      `json:"loadAvgStart"`
	LoadAvgEnd   string      `json:"loadAvgEnd"`
	Results      []albResult `json:"results"`
	Notes        []string    `json:"notes,omitempty"`
}

func runALB(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("overcast-bench -alb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s albSettings
	fs.DurationVar(&s.Duration, "duration", 5*time.Second, "length of one measured run (whole seconds with wrk)")
	fs.DurationVar(&s.Warmup, "warmup", time.Second, "unmeasured load before each measured run")
	fs.IntVar(&s.Runs, "runs", 3, "measured runs per path, interleaved across paths; medians are reported")
	fs.IntVar(&s.Connections, "connections", 64, "concurrent keep-alive client connections")
	fs.IntVar(&s.Threads, "threads", 2, "wrk threads")
	fs.StringVar(&s.Loadgen, "loadgen", "auto", "load generator: wrk, go (a keep-alive Go client in this process), or auto (wrk when on PATH)")
	overcastBin := fs.String("overcast", "", "Overcast binary to measure (default: build ./cmd/overcast from this module)")
	startTimeout := fs.Duration("start-timeout", 30*time.Second, "how long a server may take to answer its first request")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: overcast-bench -alb [flags]\n\nRequests/s, proxy CPU per request and p50/p99 latency to one backend: direct, through Overcast's ALB, nginx and haproxy.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if s.Duration < time.Second || s.Runs < 1 || s.Connections < 1 || s.Threads < 1 || s.Warmup < 0 {
		return errors.New("-duration must be at least 1s; -runs, -connections and -threads positive")
	}
	wrk := ""
	switch s.Loadgen {
	case "auto", "wrk":
		if p, err := exec.LookPath("wrk"); err == nil {
			wrk, s.Loadgen = p, "wrk"
		} else if s.Loadgen == "wrk" {
			return errors.New("-loadgen wrk: wrk is not on PATH (apt-get install wrk)")
		} else {
			s.Loadgen = "go"
		}
	case "go":
	default:
		return fmt.Errorf("-loadgen %q: want wrk, go or auto", s.Loadgen)
	}
	if wrk != "" {
		s.Duration = s.Duration.Round(time.Second)
		s.Warmup = s.Warmup.Round(time.Second)
	}
	os.Unsetenv("AWS_CA_BUNDLE")

	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	tmp, err := os.MkdirTemp("", "overcast-bench-alb-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	sup := newSupervisor()
	defer sup.stopAll()
	go func() {
		<-ctx.Done()
		sup.stopAll()
	}()
	b := &bench{sup: sup, tmp: tmp, log: stderr}
	rep := &albReport{Time: time.Now(), Host: hostLine(), Settings: s, LoadAvgStart: loadAvg(),
		Command: "overcast-bench " + strings.Join(append([]string{albFlag}, args...), " ")}

	// The backend.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	bePort, err := freePort()
	if err != nil {
		return err
	}
	beAddr := "127.0.0.1:" + strconv.Itoa(bePort)
	be, err := startServer(ctx, b, "backend", exec.Command(self, albBackendFlag, beAddr), "http://"+beAddr+"/", *startTimeout)
	if err != nil {
		return err
	}
	rep.Backend = fmt.Sprintf("Go net/http server (%s %s %s), %d-byte text/plain body", filepath.Base(self), albBackendFlag, beAddr, len(albBody))
	paths := []albPath{{Key: "direct", Name: "direct", About: "straight to the backend", url: "http://" + beAddr + "/"}}

	// Overcast's ALB.
	p, err := startOvercastALB(ctx, b, *overcastBin, bePort, *startTimeout)
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	if err != nil {
		return fmt.Errorf("overcast ALB: %w", err)
	}
	paths = append(paths, p)

	// The peers.
	for _, start := range []func(context.Context, *bench, int, time.Duration) (albPath, error){startHAProxy, startNginx} {
		p, err := start(ctx, b, bePort, *startTimeout)
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		if err != nil {
			rep.Notes = append(rep.Notes, err.Error())
			b.progress("%v", err)
			continue
		}
		paths = append(paths, p)
	}

	// Interleaved runs.
	results := make([]albResult, len(paths))
	for i, p := range paths {
		results[i].albPath = p
	}
	for run := 1; run <= s.Runs; run++ {
		for i := range results {
			r := &results[i]
			if r.Error != "" {
				continue
			}
			b.progress("run %d/%d: %s", run, s.Runs, r.Name)
			if s.Warmup > 0 {
				if _, err := albLoad(ctx, wrk, s, r.url, s.Warmup); err != nil {
					r.Error = err.Error()
					continue
				}
			}
			var proxy0 int64
			if r.proc != nil {
				proxy0 = groupCPUTicks(r.proc.pid)
			}
			be0 := groupCPUTicks(be.pid)
			smp, err := albLoad(ctx, wrk, s, r.url, s.Duration)
			if ctx.Err() != nil {
				return errors.New("interrupted")
			}
			if err != nil {
				r.Error = err.Error()
				continue
			}
			if smp.Requests > 0 {
				perReq := func(ticks int64) float64 {
					return float64(ticks) * 1e6 / clockTicksPerSecond / float64(smp.Requests)
				}
				if r.proc != nil {
					smp.ProxyCPUus = perReq(groupCPUTicks(r.proc.pid) - proxy0)
				}
				smp.BackendCPUs = perReq(groupCPUTicks(be.pid) - be0)
			}
			r.Runs = append(r.Runs, smp)
		}
	}
	for i := range results {
		results[i].summarize()
	}
	rep.Results = results
	if s.Loadgen == "go" {
		rep.Notes = append(rep.Notes, "wrk is not on PATH: the load came from a Go client in this process, which caps requests/s well below what the proxies can do; compare CPU µs/request (apt-get install wrk)")
	}
	rep.LoadAvgEnd = loadAvg()
	sup.stopAll()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.print(stdout)
	return nil
}

// startServer starts cmd under the supervisor and waits until url answers
// 200.
func startServer(ctx context.Context, b *bench, name string, cmd *exec.Cmd, url string, timeout time.Duration) (*child, error) {
	c, err := b.sup.start(cmd, filepath.Join(b.tmp, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if err := waitOK(ctx, c, url, nil, timeout); err != nil {
		b.sup.stop(c)
		return nil, fmt.Errorf("%s: %w\n%s", name, err, indent(c.logTail()))
	}
	return c, nil
}

// waitOK polls url until it answers 200 (and check, if given, accepts the
// response), the process exits or timeout passes.
func waitOK(ctx context.Context, c *child, url string, check func(*http.Response) bool, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && (check == nil || check(resp)) {
				return nil
			}
		}
		if c != nil && c.exited() {
			return errors.New("exited before answering")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no 200 from %s within %v", url, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startOvercastALB starts Overcast and creates, through the SDK, an
// application load balancer with an HTTP listener forwarding to an ip
// target group whose one target is the backend.
func startOvercastALB(ctx context.Context, b *bench, bin string, bePort int, timeout time.Duration) (albPath, error) {
	about := bin
	if bin == "" {
		var err error
		if bin, about, err = buildOvercast(ctx, b.tmp, b); err != nil {
			return albPath{}, err
		}
	}
	port, err := freePort()
	if err != nil {
		return albPath{}, err
	}
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	oc, err := startServer(ctx, b, "overcast", exec.Command(bin, "--listen", "127.0.0.1:"+strconv.Itoa(port), "--log-level", "error", "--memory"), endpoint+"/_overcast/health", timeout)
	if err != nil {
		return albPath{}, err
	}
	c := elbv2.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	})
	lb, err := c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("bench-alb"), Type: elbtypes.LoadBalancerTypeEnumApplication})
	if err != nil {
		return albPath{}, fmt.Errorf("CreateLoadBalancer: %w", err)
	}
	tg, err := c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("bench-backend"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(int32(bePort)),
		VpcId: aws.String("vpc-bench"), TargetType: elbtypes.TargetTypeEnumIp,
		HealthCheckPath: aws.String("/"), HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2),
	})
	if err != nil {
		return albPath{}, fmt.Errorf("CreateTargetGroup: %w", err)
	}
	tgARN := tg.TargetGroups[0].TargetGroupArn
	if _, err := c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tgARN,
		Targets: []elbtypes.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(bePort))}}}); err != nil {
		return albPath{}, fmt.Errorf("RegisterTargets: %w", err)
	}
	lport, err := freePort()
	if err != nil {
		return albPath{}, err
	}
	if _, err := c.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(int32(lport)),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tgARN}},
	}); err != nil {
		return albPath{}, fmt.Errorf("CreateListener: %w", err)
	}
	// Healthy target, and the listener really on the port asked for (it
	// falls back to an ephemeral port when that one is taken).
	deadline := time.Now().Add(timeout)
	for {
		h, err := c.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tgARN})
		if err != nil {
			return albPath{}, fmt.Errorf("DescribeTargetHealth: %w", err)
		}
		if len(h.TargetHealthDescriptions) == 1 && h.TargetHealthDescriptions[0].TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			break
		}
		if time.Now().After(deadline) {
			return albPath{}, errors.New("the backend target did not turn healthy")
		}
		time.Sleep(50 * time.Millisecond)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(lport) + "/"
	if err := waitOK(ctx, nil, url, func(r *http.Response) bool { return r.Header.Get("Server") == "" }, 5*time.Second); err != nil {
		return albPath{}, fmt.Errorf("listener on port %d: %w", lport, err)
	}
	return albPath{Key: "alb", Name: "overcast ALB", About: about + " (memory mode; listener HTTP:" + strconv.Itoa(lport) + ", ip target group)", url: url, proc: oc}, nil
}

// startHAProxy runs haproxy as a reverse proxy to the backend: HTTP mode,
// keep-alive both ways with connection reuse, X-Forwarded-For added.
func startHAProxy(ctx context.Context, b *bench, bePort int, timeout time.Duration) (albPath, error) {
	bin, ok := resolveBinary("haproxy")
	if !ok {
		return albPath{}, errors.New("haproxy skipped: not installed (apt-get install haproxy)")
	}
	port, err := freePort()
	if err != nil {
		return albPath{}, err
	}
	dir := filepath.Join(b.tmp, "haproxy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return albPath{}, err
	}
	cfg := fmt.Sprintf(`global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
    option forwardfor
frontend fe
    bind 127.0.0.1:%d
    default_backend be
backend be
    http-reuse always
    server s1 127.0.0.1:%d
`, port, bePort)
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return albPath{}, err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	c, err := startServer(ctx, b, "haproxy", exec.Command(bin, "-db", "-f", path), url, timeout)
	if err != nil {
		return albPath{}, fmt.Errorf("haproxy skipped: %v", firstLine(err.Error()))
	}
	return albPath{Key: "haproxy", Name: "haproxy", About: commandVersion(bin, "-v") + " (http mode, threads: one per CPU, http-reuse always, option forwardfor)", url: url, proc: c}, nil
}

// startNginx runs nginx as a reverse proxy to the backend: one worker per
// CPU, an upstream keep-alive pool, X-Forwarded-For added, no access log.
func startNginx(ctx context.Context, b *bench, bePort int, timeout time.Duration) (albPath, error) {
	bin, ok := resolveBinary("nginx")
	if !ok {
		if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
			bin, ok = "/usr/sbin/nginx", true
		}
	}
	if !ok {
		return albPath{}, errors.New("nginx skipped: not installed (apt-get install nginx)")
	}
	port, err := freePort()
	if err != nil {
		return albPath{}, err
	}
	dir := filepath.Join(b.tmp, "nginx")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return albPath{}, err
	}
	cfg := fmt.Sprintf(`daemon off;
worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log error;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    keepalive_requests 1000000;
    upstream backend {
        server 127.0.0.1:%[3]d;
        keepalive 256;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:%[2]d;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering on;
        }
    }
}
`, dir, port, bePort)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return albPath{}, err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	c, err := startServer(ctx, b, "nginx", exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", path), url, timeout)
	if err != nil {
		return albPath{}, fmt.Errorf("nginx skipped: %v", firstLine(err.Error()))
	}
	return albPath{Key: "nginx", Name: "nginx", About: commandVersion(bin, "-v") + " (one worker per CPU, upstream keepalive 256)", url: url, proc: c}, nil
}

// commandVersion is the first line bin prints for its version flag.
func commandVersion(bin, flag string) string {
	out, _ := exec.Command(bin, flag).CombinedOutput()
	l, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if l = strings.TrimSpace(l); l != "" {
		return l
	}
	return bin
}
