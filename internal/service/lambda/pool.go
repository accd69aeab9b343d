package lambda

import (
	"context"
	"slices"
	"sync"
	"time"
)

// pool holds the execution environments and counts concurrent executions.
type pool struct {
	mu        sync.Mutex
	idle      map[envKey][]*environment
	all       map[*environment]struct{}
	busyFn    map[fnKey]int
	busyUnres map[acctKey]int // executions of functions without reserved concurrency
	busyAcct  map[acctKey]int
	starts    map[fnKey]int
	// warm records, per code revision, whether its provisioned
	// environments have all started (absent: nothing provisioned).
	warm map[envKey]bool
}

func newPool() *pool {
	return &pool{
		idle:      map[envKey][]*environment{},
		all:       map[*environment]struct{}{},
		busyFn:    map[fnKey]int{},
		busyUnres: map[acctKey]int{},
		busyAcct:  map[acctKey]int{},
		starts:    map[fnKey]int{},
		warm:      map[envKey]bool{},
	}
}

// acquire claims one concurrent execution of f, or returns the throttle
// error Lambda answers when none is left. release gives it back.
func (s *Service) acquire(f *function) (release func(), concurrent int, err error) {
	k := f.key()
	ak := acctKey{k.account, k.region}
	s.mu.RLock()
	reservedSum := s.reserved[ak]
	s.mu.RUnlock()
	p := s.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	reserved := f.Reserved != nil
	if reserved {
		if int64(p.busyFn[k]) >= *f.Reserved {
			return nil, 0, errThrottled(reasonReserved)
		}
	} else if int64(p.busyUnres[ak]) >= int64(s.accountLimit)-reservedSum {
		return nil, 0, errThrottled(reasonAccount)
	}
	p.busyFn[k]++
	p.busyAcct[ak]++
	if !reserved {
		p.busyUnres[ak]++
	}
	concurrent = p.busyAcct[ak]
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.busyFn[k]--; p.busyFn[k] <= 0 {
				delete(p.busyFn, k)
			}
			if p.busyAcct[ak]--; p.busyAcct[ak] <= 0 {
				delete(p.busyAcct, ak)
			}
			if !reserved {
				if p.busyUnres[ak]--; p.busyUnres[ak] <= 0 {
					delete(p.busyUnres, ak)
				}
			}
		})
	}, concurrent, nil
}

// take returns an idle environment for k, most recently used first.
func (p *pool) take(k envKey) *environment {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.idle[k]
	for len(l) > 0 {
		e := l[len(l)-1]
		l = l[:len(l)-1]
		if e.alive() {
			p.setIdle(k, l)
			return e
		}
		defer func(e *environment) { go e.close() }(e)
	}
	p.setIdle(k, l)
	return nil
}

func (p *pool) setIdle(k envKey, l []*environment) {
	if len(l) == 0 {
		delete(p.idle, k)
	} else {
		p.idle[k] = l
	}
}

// put makes e idle again.
func (p *pool) put(e *environment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.all[e]; !ok {
		return
	}
	p.idle[e.key] = append(p.idle[e.key], e)
}

func (p *pool) setWarm(k envKey, done bool) {
	p.mu.Lock()
	p.warm[k] = done
	p.mu.Unlock()
}

// isWarm reports whether the provisioned environments of k have started
// (true when none were asked for).
func (p *pool) isWarm(k envKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	done, ok := p.warm[k]
	return done || !ok
}

// count returns how many environments run k (idle or busy).
func (p *pool) count(k envKey) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for e := range p.all {
		if e.key == k {
			n++
		}
	}
	return n
}

func (p *pool) started(e *environment) {
	p.mu.Lock()
	p.all[e] = struct{}{}
	p.starts[e.key.fn]++
	p.mu.Unlock()
}

func (p *pool) closed(e *environment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.all, e)
	if l := p.idle[e.key]; len(l) > 0 {
		p.setIdle(e.key, slices.DeleteFunc(l, func(x *environment) bool { return x == e }))
	}
}

// removeIdle takes the idle environments matching keep==false out of the
// pool and returns them for closing.
func (p *pool) removeIdle(match func(e *environment) bool) []*environment {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*environment
	for k, l := range p.idle {
		var rest []*environment
		for _, e := range l {
			if match(e) {
				out = append(out, e)
			} else {
				rest = append(rest, e)
			}
		}
		p.setIdle(k, rest)
	}
	return out
}

// retire closes the idle environments of function k (of one version, or
// all when version is "").
func (p *pool) retire(k fnKey, version string) {
	for _, e := range p.removeIdle(func(e *environment) bool {
		return e.key.fn == k && (version == "" || e.key.version == version)
	}) {
		e.close()
	}
}

// drain returns every environment, for Stop.
func (p *pool) drain() []*environment {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*environment, 0, len(p.all))
	for e := range p.all {
		out = append(out, e)
	}
	p.idle = map[envKey][]*environment{}
	return out
}

// reap closes environments idle for longer than the idle timeout, and
// those whose function changed or went away.
func (s *Service) reap(ctx context.Context) error {
	now := s.clk.Now()
	for _, e := range s.pool.removeIdle(func(e *environment) bool {
		return now.Sub(e.lastUsed) >= s.idleTTL || !s.current(e.key) || !e.alive()
	}) {
		e.close()
	}
	return nil
}

// current reports whether k's function version still has k's revision.
func (s *Service) current(k envKey) bool {
	f := s.lookup(k.fn)
	if f == nil {
		return false
	}
	v := f.lookupVersion(k.version)
	return v != nil && v.RevisionID == k.revision
}

// Environments returns how many execution environments function name of
// account in region has running, and how many it has started in all.
func (s *Service) Environments(account, region, name string) (running, started int) {
	k := fnKey{account, region, name}
	p := s.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	for e := range p.all {
		if e.key.fn == k {
			running++
		}
	}
	return running, p.starts[k]
}

var _ = time.Second
