package autoscaling_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
)

// load sends requests through the load balancer, never retrying, and
// counts what each instance answered and every failure.
type load struct {
	t      *testing.T
	url    string
	client *http.Client

	mu     sync.Mutex
	served map[string]int
	ok     atomic.Int64
	failed atomic.Int64
	errs   []string
}

func newLoad(t *testing.T, url string) *load {
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	return &load{t: t, url: url, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, served: map[string]int{}}
}

func (l *load) get(path string) string {
	resp, err := l.client.Get(l.url + path)
	if err != nil {
		l.fail(err.Error())
		return ""
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "i-") {
		l.fail(resp.Status + " " + string(body))
		return ""
	}
	l.ok.Add(1)
	l.mu.Lock()
	l.served[string(body)]++
	l.mu.Unlock()
	return string(body)
}

func (l *load) fail(msg string) {
	l.failed.Add(1)
	l.mu.Lock()
	if len(l.errs) < 10 {
		l.errs = append(l.errs, msg)
	}
	l.mu.Unlock()
}

// burst sends n requests from 4 workers and returns who served them.
func (l *load) burst(n int) map[string]int {
	l.mu.Lock()
	l.served = map[string]int{}
	l.mu.Unlock()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				l.get("")
			}
		}()
	}
	wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for k, v := range l.served {
		out[k] = v
	}
	return out
}

func (l *load) check() {
	l.t.Helper()
	if f := l.failed.Load(); f > 0 {
		l.t.Fatalf("%d of %d requests failed: %v", f, f+l.ok.Load(), l.errs)
	}
}

// minute steps the fake clock through one minute in 5 s steps.
func (e *env) minute() {
	for range 12 {
		e.tick(5 * time.Second)
	}
}

func (e *env) desired(name string) int { return int(aws.ToInt32(e.group(name).DesiredCapacity)) }

func (e *env) healthyTargets(tg string) int {
	n := 0
	for _, s := range e.targetStates(tg) {
		if s == "healthy" {
			n++
		}
	}
	return n
}

// TestScalingLoop is the whole loop: an ALB over an Auto Scaling group
// with a target-tracking policy on ALBRequestCountPerTarget. Load raises
// the request count, the alarm fires, the group scales out and the new
// instances take traffic; the load stops, the group scales in, draining
// instances finish their requests; no request fails.
func TestScalingLoop(t *testing.T) {
	e := newEnv(t)
	lt := e.template("web")
	subnets := e.subnets()
	tg, label, url := e.alb("web", subnets)
	if _, err := e.as.CreateAutoScalingGroup(e.ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(2), MaxSize: aws.Int32(6), DesiredCapacity: aws.Int32(2),
		LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String("$Default")},
		VPCZoneIdentifier: aws.String(strings.Join(subnets, ",")), TargetGroupARNs: []string{tg},
		HealthCheckType: aws.String("ELB"), HealthCheckGracePeriod: aws.Int32(30), DefaultInstanceWarmup: aws.Int32(60),
	}); err != nil {
		t.Fatal(err)
	}
	pol, err := e.as.PutScalingPolicy(e.ctx, &autoscaling.PutScalingPolicyInput{
		AutoScalingGroupName: aws.String("web"), PolicyName: aws.String("requests"), PolicyType: aws.String("TargetTrackingScaling"),
		TargetTrackingConfiguration: &astypes.TargetTrackingConfiguration{
			PredefinedMetricSpecification: &astypes.PredefinedMetricSpecification{PredefinedMetricType: astypes.MetricTypeALBRequestCountPerTarget, ResourceLabel: aws.String(label)},
			TargetValue:                   aws.Float64(50),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pol.Alarms) != 2 {
		t.Fatalf("policy alarms = %+v", pol.Alarms)
	}
	alarms, err := e.cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("TargetTracking-web-")})
	if err != nil || len(alarms.MetricAlarms) != 2 {
		t.Fatalf("DescribeAlarms = %v, %v", alarms, err)
	}
	for _, a := range alarms.MetricAlarms {
		name := aws.ToString(a.AlarmName)
		high := strings.HasPrefix(name, "TargetTracking-web-AlarmHigh-")
		if (high && (aws.ToFloat64(a.Threshold) != 50 || aws.ToInt32(a.EvaluationPeriods) != 3)) ||
			(!high && (aws.ToFloat64(a.Threshold) != 45 || aws.ToInt32(a.EvaluationPeriods) != 15)) ||
			aws.ToString(a.MetricName) != "RequestCountPerTarget" || aws.ToInt32(a.Period) != 60 {
			t.Errorf("alarm %s: threshold %v, periods %d, metric %s", name, aws.ToFloat64(a.Threshold), aws.ToInt32(a.EvaluationPeriods), aws.ToString(a.MetricName))
		}
	}

	e.eventually("2 healthy targets", 5*time.Second, func() bool { return len(e.inService("web")) == 2 && e.healthyTargets(tg) == 2 })
	l := newLoad(t, url)
	start := e.inService("web")

	// Load: 200 requests a minute over 2 targets is 100 per target, twice
	// the target value; the group scales to ceil(2 × 100 / 50) = 4.
	for i := 0; e.desired("web") < 4; i++ {
		if i > 10 {
			t.Fatalf("no scale-out after %d loaded minutes (desired %d)", i, e.desired("web"))
		}
		l.burst(200)
		e.minute()
	}
	l.check()
	peak := e.desired("web")
	e.eventually("all instances healthy", 5*time.Second, func() bool {
		return len(e.inService("web")) == peak && e.healthyTargets(tg) == peak
	})
	served := l.burst(200)
	if len(served) != peak {
		t.Errorf("traffic went to %d instances, want %d: %v", len(served), peak, served)
	}
	for _, id := range start {
		if served[id] == 0 {
			t.Errorf("original instance %s got no traffic", id)
		}
	}
	l.check()

	// The load stops. The low alarm needs 15 quiet minutes; then the group
	// scales in one instance at a time. Slow requests are in flight when an
	// instance starts draining, and must finish.
	drained := map[string]bool{}
	for i := 0; e.desired("web") > 2 || len(e.group("web").Instances) > 2; i++ {
		if i > 40 {
			t.Fatalf("no scale-in after %d quiet minutes (desired %d)", i, e.desired("web"))
		}
		var slow sync.WaitGroup
		var slowServed sync.Map
		for range 8 {
			slow.Add(1)
			go func() {
				defer slow.Done()
				if id := l.get("?sleep=400"); id != "" {
					slowServed.Store(id, true)
				}
			}()
		}
		for range 12 {
			e.tick(5 * time.Second)
			var leaving []string
			for _, in := range e.group("web").Instances {
				if strings.HasPrefix(string(in.LifecycleState), "Terminating") && !drained[aws.ToString(in.InstanceId)] {
					leaving = append(leaving, aws.ToString(in.InstanceId))
				}
			}
			if len(leaving) > 0 {
				// Let the in-flight requests finish before the
				// deregistration delay can end.
				slow.Wait()
				for _, id := range leaving {
					drained[id] = true
					if _, ok := slowServed.Load(id); !ok {
						t.Logf("instance %s had no slow request in flight", id)
					}
				}
			}
		}
		slow.Wait()
	}
	l.check()
	launched := 0
	for _, a := range e.activities("web") {
		if strings.HasPrefix(aws.ToString(a.Description), "Launching a new EC2 instance: ") {
			launched++
		}
	}
	peak = launched
	if len(drained) != peak-2 {
		t.Errorf("drained %d instances, want %d", len(drained), peak-2)
		for _, a := range e.activities("web") {
			t.Logf("%s: %s", aws.ToString(a.Description), aws.ToString(a.Cause))
		}
	}
	e.eventually("2 instances left", 5*time.Second, func() bool {
		return len(e.inService("web")) == 2 && len(e.targetStates(tg)) == 2
	})
	served = l.burst(50)
	if len(served) != 2 {
		t.Errorf("after scale-in traffic went to %v", served)
	}
	l.check()

	// The activity history tells the story.
	var story []string
	for _, a := range e.activities("web") {
		if a.StatusCode != astypes.ScalingActivityStatusCodeSuccessful {
			t.Errorf("activity %q: %s", aws.ToString(a.Description), a.StatusCode)
		}
		story = append(story, aws.ToString(a.Cause))
	}
	all := strings.Join(story, "\n")
	for _, want := range []string{
		"a user request created an AutoScalingGroup changing the desired capacity from 0 to 2.",
		"an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 0 to 2.",
		"in state ALARM triggered policy requests changing the desired capacity from 2 to 4.",
		"an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 2 to 4.",
		"triggered policy requests changing the desired capacity from " + strconv.Itoa(peak) + " to " + strconv.Itoa(peak-1) + ".",
		"an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from " + strconv.Itoa(peak) + " to " + strconv.Itoa(peak-1) + ".",
		"triggered policy requests changing the desired capacity from 3 to 2.",
		"an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from 3 to 2.",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("activity history lacks %q:\n%s", want, all)
		}
	}
	if !strings.Contains(all, "a monitor alarm TargetTracking-web-AlarmHigh-") || !strings.Contains(all, "a monitor alarm TargetTracking-web-AlarmLow-") {
		t.Errorf("activity history does not name the alarms:\n%s", all)
	}

	// Deleting the policy deletes its alarms.
	if _, err := e.as.DeletePolicy(e.ctx, &autoscaling.DeletePolicyInput{AutoScalingGroupName: aws.String("web"), PolicyName: aws.String("requests")}); err != nil {
		t.Fatal(err)
	}
	alarms, err = e.cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("TargetTracking-web-")})
	if err != nil || len(alarms.MetricAlarms) != 0 {
		t.Errorf("alarms after DeletePolicy = %d, %v", len(alarms.MetricAlarms), err)
	}
}

// TestReplaceKilledInstance crashes an instance's process: the load
// balancer stops sending it traffic and Auto Scaling replaces it.
func TestReplaceKilledInstance(t *testing.T) {
	e := newEnv(t)
	lt := e.template("web")
	subnets := e.subnets()
	tg, _, url := e.alb("web", subnets)
	if _, err := e.as.CreateAutoScalingGroup(e.ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(2), MaxSize: aws.Int32(2),
		LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt)},
		VPCZoneIdentifier: aws.String(strings.Join(subnets, ",")), TargetGroupARNs: []string{tg},
		HealthCheckType: aws.String("ELB"), HealthCheckGracePeriod: aws.Int32(10),
	}); err != nil {
		t.Fatal(err)
	}
	e.eventually("2 healthy targets", 5*time.Second, func() bool { return len(e.inService("web")) == 2 && e.healthyTargets(tg) == 2 })
	e.minute() // past the grace period
	victim := e.inService("web")[0]
	b, err := os.ReadFile(filepath.Join(e.pidDir, victim+".pgid"))
	if err != nil {
		t.Fatal(err)
	}
	pgid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pgid <= 1 {
		t.Fatalf("pgid %q: %v", b, err)
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.eventually("victim out of the target group's healthy set", 5*time.Second, func() bool {
		return e.targetStates(tg)[victim] != "healthy"
	})
	e.eventually("replacement in service and healthy", 5*time.Second, func() bool {
		ids := e.inService("web")
		return len(ids) == 2 && ids[0] != victim && ids[1] != victim && e.healthyTargets(tg) == 2
	})
	l := newLoad(t, url)
	served := l.burst(40)
	l.check()
	if served[victim] != 0 || len(served) != 2 {
		t.Errorf("traffic after replacement: %v", served)
	}
	var found bool
	for _, a := range e.activities("web") {
		if strings.Contains(aws.ToString(a.Description), victim) && strings.Contains(aws.ToString(a.Cause), "an instance was taken out of service in response to") {
			found = true
		}
	}
	if !found {
		t.Errorf("no activity explains the replacement of %s", victim)
	}
}
