package elb

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzReadHead feeds arbitrary target answers to the response head reader:
// it must not panic, and what it accepts must frame a body it can read.
func FuzzReadHead(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nuntil close",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: close, X-Drop\r\nX-Drop: 1\r\n\r\n",
		"HTTP/1.1 301 Moved\r\nLocation: /x\r\ncontent-length: 0\r\n\r\n",
		"HTTP/1.1 200\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"garbage\r\n\r\n",
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, in string, head bool) {
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		br := bufio.NewReaderSize(strings.NewReader(in), 4096)
		dst := http.Header{}
		resp, err := readHead(br, method, dst)
		if err != nil {
			return
		}
		if resp.status < 200 && resp.status != 101 {
			t.Fatalf("interim status %d returned", resp.status)
		}
		for _, k := range []string{"Connection", "Transfer-Encoding", "Keep-Alive", "Upgrade"} {
			if _, ok := dst[k]; ok {
				t.Fatalf("hop-by-hop header %s passed on", k)
			}
		}
		uc := &upConn{br: br}
		io.Copy(io.Discard, uc.body(resp))
		if resp.chunked {
			skipTrailer(br)
		}
	})
}
