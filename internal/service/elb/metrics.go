package elb

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/overcast-dev/overcast/internal/metrics"
)

// lbCounters accumulate a load balancer's metrics for the current minute.
type lbCounters struct {
	requests  atomic.Int64
	bytes     atomic.Int64
	newConns  atomic.Int64
	active    atomic.Int64 // a gauge: open connections
	elb5xx    atomic.Int64
	elb503    atomic.Int64
	fixed     atomic.Int64
	redirects atomic.Int64
	resets    atomic.Int64
}

// tgCounters accumulate a target group's metrics for the current minute.
type tgCounters struct {
	requests atomic.Int64
	t2xx     atomic.Int64
	t3xx     atomic.Int64
	t4xx     atomic.Int64
	t5xx     atomic.Int64
	elb5xx   atomic.Int64

	// target response times in ns, kept without a lock; rtMin holds 0 for
	// "none yet" (a response takes at least 1 ns).
	rtN, rtSum, rtMin, rtMax atomic.Int64
}

func (m *tgCounters) observe(status int, d time.Duration) {
	switch status / 100 {
	case 2:
		m.t2xx.Add(1)
	case 3:
		m.t3xx.Add(1)
	case 4:
		m.t4xx.Add(1)
	case 5:
		m.t5xx.Add(1)
	}
	ns := max(int64(d), 1)
	m.rtN.Add(1)
	m.rtSum.Add(ns)
	for {
		lo := m.rtMin.Load()
		if (lo != 0 && lo <= ns) || m.rtMin.CompareAndSwap(lo, ns) {
			break
		}
	}
	for {
		hi := m.rtMax.Load()
		if hi >= ns || m.rtMax.CompareAndSwap(hi, ns) {
			break
		}
	}
}

// metricsLoop publishes each minute's metrics when the minute ends.
func (s *Service) metricsLoop() {
	defer s.wg.Done()
	now := s.clk.Now()
	next := now.Truncate(time.Minute).Add(time.Minute)
	timer := s.clk.NewTimer(next.Sub(now))
	defer timer.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-timer.C():
		}
		s.flushMetrics(next.Add(-time.Minute))
		now = s.clk.Now()
		next = now.Truncate(time.Minute).Add(time.Minute)
		timer.Reset(next.Sub(now))
	}
}

// FlushMetrics publishes the counters gathered so far, stamped with the
// current minute; tests call it instead of waiting for the minute to end.
func (s *Service) FlushMetrics() { s.flushMetrics(s.clk.Now().Truncate(time.Minute)) }

func (s *Service) flushMetrics(ts time.Time) {
	s.mu.Lock()
	type lbInfo struct {
		rt        *lbRuntime
		namespace string
		tgs       []*tgRuntime
	}
	var lbs []lbInfo
	for arn, rt := range s.lbRT {
		lb := s.lbs[arn]
		if lb == nil {
			continue
		}
		ns := "AWS/ApplicationELB"
		switch {
		case lb.Classic != nil:
			ns = "AWS/ELB"
		case lb.Type == "network":
			ns = "AWS/NetworkELB"
		}
		info := lbInfo{rt: rt, namespace: ns}
		for tgARN, g := range s.tgRT {
			for _, a := range s.tgLBs(tgARN) {
				if a == arn {
					info.tgs = append(info.tgs, g)
				}
			}
		}
		lbs = append(lbs, info)
	}
	s.mu.Unlock()

	for _, info := range lbs {
		rt := info.rt
		lbDim := metrics.Dimension{Name: "LoadBalancer", Value: rt.dim}
		if info.namespace == "AWS/ELB" {
			lbDim.Name = "LoadBalancerName"
		}
		var data []metrics.Datum
		add := func(name, unit string, v float64, dims ...metrics.Dimension) {
			data = append(data, metrics.Datum{Name: name, Unit: unit, Value: v, Timestamp: ts, Dimensions: dims})
		}
		reqs := rt.m.requests.Swap(0)
		bytes := rt.m.bytes.Swap(0)
		newConns := rt.m.newConns.Swap(0)
		elb5xx := rt.m.elb5xx.Swap(0)
		elb503 := rt.m.elb503.Swap(0)
		resets := rt.m.resets.Swap(0)
		rt.m.fixed.Swap(0)
		rt.m.redirects.Swap(0)
		active := rt.m.active.Load()
		switch info.namespace {
		case "AWS/ApplicationELB":
			if reqs > 0 {
				add("RequestCount", "Count", float64(reqs), lbDim)
			}
			if elb5xx > 0 {
				add("HTTPCode_ELB_5XX_Count", "Count", float64(elb5xx), lbDim)
			}
			if elb503 > 0 {
				add("HTTPCode_ELB_503_Count", "Count", float64(elb503), lbDim)
			}
			add("ActiveConnectionCount", "Count", float64(active), lbDim)
			add("NewConnectionCount", "Count", float64(newConns), lbDim)
			add("ProcessedBytes", "Bytes", float64(bytes), lbDim)
		case "AWS/NetworkELB":
			add("ActiveFlowCount", "Count", float64(active), lbDim)
			add("ActiveFlowCount_TCP", "Count", float64(active), lbDim)
			add("NewFlowCount", "Count", float64(newConns), lbDim)
			add("NewFlowCount_TCP", "Count", float64(newConns), lbDim)
			add("ProcessedBytes", "Bytes", float64(bytes), lbDim)
			add("ProcessedBytes_TCP", "Bytes", float64(bytes), lbDim)
			if resets > 0 {
				add("TCP_ELB_Reset_Count", "Count", float64(resets), lbDim)
			}
		case "AWS/ELB":
			if reqs > 0 {
				add("RequestCount", "Count", float64(reqs), lbDim)
			}
			if elb5xx > 0 {
				add("HTTPCode_ELB_5XX", "Count", float64(elb5xx), lbDim)
			}
		}
		for _, g := range info.tgs {
			tgDim := metrics.Dimension{Name: "TargetGroup", Value: g.dim}
			healthy, unhealthy := 0, 0
			for _, t := range *g.active.Load() {
				if routable(t) {
					healthy++
				} else {
					unhealthy++
				}
			}
			if info.namespace == "AWS/ELB" {
				add("HealthyHostCount", "Count", float64(healthy), lbDim)
				add("UnHealthyHostCount", "Count", float64(unhealthy), lbDim)
			} else {
				add("HealthyHostCount", "Count", float64(healthy), tgDim, lbDim)
				add("UnHealthyHostCount", "Count", float64(unhealthy), tgDim, lbDim)
			}
			treqs := g.m.requests.Swap(0)
			codes := []struct {
				name string
				v    int64
			}{
				{"HTTPCode_Target_2XX_Count", g.m.t2xx.Swap(0)},
				{"HTTPCode_Target_3XX_Count", g.m.t3xx.Swap(0)},
				{"HTTPCode_Target_4XX_Count", g.m.t4xx.Swap(0)},
				{"HTTPCode_Target_5XX_Count", g.m.t5xx.Swap(0)},
			}
			g.m.elb5xx.Swap(0)
			n := g.m.rtN.Swap(0)
			sum := time.Duration(g.m.rtSum.Swap(0)).Seconds()
			lo := time.Duration(g.m.rtMin.Swap(0)).Seconds()
			hi := time.Duration(g.m.rtMax.Swap(0)).Seconds()
			if info.namespace == "AWS/NetworkELB" {
				continue
			}
			if info.namespace == "AWS/ELB" {
				for _, c := range codes {
					if c.v > 0 {
						add("HTTPCode_Backend_"+c.name[16:19], "Count", float64(c.v), lbDim)
					}
				}
				if n > 0 {
					data = append(data, metrics.Datum{Name: "Latency", Unit: "Seconds", Timestamp: ts, Value: sum, Count: float64(n), Min: lo, Max: hi, Dimensions: []metrics.Dimension{lbDim}})
				}
				continue
			}
			if treqs > 0 {
				add("RequestCount", "Count", float64(treqs), tgDim, lbDim)
			}
			per := 0.0
			if healthy > 0 {
				per = float64(treqs) / float64(healthy)
			} else if treqs > 0 {
				per = float64(treqs)
			}
			add("RequestCountPerTarget", "Count", math.Round(per*1000)/1000, tgDim)
			add("RequestCountPerTarget", "Count", math.Round(per*1000)/1000, tgDim, lbDim)
			for _, c := range codes {
				if c.v > 0 {
					add(c.name, "Count", float64(c.v), lbDim)
					add(c.name, "Count", float64(c.v), tgDim, lbDim)
				}
			}
			if n > 0 {
				for _, dims := range [][]metrics.Dimension{{lbDim}, {tgDim, lbDim}} {
					data = append(data, metrics.Datum{Name: "TargetResponseTime", Unit: "Seconds", Timestamp: ts, Value: sum, Count: float64(n), Min: lo, Max: hi, Dimensions: dims})
				}
			}
		}
		if len(data) > 0 {
			s.pub.Publish(rt.account, rt.region, info.namespace, data)
		}
	}
}
