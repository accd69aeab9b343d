package autoscaling_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
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
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
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

// hold sends n held requests (?hold=1) through the load balancer; wait
// returns who answered them once they have all ended.
func (l *load) hold(n int) (wait func() map[string]int) {
	var mu sync.Mutex
	served := map[string]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if id := l.get("?hold=1"); id != "" {
				mu.Lock()
				served[id]++
				mu.Unlock()
			}
		}()
	}
	return func() map[string]int {
		wg.Wait()
		return served
	}
}

func (l *load) check() {
	l.t.Helper()
	if f := l.failed.Load(); f > 0 {
		l.t.Fatalf("%d of %d requests failed: %v", f, f+l.ok.Load(), l.errs)
	}
}

// stepTo advances the fake clock in ticks of at most 5 s until it reads t.
func (e *env) stepTo(t time.Time) {
	for now := e.clk.Now(); now.Before(t); now = e.clk.Now() {
		e.tick(min(5*time.Second, t.Sub(now)))
	}
}

// await polls cond until it holds. While the fake clock is before limit it
// steps the clock 5 s between polls; from limit on, it only waits, for what
// needs no more time to pass on the clock. Real time bounds it generously:
// instances are processes, slow to start on a loaded machine.
func (e *env) await(what string, limit time.Time, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, in := range e.group("web").Instances {
				e.t.Logf("instance %s: %s %s", aws.ToString(in.InstanceId), in.LifecycleState, aws.ToString(in.HealthStatus))
			}
			for _, a := range e.activities("web") {
				e.t.Logf("activity %s | %s | %s", aws.ToString(a.Description), aws.ToString(a.Cause), a.StatusCode)
			}
			e.t.Fatalf("timed out waiting for %s (clock at %s)", what, e.clk.Now().Format(time.TimeOnly))
		}
		if now := e.clk.Now(); now.Before(limit) {
			e.tick(min(5*time.Second, limit.Sub(now)))
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// now returns the fake clock's time: await(..., e.now(), ...) waits
// without moving the clock.
func (e *env) now() time.Time { return e.clk.Now() }

// minuteStart is the start of the clock's current minute.
func (e *env) minuteStart() time.Time { return e.clk.Now().Truncate(time.Minute) }

// nextMinute ends the current minute: it publishes the load balancer's
// metrics of the minute before the minute ends (so the alarms evaluated
// at the turn of the minute see them), steps into the next minute and
// waits for the load balancer's own end-of-minute publication, so that
// nothing sent from now on counts in the minute that ended.
func (e *env) nextMinute(tgDim string) {
	e.t.Helper()
	m := e.minuteStart()
	e.stepTo(m.Add(55 * time.Second))
	e.elb.FlushMetrics()
	e.stepTo(m.Add(time.Minute))
	e.await("the load balancer's metrics of "+m.Format(time.TimeOnly), e.now(), func() bool {
		return e.samples(tgDim, m) >= 2
	})
}

// samples returns the number of RequestCountPerTarget samples of the
// target group in minute m.
func (e *env) samples(tgDim string, m time.Time) float64 {
	e.t.Helper()
	out, err := e.cw.GetMetricStatistics(e.ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("RequestCountPerTarget"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("TargetGroup"), Value: aws.String(tgDim)}},
		StartTime:  aws.Time(m), EndTime: aws.Time(m.Add(time.Minute)), Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSampleCount},
	})
	if err != nil {
		e.t.Fatalf("GetMetricStatistics: %v", err)
	}
	n := 0.0
	for _, d := range out.Datapoints {
		n += aws.ToFloat64(d.SampleCount)
	}
	return n
}

// alarmState returns the state of the alarm whose name starts with prefix.
func (e *env) alarmState(prefix string) cwtypes.StateValue {
	e.t.Helper()
	out, err := e.cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String(prefix)})
	if err != nil || len(out.MetricAlarms) != 1 {
		e.t.Fatalf("DescribeAlarms %s: %v, %v", prefix, out, err)
	}
	return out.MetricAlarms[0].StateValue
}

func (e *env) desired(name string) int { return int(aws.ToInt32(e.group(name).DesiredCapacity)) }

// terminating returns the group's instances in a Terminating state.
func (e *env) terminating(name string) []string {
	var ids []string
	for _, in := range e.group(name).Instances {
		if strings.HasPrefix(string(in.LifecycleState), "Terminating") {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	return ids
}

// instanceURL returns the address of an instance's web server.
func (e *env) instanceURL(id string) string {
	e.t.Helper()
	out, err := e.ec.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		e.t.Fatalf("DescribeInstances %s: %v", id, err)
	}
	return "http://" + aws.ToString(out.Reservations[0].Instances[0].PrivateIpAddress) + ":8080"
}

// direct asks an instance's web server for path, bypassing the load
// balancer; ok is false when it does not answer.
func (e *env) directGet(id, path string) (string, bool) {
	resp, err := e.direct.Get(e.instanceURL(id) + path)
	if err != nil {
		return err.Error(), false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err.Error(), false
	}
	return string(b), resp.StatusCode == http.StatusOK
}

// held returns the number of held requests an instance is serving.
func (e *env) held(id string) int {
	e.t.Helper()
	s, ok := e.directGet(id, "/inflight")
	n, err := strconv.Atoi(s)
	if !ok || err != nil {
		e.t.Fatalf("instance %s: /inflight = %q", id, s)
	}
	return n
}

func (e *env) heldAll(ids []string) int {
	n := 0
	for _, id := range ids {
		n += e.held(id)
	}
	return n
}

func (e *env) release(ids []string) {
	e.t.Helper()
	for _, id := range ids {
		if _, ok := e.directGet(id, "/release"); !ok {
			e.t.Fatalf("instance %s: /release failed", id)
		}
	}
}

// ready waits until the group has n healthy InService instances whose web
// servers answer, without moving the clock (the processes start in real
// time; health checks run on the clock), then steps the clock until the
// target group reports them all healthy. It returns their ids. (A target
// can fail its first checks while its server starts, and then needs two
// passing checks: the groups' health check grace period covers that.)
func (e *env) ready(name string, n int, tg string) []string {
	e.t.Helper()
	var ids []string
	e.await(fmt.Sprintf("%d instances in service with their web servers up", n), e.now(), func() bool {
		ids = e.inService(name)
		if len(ids) != n {
			return false
		}
		for _, id := range ids {
			if _, ok := e.directGet(id, "/inflight"); !ok {
				return false
			}
		}
		return true
	})
	e.await(fmt.Sprintf("%d healthy targets", n), e.now().Add(30*time.Second), func() bool {
		hs := e.targetStates(tg)
		for _, id := range ids {
			if hs[id] != "healthy" {
				return false
			}
		}
		return true
	})
	return ids
}

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// story checks a group's activities, oldest first, against want: each
// entry is a regular expression the activity's "description | cause"
// must match in full; every activity must have succeeded.
func (e *env) story(name string, want []string) {
	e.t.Helper()
	acts := e.activities(name)
	var got []string
	for _, a := range acts {
		got = append(got, aws.ToString(a.Description)+" | "+aws.ToString(a.Cause))
		if a.StatusCode != astypes.ScalingActivityStatusCodeSuccessful {
			e.t.Errorf("activity %q: %s", aws.ToString(a.Description), a.StatusCode)
		}
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = regexp.MustCompile("^" + want[i] + "$").MatchString(got[i])
	}
	if !ok {
		e.t.Errorf("activities:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

const (
	ts         = `At 2026-03-02T%s:\d\dZ `
	startedTpl = `an instance was started in response to a difference between desired and actual capacity, increasing the capacity from %d to %d\.`
	shrunkTpl  = `an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from %d to %d\.`
)

// at is the "At <time> " of a cause in minute hhmm (seconds vary with the
// controllers' ticks within the minute).
func at(hhmm string) string { return fmt.Sprintf(ts, hhmm) }

// TestScalingLoop is the whole loop: an ALB over an Auto Scaling group with
// a target-tracking policy on ALBRequestCountPerTarget (target 50). Load
// raises the request count, the high alarm fires after three breaching
// minutes, the group scales out and the new instances take traffic; the
// load stops, the low alarm fires after fifteen quiet minutes and the group
// scales in one instance a minute to its minimum, each instance finishing
// the requests it has in flight while it drains; no request fails.
//
// The test drives time: it sends load in fixed amounts within a minute,
// publishes the load balancer's metrics before the minute ends, and waits
// for each state (alarm, capacity, health, draining) before stepping on,
// so the expected capacities follow from the rules alone.
func TestScalingLoop(t *testing.T) {
	e := newEnv(t)
	lt := e.template("web")
	subnets := e.subnets()
	tg, label, url := e.alb("web", subnets)
	tgDim := label[strings.Index(label, "/targetgroup/")+1:]
	if _, err := e.as.CreateAutoScalingGroup(e.ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(2), MaxSize: aws.Int32(6), DesiredCapacity: aws.Int32(2),
		LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String("$Default")},
		VPCZoneIdentifier: aws.String(strings.Join(subnets, ",")), TargetGroupARNs: []string{tg},
		HealthCheckType: aws.String("ELB"), HealthCheckGracePeriod: aws.Int32(300), DefaultInstanceWarmup: aws.Int32(60),
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
	const high, low = "TargetTracking-web-AlarmHigh-", "TargetTracking-web-AlarmLow-"

	// 09:00: two instances; a quiet minute.
	start := e.ready("web", 2, tg)
	l := newLoad(t, url)
	e.nextMinute(tgDim)

	// 09:01-09:03: 200 requests a minute over 2 targets is 100 per target,
	// twice the target value. The high alarm needs 3 of 3 breaching
	// minutes: the quiet 09:00 keeps it from firing before 09:04.
	for range 3 {
		l.burst(200)
		l.check()
		e.stepTo(e.minuteStart().Add(50 * time.Second))
		if st, d := e.alarmState(high), e.desired("web"); st == cwtypes.StateValueAlarm || d != 2 {
			t.Fatalf("%s: high alarm %s, desired %d before three loaded minutes", e.now().Format(time.TimeOnly), st, d)
		}
		e.nextMinute(tgDim)
	}

	// 09:04: the high alarm fires with 100 per target on 2 warmed-up
	// instances: ceil(2 × 100 / 50) = 4.
	e.await("the high alarm to fire and the group to want 4", e.minuteStart().Add(15*time.Second), func() bool {
		return e.alarmState(high) == cwtypes.StateValueAlarm && e.desired("web") == 4
	})
	all := e.ready("web", 4, tg)
	// 200 requests over 4 targets: 50 per target, on target; neither alarm
	// breaches.
	served := l.burst(200)
	l.check()
	if len(served) != 4 {
		t.Errorf("traffic went to %d instances, want 4: %v", len(served), served)
	}
	for _, id := range start {
		if served[id] == 0 {
			t.Errorf("original instance %s got no traffic", id)
		}
	}
	e.nextMinute(tgDim)

	// 09:05-09:19: quiet. The high alarm returns to OK; the low alarm
	// (15 of 15 minutes under 45) cannot fire while 09:04 is in its window.
	e.await("the high alarm back to OK", e.minuteStart().Add(15*time.Second), func() bool {
		return e.alarmState(high) == cwtypes.StateValueOk
	})
	for e.minuteStart().Before(epoch.Add(19 * time.Minute)) {
		e.nextMinute(tgDim)
	}
	// 09:19: requests held on every instance (8 over 4 targets, round
	// robin: 2 each; 2 per target keeps the minute quiet).
	wait := l.hold(8)
	e.await("8 held requests on the instances", e.now(), func() bool { return e.heldAll(all) == 8 })
	e.stepTo(e.minuteStart().Add(50 * time.Second))
	if st, d := e.alarmState(low), e.desired("web"); st == cwtypes.StateValueAlarm || d != 4 {
		t.Fatalf("09:19: low alarm %s, desired %d", st, d)
	}
	e.nextMinute(tgDim)

	// 09:20 and 09:21: the low alarm fires, and fires again a minute
	// later; each time one instance (at least one, at most 10%) is taken
	// out. Its requests in flight finish while it drains.
	var drained []string
	for _, step := range []struct{ from, to int }{{4, 3}, {3, 2}} {
		var victim string
		e.await(fmt.Sprintf("the low alarm to take the group from %d to %d", step.from, step.to), e.minuteStart().Add(15*time.Second), func() bool {
			ids := e.terminating("web")
			if len(ids) == 1 {
				victim = ids[0]
			}
			return e.alarmState(low) == cwtypes.StateValueAlarm && e.desired("web") == step.to && len(ids) == 1
		})
		drained = append(drained, victim)
		if st := e.targetStates(tg)[victim]; st != "draining" {
			t.Errorf("%s is %s in the target group, want draining", victim, st)
		}
		if n := e.held(victim); n == 0 {
			t.Errorf("%s has no request in flight as it drains", victim)
		}
		e.release(all)
		got := wait()
		l.check()
		if got[victim] == 0 {
			t.Errorf("no held request finished on %s while it drained: %v", victim, got)
		}
		// The deregistration delay (30 s) ends, then the instance is
		// terminated and leaves the group.
		e.await(fmt.Sprintf("%s to drain and leave", victim), e.minuteStart().Add(50*time.Second), func() bool {
			ids := e.inService("web")
			return len(e.group("web").Instances) == step.to && len(ids) == step.to && len(e.targetStates(tg)) == step.to
		})
		all = e.inService("web")
		if step.to > 2 {
			wait = l.hold(2 * step.to)
			e.await("held requests on the instances", e.now(), func() bool { return e.heldAll(all) == 2*step.to })
		}
		e.nextMinute(tgDim)
	}

	// 09:22: the low alarm still fires; the group stays at its minimum.
	e.stepTo(e.minuteStart().Add(30 * time.Second))
	if d, ids := e.desired("web"), e.inService("web"); d != 2 || len(ids) != 2 || len(e.group("web").Instances) != 2 {
		t.Errorf("at the minimum: desired %d, in service %v", d, ids)
	}
	survivors := e.inService("web")
	served = l.burst(50)
	l.check()
	if got := keys(served); !slices.Equal(got, survivors) {
		t.Errorf("after scale-in traffic went to %v, want %v", served, survivors)
	}
	for _, id := range drained {
		if slices.Contains(survivors, id) {
			t.Errorf("drained instance %s still in service", id)
		}
	}

	// The activity history tells the story.
	launch := `Launching a new EC2 instance: i-[0-9a-f]+ \| `
	created := at("09:00") + `a user request created an AutoScalingGroup changing the desired capacity from 0 to 2\.  ` + at("09:00") + fmt.Sprintf(startedTpl, 0, 2)
	out := at("09:04") + `a monitor alarm TargetTracking-web-AlarmHigh-[-0-9a-f]+ in state ALARM triggered policy requests changing the desired capacity from 2 to 4\.  ` + at("09:04") + fmt.Sprintf(startedTpl, 2, 4)
	in := func(hhmm, victim string, from, to int) string {
		return `Terminating EC2 instance: ` + victim + ` \| ` + at(hhmm) + `a monitor alarm TargetTracking-web-AlarmLow-[-0-9a-f]+ in state ALARM triggered policy requests changing the desired capacity from ` +
			fmt.Sprintf("%d to %d", from, to) + `\.  ` + at(hhmm) + fmt.Sprintf(shrunkTpl, from, to) + `  ` + at(hhmm) + `instance ` + victim + ` was selected for termination\.`
	}
	e.story("web", []string{launch + created, launch + created, launch + out, launch + out, in("09:20", drained[0], 4, 3), in("09:21", drained[1], 3, 2)})

	// Deleting the policy deletes its alarms.
	if _, err := e.as.DeletePolicy(e.ctx, &autoscaling.DeletePolicyInput{AutoScalingGroupName: aws.String("web"), PolicyName: aws.String("requests")}); err != nil {
		t.Fatal(err)
	}
	alarms, err = e.cw.DescribeAlarms(e.ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("TargetTracking-web-")})
	if err != nil || len(alarms.MetricAlarms) != 0 {
		t.Errorf("alarms after DeletePolicy = %d, %v", len(alarms.MetricAlarms), err)
	}
}

// TestReplaceKilledInstance crashes an instance's processes: EC2 sees the
// instance stop, Auto Scaling takes it out of service (deregistering it
// from the target group) and launches a replacement; traffic goes to the
// two live instances only.
func TestReplaceKilledInstance(t *testing.T) {
	e := newEnv(t)
	lt := e.template("web")
	subnets := e.subnets()
	tg, _, url := e.alb("web", subnets)
	if _, err := e.as.CreateAutoScalingGroup(e.ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("web"), MinSize: aws.Int32(2), MaxSize: aws.Int32(2),
		LaunchTemplate:    &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt)},
		VPCZoneIdentifier: aws.String(strings.Join(subnets, ",")), TargetGroupARNs: []string{tg},
		HealthCheckType: aws.String("ELB"), HealthCheckGracePeriod: aws.Int32(300),
	}); err != nil {
		t.Fatal(err)
	}
	first := e.ready("web", 2, tg)
	victim := first[0]
	b, err := os.ReadFile(filepath.Join(e.pidDir, victim+".pgid"))
	if err != nil {
		t.Fatal(err)
	}
	pgid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pgid <= 1 {
		t.Fatalf("pgid %q: %v", b, err)
	}
	killedAt := e.now()
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// No time passes on the clock: EC2 notices the process is gone, not a
	// health check.
	e.await("the victim taken out of service and deregistered", e.now(), func() bool {
		return slices.Equal(e.terminating("web"), []string{victim}) && e.targetStates(tg)[victim] == "draining"
	})
	second := e.ready("web", 2, tg)
	if slices.Contains(second, victim) || !slices.Contains(second, first[1]) {
		t.Fatalf("in service after the crash: %v (victim %s)", second, victim)
	}
	l := newLoad(t, url)
	served := l.burst(40)
	l.check()
	if got := keys(served); !slices.Equal(got, second) {
		t.Errorf("traffic after replacement went to %v, want %v", served, second)
	}
	// The deregistration delay ends and the victim is terminated.
	e.await("the victim terminated", e.now().Add(45*time.Second), func() bool {
		return len(e.group("web").Instances) == 2 && len(e.targetStates(tg)) == 2
	})
	hhmm := killedAt.Format("15:04")
	launch := `Launching a new EC2 instance: i-[0-9a-f]+ \| `
	created := at("09:00") + `a user request created an AutoScalingGroup changing the desired capacity from 0 to 2\.  ` + at("09:00") + fmt.Sprintf(startedTpl, 0, 2)
	e.story("web", []string{
		launch + created, launch + created,
		`Terminating EC2 instance: ` + victim + ` \| ` + at(hhmm) + `an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped\.`,
		launch + at(hhmm) + fmt.Sprintf(startedTpl, 1, 2),
	})
}
