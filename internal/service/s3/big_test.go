package s3_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestBigMultipartRSS uploads 5 GiB through the SDK's upload manager
// (64 MiB parts, 4 at a time, from a generated reader, never a 5 GiB
// buffer) to an S3 server in a child process on a disk data directory, and
// samples the server's resident memory every second. It is opt-in:
//
//	OVERCAST_S3_BIG=1 go test ./internal/service/s3 -run TestBigMultipartRSS -v -timeout 30m
//
// OVERCAST_S3_BIG_SIZE changes the size (in MiB). It needs twice the size
// free in the temporary directory while the upload completes.
func TestBigMultipartRSS(t *testing.T) {
	if os.Getenv("OVERCAST_S3_BIG") == "" {
		t.Skip("set OVERCAST_S3_BIG=1 to upload 5 GiB and measure the server's memory")
	}
	size := int64(5 << 30)
	if v := os.Getenv("OVERCAST_S3_BIG_SIZE"); v != "" {
		mib, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("OVERCAST_S3_BIG_SIZE: %v", err)
		}
		size = mib << 20
	}
	const partSize = 64 << 20

	child, addr := startServerProcess(t, t.TempDir())
	pid := child.Process.Pid
	var maxRSS, samples int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			if rss, err := procStatus(pid, "VmRSS"); err == nil {
				maxRSS = max(maxRSS, rss)
				samples++
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String("http://" + addr),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("big")}); err != nil {
		t.Fatal(err)
	}
	up := manager.NewUploader(c, func(u *manager.Uploader) { u.PartSize = partSize; u.Concurrency = 4 })
	began := time.Now()
	res, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("big"), Key: aws.String("five"), Body: &genReader{size: size}})
	took := time.Since(began)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	hwm, _ := procStatus(pid, "VmHWM")
	parts := (size + partSize - 1) / partSize
	if want := "-" + strconv.FormatInt(parts, 10) + `"`; !strings.HasSuffix(aws.ToString(res.ETag), want) {
		t.Errorf("ETag %s, want a multipart ETag of %d parts", aws.ToString(res.ETag), parts)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("big"), Key: aws.String("five")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != size {
		t.Errorf("ContentLength %d, want %d", aws.ToInt64(head.ContentLength), size)
	}
	// The bytes around each part boundary and at the end are the generated ones.
	for _, off := range []int64{0, partSize - 8, size/2 - 8, size - 16} {
		if off < 0 || off+16 > size {
			continue
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("big"), Key: aws.String("five"), Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+15))})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		want := make([]byte, 16)
		(&genReader{size: size}).ReadAt(want, off)
		if !bytes.Equal(got, want) {
			t.Errorf("bytes at %d = %x, want %x", off, got, want)
		}
	}
	t.Logf("server RSS during a %d MiB multipart upload (%d parts of %d MiB, 4 at a time): max %d MiB over %d one-second samples, peak (VmHWM) %d MiB; upload took %s (%.0f MiB/s)",
		size>>20, parts, partSize>>20, maxRSS>>10, samples, hwm>>10, took.Round(time.Millisecond), float64(size>>20)/took.Seconds())
}

// TestServerProcess is the child of TestBigMultipartRSS: an S3 server on the
// disk data directory named by OVERCAST_S3_SERVE_DIR that prints its address
// and runs until its standard input closes.
func TestServerProcess(t *testing.T) {
	dir := os.Getenv("OVERCAST_S3_SERVE_DIR")
	if dir == "" {
		t.Skip("the server process of TestBigMultipartRSS")
	}
	srv := start(t, withDisk(dir))
	fmt.Printf("ADDR %s\n", srv.addr)
	io.Copy(io.Discard, os.Stdin)
}

func startServerProcess(t *testing.T, dir string) (*exec.Cmd, string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "OVERCAST_S3_SERVE_DIR="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
			go io.Copy(io.Discard, stdout)
			return cmd, addr
		}
	}
	t.Fatalf("server process did not start: %v", sc.Err())
	return nil, ""
}

// procStatus returns a "kB" field of /proc/<pid>/status in KiB.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New(field + " not found")
}

// genReader is size generated bytes that can be read, seeked and read at
// any offset without holding them: byte i is genPattern[i % len(genPattern)],
// a pattern whose length is not a divisor of any part size.
type genReader struct {
	size, off int64
}

var genPattern = sync.OnceValue(func() []byte {
	p := make([]byte, 1<<20+13)
	x := uint32(2463534242)
	for i := range p {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		p[i] = byte(x)
	}
	return p
})

func (g *genReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= g.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), g.size-off))
	for done := 0; done < n; {
		pat := genPattern()
		i := int((off + int64(done)) % int64(len(pat)))
		done += copy(p[done:n], pat[i:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (g *genReader) Read(p []byte) (int, error) {
	n, err := g.ReadAt(p, g.off)
	g.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (g *genReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += g.off
	case io.SeekEnd:
		off += g.size
	}
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	g.off = off
	return off, nil
}
