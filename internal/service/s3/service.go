package s3

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/controller"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// Options configure a Service.
type Options struct {
	KV    storage.KV
	Blobs storage.Blobs
	// Clock drives lifecycle expiration and timestamps; nil means clock.Real().
	Clock  clock.Clock
	Logger *slog.Logger
	// Sink receives event notifications; nil drops them.
	Sink NotificationSink
	// Metrics receives AWS/S3 request metrics; nil means metrics.Discard{}.
	Metrics metrics.Publisher
	// Secret returns the secret key of an access key; when set, browser POST
	// uploads must carry a valid policy signature.
	Secret func(accessKey string) (string, bool)
	// Account maps an access key to its account (for POST uploads).
	Account func(accessKey string) string
	// InlineMax is the largest object body kept inside its metadata record
	// instead of a blob file (0 means 4 KiB; negative disables inlining).
	InlineMax int
	// RateLimit enables S3's per-prefix request rates (3,500 writes and
	// 5,500 reads per second per prefix, excess answered 503 SlowDown).
	RateLimit bool
}

// Service is the S3 service.
type Service struct {
	kv        storage.KV
	blobs     storage.Blobs
	clk       clock.Clock
	log       *slog.Logger
	sink      NotificationSink
	metrics   metrics.Publisher
	rate      *rateLimiter
	seq       versionSeq
	buckets   bucketCache
	agg       metricsAgg
	secret    func(string) (string, bool)
	inlineMax int
	// inlineBufs holds buffers for reading small bodies (*[]byte).
	inlineBufs sync.Pool
	// lifecycleMu serialises lifecycle passes: two passes deciding at once
	// would both expire the same current version.
	lifecycleMu sync.Mutex
	account     func(string) string

	mgr  *controller.Manager
	once sync.Once
}

// New returns the S3 service.
func New(opt Options) *Service {
	s := &Service{kv: opt.KV, blobs: opt.Blobs, clk: opt.Clock, log: opt.Logger, sink: opt.Sink, metrics: opt.Metrics, secret: opt.Secret, account: opt.Account}
	if s.clk == nil {
		s.clk = clock.Real()
	}
	switch {
	case opt.InlineMax == 0:
		s.inlineMax = 4 << 10
	case opt.InlineMax < 0:
		s.inlineMax = -1
	default:
		s.inlineMax = opt.InlineMax
	}
	s.inlineBufs.New = func() any { return new([]byte) }
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = metrics.Discard{}
	}
	if opt.RateLimit {
		s.rate = newRateLimiter(s.clk)
	}
	return s
}

// Name implements service.Service.
func (s *Service) Name() string { return "s3" }

// APIs implements service.Service.
func (s *Service) APIs() []string { return []string{"s3"} }

// Start starts the lifecycle controller.
func (s *Service) Start(ctx context.Context) error {
	s.mgr = controller.NewManager(s.clk, s.log)
	if err := s.mgr.Start(controller.Loop{Name: "s3-lifecycle", Interval: lifecycleInterval, Reconcile: s.runLifecycle}); err != nil {
		return err
	}
	if s.metricsOn() {
		return s.mgr.Start(controller.Loop{Name: "s3-metrics", Interval: metricsInterval, Reconcile: s.flushMetrics})
	}
	return nil
}

// Stop stops the lifecycle controller and joins it.
func (s *Service) Stop(ctx context.Context) error {
	if s.mgr != nil {
		s.mgr.Stop()
	}
	return nil
}

// Handlers implements service.Service.
func (s *Service) Handlers() map[string]service.Handler {
	h := map[string]service.Handler{
		"CreateBucket":      s.createBucket,
		"HeadBucket":        s.headBucket,
		"ListBuckets":       s.listBuckets,
		"DeleteBucket":      s.deleteBucket,
		"GetBucketLocation": s.getBucketLocation,

		"PutObject":           s.putObject,
		"GetObject":           s.getObject,
		"HeadObject":          s.headObject,
		"DeleteObject":        s.deleteObject,
		"DeleteObjects":       s.deleteObjects,
		"CopyObject":          s.copyObject,
		"GetObjectAttributes": s.getObjectAttributes,
		"PutObjectTagging":    s.putObjectTagging,
		"GetObjectTagging":    s.getObjectTagging,
		"DeleteObjectTagging": s.deleteObjectTagging,
		"GetObjectAcl":        s.getObjectACL,
		"PutObjectAcl":        s.putObjectACL,

		"ListObjects":        s.listObjects,
		"ListObjectsV2":      s.listObjectsV2,
		"ListObjectVersions": s.listObjectVersions,

		"CreateMultipartUpload":   s.createMultipartUpload,
		"UploadPart":              s.uploadPart,
		"UploadPartCopy":          s.uploadPartCopy,
		"ListParts":               s.listParts,
		"ListMultipartUploads":    s.listMultipartUploads,
		"CompleteMultipartUpload": s.completeMultipartUpload,
		"AbortMultipartUpload":    s.abortMultipartUpload,
	}
	for k, v := range s.bucketConfigHandlers() {
		h[k] = v
	}
	for name, fn := range h {
		h[name] = s.instrument(name, fn)
	}
	return h
}

// lookupBucket reads a bucket the caller may use.
func (s *Service) lookupBucket(req *service.Request, name string) (*bucketRecord, error) {
	var b bucketRecord
	var found bool
	err := s.kv.View(func(tx storage.Tx) error {
		var err error
		found, err = s.getBucket(tx, partitionScope(service.Partition(req.Region)).Key(tagBucket, name), &b)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errNoSuchBucket(name)
	}
	if b.Account != req.Account {
		return nil, errAccessDenied()
	}
	if owner := req.HTTP.Header.Get("X-Amz-Expected-Bucket-Owner"); owner != "" && owner != b.Account {
		return nil, errAccessDenied()
	}
	return &b, nil
}

// updateBucket applies fn to a bucket record the caller owns and stores it.
func (s *Service) updateBucket(req *service.Request, name string, fn func(b *bucketRecord) error) error {
	key := partitionScope(service.Partition(req.Region)).Key(tagBucket, name)
	return s.kv.Update(func(tx storage.Tx) error {
		var b bucketRecord
		found, err := getRec(tx, key, &b)
		if err != nil {
			return err
		}
		if !found {
			return errNoSuchBucket(name)
		}
		if b.Account != req.Account {
			return errAccessDenied()
		}
		if err := fn(&b); err != nil {
			return err
		}
		return putRec(tx, key, &b)
	})
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

func scopeOf(req *service.Request) storage.Scope {
	return partitionScope(service.Partition(req.Region))
}

// arnPartition returns the ARN partition of a region.
func arnPartition(region string) string { return service.Partition(region) }

func trimQuotes(s string) string { return strings.Trim(strings.TrimSpace(s), `"`) }

var _ service.Service = (*Service)(nil)
var _ service.Starter = (*Service)(nil)
var _ service.Stopper = (*Service)(nil)
var _ service.Host = (*Service)(nil)
