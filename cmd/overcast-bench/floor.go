package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// floorFlag, as the first argument, turns this binary into the floor server.
// It is not a registered flag, so -h does not list it.
const floorFlag = "-floor-server"

// floorBody is what the floor answers to every request: a GetCallerIdentity
// response, so the bytes on the wire match the cheap-call workload.
const floorBody = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::000000000000:root</Arn>
    <UserId>000000000000</UserId>
    <Account>000000000000</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>00000000-0000-0000-0000-000000000000</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
`

// floorFileSizes are the files the floor serves under /files/<size>: the
// object sizes of the S3 GET workloads, with the same bytes.
var floorFileSizes = []int{4 << 10, 1 << 20}

// payload is the deterministic content of an object of size bytes, the same
// in the load driver and in the floor server.
func payload(size int) []byte {
	r := rand.New(rand.NewPCG(uint64(size), 0x0c0ffee))
	b := make([]byte, size)
	for i := 0; i+8 <= size; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := size &^ 7; i < size; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// serveFloor runs the machine's floor: the least an HTTP server in Go can do
// per request. GETs under /files/ are served by net/http's file server from
// files written into dir; every other request has its body read and gets
// the fixed body. It never returns unless the listener fails.
func serveFloor(addr, dir string) error {
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "overcast-floor-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	files := filepath.Join(dir, "files")
	if err := os.MkdirAll(files, 0o755); err != nil {
		return err
	}
	for _, size := range floorFileSizes {
		if err := os.WriteFile(filepath.Join(files, strconv.Itoa(size)), payload(size), 0o644); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fileServer := http.StripPrefix("/files/", http.FileServer(http.Dir(files)))
	body := []byte(floorBody)
	length := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/files/") {
			fileServer.ServeHTTP(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		hd := w.Header()
		hd["Content-Type"] = []string{"text/xml"}
		hd["Content-Length"] = []string{length}
		_, _ = w.Write(body)
	})
	fmt.Fprintln(os.Stdout, "Ready.")
	return http.Serve(ln, h)
}
