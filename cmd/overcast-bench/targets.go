package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// kind says what a target is, for ratios and for workloads.
type kind int

const (
	kindOvercast kind = iota
	kindPeer
	kindFloor
)

// target is one server the benchmark starts and measures.
type target struct {
	key   string // -targets name: overcast-memory, overcast-disk, moto, floor
	name  string // as printed
	kind  kind
	about string // binary and version, for the header
	// command builds the command that serves on 127.0.0.1:port; dir is a
	// fresh empty directory it may use for data.
	command func(port int, dir string) *exec.Cmd
	// probe is the request polled until it is answered: method and path.
	probeMethod, probePath, probeBody string
	startTimeout                      time.Duration
}

// peerDef describes an emulator from elsewhere that the benchmark runs when
// its binary is on PATH.
type peerDef struct {
	key, name, binary string
	args              func(port int) []string
	// probe: a request the peer answers once it is ready.
	probeMethod, probePath, probeBody string
	version                           func(path string) string
}

// peerDefs lists the known peers. Add more here; workloads a peer cannot
// serve return errors.ErrUnsupported from Setup.
func peerDefs() []peerDef {
	return []peerDef{
		{
			key: "moto", name: "moto", binary: "moto_server",
			args: func(port int) []string {
				return []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)}
			},
			probeMethod: "POST", probePath: "/", probeBody: gciBody,
			version: pythonPackageVersion("moto"),
		},
	}
}

// resolveBinary finds name on PATH. A pyenv shim is resolved to the script
// it runs, so that start times do not include the shim's own bash start-up.
func resolveBinary(name string) (string, bool) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", false
	}
	if filepath.Base(filepath.Dir(p)) == "shims" {
		if out, err := exec.Command("pyenv", "which", name).Output(); err == nil {
			if real := strings.TrimSpace(string(out)); real != "" {
				return real, true
			}
		}
	}
	return p, true
}

// pythonPackageVersion reads a Python console script's interpreter from its
// #! line and asks it for pkg's version.
func pythonPackageVersion(pkg string) func(path string) string {
	return func(path string) string {
		f, err := os.Open(path)
		if err != nil {
			return ""
		}
		defer f.Close()
		line, _ := bufio.NewReader(f).ReadString('\n')
		interp, ok := strings.CutPrefix(strings.TrimSpace(line), "#!")
		if !ok || strings.Contains(interp, " ") {
			return ""
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, interp, "-c",
			"import importlib.metadata as m; print(m.version('"+pkg+"'))").Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
}

// overcastTargets are the two ways Overcast runs: state in memory, and the
// default disk mode with a fresh data directory per start.
func overcastTargets(bin, about string, startTimeout time.Duration) []target {
	common := func(port int) []string {
		return []string{"--listen", "127.0.0.1:" + strconv.Itoa(port), "--log-level", "error"}
	}
	return []target{
		{
			key: "overcast-memory", name: "overcast (memory)", kind: kindOvercast, about: about,
			command: func(port int, _ string) *exec.Cmd {
				return exec.Command(bin, append(common(port), "--memory")...)
			},
			probeMethod: "GET", probePath: "/_overcast/health", startTimeout: startTimeout,
		},
		{
			key: "overcast-disk", name: "overcast (disk)", kind: kindOvercast, about: about,
			command: func(port int, dir string) *exec.Cmd {
				return exec.Command(bin, append(common(port), "--data-dir", filepath.Join(dir, "data"))...)
			},
			probeMethod: "GET", probePath: "/_overcast/health", startTimeout: startTimeout,
		},
	}
}

// floorTarget is this binary re-executed as a plain net/http server.
func floorTarget(self string, startTimeout time.Duration) target {
	return target{
		key: "floor", name: "floor (net/http)", kind: kindFloor,
		about: fmt.Sprintf("plain net/http handler, fixed %d-byte XML body (%s %s)", len(floorBody), filepath.Base(self), floorFlag),
		command: func(port int, _ string) *exec.Cmd {
			return exec.Command(self, floorFlag, "127.0.0.1:"+strconv.Itoa(port))
		},
		probeMethod: "GET", probePath: "/", startTimeout: startTimeout,
	}
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
