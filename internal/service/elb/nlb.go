package elb

import (
	"io"
	"net"
	"time"
)

// acceptTCP serves a network load balancer's TCP listener: each connection
// is spliced to a target of the listener's target group.
func (l *listenerRuntime) acceptTCP() {
	defer l.s.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.connMu.Lock()
		if l.closed {
			l.connMu.Unlock()
			c.Close()
			return
		}
		l.conns[c] = struct{}{}
		l.wg.Add(1)
		l.connMu.Unlock()
		go l.serveTCP(c)
	}
}

func (l *listenerRuntime) untrack(c net.Conn) {
	l.connMu.Lock()
	delete(l.conns, c)
	l.connMu.Unlock()
}

func (l *listenerRuntime) serveTCP(c net.Conn) {
	defer l.wg.Done()
	defer l.untrack(c)
	defer c.Close()
	lb := l.lb
	lb.m.newConns.Add(1)
	lb.m.active.Add(1)
	defer lb.m.active.Add(-1)
	act := l.table.Load().match(nil)
	if act == nil || act.kind != actForward {
		return
	}
	g := act.pickGroup()
	if g == nil {
		lb.m.resets.Add(1)
		return
	}
	t := g.pick()
	if t == nil {
		lb.m.resets.Add(1)
		return
	}
	addr := t.address()
	if act.portOverride > 0 {
		host, _, _ := net.SplitHostPort(addr)
		addr = net.JoinHostPort(host, itoa(act.portOverride))
	}
	t.outstanding.Add(1)
	defer t.outstanding.Add(-1)
	up, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		g.m.elb5xx.Add(1)
		lb.m.resets.Add(1)
		return
	}
	l.connMu.Lock()
	if l.closed {
		l.connMu.Unlock()
		up.Close()
		return
	}
	l.conns[up] = struct{}{}
	l.connMu.Unlock()
	defer l.untrack(up)
	defer up.Close()
	g.m.requests.Add(1)
	done := make(chan int64, 1)
	go func() { done <- pipe(up, c) }()
	n := pipe(c, up)
	n += <-done
	lb.m.bytes.Add(n)
}

// pipe copies src to dst until EOF, then half-closes dst's write side so
// the peer sees the end of the stream while the other direction goes on.
func pipe(dst, src net.Conn) int64 {
	bp := bufPool.Get().(*[]byte)
	n, _ := io.CopyBuffer(dst, src, *bp)
	bufPool.Put(bp)
	if tc, ok := dst.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
	} else {
		dst.Close()
	}
	return n
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
