package s3_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// rawRequest writes req as-is on a fresh connection and reads the answer.
func rawRequest(t *testing.T, srv *testServer, req string, closeWrite bool) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, req)
	if closeWrite {
		conn.(*net.TCPConn).CloseWrite()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp
}

func TestMalformedBodies(t *testing.T) {
	srv := start(t, withDisk(t.TempDir()))
	c := srv.client()
	mustBucket(t, c, "bkt")
	exists := func(key string) bool {
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)})
		return err == nil
	}
	// A Content-Length that promises more than arrives stores nothing.
	resp := rawRequest(t, srv, "PUT /bkt/short HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b", true)
	if resp != nil && resp.StatusCode < 400 {
		t.Errorf("short body answered %d", resp.StatusCode)
	}
	if exists("short") {
		t.Error("a truncated body was stored")
	}
	// aws-chunked without verification: framing removed, trailer checked.
	chunked := func(key, trailer string) *http.Response {
		body := "5\r\nhello\r\n0\r\n" + trailer + "\r\n"
		return rawRequest(t, srv, fmt.Sprintf("PUT /bkt/%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nContent-Encoding: aws-chunked\r\n"+
			"X-Amz-Content-Sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nX-Amz-Decoded-Content-Length: 5\r\nX-Amz-Trailer: x-amz-checksum-crc32\r\n\r\n%s",
			key, len(body), body), false)
	}
	if r := chunked("good", "x-amz-checksum-crc32:NhCmhg==\r\n"); r == nil || r.StatusCode != 200 {
		t.Fatalf("chunked upload: %v", r)
	}
	if got := get(t, c, "bkt", "good"); got != "hello" {
		t.Errorf("chunked body stored as %q", got)
	}
	h, _ := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("good")})
	if h.ContentEncoding != nil {
		t.Errorf("aws-chunked kept in Content-Encoding: %q", *h.ContentEncoding)
	}
	if r := chunked("bad", "x-amz-checksum-crc32:AAAAAA==\r\n"); r == nil || r.StatusCode != 400 {
		t.Errorf("bad trailer checksum: %v", r)
	}
	if exists("bad") {
		t.Error("a body with a wrong trailing checksum was stored")
	}
	// Unknown query on an object answers an S3 error, not a panic.
	r := rawRequest(t, srv, "GET /bkt/good?partNumber=abc HTTP/1.1\r\nHost: x\r\n\r\n", false)
	if r == nil || r.StatusCode != 400 {
		t.Errorf("bad partNumber: %v", r)
	}
}
