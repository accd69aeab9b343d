package proc

import (
	"bytes"
	"sync"
)

// MaxLineLength is the longest line delivered to a subscriber; longer lines
// are delivered in pieces of this size.
const MaxLineLength = 64 << 10

// Output is the combined standard output and standard error of a process,
// across all its runs. It keeps the most recent bytes, up to a limit, and
// hands complete lines to subscribers as they are written. Its methods are
// safe for concurrent use.
type Output struct {
	mu      sync.Mutex
	limit   int
	buf     []byte // grows to limit, then is used as a ring
	start   int    // index in buf of the oldest byte once buf is full
	total   int64
	partial []byte // the unfinished last line
	subs    map[*subscriber]struct{}
	closed  bool
}

type subscriber struct {
	ch chan string
}

func newOutput(limit int) *Output {
	return &Output{limit: limit, subs: make(map[*subscriber]struct{})}
}

// Tail returns a copy of the last n bytes held, or all of them if n < 0 or
// more than are held.
func (o *Output) Tail(n int) []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	held := len(o.buf)
	if n < 0 || n > held {
		n = held
	}
	skip := held - n
	first, second := o.buf[o.start:], o.buf[:o.start]
	out := make([]byte, 0, n)
	if skip < len(first) {
		out = append(out, first[skip:]...)
		return append(out, second...)
	}
	return append(out, second[skip-len(first):]...)
}

// Written returns the number of bytes ever written, held or not; more than
// len(Tail(-1)) means the oldest output was discarded.
func (o *Output) Written() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.total
}

// Subscribe returns a channel that receives each line written from now on,
// without its line terminator, and a func that cancels the subscription.
// The channel holds up to buffer lines; lines a slow subscriber has no room
// for are dropped rather than stalling the process. The channel is closed
// by cancel or when the process has finished for good, after its last line.
func (o *Output) Subscribe(buffer int) (lines <-chan string, cancel func()) {
	s := &subscriber{ch: make(chan string, max(buffer, 0))}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		close(s.ch)
		return s.ch, func() {}
	}
	o.subs[s] = struct{}{}
	return s.ch, func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if _, ok := o.subs[s]; ok {
			delete(o.subs, s)
			close(s.ch)
		}
	}
}

// write appends p to the buffer and publishes the lines it completes.
func (o *Output) write(p []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.total += int64(len(p))
	o.keep(p)
	if len(o.subs) == 0 {
		// Still track the unfinished line so the next subscriber's first
		// line is not a fragment; cap it like any line.
		if i := bytes.LastIndexByte(p, '\n'); i >= 0 {
			o.partial = append(o.partial[:0], p[i+1:]...)
		} else {
			o.partial = append(o.partial, p...)
		}
		if len(o.partial) > MaxLineLength {
			o.partial = o.partial[:0]
		}
		return
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			o.partial = append(o.partial, p...)
			for len(o.partial) >= MaxLineLength {
				o.publish(o.partial[:MaxLineLength])
				o.partial = append(o.partial[:0], o.partial[MaxLineLength:]...)
			}
			return
		}
		line := p[:i]
		if len(o.partial) > 0 {
			o.partial = append(o.partial, line...)
			line = o.partial
		}
		for len(line) > MaxLineLength {
			o.publish(line[:MaxLineLength])
			line = line[MaxLineLength:]
		}
		o.publish(bytes.TrimSuffix(line, []byte{'\r'}))
		o.partial = o.partial[:0]
		p = p[i+1:]
	}
}

// keep stores p in the bounded buffer. o.mu is held.
func (o *Output) keep(p []byte) {
	if len(p) >= o.limit {
		o.buf = append(o.buf[:0], p[len(p)-o.limit:]...)
		o.start = 0
		return
	}
	if len(o.buf) < o.limit { // still growing; start is 0
		k := min(len(p), o.limit-len(o.buf))
		o.buf = append(o.buf, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 { // full: overwrite the oldest bytes
		k := copy(o.buf[o.start:], p)
		p = p[k:]
		o.start = (o.start + k) % o.limit
	}
}

// publish sends line to every subscriber with room for it. o.mu is held.
func (o *Output) publish(line []byte) {
	s := string(line)
	for sub := range o.subs {
		select {
		case sub.ch <- s:
		default: // the subscriber is behind; drop the line
		}
	}
}

// close publishes the unfinished last line and closes every subscription.
func (o *Output) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.closed = true
	if len(o.partial) > 0 && len(o.subs) > 0 {
		o.publish(o.partial)
	}
	o.partial = nil
	for sub := range o.subs {
		close(sub.ch)
		delete(o.subs, sub)
	}
}
