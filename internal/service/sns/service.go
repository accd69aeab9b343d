package sns

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/controller"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// QueueSender delivers messages to SQS queues. SQS implements it.
type QueueSender interface {
	// SendToQueue sends body with attrs to the queue queueARN names; groupID
	// and dedupID are for FIFO queues. It MUST return an error when the
	// queue does not exist or refuses the message.
	SendToQueue(ctx context.Context, queueARN, body string, attrs map[string]service.MessageAttribute, groupID, dedupID string) error
}

// Service is SNS.
type Service struct {
	kv     storage.KV
	clock  clock.Clock
	logger *slog.Logger
	queues QueueSender
	client *http.Client

	invoker atomic.Pointer[invokerBox]
	metrics metrics.Publisher
	status  StatusLogger // delivery status logs; nil: none
	// streamName is the log stream this run writes delivery status to.
	streamName string
	mgr        *controller.Manager

	mu     sync.RWMutex
	topics map[string]*topic        // by ARN
	subs   map[string]*subscription // by ARN

	// The signing key and certificate are made on first use: generating
	// an RSA key costs tens of milliseconds that start-up should not pay.
	keyOnce sync.Once
	keyErr  error
	key     *rsa.PrivateKey
	certPEM []byte

	baseURL atomic.Value  // string
	lastSeq atomic.Uint64 // FIFO sequence numbers

	outMu  sync.Mutex
	outbox []Delivery // email, SMS and failed deliveries, for inspection

	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// Delivery is a notification recorded for a protocol Overcast does not send
// anywhere (email, email-json, sms, firehose, application, and lambda
// without a FunctionInvoker), inspectable with Deliveries and served as JSON
// at /_overcast/sns/deliveries.
type Delivery struct {
	Time            time.Time `json:"time"`
	Type            string    `json:"type"` // Notification or SubscriptionConfirmation
	Protocol        string    `json:"protocol"`
	Endpoint        string    `json:"endpoint"`
	TopicArn        string    `json:"topicArn,omitempty"`
	SubscriptionArn string    `json:"subscriptionArn,omitempty"`
	MessageID       string    `json:"messageId"`
	Subject         string    `json:"subject,omitempty"`
	Body            string    `json:"message"`
	// Token and SubscribeURL are set on subscription confirmations.
	Token        string `json:"token,omitempty"`
	SubscribeURL string `json:"subscribeUrl,omitempty"`
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (default clock.Real()).
func WithClock(c clock.Clock) Option { return func(s *Service) { s.clock = c } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.logger = l } }

// WithMetrics sets where the AWS/SNS metrics go (default metrics.Discard);
// a controller publishes them once a minute.
func WithMetrics(p metrics.Publisher) Option { return func(s *Service) { s.metrics = p } }

// WithHTTPClient sets the client for http/https subscriptions.
func WithHTTPClient(c *http.Client) Option { return func(s *Service) { s.client = c } }

// New returns SNS storing its topics in kv and delivering to queues through
// queues (which may be nil when SQS is not running).
func New(kv storage.KV, queues QueueSender, opts ...Option) *Service {
	s := &Service{
		kv: kv, queues: queues, clock: clock.Real(),
		logger: slog.New(slog.DiscardHandler), metrics: metrics.Discard{},
		client: &http.Client{Timeout: 15 * time.Second},
		topics: map[string]*topic{}, subs: map[string]*subscription{},
		done: make(chan struct{}), streamName: newUUID(),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Name implements service.Service.
func (*Service) Name() string { return "sns" }

// APIs implements service.Service.
func (*Service) APIs() []string { return []string{"sns"} }

// Handlers implements service.Service.
func (s *Service) Handlers() map[string]service.Handler {
	return map[string]service.Handler{
		"CreateTopic":               s.createTopic,
		"DeleteTopic":               s.deleteTopic,
		"GetTopicAttributes":        s.getTopicAttributes,
		"SetTopicAttributes":        s.setTopicAttributes,
		"ListTopics":                s.listTopics,
		"TagResource":               s.tagResource,
		"UntagResource":             s.untagResource,
		"ListTagsForResource":       s.listTagsForResource,
		"GetDataProtectionPolicy":   s.getDataProtectionPolicy,
		"PutDataProtectionPolicy":   s.putDataProtectionPolicy,
		"Subscribe":                 s.subscribe,
		"ConfirmSubscription":       s.confirmSubscription,
		"Unsubscribe":               s.unsubscribe,
		"ListSubscriptions":         s.listSubscriptions,
		"ListSubscriptionsByTopic":  s.listSubscriptionsByTopic,
		"GetSubscriptionAttributes": s.getSubscriptionAttributes,
		"SetSubscriptionAttributes": s.setSubscriptionAttributes,
		"Publish":                   s.publish,
		"PublishBatch":              s.publishBatch,
	}
}

// Start loads topics and subscriptions and makes the signing key.
func (s *Service) Start(ctx context.Context) error {
	start, end := storage.ServiceRange("sns")
	err := s.kv.View(func(tx storage.Tx) error {
		return tx.Scan(start, end, func(k, v []byte) bool {
			_, parts, err := storage.DecodeKey(k)
			if err != nil || len(parts) != 2 {
				return true
			}
			switch parts[0] {
			case "topic":
				var rec topicRecord
				if json.Unmarshal(v, &rec) == nil {
					s.topics[rec.Arn] = &topic{rec: rec}
				}
			case "sub":
				var rec subRecord
				if json.Unmarshal(v, &rec) == nil {
					s.subs[rec.Arn] = newSubscription(rec)
				}
			}
			return true
		})
	})
	if err != nil {
		return err
	}
	s.mgr = controller.NewManager(s.clock, s.logger)
	if _, discard := s.metrics.(metrics.Discard); !discard {
		return s.mgr.Start(controller.Loop{Name: "sns-metrics", Interval: metricsInterval, Reconcile: s.flushMetrics})
	}
	return nil
}

// Stop stops the metrics controller and joins deliveries in progress.
func (s *Service) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.done) })
	if s.mgr != nil {
		s.mgr.Stop()
	}
	c := make(chan struct{})
	go func() { s.wg.Wait(); close(c) }()
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// signingKey returns the notification signing key, making it on first use.
func (s *Service) signingKey() (*rsa.PrivateKey, error) {
	s.keyOnce.Do(func() { s.keyErr = s.makeKey() })
	return s.key, s.keyErr
}

func (s *Service) makeKey() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sns.amazonaws.com", Organization: []string{"Overcast"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		DNSNames:     []string{"sns.amazonaws.com"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("signing certificate: %w", err)
	}
	s.key = key
	s.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return nil
}

// certPath is where the signing certificate is served.
const certPath = "/SimpleNotificationService-overcast.pem"

// ServeHost implements service.Host: it serves the signing certificate.
func (s *Service) ServeHost(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path != certPath || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	if _, err := s.signingKey(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return true
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Write(s.certPEM)
	return true
}

// Deliveries returns the recorded email/SMS notifications.
func (s *Service) Deliveries() []Delivery {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	return append([]Delivery(nil), s.outbox...)
}

func (s *Service) record(d Delivery) {
	s.outMu.Lock()
	if len(s.outbox) >= 1000 {
		s.outbox = s.outbox[1:]
	}
	s.outbox = append(s.outbox, d)
	s.outMu.Unlock()
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// parseArn splits an SNS ARN into region, account and resource.
func parseArn(arn string) (region, account, resource string, ok bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[2] != "sns" || p[3] == "" || p[4] == "" || p[5] == "" {
		return "", "", "", false
	}
	return p[3], p[4], p[5], true
}

func (s *Service) put(scope storage.Scope, kind, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.kv.Update(func(tx storage.Tx) error { return tx.Put(scope.Key(kind, id), b) })
}

var (
	_ service.Service = (*Service)(nil)
	_ service.Starter = (*Service)(nil)
	_ service.Stopper = (*Service)(nil)
	_ service.Host    = (*Service)(nil)
)
