package proc

import (
	"strings"
	"testing"
)

func TestOutputKeepsTheLastBytes(t *testing.T) {
	o := newOutput(8)
	o.write([]byte("abc"))
	if got := string(o.Tail(-1)); got != "abc" {
		t.Fatalf("Tail = %q", got)
	}
	o.write([]byte("defgh"))
	o.write([]byte("ij"))
	if got := string(o.Tail(-1)); got != "cdefghij" {
		t.Fatalf("Tail(-1) = %q, want cdefghij", got)
	}
	if got := string(o.Tail(3)); got != "hij" {
		t.Errorf("Tail(3) = %q", got)
	}
	if got := string(o.Tail(7)); got != "defghij" {
		t.Errorf("Tail(7) = %q", got)
	}
	o.write([]byte("0123456789"))
	if got := string(o.Tail(100)); got != "23456789" {
		t.Errorf("after an oversized write Tail = %q", got)
	}
	o.write([]byte("xyz"))
	if got := string(o.Tail(-1)); got != "56789xyz" {
		t.Errorf("Tail = %q", got)
	}
	if got := o.Written(); got != 23 {
		t.Errorf("Written = %d, want 23", got)
	}
}

func TestOutputLines(t *testing.T) {
	o := newOutput(1 << 10)
	o.write([]byte("before subscribing\nhal"))
	lines, cancel := o.Subscribe(10)
	o.write([]byte("f a line\r\nsecond\nthi"))
	o.write([]byte("rd\nunterminated"))
	o.close()
	var got []string
	for l := range lines {
		got = append(got, l)
	}
	want := []string{"half a line", "second", "third", "unterminated"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q, want %q", got, want)
	}
	cancel() // after close: a no-op
	if _, ok := <-func() <-chan string { c, _ := o.Subscribe(1); return c }(); ok {
		t.Error("subscription after close is open")
	}
}

func TestOutputSlowSubscriberAndCancel(t *testing.T) {
	o := newOutput(1 << 20)
	lines, cancel := o.Subscribe(1)
	o.write([]byte("one\ntwo\n")) // no room for "two"
	o.write([]byte(strings.Repeat("x", MaxLineLength+5) + "\n"))
	if l := <-lines; l != "one" {
		t.Errorf("first line = %q", l)
	}
	cancel()
	if _, ok := <-lines; ok {
		t.Error("channel open after cancel")
	}
	cancel()

	lines, cancel = o.Subscribe(4)
	defer cancel()
	o.write([]byte(strings.Repeat("y", MaxLineLength+5) + "\n"))
	if l := <-lines; len(l) != MaxLineLength {
		t.Errorf("first piece of a long line has %d bytes", len(l))
	}
	if l := <-lines; l != "yyyyy" {
		t.Errorf("rest of a long line = %q", l)
	}
}
