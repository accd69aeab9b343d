// Package ec2 implements Amazon Elastic Compute Cloud on the local machine:
// instances are supervised local processes, each on its own loopback address.
//
// Every account and region gets a default VPC with one default subnet in each
// of three Availability Zones (<region>a, b and c) and a default security
// group. Security groups with their rules, key pairs, tags, images, launch
// templates and instances are stored in the KV store, partitioned by account
// and region, and every Describe call takes AWS's Filters.
//
// # Instances
//
// An instance's "operating system" is the host. Booting an instance runs its
// init program as a process group of its own under a [proc.Supervisor]: the
// init program runs the user data (a script with a "#!" line is executed, a
// "#cloud-config" document has its write_files written and its runcmd run,
// anything else runs with /bin/sh), prints a line with its exit status to the
// console, and then keeps the instance up, as a machine stays up after
// cloud-init finishes, so servers the script started in the background keep
// running. The instance is up as long as its init program lives: when it
// ends on its own (it was killed), that is an instance-initiated shutdown,
// and the instance goes to stopped, or to terminated when its
// InstanceInitiatedShutdownBehavior is "terminate", with AWS's state reason
// Client.InstanceInitiatedShutdown. Stopping, rebooting or terminating an
// instance signals its whole process group (SIGTERM, then SIGKILL after
// Options.StopTimeout); server Close stops every instance.
//
// Each instance gets a private IPv4 address of its own on the loopback
// network (Linux routes all of 127.0.0.0/8 to lo, so a program in the
// instance can bind it): the server picks a random 127.B.0.0/16 network (kept
// in the store, so it survives restarts), the default VPC of every account
// and region has that CIDR block, the default subnets are 127.B.0.0/20,
// 127.B.16.0/20 and 127.B.32.0/20, and addresses are unique across the
// server. The private DNS name is ip-127-B-x-y.ec2.internal (us-east-1) or
// ip-127-B-x-y.<region>.compute.internal; it is not resolvable.
//
// The instance's program gets the server's environment without its AWS_
// variables, plus OVERCAST_INSTANCE_ID, OVERCAST_INSTANCE_IP and INSTANCE_IP
// (the private address), OVERCAST_INSTANCE_ROOT (the instance's directory),
// AWS_REGION and AWS_DEFAULT_REGION, AWS_ENDPOINT_URL (the Overcast endpoint
// the last API request reached, or Options.Endpoint), and
// AWS_EC2_METADATA_SERVICE_ENDPOINT. An instance without an instance profile
// also gets AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Options.Credentials),
// so it can call Overcast; one with a profile gets no key in its environment
// and finds its role credentials through the metadata service, as on AWS.
//
// # Instance metadata service
//
// Each booted instance has a metadata listener of its own, on its private
// address and a free port (http://127.B.x.y:port/), owned by the service and
// closed when the instance stops; the listener the request arrived on tells
// the instance apart, so the SDKs find it through
// AWS_EC2_METADATA_SERVICE_ENDPOINT unchanged. It answers IMDSv2 tokens (PUT
// /latest/api/token), IMDSv1 unless the instance's HttpTokens is "required",
// /latest/meta-data/ (ami-id, instance-id, instance-type, local-ipv4,
// local-hostname, hostname, placement/availability-zone, placement/region,
// security-groups, reservation-id, mac, iam/info,
// iam/security-credentials/<role>, tags/instance/ when instance metadata
// tags are enabled), /latest/dynamic/instance-identity/document and
// /latest/user-data.
//
// # Metrics
//
// Every minute (by the injected clock) each running instance publishes, in
// namespace AWS/EC2 with dimension InstanceId (and AutoScalingGroupName when
// it carries the aws:autoscaling:groupName tag): CPUUtilization, the CPU
// time its process group used over the minute divided by the wall time and
// the instance type's vCPUs, in percent, clamped to [0, 100];
// StatusCheckFailed, StatusCheckFailed_Instance and StatusCheckFailed_System
// (0 while the process lives).
//
// # Fidelity
//
// Deviations from AWS:
//   - NetworkIn, NetworkOut and the EBS and credit metrics are not published:
//     Linux does not count traffic per process outside a network namespace.
//   - Security group rules are stored and described but not enforced on
//     traffic; only the default VPC exists (CreateVpc, CreateSubnet and the
//     other VPC resources answer NotImplemented), and there are no public
//     addresses, volumes or network interfaces of their own (each instance
//     shows one primary interface).
//   - Pending lasts Options.BootDelay (0 by default) rather than tens of
//     seconds; terminated instances stay visible for Options.TerminatedRetention
//     (an hour, as AWS).
//   - User data runs on every boot (start and reboot), not only the first.
//     cloud-config supports write_files (path, content, encoding b64, gzip
//     or gz+b64, permissions, append), bootcmd and runcmd, in the YAML
//     subset cloud-config documents use (block mappings and sequences, plain,
//     quoted and block scalars, flow sequences); absolute write_files paths
//     are written under the instance's directory (OVERCAST_INSTANCE_ROOT)
//     rather than over the host's files; other modules are ignored. Gzipped
//     user data is decompressed; MIME multi-part user data is not supported.
//   - Images: the built-in AMIs (same ids in every region) run the user data
//     on the host. RegisterImage with ImageLocation set to an absolute path
//     registers a local image: an executable file becomes the instance's init
//     program (user data is then only served by the metadata service and
//     saved as user-data in the instance's directory), a directory becomes
//     the instance's working directory.
//   - The instance's processes run as the server's user and see the host's
//     file system; nothing isolates them.
//   - IAM role credentials from the metadata service are Options.Credentials
//     unless an InstanceCredentials source is wired in.
//   - After a server restart with a persistent store, instances that were
//     pending or running boot again; stopping ones are stopped and
//     shutting-down ones terminated.
package ec2

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/runtime/proc"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// Credentials are AWS credentials handed to an instance.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	// Expiration is when they expire; zero means in six hours.
	Expiration time.Time
}

// InstanceCredentials issues the credentials an instance profile gives the
// programs of an instance. IAM implements it; without it, instances get
// Options.Credentials.
type InstanceCredentials interface {
	// RoleCredentials returns the name of the role of instance profile
	// profileARN in account and temporary credentials for it. It MUST be
	// safe for concurrent use.
	RoleCredentials(ctx context.Context, account, profileARN string) (role string, creds Credentials, err error)
}

// Options configure the service. Zero fields take the documented defaults.
type Options struct {
	// Clock times state transitions, metrics and retention; nil is the wall
	// clock.
	Clock clock.Clock
	// Logger receives the service's logs; nil discards them.
	Logger *slog.Logger
	// Metrics receives the AWS/EC2 metrics; nil is metrics.Discard{}.
	Metrics metrics.Publisher
	// Credentials are given to instances (see the package doc); zero means
	// access key "test", secret "test".
	Credentials Credentials
	// Roles, if set, issues instance profile credentials.
	Roles InstanceCredentials
	// Endpoint is the Overcast URL instances call (AWS_ENDPOINT_URL) until
	// an API request has shown where the server is reached.
	Endpoint string
	// WorkDir holds the instances' directories; empty means a temporary
	// directory removed by Stop.
	WorkDir string
	// BootDelay is how long an instance stays pending after its process
	// started (0: it is running at once).
	BootDelay time.Duration
	// StopTimeout is how long a stopping instance's processes have after
	// SIGTERM before SIGKILL; 0 means 5 seconds.
	StopTimeout time.Duration
	// TerminatedRetention is how long terminated instances stay visible;
	// 0 means one hour.
	TerminatedRetention time.Duration
	// MetricsInterval is the metric period; 0 means one minute.
	MetricsInterval time.Duration
	// Network fixes the second octet B of the 127.B.0.0/16 instance network
	// (16..254); 0 picks one at random the first time and keeps it in the
	// store.
	Network int
}

// Service is EC2.
type Service struct {
	kv   storage.KV
	opts Options
	clk  clock.Clock
	log  *slog.Logger
	pub  metrics.Publisher

	endpoint atomic.Pointer[string]
	tokenKey [32]byte

	mu      sync.Mutex
	regions map[string]*region // by account + "/" + region
	network int                // B of 127.B.0.0/16
	// networkClaim holds the network against other servers on the machine.
	networkClaim net.Listener
	ips          map[string]string // used private IPs → instance id
	byIP         map[string]*vmRef // booted instances by private IP (metadata service)
	watchers     map[int]func(StateChange)
	watchN       int
	started      bool

	sup     *proc.Supervisor
	imds    *http.Server
	workDir string
	tmpDir  bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New returns the EC2 service storing its resources in kv.
func New(kv storage.KV, opts Options) *Service {
	if opts.Clock == nil {
		opts.Clock = clock.Real()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.Discard{}
	}
	if opts.Credentials.AccessKeyID == "" {
		opts.Credentials = Credentials{AccessKeyID: "test", SecretAccessKey: "test"}
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 5 * time.Second
	}
	if opts.TerminatedRetention <= 0 {
		opts.TerminatedRetention = time.Hour
	}
	if opts.MetricsInterval <= 0 {
		opts.MetricsInterval = time.Minute
	}
	s := &Service{
		kv: kv, opts: opts, clk: opts.Clock, log: opts.Logger, pub: opts.Metrics,
		regions:  map[string]*region{},
		ips:      map[string]string{},
		byIP:     map[string]*vmRef{},
		watchers: map[int]func(StateChange){},
	}
	rand.Read(s.tokenKey[:])
	return s
}

// Name implements service.Service.
func (*Service) Name() string { return "ec2" }

// APIs implements service.Service.
func (*Service) APIs() []string { return []string{"ec2"} }

// Handlers implements service.Service.
func (s *Service) Handlers() map[string]service.Handler {
	h := map[string]service.Handler{
		"DescribeRegions":           s.describeRegions,
		"DescribeAvailabilityZones": s.describeAvailabilityZones,
		"DescribeVpcs":              s.describeVpcs,
		"DescribeSubnets":           s.describeSubnets,
		"DescribeAccountAttributes": s.describeAccountAttributes,

		"CreateSecurityGroup":           s.createSecurityGroup,
		"DeleteSecurityGroup":           s.deleteSecurityGroup,
		"DescribeSecurityGroups":        s.describeSecurityGroups,
		"AuthorizeSecurityGroupIngress": s.authorizeIngress,
		"AuthorizeSecurityGroupEgress":  s.authorizeEgress,
		"RevokeSecurityGroupIngress":    s.revokeIngress,
		"RevokeSecurityGroupEgress":     s.revokeEgress,

		"CreateKeyPair":    s.createKeyPair,
		"ImportKeyPair":    s.importKeyPair,
		"DescribeKeyPairs": s.describeKeyPairs,
		"DeleteKeyPair":    s.deleteKeyPair,

		"CreateTags":   s.createTags,
		"DeleteTags":   s.deleteTags,
		"DescribeTags": s.describeTags,

		"DescribeImages":  s.describeImages,
		"RegisterImage":   s.registerImage,
		"DeregisterImage": s.deregisterImage,

		"RunInstances":              s.runInstances,
		"DescribeInstances":         s.describeInstances,
		"DescribeInstanceStatus":    s.describeInstanceStatus,
		"StartInstances":            s.startInstances,
		"StopInstances":             s.stopInstances,
		"RebootInstances":           s.rebootInstances,
		"TerminateInstances":        s.terminateInstances,
		"GetConsoleOutput":          s.getConsoleOutput,
		"ModifyInstanceAttribute":   s.modifyInstanceAttribute,
		"DescribeInstanceAttribute": s.describeInstanceAttribute,
		"DescribeInstanceTypes":     s.describeInstanceTypes,

		"CreateLaunchTemplate":           s.createLaunchTemplate,
		"CreateLaunchTemplateVersion":    s.createLaunchTemplateVersion,
		"DescribeLaunchTemplates":        s.describeLaunchTemplates,
		"DescribeLaunchTemplateVersions": s.describeLaunchTemplateVersions,
		"ModifyLaunchTemplate":           s.modifyLaunchTemplate,
		"DeleteLaunchTemplate":           s.deleteLaunchTemplate,
	}
	for op, fn := range h {
		h[op] = s.wrap(fn)
	}
	return h
}

// wrap answers DryRun requests, notes the endpoint clients reach and turns
// a panic into an internal error.
func (s *Service) wrap(fn service.Handler) service.Handler {
	return func(r *service.Request) (out map[string]any, err error) {
		if r.HTTP != nil && r.HTTP.Host != "" {
			scheme := "http://"
			if r.HTTP.TLS != nil {
				scheme = "https://"
			}
			if p := s.endpoint.Load(); p == nil || *p != scheme+r.HTTP.Host {
				u := scheme + r.HTTP.Host
				s.endpoint.Store(&u)
			}
		}
		if service.Bool(r.Input, "DryRun") {
			return nil, awserr.WithStatus(http.StatusPreconditionFailed, codeDryRun, "Request would have succeeded, but DryRun flag is set.")
		}
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("ec2 handler panic", "op", r.Operation, "panic", v)
				out, err = nil, awserr.Internal(fmt.Errorf("%v", v))
			}
		}()
		return fn(r)
	}
}

// Start loads the stored resources, opens the process supervisor and the
// metadata service, boots the instances that were running and starts the
// metrics and retention loop.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("ec2: already started")
	}
	s.workDir = s.opts.WorkDir
	if s.workDir == "" {
		d, err := os.MkdirTemp("", "overcast-ec2-")
		if err != nil {
			return fmt.Errorf("ec2 work directory: %w", err)
		}
		s.workDir, s.tmpDir = d, true
	} else if err := os.MkdirAll(s.workDir, 0o755); err != nil {
		return fmt.Errorf("ec2 work directory: %w", err)
	}
	if err := s.loadNetwork(); err != nil {
		return err
	}
	if err := s.load(); err != nil {
		return err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.sup = proc.NewSupervisor(s.clk, s.log)
	s.imds = &http.Server{
		Handler:           http.HandlerFunc(s.serveIMDS),
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext:       imdsConnContext,
	}
	s.started = true
	regions := make([]*region, 0, len(s.regions))
	for _, rg := range s.regions {
		regions = append(regions, rg)
	}
	s.mu.Unlock()
	for _, rg := range regions {
		s.recover(rg)
	}
	s.mu.Lock()
	s.wg.Add(1)
	go s.loop()
	return nil
}

// Stop stops every instance process, the metadata service and the loop,
// and joins every goroutine the service started. Instance states in the
// store are left as they were, so a restart boots them again.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.started {
		s.mu.Unlock()
		return nil
	}
	s.started = false
	s.mu.Unlock()
	s.cancel()
	err := s.sup.Close(ctx)
	s.imds.Close()
	s.wg.Wait()
	if s.networkClaim != nil {
		s.networkClaim.Close()
		s.networkClaim = nil
	}
	if s.tmpDir {
		os.RemoveAll(s.workDir)
	}
	return err
}

func (s *Service) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// endpointURL is the Overcast URL instances are told to call.
func (s *Service) endpointURL() string {
	if p := s.endpoint.Load(); p != nil {
		return *p
	}
	return s.opts.Endpoint
}

// newID returns prefix-<17 hex digits>.
func newID(prefix string) string {
	var b [9]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])[:17]
}

func randInt(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

// networkKey is where the instance network's octet is kept.
var networkKey = storage.Scope{Service: "ec2", Account: "-", Region: "-"}.Key("network")

func (s *Service) loadNetwork() error {
	return s.kv.Update(func(tx storage.Tx) error {
		if s.opts.Network >= 16 && s.opts.Network <= 254 {
			s.network = s.opts.Network
		} else if b, err := tx.Get(networkKey); err == nil {
			if err := json.Unmarshal(b, &s.network); err != nil {
				return fmt.Errorf("ec2 network: %w", err)
			}
			s.claimNetwork(false)
			return nil
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		} else {
			s.network = 16 + randInt(239)
			s.claimNetwork(true)
		}
		b, _ := json.Marshal(s.network)
		return tx.Put(networkKey, b)
	})
}

// networkClaimPort is the port of the listener by which a server holds its
// instance network: two servers on one machine that chose the same octet
// would hand out the same instance addresses.
const networkClaimPort = 45999

// claimNetwork binds 127.B.255.254:networkClaimPort for the server's life.
// When the octet was just chosen and another server holds it, it chooses
// again; a remembered octet is kept (the claim is then best effort).
func (s *Service) claimNetwork(mayChange bool) {
	for try := 0; try < 32; try++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.%d.255.254:%d", s.network, networkClaimPort))
		if err == nil {
			s.networkClaim = ln
			return
		}
		if !mayChange {
			return
		}
		s.network = 16 + randInt(239)
	}
}

var _ service.Service = (*Service)(nil)
var _ service.Starter = (*Service)(nil)
var _ service.Stopper = (*Service)(nil)
