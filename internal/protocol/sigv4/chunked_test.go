package sigv4

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/checksum"
)

// TestAWSChunkedExample checks the example of the S3 documentation "Signature
// Calculations for the Authorization Header: Transferring Payload in Multiple
// Chunks": a 65 KiB object of 'a's in a 64 KiB chunk, a 1 KiB chunk and the
// final empty chunk.
func TestAWSChunkedExample(t *testing.T) {
	const (
		seed   = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
		chunk1 = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
		chunk2 = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
		final  = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
	)
	build := func(sig1 string) *http.Request {
		var body bytes.Buffer
		fmt.Fprintf(&body, "10000;chunk-signature=%s\r\n%s\r\n", sig1, strings.Repeat("a", 65536))
		fmt.Fprintf(&body, "400;chunk-signature=%s\r\n%s\r\n", chunk2, strings.Repeat("a", 1024))
		fmt.Fprintf(&body, "0;chunk-signature=%s\r\n\r\n", final)
		if body.Len() != 66824 {
			t.Fatalf("example body is %d bytes", body.Len())
		}
		req, _ := http.NewRequest("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", &body)
		req.Header.Set("X-Amz-Date", "20130524T000000Z")
		req.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
		req.Header.Set("X-Amz-Content-Sha256", StreamingPayload)
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Decoded-Content-Length", "66560")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"+
			"SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"+
			"Signature="+seed)
		return req
	}
	now := time.Date(2013, 5, 24, 0, 5, 0, 0, time.UTC)
	v := newVerifier(&now)

	sr, err := verify(t, v, build(chunk1))
	if err != nil {
		t.Fatalf("seed signature: %v", err)
	}
	if sr.ContentLength != 66560 {
		t.Errorf("ContentLength %d", sr.ContentLength)
	}
	got, err := io.ReadAll(sr.Body)
	if err != nil {
		t.Fatalf("chunks: %v", err)
	}
	if len(got) != 66560 || strings.Trim(string(got), "a") != "" {
		t.Fatalf("decoded %d bytes", len(got))
	}
	if cr := sr.Body.(*ChunkedReader); cr.Decoded() != 66560 || len(cr.Trailer()) != 0 {
		t.Errorf("decoded %d trailer %v", cr.Decoded(), cr.Trailer())
	}

	// A wrong first chunk signature fails at the end of that chunk.
	bad := []byte(chunk1)
	bad[0] = 'b'
	sr, err = verify(t, v, build(string(bad)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(sr.Body)
	wantCode(t, err, "SignatureDoesNotMatch", 403)
}

func TestChunkedModes(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 9000) // 144000 bytes, 3 chunks
	crc := func(alg string, b []byte) string { s, _ := checksum.Sum(alg, b); return s }

	type tc struct {
		name, mode, trailerHeader string
		spec                      chunkSpec
		payload                   []byte
		tamper                    func([]byte) []byte
		code                      string
		status                    int
	}
	cases := []tc{
		{name: "signed", mode: StreamingPayload, spec: chunkSpec{signed: true, chunkSize: 65536}},
		{name: "signed empty", mode: StreamingPayload, spec: chunkSpec{signed: true, chunkSize: 65536}, payload: []byte{}},
		{name: "signed tampered data", mode: StreamingPayload, spec: chunkSpec{signed: true, chunkSize: 65536},
			tamper: func(b []byte) []byte { b[len(b)/2] ^= 1; return b }, code: "SignatureDoesNotMatch", status: 403},
		{name: "signed truncated", mode: StreamingPayload, spec: chunkSpec{signed: true, chunkSize: 65536},
			tamper: func(b []byte) []byte { return b[:len(b)-200] }, code: "IncompleteBody", status: 400},
		{name: "signed chunks reordered", mode: StreamingPayload, spec: chunkSpec{signed: true, chunkSize: 65536},
			tamper: func(b []byte) []byte {
				// swap the two full chunks (same size, valid framing)
				n := len(fmt.Sprintf("%x;chunk-signature=", 65536)) + 64 + 2 + 65536 + 2
				out := append([]byte{}, b[n:2*n]...)
				out = append(out, b[:n]...)
				return append(out, b[2*n:]...)
			}, code: "SignatureDoesNotMatch", status: 403},
		{name: "signed trailer", mode: StreamingPayloadTrailer, trailerHeader: "x-amz-checksum-crc32",
			spec: chunkSpec{signed: true, chunkSize: 65536, trailers: []string{"x-amz-checksum-crc32:" + crc("CRC32", payload)}}},
		{name: "signed trailer wrong checksum", mode: StreamingPayloadTrailer, trailerHeader: "x-amz-checksum-crc32",
			spec: chunkSpec{signed: true, chunkSize: 65536, trailers: []string{"x-amz-checksum-crc32:AAAAAA=="}}, code: "BadDigest", status: 400},
		{name: "signed trailer tampered", mode: StreamingPayloadTrailer, trailerHeader: "x-amz-checksum-crc32",
			spec: chunkSpec{signed: true, chunkSize: 65536, trailers: []string{"x-amz-checksum-crc32:" + crc("CRC32", payload)}},
			tamper: func(b []byte) []byte {
				return bytes.Replace(b, []byte("x-amz-checksum-crc32:"), []byte("x-amz-checksum-crc32: "), 1)
			}},
		{name: "signed trailer bad signature", mode: StreamingPayloadTrailer, trailerHeader: "x-amz-checksum-crc32",
			spec: chunkSpec{signed: true, chunkSize: 65536, trailers: []string{"x-amz-checksum-crc32:" + crc("CRC32", payload)}},
			tamper: func(b []byte) []byte {
				i := bytes.Index(b, []byte("x-amz-trailer-signature:")) + len("x-amz-trailer-signature:")
				b[i] ^= 1
				return b
			}, code: "SignatureDoesNotMatch", status: 403},
		{name: "unsigned trailer decoded length short", mode: StreamingUnsignedPayloadTrailer, trailerHeader: "x-amz-checksum-crc32c",
			spec: chunkSpec{chunkSize: 8192, trailers: []string{"x-amz-checksum-crc32c:" + crc("CRC32C", payload[:100])}}, payload: payload[:100],
			tamper: func(b []byte) []byte { return b }, code: "", status: 0},
		{name: "unsigned trailer missing", mode: StreamingUnsignedPayloadTrailer, trailerHeader: "x-amz-checksum-sha256",
			spec: chunkSpec{chunkSize: 8192, trailers: []string{}}, code: "MalformedTrailerError", status: 400},
		{name: "unsigned trailer malformed value", mode: StreamingUnsignedPayloadTrailer, trailerHeader: "x-amz-checksum-sha1",
			spec: chunkSpec{chunkSize: 8192, trailers: []string{"x-amz-checksum-sha1:xyz"}}, code: "InvalidRequest", status: 400},
	}
	for _, alg := range checksum.Algorithms() {
		h := checksum.Header(alg)
		cases = append(cases,
			tc{name: "unsigned trailer " + alg, mode: StreamingUnsignedPayloadTrailer, trailerHeader: h,
				spec: chunkSpec{chunkSize: 65536, trailers: []string{h + ":" + crc(alg, payload)}}},
			tc{name: "unsigned trailer wrong " + alg, mode: StreamingUnsignedPayloadTrailer, trailerHeader: h,
				spec: chunkSpec{chunkSize: 65536, trailers: []string{h + ":" + crc(alg, []byte("other"))}}, code: "BadDigest", status: 400})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := payload
			if c.payload != nil {
				p = c.payload
			}
			now := signTime
			v := newVerifier(&now)
			req := signedChunkedRequest(t, c.mode, p, c.spec, c.trailerHeader)
			sr := serverSide(t, req)
			if c.tamper != nil {
				// Tamper with the bytes as received, keeping the signed
				// Content-Length: a corrupted or cut-off stream.
				b, _ := io.ReadAll(sr.Body)
				sr.Body = io.NopCloser(bytes.NewReader(c.tamper(b)))
			}
			cred, err := Parse(sr)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(sr, cred); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := io.ReadAll(sr.Body)
			if c.code != "" {
				wantCode(t, err, c.code, c.status)
				if _, again := sr.Body.Read(make([]byte, 8)); again != err {
					t.Errorf("error not sticky: %v", again)
				}
				return
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !bytes.Equal(got, p) {
				t.Fatalf("decoded %d bytes, want %d", len(got), len(p))
			}
			cr := sr.Body.(*ChunkedReader)
			if c.trailerHeader != "" {
				if tr := cr.Trailer().Get(c.trailerHeader); tr == "" {
					t.Errorf("trailer %s missing: %v", c.trailerHeader, cr.Trailer())
				}
			}
			if cr.Trailer().Get("X-Amz-Trailer-Signature") != "" {
				t.Error("trailer signature exposed as a trailer")
			}
		})
	}
}

func TestChunkedDecodedLength(t *testing.T) {
	body := "5\r\nhello\r\n0\r\n\r\n"
	for _, c := range []struct {
		declared int64
		code     string
	}{{5, ""}, {-1, ""}, {6, "IncompleteBody"}, {4, "IncompleteBody"}} {
		cr := NewChunkedReader(strings.NewReader(body), ChunkedOptions{Trailers: true, DecodedLength: c.declared})
		got, err := io.ReadAll(cr)
		code, _ := awsCode(err)
		if code != c.code {
			t.Errorf("declared %d: %v", c.declared, err)
		}
		if c.code == "" && string(got) != "hello" {
			t.Errorf("declared %d: got %q", c.declared, got)
		}
	}
	// The closing CRLF of the trailer section may be missing.
	cr := NewChunkedReader(strings.NewReader("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg=="), ChunkedOptions{Trailers: true, TrailerNames: []string{"x-amz-checksum-crc32"}, DecodedLength: -1})
	if got, err := io.ReadAll(cr); err != nil || string(got) != "hello" {
		t.Errorf("lenient end: %q %v", got, err)
	}
	// Malformed framing.
	for _, bad := range []string{"zz\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX0\r\n\r\n", "-5\r\n", strings.Repeat("1", 5000)} {
		cr := NewChunkedReader(strings.NewReader(bad), ChunkedOptions{DecodedLength: -1})
		if _, err := io.ReadAll(cr); err == nil {
			t.Errorf("%.20q accepted", bad)
		} else if code, _ := awsCode(err); code == "" {
			t.Errorf("%.20q: non-AWS error %v", bad, err)
		}
	}
}

func FuzzChunkedReader(f *testing.F) {
	key := testSigningKey(testSecret, "20260102", "us-east-1", "s3")
	stamp, scope, seed := signTime.Format(TimeFormat), "20260102/us-east-1/s3/aws4_request", strings.Repeat("0", 64)
	f.Add(encodeChunked(chunkSpec{chunkSize: 3}, []byte("hello world"), nil, "", "", ""), false)
	f.Add(encodeChunked(chunkSpec{chunkSize: 4, trailers: []string{"x-amz-checksum-crc32:DUoRhQ=="}}, []byte("hello world"), nil, "", "", ""), false)
	f.Add(encodeChunked(chunkSpec{signed: true, chunkSize: 5}, []byte("hello world"), key, stamp, scope, seed), true)
	f.Add(encodeChunked(chunkSpec{signed: true, chunkSize: 5, trailers: []string{"x-amz-checksum-crc32:DUoRhQ=="}}, []byte("hello world"), key, stamp, scope, seed), true)
	f.Add([]byte("ffffffffffffff\r\n"), false)
	f.Add([]byte("0\r\n"+strings.Repeat("a:b\r\n", 40)), false)
	f.Fuzz(func(t *testing.T, body []byte, signed bool) {
		opt := ChunkedOptions{Signed: signed, Trailers: true, TrailerNames: []string{"x-amz-checksum-crc32"}, DecodedLength: -1}
		if signed {
			opt.SigningKey, opt.Time, opt.Scope, opt.Seed = key, stamp, scope, seed
		}
		cr := NewChunkedReader(bytes.NewReader(body), opt)
		n, err := io.Copy(io.Discard, cr)
		if n > int64(len(body)) {
			t.Fatalf("decoded %d bytes from %d", n, len(body))
		}
		if err != nil {
			if code, _ := awsCode(err); code == "" {
				t.Fatalf("non-AWS error %v", err)
			}
		}
	})
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd")
	f.Add("AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/s3/aws4_request, SignedHeaders=host, Signature=00")
	f.Add("AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;, Signature=")
	f.Add("AWS AKID:sig")
	f.Add("")
	f.Fuzz(func(t *testing.T, auth string) {
		c, err := ParseAuthorization(auth)
		if err == nil {
			if c == nil || c.AccessKey == "" || c.Service == "" || len(c.SignedHeaders) == 0 {
				t.Fatalf("accepted incomplete %q: %+v", auth, c)
			}
			return
		}
		if code, _ := awsCode(err); code == "" {
			t.Fatalf("non-AWS error %v", err)
		}
		// Verify must not panic on whatever Parse returns.
		if c != nil {
			now := signTime
			req, _ := http.NewRequest("GET", "http://h/", nil)
			req.Header.Set("Authorization", auth)
			_ = newVerifier(&now).Verify(req, c)
		}
	})
}
