package s3

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/xmlenc"
	"github.com/overcast-dev/overcast/internal/storage"
)

// hostKind is how a request addresses S3.
type hostKind int

const (
	hostPath       hostKind = iota // s3.<domain> or a bare endpoint: bucket in the path
	hostVirtual                    // <bucket>.s3.<domain>
	hostAccelerate                 // <bucket>.s3-accelerate.<domain>
	hostWebsite                    // <bucket>.s3-website[-.]<region>.<domain>
)

// parseHost finds the bucket named by a virtual-hosted, accelerate or
// website host name.
func parseHost(host string) (bucket string, kind hostKind) {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	host = strings.ToLower(host)
	for _, m := range []struct {
		sep  string
		kind hostKind
	}{{".s3-website", hostWebsite}, {".s3-accelerate.", hostAccelerate}, {".s3.", hostVirtual}} {
		if i := strings.Index(host, m.sep); i > 0 {
			return host[:i], m.kind
		}
	}
	return "", hostPath
}

// ServeHost implements service.Host: it rewrites virtual-hosted and
// accelerate requests to path style, and serves website endpoints, CORS
// preflight requests and browser POST uploads itself.
func (s *Service) ServeHost(w http.ResponseWriter, r *http.Request) bool {
	bucket, kind := parseHost(r.Host)
	switch kind {
	case hostWebsite:
		s.serveWebsite(w, r, bucket)
		return true
	case hostAccelerate:
		b := s.globalBucket(bucket)
		if b == nil || b.Accelerate != "Enabled" {
			writeError(w, r, 400, "InvalidRequest", "S3 Transfer Acceleration is not configured on this bucket")
			return true
		}
		fallthrough
	case hostVirtual:
		rewritePath(r, bucket)
	}
	// Path-style data-plane requests are S3's only when they name a bucket
	// that exists: other services' OPTIONS and form POSTs pass through.
	s3Host := kind != hostPath
	if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" {
		if b, _ := splitPath(r.URL.EscapedPath()); s3Host || s.globalBucket(b) != nil {
			return s.servePreflight(w, r)
		}
		return false
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") && r.URL.RawQuery == "" {
		if b, key := splitPath(r.URL.EscapedPath()); b != "" && key == "" && (s3Host || s.globalBucket(b) != nil) {
			return s.servePostUpload(w, r, b)
		}
	}
	if r.Header.Get("Origin") != "" {
		s.addCORSHeaders(w, r)
	}
	return false
}

// rewritePath turns /key on a bucket's host into /bucket/key.
func rewritePath(r *http.Request, bucket string) {
	raw := r.URL.EscapedPath()
	r.URL.Path = "/" + bucket + r.URL.Path
	if r.URL.RawPath != "" || raw != r.URL.Path {
		r.URL.RawPath = "/" + bucket + raw
	}
	if r.URL.Path == "/"+bucket+"/" && r.URL.RawPath == "" {
		r.URL.Path = "/" + bucket
	}
}

// splitPath splits an escaped path-style path into bucket and escaped key.
func splitPath(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

// globalBucket reads a bucket by name alone (data-plane requests carry no
// account).
func (s *Service) globalBucket(name string) *bucketRecord {
	if name == "" {
		return nil
	}
	var b bucketRecord
	var found bool
	s.kv.View(func(tx storage.Tx) error {
		var err error
		found, err = s.getBucket(tx, partitionScope("aws").Key(tagBucket, name), &b)
		return err
	})
	if !found {
		return nil
	}
	return &b
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	var xw xmlenc.Writer
	xw.Header()
	xw.Open("Error")
	xw.Element("Code", code)
	xw.Element("Message", msg)
	xw.Close("Error")
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xw.B)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(xw.B)
	}
}
