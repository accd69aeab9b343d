package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The pause between readiness probes: short enough that the start time is
// not rounded up by the poll loop, and after the first 100 ms a little
// longer, so that polling a slow starter does not steal its CPU.
const (
	pollInterval     = 250 * time.Microsecond
	slowPollAfter    = 100 * time.Millisecond
	slowPollInterval = time.Millisecond
)

// bench holds what every measurement shares.
type bench struct {
	sup      *supervisor
	tmp      string // scratch directory, removed at exit
	settings Settings
	defs     []workloadDef
	log      io.Writer // progress lines
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.log, format+"\n", args...)
}

// newTransport is the pooled transport load runs use: one idle connection
// per goroutine at least, no proxy.
func newTransport(conc int) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.MaxIdleConns = 2 * conc
	tr.MaxIdleConnsPerHost = 2 * conc
	return tr
}

// probeClient makes a fresh connection for every probe, as a client arriving
// at a just-started server would.
func probeClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:       (&net.Dialer{Timeout: time.Second}).DialContext,
			DisableKeepAlives: true,
		},
		Timeout: 5 * time.Second,
	}
}

// spawn starts t on a free port with a fresh directory and waits until it
// answers its probe. It returns the time from just before the fork to the
// first answered probe.
func (b *bench) spawn(ctx context.Context, t target) (*child, int, time.Duration, error) {
	dir, err := os.MkdirTemp(b.tmp, t.key+"-")
	if err != nil {
		return nil, 0, 0, err
	}
	port, err := freePort()
	if err != nil {
		return nil, 0, 0, err
	}
	cmd := t.command(port, dir)
	t0 := time.Now()
	c, err := b.sup.start(cmd, filepath.Join(dir, "output.log"))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("start %s: %w", t.name, err)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + t.probePath
	client := probeClient()
	defer client.CloseIdleConnections()
	deadline := t0.Add(t.startTimeout)
	for {
		if probe(ctx, client, t.probeMethod, url, t.probeBody) {
			return c, port, time.Since(t0), nil
		}
		if c.exited() {
			msg := fmt.Sprintf("%s exited before answering (%v)", t.name, c.waitErr)
			if tail := c.logTail(); tail != "" {
				msg += ":\n" + indent(tail)
			}
			return nil, 0, 0, errors.New(msg)
		}
		if err := ctx.Err(); err != nil {
			b.sup.stop(c)
			return nil, 0, 0, err
		}
		if time.Now().After(deadline) {
			b.sup.stop(c)
			return nil, 0, 0, fmt.Errorf("%s did not answer within %v", t.name, t.startTimeout)
		}
		if time.Since(t0) < slowPollAfter {
			time.Sleep(pollInterval)
		} else {
			time.Sleep(slowPollInterval)
		}
	}
}

// probe sends one request and reports whether any HTTP response came back.
func probe(ctx context.Context, client *http.Client, method, url, body string) bool {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return false
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return true
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// envFor is the workload environment for a target listening on port.
func envFor(t target, port int, client *http.Client) Env {
	return Env{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), HTTPClient: client, Floor: t.kind == kindFloor}
}

// measureStarts starts t settings.Starts times. Each start is timed to the
// first answered probe; then one real request of the first workload is
// made, and after settings.Settle the resident set of the process group is
// read.
func (b *bench) measureStarts(ctx context.Context, t target) TargetReport {
	rep := TargetReport{Key: t.key, Name: t.name, About: t.about}
	for i := 0; i < b.settings.Starts; i++ {
		s := b.startOnce(ctx, t)
		rep.Starts = append(rep.Starts, s)
		if s.Error != "" {
			b.progress("  %s start %d: %s", t.name, i+1, s.Error)
			if ctx.Err() != nil || i == 0 {
				// A target that cannot start once will not start later.
				break
			}
		}
	}
	rep.summarize()
	return rep
}

func (b *bench) startOnce(ctx context.Context, t target) StartSample {
	c, port, d, err := b.spawn(ctx, t)
	if err != nil {
		return StartSample{Error: err.Error()}
	}
	defer b.sup.stop(c)
	s := StartSample{Ms: ms(d)}
	if len(b.defs) > 0 {
		client := &http.Client{Transport: newTransport(1)}
		defer client.CloseIdleConnections()
		w := b.defs[0].new()
		if err := w.Setup(ctx, envFor(t, port, client)); err == nil {
			if err := w.Op(ctx); err != nil {
				s.RequestError = err.Error()
			}
		} else if !errors.Is(err, errors.ErrUnsupported) {
			s.RequestError = err.Error()
		}
	}
	select {
	case <-time.After(b.settings.Settle):
	case <-ctx.Done():
		s.Error = ctx.Err().Error()
		return s
	}
	rss, err := groupRSSKiB(c.pid)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	s.RSSKiB = rss
	return s
}

// live is a target started for the load phase, with its workloads set up.
type live struct {
	t       target
	c       *child
	client  *http.Client
	works   map[string]Workload
	skipped map[string]string // workload name -> why it is not run
}

// startForLoad starts t once more and sets up every workload on it.
func (b *bench) startForLoad(ctx context.Context, t target) (*live, error) {
	c, port, _, err := b.spawn(ctx, t)
	if err != nil {
		return nil, err
	}
	l := &live{t: t, c: c, client: &http.Client{Transport: newTransport(b.settings.Concurrency)},
		works: map[string]Workload{}, skipped: map[string]string{}}
	env := envFor(t, port, l.client)
	for _, d := range b.defs {
		w := d.new()
		if err := w.Setup(ctx, env); err != nil {
			if errors.Is(err, errors.ErrUnsupported) {
				l.skipped[d.name] = "not supported"
			} else {
				l.skipped[d.name] = "setup failed: " + err.Error()
			}
			continue
		}
		l.works[d.name] = w
	}
	return l, nil
}

// drive runs w from conc goroutines for d. Each goroutine finishes the
// operation it is in when time is up, so no request is cut off.
func drive(ctx context.Context, w Workload, conc int, d time.Duration) (ops, errs int64, firstErr string, wall time.Duration) {
	var stop atomic.Bool
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	var (
		wg       sync.WaitGroup
		nOps     atomic.Int64
		nErrs    atomic.Int64
		errOnce  sync.Once
		errFirst string
	)
	t0 := time.Now()
	for range conc {
		wg.Go(func() {
			var o, e int64
			for !stop.Load() && ctx.Err() == nil {
				if err := w.Op(ctx); err != nil {
					e++
					errOnce.Do(func() { errFirst = err.Error() })
				} else {
					o++
				}
			}
			nOps.Add(o)
			nErrs.Add(e)
		})
	}
	wg.Wait()
	return nOps.Load(), nErrs.Load(), errFirst, time.Since(t0)
}

// measureLoad runs one warmed-up, measured run of w against l.
func (b *bench) measureLoad(ctx context.Context, l *live, w Workload) RunSample {
	if b.settings.Warmup > 0 {
		drive(ctx, w, b.settings.Concurrency, b.settings.Warmup)
	}
	ticks0, self0 := groupCPUTicks(l.c.pid), selfCPU()
	ops, errs, firstErr, wall := drive(ctx, w, b.settings.Concurrency, b.settings.Duration)
	ticks1, self1 := groupCPUTicks(l.c.pid), selfCPU()
	r := RunSample{Ops: ops, Errors: errs, FirstError: firstErr, WallSec: wall.Seconds(),
		ServerCPUSec: float64(ticks1-ticks0) / clockTicksPerSecond,
		ClientCPUSec: float64(self1-self0) / 1e6}
	if ops > 0 {
		r.OpsPerSec = float64(ops) / wall.Seconds()
		r.ServerCPUUsPerOp = r.ServerCPUSec * 1e6 / float64(ops)
		r.ClientCPUUsPerOp = r.ClientCPUSec * 1e6 / float64(ops)
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
