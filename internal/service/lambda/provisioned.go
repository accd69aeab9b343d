package lambda

import (
	"maps"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
)

// provCfg is a provisioned concurrency config of one qualifier.
type provCfg struct {
	Requested int64     `json:"requested"`
	Modified  time.Time `json:"modified"`
}

func errProvNotFound() error {
	return lerr(http.StatusNotFound, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function")
}

// provRef parses the FunctionName and Qualifier of a provisioned
// concurrency operation: the qualifier is a published version or an alias.
func provRef(r *service.Request) (fnRef, error) {
	q := service.Str(r.Input, "Qualifier")
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), q)
	if err != nil {
		return ref, err
	}
	if ref.qualifier == "" {
		return ref, errValidation("null", "qualifier", "Member must not be null")
	}
	if ref.qualifier == latest {
		return ref, errInvalid("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
	}
	return ref, nil
}

func provOut(c *provCfg, status string) map[string]any {
	out := map[string]any{
		"RequestedProvisionedConcurrentExecutions": c.Requested,
		"AvailableProvisionedConcurrentExecutions": c.Requested,
		"AllocatedProvisionedConcurrentExecutions": c.Requested,
		"Status":       status,
		"LastModified": c.Modified.UTC().Format("2006-01-02T15:04:05.000+0000"),
	}
	if status == "IN_PROGRESS" {
		out["AvailableProvisionedConcurrentExecutions"] = int64(0)
		out["AllocatedProvisionedConcurrentExecutions"] = int64(0)
	}
	return out
}

func (s *Service) putProvisionedConcurrency(r *service.Request) (map[string]any, error) {
	ref, err := provRef(r)
	if err != nil {
		return nil, err
	}
	n, _ := service.Int(r.Input, "ProvisionedConcurrentExecutions")
	if n < 1 {
		return nil, errValidation(n, "provisionedConcurrentExecutions", "Member must have value greater than or equal to 1")
	}
	t, err := s.resolveTarget(ref)
	if err != nil {
		return nil, err
	}
	if t.f.Reserved != nil && n > *t.f.Reserved {
		return nil, errInvalid("Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function")
	}
	c := &provCfg{Requested: n, Modified: s.clk.Now()}
	if _, err := s.mutate(ref.key, ref.arn(), func(f *function) error {
		f.Provisioned = maps.Clone(f.Provisioned)
		if f.Provisioned == nil {
			f.Provisioned = map[string]*provCfg{}
		}
		f.Provisioned[ref.qualifier] = c
		return nil
	}); err != nil {
		return nil, err
	}
	s.prewarm(t, int(n))
	return provOut(c, "IN_PROGRESS"), nil
}

// prewarm starts environments for t until n of them exist, off the request
// path: their processes start now, so the invocations that use them skip
// the process start. They are kept while in use and reaped like others
// when idle.
func (s *Service) prewarm(t target, n int) {
	k := envKey{t.f.key(), t.v.Version, t.v.RevisionID}
	s.wg.Add(1)
	s.pool.setWarm(k, false)
	go func() {
		defer s.wg.Done()
		for s.pool.count(k) < n && !s.stopping() {
			e, err := s.startEnv(t.f, t.v, t.arn)
			if err != nil {
				s.log.Warn("lambda: provisioned environment did not start", "function", t.arn, "err", err)
				return
			}
			// Initialise it now: its first invocation is not a cold start.
			timer := s.clk.NewTimer(initLimit)
			select {
			case <-e.api.Ready():
				e.ready = true
			case <-e.p.Done():
			case <-timer.C():
			case <-s.done:
			}
			timer.Stop()
			if !e.ready {
				e.close()
				s.log.Warn("lambda: provisioned environment failed to initialise", "function", t.arn)
				return
			}
			e.lastUsed = s.clk.Now()
			s.pool.put(e)
		}
		s.pool.setWarm(k, true)
	}()
}

func (s *Service) getProvisionedConcurrency(r *service.Request) (map[string]any, error) {
	ref, err := provRef(r)
	if err != nil {
		return nil, err
	}
	f := s.lookup(ref.key)
	if f == nil {
		return nil, errFunctionNotFound(ref.arn())
	}
	c := f.Provisioned[ref.qualifier]
	if c == nil {
		return nil, errProvNotFound()
	}
	status := "READY"
	if t, err := s.resolveTarget(ref); err == nil && !s.pool.isWarm(envKey{t.f.key(), t.v.Version, t.v.RevisionID}) {
		status = "IN_PROGRESS"
	}
	return provOut(c, status), nil
}

func (s *Service) deleteProvisionedConcurrency(r *service.Request) (map[string]any, error) {
	ref, err := provRef(r)
	if err != nil {
		return nil, err
	}
	if _, err := s.mutate(ref.key, ref.arn(), func(f *function) error {
		if f.Provisioned[ref.qualifier] == nil {
			return errProvNotFound()
		}
		f.Provisioned = maps.Clone(f.Provisioned)
		delete(f.Provisioned, ref.qualifier)
		return nil
	}); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) listProvisionedConcurrency(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return nil, err
	}
	f := s.lookup(ref.key)
	if f == nil {
		return nil, errFunctionNotFound(ref.arn())
	}
	qs := make([]string, 0, len(f.Provisioned))
	for q := range f.Provisioned {
		qs = append(qs, q)
	}
	sort.Slice(qs, func(i, j int) bool {
		a, ea := strconv.Atoi(qs[i])
		b, eb := strconv.Atoi(qs[j])
		if ea == nil && eb == nil {
			return a < b
		}
		return qs[i] < qs[j]
	})
	list := make([]any, 0, len(qs))
	for _, q := range qs {
		item := provOut(f.Provisioned[q], "READY")
		item["FunctionArn"] = f.arn() + ":" + q
		list = append(list, item)
	}
	return map[string]any{"ProvisionedConcurrencyConfigs": list}, nil
}
