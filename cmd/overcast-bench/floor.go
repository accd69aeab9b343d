package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
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

// serveFloor runs the machine's floor: the least an HTTP server in Go can do
// per request. It reads the request body, writes the fixed body, and never
// returns unless the listener fails.
func serveFloor(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	body := []byte(floorBody)
	length := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		hd := w.Header()
		hd["Content-Type"] = []string{"text/xml"}
		hd["Content-Length"] = []string{length}
		_, _ = w.Write(body)
	})
	fmt.Fprintln(os.Stdout, "Ready.")
	return http.Serve(ln, h)
}
