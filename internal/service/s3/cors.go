package s3

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

// corsRule finds the first CORS rule of b allowing origin, method and the
// requested headers.
func corsRule(b *bucketRecord, origin, method string, headers []string) map[string]any {
	v, ok := b.config("cors")
	if !ok {
		return nil
	}
	doc, _ := v.(map[string]any)
	for _, r := range listOf(doc["CORSRules"]) {
		if !matchAny(service.Strings(r, "AllowedOrigins"), origin, false) {
			continue
		}
		if !matchAny(service.Strings(r, "AllowedMethods"), method, false) {
			continue
		}
		allowed := service.Strings(r, "AllowedHeaders")
		okHeaders := true
		for _, h := range headers {
			if h != "" && !matchAny(allowed, h, true) {
				okHeaders = false
				break
			}
		}
		if okHeaders {
			return r
		}
	}
	return nil
}

// matchAny matches s against patterns holding at most one '*' wildcard.
func matchAny(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p, s = strings.ToLower(p), strings.ToLower(s)
		}
		if p == "*" || p == s {
			return true
		}
		if pre, suf, ok := strings.Cut(p, "*"); ok && len(s) >= len(pre)+len(suf) && strings.HasPrefix(s, pre) && strings.HasSuffix(s, suf) {
			return true
		}
	}
	return false
}

func setCORSHeaders(h http.Header, rule map[string]any, origin string, requestHeaders string) {
	origins := service.Strings(rule, "AllowedOrigins")
	if len(origins) == 1 && origins[0] == "*" {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(service.Strings(rule, "AllowedMethods"), ", "))
	if requestHeaders != "" {
		h.Set("Access-Control-Allow-Headers", requestHeaders)
	}
	if exp := service.Strings(rule, "ExposeHeaders"); len(exp) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(exp, ", "))
	}
	if age, ok := service.Int(rule, "MaxAgeSeconds"); ok {
		h.Set("Access-Control-Max-Age", strconv.FormatInt(age, 10))
	}
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Add("Vary", "Access-Control-Request-Method")
}

// servePreflight answers a CORS preflight OPTIONS request.
func (s *Service) servePreflight(w http.ResponseWriter, r *http.Request) bool {
	bucket, _ := splitPath(r.URL.EscapedPath())
	b := s.globalBucket(bucket)
	if b == nil {
		if bucket == "" {
			return false
		}
		writeError(w, r, 404, "NoSuchBucket", "The specified bucket does not exist")
		return true
	}
	origin := r.Header.Get("Origin")
	method := r.Header.Get("Access-Control-Request-Method")
	if method == "" {
		writeError(w, r, 400, "BadRequest", "Insufficient information. Origin request header needed.")
		return true
	}
	if _, ok := b.config("cors"); !ok {
		writeError(w, r, 403, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.")
		return true
	}
	reqHeaders := r.Header.Get("Access-Control-Request-Headers")
	var hs []string
	for _, h := range strings.Split(reqHeaders, ",") {
		hs = append(hs, strings.TrimSpace(h))
	}
	rule := corsRule(b, origin, method, hs)
	if rule == nil {
		writeError(w, r, 403, "AccessForbidden", "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
		return true
	}
	setCORSHeaders(w.Header(), rule, origin, reqHeaders)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return true
}

// addCORSHeaders adds CORS response headers to an actual cross-origin
// request whose bucket allows it.
func (s *Service) addCORSHeaders(w http.ResponseWriter, r *http.Request) {
	bucket, _ := splitPath(r.URL.EscapedPath())
	b := s.globalBucket(bucket)
	if b == nil {
		return
	}
	if rule := corsRule(b, r.Header.Get("Origin"), r.Method, nil); rule != nil {
		setCORSHeaders(w.Header(), rule, r.Header.Get("Origin"), "")
	}
}
