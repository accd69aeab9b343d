package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// albLoad drives url for d with s.Connections keep-alive connections, by
// wrk when wrk is set, else by Go clients in this process.
func albLoad(ctx context.Context, wrk string, s albSettings, url string, d time.Duration) (albSample, error) {
	if wrk != "" {
		return wrkLoad(ctx, wrk, s, url, d)
	}
	return goLoad(ctx, s, url, d)
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in ([\d.]+)(us|ms|s|m)\b`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkPct      = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$`)
)

func wrkLoad(ctx context.Context, wrk string, s albSettings, url string, d time.Duration) (albSample, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, wrk, "-t"+strconv.Itoa(min(s.Threads, s.Connections)), "-c"+strconv.Itoa(s.Connections),
		"-d"+strconv.Itoa(int(d/time.Second))+"s", "--latency", url)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return albSample{}, fmt.Errorf("wrk: %v: %s", err, firstLine(out.String()))
	}
	return parseWrk(out.String())
}

// parseWrk reads wrk's summary: requests, time, errors and the p50/p99
// lines of --latency.
func parseWrk(out string) (albSample, error) {
	var smp albSample
	m := wrkRequests.FindStringSubmatch(out)
	if m == nil {
		return smp, fmt.Errorf("wrk printed no request count: %s", firstLine(out))
	}
	smp.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	smp.Seconds = wrkDuration(m[2], m[3]).Seconds()
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		smp.Errors += n
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, v := range m[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			smp.Errors += n
		}
	}
	for _, m := range wrkPct.FindAllStringSubmatch(out, -1) {
		v := ms(wrkDuration(m[2], m[3]))
		if m[1] == "50" {
			smp.P50ms = v
		} else {
			smp.P99ms = v
		}
	}
	if smp.Seconds > 0 {
		smp.ReqPerSec = float64(smp.Requests) / smp.Seconds
	}
	return smp, nil
}

func wrkDuration(num, unit string) time.Duration {
	v, _ := strconv.ParseFloat(num, 64)
	switch unit {
	case "us":
		return time.Duration(v * float64(time.Microsecond))
	case "ms":
		return time.Duration(v * float64(time.Millisecond))
	case "m":
		return time.Duration(v * float64(time.Minute))
	}
	return time.Duration(v * float64(time.Second))
}

// goLoad is the fallback load generator: one goroutine per connection,
// each timing its requests.
func goLoad(ctx context.Context, s albSettings, url string, d time.Duration) (albSample, error) {
	tr := &http.Transport{Proxy: nil, MaxIdleConns: s.Connections, MaxIdleConnsPerHost: s.Connections, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var (
		mu   sync.Mutex
		lat  []time.Duration
		errs int64
		wg   sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for range s.Connections {
		wg.Go(func() {
			var mine []time.Duration
			var bad int64
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					break
				}
				resp, err := client.Get(url)
				if err != nil {
					bad++
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return albSample{}, err
	}
	wall := time.Since(start)
	smp := albSample{Requests: int64(len(lat)) + errs, Errors: errs, Seconds: wall.Seconds()}
	smp.ReqPerSec = float64(smp.Requests) / smp.Seconds
	if len(lat) > 0 {
		slices.Sort(lat)
		smp.P50ms = ms(lat[len(lat)*50/100])
		smp.P99ms = ms(lat[min(len(lat)-1, len(lat)*99/100)])
	}
	return smp, nil
}

// summarize takes the medians of the runs.
func (r *albResult) summarize() {
	if len(r.Runs) == 0 {
		return
	}
	med := func(f func(albSample) float64) float64 {
		v := make([]float64, len(r.Runs))
		for i, s := range r.Runs {
			v[i] = f(s)
		}
		return median(v)
	}
	r.Median = albSample{
		ReqPerSec:   med(func(s albSample) float64 { return s.ReqPerSec }),
		ProxyCPUus:  med(func(s albSample) float64 { return s.ProxyCPUus }),
		BackendCPUs: med(func(s albSample) float64 { return s.BackendCPUs }),
		P50ms:       med(func(s albSample) float64 { return s.P50ms }),
		P99ms:       med(func(s albSample) float64 { return s.P99ms }),
	}
	for _, s := range r.Runs {
		r.Median.Requests += s.Requests
		r.Median.Errors += s.Errors
		r.Median.Seconds += s.Seconds
	}
}

func (rep *albReport) find(key string) *albResult {
	for i := range rep.Results {
		if rep.Results[i].Key == key && rep.Results[i].Error == "" && len(rep.Results[i].Runs) > 0 {
			return &rep.Results[i]
		}
	}
	return nil
}

// print writes the report as tables.
func (rep *albReport) print(w io.Writer) {
	s := rep.Settings
	fmt.Fprintf(w, "ALB data plane — %s\n", rep.Time.Format(time.RFC3339))
	fmt.Fprintf(w, "command: %s\n", rep.Command)
	fmt.Fprintf(w, "host: %s; load average %s at start, %s at end\n", rep.Host, rep.LoadAvgStart, rep.LoadAvgEnd)
	load := fmt.Sprintf("wrk -t%d -c%d --latency", min(s.Threads, s.Connections), s.Connections)
	if s.Loadgen == "go" {
		load = fmt.Sprintf("Go keep-alive client, %d connections", s.Connections)
	}
	fmt.Fprintf(w, "load: %s; %v measured runs after %v warm-up, %d runs per path interleaved, medians\n", load, s.Duration, s.Warmup, s.Runs)
	fmt.Fprintf(w, "backend: %s\n", rep.Backend)
	for _, r := range rep.Results {
		fmt.Fprintf(w, "  %-13s %s\n", r.Name+":", r.About)
	}
	fmt.Fprintln(w)
	direct := rep.find("direct")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "path\trequests/s\tproxy CPU µs/req\tbackend CPU µs/req\tp50 ms\tp99 ms\tadded p50 ms\tadded p99 ms\terrors\t")
	for _, r := range rep.Results {
		if r.Error != "" || len(r.Runs) == 0 {
			fmt.Fprintf(tw, "%s\tfailed: %s\t\t\t\t\t\t\t\t\n", r.Name, firstLine(r.Error))
			continue
		}
		m := r.Median
		cpu, addP50, addP99 := "–", "–", "–"
		if r.proc != nil || r.Key != "direct" {
			cpu = fmt.Sprintf("%.1f", m.ProxyCPUus)
		}
		if direct != nil && r.Key != "direct" {
			addP50 = fmt.Sprintf("%+.3f", m.P50ms-direct.Median.P50ms)
			addP99 = fmt.Sprintf("%+.3f", m.P99ms-direct.Median.P99ms)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%.1f\t%.3f\t%.3f\t%s\t%s\t%d\t\n", r.Name, m.ReqPerSec, cpu, m.BackendCPUs, m.P50ms, m.P99ms, addP50, addP99, m.Errors)
	}
	tw.Flush()

	alb := rep.find("alb")
	if alb != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "ratios (overcast ALB against …):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "against\trequests/s\tproxy CPU µs/req\tadded p50\tadded p99\t")
		for _, key := range []string{"haproxy", "nginx", "direct"} {
			o := rep.find(key)
			if o == nil {
				continue
			}
			cpu, p50, p99 := "–", "–", "–"
			if key != "direct" && o.Median.ProxyCPUus > 0 {
				cpu = fmt.Sprintf("%.2fx", alb.Median.ProxyCPUus/o.Median.ProxyCPUus)
			}
			if key != "direct" && direct != nil {
				if a := o.Median.P50ms - direct.Median.P50ms; a > 0 {
					p50 = fmt.Sprintf("%.2fx", (alb.Median.P50ms-direct.Median.P50ms)/a)
				}
				if a := o.Median.P99ms - direct.Median.P99ms; a > 0 {
					p99 = fmt.Sprintf("%.2fx", (alb.Median.P99ms-direct.Median.P99ms)/a)
				}
			}
			fmt.Fprintf(tw, "%s\t%.2f\t%s\t%s\t%s\t\n", o.Name, alb.Median.ReqPerSec/o.Median.ReqPerSec, cpu, p50, p99)
		}
		tw.Flush()
		fmt.Fprintln(w)
		if h := rep.find("haproxy"); h != nil {
			ratio := alb.Median.ReqPerSec / h.Median.ReqPerSec
			fmt.Fprintf(w, "target: ALB ≥ 0.80 × haproxy requests/s: %.2f — %s\n", ratio, verdict(ratio >= 0.8))
		}
		fmt.Fprintf(w, "target: ALB ≤ 20 µs proxy CPU per request: %.1f — %s\n", alb.Median.ProxyCPUus, verdict(alb.Median.ProxyCPUus <= 20))
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if strings.TrimSpace(rep.LoadAvgStart) != "?" {
		fmt.Fprintln(w, "proxy CPU is the proxy's whole process group (Overcast: the whole server) ÷ requests, from /proc at 10 ms resolution; compare it rather than requests/s when the machine is shared.")
	}
}
