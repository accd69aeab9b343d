package elb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// healthLoop runs the target group's health checks: at once when kicked
// (targets registered, configuration changed) and then every interval of the
// injected clock. It parks on exactly one timer between rounds.
func (g *tgRuntime) healthLoop(ctx context.Context) {
	defer g.s.wg.Done()
	defer close(g.done)
	timer := g.s.clk.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-g.kick:
		case <-timer.C():
		}
		g.mu.Lock()
		hc := g.cfg.HC
		inUse := g.inUse
		g.mu.Unlock()
		if inUse && hc.Enabled {
			g.checkAll(ctx, hc)
			timer.Reset(time.Duration(hc.Interval) * time.Second)
		}
		g.up.prune(time.Now(), false)
	}
}

type checkResult struct {
	t  *target
	ok bool
	r  *reason
}

// checkAll checks every registered target once, concurrently, and applies
// the results.
func (g *tgRuntime) checkAll(ctx context.Context, hc healthCheck) {
	ts := *g.active.Load()
	results := make([]checkResult, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		if !g.resolve(t) {
			results[i] = checkResult{t: t, r: rsInvalidState}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, r := g.check(ctx, hc, t)
			results[i] = checkResult{t: t, ok: ok, r: r}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	now := g.s.clk.Now().UnixNano()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, res := range results {
		t := res.t
		if g.targets[t.key] != t {
			continue // deregistered meanwhile
		}
		st := t.state.Load()
		if res.ok {
			t.okRun++
			t.failRun = 0
			if st == stInitial || (st == stUnhealthy && t.okRun >= hc.Healthy) {
				t.state.Store(stHealthy)
				t.reason.Store(nil)
				t.healthyAt.Store(now)
			}
		} else {
			t.failRun++
			t.okRun = 0
			switch {
			case st == stHealthy && t.failRun >= hc.Unhealthy,
				st == stInitial && t.failRun >= hc.Unhealthy,
				st == stUnhealthy,
				res.r == rsInvalidState:
				t.state.Store(stUnhealthy)
				t.reason.Store(res.r)
			case st == stInitial:
				t.reason.Store(rsInitial)
			}
		}
		t.checked = true
	}
}

// check runs one health check against t.
func (g *tgRuntime) check(ctx context.Context, hc healthCheck, t *target) (bool, *reason) {
	if g.lambda {
		return g.checkLambda(ctx, hc, t)
	}
	host, port, _ := net.SplitHostPort(t.address())
	if hc.Port != "" && hc.Port != "traffic-port" {
		port = hc.Port
	}
	addr := net.JoinHostPort(host, port)
	timeout := time.Duration(hc.Timeout) * time.Second
	if hc.Protocol == "TCP" {
		d := net.Dialer{Timeout: timeout}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return false, failure(err)
		}
		c.Close()
		return true, nil
	}
	scheme := "http"
	if hc.Protocol == "HTTPS" {
		scheme = "https"
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, scheme+"://"+addr+hc.Path, nil)
	if err != nil {
		return false, rsFailed
	}
	req.Header.Set("User-Agent", "ELB-HealthChecker/2.0")
	resp, err := g.hcClient.Do(req)
	if err != nil {
		return false, failure(err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	ranges, _ := parseMatcher(hc.Matcher)
	if hc.Matcher == "" {
		ranges = [][2]int{{200, 399}}
	}
	for _, rg := range ranges {
		if resp.StatusCode >= rg[0] && resp.StatusCode <= rg[1] {
			return true, nil
		}
	}
	return false, &reason{"Target.ResponseCodeMismatch", fmt.Sprintf("Health checks failed with these codes: [%s]", strconv.Itoa(resp.StatusCode))}
}

func failure(err error) *reason {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return rsTimeout
	}
	return rsFailed
}
