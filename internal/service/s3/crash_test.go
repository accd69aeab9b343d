package s3_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/overcast-dev/overcast/internal/gateway"
	"github.com/overcast-dev/overcast/internal/protocol"
	"github.com/overcast-dev/overcast/internal/protocol/rest"
	"github.com/overcast-dev/overcast/internal/service"
	s3svc "github.com/overcast-dev/overcast/internal/service/s3"
	"github.com/overcast-dev/overcast/internal/storage/disk"
)

// TestMain lets the test binary act as a crash-test server: with
// S3_CRASH_DIR set it serves S3 from that directory (fsync on) until killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("S3_CRASH_DIR"); dir != "" {
		serveForCrash(dir)
		return
	}
	os.Exit(m.Run())
}

func serveForCrash(dir string) {
	st, err := disk.Open(dir, disk.Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	svc := s3svc.New(s3svc.Options{KV: st, Blobs: st.Blobs()})
	svc.Start(context.Background())
	gw, err := gateway.New(gateway.Config{Auth: testAuth{}}, []service.Service{svc}, map[string]protocol.Codec{protocol.RestXML: rest.NewXML()})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("listening", ln.Addr().String())
	http.Serve(ln, gw)
}

func startChild(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "S3_CRASH_DIR="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening ") {
		cmd.Process.Kill()
		t.Fatalf("child: %q %v", line, err)
	}
	return cmd, "http://" + strings.TrimSpace(strings.TrimPrefix(line, "listening "))
}

func TestKillDuringUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	cmd, url := startChild(t, dir)
	cfg := start(t).cfg.Copy()
	cfg.BaseEndpoint = aws.String(url)
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	mustBucket(t, c, "crash")
	acked := map[string][]byte{}
	for i := 0; i < 20; i++ {
		data := randomBytes(1000 + i*7919)
		key := fmt.Sprintf("obj-%d", i)
		put(t, c, "crash", key, string(data))
		acked[key] = data
	}
	// Start a large upload, and kill -9 once the server has read part of it.
	pr, pw := io.Pipe()
	started := make(chan struct{})
	go func() {
		pw.Write(bytes.Repeat([]byte("z"), 1<<20)) // returns once the server has read it
		close(started)
	}()
	req, _ := http.NewRequest("PUT", url+"/crash/obj-0", pr)
	req.ContentLength = 8 << 20
	done := make(chan struct{})
	go func() { defer close(done); http.DefaultClient.Do(req) }()
	<-started
	cmd.Process.Kill()
	cmd.Wait()
	pw.CloseWithError(io.ErrUnexpectedEOF)
	<-done
	cmd2, url2 := startChild(t, dir)
	defer func() { cmd2.Process.Kill(); cmd2.Wait() }()
	cfg.BaseEndpoint = aws.String(url2)
	c2 := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for key, data := range acked {
		if got := get(t, c2, "crash", key); got != string(data) {
			t.Errorf("%s: %d bytes after restart, want %d", key, len(got), len(data))
		}
	}
}
