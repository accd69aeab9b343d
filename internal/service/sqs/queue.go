package sqs

import (
	"container/heap"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// queueRecord is what is stored for a queue.
type queueRecord struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Attrs    map[string]string `json:"attrs"`
	Tags     map[string]string `json:"tags,omitempty"`
	Created  int64             `json:"created"`
	Modified int64             `json:"modified"`
}

// group is a FIFO message group: its messages in send order.
type group struct {
	id         string
	head, tail *message
	inflight   int
	avail      bool
	aprev      *group
	anext      *group
}

type dedupEntry struct {
	id      string
	seq     uint64
	expires int64 // unix ns
}

type dedupKey struct {
	key     string
	expires int64
}

// queue is one queue: its attributes and its in-memory indexes, all guarded
// by mu. Every acknowledged change is also committed to the KV store.
type queue struct {
	mu      sync.Mutex
	scope   storage.Scope
	rec     queueRecord
	arn     string
	idBytes [8]byte
	deleted bool

	// Parsed attributes.
	fifo         bool
	contentDedup bool
	dedupByGroup bool
	delay        time.Duration
	visibility   time.Duration
	retention    time.Duration
	maxSize      int
	waitTime     time.Duration
	redrive      *redrivePolicy
	allow        *redriveAllow

	lastSeq atomic.Uint64

	msgs       map[uint64]*message
	ahead      *message // all messages, oldest first
	atail      *message
	rhead      *message // standard: ready messages
	rtail      *message
	timers     timerHeap // delayed and in-flight messages by visibleAt
	counts     [3]int
	groups     map[string]*group
	gahead     *group // FIFO: groups with a receivable head
	gatail     *group
	dedup      map[string]dedupEntry
	dedupOrder []dedupKey
	dedupHead  int

	waiters   int
	notify    chan struct{}
	lastPurge time.Time

	stats queueStats
	// redriveDue are messages that became receivable again after their
	// last allowed receive: the sweep moves them to the dead-letter queue.
	redriveDue []*message
}

func newQueue(scope storage.Scope, rec queueRecord) *queue {
	q := &queue{
		scope:  scope,
		rec:    rec,
		msgs:   make(map[uint64]*message),
		notify: make(chan struct{}),
	}
	q.arn = "arn:" + service.Partition(scope.Region) + ":sqs:" + scope.Region + ":" + scope.Account + ":" + rec.Name
	for i := 0; i < 8 && i*2+1 < len(rec.ID); i++ {
		v, _ := strconv.ParseUint(rec.ID[i*2:i*2+2], 16, 8)
		q.idBytes[i] = byte(v)
	}
	q.applyAttrs()
	return q
}

// applyAttrs parses rec.Attrs into the typed fields.
func (q *queue) applyAttrs() {
	a := q.rec.Attrs
	secs := func(name string, def int) time.Duration {
		n, err := strconv.Atoi(a[name])
		if err != nil {
			n = def
		}
		return time.Duration(n) * time.Second
	}
	q.fifo = a[attrFifoQueue] == "true"
	q.contentDedup = a[attrContentBasedDedup] == "true"
	q.dedupByGroup = a[attrDeduplicationScope] == "messageGroup"
	q.delay = secs(attrDelaySeconds, 0)
	q.visibility = secs(attrVisibilityTimeout, 30)
	q.retention = secs(attrRetentionPeriod, defaultRetention)
	q.waitTime = secs(attrWaitTime, 0)
	q.maxSize, _ = strconv.Atoi(a[attrMaximumMessageSize])
	if q.maxSize == 0 {
		q.maxSize = maxMessageSize
	}
	q.redrive = nil
	if s := a[attrRedrivePolicy]; s != "" {
		q.redrive, _ = parseRedrive(s)
	}
	q.allow = nil
	if s := a[attrRedriveAllowPolicy]; s != "" {
		q.allow, _ = parseRedriveAllow(s)
	}
	if q.fifo && q.groups == nil {
		q.groups = make(map[string]*group)
		q.dedup = make(map[string]dedupEntry)
	}
}

func (q *queue) msgKey(seq uint64) []byte { return q.scope.Key("msg", q.rec.ID, seqKey(seq)) }

// rcvKey is where a message's receive state lives: right after its record,
// so that deleting both copies one path of the store's tree, not two.
func (q *queue) rcvKey(seq uint64) []byte { return q.scope.Key("msg", q.rec.ID, seqKey(seq), "r") }

// nextSeq allocates a sequence number: increasing, and close to the clock's
// nanoseconds so that numbers keep increasing across restarts.
func (q *queue) nextSeq(now time.Time) uint64 {
	for {
		last := q.lastSeq.Load()
		n := uint64(now.UnixNano())
		if n <= last {
			n = last + 1
		}
		if q.lastSeq.CompareAndSwap(last, n) {
			return n
		}
	}
}

// wake tells long-polling receivers that a message may be receivable.
func (q *queue) wake() {
	if q.waiters > 0 {
		close(q.notify)
		q.notify = make(chan struct{})
	}
}

// insert adds a sent (or restored) message to the indexes.
func (q *queue) insert(m *message) {
	q.msgs[m.seq] = m
	m.aprev, m.anext = q.atail, nil
	if q.atail != nil {
		q.atail.anext = m
	} else {
		q.ahead = m
	}
	q.atail = m
	q.counts[m.state]++
	if q.fifo {
		g := q.groups[m.groupID]
		if g == nil {
			g = &group{id: m.groupID}
			q.groups[m.groupID] = g
		}
		m.grp = g
		m.prev, m.next = g.tail, nil
		if g.tail != nil {
			g.tail.next = m
		} else {
			g.head = m
		}
		g.tail = m
		if m.state == stInflight {
			g.inflight++
		}
	}
	switch m.state {
	case stReady:
		if !q.fifo {
			q.readyAppend(m)
		}
		q.wake()
	case stDelayed, stInflight:
		heap.Push(&q.timers, m)
	}
	if q.fifo {
		q.fixGroup(m.grp)
	}
}

// remove takes m out of every index.
func (q *queue) remove(m *message) {
	delete(q.msgs, m.seq)
	if m.aprev != nil {
		m.aprev.anext = m.anext
	} else {
		q.ahead = m.anext
	}
	if m.anext != nil {
		m.anext.aprev = m.aprev
	} else {
		q.atail = m.aprev
	}
	m.aprev, m.anext = nil, nil
	if m.heapIdx >= 0 {
		heap.Remove(&q.timers, m.heapIdx)
	}
	q.counts[m.state]--
	if q.fifo {
		g := m.grp
		if m.prev != nil {
			m.prev.next = m.next
		} else {
			g.head = m.next
		}
		if m.next != nil {
			m.next.prev = m.prev
		} else {
			g.tail = m.prev
		}
		if m.state == stInflight {
			g.inflight--
		}
		m.prev, m.next, m.grp = nil, nil, nil
		if g.head == nil {
			q.availRemove(g)
			delete(q.groups, g.id)
		} else {
			q.fixGroup(g)
		}
	} else if m.state == stReady {
		q.readyUnlink(m)
	}
}

func (q *queue) readyAppend(m *message) {
	m.prev, m.next = q.rtail, nil
	if q.rtail != nil {
		q.rtail.next = m
	} else {
		q.rhead = m
	}
	q.rtail = m
}

func (q *queue) readyUnlink(m *message) {
	if m.prev != nil {
		m.prev.next = m.next
	} else {
		q.rhead = m.next
	}
	if m.next != nil {
		m.next.prev = m.prev
	} else {
		q.rtail = m.prev
	}
	m.prev, m.next = nil, nil
}

// fixGroup keeps g in the available list exactly when it has no message in
// flight and its first message is receivable.
func (q *queue) fixGroup(g *group) {
	want := g.inflight == 0 && g.head != nil && g.head.state == stReady
	if want == g.avail {
		return
	}
	if want {
		g.avail = true
		g.aprev, g.anext = q.gatail, nil
		if q.gatail != nil {
			q.gatail.anext = g
		} else {
			q.gahead = g
		}
		q.gatail = g
		q.wake()
	} else {
		q.availRemove(g)
	}
}

func (q *queue) availRemove(g *group) {
	if !g.avail {
		return
	}
	g.avail = false
	if g.aprev != nil {
		g.aprev.anext = g.anext
	} else {
		q.gahead = g.anext
	}
	if g.anext != nil {
		g.anext.aprev = g.aprev
	} else {
		q.gatail = g.aprev
	}
	g.aprev, g.anext = nil, nil
}

// makeReady turns a delayed or in-flight message (already out of the timer
// heap) receivable.
func (q *queue) makeReady(m *message) {
	prev := m.state
	q.counts[prev]--
	q.counts[stReady]++
	m.state = stReady
	if prev == stInflight && q.redrive != nil && m.receives >= uint32(q.redrive.MaxReceiveCount) {
		q.redriveDue = append(q.redriveDue, m)
	}
	if q.fifo {
		if prev == stInflight {
			m.grp.inflight--
		}
		q.fixGroup(m.grp)
		return
	}
	q.readyAppend(m)
	q.wake()
}

// take marks a ready message in flight until visibleAt.
func (q *queue) take(m *message, visibleAt int64) {
	if !q.fifo {
		q.readyUnlink(m)
	} else {
		m.grp.inflight++
	}
	q.counts[stReady]--
	q.counts[stInflight]++
	m.state = stInflight
	m.visibleAt = visibleAt
	heap.Push(&q.timers, m)
}

// promote makes every message whose delay or visibility timeout has passed
// receivable.
func (q *queue) promote(now time.Time) {
	ns := now.UnixNano()
	for len(q.timers) > 0 && q.timers[0].visibleAt <= ns {
		m := heap.Pop(&q.timers).(*message)
		q.makeReady(m)
	}
}

// expired removes and returns the messages older than the retention period.
func (q *queue) expired(now time.Time) []*message {
	cutoff := now.Add(-q.retention).UnixMilli()
	var out []*message
	for m := q.ahead; m != nil && m.sent <= cutoff; {
		next := m.anext
		q.remove(m)
		out = append(out, m)
		m = next
	}
	return out
}

// nextDue returns when the next delayed or in-flight message becomes
// receivable (0 when none).
func (q *queue) nextDue() int64 {
	if len(q.timers) == 0 {
		return 0
	}
	return q.timers[0].visibleAt
}

// pruneDedup drops deduplication entries past their window.
func (q *queue) pruneDedup(now int64) {
	for q.dedupHead < len(q.dedupOrder) && q.dedupOrder[q.dedupHead].expires <= now {
		k := q.dedupOrder[q.dedupHead]
		if e, ok := q.dedup[k.key]; ok && e.expires == k.expires {
			delete(q.dedup, k.key)
		}
		q.dedupOrder[q.dedupHead] = dedupKey{}
		q.dedupHead++
	}
	if q.dedupHead > 64 && q.dedupHead*2 > len(q.dedupOrder) {
		n := copy(q.dedupOrder, q.dedupOrder[q.dedupHead:])
		q.dedupOrder = q.dedupOrder[:n]
		q.dedupHead = 0
	}
}

// timerHeap orders messages by visibleAt.
type timerHeap []*message

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].visibleAt != h[j].visibleAt {
		return h[i].visibleAt < h[j].visibleAt
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}
func (h *timerHeap) Push(x any) {
	m := x.(*message)
	m.heapIdx = len(*h)
	*h = append(*h, m)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	m := old[n-1]
	old[n-1] = nil
	m.heapIdx = -1
	*h = old[:n-1]
	return m
}
