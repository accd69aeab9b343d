package autoscaling_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/overcast-dev/overcast/internal/awstest"
	"github.com/overcast-dev/overcast/internal/clock"
)

// The instance program: an HTTP server on $INSTANCE_IP:8080 that answers
// its instance id. A request with ?hold=1 is held until /release (or a
// minute) passes; /inflight counts the requests held. The test reaches
// /inflight and /release on the instance directly, not through the load
// balancer.
const webServer = `package main

import (
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"
)

func main() {
	id := os.Getenv("OVERCAST_INSTANCE_ID")
	var mu sync.Mutex
	held := 0
	release := make(chan struct{})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("hold") != "" {
			mu.Lock()
			held++
			ch := release
			mu.Unlock()
			select {
			case <-ch:
			case <-time.After(time.Minute):
			}
			mu.Lock()
			held--
			mu.Unlock()
		}
		fmt.Fprint(w, id)
	})
	http.HandleFunc("/inflight", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprint(w, held)
	})
	http.HandleFunc("/release", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		close(release)
		release = make(chan struct{})
		mu.Unlock()
	})
	if err := http.ListenAndServe(os.Getenv("INSTANCE_IP")+":8080", nil); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}
`

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// webServerBinary builds the instance program once per test binary.
func webServerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "asg-web-")
		if buildErr != nil {
			return
		}
		src := filepath.Join(binDir, "main.go")
		if buildErr = os.WriteFile(src, []byte(webServer), 0o644); buildErr != nil {
			return
		}
		if buildErr = os.WriteFile(filepath.Join(binDir, "go.mod"), []byte("module web\n\ngo 1.22\n"), 0o644); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "web")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "GOWORK=off")
		cmd.Dir = binDir
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type env struct {
	t   *testing.T
	srv *awstest.Server
	clk *clock.Fake
	as  *autoscaling.Client
	ec  *ec2.Client
	lb  *elbv2.Client
	cw  *cloudwatch.Client
	ctx context.Context
	// pidDir receives <instance-id>.pgid files from the instances.
	pidDir string
	// elb publishes the load balancers' metrics of the minute so far.
	elb interface{ FlushMetrics() }
	// direct talks to instances without the load balancer.
	direct *http.Client
}

var epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := clock.NewFake(epoch)
	var launched []string
	// Registered first, so it runs last: after the server has stopped,
	// none of its instances' processes may be left.
	t.Cleanup(func() { checkNoInstanceProcesses(t, launched) })
	srv := awstest.Start(t, awstest.WithServices("autoscaling"), awstest.WithClock(clk))
	lb, ok := srv.Service("elasticloadbalancing").(interface{ FlushMetrics() })
	if !ok {
		t.Fatal("no load balancer metrics hook")
	}
	tr := &http.Transport{Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	e := &env{t: t, srv: srv, clk: clk, ctx: context.Background(), elb: lb,
		direct: &http.Client{Transport: tr, Timeout: 10 * time.Second},
		as:     autoscaling.NewFromConfig(srv.Config), ec: ec2.NewFromConfig(srv.Config),
		lb: elbv2.NewFromConfig(srv.Config), cw: cloudwatch.NewFromConfig(srv.Config)}
	// Runs before the server stops: note every instance it ran.
	t.Cleanup(func() {
		out, err := e.ec.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{})
		if err != nil {
			t.Errorf("DescribeInstances: %v", err)
			return
		}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				launched = append(launched, aws.ToString(in.InstanceId))
			}
		}
	})
	return e
}

// checkNoInstanceProcesses fails the test if a process of one of the
// instances (by OVERCAST_INSTANCE_ID in its environment) is still alive.
func checkNoInstanceProcesses(t *testing.T, ids []string) {
	if len(ids) == 0 {
		return
	}
	want := map[string]bool{}
	for _, id := range ids {
		want["OVERCAST_INSTANCE_ID="+id] = true
	}
	var left []string
	// The supervisor reaps its processes before the server's Close
	// returns; a few polls let a reparented child finish dying.
	for i := 0; i < 200; i++ {
		left = left[:0]
		procs, _ := filepath.Glob("/proc/[0-9]*/environ")
		for _, p := range procs {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			for _, kv := range strings.Split(string(b), "\x00") {
				if want[kv] {
					left = append(left, filepath.Base(filepath.Dir(p))+" "+kv)
				}
			}
		}
		if len(left) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("instance processes left behind: %v", left)
}

// template creates a launch template whose instances run the web server.
func (e *env) template(name string) string {
	e.t.Helper()
	bin := webServerBinary(e.t)
	if e.pidDir == "" {
		e.pidDir = e.t.TempDir()
	}
	// The instance records its process group, so a test can crash it.
	script := "#!/bin/sh\ncut -d' ' -f5 /proc/$$/stat > " + e.pidDir + "/$OVERCAST_INSTANCE_ID.pgid\n" + bin + " > web.log 2>&1 &\n"
	out, err := e.ec.CreateLaunchTemplate(e.ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(name),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
			ImageId: aws.String("ami-0overcast00000001"), InstanceType: ec2types.InstanceTypeT3Micro,
			UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(script))),
		},
	})
	if err != nil {
		e.t.Fatalf("CreateLaunchTemplate: %v", err)
	}
	return aws.ToString(out.LaunchTemplate.LaunchTemplateId)
}

// subnets returns the default subnets, one per zone.
func (e *env) subnets() []string {
	e.t.Helper()
	out, err := e.ec.DescribeSubnets(e.ctx, &ec2.DescribeSubnetsInput{})
	if err != nil {
		e.t.Fatalf("DescribeSubnets: %v", err)
	}
	var ids []string
	for _, s := range out.Subnets {
		ids = append(ids, aws.ToString(s.SubnetId))
	}
	sort.Strings(ids)
	return ids
}

func (e *env) group(name string) astypes.AutoScalingGroup {
	e.t.Helper()
	in := &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}}
	out, err := e.as.DescribeAutoScalingGroups(e.ctx, in)
	if err != nil {
		e.t.Fatalf("DescribeAutoScalingGroups: %v", err)
	}
	if len(out.AutoScalingGroups) != 1 {
		e.t.Fatalf("group %s: got %d groups", name, len(out.AutoScalingGroups))
	}
	return out.AutoScalingGroups[0]
}

// inService returns the ids of the group's healthy InService instances.
func (e *env) inService(name string) []string {
	var ids []string
	for _, in := range e.group(name).Instances {
		if in.LifecycleState == astypes.LifecycleStateInService && aws.ToString(in.HealthStatus) == "Healthy" {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	sort.Strings(ids)
	return ids
}

// tick advances the fake clock by d and waits, boundedly, for the loops
// that fired to park again.
func (e *env) tick(d time.Duration) {
	n := e.clk.Waiters()
	e.clk.Advance(d)
	ctx, cancel := context.WithTimeout(e.ctx, 200*time.Millisecond)
	e.clk.BlockUntil(ctx, n)
	cancel()
}

// eventually polls cond a bounded number of times, stepping the fake clock
// by step (if positive) between polls.
func (e *env) eventually(what string, step time.Duration, cond func() bool) {
	e.t.Helper()
	for i := 0; i < 400; i++ {
		if cond() {
			return
		}
		if step > 0 {
			e.tick(step)
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
	e.t.Fatalf("timed out waiting for %s", what)
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := apiCode(err); got != code {
		t.Errorf("%s: error %v, want code %s", what, err, code)
	}
}

// freePort returns a port free on 127.0.0.1 for a listener.
func freePort(t *testing.T) int32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return int32(l.Addr().(*net.TCPAddr).Port)
}

// alb creates an ALB over subnets with a target group for instances on
// port 8080 and an HTTP listener; it returns the target group ARN, the
// ResourceLabel for ALBRequestCountPerTarget and the listener URL.
func (e *env) alb(name string, subnets []string) (tgARN, label, url string) {
	e.t.Helper()
	lbOut, err := e.lb.CreateLoadBalancer(e.ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(name), Subnets: subnets})
	if err != nil {
		e.t.Fatalf("CreateLoadBalancer: %v", err)
	}
	lbARN := aws.ToString(lbOut.LoadBalancers[0].LoadBalancerArn)
	vpc, err := e.ec.DescribeVpcs(e.ctx, &ec2.DescribeVpcsInput{})
	if err != nil || len(vpc.Vpcs) == 0 {
		e.t.Fatalf("DescribeVpcs: %v", err)
	}
	tgOut, err := e.lb.CreateTargetGroup(e.ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(name + "-tg"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080),
		VpcId: vpc.Vpcs[0].VpcId, TargetType: elbtypes.TargetTypeEnumInstance,
		HealthCheckPath: aws.String("/"), HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2),
		HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2),
	})
	if err != nil {
		e.t.Fatalf("CreateTargetGroup: %v", err)
	}
	tgARN = aws.ToString(tgOut.TargetGroups[0].TargetGroupArn)
	if _, err := e.lb.ModifyTargetGroupAttributes(e.ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: &tgARN,
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("30")}}}); err != nil {
		e.t.Fatalf("ModifyTargetGroupAttributes: %v", err)
	}
	port := freePort(e.t)
	if _, err := e.lb.CreateListener(e.ctx, &elbv2.CreateListenerInput{LoadBalancerArn: &lbARN, Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(port), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: &tgARN}}}); err != nil {
		e.t.Fatalf("CreateListener: %v", err)
	}
	lbPart := lbARN[strings.Index(lbARN, ":loadbalancer/")+len(":loadbalancer/"):]
	tgPart := tgARN[strings.Index(tgARN, ":targetgroup/")+1:]
	return tgARN, lbPart + "/" + tgPart, fmt.Sprintf("http://127.0.0.1:%d/", port)
}

// targetStates returns the target group's targets by instance id.
func (e *env) targetStates(tg string) map[string]string {
	e.t.Helper()
	out, err := e.lb.DescribeTargetHealth(e.ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: &tg})
	if err != nil {
		e.t.Fatalf("DescribeTargetHealth: %v", err)
	}
	m := map[string]string{}
	for _, d := range out.TargetHealthDescriptions {
		m[aws.ToString(d.Target.Id)] = string(d.TargetHealth.State)
	}
	return m
}

// causes returns the group's activity causes, oldest first.
func (e *env) activities(name string) []astypes.Activity {
	e.t.Helper()
	var all []astypes.Activity
	p := autoscaling.NewDescribeScalingActivitiesPaginator(e.as, &autoscaling.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String(name)})
	for p.HasMorePages() {
		out, err := p.NextPage(e.ctx)
		if err != nil {
			e.t.Fatalf("DescribeScalingActivities: %v", err)
		}
		all = append(all, out.Activities...)
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all
}
