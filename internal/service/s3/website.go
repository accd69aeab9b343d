package s3

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// serveWebsite answers a request to a bucket's website endpoint: index and
// error documents, redirect-all, routing rules and per-object redirects.
func (s *Service) serveWebsite(w http.ResponseWriter, r *http.Request, bucket string) {
	b := s.globalBucket(bucket)
	if b == nil {
		websiteError(w, r, 404, "NoSuchBucket", "The specified bucket does not exist", bucket)
		return
	}
	v, ok := b.config("website")
	if !ok {
		websiteError(w, r, 404, "NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration", bucket)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		websiteError(w, r, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.", bucket)
		return
	}
	cfg, _ := v.(map[string]any)
	key := strings.TrimPrefix(r.URL.Path, "/")
	if ra, ok := cfg["RedirectAllRequestsTo"].(map[string]any); ok {
		proto := service.Str(ra, "Protocol")
		if proto == "" {
			proto = "http"
		}
		http.Redirect(w, r, proto+"://"+service.Str(ra, "HostName")+"/"+key, http.StatusMovedPermanently)
		return
	}
	suffix := "index.html"
	if idx, ok := cfg["IndexDocument"].(map[string]any); ok {
		suffix = service.Str(idx, "Suffix")
	}
	if redirectByRule(w, r, cfg, key, 0) {
		return
	}
	if key == "" || strings.HasSuffix(key, "/") {
		key += suffix
	}
	o, blob := s.websiteObject(b, key)
	if o == nil && !strings.HasSuffix(key, suffix) {
		// A "folder" without the slash redirects to the slash form.
		if io2, ib := s.websiteObject(b, key+"/"+suffix); io2 != nil {
			ib.Close()
			http.Redirect(w, r, "/"+key+"/", http.StatusFound)
			return
		}
	}
	if o == nil {
		if redirectByRule(w, r, cfg, key, 404) {
			return
		}
		if ed, ok := cfg["ErrorDocument"].(map[string]any); ok {
			if eo, eb := s.websiteObject(b, service.Str(ed, "Key")); eo != nil {
				writeObject(w, r, eo, eb, http.StatusNotFound)
				return
			}
		}
		websiteError(w, r, 404, "NoSuchKey", "The specified key does not exist.", bucket)
		return
	}
	if o.Redirect != "" {
		blob.Close()
		http.Redirect(w, r, o.Redirect, http.StatusMovedPermanently)
		return
	}
	writeObject(w, r, o, blob, http.StatusOK)
}

func (s *Service) websiteObject(b *bucketRecord, key string) (*objectRecord, storage.Blob) {
	var o objectRecord
	var found bool
	s.kv.View(func(tx storage.Tx) error {
		var err error
		found, err = getRec(tx, partitionScope(service.Partition(b.Region)).Key(tagObject, b.Name, key), &o)
		return err
	})
	if !found || o.DeleteMarker {
		return nil, nil
	}
	blob, err := s.openBody(&o)
	if err != nil {
		return nil, nil
	}
	return &o, blob
}

func writeObject(w http.ResponseWriter, r *http.Request, o *objectRecord, blob storage.Blob, status int) {
	defer blob.Close()
	h := w.Header()
	ct := o.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("ETag", o.ETag)
	h.Set("Last-Modified", o.Modified.Format(http.TimeFormat))
	h.Set("Content-Length", strconv.FormatInt(o.Size, 10))
	if o.Encoding != "" {
		h.Set("Content-Encoding", o.Encoding)
	}
	if o.CacheControl != "" {
		h.Set("Cache-Control", o.CacheControl)
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		io.Copy(w, &blobBody{blob: blob, n: o.Size})
	}
}

// redirectByRule applies the first matching routing rule.
func redirectByRule(w http.ResponseWriter, r *http.Request, cfg map[string]any, key string, code int) bool {
	for _, rule := range listOf(cfg["RoutingRules"]) {
		cond, _ := rule["Condition"].(map[string]any)
		if p := service.Str(cond, "KeyPrefixEquals"); p != "" && !strings.HasPrefix(key, p) {
			continue
		}
		if c := service.Str(cond, "HttpErrorCodeReturnedEquals"); c != "" {
			if strconv.Itoa(code) != c {
				continue
			}
		} else if code != 0 {
			continue
		}
		red, _ := rule["Redirect"].(map[string]any)
		newKey := key
		if k := service.Str(red, "ReplaceKeyWith"); k != "" {
			newKey = k
		} else if p, ok := red["ReplaceKeyPrefixWith"].(string); ok {
			newKey = p + strings.TrimPrefix(key, service.Str(cond, "KeyPrefixEquals"))
		}
		target := "/" + newKey
		if host := service.Str(red, "HostName"); host != "" {
			proto := service.Str(red, "Protocol")
			if proto == "" {
				proto = "http"
			}
			target = proto + "://" + host + target
		}
		status := http.StatusMovedPermanently
		if c, err := strconv.Atoi(service.Str(red, "HttpRedirectCode")); err == nil && c >= 300 && c < 400 {
			status = c
		}
		http.Redirect(w, r, target, status)
		return true
	}
	return false
}

func websiteError(w http.ResponseWriter, r *http.Request, status int, code, msg, bucket string) {
	body := "<html>\n<head><title>" + strconv.Itoa(status) + " " + http.StatusText(status) + "</title></head>\n<body>\n<h1>" +
		strconv.Itoa(status) + " " + http.StatusText(status) + "</h1>\n<ul>\n<li>Code: " + code + "</li>\n<li>Message: " + msg +
		"</li>\n<li>BucketName: " + url.PathEscape(bucket) + "</li>\n</ul>\n<hr/>\n</body>\n</html>\n"
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		io.WriteString(w, body)
	}
}
