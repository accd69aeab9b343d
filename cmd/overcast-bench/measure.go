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
	"slices"
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
	opts     Options
	log      io.Writer // progress lines
	began    time.Time // for the elapsed time on progress lines
}

func (b *bench) progress(format string, args ...any) {
	el := time.Since(b.began).Round(time.Second)
	fmt.Fprintf(b.log, "[%02d:%02d] "+format+"\n", append([]any{int(el.Minutes()), int(el.Seconds()) % 60}, args...)...)
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

// bodyShield works around a race between aws-sdk-go-v2 and net/http.
// The SDK hands the transport a request body whose WriteTo returns io.EOF
// once closed, and closes it as soon as the response arrives. net/http,
// after copying Content-Length bytes, calls WriteTo once more to check that
// nothing is left; when a fast server has answered and the SDK has closed
// the body in between (a descheduled writer on a loaded machine), that
// io.EOF is taken for a write error and the connection is closed under the
// response being read: "use of closed network connection" on a 200. The
// shield reports that io.EOF as the end of the body it is.
type bodyShield struct{ rt http.RoundTripper }

func (s bodyShield) RoundTrip(r *http.Request) (*http.Response, error) {
	if wt, ok := r.Body.(io.WriterTo); ok && r.Body != http.NoBody {
		r2 := *r
		r2.Body = shieldedBody{ReadCloser: r.Body, wt: wt}
		r = &r2
	}
	return s.rt.RoundTrip(r)
}

type shieldedBody struct {
	io.ReadCloser
	wt io.WriterTo
}

func (b shieldedBody) WriteTo(w io.Writer) (int64, error) {
	n, err := b.wt.WriteTo(w)
	if err == io.EOF {
		err = nil
	}
	return n, err
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
	cmd, err := t.command(port, dir)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("prepare %s: %w", t.name, err)
	}
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
func (b *bench) envFor(t target, port int, client *http.Client, shared *sharedSetup) Env {
	return Env{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), HTTPClient: client,
		Floor: t.kind == kindFloor, Opts: b.opts, shared: shared}
}

// measureStarts starts t settings.Starts times. Each start is timed to the
// first answered probe; then one real request of the first selected
// workload the target serves whose set-up is light is made, and after
// settings.Settle the resident set of the process group is read.
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

// idleRequestDef is the workload whose first request precedes the idle RSS
// reading on t: the first selected one t serves with a light set-up.
func (b *bench) idleRequestDef(t target) (workloadDef, bool) {
	for _, d := range b.defs {
		if !d.heavySetup && t.serves(d) {
			return d, true
		}
	}
	return workloadDef{}, false
}

func (b *bench) startOnce(ctx context.Context, t target) StartSample {
	c, port, d, err := b.spawn(ctx, t)
	if err != nil {
		return StartSample{Error: err.Error()}
	}
	defer b.sup.stop(c)
	s := StartSample{Ms: ms(d)}
	if def, ok := b.idleRequestDef(t); ok {
		client := &http.Client{Transport: bodyShield{newTransport(1)}}
		defer client.CloseIdleConnections()
		w := def.new()
		sctx, cancel := context.WithTimeout(ctx, b.settings.SetupTimeout)
		err := w.Setup(sctx, b.envFor(t, port, client, nil))
		cancel()
		if err == nil {
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
	skipped map[string]string        // workload name -> why it is not run
	opTime  map[string]time.Duration // workload name -> mean operation time in the last run
}

// startForLoad starts t once more and sets up every workload it serves on
// it. Each set-up has -setup-timeout.
func (b *bench) startForLoad(ctx context.Context, t target) (*live, error) {
	c, port, _, err := b.spawn(ctx, t)
	if err != nil {
		return nil, err
	}
	conc := 1
	for _, d := range b.defs {
		conc = max(conc, b.settings.concurrency(d))
	}
	// Room for the fan-out receivers beside the publishers.
	conc += fanoutQueues
	l := &live{t: t, c: c, client: &http.Client{Transport: bodyShield{newTransport(conc)}},
		works: map[string]Workload{}, skipped: map[string]string{}, opTime: map[string]time.Duration{}}
	env := b.envFor(t, port, l.client, &sharedSetup{})
	for _, d := range b.defs {
		if !t.serves(d) {
			continue
		}
		b.progress("setup: %s %s", t.name, d.name)
		t0 := time.Now()
		w := d.new()
		sctx, cancel := context.WithTimeout(ctx, b.settings.SetupTimeout)
		err := w.Setup(sctx, env)
		cancel()
		if ctx.Err() != nil {
			return l, ctx.Err()
		}
		if err != nil {
			if errors.Is(err, errors.ErrUnsupported) {
				l.skipped[d.name] = "not supported: " + err.Error()
			} else {
				l.skipped[d.name] = "setup failed: " + err.Error()
			}
			b.progress("  %s %s: %s", t.name, d.name, l.skipped[d.name])
			continue
		}
		if d.heavySetup {
			b.progress("  %s %s: set up in %v", t.name, d.name, time.Since(t0).Round(time.Millisecond))
		}
		l.works[d.name] = w
	}
	return l, nil
}

// drive runs w from conc goroutines for d. Each goroutine finishes the
// operation it is in when time is up, so no request is cut off. With
// timed set, every successful operation's latency is returned, sorted.
func drive(ctx context.Context, w Workload, conc int, d time.Duration, timed bool) (ops, errs int64, firstErr string, wall time.Duration, lat []time.Duration) {
	var stop atomic.Bool
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	var (
		wg       sync.WaitGroup
		nOps     atomic.Int64
		nErrs    atomic.Int64
		errOnce  sync.Once
		errFirst string
		latMu    sync.Mutex
	)
	t0 := time.Now()
	for range conc {
		wg.Go(func() {
			var o, e int64
			var mine []time.Duration
			for !stop.Load() && ctx.Err() == nil {
				var s time.Time
				if timed {
					s = time.Now()
				}
				if err := w.Op(ctx); err != nil {
					e++
					errOnce.Do(func() { errFirst = err.Error() })
				} else {
					o++
					if timed {
						mine = append(mine, time.Since(s))
					}
				}
			}
			nOps.Add(o)
			nErrs.Add(e)
			if timed {
				latMu.Lock()
				lat = append(lat, mine...)
				latMu.Unlock()
			}
		})
	}
	wg.Wait()
	wall = time.Since(t0)
	slices.Sort(lat)
	return nOps.Load(), nErrs.Load(), errFirst, wall, lat
}

// measureLoad runs one warmed-up, measured run of w (defined by d) against
// l. Workloads with run hooks get them around the warm-up and the run,
// outside the CPU measurement.
func (b *bench) measureLoad(ctx context.Context, l *live, d workloadDef, w Workload) RunSample {
	conc, dur := b.settings.concurrency(d), b.settings.duration(d)
	hooks, _ := w.(runHooks)
	if hooks != nil {
		if err := hooks.BeforeRun(ctx); err != nil {
			return RunSample{Errors: 1, FirstError: "before the run: " + err.Error()}
		}
	}
	// A warm-up shorter than one operation warms nothing: it only queues
	// conc slow operations (moto's TransactWriteItems takes about half a
	// second). After a first run shows an operation outlasts the warm-up,
	// the pair runs without one.
	if b.settings.Warmup > 0 && l.opTime[d.name] <= b.settings.Warmup {
		drive(ctx, w, conc, b.settings.Warmup, false)
	}
	if hooks != nil {
		hooks.AfterRun(ctx)
		if err := hooks.BeforeRun(ctx); err != nil {
			return RunSample{Errors: 1, FirstError: "before the run: " + err.Error()}
		}
	}
	ticks0, self0 := groupCPUTicks(l.c.pid), selfCPU()
	ops, errs, firstErr, wall, lat := drive(ctx, w, conc, dur, d.latency)
	ticks1, self1 := groupCPUTicks(l.c.pid), selfCPU()
	r := RunSample{Ops: ops, Errors: errs, FirstError: firstErr, WallSec: wall.Seconds(),
		ServerCPUSec: float64(ticks1-ticks0) / clockTicksPerSecond,
		ClientCPUSec: float64(self1-self0) / 1e6}
	if len(lat) > 0 {
		r.Extras = map[string]float64{
			"p50 ms": ms(percentile(lat, 0.50)),
			"p99 ms": ms(percentile(lat, 0.99)),
		}
	}
	if hooks != nil {
		ex := hooks.AfterRun(ctx)
		r.Errors += ex.Errors
		if r.FirstError == "" {
			r.FirstError = ex.FirstError
		}
		for k, v := range ex.Figures {
			if r.Extras == nil {
				r.Extras = map[string]float64{}
			}
			r.Extras[k] = v
		}
	}
	if n := ops + errs; n > 0 {
		l.opTime[d.name] = time.Duration(int64(wall) * int64(conc) / n)
	}
	if ops > 0 {
		r.OpsPerSec = float64(ops) / wall.Seconds()
		r.ServerCPUUsPerOp = r.ServerCPUSec * 1e6 / float64(ops)
		r.ClientCPUUsPerOp = r.ClientCPUSec * 1e6 / float64(ops)
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
