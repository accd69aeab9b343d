package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestListServices(t *testing.T) {
	var out bytes.Buffer
	out.WriteString("\n")
	if err := run([]string{"--list-services"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nsts", "s3\n", "sns (needs sqs)\n", "autoscaling (needs ec2, elasticloadbalancing, cloudwatch)\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--list-services lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUnknownService(t *testing.T) {
	err := run([]string{"--memory", "--services", "nosuch", "--listen", "127.0.0.1:0"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `unknown service "nosuch"`) {
		t.Errorf("err = %v", err)
	}
}

// TestProcess runs the real binary: it prints where it keeps data, answers
// health, and exits cleanly on SIGTERM.
func TestProcess(t *testing.T) {
	if os.Getenv("OVERCAST_CHILD") == "1" {
		if err := run(os.Args[len(os.Args)-6:], os.Stdout, os.Stderr); err != nil {
			os.Exit(3)
		}
		os.Exit(0)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestProcess$", "--", "--listen", "127.0.0.1:0", "--data-dir", dir, "--services", "sts")
	cmd.Env = append(os.Environ(), "OVERCAST_CHILD=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var url string
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "listening on "); i >= 0 {
			url = strings.Fields(line[i+len("listening on "):])[0]
			url = strings.TrimSuffix(url, ",")
			if !strings.Contains(line, dir) {
				t.Errorf("start line does not name the data dir: %s", line)
			}
		}
		if line == "Ready." {
			break
		}
	}
	if url == "" {
		cmd.Process.Kill()
		t.Fatal("no listening line")
	}
	resp, err := http.Get(url + "/_overcast/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("health %d", resp.StatusCode)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { io.Copy(io.Discard, stdout); done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("did not stop on SIGTERM")
	}
}
