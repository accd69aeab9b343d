// Command overcast-bench compares Overcast with the other AWS emulators
// installed on this machine and with the machine's floor, a plain net/http
// server, in one run: start time to the first answered request, idle
// resident memory, and for each workload the throughput and the server CPU
// spent per operation. See bench/README.md for how to read the output.
//
// Usage:
//
//	go run ./cmd/overcast-bench [-duration D] [-runs 3] [-concurrency N] [-starts 5]
//	    [-workloads all] [-targets all] [-overcast PATH] [-ddb-items 10000]
//	    [-cw-datapoints 10000] [-fanout-rate 100] [-json]
//
// It exits 0 whatever the figures are; it exits 1 only when it cannot run:
// bad flags, Overcast does not build, or no Overcast target starts.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	albMain(os.Args[1:]) // -alb and -alb-backend (alb.go) run and exit here
	if (len(os.Args) == 3 || len(os.Args) == 4) && os.Args[1] == floorFlag {
		dir := ""
		if len(os.Args) == 4 {
			dir = os.Args[3]
		}
		if err := serveFloor(os.Args[2], dir); err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "overcast-bench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("overcast-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s Settings
	fs.DurationVar(&s.Duration, "duration", 0, "length of one measured load run (default: each workload's own, 2s)")
	fs.IntVar(&s.Runs, "runs", 3, "measured load runs per target and workload, interleaved across targets; medians are reported")
	fs.IntVar(&s.Concurrency, "concurrency", 0, "client goroutines during load runs (default: each workload's own, 32 for STS and SQS, 16 for S3, DynamoDB and PutMetricData)")
	fs.IntVar(&s.Starts, "starts", 5, "starts per target for start time and idle RSS; medians are reported")
	fs.DurationVar(&s.Warmup, "warmup", 300*time.Millisecond, "unmeasured load before each measured run")
	fs.DurationVar(&s.Settle, "settle", 200*time.Millisecond, "pause after the first request before reading idle RSS")
	fs.DurationVar(&s.SetupTimeout, "setup-timeout", 120*time.Second, "time one workload's set-up (filling queues, tables, metrics) may take on one target before it is skipped")
	fs.IntVar(&s.Options.DynamoDBItems, "ddb-items", 10_000, "items in the pre-filled DynamoDB table (1000000 for the issue's 1 M-item table)")
	fs.IntVar(&s.Options.MetricDatapoints, "cw-datapoints", 10_000, "datapoints in the pre-filled CloudWatch metric (1000000 for the issue's 1 M; moto needs seconds per GetMetricData from 10,000 on)")
	fs.Float64Var(&s.Options.FanoutRate, "fanout-rate", 100, "SNS publishes per second in sns-fanout (each delivered to 10 queues)")
	peerBuildTimeout := fs.Duration("peer-build-timeout", 5*time.Minute, "time to build a peer from the Go module proxy before it is skipped")
	workloads := fs.String("workloads", "all", "comma-separated workloads (or services: sts, sqs, sns, s3, dynamodb, cloudwatch; or prefixes like s3-*), or all")
	targets := fs.String("targets", "all", "comma-separated targets: overcast (both modes), overcast-memory, overcast-disk, moto, goaws, gofakes3, versitygw, floor; or all")
	overcastBin := fs.String("overcast", "", "Overcast binary to measure (default: build ./cmd/overcast from this module)")
	startTimeout := fs.Duration("start-timeout", 30*time.Second, "how long a server may take to answer its first request")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of tables")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: overcast-bench [flags]\n\nCompares Overcast with installed peers and a plain net/http floor. Workloads: %s.\n\n", workloadNames(workloadDefs()))
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
	if s.Duration < 0 || s.Runs < 1 || s.Concurrency < 0 || s.Starts < 1 || s.SetupTimeout <= 0 {
		return errors.New("-runs, -starts and -setup-timeout must be positive, -duration and -concurrency not negative")
	}
	if s.Options.DynamoDBItems < 1000 || s.Options.MetricDatapoints < 1 || s.Options.FanoutRate <= 0 {
		return errors.New("-ddb-items must be at least 1000, -cw-datapoints and -fanout-rate positive")
	}
	defs, err := selectWorkloads(*workloads)
	if err != nil {
		return err
	}
	want, err := parseTargets(*targets)
	if err != nil {
		return err
	}

	// The machine may point AWS_CA_BUNDLE at a file; the SDK then refuses a
	// custom HTTP client. Nothing here speaks TLS.
	os.Unsetenv("AWS_CA_BUNDLE")

	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	tmp, err := os.MkdirTemp("", "overcast-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	sup := newSupervisor()
	defer sup.stopAll()
	// On interrupt, kill the servers at once: whatever is measuring then
	// fails fast and the deferred clean-up runs.
	go func() {
		<-ctx.Done()
		sup.stopAll()
	}()

	b := &bench{sup: sup, tmp: tmp, settings: s, defs: defs, opts: s.Options, log: stderr, began: time.Now()}
	rep := &Report{Time: time.Now(), Settings: s, Host: hostLine(), LoadAvgStart: loadAvg()}

	// Overcast, built from this module unless a binary is given.
	var all []target
	if want("overcast-memory") || want("overcast-disk") {
		bin, about := *overcastBin, ""
		if bin == "" {
			bin, about, err = buildOvercast(ctx, tmp, b)
			if err != nil {
				return err
			}
		} else {
			if bin, err = filepath.Abs(bin); err != nil {
				return err
			}
			about = bin
		}
		rep.Overcast = about
		for _, t := range overcastTargets(bin, about, *startTimeout) {
			if want(t.key) {
				all = append(all, t)
			}
		}
	}
	for _, p := range peerDefs() {
		if !want(p.key) {
			continue
		}
		probe := target{key: p.key, kind: kindPeer, services: p.services}
		useful := false
		for _, d := range defs {
			useful = useful || probe.serves(d)
		}
		if !useful {
			continue
		}
		var path, about string
		if p.binary != "" {
			var ok bool
			if path, ok = resolveBinary(p.binary); !ok {
				rep.Notes = append(rep.Notes, fmt.Sprintf("peer %s skipped: %s is not on PATH", p.name, p.binary))
				b.progress("peer %s skipped: %s not on PATH", p.name, p.binary)
				continue
			}
			about = path
			if p.version != nil {
				if v := p.version(path); v != "" {
					about = fmt.Sprintf("%s %s (%s)", p.name, v, path)
				}
			}
		} else {
			b.progress("building peer %s: go install %s@%s", p.name, p.goPkg, p.goVersion)
			bctx, cancel := context.WithTimeout(ctx, *peerBuildTimeout)
			path, err = buildGoPeer(bctx, tmp, p)
			cancel()
			if ctx.Err() != nil {
				return errors.New("interrupted")
			}
			if err != nil {
				rep.Notes = append(rep.Notes, fmt.Sprintf("peer %s skipped: it did not build: %s", p.name, firstLine(err.Error())))
				b.progress("peer %s skipped: %v", p.name, err)
				continue
			}
			about = fmt.Sprintf("%s %s, built from the Go module proxy (%s@%s)", p.name, p.goVersion, p.goPkg, p.goVersion)
		}
		all = append(all, target{
			key: p.key, name: p.name, kind: kindPeer, about: about, services: p.services,
			command: func(port int, dir string) (*exec.Cmd, error) {
				args, err := p.args(port, dir)
				if err != nil {
					return nil, err
				}
				return exec.Command(path, args...), nil
			},
			probeMethod: p.probeMethod, probePath: p.probePath, probeBody: p.probeBody,
			startTimeout: *startTimeout,
		})
	}
	floorUseful := false
	for _, d := range defs {
		floorUseful = floorUseful || d.floor
	}
	if want("floor") && floorUseful {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find own binary for the floor server: %w", err)
		}
		all = append(all, floorTarget(self, *startTimeout))
	}

	// 1–2. Start time and idle RSS, target by target.
	up := map[string]bool{}
	for _, t := range all {
		b.progress("start: %s × %d", t.name, s.Starts)
		tr := b.measureStarts(ctx, t)
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		rep.Targets = append(rep.Targets, tr)
		up[t.key] = tr.OK > 0
	}
	anyOvercast := false
	for _, t := range all {
		anyOvercast = anyOvercast || (t.kind == kindOvercast && up[t.key])
	}
	if !anyOvercast && len(all) > 0 && all[0].kind == kindOvercast {
		rep.emit(stdout, *asJSON)
		return errors.New("no Overcast target started; see the errors above")
	}

	// 3. Load: every target that started runs at once (idle between its
	// turns), and runs are interleaved target by target so slow drift on the
	// machine spreads over all of them.
	// Targets are started and set up side by side: nothing is measured yet,
	// and a slow peer filling its queues then holds up no one.
	var (
		lives   []*live
		started []target
		setups  []*live
		errs    []error
		wg      sync.WaitGroup
	)
	for _, t := range all {
		if up[t.key] {
			started = append(started, t)
		}
	}
	setups, errs = make([]*live, len(started)), make([]error, len(started))
	for i, t := range started {
		wg.Go(func() { setups[i], errs[i] = b.startForLoad(ctx, t) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	for i, t := range started {
		if errs[i] != nil {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: not load-tested: %s", t.name, firstLine(errs[i].Error())))
			continue
		}
		lives = append(lives, setups[i])
	}
	// results[i] holds workload i's row for every live target that serves
	// it; slot[i][j] is live target j's row in it, or -1.
	results := make([][]LoadReport, len(defs))
	slot := make([][]int, len(defs))
	for i, d := range defs {
		slot[i] = make([]int, len(lives))
		for j, l := range lives {
			slot[i][j] = -1
			if !l.t.serves(d) {
				continue
			}
			lr := LoadReport{Key: l.t.key, Target: l.t.name, Kind: kindName(l.t.kind), kind: l.t.kind}
			lr.Skipped = l.skipped[d.name]
			slot[i][j] = len(results[i])
			results[i] = append(results[i], lr)
		}
	}
	for run := 1; run <= s.Runs; run++ {
		for j, l := range lives {
			for i, d := range defs {
				w := l.works[d.name]
				if w == nil {
					continue
				}
				b.progress("load run %d/%d: %s %s", run, s.Runs, l.t.name, d.name)
				r := b.measureLoad(ctx, l, d, w)
				if ctx.Err() != nil {
					return errors.New("interrupted")
				}
				k := slot[i][j]
				results[i][k].Runs = append(results[i][k].Runs, r)
			}
		}
	}
	for _, l := range lives {
		for _, d := range defs {
			if n, ok := l.works[d.name].(noter); ok {
				for _, s := range n.Notes() {
					rep.Notes = append(rep.Notes, fmt.Sprintf("%s %s: %s", l.t.name, d.name, s))
				}
			}
		}
	}
	for i, d := range defs {
		for j := range results[i] {
			results[i][j].summarize()
		}
		rep.Workloads = append(rep.Workloads, WorkloadReport{Name: d.name, Doc: d.doc, Results: results[i],
			Concurrency: s.concurrency(d), Duration: s.duration(d), Unit: d.unit, PerOp: d.perOp, def: d})
	}
	sup.stopAll()
	rep.emit(stdout, *asJSON)
	return nil
}

func (rep *Report) emit(w io.Writer, asJSON bool) {
	rep.LoadAvgEnd = loadAvg()
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
		return
	}
	rep.printText(w)
}

func kindName(k kind) string {
	switch k {
	case kindOvercast:
		return "overcast"
	case kindPeer:
		return "peer"
	default:
		return "floor"
	}
}

// parseTargets resolves -targets into a membership test.
func parseTargets(spec string) (func(string) bool, error) {
	if spec == "" || spec == "all" {
		return func(string) bool { return true }, nil
	}
	known := []string{"overcast-memory", "overcast-disk", "floor"}
	for _, p := range peerDefs() {
		known = append(known, p.key)
	}
	set := map[string]bool{}
	for _, k := range strings.Split(spec, ",") {
		k = strings.TrimSpace(k)
		if k == "overcast" {
			set["overcast-memory"], set["overcast-disk"] = true, true
			continue
		}
		found := false
		for _, n := range known {
			found = found || n == k
		}
		if !found {
			return nil, fmt.Errorf("unknown target %q (have overcast, %s)", k, strings.Join(known, ", "))
		}
		set[k] = true
	}
	return func(k string) bool { return set[k] }, nil
}

// buildOvercast builds ./cmd/overcast of the module holding the working
// directory into tmp.
func buildOvercast(ctx context.Context, tmp string, b *bench) (bin, about string, err error) {
	root, err := moduleRoot()
	if err != nil {
		return "", "", err
	}
	bin = filepath.Join(tmp, "overcast")
	b.progress("building %s/cmd/overcast", root)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/overcast")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("build overcast: %v\n%s", err, out)
	}
	about = "built from " + root
	if out, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty").Output(); err == nil {
		about += " @ " + strings.TrimSpace(string(out))
	}
	return bin, about, nil
}

// moduleRoot walks up from the working directory to the go.mod of the
// Overcast module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			strings.Contains(string(b), "module github.com/overcast-dev/overcast\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the Overcast module; run from the repository or pass -overcast PATH")
		}
		dir = parent
	}
}

// hostLine describes the machine in one line.
func hostLine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	s := fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	if model != "" {
		s += ", " + model
	}
	return s
}

// loadAvg is the machine's 1-minute load average, or "?".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
