// Package sigv4 verifies AWS Signature Version 4 on the server side: the
// Authorization header, presigned query strings, and aws-chunked bodies with
// signed chunks and (signed or unsigned) checksum trailers.
//
// The gateway calls Parse on every request: it is cheap (no cryptography) and
// yields the access key, region and signing name used for routing and for
// choosing the account. A Verifier then checks the signature, the request time
// and the payload hash, and replaces r.Body with a reader that validates the
// rest of the body as it is read (payload hash, chunk signatures, trailing
// checksums). Such failures surface from r.Body.Read as *awserr.Error at the
// end of the body at the latest, so a handler MUST read the body to io.EOF
// without error before it commits anything.
//
// Every client-visible failure is an *awserr.Error carrying the code and
// status AWS answers with; S3 (signing name "s3") has its own codes and they
// are used when the credential scope names S3.
//
// # Fidelity
//
//   - Only AWS4-HMAC-SHA256 is verified. SigV4a (AWS4-ECDSA-P256-SHA256) is
//     parsed for routing but Verify answers NotImplemented; SigV2 is rejected.
//   - Non-S3 presigned URLs are valid for 15 minutes around X-Amz-Date, as STS
//     does (it ignores X-Amz-Expires); S3 honours X-Amz-Expires up to 7 days.
//   - The minimum chunk size of 8 KiB for signed aws-chunked bodies is not
//     enforced.
//   - S3's rule that every x-amz-* header must be signed is not enforced.
package sigv4

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// Signing algorithms.
const (
	AlgorithmHMAC  = "AWS4-HMAC-SHA256"
	AlgorithmECDSA = "AWS4-ECDSA-P256-SHA256" // SigV4a
)

// Values of the x-amz-content-sha256 header other than a hex SHA-256.
const (
	UnsignedPayload                 = "UNSIGNED-PAYLOAD"
	StreamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	StreamingPayload                = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingPayloadTrailer         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
)

// Wire time formats.
const (
	TimeFormat = "20060102T150405Z"
	DateFormat = "20060102"
)

// ErrUnsigned is returned by Parse for a request that carries neither an
// Authorization header nor a presigned query string.
var ErrUnsigned = errors.New("sigv4: request is not signed")

// Credential is what a signed request says about itself, before any
// cryptographic check.
type Credential struct {
	// Algorithm is AlgorithmHMAC or AlgorithmECDSA.
	Algorithm string
	// AccessKey is the access key ID from the credential scope.
	AccessKey string
	// Date is the scope date, YYYYMMDD.
	Date string
	// Region is the scope region (for SigV4a, the X-Amz-Region-Set value).
	Region string
	// Service is the signing name, e.g. "s3", "sqs", "monitoring".
	Service string
	// SignedHeaders are the lower-case header names the client signed, in
	// the order given.
	SignedHeaders []string
	// Signature is the hex signature the client sent.
	Signature string
	// Presigned reports query-string authentication.
	Presigned bool
	// RequestTime is the raw X-Amz-Date (query or header) value, or "" when
	// the request dates itself only with the Date header.
	RequestTime string
	// Expires is X-Amz-Expires in seconds for presigned requests, else 0.
	Expires int64
	// SessionToken is X-Amz-Security-Token (header or query), if any.
	SessionToken string
}

// Scope returns the credential scope "date/region/service/aws4_request".
func (c *Credential) Scope() string {
	return c.Date + "/" + c.Region + "/" + c.Service + "/aws4_request"
}

// IsS3 reports whether the request is signed for S3, whose error codes differ
// from the other services'.
func (c *Credential) IsS3() bool { return c.Service == "s3" }

// Parse extracts the credential of a SigV4-signed request from its
// Authorization header or presigned query string. It does no cryptography.
//
// It returns ErrUnsigned for an unsigned request. For a malformed signature it
// returns an *awserr.Error (S3's codes when the scope names S3) together with
// a Credential holding whatever could be read — at least Service when the
// scope was readable — so the caller can route the error to the right codec.
func Parse(r *http.Request) (*Credential, error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		return parseHeader(r, auth)
	}
	raw := r.URL.RawQuery
	if raw == "" || !strings.Contains(raw, "X-Amz-") {
		return nil, ErrUnsigned
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		q = lenientQuery(raw)
	}
	if q.Get("X-Amz-Algorithm") == "" && q.Get("X-Amz-Credential") == "" && q.Get("X-Amz-Signature") == "" {
		return nil, ErrUnsigned
	}
	return parseQuery(r, q)
}

// ParseAuthorization parses an Authorization header value. It is Parse
// without a request, for callers that hold only the header.
func ParseAuthorization(auth string) (*Credential, error) {
	r := &http.Request{Header: http.Header{}, URL: &url.URL{}}
	return parseHeader(r, auth)
}

func parseHeader(r *http.Request, auth string) (*Credential, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(auth), " ")
	c := &Credential{Algorithm: alg, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	var credential, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			credential, haveCred = v, true
		case "SignedHeaders":
			signed, haveSigned = v, true
		case "Signature":
			sig, haveSig = v, true
		}
	}
	c.Service = guessService(credential)
	s3 := c.IsS3()
	switch alg {
	case AlgorithmHMAC, AlgorithmECDSA:
	default:
		if s3 || alg == "AWS" {
			// S3 answers SigV2 and unknown schemes alike.
			return c, awserr.New("InvalidArgument", "Unsupported Authorization Type")
		}
		return c, awserr.New(awserr.CodeIncompleteSignature, "Unsupported AWS 'algorithm': '%s'.", alg)
	}
	if !haveCred || !haveSigned || !haveSig {
		if s3 {
			return c, awserr.New("AuthorizationHeaderMalformed", "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.")
		}
		var msg strings.Builder
		if !haveCred {
			msg.WriteString("Authorization header requires 'Credential' parameter. ")
		}
		if !haveSig {
			msg.WriteString("Authorization header requires 'Signature' parameter. ")
		}
		if !haveSigned {
			msg.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
		}
		msg.WriteString("Authorization=" + auth)
		return c, awserr.New(awserr.CodeIncompleteSignature, "%s", msg.String())
	}
	if err := c.setScope(credential, r.Header.Get("X-Amz-Region-Set"), false); err != nil {
		return c, err
	}
	c.SignedHeaders = splitSigned(signed)
	c.Signature = sig
	c.RequestTime = r.Header.Get("X-Amz-Date")
	if len(c.SignedHeaders) == 0 || sig == "" {
		if s3 {
			return c, awserr.New("AuthorizationHeaderMalformed", "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.")
		}
		return c, awserr.New(awserr.CodeIncompleteSignature, "Authorization header requires 'Signature' and 'SignedHeaders' values. Authorization=%s", auth)
	}
	return c, nil
}

func parseQuery(r *http.Request, q url.Values) (*Credential, error) {
	c := &Credential{Presigned: true, Algorithm: q.Get("X-Amz-Algorithm")}
	credential := q.Get("X-Amz-Credential")
	c.Service = guessService(credential)
	s3 := c.IsS3()
	c.SessionToken = q.Get("X-Amz-Security-Token")
	if c.SessionToken == "" {
		c.SessionToken = r.Header.Get("X-Amz-Security-Token")
	}
	required := []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders"}
	if s3 {
		required = append(required, "X-Amz-Expires")
	}
	var missing []string
	for _, k := range required {
		if q.Get(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		if s3 {
			return c, awserr.New("AuthorizationQueryParametersError", "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
		}
		var msg strings.Builder
		for _, k := range missing {
			msg.WriteString("AWS query-string parameters must include '" + k + "'. ")
		}
		msg.WriteString("Re-examine the query-string parameters.")
		return c, awserr.New(awserr.CodeIncompleteSignature, "%s", msg.String())
	}
	switch c.Algorithm {
	case AlgorithmHMAC, AlgorithmECDSA:
	default:
		if s3 {
			return c, awserr.New("AuthorizationQueryParametersError", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256\"")
		}
		return c, awserr.New(awserr.CodeIncompleteSignature, "Unsupported AWS 'algorithm': '%s'.", c.Algorithm)
	}
	regionSet := q.Get("X-Amz-Region-Set")
	if regionSet == "" {
		regionSet = r.Header.Get("X-Amz-Region-Set")
	}
	if err := c.setScope(credential, regionSet, true); err != nil {
		return c, err
	}
	c.SignedHeaders = splitSigned(q.Get("X-Amz-SignedHeaders"))
	c.Signature = q.Get("X-Amz-Signature")
	c.RequestTime = q.Get("X-Amz-Date")
	if e := q.Get("X-Amz-Expires"); e != "" {
		n, err := strconv.ParseInt(e, 10, 64)
		switch {
		case err != nil:
			if s3 {
				return c, awserr.New("AuthorizationQueryParametersError", "X-Amz-Expires should be a number")
			}
			return c, awserr.New(awserr.CodeIncompleteSignature, "X-Amz-Expires should be a number")
		case n < 0:
			if s3 {
				return c, awserr.New("AuthorizationQueryParametersError", "X-Amz-Expires must be non-negative")
			}
			return c, awserr.New(awserr.CodeIncompleteSignature, "X-Amz-Expires must be non-negative")
		case n > 604800:
			if s3 {
				return c, awserr.New("AuthorizationQueryParametersError", "X-Amz-Expires must be less than a week (in seconds) that is 604800")
			}
			return c, awserr.New(awserr.CodeIncompleteSignature, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
		c.Expires = n
	}
	return c, nil
}

// setScope fills AccessKey, Date, Region and Service from a credential
// "AKID/date/region/service/aws4_request" (SigV4a: "AKID/date/service/aws4_request",
// region from the region set).
func (c *Credential) setScope(credential, regionSet string, presigned bool) error {
	parts := strings.Split(credential, "/")
	want := 5
	if c.Algorithm == AlgorithmECDSA {
		want = 4
	}
	if len(parts) != want || parts[0] == "" || len(parts[1]) != 8 || !digits(parts[1]) || parts[want-2] == "" || (want == 5 && parts[2] == "") {
		return c.scopeError(credential, presigned, len(parts))
	}
	if parts[want-1] != "aws4_request" {
		if c.IsS3() {
			if presigned {
				return awserr.New("AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter; incorrect terminal \"%s\". This endpoint uses \"aws4_request\".", parts[want-1])
			}
			return awserr.New("AuthorizationHeaderMalformed", "The authorization header is malformed; incorrect terminal \"%s\". This endpoint uses \"aws4_request\".", parts[want-1])
		}
		return awserr.New(awserr.CodeIncompleteSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", parts[want-1])
	}
	c.AccessKey, c.Date = parts[0], parts[1]
	if want == 5 {
		c.Region, c.Service = parts[2], parts[3]
	} else {
		c.Region, c.Service = regionSet, parts[2]
	}
	return nil
}

func (c *Credential) scopeError(credential string, presigned bool, n int) error {
	if c.IsS3() {
		if presigned {
			return awserr.New("AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
		}
		return awserr.New("AuthorizationHeaderMalformed", "The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	return awserr.New(awserr.CodeIncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", credential)
}

// guessService reads the signing name out of a possibly malformed credential
// so that errors can be answered in the right service's terms.
func guessService(credential string) string {
	parts := strings.Split(credential, "/")
	switch {
	case len(parts) >= 5:
		return parts[3]
	case len(parts) == 4:
		return parts[2] // SigV4a
	}
	return ""
}

func splitSigned(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// lenientQuery parses a query string that url.ParseQuery rejected (for
// example one containing ';'), keeping the pairs that decode.
func lenientQuery(raw string) url.Values {
	q := url.Values{}
	for pair := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 == nil && err2 == nil && k != "" {
			q.Add(k, v)
		}
	}
	return q
}
