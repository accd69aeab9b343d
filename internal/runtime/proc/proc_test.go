package proc_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
	"github.com/overcast-dev/overcast/internal/runtime/proc"
)

// eventually fails t unless cond becomes true within a generous bound.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition never met: %s", msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newSupervisor(t *testing.T, clk clock.Clock) *proc.Supervisor {
	t.Helper()
	s := proc.NewSupervisor(clk, nil)
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func start(t *testing.T, s *proc.Supervisor, spec proc.Spec) *proc.Process {
	t.Helper()
	if spec.Name == "" {
		spec.Name = t.Name()
	}
	p, err := s.Start(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func shell(script string) proc.Spec {
	return proc.Spec{Path: "/bin/sh", Args: []string{"-c", script}}
}

// alive reports whether pid is a process that has not exited (a zombie
// has exited).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && len(b) > i+2 && b[i+2] != 'Z' && b[i+2] != 'X'
}

func waitOutput(t *testing.T, p *proc.Process, s string) {
	t.Helper()
	eventually(t, func() bool { return bytes.Contains(p.Output().Tail(-1), []byte(s)) },
		"output containing "+strconv.Quote(s))
}

func TestStartAndStop(t *testing.T) {
	s := newSupervisor(t, nil)
	p := start(t, s, proc.Spec{Path: "/bin/sleep", Args: []string{"1000"}})
	st := p.Status()
	if st.State != proc.Running || st.PID <= 0 {
		t.Fatalf("status = %+v", st)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	st = p.Status()
	if st.State != proc.Stopped || st.ExitCode != -1 {
		t.Errorf("after Stop: %+v", st)
	}
	if alive(st.PID) {
		t.Errorf("pid %d still alive", st.PID)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := p.Stats(); !errors.Is(err, proc.ErrNotRunning) {
		t.Errorf("Stats after Stop: %v", err)
	}
}

func TestOutputAndExitStatus(t *testing.T) {
	s := newSupervisor(t, nil)
	p := start(t, s, shell(`echo to-stdout; echo to-stderr >&2; exit 0`))
	st := p.Wait()
	if st.State != proc.Exited || st.ExitCode != 0 || st.Err != nil {
		t.Errorf("status = %+v", st)
	}
	out := string(p.Output().Tail(-1))
	if out != "to-stdout\nto-stderr\n" {
		t.Errorf("output = %q", out)
	}

	q := start(t, s, proc.Spec{Name: "false", Path: "/bin/false"})
	st = q.Wait()
	if st.State != proc.Failed || st.ExitCode != 1 || st.Err == nil {
		t.Errorf("false: status = %+v", st)
	}
}

func TestStdinEnvDir(t *testing.T) {
	s := newSupervisor(t, nil)
	dir := t.TempDir()
	p := start(t, s, proc.Spec{
		Path: "/bin/sh", Args: []string{"-c", `cat; echo "$GREETING"; pwd`},
		Stdin: []byte("from stdin\n"), Env: []string{"GREETING=hello"}, Dir: dir,
	})
	p.Wait()
	want := "from stdin\nhello\n" + dir + "\n"
	if got := string(p.Output().Tail(-1)); got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func TestSubscribeStreamsLines(t *testing.T) {
	s := newSupervisor(t, nil)
	gate := filepath.Join(t.TempDir(), "go")
	// The script waits for the file named by $0 before writing.
	p := start(t, s, proc.Spec{Path: "/bin/sh",
		Args: []string{"-c", `while [ ! -e "$0" ]; do sleep 0.01; done; echo one; echo two; printf three`, gate}})
	lines, cancel := p.Output().Subscribe(10)
	defer cancel()
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var got []string
	for l := range lines { // closed when the process finishes
		got = append(got, l)
	}
	if strings.Join(got, ",") != "one,two,three" {
		t.Errorf("lines = %q", got)
	}
}

func TestStartErrors(t *testing.T) {
	s := newSupervisor(t, nil)
	if _, err := s.Start(proc.Spec{Name: "x", Path: "/no/such/program"}); err == nil {
		t.Error("started a missing program")
	}
	if _, err := s.Start(proc.Spec{Path: "/bin/true"}); err == nil {
		t.Error("started a spec with no name")
	}
	start(t, s, proc.Spec{Name: "dup", Path: "/bin/sleep", Args: []string{"1000"}})
	if _, err := s.Start(proc.Spec{Name: "dup", Path: "/bin/true"}); err == nil {
		t.Error("started a second process with a live name")
	}
}

func TestRestartOnFailureIsBounded(t *testing.T) {
	clk := clock.NewFake(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newSupervisor(t, clk)
	spec := shell(`echo run; exit 3`)
	spec.Restart = proc.RestartOnFailure
	spec.MaxRestarts = 2
	spec.Backoff = proc.Backoff{Initial: time.Second, Max: time.Minute}
	p := start(t, s, spec)

	ctx := context.Background()
	for i, d := range []time.Duration{time.Second, 2 * time.Second} {
		if err := clk.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if st := p.Status(); st.State != proc.Starting || st.Restarts != i || st.ExitCode != 3 {
			t.Fatalf("waiting for restart %d: %+v", i+1, st)
		}
		clk.Advance(d - time.Nanosecond)
		if p.Status().Restarts != i {
			t.Fatal("restarted before the backoff elapsed")
		}
		clk.Advance(time.Nanosecond)
	}
	st := p.Wait()
	if st.State != proc.Failed || st.Restarts != 2 || st.ExitCode != 3 {
		t.Errorf("final status = %+v", st)
	}
	if got := strings.Count(string(p.Output().Tail(-1)), "run\n"); got != 3 {
		t.Errorf("ran %d times, want 3", got)
	}
}

func TestRestartPolicies(t *testing.T) {
	clk := clock.NewFake(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newSupervisor(t, clk)

	// OnFailure does not restart a success.
	p := start(t, s, proc.Spec{Name: "ok", Path: "/bin/true", Restart: proc.RestartOnFailure})
	if st := p.Wait(); st.State != proc.Exited || st.Restarts != 0 {
		t.Errorf("on-failure after success: %+v", st)
	}
	// Never does not restart a failure.
	p = start(t, s, proc.Spec{Name: "never", Path: "/bin/false"})
	if st := p.Wait(); st.State != proc.Failed || st.Restarts != 0 {
		t.Errorf("never after failure: %+v", st)
	}
	// Always restarts a success.
	p = start(t, s, proc.Spec{Name: "always", Path: "/bin/true", Restart: proc.RestartAlways, MaxRestarts: 1})
	if err := clk.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(proc.DefaultBackoffInitial)
	if st := p.Wait(); st.State != proc.Exited || st.Restarts != 1 {
		t.Errorf("always: %+v", st)
	}
}

func TestStopDuringBackoff(t *testing.T) {
	clk := clock.NewFake(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newSupervisor(t, clk)
	p := start(t, s, proc.Spec{Path: "/bin/false", Restart: proc.RestartAlways})
	if err := clk.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := p.Status(); st.State != proc.Stopped || st.Restarts != 0 {
		t.Errorf("status = %+v", st)
	}
	if n := clk.Waiters(); n != 0 {
		t.Errorf("%d timers armed after Stop", n)
	}
}

func TestStopKillsTheGroup(t *testing.T) {
	s := newSupervisor(t, nil)
	p := start(t, s, shell(`sleep 1000 & echo $!; wait`))
	eventually(t, func() bool { return bytes.HasSuffix(p.Output().Tail(-1), []byte("\n")) }, "grandchild pid")
	pid, err := strconv.Atoi(strings.TrimSpace(string(p.Output().Tail(-1))))
	if err != nil {
		t.Fatal(err)
	}
	if !alive(pid) {
		t.Fatalf("grandchild %d not running", pid)
	}
	if st, err := p.Stats(); err != nil || st.Processes != 2 {
		t.Errorf("Stats = %+v, %v; want 2 processes", st, err)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { return !alive(pid) }, "grandchild killed")
}

func TestExitKillsWhatIsLeftInTheGroup(t *testing.T) {
	s := newSupervisor(t, nil)
	p := start(t, s, shell(`sleep 1000 & echo $!`))
	st := p.Wait()
	if st.State != proc.Exited {
		t.Fatalf("status = %+v", st)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(p.Output().Tail(-1))))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool { return !alive(pid) }, "left-behind grandchild killed")
}

func TestStopTimeoutEscalatesToKill(t *testing.T) {
	clk := clock.NewFake(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newSupervisor(t, clk)
	spec := shell(`trap "" TERM; echo ready; exec sleep 1000`)
	spec.StopTimeout = time.Minute
	p := start(t, s, spec)
	waitOutput(t, p, "ready\n")

	stopped := make(chan error, 1)
	go func() { stopped <- p.Stop(context.Background()) }()
	if err := clk.BlockUntil(context.Background(), 1); err != nil { // the stop timeout
		t.Fatal(err)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned %v before the timeout", err)
	default:
	}
	if !alive(p.Status().PID) {
		t.Fatal("process died of an ignored TERM")
	}
	clk.Advance(time.Minute)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	st := p.Status()
	ee, ok := errors.AsType[*exec.ExitError](st.Err)
	if st.State != proc.Stopped || st.ExitCode != -1 || !ok ||
		ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("status = %+v, want stopped by SIGKILL", st)
	}
}

func TestStopContextKillsAtOnce(t *testing.T) {
	s := newSupervisor(t, nil) // real clock: the timeout would take an hour
	spec := shell(`trap "" TERM; echo ready; exec sleep 1000`)
	spec.StopTimeout = time.Hour
	p := start(t, s, spec)
	waitOutput(t, p, "ready\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Stop = %v, want context.Canceled", err)
	}
	if st := p.Wait(); st.State != proc.Stopped {
		t.Errorf("status = %+v", st)
	}
}

func TestSignal(t *testing.T) {
	s := newSupervisor(t, nil)
	// SIGUSR1, not SIGHUP: a shell cannot trap a signal ignored when it
	// started, and test runners are often started under nohup.
	p := start(t, s, shell(`trap "echo got-usr1" USR1; echo ready; while :; do sleep 0.01; done`))
	waitOutput(t, p, "ready\n")
	if err := p.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, p, "got-usr1\n")
}

func TestStatsOfBusyProcess(t *testing.T) {
	s := newSupervisor(t, nil)
	p := start(t, s, shell(`while :; do :; done`))
	eventually(t, func() bool {
		st, err := p.Stats()
		if err != nil {
			t.Fatal(err)
		}
		return st.CPU > 0 && st.CPU == st.User+st.System && st.RSS > 0 && st.Processes == 1
	}, "CPU time and RSS reported")
}

func TestCloseStopsEverythingAndLeaksNoGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	s := proc.NewSupervisor(nil, nil)
	var procs []*proc.Process
	for i, spec := range []proc.Spec{
		{Path: "/bin/sleep", Args: []string{"1000"}},
		{Path: "/bin/sh", Args: []string{"-c", "cat; sleep 1000"}, Stdin: []byte("in\n")},
		{Path: "/bin/sh", Args: []string{"-c", "sleep 1000 & sleep 1000"}},
		{Path: "/bin/true"},
		{Path: "/bin/false", Restart: proc.RestartAlways, Backoff: proc.Backoff{Initial: time.Hour}},
	} {
		spec.Name = "p" + strconv.Itoa(i)
		p, err := s.Start(spec)
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range procs {
		select {
		case <-p.Done():
		default:
			t.Errorf("%s not finished after Close", p.Name())
		}
	}
	if _, err := s.Start(proc.Spec{Name: "late", Path: "/bin/true"}); !errors.Is(err, proc.ErrClosed) {
		t.Errorf("Start after Close = %v", err)
	}
	eventually(t, func() bool { return runtime.NumGoroutine() <= base }, "goroutines back to baseline")
}
