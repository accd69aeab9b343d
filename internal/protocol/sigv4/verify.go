package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// MaxSkew is how far a request's time may be from the server's clock.
const MaxSkew = 15 * time.Minute

// DefaultMaxBodyBytes bounds the body a Verifier reads into memory to hash a
// non-S3 request that does not declare x-amz-content-sha256. It is large
// enough for a Lambda CreateFunction carrying a 50 MB zip in base64 JSON.
const DefaultMaxBodyBytes = 128 << 20

// emptySHA256 is the hex SHA-256 of no bytes.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

const keyCacheSize = 256

// msgSignatureMismatch is AWS's message for a wrong signature.
const msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// A Verifier checks SigV4 signatures. Secret must be set; the zero values of
// the other fields are usable. A Verifier is safe for concurrent use and must
// not be copied after first use.
type Verifier struct {
	// Secret returns the secret access key of accessKey, and false when the
	// key is unknown. It MUST be safe for concurrent use.
	Secret func(accessKey string) (secret string, ok bool)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxBodyBytes bounds the body read into memory to hash a non-S3
	// request without x-amz-content-sha256; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	mu   sync.Mutex
	keys map[keyID][32]byte // derived signing keys, bounded by keyCacheSize
}

type keyID struct{ secret, date, region, service string }

// Verify checks the signature of r against cred (from Parse), the request time
// and the declared payload hash. On success it may replace r.Body with a
// reader that keeps verifying as the body is read:
//
//   - a hex x-amz-content-sha256: the body's SHA-256 is compared at io.EOF
//     (XAmzContentSHA256Mismatch);
//   - STREAMING-* values: r.Body becomes a *ChunkedReader that strips the
//     aws-chunked framing, checks chunk signatures and trailing checksums,
//     and exposes the trailers; r.ContentLength becomes the decoded length
//     (x-amz-decoded-content-length), or -1 when it is not declared.
//
// For non-S3 requests without x-amz-content-sha256 the body is read (at most
// MaxBodyBytes) and r.Body is replaced by a reader over the same bytes.
// Request headers are never modified.
func (v *Verifier) Verify(r *http.Request, cred *Credential) error {
	if cred == nil {
		return awserr.WithStatus(http.StatusForbidden, awserr.CodeMissingAuthentication, "Missing Authentication Token")
	}
	s3 := cred.IsS3()
	if cred.Algorithm == AlgorithmECDSA {
		return awserr.WithStatus(http.StatusNotImplemented, awserr.CodeNotImplemented, "Signature Version 4A (AWS4-ECDSA-P256-SHA256) is not supported; sign with AWS4-HMAC-SHA256.")
	}
	secret, ok := "", false
	if v.Secret != nil {
		secret, ok = v.Secret(cred.AccessKey)
	}
	if !ok {
		if s3 {
			return &awserr.Error{Code: "InvalidAccessKeyId", Message: "The AWS Access Key Id you provided does not exist in our records.", Status: http.StatusForbidden, Fields: map[string]any{"AWSAccessKeyId": cred.AccessKey}}
		}
		return awserr.WithStatus(http.StatusForbidden, awserr.CodeInvalidClientTokenID, "The security token included in the request is invalid.")
	}

	stamp, err := v.checkTime(r, cred)
	if err != nil {
		return err
	}

	payload, checked, err := v.payloadHash(r, cred)
	if err != nil {
		return err
	}

	key := v.signingKey(secret, cred.Date, cred.Region, cred.Service)
	canonical := canonicalRequest(r, cred, payload)
	sts := stringToSign(stamp, cred.Scope(), canonical)
	want := signHex(key[:], sts)
	if subtle.ConstantTimeCompare([]byte(want), []byte(cred.Signature)) != 1 {
		return signatureMismatch(cred, string(sts), string(canonical))
	}
	if checked {
		return nil
	}
	switch payload {
	case UnsignedPayload:
	case StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer:
		return v.installChunked(r, cred, payload, key, stamp)
	default:
		if len(payload) == 64 && r.Body != nil && r.Body != http.NoBody {
			r.Body = &hashingBody{body: r.Body, h: sha256.New(), want: payload}
		} else if len(payload) == 64 && payload != emptySHA256 {
			return contentSHA256Mismatch()
		}
	}
	return nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// checkTime parses the request time, checks it against the scope date and the
// clock, and returns it with its ISO 8601 basic form for the string to sign.
func (v *Verifier) checkTime(r *http.Request, cred *Credential) (string, error) {
	s3 := cred.IsS3()
	stamp := cred.RequestTime
	var t time.Time
	var err error
	if stamp != "" {
		t, err = time.Parse(TimeFormat, stamp)
	} else if d := r.Header.Get("Date"); d != "" && !cred.Presigned {
		t, err = http.ParseTime(d)
		stamp = t.UTC().Format(TimeFormat)
	} else {
		err = errors.New("missing")
	}
	if err != nil {
		switch {
		case s3 && cred.Presigned:
			return "", awserr.New("AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
		case s3:
			return "", awserr.WithStatus(http.StatusForbidden, awserr.CodeAccessDenied, "AWS authentication requires a valid Date or x-amz-date header")
		default:
			return "", awserr.New(awserr.CodeIncompleteSignature, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
		}
	}
	t = t.UTC()
	if day := t.Format(DateFormat); day != cred.Date {
		switch {
		case s3 && cred.Presigned:
			return "", awserr.New("AuthorizationQueryParametersError", "Invalid credential date \"%s\". This date is not the same as X-Amz-Date: \"%s\".", cred.Date, day)
		case s3:
			return "", awserr.New("AuthorizationHeaderMalformed", "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.")
		default:
			return "", awserr.WithStatus(http.StatusForbidden, awserr.CodeSignatureDoesNotMatch, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", cred.Date, day, stamp)
		}
	}

	now := v.now().UTC()
	if s3 && cred.Presigned {
		if t.After(now.Add(MaxSkew)) {
			return "", awserr.WithStatus(http.StatusForbidden, awserr.CodeAccessDenied, "Request is not valid yet")
		}
		expiry := t.Add(time.Duration(cred.Expires) * time.Second)
		if now.After(expiry) {
			return "", &awserr.Error{Code: awserr.CodeAccessDenied, Message: "Request has expired", Status: http.StatusForbidden, Fields: map[string]any{
				"X-Amz-Expires": strconv.FormatInt(cred.Expires, 10),
				"Expires":       expiry.Format("2006-01-02T15:04:05Z"),
				"ServerTime":    now.Format("2006-01-02T15:04:05Z"),
			}}
		}
		return stamp, nil
	}
	skew := now.Sub(t)
	if skew <= MaxSkew && skew >= -MaxSkew {
		return stamp, nil
	}
	switch {
	case s3:
		return "", &awserr.Error{Code: awserr.CodeRequestTimeTooSkewed, Message: "The difference between the request time and the current time is too large.", Status: http.StatusForbidden, Fields: map[string]any{
			"RequestTime":                stamp,
			"ServerTime":                 now.Format("2006-01-02T15:04:05Z"),
			"MaxAllowedSkewMilliseconds": strconv.FormatInt(MaxSkew.Milliseconds(), 10),
		}}
	case cred.Service == "ec2":
		return "", awserr.New(awserr.CodeRequestExpired, "Request has expired.")
	case skew > 0:
		return "", awserr.WithStatus(http.StatusForbidden, awserr.CodeSignatureDoesNotMatch, "Signature expired: %s is now earlier than %s (%s - 15 min.)",
			stamp, now.Add(-MaxSkew).Format(TimeFormat), now.Format(TimeFormat))
	default:
		return "", awserr.WithStatus(http.StatusForbidden, awserr.CodeSignatureDoesNotMatch, "Signature not yet current: %s is still later than %s (%s + 15 min.)",
			stamp, now.Add(MaxSkew).Format(TimeFormat), now.Format(TimeFormat))
	}
}

// payloadHash returns the payload hash for the canonical request. For a
// non-S3 request without a declared hash it hashes (and restores) the body,
// returns the hash and checked=true: nothing is left to verify while reading.
func (v *Verifier) payloadHash(r *http.Request, cred *Credential) (hash string, checked bool, err error) {
	s3 := cred.IsS3()
	h := r.Header.Get("X-Amz-Content-Sha256")
	if cred.Presigned {
		if q := queryValue(r.URL.RawQuery, "X-Amz-Content-Sha256"); q != "" {
			h = q
		}
		if h == "" && s3 {
			return UnsignedPayload, false, nil
		}
	}
	if h == "" {
		if s3 {
			return "", false, awserr.New("InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
		}
		h, err := v.hashBody(r)
		return h, true, err
	}
	switch h {
	case UnsignedPayload, StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer:
		return h, false, nil
	}
	if len(h) == 64 && isLowerHex(h) {
		return h, false, nil
	}
	if s3 {
		return "", false, awserr.New("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid sha256 value.")
	}
	return h, false, nil // signed as sent; a wrong value fails the signature
}

func (v *Verifier) hashBody(r *http.Request) (string, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return emptySHA256, nil
	}
	limit := v.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.ContentLength > limit {
		return "", awserr.WithStatus(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Request must be smaller than %d bytes.", limit)
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1))
	r.Body.Close()
	if err != nil {
		return "", bodyReadError(err)
	}
	if n > limit {
		return "", awserr.WithStatus(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Request must be smaller than %d bytes.", limit)
	}
	body := buf.Bytes()
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), nil
}

// signingKey returns the derived key for the scope, from the cache when it
// can: deriving one costs four HMACs.
func (v *Verifier) signingKey(secret, date, region, service string) [32]byte {
	id := keyID{secret, date, region, service}
	v.mu.Lock()
	k, ok := v.keys[id]
	v.mu.Unlock()
	if ok {
		return k
	}
	k = deriveKey(secret, date, region, service)
	v.mu.Lock()
	if v.keys == nil {
		v.keys = make(map[keyID][32]byte)
	}
	if len(v.keys) >= keyCacheSize {
		for old := range v.keys { // evict an arbitrary entry
			delete(v.keys, old)
			break
		}
	}
	v.keys[id] = k
	v.mu.Unlock()
	return k
}

// deriveKey computes the SigV4 signing key for a scope.
func deriveKey(secret, date, region, service string) [32]byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	k = hmacSHA256(k, []byte("aws4_request"))
	var out [32]byte
	copy(out[:], k)
	return out
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func signHex(key []byte, data []byte) string {
	return hex.EncodeToString(hmacSHA256(key, data))
}

// stringToSign builds the AWS4-HMAC-SHA256 string to sign.
func stringToSign(stamp, scope string, canonical []byte) []byte {
	sum := sha256.Sum256(canonical)
	b := make([]byte, 0, len(AlgorithmHMAC)+len(stamp)+len(scope)+3+64)
	b = append(b, AlgorithmHMAC...)
	b = append(b, '\n')
	b = append(b, stamp...)
	b = append(b, '\n')
	b = append(b, scope...)
	b = append(b, '\n')
	return hex.AppendEncode(b, sum[:])
}

// canonicalRequest builds the SigV4 canonical request of r.
func canonicalRequest(r *http.Request, cred *Credential, payload string) []byte {
	b := make([]byte, 0, 512)
	b = append(b, r.Method...)
	b = append(b, '\n')
	path := rawPath(r)
	if cred.IsS3() {
		b = append(b, path...)
	} else {
		b = appendEscapedPath(b, path)
	}
	b = append(b, '\n')
	b = appendCanonicalQuery(b, r.URL.RawQuery, cred.Presigned)
	b = append(b, '\n')
	for _, name := range cred.SignedHeaders {
		b = append(b, name...)
		b = append(b, ':')
		b = appendHeaderValue(b, r, name)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, name := range cred.SignedHeaders {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	b = append(b, '\n')
	b = append(b, payload...)
	return b
}

// rawPath returns the request path exactly as the client sent it.
func rawPath(r *http.Request) string {
	if u := r.RequestURI; strings.HasPrefix(u, "/") {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return u
	}
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// appendEscapedPath URI-encodes path again, byte by byte, keeping '/', as the
// SDKs do for every service but S3.
func appendEscapedPath(b []byte, path string) []byte {
	if path == "" {
		return append(b, '/')
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c == '/' || unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}

const upperHex = "0123456789ABCDEF"

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

func appendURIEncode(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}

// appendCanonicalQuery appends the canonical query string: every name and
// value decoded then RFC 3986-encoded, sorted by name then value, with
// X-Amz-Signature left out of presigned requests.
func appendCanonicalQuery(b []byte, raw string, presigned bool) []byte {
	if raw == "" {
		return b
	}
	type pair struct{ k, v string }
	var pairs []pair
	var scratch []byte
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k = unescapeLenient(k)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		v = unescapeLenient(v)
		scratch = appendURIEncode(scratch[:0], k)
		ek := string(scratch)
		scratch = appendURIEncode(scratch[:0], v)
		pairs = append(pairs, pair{ek, string(scratch)})
	}
	slices.SortFunc(pairs, func(x, y pair) int {
		if c := strings.Compare(x.k, y.k); c != 0 {
			return c
		}
		return strings.Compare(x.v, y.v)
	})
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p.k...)
		b = append(b, '=')
		b = append(b, p.v...)
	}
	return b
}

func unescapeLenient(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// queryValue returns the first value of name in a raw query, without parsing
// the whole query into a map.
func queryValue(raw, name string) string {
	if !strings.Contains(raw, name) {
		return ""
	}
	for part := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		if unescapeLenient(k) == name {
			return unescapeLenient(v)
		}
	}
	return ""
}

// appendHeaderValue appends the canonical value of the signed header name:
// values trimmed, inner runs of spaces collapsed, joined with commas. Host,
// Content-Length and Transfer-Encoding come from where Go's server keeps them.
func appendHeaderValue(b []byte, r *http.Request, name string) []byte {
	switch name {
	case "host":
		host := r.Host
		if host == "" {
			host = r.URL.Host
		}
		return appendTrimmed(b, host)
	case "content-length":
		if v := r.Header.Values("Content-Length"); len(v) > 0 {
			return appendTrimmed(b, v[0])
		}
		if r.ContentLength >= 0 {
			return strconv.AppendInt(b, r.ContentLength, 10)
		}
		return b
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return append(b, strings.Join(r.TransferEncoding, ",")...)
		}
	}
	values := r.Header.Values(name)
	if values == nil {
		values = r.Header[name] // non-canonical key set by hand
	}
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTrimmed(b, v)
	}
	return b
}

// appendTrimmed appends s without leading and trailing whitespace and with
// each inner run of spaces reduced to one.
func appendTrimmed(b []byte, s string) []byte {
	s = strings.TrimSpace(s)
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b = append(b, c)
	}
	return b
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// signatureMismatch is SignatureDoesNotMatch with, for S3, the diagnostic
// fields S3 returns.
func signatureMismatch(cred *Credential, sts, canonical string) *awserr.Error {
	e := awserr.WithStatus(http.StatusForbidden, awserr.CodeSignatureDoesNotMatch, "%s", msgSignatureMismatch)
	if cred.IsS3() {
		e.Fields = map[string]any{
			"AWSAccessKeyId":        cred.AccessKey,
			"StringToSign":          sts,
			"SignatureProvided":     cred.Signature,
			"StringToSignBytes":     spacedHex([]byte(sts)),
			"CanonicalRequest":      canonical,
			"CanonicalRequestBytes": spacedHex([]byte(canonical)),
		}
	}
	return e
}

func spacedHex(b []byte) string {
	out := make([]byte, 0, len(b)*3)
	for i, c := range b {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
	}
	return string(out)
}

func contentSHA256Mismatch() *awserr.Error {
	return awserr.New("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
}

// bodyReadError turns a failure to read the request body into an AWS error.
func bodyReadError(err error) *awserr.Error {
	var ae *awserr.Error
	if errors.As(err, &ae) {
		return ae
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return awserr.WithStatus(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Request must be smaller than %d bytes.", tooBig.Limit)
	}
	return awserr.New("IncompleteBody", "The request body terminated unexpectedly")
}

// hashingBody passes the body through and compares its SHA-256 with the
// declared x-amz-content-sha256 at the end.
type hashingBody struct {
	body io.ReadCloser
	h    hash.Hash
	want string
	err  error
}

func (b *hashingBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.body.Read(p)
	b.h.Write(p[:n])
	switch {
	case err == io.EOF:
		var sum [sha256.Size]byte
		var got [64]byte
		hex.Encode(got[:], b.h.Sum(sum[:0]))
		if string(got[:]) != b.want {
			err = contentSHA256Mismatch()
		}
	case err != nil:
		err = bodyReadError(err)
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

func (b *hashingBody) Close() error { return b.body.Close() }
