package s3

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/xmlenc"
	"github.com/overcast-dev/overcast/internal/service"
)

// maxPostFields bounds the form fields before the file, and their size.
const (
	maxPostFields    = 64
	maxPostFieldSize = 64 << 10
)

// postPolicy is a decoded POST policy document.
type postPolicy struct {
	Expiration string `json:"expiration"`
	Conditions []any  `json:"conditions"`
}

// servePostUpload answers a browser POST upload (multipart/form-data with a
// signed policy) to a bucket.
func (s *Service) servePostUpload(w http.ResponseWriter, r *http.Request, bucket string) bool {
	if err := s.postUpload(w, r, bucket); err != nil {
		e := awserr.As(err)
		writeError(w, r, e.HTTPStatus(), e.Code, e.Message)
	}
	return true
}

func (s *Service) postUpload(w http.ResponseWriter, r *http.Request, bucket string) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return s3err(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
	}
	fields := map[string]string{}
	var order []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return s3err(400, "InvalidArgument", "POST requires exactly one file upload per request.", "ArgumentName", "file", "ArgumentValue", "0")
		}
		if err != nil {
			return s3err(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
		}
		name := part.FormName()
		if strings.EqualFold(name, "file") {
			defer part.Close()
			return s.postFile(w, r, bucket, fields, order, part, part.FileName())
		}
		if len(fields) >= maxPostFields {
			return s3err(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
		}
		b, err := io.ReadAll(io.LimitReader(part, maxPostFieldSize+1))
		part.Close()
		if err != nil || len(b) > maxPostFieldSize {
			return s3err(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
		}
		lname := strings.ToLower(name)
		if _, dup := fields[lname]; !dup {
			order = append(order, lname)
		}
		fields[lname] = string(b)
	}
}

func (s *Service) postFile(w http.ResponseWriter, r *http.Request, bucket string, fields map[string]string, order []string, file io.Reader, filename string) error {
	key := strings.ReplaceAll(fields["key"], "${filename}", filename)
	if key == "" {
		return s3err(400, "InvalidArgument", "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", "ArgumentName", "key", "ArgumentValue", "")
	}
	fields["key"] = key
	fields["bucket"] = bucket
	accessKey := ""
	if cred := fields["x-amz-credential"]; cred != "" {
		accessKey, _, _ = strings.Cut(cred, "/")
	} else if ak := fields["awsaccesskeyid"]; ak != "" {
		accessKey = ak
	}
	b := s.globalBucket(bucket)
	if b == nil {
		return errNoSuchBucket(bucket)
	}
	account := b.Account
	if s.secret != nil {
		if err := s.checkPostSignature(fields, accessKey); err != nil {
			return err
		}
		if s.account != nil {
			account = s.account(accessKey)
		}
	} else if accessKey != "" && s.account != nil {
		account = s.account(accessKey)
	}
	minLen, maxLen := int64(0), int64(-1)
	if p := fields["policy"]; p != "" {
		var err error
		minLen, maxLen, err = checkPolicy(p, fields, order, s.clk.Now())
		if err != nil {
			return err
		}
	}
	in := map[string]any{"Bucket": bucket, "Key": key}
	body := &limitedBody{r: file, max: maxLen}
	in["Body"] = io.Reader(body)
	for field, member := range map[string]string{"content-type": "ContentType", "cache-control": "CacheControl", "content-disposition": "ContentDisposition",
		"content-encoding": "ContentEncoding", "expires": "Expires", "x-amz-storage-class": "StorageClass", "x-amz-server-side-encryption": "ServerSideEncryption",
		"x-amz-website-redirect-location": "WebsiteRedirectLocation", "content-md5": "ContentMD5", "x-amz-checksum-crc32": "ChecksumCRC32",
		"x-amz-checksum-crc32c": "ChecksumCRC32C", "x-amz-checksum-crc64nvme": "ChecksumCRC64NVME", "x-amz-checksum-sha1": "ChecksumSHA1", "x-amz-checksum-sha256": "ChecksumSHA256"} {
		if v, ok := fields[field]; ok {
			in[member] = v
		}
	}
	meta := map[string]any{}
	for k, v := range fields {
		if m, ok := strings.CutPrefix(k, "x-amz-meta-"); ok {
			meta[m] = v
		}
	}
	if len(meta) > 0 {
		in["Metadata"] = meta
	}
	hreq := &http.Request{Method: http.MethodPost, Header: http.Header{}, Body: io.NopCloser(body), RemoteAddr: r.RemoteAddr, URL: r.URL}
	req := &service.Request{Context: r.Context(), Account: account, Region: b.Region, AccessKey: accessKey, RequestID: randomHex(8),
		Operation: "PutObject", Input: in, HTTP: hreq}
	if body.max >= 0 || minLen > 0 {
		body.min = minLen
	}
	out, err := s.putObjectAs(req, "ObjectCreated:Post")
	if err != nil {
		return err
	}
	etag, _ := out["ETag"].(string)
	location := "/" + bucket + "/" + url.PathEscape(key)
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Location", location)
	if v, ok := out["VersionId"].(string); ok {
		h.Set("X-Amz-Version-Id", v)
	}
	if redirect := fields["success_action_redirect"]; redirect != "" {
		if u, err := url.Parse(redirect); err == nil && u.Scheme != "" {
			q := u.Query()
			q.Set("bucket", bucket)
			q.Set("key", key)
			q.Set("etag", etag)
			u.RawQuery = q.Encode()
			http.Redirect(w, r, u.String(), http.StatusSeeOther)
			return nil
		}
	}
	switch fields["success_action_status"] {
	case "200":
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	case "201":
		var xw xmlenc.Writer
		xw.Header()
		xw.Open("PostResponse")
		xw.Element("Location", location)
		xw.Element("Bucket", bucket)
		xw.Element("Key", key)
		xw.Element("ETag", etag)
		xw.Close("PostResponse")
		h.Set("Content-Type", "application/xml")
		h.Set("Content-Length", strconv.Itoa(len(xw.B)))
		w.WriteHeader(http.StatusCreated)
		w.Write(xw.B)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// limitedBody enforces a policy's content-length-range while the file is
// stored.
type limitedBody struct {
	r        io.Reader
	min, max int64
	n        int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.max >= 0 && l.n > l.max {
		return n, s3err(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", "MaxSizeAllowed", strconv.FormatInt(l.max, 10))
	}
	if err == io.EOF && l.n < l.min {
		return n, s3err(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size", "MinSizeAllowed", strconv.FormatInt(l.min, 10))
	}
	return n, err
}

func (s *Service) checkPostSignature(fields map[string]string, accessKey string) error {
	denied := func(msg string) error { return s3err(403, "AccessDenied", msg) }
	policy := fields["policy"]
	if policy == "" || accessKey == "" {
		return denied("Access Denied")
	}
	secret, ok := s.secret(accessKey)
	if !ok {
		return s3err(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", "AWSAccessKeyId", accessKey)
	}
	if alg := fields["x-amz-algorithm"]; alg != "AWS4-HMAC-SHA256" {
		return errInvalidArgument("Only AWS4-HMAC-SHA256 is supported for POST uploads.", "x-amz-algorithm", alg)
	}
	parts := strings.Split(fields["x-amz-credential"], "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return errInvalidArgument("Invalid credential.", "x-amz-credential", fields["x-amz-credential"])
	}
	key := hmacSHA256([]byte("AWS4"+secret), parts[1])
	key = hmacSHA256(key, parts[2])
	key = hmacSHA256(key, parts[3])
	key = hmacSHA256(key, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(key, policy))
	if subtle.ConstantTimeCompare([]byte(want), []byte(fields["x-amz-signature"])) != 1 {
		return s3err(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// checkPolicy decodes a POST policy, checks its expiration and that every
// condition holds and every field is covered, and returns the
// content-length-range bounds (max -1 when unbounded).
func checkPolicy(encoded string, fields map[string]string, order []string, now time.Time) (int64, int64, error) {
	denied := func(msg string) error { return s3err(403, "AccessDenied", "Invalid according to Policy: "+msg) }
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return 0, 0, errInvalidPolicy("Invalid Policy: Invalid 'base64' encoding.")
	}
	var p postPolicy
	if err := json.Unmarshal(raw, &p); err != nil {
		return 0, 0, errInvalidPolicy("Invalid Policy: Invalid JSON.")
	}
	exp, err := time.Parse(time.RFC3339, p.Expiration)
	if err != nil {
		return 0, 0, errInvalidPolicy("Invalid Policy: Invalid 'expiration' value: '" + p.Expiration + "'")
	}
	if !now.Before(exp) {
		return 0, 0, denied("Policy expired.")
	}
	covered := map[string]bool{"policy": true, "x-amz-signature": true, "file": true, "awsaccesskeyid": true, "signature": true}
	minLen, maxLen := int64(0), int64(-1)
	for _, c := range p.Conditions {
		switch x := c.(type) {
		case map[string]any:
			for k, v := range x {
				want, _ := v.(string)
				name := strings.ToLower(k)
				covered[name] = true
				if fields[name] != want {
					return 0, 0, denied(fmt.Sprintf(`Policy Condition failed: ["eq", "$%s", "%s"]`, k, want))
				}
			}
		case []any:
			if len(x) != 3 {
				return 0, 0, errInvalidPolicy("Invalid Policy: Invalid Condition.")
			}
			op, _ := x[0].(string)
			if strings.EqualFold(op, "content-length-range") {
				lo, ok1 := x[1].(float64)
				hi, ok2 := x[2].(float64)
				if !ok1 || !ok2 {
					return 0, 0, errInvalidPolicy("Invalid Policy: Invalid content-length-range.")
				}
				minLen, maxLen = int64(lo), int64(hi)
				continue
			}
			field, _ := x[1].(string)
			want, _ := x[2].(string)
			name := strings.ToLower(strings.TrimPrefix(field, "$"))
			covered[name] = true
			switch strings.ToLower(op) {
			case "eq":
				if fields[name] != want {
					return 0, 0, denied(fmt.Sprintf(`Policy Condition failed: ["eq", "%s", "%s"]`, field, want))
				}
			case "starts-with":
				if !strings.HasPrefix(fields[name], want) {
					return 0, 0, denied(fmt.Sprintf(`Policy Condition failed: ["starts-with", "%s", "%s"]`, field, want))
				}
			default:
				return 0, 0, errInvalidPolicy("Invalid Policy: Invalid Condition.")
			}
		default:
			return 0, 0, errInvalidPolicy("Invalid Policy: Invalid Condition.")
		}
	}
	for _, f := range order {
		if !covered[f] && !strings.HasPrefix(f, "x-ignore-") && f != "bucket" {
			return 0, 0, denied("Extra input fields: " + f)
		}
	}
	return minLen, maxLen, nil
}

func errInvalidPolicy(msg string) error { return s3err(400, "InvalidPolicyDocument", msg) }
