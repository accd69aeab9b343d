package elb_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/gateway"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/rest"
	"github.com/overcast-dev/overcast/internal/protocol/sigv4"
	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/service/elb"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

// testAuth accepts every request, taking the region from the signature.
type testAuth struct{}

func (testAuth) Identify(r *http.Request) (*gateway.Credential, error) {
	c, err := sigv4.Parse(r)
	if err != nil || c == nil {
		return nil, nil
	}
	return &gateway.Credential{AccessKey: c.AccessKey, Region: c.Region, Service: c.Service}, nil
}
func (testAuth) Verify(*http.Request, *gateway.Credential) error { return nil }
func (testAuth) Account(string) string                           { return "000000000000" }

type env struct {
	t    testing.TB
	svc  *elb.Service
	clk  *clock.Fake
	url  string
	v2   *elbv2.Client
	pub  *recorder
	edge *httptest.Server
}

type recorder struct {
	mu   chan struct{}
	data []metrics.Datum
	ns   []string
}

func (r *recorder) Publish(account, region, namespace string, data []metrics.Datum) {
	r.mu <- struct{}{}
	for range data {
		r.ns = append(r.ns, namespace)
	}
	r.data = append(r.data, data...)
	<-r.mu
}

func (r *recorder) sum(namespace, name string) float64 {
	r.mu <- struct{}{}
	defer func() { <-r.mu }()
	v := 0.0
	for i, d := range r.data {
		if r.ns[i] == namespace && d.Name == name && len(d.Dimensions) == 1 {
			v += d.Value
		}
	}
	return v
}

func newEnv(t testing.TB) *env {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	pub := &recorder{mu: make(chan struct{}, 1)}
	svc := elb.New(elb.Options{KV: memory.New(), Clock: clk, Metrics: pub})
	gw, err := gateway.New(gateway.Config{Auth: testAuth{}}, []service.Service{svc}, map[string]protocol.Codec{
		protocol.RestJSON: rest.NewJSON(), protocol.RestXML: rest.NewXML(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	edge := httptest.NewServer(gw)
	t.Cleanup(func() {
		edge.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	// awstest's client configuration: its transport keeps the SDK's request
	// writer from dropping a connection under a fast answer.
	cfg := awstest.Config(edge.URL, "test", "test")
	return &env{t: t, svc: svc, clk: clk, url: edge.URL, v2: elbv2.NewFromConfig(cfg), pub: pub, edge: edge}
}

// backend is a target: an HTTP server on its own loopback address.
type backend struct {
	*httptest.Server
	ip   string
	port int32
	hits atomic.Int64
	name string
}

var nextIP atomic.Int32

func init() { nextIP.Store(10) }

// newBackend starts an HTTP target on 127.0.0.x answering its name.
func newBackend(t testing.TB, name string, h http.HandlerFunc) *backend {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		ip := fmt.Sprintf("127.0.0.%d", nextIP.Add(1)%250+2)
		ln, err = net.Listen("tcp", ip+":0")
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Skipf("no extra loopback addresses: %v", err)
	}
	b := &backend{name: name}
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Backend", name)
			io.WriteString(w, name)
		}
	}
	b.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			b.hits.Add(1)
		}
		h(w, r)
	})}}
	b.Start()
	t.Cleanup(b.Close)
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	b.ip = host
	fmt.Sscan(port, &b.port)
	return b
}

func (e *env) lb(name string, typ types.LoadBalancerTypeEnum) types.LoadBalancer {
	e.t.Helper()
	out, err := e.v2.CreateLoadBalancer(context.Background(), &elbv2.CreateLoadBalancerInput{
		Name: aws.String(name), Type: typ, Subnets: []string{"subnet-1", "subnet-2"},
	})
	if err != nil {
		e.t.Fatalf("CreateLoadBalancer: %v", err)
	}
	return out.LoadBalancers[0]
}

func (e *env) tg(name string, proto types.ProtocolEnum, port int32) string {
	e.t.Helper()
	in := &elbv2.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: proto, Port: aws.Int32(port), VpcId: aws.String("vpc-1"),
		TargetType: types.TargetTypeEnumIp, HealthCheckIntervalSeconds: aws.Int32(10), HealthCheckTimeoutSeconds: aws.Int32(2),
		HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
	}
	if proto == types.ProtocolEnumHttp {
		in.HealthCheckPath = aws.String("/health")
	}
	out, err := e.v2.CreateTargetGroup(context.Background(), in)
	if err != nil {
		e.t.Fatalf("CreateTargetGroup: %v", err)
	}
	return *out.TargetGroups[0].TargetGroupArn
}

func (e *env) register(tg string, bs ...*backend) {
	e.t.Helper()
	var ts []types.TargetDescription
	for _, b := range bs {
		ts = append(ts, types.TargetDescription{Id: aws.String(b.ip), Port: aws.Int32(b.port)})
	}
	if _, err := e.v2.RegisterTargets(context.Background(), &elbv2.RegisterTargetsInput{TargetGroupArn: &tg, Targets: ts}); err != nil {
		e.t.Fatalf("RegisterTargets: %v", err)
	}
}

func (e *env) listener(lbARN string, proto types.ProtocolEnum, port int32, actions ...types.Action) (arn, addr string) {
	e.t.Helper()
	out, err := e.v2.CreateListener(context.Background(), &elbv2.CreateListenerInput{
		LoadBalancerArn: &lbARN, Protocol: proto, Port: aws.Int32(port), DefaultActions: actions,
	})
	if err != nil {
		e.t.Fatalf("CreateListener: %v", err)
	}
	arn = *out.Listeners[0].ListenerArn
	addr, ok := e.svc.ListenerAddr(arn)
	if !ok {
		e.t.Fatalf("no address for %s", arn)
	}
	return arn, addr
}

func forward(tg string) types.Action {
	return types.Action{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}
}

// health returns the target states of tg by target IP.
func (e *env) health(tg string) map[string]string {
	e.t.Helper()
	out, err := e.v2.DescribeTargetHealth(context.Background(), &elbv2.DescribeTargetHealthInput{TargetGroupArn: &tg})
	if err != nil {
		e.t.Fatalf("DescribeTargetHealth: %v", err)
	}
	m := map[string]string{}
	for _, d := range out.TargetHealthDescriptions {
		m[*d.Target.Id] = string(d.TargetHealth.State)
	}
	return m
}

// eventually polls cond until it holds or a generous bound (a safety net
// for a loaded machine, not a timing assertion) passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitState advances the fake clock by the health check interval until the
// target at ip reaches state.
func (e *env) waitState(tg, ip, state string) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		if e.health(tg)[ip] == state {
			return
		}
		if i%10 == 9 {
			e.clk.Advance(10 * time.Second)
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("target %s never reached %s (now %v)", ip, state, e.health(tg))
}

var plain = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t testing.TB, url string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := plain.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

var _ = strings.TrimSpace
