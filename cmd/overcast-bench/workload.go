package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Workload is one kind of operation the benchmark drives against every
// target. A fresh Workload is made for each target, so it may keep clients
// and resource names in its fields.
type Workload interface {
	// Name is the short name used by -workloads and in the report.
	Name() string
	// Setup prepares the workload against env: builds clients and creates
	// whatever the operation needs (buckets, queues, tables). It MUST return
	// an error wrapping errors.ErrUnsupported when the target cannot serve
	// this workload; the report then shows a dash instead of a failure.
	// Its context ends after -setup-timeout, so that a slow target cannot
	// hold the benchmark up filling a queue or a table.
	Setup(ctx context.Context, env Env) error
	// Op performs one operation and reports whether it succeeded: a
	// response that is not what the operation must return (an empty
	// receive, a body that differs, a missing item) is an error, so a broken
	// server shows as errors rather than speed. It MUST be safe for
	// concurrent use once Setup has returned.
	Op(ctx context.Context) error
}

// runHooks is implemented by workloads that do work around each run, outside
// the measurement: topping a queue up to its stated depth, starting and
// stopping receivers. The sequence for a measured run is BeforeRun, warm-up,
// AfterRun (figures discarded), BeforeRun, the measured run, AfterRun.
type runHooks interface {
	BeforeRun(ctx context.Context) error
	// AfterRun returns figures of the run that just ended (named as in the
	// workload's extras) and errors found after the fact (messages that
	// never arrived).
	AfterRun(ctx context.Context) runExtras
}

// noter is implemented by workloads that found something worth a line in
// the report about a target: a response shape that deviates from AWS but
// did not stop the workload.
type noter interface {
	Notes() []string
}

// noteSet collects notes once each, safely from many goroutines.
type noteSet struct {
	mu    sync.Mutex
	notes []string
}

func (n *noteSet) once(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, have := range n.notes {
		if have == s {
			return
		}
	}
	n.notes = append(n.notes, s)
}

func (n *noteSet) list() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.notes...)
}

// runExtras is what a workload adds to a run's sample.
type runExtras struct {
	Figures    map[string]float64
	Errors     int64
	FirstError string
}

// Env is what a workload gets to know about the target it runs against.
type Env struct {
	// Endpoint is the target's base URL, http://127.0.0.1:PORT.
	Endpoint string
	// HTTPClient is shared by every goroutine of a run; its pool holds at
	// least one idle connection per goroutine.
	HTTPClient *http.Client
	// Floor is set for the floor server, which speaks no AWS API and answers
	// every request with a fixed small XML body, and serves files of
	// floorFileSizes under /files/. A workload sends it plain unsigned HTTP
	// requests shaped like its real ones (same method and body size), so
	// that only the server side differs.
	Floor bool
	// Opts are the sizes the workloads are set up with.
	Opts Options
	// shared holds set-up work done once per target for several workloads
	// (one pre-filled DynamoDB table for the four DynamoDB workloads).
	shared *sharedSetup
}

// Options are the workload sizes, from flags.
type Options struct {
	DynamoDBItems    int     // items in the pre-filled DynamoDB table
	MetricDatapoints int     // datapoints in the pre-filled CloudWatch metric
	FanoutRate       float64 // SNS publishes per second in the fan-out workload
}

// sharedSetup runs each keyed set-up once per target and remembers its
// result, error included.
type sharedSetup struct {
	mu   sync.Mutex
	done map[string]*sharedResult
}

type sharedResult struct {
	once sync.Once
	v    any
	err  error
}

// once runs f the first time key is asked for on this target and returns
// its result every time.
func (e Env) once(key string, f func() (any, error)) (any, error) {
	if e.shared == nil {
		return f()
	}
	e.shared.mu.Lock()
	if e.shared.done == nil {
		e.shared.done = map[string]*sharedResult{}
	}
	r := e.shared.done[key]
	if r == nil {
		r = &sharedResult{}
		e.shared.done[key] = r
	}
	e.shared.mu.Unlock()
	r.once.Do(func() { r.v, r.err = f() })
	return r.v, r.err
}

// goals are the aims from PERF-TARGETS.md and the service issues for one
// workload, printed beside the figures. Zero means no such aim.
type goals struct {
	cpuUs          float64 // Overcast server CPU µs/op at most
	vsMotoCPU      float64 // at least this many times less server CPU per op than moto
	vsMotoRate     float64 // at least this many times moto's throughput
	aheadOfPeers   bool    // more throughput and less server CPU than every peer
	minRate        float64 // throughput in the workload's unit at least (MiB/s)
	floorRateShare float64 // at least this share of the floor's throughput
	floorCPUFactor float64 // server CPU per op within this many times the floor's
	p50Ms, p99Ms   float64 // latency extras at most
}

// workloadDef names a workload and makes fresh instances of it.
type workloadDef struct {
	name string
	doc  string
	// service is the AWS service the workload calls; a target that does not
	// emulate it is left out of the workload's table.
	service string
	new     func() Workload
	// concurrency and duration are the defaults when -concurrency and
	// -duration are not given.
	concurrency int
	duration    time.Duration
	// floor: the floor gets plain requests of the same shape. Only where the
	// body size makes the floor tell something the STS floor does not.
	floor bool
	// heavySetup: Setup fills something; the start/idle-RSS request uses
	// the first selected workload without it.
	heavySetup bool
	// unit, perOp: throughput is also reported in unit, perOp units per op
	// (MiB/s for 1 MiB objects, datapoints/s for PutMetricData).
	unit  string
	perOp float64
	// latency: every op is timed and p50/p99 ms are reported.
	latency bool
	// extras names the figures the workload's AfterRun returns, in column
	// order.
	extras []string
	goals  goals
}

const (
	defaultDuration      = 2 * time.Second
	defaultSmallConc     = 32
	defaultS3DDBConc     = 16
	defaultFanoutPublish = 4
)

// workloadDefs lists every workload, in report order.
func workloadDefs() []workloadDef {
	defs := []workloadDef{
		{name: "sts-getcalleridentity", doc: "STS GetCallerIdentity (query protocol, SigV4-signed by aws-sdk-go-v2)",
			service: "sts", floor: true, concurrency: defaultSmallConc, duration: defaultDuration,
			new:   func() Workload { return &getCallerIdentity{} },
			goals: goals{cpuUs: targetSmallCallCPUUs, vsMotoCPU: targetVsMotoFactor, floorCPUFactor: targetFloorFactor}},
	}
	defs = append(defs, sqsDefs()...)
	defs = append(defs, s3Defs()...)
	defs = append(defs, ddbDefs()...)
	defs = append(defs, cwDefs()...)
	return defs
}

// awsConfig is the SDK configuration every workload uses: static test
// credentials, no retries, the shared pooled client, no logging. It reads
// nothing from the environment.
func awsConfig(env Env) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(env.Endpoint),
		HTTPClient:   env.HTTPClient,
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
		Logger:       logging.Nop{},
	}
}

// notImplemented reports whether err says the target does not implement the
// operation: Overcast's NotImplemented, moto's "has not been implemented",
// an unknown action or a 501.
func notImplemented(err error) bool {
	if err == nil {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NotImplemented", "NotImplementedException", "InvalidAction", "UnknownOperationException",
			"UnsupportedOperation", "UnknownOperation":
			return true
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotImplemented {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "not been implemented") || strings.Contains(msg, "not yet implemented") ||
		strings.Contains(msg, "NotImplemented")
}

// classify turns a set-up error into ErrUnsupported when the target does
// not implement the operation.
func classify(what string, err error) error {
	if err == nil {
		return nil
	}
	if notImplemented(err) {
		return fmt.Errorf("%s: %w (%v)", what, errors.ErrUnsupported, firstLine(err.Error()))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// plainPost is the floor's stand-in for an AWS call: an unsigned POST of
// body to the endpoint through the same pooled client.
type plainPost struct {
	client      *http.Client
	url         string
	contentType string
	body        string
}

func (p *plainPost) do(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, strings.NewReader(p.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", p.contentType)
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// getCallerIdentity calls STS GetCallerIdentity: the cheapest signed AWS
// call, so it measures request routing, signature handling and response
// encoding with no storage behind them.
type getCallerIdentity struct {
	client *sts.Client
	floor  *plainPost
}

// gciBody is the form the SDK sends for GetCallerIdentity.
const gciBody = "Action=GetCallerIdentity&Version=2011-06-15"

func (*getCallerIdentity) Name() string { return "sts-getcalleridentity" }

func (g *getCallerIdentity) Setup(ctx context.Context, env Env) error {
	if env.Floor {
		g.floor = &plainPost{client: env.HTTPClient, url: env.Endpoint + "/",
			contentType: "application/x-www-form-urlencoded; charset=utf-8", body: gciBody}
		return nil
	}
	g.client = sts.NewFromConfig(awsConfig(env))
	if err := g.Op(ctx); err != nil {
		return classify("first GetCallerIdentity", err)
	}
	return nil
}

func (g *getCallerIdentity) Op(ctx context.Context) error {
	if g.floor != nil {
		return g.floor.do(ctx)
	}
	out, err := g.client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return err
	}
	if aws.ToString(out.Account) == "" {
		return errors.New("GetCallerIdentity: no Account")
	}
	return nil
}

// selectWorkloads resolves the -workloads flag: "all" or a comma-separated
// list of names; a name may also be a prefix ending in '*' ("s3-*") or a
// service ("sqs", "s3", "dynamodb", "cloudwatch", "sns", "sts").
func selectWorkloads(spec string) ([]workloadDef, error) {
	all := workloadDefs()
	if spec == "" || spec == "all" {
		return all, nil
	}
	want := map[string]bool{}
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for _, d := range all {
			prefix, isPrefix := strings.CutSuffix(name, "*")
			if d.name == name || d.service == name || (isPrefix && strings.HasPrefix(d.name, prefix)) {
				want[d.name] = true
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown workload %q (have %s, or a service name)", name, workloadNames(all))
		}
	}
	var out []workloadDef
	for _, d := range all {
		if want[d.name] {
			out = append(out, d)
		}
	}
	return out, nil
}

func workloadNames(defs []workloadDef) string {
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.name
	}
	return strings.Join(names, ", ")
}

var _ Workload = (*getCallerIdentity)(nil)
