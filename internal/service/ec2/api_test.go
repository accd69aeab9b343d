package ec2

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/metrics"
	"github.com/overcast-dev/overcast/internal/storage/memory"
)

type recorder struct {
	mu   sync.Mutex
	data []metrics.Datum
}

func (r *recorder) Publish(account, region, ns string, d []metrics.Datum) {
	if ns != "AWS/EC2" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.data = append(r.data, d...)
}

func (r *recorder) find(name, dim, value string) (metrics.Datum, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range r.data {
		if d.Name == name && len(d.Dimensions) == 1 && d.Dimensions[0].Name == dim && d.Dimensions[0].Value == value {
			return d, true
		}
	}
	return metrics.Datum{}, false
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLaunchAPIMetricsAndRetention drives the service through its Go API
// with a fake clock: launch from a template, state changes to a watcher,
// metrics each minute, a crash, and the purge of terminated instances.
func TestLaunchAPIMetricsAndRetention(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	rec := &recorder{}
	kv := memory.New()
	s := New(kv, Options{Clock: clk, Metrics: rec, BootDelay: 30 * time.Second, StopTimeout: time.Second})
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			s.Stop(ctx)
		}
	})
	var mu sync.Mutex
	var changes []StateChange
	cancel := s.Watch(func(c StateChange) {
		mu.Lock()
		changes = append(changes, c)
		mu.Unlock()
	})
	defer cancel()
	seen := func(id string, st State) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range changes {
			if c.Instance.ID == id && c.Instance.State == st {
				return true
			}
		}
		return false
	}

	// A launch template supplies the image and user data.
	rg, _ := s.regionFor("111122223333", "us-west-2")
	rg.mu.Lock()
	data := []byte(`{"ImageId":"` + ImageHost + `","InstanceType":"t3.micro","UserData":"` + encodeUserData([]byte("echo from-template\n")) + `"}`)
	tpl := &templateRec{ID: "lt-0123456789abcdef0", Name: "web", Default: 1, Latest: 1, Versions: []*templateVersion{{Number: 1, Data: data}}}
	rg.templates[tpl.ID] = tpl
	rg.mu.Unlock()

	subnets, _ := s.Subnets("111122223333", "us-west-2")
	if len(subnets) != 3 || subnets[2].AvailabilityZone != "us-west-2c" {
		t.Fatalf("subnets = %+v", subnets)
	}
	insts, err := s.Launch(ctx, "111122223333", "us-west-2", LaunchRequest{
		LaunchTemplateName: "web", LaunchTemplateVersion: "$Latest", SubnetID: subnets[2].ID, Count: 2,
		Tags: []Tag{{"aws:autoscaling:groupName", "asg-1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != 2 || insts[0].State != StatePending || insts[0].AvailabilityZone != "us-west-2c" || insts[0].LaunchTemplateVersion != "1" {
		t.Fatalf("launched %+v", insts)
	}
	if _, err := s.Launch(ctx, "111122223333", "us-west-2", LaunchRequest{ImageID: "ami-0000000000000000f"}); err == nil {
		t.Error("launch of an unknown image succeeded")
	}
	id := insts[0].ID
	// Pending until the boot delay has passed on the clock.
	if in, _ := s.Describe("111122223333", "us-west-2", id); in.State != StatePending {
		t.Errorf("state before the boot delay = %s", in.State)
	}
	clk.BlockUntil(ctx, 3) // two boots and the metrics loop
	clk.Advance(30 * time.Second)
	waitFor(t, "running", func() bool { in, _ := s.Describe("111122223333", "us-west-2", id); return in.State == StateRunning })
	if !seen(id, StatePending) || !seen(id, StateRunning) {
		t.Errorf("watcher saw %+v", changes)
	}
	waitFor(t, "console output", func() bool {
		out, _ := s.ConsoleOutput("111122223333", "us-west-2", id)
		return string(out) != "" && string(out[:len("from-template")]) == "from-template"
	})

	// One metric period later each instance has published.
	clk.BlockUntil(ctx, 1)
	clk.Advance(time.Minute)
	waitFor(t, "metrics", func() bool { _, ok := rec.find("CPUUtilization", "InstanceId", id); return ok })
	d, _ := rec.find("CPUUtilization", "InstanceId", id)
	if d.Value < 0 || d.Value > 100 || d.Unit != "Percent" {
		t.Errorf("CPUUtilization = %+v", d)
	}
	if d, ok := rec.find("StatusCheckFailed", "InstanceId", id); !ok || d.Value != 0 {
		t.Errorf("StatusCheckFailed = %+v %v", d, ok)
	}
	if _, ok := rec.find("CPUUtilization", "AutoScalingGroupName", "asg-1"); !ok {
		t.Error("no CPUUtilization for the Auto Scaling group")
	}

	// A crashed instance stops by itself and the watcher hears of it.
	in, _ := s.Describe("111122223333", "us-west-2", insts[1].ID)
	if !in.Running() {
		t.Fatalf("second instance not running: %+v", in)
	}
	syscall.Kill(-in.PID, syscall.SIGKILL)
	waitFor(t, "crash", func() bool { return seen(in.ID, StateStopped) })
	in, _ = s.Describe("111122223333", "us-west-2", in.ID)
	if in.StateReason != "Client.InstanceInitiatedShutdown" || in.PID != 0 {
		t.Errorf("after crash: %+v", in)
	}

	if err := s.Terminate(ctx, "111122223333", "us-west-2", id, in.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "terminated", func() bool { in, _ := s.Describe("111122223333", "us-west-2", id); return in.State == StateTerminated })
	if got, _ := s.Describe("111122223333", "us-west-2", in.ID); got.State != StateTerminated {
		t.Errorf("stopped instance after terminate: %s", got.State)
	}
	if err := s.Terminate(ctx, "111122223333", "us-west-2", "i-0123456789abcdef0"); err == nil {
		t.Error("terminating an unknown instance succeeded")
	}
	// Terminated instances stay visible for an hour, then go.
	waitFor(t, "the loop to re-arm", func() bool { clk.BlockUntil(ctx, 1); return true })
	clk.Advance(59 * time.Minute)
	clk.BlockUntil(ctx, 1)
	if _, ok := s.Describe("111122223333", "us-west-2", id); !ok {
		t.Error("terminated instance purged too early")
	}
	clk.Advance(2 * time.Minute)
	waitFor(t, "purge", func() bool { _, ok := s.Describe("111122223333", "us-west-2", id); return !ok })

	// A restart reloads the store: the region and its template survive.
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	stopped = true
	s2 := New(kv, Options{Clock: clk})
	if err := s2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s2.Stop(ctx)
	if s2.network != s.network {
		t.Errorf("network changed across restart: %d -> %d", s.network, s2.network)
	}
	if _, ok := s2.Describe("111122223333", "us-west-2", insts[1].ID); ok {
		t.Error("purged instance came back")
	}
}
