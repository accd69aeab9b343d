package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

const serviceName = "dynamodb"

// Service is DynamoDB and DynamoDB Streams.
type Service struct {
	kv      storage.KV
	clock   clock.Clock
	metrics metrics.Publisher
	// throttle enables provisioned-throughput limits (WithThrottle).
	throttle bool

	mu     sync.RWMutex
	tables map[tableKey]*table

	tokens sync.Map // idempotency tokens: string -> tokenEntry

	ttlStop chan struct{}
	ttlDone chan struct{}
}

type tableKey struct{ account, region, name string }

// Option configures the service.
type Option func(*Service)

// WithClock sets the clock used for timestamps, TTL expiry and stream retention.
func WithClock(c clock.Clock) Option { return func(s *Service) { s.clock = c } }

// WithMetrics sets the publisher that receives the AWS/DynamoDB metrics
// (default metrics.Discard).
func WithMetrics(p metrics.Publisher) Option { return func(s *Service) { s.metrics = p } }

// WithThrottle makes tables and global secondary indexes in PROVISIONED
// billing mode answer ProvisionedThroughputExceededException (and return
// unprocessed batch items) beyond their read and write capacity units, with
// 300 seconds of burst capacity, timed by the service's clock.
func WithThrottle(on bool) Option { return func(s *Service) { s.throttle = on } }

// New returns DynamoDB backed by kv.
func New(kv storage.KV, opts ...Option) *Service {
	s := &Service{kv: kv, clock: clock.Real(), metrics: metrics.Discard{}, tables: map[tableKey]*table{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Name implements service.Service.
func (*Service) Name() string { return serviceName }

// APIs implements service.Service.
func (*Service) APIs() []string { return []string{"dynamodb", "dynamodbstreams"} }

// Handlers implements service.Service.
func (s *Service) Handlers() map[string]service.Handler {
	return map[string]service.Handler{
		"CreateTable":               s.createTable,
		"DescribeTable":             s.describeTable,
		"ListTables":                s.listTables,
		"DeleteTable":               s.deleteTable,
		"UpdateTable":               s.updateTable,
		"DescribeTimeToLive":        s.describeTimeToLive,
		"UpdateTimeToLive":          s.updateTimeToLive,
		"TagResource":               s.tagResource,
		"UntagResource":             s.untagResource,
		"ListTagsOfResource":        s.listTagsOfResource,
		"DescribeLimits":            s.describeLimits,
		"DescribeEndpoints":         s.describeEndpoints,
		"DescribeContinuousBackups": s.describeContinuousBackups,
		"UpdateContinuousBackups":   s.updateContinuousBackups,
		"PutItem":                   s.timed(s.putItem),
		"GetItem":                   s.timed(s.getItem),
		"DeleteItem":                s.timed(s.deleteItem),
		"UpdateItem":                s.timed(s.updateItem),
		"Query":                     s.timed(s.query),
		"Scan":                      s.timed(s.scan),
		"BatchGetItem":              s.batchGetItem,
		"BatchWriteItem":            s.batchWriteItem,
		"TransactWriteItems":        s.transactWriteItems,
		"TransactGetItems":          s.transactGetItems,
		"ListStreams":               s.listStreams,
		"DescribeStream":            s.describeStream,
		"GetShardIterator":          s.getShardIterator,
		"GetRecords":                s.getRecords,
		"ExecuteStatement":          s.executeStatement,
		"BatchExecuteStatement":     s.batchExecuteStatement,
		"ExecuteTransaction":        s.executeTransaction,
	}
}

// Start loads table metadata and rebuilds the in-memory counters from the store.
func (s *Service) Start(ctx context.Context) error {
	start, end := storage.ServiceRange(serviceName)
	var metas []struct {
		sc   storage.Scope
		meta tableMeta
	}
	err := s.kv.View(func(tx storage.Tx) error {
		return tx.Scan(start, end, func(k, v []byte) bool {
			sc, parts, err := storage.DecodeKey(k)
			if err != nil || len(parts) != 2 || parts[0] != "table" {
				return true
			}
			var m tableMeta
			if json.Unmarshal(v, &m) == nil {
				metas = append(metas, struct {
					sc   storage.Scope
					meta tableMeta
				}{sc, m})
			}
			return true
		})
	})
	if err != nil {
		return err
	}
	for _, m := range metas {
		t := newTable(m.sc, m.meta)
		if err := s.kv.View(func(tx storage.Tx) error { return t.recount(tx) }); err != nil {
			return err
		}
		s.tables[tableKey{m.sc.Account, m.sc.Region, m.meta.Name}] = t
	}
	s.ttlStop = make(chan struct{})
	s.ttlDone = make(chan struct{})
	go s.ttlLoop(s.ttlStop, s.ttlDone)
	return nil
}

// Stop joins the TTL controller and the metrics publisher (which publishes
// what it has gathered first).
func (s *Service) Stop(ctx context.Context) error {
	if s.ttlStop == nil {
		return nil
	}
	close(s.ttlStop)
	s.ttlStop = nil
	select {
	case <-s.ttlDone:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func scopeOf(r *service.Request) storage.Scope {
	return storage.Scope{Service: serviceName, Account: r.Account, Region: r.Region}
}

// lookup returns the table or nil.
func (s *Service) lookup(sc storage.Scope, name string) *table {
	s.mu.RLock()
	t := s.tables[tableKey{sc.Account, sc.Region, name}]
	s.mu.RUnlock()
	return t
}

func (s *Service) table(r *service.Request, name string) (*table, error) {
	name = tableNameFromARN(name)
	if t := s.lookup(scopeOf(r), name); t != nil {
		return t, nil
	}
	return nil, tableNotFound()
}

func (s *Service) now() time.Time { return s.clock.Now() }

// counts are live statistics of a table or index.
type counts struct {
	items atomic.Int64
	bytes atomic.Int64
}

func hash16(b []byte) (byte, byte) {
	h := fnv.New32a()
	h.Write(b)
	v := h.Sum32()
	return byte(v >> 24), byte(v >> 16)
}

var errStop = errors.New("stop")

var (
	_ service.Service = (*Service)(nil)
	_ service.Starter = (*Service)(nil)
	_ service.Stopper = (*Service)(nil)
)
