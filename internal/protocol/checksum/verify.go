package checksum

import (
	"bytes"
	"hash"
	"io"
	"net/http"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// Reader passes a body through while computing a checksum, and fails at the
// end of the body if the checksum differs from the one the client declared.
// Callers MUST read to io.EOF without error before committing what they read.
type Reader struct {
	r    io.Reader
	h    hash.Hash
	alg  string
	want []byte
	err  error
}

// Verifying wraps r so that reading it to the end checks the body against
// expected, the wire value (base64) of alg — what a client sends in
// x-amz-checksum-<alg>, or in Content-MD5 when alg is "MD5". A malformed
// expected value is reported now: InvalidDigest for Content-MD5, InvalidRequest
// for x-amz-checksum-*. A mismatch is reported by Read at the end of the body
// as BadDigest (400).
func Verifying(r io.Reader, alg, expected string) (*Reader, error) {
	name, ok := Canonical(alg)
	if !ok {
		return nil, awserr.New("InvalidRequest", "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
	}
	want, ok := Decode(name, expected)
	if !ok {
		if name == MD5 {
			return nil, awserr.New("InvalidDigest", "The Content-MD5 you specified was invalid.")
		}
		return nil, awserr.New("InvalidRequest", "Value for %s header is invalid.", Header(name))
	}
	return &Reader{r: r, h: newHash(name), alg: name, want: want}, nil
}

// Read implements io.Reader. At the end of the underlying body it returns
// io.EOF if the checksum matches, or a *awserr.Error (BadDigest) if not; any
// later Read returns the same error.
func (v *Reader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		if !bytes.Equal(v.h.Sum(nil), v.want) {
			err = mismatch(v.alg)
		}
	}
	if err != nil {
		v.err = err
	}
	return n, err
}

// Close closes the underlying reader if it is an io.Closer.
func (v *Reader) Close() error {
	if c, ok := v.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Algorithm returns the upper-case algorithm name being verified.
func (v *Reader) Algorithm() string { return v.alg }

// Sum returns the wire value (base64) of the checksum of the bytes read so far;
// after io.EOF it is the checksum of the whole body.
func (v *Reader) Sum() string { return Encode(v.h.Sum(nil)) }

// Mismatch returns the error S3 answers when a body does not match its
// declared alg checksum: BadDigest (400) with S3's message.
func Mismatch(alg string) *awserr.Error { return mismatch(alg) }

func mismatch(alg string) *awserr.Error {
	name, _ := Canonical(alg)
	if name == MD5 {
		return &awserr.Error{Code: "BadDigest", Message: "The Content-MD5 you specified did not match what we received.", Status: http.StatusBadRequest}
	}
	return &awserr.Error{Code: "BadDigest", Message: "The " + name + " you specified did not match the calculated checksum.", Status: http.StatusBadRequest}
}
