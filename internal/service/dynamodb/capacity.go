package dynamodb

import (
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

// This file is capacity accounting: the units each request consumes (as
// DynamoDB counts them), the opt-in provisioned-throughput throttle, and the
// per-minute counters behind the AWS/DynamoDB metrics.

// burstSeconds is how much unused capacity a table or index may bank.
const burstSeconds = 300

// readUnits is the read capacity of reading size bytes: one unit per 4 KB
// strongly consistent, half of that eventually consistent.
func readUnits(size int, consistent bool) float64 {
	u := float64((size + 4095) / 4096)
	if u < 1 {
		u = 1
	}
	if !consistent {
		u /= 2
	}
	return u
}

// writeUnits is the write capacity of writing size bytes: one unit per KB.
func writeUnits(size int) float64 {
	u := float64((size + 1023) / 1024)
	if u < 1 {
		u = 1
	}
	return u
}

// bucket is a token bucket refilled at the provisioned rate, holding up to
// burstSeconds of it. It starts full. A request is admitted while the bucket
// is not empty and its actual cost is taken afterwards, so the bucket may go
// into debt by the cost of the last admitted request.
type bucket struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
	rate   float64
}

func (b *bucket) refill(now time.Time, rate float64) {
	if b.last.IsZero() {
		b.tokens, b.last, b.rate = rate*burstSeconds, now, rate
		return
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens += el * b.rate
		b.last = now
	}
	b.rate = rate
	b.tokens = math.Min(b.tokens, rate*burstSeconds)
}

func (b *bucket) admit(now time.Time, rate float64) bool {
	b.mu.Lock()
	b.refill(now, rate)
	ok := b.tokens > 0
	b.mu.Unlock()
	return ok
}

func (b *bucket) spend(now time.Time, rate, units float64) {
	b.mu.Lock()
	b.refill(now, rate)
	b.tokens -= units
	b.mu.Unlock()
}

// capState is the throughput state of a table or a global secondary index.
// The copies of a table UpdateTable makes share it.
type capState struct {
	read, write bucket
	// Per-minute metric counters (milli-units and counts), swapped out by
	// the metrics flush.
	rcu, wcu            atomic.Int64
	readThr, writeThr   atomic.Int64
	readSeen, writeSeen atomic.Bool
}

// usage is the capacity one request consumed on one table.
type usage struct {
	t     *table
	write bool
	table float64   // the table (and its local secondary indexes' writes)
	idx   []float64 // per t.indexes entry
}

func (u *usage) total() float64 {
	s := u.table
	for _, x := range u.idx {
		s += x
	}
	return s
}

func (u *usage) scale(f float64) {
	u.table *= f
	for i := range u.idx {
		u.idx[i] *= f
	}
}

// limited reports whether t is throttled to its provisioned throughput.
func (s *Service) limited(t *table) bool {
	return s.throttle && t.meta.Billing == "PROVISIONED"
}

// admitRead reports whether a read of t, or of its index ix, may proceed.
func (s *Service) admitRead(t *table, ix *index) bool {
	if !s.limited(t) {
		return true
	}
	if ix != nil && !ix.meta.Local {
		return ix.cap.read.admit(s.now(), float64(ix.meta.RCU))
	}
	return t.cap.read.admit(s.now(), float64(t.meta.RCU))
}

// admitWrite reports whether a write to t may proceed: the table and each
// of its global secondary indexes must have capacity left.
func (s *Service) admitWrite(t *table) bool {
	if !s.limited(t) {
		return true
	}
	now := s.now()
	if !t.cap.write.admit(now, float64(t.meta.WCU)) {
		return false
	}
	for _, ix := range t.indexes {
		if !ix.meta.Local && !ix.cap.write.admit(now, float64(ix.meta.WCU)) {
			return false
		}
	}
	return true
}

// throttledErr records a throttled request and returns DynamoDB's error.
func (s *Service) throttledErr(t *table, ix *index, op string, write bool) error {
	s.countThrottle(t, ix, op, write)
	return throughputExceeded()
}

func throughputExceeded() *awserr.Error {
	return &awserr.Error{Code: codeThroughputExceeded, Status: http.StatusBadRequest,
		Message: "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."}
}

func (s *Service) countThrottle(t *table, ix *index, op string, write bool) {
	c := t.cap
	if ix != nil && !ix.meta.Local {
		c = ix.cap
	}
	if write {
		c.writeThr.Add(1)
		c.writeSeen.Store(true)
	} else {
		c.readThr.Add(1)
		c.readSeen.Store(true)
	}
	if st := t.stats.op(op); st != nil {
		st.throttled.Add(1)
	}
}

// charge takes u from the buckets (when throttling) and counts it for metrics.
func (s *Service) charge(u usage) {
	t := u.t
	lim := s.limited(t)
	now := time.Time{}
	if lim {
		now = s.now()
	}
	tableUnits := u.table
	for i, x := range u.idx {
		ix := t.indexes[i]
		if ix.meta.Local {
			tableUnits += x
			continue
		}
		if x == 0 {
			continue
		}
		if u.write {
			ix.cap.wcu.Add(int64(x * 1000))
			ix.cap.writeSeen.Store(true)
			if lim {
				ix.cap.write.spend(now, float64(ix.meta.WCU), x)
			}
		} else {
			ix.cap.rcu.Add(int64(x * 1000))
			ix.cap.readSeen.Store(true)
			if lim {
				ix.cap.read.spend(now, float64(ix.meta.RCU), x)
			}
		}
	}
	if tableUnits == 0 {
		return
	}
	if u.write {
		t.cap.wcu.Add(int64(tableUnits * 1000))
		t.cap.writeSeen.Store(true)
		if lim {
			t.cap.write.spend(now, float64(t.meta.WCU), tableUnits)
		}
	} else {
		t.cap.rcu.Add(int64(tableUnits * 1000))
		t.cap.readSeen.Store(true)
		if lim {
			t.cap.read.spend(now, float64(t.meta.RCU), tableUnits)
		}
	}
}

// readUsage is the usage of reading size bytes from t or its index ix.
func readUsage(t *table, ix *index, size int, consistent bool) usage {
	u := usage{t: t}
	units := readUnits(size, consistent)
	if ix == nil {
		u.table = units
		return u
	}
	u.idx = make([]float64, len(t.indexes))
	for i, x := range t.indexes {
		if x == ix {
			u.idx[i] = units
		}
	}
	return u
}

// consumedMode returns the ReturnConsumedCapacity mode ("" for none).
func consumedMode(in map[string]any) string {
	switch rc := service.Str(in, "ReturnConsumedCapacity"); rc {
	case "TOTAL", "INDEXES":
		return rc
	}
	return ""
}

// addUsage adds ConsumedCapacity for u when the request asked for it.
func addUsage(out, in map[string]any, u usage) {
	if mode := consumedMode(in); mode != "" {
		out["ConsumedCapacity"] = u.wire(mode)
	}
}

// addUsages adds the ConsumedCapacity list of a multi-table request.
func addUsages(out, in map[string]any, us []usage) {
	mode := consumedMode(in)
	if mode == "" {
		return
	}
	merged := map[*table]*usage{}
	var order []*table
	for _, u := range us {
		m := merged[u.t]
		if m == nil {
			c := usage{t: u.t, write: u.write, idx: make([]float64, len(u.t.indexes))}
			m = &c
			merged[u.t] = m
			order = append(order, u.t)
		}
		m.table += u.table
		for i, x := range u.idx {
			if i < len(m.idx) {
				m.idx[i] += x
			}
		}
	}
	l := make([]any, 0, len(order))
	for _, t := range order {
		l = append(l, merged[t].wire(mode))
	}
	out["ConsumedCapacity"] = l
}

func capWire(units float64, write bool) map[string]any {
	m := map[string]any{"CapacityUnits": units}
	if write {
		m["WriteCapacityUnits"] = units
	} else {
		m["ReadCapacityUnits"] = units
	}
	return m
}

func (u usage) wire(mode string) map[string]any {
	c := capWire(u.total(), u.write)
	c["TableName"] = u.t.meta.Name
	if mode != "INDEXES" {
		return c
	}
	c["Table"] = capWire(u.table, u.write)
	gsi, lsi := map[string]any{}, map[string]any{}
	for i, x := range u.idx {
		if x == 0 {
			continue
		}
		ix := u.t.indexes[i]
		if ix.meta.Local {
			lsi[ix.meta.Name] = capWire(x, u.write)
		} else {
			gsi[ix.meta.Name] = capWire(x, u.write)
		}
	}
	if len(gsi) > 0 {
		c["GlobalSecondaryIndexes"] = gsi
	}
	if len(lsi) > 0 {
		c["LocalSecondaryIndexes"] = lsi
	}
	return c
}

// ---- per-operation statistics ----

// statOps are the operations whose latency, throttles and returned items
// are reported per table.
var statOps = [...]string{"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
	"BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems",
	"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"}

func opIndex(op string) int {
	switch op {
	case "GetItem":
		return 0
	case "PutItem":
		return 1
	case "UpdateItem":
		return 2
	case "DeleteItem":
		return 3
	case "Query":
		return 4
	case "Scan":
		return 5
	case "BatchGetItem":
		return 6
	case "BatchWriteItem":
		return 7
	case "TransactGetItems":
		return 8
	case "TransactWriteItems":
		return 9
	case "ExecuteStatement":
		return 10
	case "BatchExecuteStatement":
		return 11
	case "ExecuteTransaction":
		return 12
	}
	return -1
}

type opStats struct {
	throttled atomic.Int64
	returned  atomic.Int64
	retSeen   atomic.Bool

	mu       sync.Mutex
	n        int64
	sum      float64 // milliseconds
	min, max float64
}

func (o *opStats) latency(ms float64) {
	o.mu.Lock()
	if o.n == 0 || ms < o.min {
		o.min = ms
	}
	if ms > o.max {
		o.max = ms
	}
	o.n++
	o.sum += ms
	o.mu.Unlock()
}

type tableStats struct {
	ops [len(statOps)]opStats
}

func (ts *tableStats) op(op string) *opStats {
	if i := opIndex(op); i >= 0 {
		return &ts.ops[i]
	}
	return nil
}

// returned counts the items a Query, Scan or SELECT returned.
func (s *Service) returned(t *table, op string, n int) {
	if st := t.stats.op(op); st != nil {
		st.returned.Add(int64(n))
		st.retSeen.Store(true)
	}
}

// timed wraps a single-table handler to record SuccessfulRequestLatency.
func (s *Service) timed(h service.Handler) service.Handler {
	return func(r *service.Request) (map[string]any, error) {
		start := time.Now()
		out, err := h(r)
		if err == nil {
			if t := s.lookup(scopeOf(r), tableNameFromARN(service.Str(r.Input, "TableName"))); t != nil {
				if st := t.stats.op(r.Operation); st != nil {
					st.latency(float64(time.Since(start).Microseconds()) / 1000)
				}
			}
		}
		return out, err
	}
}
