// Package proc supervises local processes: the programs behind EC2
// instances (user data), Lambda runtimes, ECS tasks and the database and
// cache engines behind RDS and ElastiCache.
//
// A [Supervisor] starts each process from a [Spec] in a process group of its
// own, captures its combined output in a bounded [Output], restarts it by its
// [RestartPolicy] with capped exponential backoff timed by an injected
// [clock.Clock], reaps it, and stops it by signalling the whole group, so a
// shell script's children go with it. When a process's main program exits,
// whatever it left running in its group is killed too, as systemd does by
// default; a program that must outlive its launcher script should be run by
// a script that waits for it.
//
// Every process is owned by its Supervisor; [Supervisor.Close] stops them
// all and joins every goroutine the package started.
//
// The package needs a Unix system; process statistics and the killing of a
// group left behind by its main program need Linux.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/overcast-dev/overcast/internal/clock"
)

// Defaults used for zero fields of a Spec.
const (
	DefaultStopTimeout    = 10 * time.Second
	DefaultOutputLimit    = 1 << 20
	DefaultBackoffInitial = 100 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
)

// drainGrace bounds how long output is read after a run's process group
// has been killed; only a process that left the group can hold the pipe
// open that long.
const drainGrace = time.Second

var (
	// ErrClosed is returned by Start after the Supervisor has been closed.
	ErrClosed = errors.New("proc: supervisor closed")
	// ErrNotRunning is returned by Stats and Signal when no run is live.
	ErrNotRunning = errors.New("proc: process not running")
)

// RestartPolicy says when a process that exited is started again.
type RestartPolicy int

const (
	// RestartNever leaves an exited process exited.
	RestartNever RestartPolicy = iota
	// RestartOnFailure restarts a process that failed to start, exited
	// non-zero or was killed by a signal.
	RestartOnFailure
	// RestartAlways restarts a process however it exited.
	RestartAlways
)

func (p RestartPolicy) String() string {
	switch p {
	case RestartNever:
		return "never"
	case RestartOnFailure:
		return "on-failure"
	case RestartAlways:
		return "always"
	}
	return fmt.Sprintf("RestartPolicy(%d)", int(p))
}

// Backoff bounds the delay before a restart: Initial before the first,
// doubling with each consecutive restart up to Max. A run that lasted at
// least Max resets the doubling. Zero fields take the package defaults.
type Backoff struct {
	Initial, Max time.Duration
}

// Spec describes a process to supervise.
type Spec struct {
	// Name identifies the process in logs; it MUST be unique among the
	// Supervisor's live processes.
	Name string
	// Path is the program to run, and argv[0]; Args are the arguments
	// after it.
	Path string
	Args []string
	// Env is the environment, as in exec.Cmd: nil means the Supervisor's
	// own environment.
	Env []string
	// Dir is the working directory; empty means the Supervisor's.
	Dir string
	// Stdin, if not nil, is given to every run on standard input; nil
	// means the null device.
	Stdin []byte

	Restart RestartPolicy
	// MaxRestarts bounds the number of restarts; 0 means no bound.
	MaxRestarts int
	Backoff     Backoff

	// StopSignal is sent to the process group by Stop; 0 means SIGTERM.
	StopSignal syscall.Signal
	// StopTimeout is how long Stop waits after StopSignal before sending
	// SIGKILL; 0 means DefaultStopTimeout.
	StopTimeout time.Duration

	// OutputLimit is the number of most recent output bytes kept; 0 means
	// DefaultOutputLimit.
	OutputLimit int
}

// State is where a process is in its life.
type State int

const (
	// Starting: waiting for its first run or a restart.
	Starting State = iota
	// Running: a run is live.
	Running
	// Exited: finished for good after a successful last run.
	Exited
	// Failed: finished for good after a failed last run.
	Failed
	// Stopped: finished for good because of Stop or Close.
	Stopped
)

func (s State) String() string {
	switch s {
	case Starting:
		return "starting"
	case Running:
		return "running"
	case Exited:
		return "exited"
	case Failed:
		return "failed"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Done reports whether s is final.
func (s State) Done() bool { return s >= Exited }

// Status is a snapshot of a process.
type Status struct {
	Name  string
	State State
	// PID is the pid, and process group id, of the live or last run; 0
	// before the first run started.
	PID int
	// Restarts counts the runs started after the first.
	Restarts int
	// ExitCode is the last run's exit status, or -1 if it was killed by a
	// signal, failed to start or has not exited.
	ExitCode int
	// Err says why the last run failed (a start error or an
	// *exec.ExitError); nil if it succeeded or has not exited.
	Err error
	// StartedAt and ExitedAt time the last run, by the Supervisor's clock.
	StartedAt, ExitedAt time.Time
}

// Stats is the resource use of a live run's process group.
type Stats struct {
	// CPU is User plus System. Each includes the time of children the
	// group's processes have waited for.
	CPU, User, System time.Duration
	// RSS is the resident set size in bytes, summed over the group.
	RSS int64
	// Processes is the number of processes in the group.
	Processes int
}

// Supervisor starts and owns processes. Its methods are safe for concurrent
// use.
type Supervisor struct {
	clk clock.Clock
	log *slog.Logger
	wg  sync.WaitGroup // one per supervising goroutine

	mu     sync.Mutex
	closed bool
	procs  []*Process // live, in start order
}

// NewSupervisor returns a Supervisor that times backoff and stop timeouts
// with clk and logs to logger. A nil clk means clock.Real(); a nil logger
// discards logs.
func NewSupervisor(clk clock.Clock, logger *slog.Logger) *Supervisor {
	if clk == nil {
		clk = clock.Real()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Supervisor{clk: clk, log: logger}
}

// Start starts the process spec describes and supervises it until it
// finishes for good or is stopped. An error starting the first run is
// returned, and the process is not supervised.
func (s *Supervisor) Start(spec Spec) (*Process, error) {
	if spec.Name == "" || spec.Path == "" {
		return nil, errors.New("proc: spec needs a Name and a Path")
	}
	if spec.StopSignal == 0 {
		spec.StopSignal = syscall.SIGTERM
	}
	if spec.StopTimeout <= 0 {
		spec.StopTimeout = DefaultStopTimeout
	}
	if spec.OutputLimit <= 0 {
		spec.OutputLimit = DefaultOutputLimit
	}
	if spec.Backoff.Initial <= 0 {
		spec.Backoff.Initial = DefaultBackoffInitial
	}
	if spec.Backoff.Max <= 0 {
		spec.Backoff.Max = max(DefaultBackoffMax, spec.Backoff.Initial)
	}
	spec.Args = slices.Clone(spec.Args)
	spec.Env = slices.Clone(spec.Env)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	for _, p := range s.procs {
		if p.spec.Name == spec.Name {
			return nil, fmt.Errorf("proc: %q is already running", spec.Name)
		}
	}
	p := &Process{
		spec:    spec,
		sup:     s,
		log:     s.log.With("process", spec.Name),
		out:     newOutput(spec.OutputLimit),
		stopReq: make(chan struct{}),
		killReq: make(chan struct{}),
		done:    make(chan struct{}),
		status:  Status{Name: spec.Name, ExitCode: -1},
	}
	r, err := p.startRun()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	s.procs = append(s.procs, p)
	s.wg.Add(1)
	go p.supervise(r)
	return p, nil
}

// Close stops every live process, in reverse start order, each as
// [Process.Stop] does with ctx, and waits for all the Supervisor's
// goroutines to return. When ctx is done, processes still stopping are
// killed at once. After Close, Start returns ErrClosed.
func (s *Supervisor) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	procs := slices.Clone(s.procs)
	s.mu.Unlock()
	var errs []error
	for _, p := range slices.Backward(procs) {
		if err := p.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", p.spec.Name, err))
		}
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

func (s *Supervisor) remove(p *Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs = slices.DeleteFunc(s.procs, func(q *Process) bool { return q == p })
}

// Process is a supervised process: a series of runs of one Spec.
type Process struct {
	spec Spec
	sup  *Supervisor
	log  *slog.Logger
	out  *Output

	stopOnce, killOnce sync.Once
	stopReq            chan struct{} // closed by Stop
	killReq            chan struct{} // closed when a Stop gives up waiting
	done               chan struct{} // closed when finished for good

	mu     sync.Mutex
	status Status
	live   *run // nil between runs
}

// Name returns the spec's name.
func (p *Process) Name() string { return p.spec.Name }

// Output returns the process's captured output.
func (p *Process) Output() *Output { return p.out }

// Status returns a snapshot of the process.
func (p *Process) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// Done returns a channel closed when the process has finished for good.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits until the process has finished for good and returns its final
// status.
func (p *Process) Wait() Status {
	<-p.done
	return p.Status()
}

// Stop ends the process for good: it cancels a pending restart, sends the
// stop signal to the live run's process group, waits up to the stop timeout
// for the run to exit, then kills the group with SIGKILL. Stop returns nil
// once the process has finished. If ctx is done first, Stop kills the group
// at once and returns ctx.Err() without waiting; the Supervisor still reaps
// the process. Stopping a finished process returns nil.
func (p *Process) Stop(ctx context.Context) error {
	p.stopOnce.Do(func() { close(p.stopReq) })
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		p.killOnce.Do(func() { close(p.killReq) })
		return ctx.Err()
	}
}

// Signal sends sig to the live run's process group.
func (p *Process) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	r := p.live
	p.mu.Unlock()
	if r == nil || !r.signal(sig) {
		return ErrNotRunning
	}
	return nil
}

// Stats returns the resource use of the live run's process group.
func (p *Process) Stats() (Stats, error) {
	p.mu.Lock()
	r := p.live
	p.mu.Unlock()
	if r == nil {
		return Stats{}, ErrNotRunning
	}
	return groupStats(r.pid)
}

// run is one execution of the spec.
type run struct {
	cmd    *exec.Cmd
	pid    int
	exited chan error    // receives cmd.Wait's result
	read   chan struct{} // closed when output has been drained

	mu     sync.Mutex
	reaped bool // once set, pid may belong to someone else
}

// signal sends sig to the run's process group unless it has been reaped,
// and reports whether it did.
func (r *run) signal(sig syscall.Signal) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reaped {
		return false
	}
	return syscall.Kill(-r.pid, sig) == nil
}

// startRun starts a run and the goroutines that read its output and wait
// for it; the caller owns them and joins them through r.exited and r.read.
func (p *Process) startRun() (*run, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Env = p.spec.Env
	cmd.Dir = p.spec.Dir
	if p.spec.Stdin != nil {
		cmd.Stdin = bytes.NewReader(p.spec.Stdin)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The stdin copier may block on a pipe a grandchild holds; the group
	// kill normally ends that, and this bounds it if not.
	cmd.WaitDelay = drainGrace
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, err
	}
	r := &run{cmd: cmd, pid: cmd.Process.Pid, exited: make(chan error, 1), read: make(chan struct{})}
	now := p.sup.clk.Now()
	p.mu.Lock()
	p.live = r
	p.status.State = Running
	p.status.PID = r.pid
	p.status.StartedAt = now
	p.status.ExitedAt = time.Time{}
	p.status.ExitCode = -1
	p.status.Err = nil
	p.mu.Unlock()
	p.log.Info("process started", "pid", r.pid)

	go func() {
		defer close(r.read)
		defer pr.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := pr.Read(buf)
			if n > 0 {
				p.out.write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		if waitExitable(r.pid) {
			// The main program has exited but is not reaped, so its
			// group id is still ours: kill what it left behind.
			r.mu.Lock()
			syscall.Kill(-r.pid, syscall.SIGKILL)
			r.reaped = true
			r.mu.Unlock()
		}
		err := cmd.Wait()
		r.mu.Lock()
		r.reaped = true
		r.mu.Unlock()
		pr.SetReadDeadline(time.Now().Add(drainGrace))
		r.exited <- err
	}()
	return r, nil
}

// supervise owns the process from its first run until it finishes for good.
func (p *Process) supervise(r *run) {
	defer p.sup.wg.Done()
	defer p.sup.remove(p)
	defer close(p.done)
	defer p.out.close()

	consecutive := 0 // restarts since a run lasted Backoff.Max
	var startErr error
	for {
		err := startErr
		if r != nil {
			err = p.await(r)
		}
		code := exitCode(err)

		p.mu.Lock()
		p.live = nil
		p.status.ExitedAt = p.sup.clk.Now()
		p.status.Err = err
		p.status.ExitCode = code
		ranFor := p.status.ExitedAt.Sub(p.status.StartedAt)
		restarts := p.status.Restarts
		p.mu.Unlock()
		if r != nil {
			p.log.Info("process exited", "pid", r.pid, "code", code, "err", err)
		}

		if p.stopping() {
			p.finish(Stopped)
			return
		}
		failed := err != nil
		if !p.shouldRestart(failed, restarts) {
			if failed {
				p.finish(Failed)
			} else {
				p.finish(Exited)
			}
			return
		}

		if r != nil && ranFor >= p.spec.Backoff.Max {
			consecutive = 0
		}
		delay := backoff(p.spec.Backoff, consecutive)
		consecutive++
		p.setState(Starting)
		p.log.Info("process restarting", "in", delay, "restarts", restarts+1)
		if !p.sleep(delay) {
			p.finish(Stopped)
			return
		}

		p.mu.Lock()
		p.status.Restarts++
		p.mu.Unlock()
		r, startErr = p.startRun()
		if startErr != nil {
			r = nil
			p.mu.Lock()
			p.status.PID = 0
			p.status.StartedAt = p.sup.clk.Now()
			p.mu.Unlock()
			p.log.Error("process restart failed", "err", startErr)
		}
	}
}

// await waits for run r to exit, stopping it if asked to, and for its
// output to be drained. It returns cmd.Wait's result.
func (p *Process) await(r *run) error {
	var err error
	select {
	case err = <-r.exited:
	case <-p.stopReq:
		r.signal(p.spec.StopSignal)
		t := p.sup.clk.NewTimer(p.spec.StopTimeout)
		select {
		case err = <-r.exited:
		case <-t.C():
			p.log.Warn("process ignored its stop signal; killing it", "timeout", p.spec.StopTimeout)
			r.signal(syscall.SIGKILL)
			err = <-r.exited
		case <-p.killReq:
			r.signal(syscall.SIGKILL)
			err = <-r.exited
		}
		t.Stop()
	}
	<-r.read
	return err
}

// sleep waits d on the clock and reports false if Stop came first.
func (p *Process) sleep(d time.Duration) bool {
	t := p.sup.clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-p.stopReq:
		return false
	}
}

func (p *Process) stopping() bool {
	select {
	case <-p.stopReq:
		return true
	default:
		return false
	}
}

func (p *Process) shouldRestart(failed bool, restarts int) bool {
	if p.spec.MaxRestarts > 0 && restarts >= p.spec.MaxRestarts {
		return false
	}
	switch p.spec.Restart {
	case RestartAlways:
		return true
	case RestartOnFailure:
		return failed
	}
	return false
}

func (p *Process) setState(s State) {
	p.mu.Lock()
	p.status.State = s
	p.mu.Unlock()
}

func (p *Process) finish(s State) {
	p.setState(s)
	p.log.Info("process finished", "state", s)
}

// exitCode returns the exit status cmd.Wait's err reports, or -1 for a
// signal or an error that is not an exit status.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return ee.ExitCode()
	}
	return -1
}

// backoff returns b.Initial doubled n times, capped at b.Max.
func backoff(b Backoff, n int) time.Duration {
	d := b.Initial
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}
