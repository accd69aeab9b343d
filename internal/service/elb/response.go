package elb

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"strconv"
)

// upResponse is a target's response head, its headers already placed in
// the client response's header map, and how its body is framed.
type upResponse struct {
	status  int
	length  int64 // -1: chunked or until close
	chunked bool
	close   bool // the connection ends after this response
}

var errBadResponse = errors.New("malformed response from target")

// maxHeadBytes bounds a target's response head.
const maxHeadBytes = 64 << 10

// internedHeaders are the canonical names of common response headers, so
// reading them allocates nothing.
var internedHeaders = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"Accept-Ranges", "Access-Control-Allow-Origin", "Age", "Cache-Control", "Connection",
		"Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length", "Content-Type", "Date",
		"Etag", "Expires", "Keep-Alive", "Last-Modified", "Location", "Proxy-Authenticate", "Server", "Set-Cookie",
		"Strict-Transport-Security", "Trailer", "Transfer-Encoding", "Upgrade", "Vary", "Www-Authenticate",
		"X-Content-Type-Options", "X-Frame-Options", "X-Request-Id", "X-Powered-By"} {
		m[k] = k
	}
	return m
}()

type headerLine struct{ k, v string }

// readHead reads the response head from br: status line and headers. The
// end-to-end headers go into dst (hop-by-hop ones, and those the
// Connection header names, are left out); 1xx interim responses are
// skipped. method is the request's, for the bodiless HEAD answers.
func readHead(br *bufio.Reader, method string, dst http.Header) (upResponse, error) {
	for {
		resp, err := readHeadOnce(br, method, dst)
		if err != nil || resp.status >= 200 || resp.status == http.StatusSwitchingProtocols {
			return resp, err
		}
		clear(dst)
	}
}

func readHeadOnce(br *bufio.Reader, method string, dst http.Header) (upResponse, error) {
	var resp upResponse
	total := 0
	line, err := readLine(br, &total)
	if err != nil {
		return resp, err
	}
	// HTTP/1.x SP 3DIGIT [SP reason]
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return resp, errBadResponse
	}
	minor := line[7]
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return resp, errBadResponse
		}
		resp.status = resp.status*10 + int(c-'0')
	}
	if len(line) > 12 && line[12] != ' ' || resp.status < 100 {
		return resp, errBadResponse
	}
	resp.close = minor == '0'
	resp.length = -1
	var (
		lines   [32]headerLine
		extra   []headerLine
		n       int
		connTok []string
		te      bool
		clSeen  bool
	)
	for {
		line, err := readLine(br, &total)
		if err != nil {
			return resp, err
		}
		if len(line) == 0 {
			break
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 {
			return resp, errBadResponse
		}
		key, val := line[:i], bytes.TrimSpace(line[i+1:])
		var kbuf [64]byte
		var k string
		if len(key) <= len(kbuf) && validToken(key) {
			ck := canonical(kbuf[:len(key)], key)
			if s, ok := internedHeaders[string(ck)]; ok {
				k = s
			} else {
				k = string(ck)
			}
		} else if validToken(key) {
			k = http.CanonicalHeaderKey(string(key))
		} else {
			return resp, errBadResponse
		}
		switch k {
		case "Content-Length":
			v, err := strconv.ParseInt(string(val), 10, 64)
			if err != nil || v < 0 || (clSeen && v != resp.length) {
				return resp, errBadResponse
			}
			resp.length, clSeen = v, true
		case "Transfer-Encoding":
			if !bytes.EqualFold(val, []byte("chunked")) {
				return resp, errBadResponse // only chunked is framed
			}
			te = true
			continue
		case "Connection":
			for _, tok := range bytes.Split(val, []byte(",")) {
				tok = bytes.TrimSpace(tok)
				switch {
				case bytes.EqualFold(tok, []byte("close")):
					resp.close = true
				case bytes.EqualFold(tok, []byte("keep-alive")):
					if minor == '0' {
						resp.close = false
					}
				case len(tok) > 0:
					connTok = append(connTok, http.CanonicalHeaderKey(string(tok)))
				}
			}
			continue
		case "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Upgrade":
			continue
		}
		hl := headerLine{k, string(val)}
		if n < len(lines) {
			lines[n] = hl
		} else {
			extra = append(extra, hl)
		}
		n++
	}
	// One backing array for every value, as net/textproto does.
	vals := make([]string, n)
	for i := 0; i < n; i++ {
		hl := lines[min(i, len(lines)-1)]
		if i >= len(lines) {
			hl = extra[i-len(lines)]
		}
		vals[i] = hl.v
		if vv, ok := dst[hl.k]; ok {
			dst[hl.k] = append(vv, hl.v)
		} else {
			dst[hl.k] = vals[i : i+1 : i+1]
		}
	}
	for _, k := range connTok {
		delete(dst, k)
	}
	switch {
	case resp.status < 200 || resp.status == 204 || resp.status == 304 || method == http.MethodHead:
		resp.length = 0
	case te:
		resp.chunked, resp.length = true, -1
		delete(dst, "Content-Length")
	case !clSeen:
		resp.close = true // delimited by the end of the connection
	}
	return resp, nil
}

// readLine returns the next line without its CRLF (or LF), counting the
// head's size.
func readLine(br *bufio.Reader, total *int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return nil, errBadResponse
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if *total += len(line); *total > maxHeadBytes {
		return nil, errBadResponse
	}
	line = line[:len(line)-1]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, nil
}

func validToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == ':' || c == '(' || c == ')' || c == ',' || c == '/' || c == ';' || c == '<' ||
			c == '=' || c == '>' || c == '?' || c == '@' || c == '[' || c == '\\' || c == ']' || c == '{' || c == '}' || c == '"' {
			return false
		}
	}
	return len(b) > 0
}

// canonical writes key's canonical form (Content-Type) into buf.
func canonical(buf, key []byte) []byte {
	upper := true
	for i, c := range key {
		switch {
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case !upper && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		buf[i] = c
		upper = c == '-'
	}
	return buf[:len(key)]
}

// body returns a reader of the response body on uc.
func (uc *upConn) body(resp upResponse) io.Reader {
	switch {
	case resp.chunked:
		return httputil.NewChunkedReader(uc.br)
	case resp.length >= 0:
		uc.lr = io.LimitedReader{R: uc.br, N: resp.length}
		return &uc.lr
	}
	return uc.br
}

// skipTrailer consumes a chunked body's trailer section after its last
// chunk, leaving the connection at the next response.
func skipTrailer(br *bufio.Reader) error {
	total := 0
	for {
		line, err := readLine(br, &total)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
	}
}
