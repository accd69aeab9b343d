package lambda

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// outputPipe is a read end of the pipe an environment's process writes its
// output to, opened through /proc, used only to ask how many bytes are
// still unread (FIONREAD) so that output written before a response is
// logged before the invocation's END line, as Lambda does.
type outputPipe struct {
	fd int
	ok bool
}

func openOutputPipe(pid int) outputPipe {
	if pid <= 0 {
		return outputPipe{}
	}
	fd, err := syscall.Open("/proc/"+strconv.Itoa(pid)+"/fd/1", syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return outputPipe{}
	}
	return outputPipe{fd, true}
}

func (o outputPipe) unread() int {
	var n int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(o.fd), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); errno != 0 {
		return 0
	}
	return int(n)
}

// drain waits, briefly, until the pipe holds no unread output.
func (o outputPipe) drain() {
	if !o.ok {
		return
	}
	deadline := time.Now().Add(20 * time.Millisecond)
	for {
		if o.unread() == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(20 * time.Microsecond)
	}
}

func (o outputPipe) close() {
	if o.ok {
		syscall.Close(o.fd)
	}
}

// peakRSS reads VmHWM, the peak resident set size of the process, from
// /proc/<pid>/status, opened once per environment (f) and re-read in
// place: one pread per invocation instead of a scan of /proc.
func peakRSS(f *os.File, buf []byte) (int64, bool) {
	if f == nil {
		return 0, false
	}
	n, err := f.ReadAt(buf, 0)
	if n == 0 && err != nil {
		return 0, false
	}
	b := buf[:n]
	i := bytes.Index(b, []byte("VmHWM:"))
	if i < 0 {
		return 0, false
	}
	b = b[i+len("VmHWM:"):]
	if j := bytes.IndexByte(b, '\n'); j >= 0 {
		b = b[:j]
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(string(b)), "kB")), 10, 64)
	if err != nil {
		return 0, false
	}
	return kb << 10, true
}

func openStatus(pid int) *os.File {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil
	}
	return f
}
