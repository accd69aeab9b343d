package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// clockTicksPerSecond is USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat; it is 100 on every Linux build this runs on.
const clockTicksPerSecond = 100

// child is one server process, leader of its own process group so that it
// and everything it forks can be measured and killed together.
type child struct {
	cmd     *exec.Cmd
	pid     int
	logPath string
	done    chan struct{} // closed once the process has been waited for
	waitErr error
}

// exited reports whether the process has ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// logTail returns the last few lines the process wrote, for error messages.
func (c *child) logTail() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, "\n")
}

// supervisor owns every child process the benchmark starts and kills them
// all on the way out, including on interrupt.
type supervisor struct {
	mu     sync.Mutex
	live   map[int]*child
	closed bool
}

func newSupervisor() *supervisor { return &supervisor{live: map[int]*child{}} }

// start runs cmd in a new process group, its output going to logPath.
func (s *supervisor) start(cmd *exec.Cmd, logPath string) (*child, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("interrupted")
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// Setpgid makes the child lead a group we can kill whole; Pdeathsig
	// takes it down if this process dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	c := &child{cmd: cmd, pid: cmd.Process.Pid, logPath: logPath, done: make(chan struct{})}
	s.live[c.pid] = c
	go func() {
		c.waitErr = cmd.Wait()
		logf.Close()
		close(c.done)
	}()
	return c, nil
}

// stop kills c's process group and waits for the leader to be reaped.
func (s *supervisor) stop(c *child) {
	_ = syscall.Kill(-c.pid, syscall.SIGKILL)
	<-c.done
	s.mu.Lock()
	delete(s.live, c.pid)
	s.mu.Unlock()
}

// stopAll kills every live child and refuses new ones. It is safe to call
// more than once and from a signal handler goroutine.
func (s *supervisor) stopAll() {
	s.mu.Lock()
	s.closed = true
	kids := make([]*child, 0, len(s.live))
	for _, c := range s.live {
		kids = append(kids, c)
	}
	s.mu.Unlock()
	for _, c := range kids {
		s.stop(c)
	}
}

// procStat is what the benchmark reads from /proc/<pid>/stat.
type procStat struct {
	pgrp  int
	ticks int64 // utime + stime
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// The command name in parentheses may hold spaces; fields start after
	// the last ')': state ppid pgrp session tty tpgid flags minflt cminflt
	// majflt cmajflt utime stime ...
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	pgrp, _ := strconv.Atoi(f[2])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return procStat{pgrp: pgrp, ticks: ut + st}, nil
}

// groupPIDs lists the live processes in process group pgid.
func groupPIDs(pgid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return []int{pgid}
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil && st.pgrp == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// groupCPUTicks sums utime+stime over the process group: the server's CPU,
// whether it runs as one process or forks workers.
func groupCPUTicks(pgid int) int64 {
	var sum int64
	for _, pid := range groupPIDs(pgid) {
		if st, err := readStat(pid); err == nil {
			sum += st.ticks
		}
	}
	return sum
}

// groupRSSKiB sums VmRSS over the process group.
func groupRSSKiB(pgid int) (int64, error) {
	var sum int64
	found := false
	for _, pid := range groupPIDs(pgid) {
		kib, err := vmRSS(pid)
		if err != nil {
			continue
		}
		sum += kib
		found = true
	}
	if !found {
		return 0, fmt.Errorf("no VmRSS for process group %d", pgid)
	}
	return sum, nil
}

func vmRSS(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest) // "12345 kB"
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// selfCPU returns this process's user+system CPU time in microseconds: the
// load driver's own cost.
func selfCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Sec*1e6 + int64(ru.Utime.Usec) + ru.Stime.Sec*1e6 + int64(ru.Stime.Usec)
}
