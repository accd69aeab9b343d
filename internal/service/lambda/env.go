package lambda

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/overcast-dev/overcast/internal/runtime/proc"
	"github.com/overcast-dev/overcast/internal/service/lambda/runtimeapi"
)

//go:embed bootstrap/python_bootstrap.py
var pythonBootstrap []byte

//go:embed bootstrap/node_bootstrap.js
var nodeBootstrap []byte

const (
	maxSyncPayload  = 6 << 20 // 6291456: request and response of RequestResponse
	maxResponse     = 6291556 // what the Runtime API accepts
	maxAsyncPayload = 1 << 20 // Event invocations (1 MB)
	initLimit       = 10 * time.Second
	outputLimit     = 1 << 20
	maxLogEvent     = 256 << 10
)

// envKey identifies the code and configuration an environment runs.
type envKey struct {
	fn       fnKey
	version  string
	revision string
}

// environment is one execution environment: a runtime process and the
// Runtime API it talks to.
type environment struct {
	s      *Service
	key    envKey
	id     string
	fnName string
	arn    string // the ARN of the version it runs
	v      *version
	group  string
	stream string
	api    *runtimeapi.Server
	p      *proc.Process
	pipe   outputPipe // the output pipe, to wait for unread output
	status *os.File   // /proc/<pid>/status, for the peak RSS
	stbuf  []byte
	tmp    string

	started time.Time // wall clock, for Init Duration
	// Owned by the invocation running in the environment (one at a time).
	ready    bool
	initDur  time.Duration
	maxRSS   int64
	logMark  int64
	lastUsed time.Time // by the service clock

	closeOnce sync.Once
}

// invokeError is a failure of the environment itself, reported to the
// caller as a function error with this type and message.
type invokeError struct {
	typ, msg string
	status   string // REPORT Status: timeout, error
}

// command returns the program, arguments and extra environment for the
// runtime, or an error for the client (InvalidRuntimeException) or the
// function (Runtime.InvalidEntrypoint).
func (s *Service) command(v *version, task, opt string) (path string, args, env []string, err error) {
	rt := v.Runtime
	switch {
	case strings.HasPrefix(rt, "provided") || rt == "go1.x":
		cands := []string{filepath.Join(task, "bootstrap"), filepath.Join(opt, "bootstrap")}
		if rt == "go1.x" && v.Handler != "" {
			cands = append([]string{filepath.Join(task, filepath.FromSlash(v.Handler))}, cands...)
		}
		for _, c := range cands {
			if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() {
				return c, nil, nil, nil
			}
		}
		return "", nil, nil, &invokeError{typ: "Runtime.InvalidEntrypoint", msg: "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]", status: "error"}
	case strings.HasPrefix(rt, "python"):
		var interp string
		err := exec.ErrNotFound
		for _, name := range []string{rt, "python3"} {
			if interp, err = lookInterpreter(name); err == nil {
				if interp, err = pythonExecutable(interp); err == nil {
					break
				}
			}
		}
		if err != nil {
			return "", nil, nil, errInvalidRuntime("The runtime parameter of %s is not supported here: no %s or python3 interpreter was found on this machine's PATH. Install Python 3 to run this function.", rt, rt)
		}
		bs, err := s.bootstrapFile("python_bootstrap.py", pythonBootstrap)
		if err != nil {
			return "", nil, nil, err
		}
		pyver := strings.TrimPrefix(rt, "python")
		pp := []string{task, filepath.Join(opt, "python"), filepath.Join(opt, "python", "lib", "python"+pyver, "site-packages")}
		return interp, []string{"-u", bs, v.Handler}, []string{"PYTHONPATH=" + strings.Join(pp, ":"), "PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1"}, nil
	case strings.HasPrefix(rt, "nodejs"):
		interp, err := lookInterpreter("node", "nodejs")
		if err != nil {
			return "", nil, nil, errInvalidRuntime("The runtime parameter of %s is not supported here: no node interpreter was found on this machine's PATH. Install Node.js to run this function.", rt)
		}
		bs, err := s.bootstrapFile("node_bootstrap.js", nodeBootstrap)
		if err != nil {
			return "", nil, nil, err
		}
		np := []string{filepath.Join(opt, "nodejs", "node_modules"), filepath.Join(opt, "nodejs", "node"+strings.TrimSuffix(strings.TrimPrefix(rt, "nodejs"), ".x"), "node_modules"), task}
		return interp, []string{bs, v.Handler}, []string{"NODE_PATH=" + strings.Join(np, ":")}, nil
	}
	return "", nil, nil, errInvalidRuntime("The runtime parameter of %s is not supported here: functions run as local processes, and only provided.*, go1.x, python3.* and nodejs* runtimes can.", rt)
}

func lookInterpreter(names ...string) (string, error) {
	var err error
	for _, n := range names {
		var p string
		if p, err = exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", err
}

var pythonExecutables sync.Map // launcher path → interpreter path

// pythonExecutable resolves a launcher (a pyenv shim, say) to the
// interpreter it runs, so functions start without the launcher's
// environment.
func pythonExecutable(launcher string) (string, error) {
	if p, ok := pythonExecutables.Load(launcher); ok {
		return p.(string), nil
	}
	out, err := exec.Command(launcher, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return "", err
	}
	p := strings.TrimSpace(string(out))
	if p == "" {
		p = launcher
	}
	pythonExecutables.Store(launcher, p)
	return p, nil
}

var bootstrapMu sync.Mutex

// bootstrapFile writes one of the embedded runtime bootstraps under the code
// directory (once) and returns its path.
func (s *Service) bootstrapFile(name string, content []byte) (string, error) {
	bootstrapMu.Lock()
	defer bootstrapMu.Unlock()
	p := filepath.Join(s.codeDir, "runtime", name)
	if b, err := os.ReadFile(p); err == nil && bytes.Equal(b, content) {
		return p, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		return "", err
	}
	return p, os.Rename(tmp, p)
}

// startEnv starts a new execution environment for version v of f.
func (s *Service) startEnv(f *function, v *version, arn string) (*environment, error) {
	dir, err := s.unpack.dir(s.blobs, v.CodeKey, v.Layers)
	if err != nil {
		if errors.Is(err, errBadZip) {
			return nil, errInvalid("Could not unzip uploaded file. Please check your file, then try to upload again.")
		}
		return nil, errService("The function's code could not be prepared: %v", err)
	}
	task, opt := filepath.Join(dir, "task"), filepath.Join(dir, "opt")
	path, args, extra, err := s.command(v, task, opt)
	if err != nil {
		return nil, err
	}
	id := strings.ReplaceAll(newID(), "-", "")
	now := s.clk.Now().UTC()
	e := &environment{
		s:        s,
		key:      envKey{f.key(), v.Version, v.RevisionID},
		id:       id,
		fnName:   f.Name,
		arn:      arn,
		v:        v,
		group:    logGroup(f.Name, v),
		stream:   now.Format("2006/01/02") + "/[" + v.Version + "]" + id,
		lastUsed: now,
	}
	e.tmp = filepath.Join(s.codeDir, "tmp", id)
	if err := os.MkdirAll(e.tmp, 0o755); err != nil {
		return nil, errService("The function's /tmp could not be made: %v", err)
	}
	api, err := runtimeapi.Start(maxResponse)
	if err != nil {
		os.RemoveAll(e.tmp)
		return nil, errService("The Runtime API could not listen: %v", err)
	}
	e.api = api
	key, secret, token := s.creds(f.Account, v.Role, f.Name)
	env := []string{
		"PATH=" + filepath.Join(opt, "bin") + ":/usr/local/bin:/usr/bin:/bin:" + os.Getenv("PATH"),
		"LD_LIBRARY_PATH=" + filepath.Join(opt, "lib"),
		"LANG=en_US.UTF-8",
		"TZ=:UTC",
		"TMPDIR=" + e.tmp,
		"HOME=" + e.tmp,
		"LAMBDA_TASK_ROOT=" + task,
		"LAMBDA_RUNTIME_DIR=" + filepath.Dir(path),
		"AWS_LAMBDA_RUNTIME_API=" + api.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=" + f.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=" + v.Version,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.FormatInt(v.MemorySize, 10),
		"AWS_LAMBDA_LOG_GROUP_NAME=" + e.group,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + e.stream,
		"AWS_LAMBDA_LOG_FORMAT=" + orDefault(v.LogFormat, "Text"),
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_REGION=" + f.Region,
		"AWS_DEFAULT_REGION=" + f.Region,
		"AWS_EXECUTION_ENV=AWS_Lambda_" + v.Runtime,
		"AWS_ACCESS_KEY_ID=" + key,
		"AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_ENDPOINT_URL=" + s.endpointURL(),
		"_HANDLER=" + v.Handler,
	}
	if token != "" {
		env = append(env, "AWS_SESSION_TOKEN="+token)
	}
	env = append(env, extra...)
	for k, val := range v.Env {
		env = append(env, k+"="+val)
	}
	e.started = time.Now()
	p, err := s.sup.Start(proc.Spec{
		Name:        "lambda/" + f.Account + "/" + f.Region + "/" + f.Name + "/" + id,
		Path:        path,
		Args:        args,
		Env:         env,
		Dir:         task,
		StopSignal:  syscall.SIGKILL,
		StopTimeout: time.Second,
		OutputLimit: outputLimit,
	})
	if err != nil {
		api.Close()
		os.RemoveAll(e.tmp)
		return nil, &invokeError{typ: "Runtime.InvalidEntrypoint", msg: err.Error(), status: "error"}
	}
	e.p = p
	e.pipe = openOutputPipe(p.Status().PID)
	e.status = openStatus(p.Status().PID)
	s.pool.started(e)
	return e, nil
}

// close kills the environment's process and releases its resources.
func (e *environment) close() {
	e.closeOnce.Do(func() {
		e.api.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		e.p.Stop(ctx)
		cancel()
		e.pipe.close()
		if e.status != nil {
			e.status.Close()
		}
		e.flushLogs(nil, true)
		os.RemoveAll(e.tmp)
		e.s.pool.closed(e)
	})
}

// alive reports whether the runtime process is still running.
func (e *environment) alive() bool {
	select {
	case <-e.p.Done():
		return false
	default:
		return true
	}
}

// exitMessage describes how the process ended.
func (e *environment) exitMessage() string {
	st := e.p.Status()
	if st.Err != nil {
		var ee *exec.ExitError
		if errors.As(st.Err, &ee) {
			return "Runtime exited with error: " + ee.ProcessState.String()
		}
		return "Runtime exited with error: " + st.Err.Error()
	}
	return "Runtime exited without providing a reason"
}

// run hands inv to the runtime and waits for its answer, the end of the
// process, or the timeout. A nil *invokeError with res.Error set is a
// function error; a non-nil one is a failure of the environment, which is
// then unusable.
func (e *environment) run(inv runtimeapi.Invocation, timeout time.Duration) (res runtimeapi.Result, ierr *invokeError) {
	s := e.s
	if !e.ready {
		t := s.clk.NewTimer(initLimit)
		select {
		case <-e.api.Ready():
			e.ready = true
			e.initDur = time.Since(e.started)
		case r := <-e.api.InitError():
			t.Stop()
			return runtimeapi.Result{}, initFailure(r)
		case <-e.p.Done():
			t.Stop()
			select {
			case r := <-e.api.InitError():
				return runtimeapi.Result{}, initFailure(r)
			default:
			}
			return runtimeapi.Result{}, &invokeError{typ: "Runtime.ExitError", msg: e.exitMessage(), status: "error"}
		case <-t.C():
			return runtimeapi.Result{}, &invokeError{typ: "Runtime.Unknown", msg: "Init timed out after " + strconv.FormatFloat(initLimit.Seconds(), 'f', 2, 64) + " seconds", status: "timeout"}
		case <-s.done:
			t.Stop()
			return runtimeapi.Result{}, &invokeError{typ: "Runtime.Unknown", msg: "The service is shutting down", status: "error"}
		}
		t.Stop()
	}
	ch := e.api.Invoke(inv)
	t := s.clk.NewTimer(timeout)
	defer t.Stop()
	select {
	case res = <-ch:
		if res.TooLarge {
			return res, nil
		}
		return res, nil
	case <-e.p.Done():
		select {
		case res = <-ch:
			return res, nil
		default:
		}
		return res, &invokeError{typ: "Runtime.ExitError", msg: e.exitMessage(), status: "error"}
	case <-t.C():
		e.api.Abandon()
		return res, &invokeError{typ: "Sandbox.Timedout", msg: fmt.Sprintf("Task timed out after %.2f seconds", timeout.Seconds()), status: "timeout"}
	case <-s.done:
		return res, &invokeError{typ: "Runtime.Unknown", msg: "The service is shutting down", status: "error"}
	}
}

func (e *invokeError) Error() string { return e.typ + ": " + e.msg }

func initFailure(r runtimeapi.Result) *invokeError {
	return &invokeError{typ: orDefault(r.ErrorType, "Runtime.Unknown"), msg: string(r.Payload), status: "error"}
}

// memoryUsed samples the process group's resident memory and returns the
// maximum seen, in MB.
func (e *environment) memoryUsed() int64 {
	if e.status != nil {
		if e.stbuf == nil {
			e.stbuf = make([]byte, 4096)
		}
		if rss, ok := peakRSS(e.status, e.stbuf); ok && rss > e.maxRSS {
			e.maxRSS = rss
		}
	} else if st, err := e.p.Stats(); err == nil && st.RSS > e.maxRSS {
		e.maxRSS = st.RSS
	}
	return int64(math.Ceil(float64(e.maxRSS) / (1 << 20)))
}

// output returns the lines the process wrote since the last call, up to
// the last complete line (everything when final).
func (e *environment) output(final bool) []string {
	out := e.p.Output()
	total := out.Written()
	n := total - e.logMark
	if n <= 0 {
		return nil
	}
	b := out.Tail(int(min(n, outputLimit)))
	lost := n - int64(len(b))
	if !final {
		i := bytes.LastIndexByte(b, '\n')
		if i < 0 && len(b) < 64<<10 {
			return nil
		}
		if i >= 0 {
			total -= int64(len(b) - i - 1)
			b = b[:i+1]
		}
	}
	e.logMark = total
	var lines []string
	if lost > 0 {
		lines = append(lines, fmt.Sprintf("[%d bytes of output were dropped: the function wrote faster than they could be kept]", lost))
	}
	for _, l := range bytes.Split(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\n'}) {
		l = bytes.TrimSuffix(l, []byte{'\r'})
		if len(l) > maxLogEvent {
			l = l[:maxLogEvent]
		}
		lines = append(lines, string(l))
	}
	return lines
}

// settle waits briefly for output the process wrote before answering but
// that has not been read from its pipe yet.
func (e *environment) settle() {
	out := e.p.Output()
	last := out.Written()
	for range 20 {
		time.Sleep(250 * time.Microsecond)
		n := out.Written()
		if n == last {
			return
		}
		last = n
	}
}

// flushLogs sends lines, after any output not yet logged, to the log sink.
func (e *environment) flushLogs(lines []string, final bool) {
	pre := e.output(final)
	if len(pre) == 0 && len(lines) == 0 {
		return
	}
	if e.s.logs == nil {
		return
	}
	now := e.s.clk.Now()
	events := make([]LogEvent, 0, len(pre)+len(lines))
	for _, l := range slices.Concat(pre, lines) {
		events = append(events, LogEvent{Time: now, Message: l})
	}
	select {
	case e.s.logCh <- logBatch{e.key.fn.account, e.key.fn.region, e.group, e.stream, events}:
	default: // the sink is behind: drop rather than stall invocations
	}
}

// logBatch is one delivery to the log sink.
type logBatch struct {
	account, region, group, stream string
	events                         []LogEvent
}

// shipLogs hands batches to the log sink off the invocation path.
func (s *Service) shipLogs() {
	defer s.wg.Done()
	for {
		select {
		case b := <-s.logCh:
			s.logs.PutLogEvents(b.account, b.region, b.group, b.stream, b.events)
		case <-s.done:
			for {
				select {
				case b := <-s.logCh:
					s.logs.PutLogEvents(b.account, b.region, b.group, b.stream, b.events)
				default:
					return
				}
			}
		}
	}
}
