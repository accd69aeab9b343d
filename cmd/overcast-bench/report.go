package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Targets from PERF-TARGETS.md, printed next to the measured figures. They
// never change the exit status.
const (
	targetStartMs        = 20.0 // start to first answered request, ms
	targetIdleRSSMiB     = 15.0 // idle resident set, MiB, every service registered
	targetSmallCallCPUUs = 40.0 // server CPU µs per small API call
	targetFloorFactor    = 3.0  // server CPU µs/op within this many times the floor's
	targetVsMotoFactor   = 40.0 // at least this many times cheaper than moto
)

// Settings are the knobs of one benchmark run.
type Settings struct {
	// Duration and Concurrency, when not zero, replace every workload's own
	// default.
	Duration     time.Duration `json:"duration_ns"`
	Runs         int           `json:"runs"`
	Concurrency  int           `json:"concurrency"`
	Starts       int           `json:"starts"`
	Warmup       time.Duration `json:"warmup_ns"`
	Settle       time.Duration `json:"settle_ns"`
	SetupTimeout time.Duration `json:"setup_timeout_ns"`
	Options      Options       `json:"options"`
}

// concurrency is the number of client goroutines for d.
func (s Settings) concurrency(d workloadDef) int {
	if s.Concurrency > 0 {
		return s.Concurrency
	}
	if d.concurrency > 0 {
		return d.concurrency
	}
	return defaultSmallConc
}

// duration is the length of one measured run of d.
func (s Settings) duration(d workloadDef) time.Duration {
	if s.Duration > 0 {
		return s.Duration
	}
	if d.duration > 0 {
		return d.duration
	}
	return defaultDuration
}

// Report is everything one benchmark run measured; -json prints it.
type Report struct {
	Time     time.Time `json:"time"`
	Host     string    `json:"host"`
	Overcast string    `json:"overcast"`
	Settings Settings  `json:"settings"`
	// The machine's 1-minute load average before and after, from /proc/loadavg.
	LoadAvgStart string           `json:"loadavg_start"`
	LoadAvgEnd   string           `json:"loadavg_end"`
	Notes        []string         `json:"notes,omitempty"` // peers skipped and why
	Targets      []TargetReport   `json:"targets"`
	Workloads    []WorkloadReport `json:"workloads"`
}

// StartSample is one start of one target.
type StartSample struct {
	Ms           float64 `json:"ms"`
	RSSKiB       int64   `json:"rss_kib"`
	RequestError string  `json:"request_error,omitempty"`
	Error        string  `json:"error,omitempty"`
}

// TargetReport is the start and idle memory of one target.
type TargetReport struct {
	Key    string        `json:"key"`
	Name   string        `json:"name"`
	About  string        `json:"about"`
	Starts []StartSample `json:"starts"`
	// Medians, minimum and maximum over the starts that succeeded.
	StartMedianMs float64 `json:"start_median_ms"`
	StartMinMs    float64 `json:"start_min_ms"`
	StartMaxMs    float64 `json:"start_max_ms"`
	IdleRSSMiB    float64 `json:"idle_rss_mib"`
	OK            int     `json:"ok_starts"`
	Error         string  `json:"error,omitempty"` // last error, if any start failed
}

func (r *TargetReport) summarize() {
	var starts, rss []float64
	for _, s := range r.Starts {
		if s.Error != "" {
			r.Error = s.Error
		}
		if s.Ms > 0 && s.RSSKiB > 0 {
			starts = append(starts, s.Ms)
			rss = append(rss, float64(s.RSSKiB)/1024)
		}
	}
	r.OK = len(starts)
	if len(starts) == 0 {
		return
	}
	r.StartMedianMs = median(starts)
	r.StartMinMs, r.StartMaxMs = slices.Min(starts), slices.Max(starts)
	r.IdleRSSMiB = median(rss)
}

// RunSample is one measured run of one workload against one target.
type RunSample struct {
	Ops              int64   `json:"ops"`
	Errors           int64   `json:"errors"`
	FirstError       string  `json:"first_error,omitempty"`
	WallSec          float64 `json:"wall_s"`
	ServerCPUSec     float64 `json:"server_cpu_s"`
	ClientCPUSec     float64 `json:"client_cpu_s"`
	OpsPerSec        float64 `json:"ops_per_s"`
	ServerCPUUsPerOp float64 `json:"server_cpu_us_per_op"`
	ClientCPUUsPerOp float64 `json:"client_cpu_us_per_op"`
	// Extras are the workload's own figures: latency percentiles, queue
	// depth.
	Extras map[string]float64 `json:"extras,omitempty"`
}

// LoadReport is one workload against one target: its runs and their medians.
type LoadReport struct {
	Key              string      `json:"key"`
	Target           string      `json:"target"`
	Kind             string      `json:"kind"`
	Skipped          string      `json:"skipped,omitempty"`
	Runs             []RunSample `json:"runs"`
	OpsPerSec        float64     `json:"ops_per_s"`
	ServerCPUUsPerOp float64     `json:"server_cpu_us_per_op"`
	ClientCPUUsPerOp float64     `json:"client_cpu_us_per_op"`
	Errors           int64       `json:"errors"`
	FirstError       string      `json:"first_error,omitempty"`
	// Extras are the medians of the runs' extras.
	Extras map[string]float64 `json:"extras,omitempty"`
	kind   kind
}

func (r *LoadReport) summarize() {
	var rps, srv, cli []float64
	r.Errors, r.FirstError = 0, ""
	for _, s := range r.Runs {
		r.Errors += s.Errors
		if r.FirstError == "" {
			r.FirstError = s.FirstError
		}
		if s.Ops > 0 {
			rps = append(rps, s.OpsPerSec)
			srv = append(srv, s.ServerCPUUsPerOp)
			cli = append(cli, s.ClientCPUUsPerOp)
		}
	}
	if len(rps) > 0 {
		r.OpsPerSec, r.ServerCPUUsPerOp, r.ClientCPUUsPerOp = median(rps), median(srv), median(cli)
	}
	extras := map[string][]float64{}
	for _, s := range r.Runs {
		for k, v := range s.Extras {
			extras[k] = append(extras[k], v)
		}
	}
	r.Extras = nil
	for k, v := range extras {
		if r.Extras == nil {
			r.Extras = map[string]float64{}
		}
		r.Extras[k] = median(v)
	}
}

func (r *LoadReport) spread(f func(RunSample) float64) (lo, hi float64) {
	var v []float64
	for _, s := range r.Runs {
		if s.Ops > 0 {
			v = append(v, f(s))
		}
	}
	if len(v) == 0 {
		return 0, 0
	}
	return slices.Min(v), slices.Max(v)
}

// WorkloadReport is one workload against every target that emulates its
// service.
type WorkloadReport struct {
	Name        string        `json:"name"`
	Doc         string        `json:"doc"`
	Concurrency int           `json:"concurrency"`
	Duration    time.Duration `json:"duration_ns"`
	Unit        string        `json:"unit,omitempty"` // throughput also given as ops/s × PerOp in Unit
	PerOp       float64       `json:"per_op,omitempty"`
	Results     []LoadReport  `json:"results"`
	def         workloadDef
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// verdict marks a measured value against a target. It is informational.
func verdict(ok bool) string {
	if ok {
		return "meets"
	}
	return "MISSES"
}

// printText writes the human-readable report.
func (rep *Report) printText(w io.Writer) {
	s := rep.Settings
	fmt.Fprintf(w, "Overcast benchmark  %s  %s\n", rep.Time.Format("2006-01-02 15:04 MST"), rep.Host)
	fmt.Fprintf(w, "load average (1 min): %s at start, %s at end; other work on the machine moves ops/s more than CPU µs/op\n",
		rep.LoadAvgStart, rep.LoadAvgEnd)
	conc, dur := "per workload", "per workload"
	if s.Concurrency > 0 {
		conc = strconv.Itoa(s.Concurrency)
	}
	if s.Duration > 0 {
		dur = s.Duration.String()
	}
	fmt.Fprintf(w, "settings: %d starts per target; load: goroutines %s, %d interleaved runs per workload and target, run length %s, %v warm-up before each; set-up limit %v\n",
		s.Starts, conc, s.Runs, dur, s.Warmup, s.SetupTimeout)
	fmt.Fprintf(w, "sizes: DynamoDB table %d items; CloudWatch metric %d datapoints; SNS fan-out %.0f publishes/s\n",
		s.Options.DynamoDBItems, s.Options.MetricDatapoints, s.Options.FanoutRate)
	for _, t := range rep.Targets {
		fmt.Fprintf(w, "  %-18s %s\n", t.Name+":", t.About)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	fmt.Fprintln(w, "The load driver runs on the same cores as the servers: its CPU (client CPU µs/op) is shared by")
	fmt.Fprintln(w, "every target and caps ops/s; compare servers on server CPU µs/op.")

	fmt.Fprintf(w, "\nStart → first answered request, idle RSS (median of %d starts; RSS %v after one request)\n", s.Starts, s.Settle)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tstart ms\tmin–max\tidle RSS MiB\tstarts ok\t")
	for _, t := range rep.Targets {
		if t.OK == 0 {
			fmt.Fprintf(tw, "%s\tfailed\t\t\t0/%d\t\n", t.Name, len(t.Starts))
			continue
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f–%.1f\t%.1f\t%d/%d\t\n", t.Name, t.StartMedianMs, t.StartMinMs, t.StartMaxMs, t.IdleRSSMiB, t.OK, len(t.Starts))
	}
	fmt.Fprintf(tw, "target (Overcast)\t< %.0f\t\t< %.0f\t\t\n", targetStartMs, targetIdleRSSMiB)
	tw.Flush()
	for _, t := range rep.Targets {
		if t.Error != "" {
			fmt.Fprintf(w, "  %s: %s\n", t.Name, firstLine(t.Error))
		}
	}

	for _, wr := range rep.Workloads {
		rep.printWorkload(w, wr)
	}
	rep.printTargetSummary(w)
}

// extraColumns are the figures beyond ops and CPU that d reports.
func extraColumns(d workloadDef) []string {
	var cols []string
	if d.latency {
		cols = append(cols, "p50 ms", "p99 ms")
	}
	return append(cols, d.extras...)
}

// fmtFigure prints a figure with a precision that suits its size.
func fmtFigure(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func (rep *Report) printWorkload(w io.Writer, wr WorkloadReport) {
	s, d := rep.Settings, wr.def
	fmt.Fprintf(w, "\n%s: %s\n  %d goroutines, median of %d runs of %v\n", wr.Name, wr.Doc, wr.Concurrency, s.Runs, wr.Duration)
	if len(wr.Results) == 0 {
		fmt.Fprintln(w, "  no target emulates this service")
		return
	}
	cols := extraColumns(d)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "target\tops/s\tmin–max\t"
	if d.unit != "" {
		head += d.unit + "\t"
	}
	head += "server CPU µs/op\tmin–max\tclient CPU µs/op\t"
	for _, c := range cols {
		head += c + "\t"
	}
	fmt.Fprintln(tw, head+"errors\t")
	blank := 5 + len(cols)
	if d.unit != "" {
		blank++
	}
	for _, r := range wr.Results {
		if r.Skipped != "" {
			fmt.Fprintf(tw, "%s\t–%s\t\n", r.Target, strings.Repeat("\t", blank))
			continue
		}
		if r.OpsPerSec == 0 {
			fmt.Fprintf(tw, "%s\tfailed%s%d\t\n", r.Target, strings.Repeat("\t", blank), r.Errors)
			continue
		}
		rlo, rhi := r.spread(func(s RunSample) float64 { return s.OpsPerSec })
		clo, chi := r.spread(func(s RunSample) float64 { return s.ServerCPUUsPerOp })
		line := fmt.Sprintf("%s\t%.0f\t%.0f–%.0f\t", r.Target, r.OpsPerSec, rlo, rhi)
		if d.unit != "" {
			line += fmtFigure(r.OpsPerSec*d.perOp) + "\t"
		}
		line += fmt.Sprintf("%.1f\t%.1f–%.1f\t%.1f\t", r.ServerCPUUsPerOp, clo, chi, r.ClientCPUUsPerOp)
		for _, c := range cols {
			if v, ok := r.Extras[c]; ok {
				line += fmtFigure(v) + "\t"
			} else {
				line += "\t"
			}
		}
		fmt.Fprintf(tw, "%s%d\t\n", line, r.Errors)
	}
	g := d.goals
	aim := "aim (Overcast)\t\t\t"
	if d.unit != "" {
		if g.minRate > 0 {
			aim += fmt.Sprintf("≥ %.0f\t", g.minRate)
		} else {
			aim += "\t"
		}
	}
	if g.cpuUs > 0 {
		aim += fmt.Sprintf("≤ %.0f\t\t\t", g.cpuUs)
	} else {
		aim += "\t\t\t"
	}
	for _, c := range cols {
		switch {
		case c == "p50 ms" && g.p50Ms > 0:
			aim += fmt.Sprintf("≤ %s\t", fmtFigure(g.p50Ms))
		case c == "p99 ms" && g.p99Ms > 0:
			aim += fmt.Sprintf("≤ %s\t", fmtFigure(g.p99Ms))
		default:
			aim += "\t"
		}
	}
	fmt.Fprintln(tw, aim+"\t")
	tw.Flush()
	for _, r := range wr.Results {
		if r.Skipped != "" {
			fmt.Fprintf(w, "  %s: skipped, %s\n", r.Target, firstLine(r.Skipped))
		} else if r.FirstError != "" {
			fmt.Fprintf(w, "  %s: first error: %s\n", r.Target, firstLine(r.FirstError))
		}
	}
	rep.printRatios(w, wr)
}

// ratioLine is one comparison of an Overcast mode with another target.
type ratioLine struct {
	ours, other    string
	rate, cpuLess  float64 // ours ÷ other throughput; other ÷ ours server CPU per op
	floor          bool
	rateGoal       string
	cpuGoal        string
	aheadOfPeerSet bool
}

func (rep *Report) ratios(wr WorkloadReport) []ratioLine {
	var ours, others []LoadReport
	for _, r := range wr.Results {
		if r.OpsPerSec == 0 {
			continue
		}
		if r.kind == kindOvercast {
			ours = append(ours, r)
		} else {
			others = append(others, r)
		}
	}
	g := wr.def.goals
	var out []ratioLine
	for _, o := range ours {
		for _, p := range others {
			l := ratioLine{ours: o.Target, other: p.Target, rate: o.OpsPerSec / p.OpsPerSec,
				cpuLess: p.ServerCPUUsPerOp / o.ServerCPUUsPerOp, floor: p.kind == kindFloor}
			switch {
			case l.floor:
				if g.floorRateShare > 0 {
					l.rateGoal = fmt.Sprintf("≥ %.0f%% of the floor: %s", g.floorRateShare*100, verdict(l.rate >= g.floorRateShare))
				}
				if g.floorCPUFactor > 0 {
					l.cpuGoal = fmt.Sprintf("≤ %.0f× the floor: %s", g.floorCPUFactor, verdict(1/l.cpuLess <= g.floorCPUFactor))
				}
			case p.Key == "moto":
				if g.vsMotoRate > 0 {
					l.rateGoal = fmt.Sprintf("≥ %.0f×: %s", g.vsMotoRate, verdict(l.rate >= g.vsMotoRate))
				}
				if g.vsMotoCPU > 0 {
					l.cpuGoal = fmt.Sprintf("≥ %.0f× less: %s", g.vsMotoCPU, verdict(l.cpuLess >= g.vsMotoCPU))
				}
			}
			if !l.floor && g.aheadOfPeers {
				if l.rateGoal == "" {
					l.rateGoal = "ahead: " + verdict(l.rate > 1)
				}
				if l.cpuGoal == "" {
					l.cpuGoal = "ahead: " + verdict(l.cpuLess > 1)
				}
			}
			out = append(out, l)
		}
	}
	return out
}

func (rep *Report) printRatios(w io.Writer, wr WorkloadReport) {
	lines := rep.ratios(wr)
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(w, "  Ratios (medians)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range lines {
		rate := fmt.Sprintf("throughput %.2f×", l.rate)
		if l.floor && wr.Name == "sts-getcalleridentity" {
			rate += " (floor's client is unsigned)"
		}
		if l.rateGoal != "" {
			rate += " (" + l.rateGoal + ")"
		}
		var cpu string
		if l.floor {
			cpu = fmt.Sprintf("server CPU per op %.1f× the floor's", 1/l.cpuLess)
		} else {
			cpu = fmt.Sprintf("server CPU per op %.1f× less", l.cpuLess)
		}
		if l.cpuGoal != "" {
			cpu += " (" + l.cpuGoal + ")"
		}
		fmt.Fprintf(tw, "  %s vs %s:\t%s\t%s\n", l.ours, l.other, rate, cpu)
	}
	tw.Flush()
}

func (rep *Report) printTargetSummary(w io.Writer) {
	fmt.Fprintln(w, "\nAims (PERF-TARGETS.md and the service issues; informational, never a failure)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range rep.Targets {
		if !strings.HasPrefix(t.Key, "overcast") || t.OK == 0 {
			continue
		}
		fmt.Fprintf(tw, "  %s start\t%.1f ms\t< %.0f ms\t%s\n", t.Name, t.StartMedianMs, targetStartMs, verdict(t.StartMedianMs < targetStartMs))
		fmt.Fprintf(tw, "  %s idle RSS\t%.1f MiB\t< %.0f MiB\t%s\n", t.Name, t.IdleRSSMiB, targetIdleRSSMiB, verdict(t.IdleRSSMiB < targetIdleRSSMiB))
	}
	for _, wr := range rep.Workloads {
		g := wr.def.goals
		for _, r := range wr.Results {
			if r.kind != kindOvercast {
				continue
			}
			name := r.Target + " " + wr.Name
			if r.OpsPerSec == 0 {
				fmt.Fprintf(tw, "  %s\t%s\t\t\n", name, map[bool]string{true: "skipped", false: "failed"}[r.Skipped != ""])
				continue
			}
			if g.cpuUs > 0 {
				fmt.Fprintf(tw, "  %s server CPU\t%.1f µs/op\t≤ %.0f µs/op\t%s\n", name, r.ServerCPUUsPerOp, g.cpuUs, verdict(r.ServerCPUUsPerOp <= g.cpuUs))
			}
			if g.minRate > 0 {
				v := r.OpsPerSec * wr.def.perOp
				fmt.Fprintf(tw, "  %s\t%.0f %s\t≥ %.0f %s\t%s\n", name, v, wr.def.unit, g.minRate, wr.def.unit, verdict(v >= g.minRate))
			}
			for _, q := range []struct {
				col string
				max float64
			}{{"p50 ms", g.p50Ms}, {"p99 ms", g.p99Ms}} {
				if v, ok := r.Extras[q.col]; ok && q.max > 0 {
					fmt.Fprintf(tw, "  %s %s\t%s ms\t≤ %s ms\t%s\n", name, strings.TrimSuffix(q.col, " ms"), fmtFigure(v), fmtFigure(q.max), verdict(v <= q.max))
				}
			}
			if r.Errors > 0 {
				fmt.Fprintf(tw, "  %s errors\t%d\t0\t%s\n", name, r.Errors, verdict(false))
			}
		}
		for _, l := range rep.ratios(wr) {
			if l.rateGoal != "" {
				fmt.Fprintf(tw, "  %s %s vs %s throughput\t%.2f×\t%s\t\n", l.ours, wr.Name, l.other, l.rate, l.rateGoal)
			}
			if l.cpuGoal != "" && l.floor {
				fmt.Fprintf(tw, "  %s %s vs %s server CPU/op\t%.2f× the floor's\t%s\t\n", l.ours, wr.Name, l.other, 1/l.cpuLess, l.cpuGoal)
			} else if l.cpuGoal != "" {
				fmt.Fprintf(tw, "  %s %s vs %s server CPU/op\t%.2f× less\t%s\t\n", l.ours, wr.Name, l.other, l.cpuLess, l.cpuGoal)
			}
		}
	}
	tw.Flush()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
