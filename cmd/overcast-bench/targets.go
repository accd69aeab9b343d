package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	command func(port int, dir string) (*exec.Cmd, error)
	// probe is the request polled until it is answered: method and path.
	probeMethod, probePath, probeBody string
	startTimeout                      time.Duration
	// services the target emulates; nil means every service.
	services []string
}

// serves reports whether t runs workload d: the floor runs the workloads
// that have a plain-HTTP stand-in, a peer those of the services it
// emulates.
func (t target) serves(d workloadDef) bool {
	if t.kind == kindFloor {
		return d.floor
	}
	return t.services == nil || slices.Contains(t.services, d.service)
}

// peerDef describes an emulator from elsewhere: a binary on PATH, or a Go
// command built from the Go module proxy into the run's temporary
// directory (never into the repository).
type peerDef struct {
	key, name string
	binary    string // on PATH
	// goPkg@goVersion is built with go install when binary is empty.
	goPkg, goVersion string
	// services the peer emulates, as workloadDef.service names; nil: all.
	services []string
	// args are the peer's arguments to serve on 127.0.0.1:port; dir is a
	// fresh empty directory for its data and configuration.
	args func(port int, dir string) ([]string, error)
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
			args: func(port int, _ string) ([]string, error) {
				return []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)}, nil
			},
			probeMethod: "POST", probePath: "/", probeBody: gciBody,
			version: pythonPackageVersion("moto"),
		},
		{
			key: "goaws", name: "goaws", goPkg: "github.com/Admiral-Piett/goaws/app/cmd", goVersion: "v0.5.4",
			services: []string{"sqs", "sns"},
			args: func(port int, dir string) ([]string, error) {
				conf := filepath.Join(dir, "goaws.yaml")
				if err := os.WriteFile(conf, []byte(goawsConfig(port)), 0o644); err != nil {
					return nil, err
				}
				return []string{"-config", conf, "-loglevel", "error", "Bench"}, nil
			},
			probeMethod: "GET", probePath: "/",
		},
		{
			key: "gofakes3", name: "gofakes3", goPkg: "github.com/johannesboyne/gofakes3/cmd/gofakes3", goVersion: "v1.2.0",
			services: []string{"s3"},
			args: func(port int, _ string) ([]string, error) {
				return []string{"-backend", "memory", "-host", "127.0.0.1:" + strconv.Itoa(port), "-quiet"}, nil
			},
			probeMethod: "GET", probePath: "/",
		},
		{
			key: "versitygw", name: "versitygw", goPkg: "github.com/versity/versitygw/cmd/versitygw", goVersion: "v1.8.0",
			services: []string{"s3"},
			args: func(port int, dir string) ([]string, error) {
				data := filepath.Join(dir, "data")
				if err := os.MkdirAll(data, 0o755); err != nil {
					return nil, err
				}
				return []string{"--port", "127.0.0.1:" + strconv.Itoa(port), "--access", "test", "--secret", "test",
					"--quiet", "posix", data}, nil
			},
			probeMethod: "GET", probePath: "/",
		},
	}
}

// goawsConfig is goaws's configuration: its listening port (it binds every
// interface), nothing created at start.
func goawsConfig(port int) string {
	return `Bench:
  Host: 127.0.0.1
  Port: ` + strconv.Itoa(port) + `
  Region: us-east-1
  AccountId: "100010001000"
  LogToFile: false
  EnableDuplicates: false
  QueueAttributeDefaults:
    VisibilityTimeout: 30
    ReceiveMessageWaitTimeSeconds: 0
    MaximumMessageSize: 262144
  RandomLatency:
    Min: 0
    Max: 0
`
}

// buildGoPeer builds p's command from the Go module proxy into a directory
// of its own under tmp, outside any module (GOWORK and GOFLAGS cleared), and
// returns the binary's path. The Go build cache makes later runs fast.
func buildGoPeer(ctx context.Context, tmp string, p peerDef) (string, error) {
	dir := filepath.Join(tmp, "peer-"+p.key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "install", p.goPkg+"@"+p.goVersion)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %v\n%s", p.goPkg, p.goVersion, err, strings.TrimSpace(string(out)))
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			return filepath.Join(dir, e.Name()), nil
		}
	}
	return "", fmt.Errorf("go install %s@%s left no binary", p.goPkg, p.goVersion)
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
			command: func(port int, _ string) (*exec.Cmd, error) {
				return exec.Command(bin, append(common(port), "--memory")...), nil
			},
			probeMethod: "GET", probePath: "/_overcast/health", startTimeout: startTimeout,
		},
		{
			key: "overcast-disk", name: "overcast (disk)", kind: kindOvercast, about: about,
			command: func(port int, dir string) (*exec.Cmd, error) {
				return exec.Command(bin, append(common(port), "--data-dir", filepath.Join(dir, "data"))...), nil
			},
			probeMethod: "GET", probePath: "/_overcast/health", startTimeout: startTimeout,
		},
	}
}

// floorTarget is this binary re-executed as a plain net/http server.
func floorTarget(self string, startTimeout time.Duration) target {
	return target{
		key: "floor", name: "floor (net/http)", kind: kindFloor,
		about: fmt.Sprintf("plain net/http handler, fixed %d-byte XML body; net/http file server for GETs under /files/ (%s %s)", len(floorBody), filepath.Base(self), floorFlag),
		command: func(port int, dir string) (*exec.Cmd, error) {
			return exec.Command(self, floorFlag, "127.0.0.1:"+strconv.Itoa(port), dir), nil
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
