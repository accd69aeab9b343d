package sqs

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/controller"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// Service is SQS.
type Service struct {
	kv      storage.KV
	clock   clock.Clock
	logger  *slog.Logger
	metrics metrics.Publisher
	mgr     *controller.Manager

	mu     sync.RWMutex
	queues map[string]*queue // by queueKey

	tasksMu sync.Mutex
	tasks   map[string]*moveTask

	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock that drives delays, visibility timeouts,
// retention and long polling (default clock.Real()).
func WithClock(c clock.Clock) Option { return func(s *Service) { s.clock = c } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.logger = l } }

// WithMetrics sets where the AWS/SQS metrics go (default metrics.Discard).
// They are published once a minute by a controller, never per request.
func WithMetrics(p metrics.Publisher) Option { return func(s *Service) { s.metrics = p } }

// New returns SQS storing its queues and messages in kv.
func New(kv storage.KV, opts ...Option) *Service {
	s := &Service{
		kv:      kv,
		clock:   clock.Real(),
		logger:  slog.New(slog.DiscardHandler),
		metrics: metrics.Discard{},
		queues:  make(map[string]*queue),
		tasks:   make(map[string]*moveTask),
		done:    make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Name implements service.Service.
func (*Service) Name() string { return "sqs" }

// APIs implements service.Service: json for current SDKs, query for older ones.
func (*Service) APIs() []string { return []string{"sqs", "sqs-query"} }

// Handlers implements service.Service.
func (s *Service) Handlers() map[string]service.Handler {
	return map[string]service.Handler{
		"CreateQueue":                  s.createQueue,
		"GetQueueUrl":                  s.getQueueURL,
		"ListQueues":                   s.listQueues,
		"DeleteQueue":                  s.deleteQueue,
		"PurgeQueue":                   s.purgeQueue,
		"GetQueueAttributes":           s.getQueueAttributes,
		"SetQueueAttributes":           s.setQueueAttributes,
		"TagQueue":                     s.tagQueue,
		"UntagQueue":                   s.untagQueue,
		"ListQueueTags":                s.listQueueTags,
		"AddPermission":                s.addPermission,
		"RemovePermission":             s.removePermission,
		"ListDeadLetterSourceQueues":   s.listDeadLetterSourceQueues,
		"SendMessage":                  s.sendMessage,
		"SendMessageBatch":             s.sendMessageBatch,
		"ReceiveMessage":               s.receiveMessage,
		"DeleteMessage":                s.deleteMessage,
		"DeleteMessageBatch":           s.deleteMessageBatch,
		"ChangeMessageVisibility":      s.changeMessageVisibility,
		"ChangeMessageVisibilityBatch": s.changeMessageVisibilityBatch,
		"StartMessageMoveTask":         s.startMessageMoveTask,
		"ListMessageMoveTasks":         s.listMessageMoveTasks,
		"CancelMessageMoveTask":        s.cancelMessageMoveTask,
	}
}

func queueKey(account, region, name string) string {
	return account + "\x00" + region + "\x00" + name
}

// Start rebuilds every queue's indexes from the store.
func (s *Service) Start(ctx context.Context) error {
	type kv struct{ k, v []byte }
	type pending struct {
		msgs map[uint64]*message
		keys [][]byte // every key, to drop if the queue is gone
		rcv  map[uint64]kv
	}
	byID := map[string]*queue{}
	data := map[string]*pending{}
	get := func(id string) *pending {
		p := data[id]
		if p == nil {
			p = &pending{msgs: map[uint64]*message{}, rcv: map[uint64]kv{}}
			data[id] = p
		}
		return p
	}
	var orphans [][]byte
	var migrate [][2][]byte // old key, new key
	var moved [][]byte      // their values
	start, end := storage.ServiceRange("sqs")
	err := s.kv.View(func(tx storage.Tx) error {
		return tx.Scan(start, end, func(k, v []byte) bool {
			sc, parts, err := storage.DecodeKey(k)
			if err != nil || len(parts) == 0 {
				return true
			}
			switch {
			case parts[0] == "queue" && len(parts) == 2:
				var rec queueRecord
				if json.Unmarshal(v, &rec) != nil {
					s.logger.Warn("sqs: skipping corrupt queue record", "queue", parts[1])
					return true
				}
				q := newQueue(sc, rec)
				byID[rec.ID] = q
				s.queues[queueKey(sc.Account, sc.Region, rec.Name)] = q
			case (parts[0] == "msg" || parts[0] == "rcv") && len(parts) >= 3 && len(parts[2]) == 8:
				seq := binary.BigEndian.Uint64([]byte(parts[2]))
				p := get(parts[1])
				p.keys = append(p.keys, k)
				switch {
				case parts[0] == "msg" && len(parts) == 4 && parts[3] == "r":
					p.rcv[seq] = kv{k, v}
					return true
				case parts[0] == "rcv" && len(parts) == 3:
					// Receive state in the layout before it moved next to
					// the message record: rewritten below.
					k2 := sc.Key("msg", parts[1], parts[2], "r")
					p.rcv[seq] = kv{k2, v}
					migrate = append(migrate, [2][]byte{k, k2})
					cp := append([]byte(nil), v...)
					moved = append(moved, cp)
					return true
				case len(parts) != 3 || parts[0] != "msg":
					return true
				}
				m, err := decodeMessage(seq, v)
				if err != nil {
					s.logger.Warn("sqs: dropping corrupt message record", "err", err)
					orphans = append(orphans, k)
					return true
				}
				p.msgs[seq] = m
			}
			return true
		})
	})
	if err != nil {
		return fmt.Errorf("load queues: %w", err)
	}
	for id, p := range data {
		q := byID[id]
		if q == nil {
			// Messages of a deleted queue.
			orphans = append(orphans, p.keys...)
			continue
		}
		for seq, st := range p.rcv {
			m := p.msgs[seq]
			if m == nil || m.decodeState(st.v) != nil {
				orphans = append(orphans, st.k)
			}
		}
		seqs := make([]uint64, 0, len(p.msgs))
		for seq := range p.msgs {
			seqs = append(seqs, seq)
		}
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		for _, seq := range seqs {
			m := p.msgs[seq]
			q.insert(m)
			if q.fifo && m.dedupID != "" {
				k := q.dedupKeyFor(m.groupID, m.dedupID)
				exp := m.sent*1e6 + int64(dedupWindow)
				q.dedup[k] = dedupEntry{id: m.id, seq: m.seq, expires: exp}
				q.dedupOrder = append(q.dedupOrder, dedupKey{k, exp})
			}
			if seq > q.lastSeq.Load() {
				q.lastSeq.Store(seq)
			}
		}
	}
	if len(orphans) > 0 || len(migrate) > 0 {
		if err := s.kv.Update(func(tx storage.Tx) error {
			for i, m := range migrate {
				if err := tx.Delete(m[0]); err != nil {
					return err
				}
				if err := tx.Put(m[1], moved[i]); err != nil {
					return err
				}
			}
			for _, k := range orphans {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("drop orphaned messages: %w", err)
		}
	}
	return s.startControllers()
}

// startControllers starts the background loops: the sweep (retention,
// dead-letter moves, message move tasks) and the metrics publisher.
func (s *Service) startControllers() error {
	s.mgr = controller.NewManager(s.clock, s.logger)
	if err := s.mgr.Start(controller.Loop{Name: sweepLoop, Interval: sweepInterval, Reconcile: s.sweep}); err != nil {
		return err
	}
	if _, discard := s.metrics.(metrics.Discard); !discard {
		if err := s.mgr.Start(controller.Loop{Name: "sqs-metrics", Interval: metricsInterval, Reconcile: s.flushMetrics}); err != nil {
			return err
		}
	}
	return nil
}

// Stop wakes long-polling receivers and joins background work.
func (s *Service) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.done) })
	if s.mgr != nil {
		s.mgr.Stop()
	}
	s.tasksMu.Lock()
	for _, t := range s.tasks {
		t.cancel()
	}
	s.tasksMu.Unlock()
	c := make(chan struct{})
	go func() { s.wg.Wait(); close(c) }()
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lookup returns a live queue.
func (s *Service) lookup(account, region, name string) *queue {
	s.mu.RLock()
	q := s.queues[queueKey(account, region, name)]
	s.mu.RUnlock()
	return q
}

// queueByARN returns the queue an ARN names, or nil.
func (s *Service) queueByARN(arn string) *queue {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" {
		return nil
	}
	return s.lookup(parts[4], parts[3], parts[5])
}

// parseQueueURL splits a queue URL (full, path-only, or a bare name) into
// account and name.
func parseQueueURL(u, defaultAccount string) (account, name string, ok bool) {
	if i := strings.Index(u, "://"); i >= 0 {
		rest := u[i+3:]
		j := strings.IndexByte(rest, '/')
		if j < 0 {
			return "", "", false
		}
		u = rest[j:]
	}
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	u = strings.Trim(u, "/")
	parts := strings.Split(u, "/")
	switch len(parts) {
	case 1:
		if parts[0] == "" {
			return "", "", false
		}
		return defaultAccount, parts[0], true
	case 2:
		if parts[0] == "queue" || parts[0] == "" || parts[1] == "" {
			return "", "", false
		}
		return parts[0], parts[1], true
	case 3:
		// LocalStack's path form: /queue/<region>/<account>/<name> is not
		// used; accept /<region>/<account>/<name>.
		return parts[1], parts[2], parts[1] != "" && parts[2] != ""
	}
	return "", "", false
}

// queueFor resolves the request's QueueUrl.
func (s *Service) queueFor(r *service.Request) (*queue, error) {
	u := service.Str(r.Input, "QueueUrl")
	if u == "" {
		return nil, errMissing("QueueUrl")
	}
	account, name, ok := parseQueueURL(u, r.Account)
	if !ok {
		return nil, sqsErr(codeInvalidAddress, "The address %s is not valid for this endpoint.", u)
	}
	q := s.lookup(account, r.Region, name)
	if q == nil {
		return nil, errNoQueue()
	}
	return q, nil
}

// queueURL is the URL of a queue as the client reaches this server.
func queueURL(r *service.Request, account, name string) string {
	host := "localhost:4566"
	scheme := "http://"
	if r != nil && r.HTTP != nil {
		if r.HTTP.Host != "" {
			host = r.HTTP.Host
		}
		if r.HTTP.TLS != nil {
			scheme = "https://"
		}
	}
	return scheme + host + "/" + account + "/" + name
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newMessageID returns a random UUID.
func newMessageID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

var (
	_ service.Service = (*Service)(nil)
	_ service.Starter = (*Service)(nil)
	_ service.Stopper = (*Service)(nil)
)
