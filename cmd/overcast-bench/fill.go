package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// fillParallel runs batch(ctx, i) for every i in [0, n) from conc
// goroutines: the way workloads fill queues, tables and metrics within
// -setup-timeout. It stops at the first error; and once 5 s have passed, it
// gives up as soon as the rate so far says the remaining batches would not
// finish before ctx's deadline, so that a slow target is skipped quickly
// instead of at the deadline. what names a batch's contents for messages
// ("messages"), perBatch how many it holds.
func fillParallel(ctx context.Context, what string, n, perBatch int64, conc int, batch func(ctx context.Context, i int64) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next, done atomic.Int64
		mu         sync.Mutex
		firstErr   error
		wg         sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	t0 := time.Now()
	deadline, hasDeadline := ctx.Deadline()
	for range conc {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := batch(ctx, i); err != nil {
					if ctx.Err() == nil {
						fail(err)
					}
					return
				}
				d := done.Add(1)
				if el := time.Since(t0); hasDeadline && el > 5*time.Second {
					left := time.Duration(float64(el) * float64(n-d) / float64(d))
					if time.Now().Add(left).After(deadline) {
						fail(fmt.Errorf("filling %d %s at %.0f/s would take about %v more, past -setup-timeout",
							n*perBatch, what, float64(d*perBatch)/el.Seconds(), left.Round(time.Second)))
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if d := done.Load(); d < n {
		return fmt.Errorf("filled %d of %d %s before -setup-timeout ran out", d*perBatch, n*perBatch, what)
	}
	return nil
}
