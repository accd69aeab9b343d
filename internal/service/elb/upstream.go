package elb

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// upstream is a target group's pool of keep-alive connections to its
// targets. Unlike http.Transport it runs no goroutines per connection: the
// request's own goroutine writes the request head and reads the response on
// the connection it took from the pool, so a proxied request costs no
// goroutine hand-offs and no channel operations.
type upstream struct {
	mu     sync.Mutex
	idle   map[string][]*upConn // by "ip:port", most recently used last
	closed bool

	// timeout bounds how long a target may stay silent (the load
	// balancer's idle timeout), in ns; read at each use.
	timeout atomic.Int64
}

const (
	maxIdlePerAddr = 1024
	// idleLimit closes connections idle this long, like the ALB's own
	// connection idle timeout towards targets.
	idleLimit = 60 * time.Second
	// probeAfter is how long a connection may sit idle before it is
	// checked for a close by the target when taken from the pool.
	probeAfter = time.Second
	upBufSize  = 16 << 10
)

var (
	upReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, upBufSize) }}
	upWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, upBufSize) }}
)

// upConn is one pooled connection to a target.
type upConn struct {
	c        net.Conn
	br       *bufio.Reader
	bw       *bufio.Writer
	addr     string
	reused   bool
	idleAt   time.Time
	deadline time.Time // the read deadline currently set
	lr       io.LimitedReader
}

func newUpstream() *upstream { return &upstream{idle: map[string][]*upConn{}} }

var dialer = net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}

// get returns an idle connection to addr, or dials one.
func (u *upstream) get(addr string, now time.Time) (*upConn, error) {
	for {
		u.mu.Lock()
		cs := u.idle[addr]
		if len(cs) == 0 {
			u.mu.Unlock()
			break
		}
		uc := cs[len(cs)-1]
		cs[len(cs)-1] = nil
		u.idle[addr] = cs[:len(cs)-1]
		u.mu.Unlock()
		if idle := now.Sub(uc.idleAt); idle >= idleLimit || (idle >= probeAfter && !uc.alive()) {
			uc.close()
			continue
		}
		uc.reused = true
		return uc, nil
	}
	c, err := dialer.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	br := upReaders.Get().(*bufio.Reader)
	br.Reset(c)
	bw := upWriters.Get().(*bufio.Writer)
	bw.Reset(c)
	return &upConn{c: c, br: br, bw: bw, addr: addr}, nil
}

// put returns a connection whose last response was read to its end.
func (u *upstream) put(uc *upConn, now time.Time) {
	uc.idleAt = now
	u.mu.Lock()
	if u.closed || len(u.idle[uc.addr]) >= maxIdlePerAddr {
		u.mu.Unlock()
		uc.close()
		return
	}
	u.idle[uc.addr] = append(u.idle[uc.addr], uc)
	u.mu.Unlock()
}

// prune closes connections idle longer than idleLimit; all of them when
// all is set (the target group is going away or its timeout changed).
func (u *upstream) prune(now time.Time, all bool) {
	var dead []*upConn
	u.mu.Lock()
	if all {
		u.closed = true
	}
	for addr, cs := range u.idle {
		keep := cs[:0]
		for _, uc := range cs {
			if all || now.Sub(uc.idleAt) >= idleLimit {
				dead = append(dead, uc)
			} else {
				keep = append(keep, uc)
			}
		}
		for i := len(keep); i < len(cs); i++ {
			cs[i] = nil
		}
		if len(keep) == 0 {
			delete(u.idle, addr)
		} else {
			u.idle[addr] = keep
		}
	}
	u.mu.Unlock()
	for _, uc := range dead {
		uc.close()
	}
}

func (uc *upConn) close() {
	uc.c.Close()
	if uc.br != nil {
		uc.br.Reset(nil)
		upReaders.Put(uc.br)
		uc.bw.Reset(nil)
		upWriters.Put(uc.bw)
		uc.br, uc.bw = nil, nil
	}
}

// alive reports whether an idle connection is still open: the target has
// neither closed it nor sent anything unasked.
func (uc *upConn) alive() bool {
	if uc.br.Buffered() > 0 {
		return false
	}
	sc, ok := uc.c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	var b [1]byte
	rc.Control(func(fd uintptr) {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		_ = n
		alive = err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
	})
	return alive
}

// armRead makes sure a read deadline between timeout and 1.5×timeout from
// now is set, touching the connection's timer only when the one set has
// less than timeout left.
func (uc *upConn) armRead(now time.Time, timeout time.Duration) {
	if timeout <= 0 {
		return
	}
	if uc.deadline.Sub(now) >= timeout {
		return
	}
	uc.deadline = now.Add(timeout + timeout/2)
	uc.c.SetReadDeadline(uc.deadline)
}

// writeRequest writes r's head, with the header map h as it is, and its
// body to the connection.
func (uc *upConn) writeRequest(r *http.Request, h http.Header, uri string) error {
	bw := uc.bw
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	bw.WriteString(uri)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(r.Host)
	bw.WriteString("\r\n")
	for k, vv := range h {
		for _, v := range vv {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	switch {
	case r.ContentLength > 0:
		var num [20]byte
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(num[:0], r.ContentLength, 10))
		bw.WriteString("\r\n\r\n")
		if _, err := io.CopyN(bw, r.Body, r.ContentLength); err != nil {
			return err
		}
	case r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody:
		bw.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		cw := httputil.NewChunkedWriter(bw)
		bp := bufPool.Get().(*[]byte)
		_, err := io.CopyBuffer(cw, r.Body, *bp)
		bufPool.Put(bp)
		if err != nil {
			return err
		}
		cw.Close()
		bw.WriteString("\r\n")
	default:
		bw.WriteString("\r\n")
	}
	return bw.Flush()
}
