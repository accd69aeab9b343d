package main

import (
	"fmt"
	"io"
	"slices"
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
	Duration    time.Duration `json:"duration_ns"`
	Runs        int           `json:"runs"`
	Concurrency int           `json:"concurrency"`
	Starts      int           `json:"starts"`
	Warmup      time.Duration `json:"warmup_ns"`
	Settle      time.Duration `json:"settle_ns"`
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
	kind             kind
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

// WorkloadReport is one workload against every target.
type WorkloadReport struct {
	Name    string       `json:"name"`
	Doc     string       `json:"doc"`
	Results []LoadReport `json:"results"`
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
	fmt.Fprintf(w, "settings: %d starts per target; load: %d goroutines, %d interleaved runs of %v after %v warm-up each\n",
		s.Starts, s.Concurrency, s.Runs, s.Duration, s.Warmup)
	for _, t := range rep.Targets {
		fmt.Fprintf(w, "  %-18s %s\n", t.Name+":", t.About)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}

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
		fmt.Fprintf(w, "\n%s: %s; %d goroutines, median of %d runs of %v\n", wr.Name, wr.Doc, s.Concurrency, s.Runs, s.Duration)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "target\tops/s\tmin–max\tserver CPU µs/op\tmin–max\tclient CPU µs/op\terrors\t")
		for _, r := range wr.Results {
			if r.Skipped != "" {
				fmt.Fprintf(tw, "%s\t–\t\t–\t\t–\t\t\n", r.Target)
				continue
			}
			if r.OpsPerSec == 0 {
				fmt.Fprintf(tw, "%s\tfailed\t\t\t\t\t%d\t\n", r.Target, r.Errors)
				continue
			}
			rlo, rhi := r.spread(func(s RunSample) float64 { return s.OpsPerSec })
			clo, chi := r.spread(func(s RunSample) float64 { return s.ServerCPUUsPerOp })
			fmt.Fprintf(tw, "%s\t%.0f\t%.0f–%.0f\t%.1f\t%.1f–%.1f\t%.1f\t%d\t\n",
				r.Target, r.OpsPerSec, rlo, rhi, r.ServerCPUUsPerOp, clo, chi, r.ClientCPUUsPerOp, r.Errors)
		}
		fmt.Fprintf(tw, "target (Overcast)\t\t\t≤ %.0f\t\t\t\t\n", targetSmallCallCPUUs)
		tw.Flush()
		for _, r := range wr.Results {
			if r.Skipped != "" {
				fmt.Fprintf(w, "  %s: skipped, %s\n", r.Target, firstLine(r.Skipped))
			} else if r.FirstError != "" {
				fmt.Fprintf(w, "  %s: first error: %s\n", r.Target, firstLine(r.FirstError))
			}
		}
		fmt.Fprintln(w, "  The client runs on the same cores as the server: its CPU (last column, this process) is")
		fmt.Fprintln(w, "  shared by every target and caps ops/s; compare servers on server CPU µs/op.")
		rep.printRatios(w, wr)
	}
	rep.printTargetSummary(w)
}

func (rep *Report) printRatios(w io.Writer, wr WorkloadReport) {
	var ours, peers []LoadReport
	var floor *LoadReport
	for i, r := range wr.Results {
		if r.OpsPerSec == 0 {
			continue
		}
		switch r.kind {
		case kindOvercast:
			ours = append(ours, r)
		case kindPeer:
			peers = append(peers, r)
		case kindFloor:
			floor = &wr.Results[i]
		}
	}
	if len(ours) == 0 {
		return
	}
	fmt.Fprintln(w, "\n  Ratios (medians)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, o := range ours {
		for _, p := range peers {
			x := p.ServerCPUUsPerOp / o.ServerCPUUsPerOp
			goal := ""
			if p.Key == "moto" {
				goal = fmt.Sprintf("(target ≥ %.0f×: %s)", targetVsMotoFactor, verdict(x >= targetVsMotoFactor))
			}
			fmt.Fprintf(tw, "  %s vs %s:\tthroughput %.1f×\tserver CPU per op %.1f× less\t%s\n",
				o.Target, p.Target, o.OpsPerSec/p.OpsPerSec, x, goal)
		}
		if floor != nil {
			x := o.ServerCPUUsPerOp / floor.ServerCPUUsPerOp
			fmt.Fprintf(tw, "  %s vs %s:\tthroughput %.2f× (floor's client is unsigned)\tserver CPU per op %.1f× the floor\t(target ≤ %.0f×: %s)\n",
				o.Target, floor.Target, o.OpsPerSec/floor.OpsPerSec, x, targetFloorFactor, verdict(x <= targetFloorFactor))
		}
	}
	tw.Flush()
}

func (rep *Report) printTargetSummary(w io.Writer) {
	fmt.Fprintln(w, "\nTargets (PERF-TARGETS.md; informational, never a failure)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range rep.Targets {
		if !strings.HasPrefix(t.Key, "overcast") || t.OK == 0 {
			continue
		}
		fmt.Fprintf(tw, "  %s start\t%.1f ms\t< %.0f ms\t%s\n", t.Name, t.StartMedianMs, targetStartMs, verdict(t.StartMedianMs < targetStartMs))
		fmt.Fprintf(tw, "  %s idle RSS\t%.1f MiB\t< %.0f MiB\t%s\n", t.Name, t.IdleRSSMiB, targetIdleRSSMiB, verdict(t.IdleRSSMiB < targetIdleRSSMiB))
	}
	for _, wr := range rep.Workloads {
		for _, r := range wr.Results {
			if r.kind != kindOvercast || r.OpsPerSec == 0 {
				continue
			}
			fmt.Fprintf(tw, "  %s %s\t%.1f µs/op\t≤ %.0f µs/op\t%s\n", r.Target, wr.Name, r.ServerCPUUsPerOp, targetSmallCallCPUUs, verdict(r.ServerCPUUsPerOp <= targetSmallCallCPUUs))
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
