package sigv4

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/checksum"
)

// Limits of the aws-chunked framing; a line longer than the buffer or more
// trailers than maxTrailers is malformed.
const (
	chunkedBufferSize = 4096
	maxTrailers       = 16
)

// ChunkedOptions configure a ChunkedReader.
type ChunkedOptions struct {
	// Signed requires a chunk-signature on every chunk and, with Trailers,
	// an x-amz-trailer-signature (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]).
	Signed bool
	// SigningKey, Time (ISO 8601 basic), Scope and Seed (the request's own
	// signature) chain the chunk signatures; used only when Signed.
	SigningKey []byte
	Time       string
	Scope      string
	Seed       string
	// Trailers says trailing headers follow the final chunk (the -TRAILER
	// variants).
	Trailers bool
	// TrailerNames are the names announced in x-amz-trailer. Each
	// x-amz-checksum-* among them MUST arrive and match the decoded body.
	TrailerNames []string
	// DecodedLength is x-amz-decoded-content-length, or -1 when unknown.
	DecodedLength int64
}

// A ChunkedReader decodes an aws-chunked body: it yields the payload without
// framing, checks chunk signatures, the trailer signature, the trailing
// checksums and the decoded length, and reports any failure as an
// *awserr.Error from Read, at the end of the offending chunk or at the end of
// the body. Only a Read returning io.EOF means the body was whole and genuine.
type ChunkedReader struct {
	body io.Reader
	br   *bufio.Reader
	opt  ChunkedOptions

	prevSig   string    // signature of the previous chunk (seed at first)
	chunkSig  string    // declared signature of the current chunk
	chunkHash hash.Hash // SHA-256 of the current chunk's data (Signed only)
	left      int64     // data bytes left in the current chunk
	started   bool      // a chunk header has been read
	decoded   int64

	sums    map[string]hash.Hash // trailing checksum algorithm → running hash
	trailer http.Header
	err     error
}

// NewChunkedReader returns a reader that decodes the aws-chunked body.
func NewChunkedReader(body io.Reader, opt ChunkedOptions) *ChunkedReader {
	c := &ChunkedReader{body: body, br: bufio.NewReaderSize(body, chunkedBufferSize), opt: opt, prevSig: opt.Seed}
	if opt.Signed {
		c.chunkHash = sha256.New()
	}
	for _, name := range opt.TrailerNames {
		if alg, ok := checksum.FromHeader(strings.TrimSpace(name)); ok {
			if c.sums == nil {
				c.sums = make(map[string]hash.Hash)
			}
			h, _ := checksum.New(alg)
			c.sums[alg] = h
		}
	}
	return c
}

// Trailer returns the trailing headers received (checksums, without
// x-amz-trailer-signature), with canonical keys. It is nil until Read has
// returned io.EOF.
func (c *ChunkedReader) Trailer() http.Header {
	if c.err != io.EOF {
		return nil
	}
	return c.trailer
}

// Decoded returns the number of payload bytes read so far.
func (c *ChunkedReader) Decoded() int64 { return c.decoded }

// Close closes the underlying body if it is an io.Closer.
func (c *ChunkedReader) Close() error {
	if cl, ok := c.body.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// Read implements io.Reader.
func (c *ChunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for c.left == 0 {
		if err := c.next(); err != nil {
			c.err = err
			return 0, err
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	c.decoded += int64(n)
	if c.chunkHash != nil {
		c.chunkHash.Write(p[:n])
	}
	for _, h := range c.sums {
		h.Write(p[:n])
	}
	if c.opt.DecodedLength >= 0 && c.decoded > c.opt.DecodedLength {
		err = awserr.New("IncompleteBody", "The decoded body is longer than x-amz-decoded-content-length (%d bytes).", c.opt.DecodedLength)
	}
	if err == io.EOF {
		err = incompleteBody()
	} else if err != nil {
		err = bodyReadError(err)
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

// next finishes the current chunk and reads the next chunk header; at the
// final chunk it reads the trailers and returns io.EOF if all is well.
func (c *ChunkedReader) next() error {
	if c.started {
		var crlf [2]byte
		if _, err := io.ReadFull(c.br, crlf[:]); err != nil {
			return truncated(err)
		}
		if crlf != [2]byte{'\r', '\n'} {
			return malformedChunk("chunk data not followed by CRLF")
		}
		if c.opt.Signed {
			if err := c.checkChunk(c.chunkHash.Sum(nil)); err != nil {
				return err
			}
		}
	}
	c.started = true
	line, err := c.readLine()
	if err != nil {
		return truncated(err)
	}
	sizeField, ext, _ := strings.Cut(line, ";")
	size, ok := parseChunkSize(strings.TrimSpace(sizeField))
	if !ok {
		return malformedChunk("invalid chunk size")
	}
	if c.opt.Signed {
		sig, ok := chunkSignature(ext)
		if !ok {
			return chunkSignatureMismatch()
		}
		c.chunkSig = sig
		c.chunkHash.Reset()
	}
	if size == 0 {
		return c.finish()
	}
	c.left = size
	return nil
}

// checkChunk verifies the current chunk's signature given its data hash and
// advances the chain.
func (c *ChunkedReader) checkChunk(sum []byte) error {
	b := make([]byte, 0, 256)
	b = append(b, "AWS4-HMAC-SHA256-PAYLOAD\n"...)
	b = append(b, c.opt.Time...)
	b = append(b, '\n')
	b = append(b, c.opt.Scope...)
	b = append(b, '\n')
	b = append(b, c.prevSig...)
	b = append(b, '\n')
	b = append(b, emptySHA256...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, sum)
	want := signHex(c.opt.SigningKey, b)
	if subtle.ConstantTimeCompare([]byte(want), []byte(c.chunkSig)) != 1 {
		return chunkSignatureMismatch()
	}
	c.prevSig = want
	return nil
}

// finish handles the final zero-length chunk: its signature, the trailers,
// the trailing checksums and the decoded length.
func (c *ChunkedReader) finish() error {
	if c.opt.Signed {
		empty := sha256.Sum256(nil)
		if err := c.checkChunk(empty[:]); err != nil {
			return err
		}
	}
	c.trailer = http.Header{}
	var trailerSig string
	var canonical []string
	for i := 0; ; i++ {
		line, err := c.readLine()
		if err == io.EOF && line == "" {
			break // the closing CRLF may be missing
		}
		if err != nil && err != io.EOF {
			return truncated(err)
		}
		if line == "" {
			break
		}
		if !c.opt.Trailers || i >= maxTrailers {
			return malformedTrailer()
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if !ok || name == "" {
			return malformedTrailer()
		}
		if name == "x-amz-trailer-signature" {
			trailerSig = value
		} else {
			c.trailer.Add(name, value)
			canonical = append(canonical, name+":"+value+"\n")
		}
		if err == io.EOF {
			break
		}
	}
	if c.opt.Signed && c.opt.Trailers {
		slices.Sort(canonical)
		sum := sha256.Sum256([]byte(strings.Join(canonical, "")))
		b := make([]byte, 0, 256)
		b = append(b, "AWS4-HMAC-SHA256-TRAILER\n"...)
		b = append(b, c.opt.Time...)
		b = append(b, '\n')
		b = append(b, c.opt.Scope...)
		b = append(b, '\n')
		b = append(b, c.prevSig...)
		b = append(b, '\n')
		b = hex.AppendEncode(b, sum[:])
		want := signHex(c.opt.SigningKey, b)
		if subtle.ConstantTimeCompare([]byte(want), []byte(trailerSig)) != 1 {
			return chunkSignatureMismatch()
		}
	}
	for alg, h := range c.sums {
		header := checksum.Header(alg)
		value := c.trailer.Get(header)
		if value == "" {
			return malformedTrailer()
		}
		want, ok := checksum.Decode(alg, value)
		if !ok {
			return awserr.New("InvalidRequest", "Value for %s trailing header is invalid.", header)
		}
		if !bytes.Equal(h.Sum(nil), want) {
			return checksum.Mismatch(alg)
		}
	}
	if c.opt.DecodedLength >= 0 && c.decoded != c.opt.DecodedLength {
		return incompleteBody()
	}
	return io.EOF
}

// readLine reads one CRLF- (or LF-) terminated line without its terminator.
// At the end of the body it returns what it read with io.EOF.
func (c *ChunkedReader) readLine() (string, error) {
	line, err := c.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return "", malformedChunk("line too long")
	}
	if err != nil && err != io.EOF {
		return "", err
	}
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	return string(line), err
}

func parseChunkSize(s string) (int64, bool) {
	if s == "" || len(s) > 15 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 16, 64)
	return n, err == nil
}

func chunkSignature(ext string) (string, bool) {
	for part := range strings.SplitSeq(ext, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && k == "chunk-signature" {
			return v, true
		}
	}
	return "", false
}

// installChunked replaces r.Body with a ChunkedReader for a STREAMING-*
// payload.
func (v *Verifier) installChunked(r *http.Request, cred *Credential, payload string, key [32]byte, stamp string) error {
	decoded := int64(-1)
	if d := r.Header.Get("X-Amz-Decoded-Content-Length"); d != "" {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil || n < 0 {
			return awserr.New("InvalidArgument", "x-amz-decoded-content-length must be a non-negative integer.")
		}
		decoded = n
	}
	var names []string
	for _, v := range r.Header.Values("X-Amz-Trailer") {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
	}
	opt := ChunkedOptions{
		Signed:        payload != StreamingUnsignedPayloadTrailer,
		Trailers:      payload != StreamingPayload,
		TrailerNames:  names,
		DecodedLength: decoded,
	}
	if opt.Signed {
		opt.SigningKey = key[:]
		opt.Time = stamp
		opt.Scope = cred.Scope()
		opt.Seed = cred.Signature
	}
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	r.Body = NewChunkedReader(body, opt)
	r.ContentLength = decoded
	return nil
}

// StripAWSChunked removes "aws-chunked" from a Content-Encoding value, as S3
// does before storing it ("gzip,aws-chunked" → "gzip").
func StripAWSChunked(contentEncoding string) string {
	var kept []string
	for part := range strings.SplitSeq(contentEncoding, ",") {
		if p := strings.TrimSpace(part); p != "" && !strings.EqualFold(p, "aws-chunked") {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ",")
}

func chunkSignatureMismatch() *awserr.Error {
	return awserr.WithStatus(http.StatusForbidden, awserr.CodeSignatureDoesNotMatch, "%s", msgSignatureMismatch)
}

func incompleteBody() *awserr.Error {
	return awserr.New("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header")
}

func malformedChunk(detail string) *awserr.Error {
	return awserr.New("InvalidRequest", "Malformed aws-chunked encoding: %s.", detail)
}

func malformedTrailer() *awserr.Error {
	return awserr.New("MalformedTrailerError", "The request contained trailing data that was not well-formed or did not conform to our published schema.")
}

// truncated maps a read failure inside the framing to an AWS error.
func truncated(err error) *awserr.Error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return incompleteBody()
	}
	return bodyReadError(err)
}

var _ io.ReadCloser = (*ChunkedReader)(nil)

// Unchunk strips the aws-chunked framing from r's body when the request
// declares a STREAMING-* x-amz-content-sha256 and Verify has not already
// done so (the gateway verifies only when authentication is on). Chunk and
// trailer signatures are not checked, but trailing checksums and the decoded
// length are, exactly as Verify's reader does. It returns r.Body, which is a
// *ChunkedReader whenever the body was framed.
func Unchunk(r *http.Request) (io.ReadCloser, error) {
	if _, ok := r.Body.(*ChunkedReader); ok {
		return r.Body, nil
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	switch payload {
	case StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer:
	default:
		return r.Body, nil
	}
	decoded := int64(-1)
	if d := r.Header.Get("X-Amz-Decoded-Content-Length"); d != "" {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil || n < 0 {
			return nil, awserr.New("InvalidArgument", "x-amz-decoded-content-length must be a non-negative integer.")
		}
		decoded = n
	}
	var names []string
	for _, v := range r.Header.Values("X-Amz-Trailer") {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
	}
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	r.Body = NewChunkedReader(body, ChunkedOptions{
		Trailers:      payload != StreamingPayload,
		TrailerNames:  names,
		DecodedLength: decoded,
	})
	r.ContentLength = decoded
	return r.Body, nil
}
