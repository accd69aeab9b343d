package lambda

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/service"
)

// URLAuthenticator verifies the SigV4 signature of a request to a function
// URL whose AuthType is AWS_IAM and returns the caller's access key and
// account. It returns an error when the request is unsigned or the
// signature does not verify.
type URLAuthenticator func(r *http.Request) (accessKey, account string, err error)

// WithURLAuthenticator sets how AWS_IAM function URLs authenticate callers
// (default: every AWS_IAM request is refused).
func WithURLAuthenticator(a URLAuthenticator) Option { return func(s *Service) { s.urlAuth = a } }

// urlTarget is what a URL id resolves to.
type urlTarget struct {
	fn        fnKey
	qualifier string
}

const urlTimeFormat = "2006-01-02T15:04:05.000000Z"

// urlHostSuffix is the part of a function URL's host after the region.
const urlHostSuffix = ".localhost"

// indexURLs replaces old's function URLs in the index with f's. The caller
// holds s.mu.
func (s *Service) indexURLs(old, f *function) {
	if old != nil {
		for _, u := range old.URLs {
			delete(s.urls, u.ID)
		}
	}
	if f != nil {
		for q, u := range f.URLs {
			s.urls[u.ID] = urlTarget{f.key(), q}
		}
	}
}

func newURLID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [32]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// functionURL is the URL clients reach a function URL at: its own host
// under localhost, on the port the API was reached at.
func (s *Service) functionURL(region, id string) string {
	port := ""
	if h := s.lastHost.Get(); h != "" {
		if _, p, err := net.SplitHostPort(h); err == nil {
			port = ":" + p
		}
	}
	return "http://" + id + ".lambda-url." + region + urlHostSuffix + port + "/"
}

// urlRef parses FunctionName and Qualifier of a function URL operation:
// the qualifier is $LATEST (or none) or an alias, never a version.
func urlRef(r *service.Request) (fnRef, string, error) {
	q := service.Str(r.Input, "Qualifier")
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), q)
	if err != nil {
		return ref, "", err
	}
	if ref.qualifier != "" && ref.qualifier != latest {
		if _, err := strconv.Atoi(ref.qualifier); err == nil {
			return ref, "", errValidation(ref.qualifier, "qualifier", "Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)")
		}
	}
	key := ref.qualifier
	if key == latest {
		key = ""
	}
	return ref, key, nil
}

func validAuthType(v string) error {
	if v != "NONE" && v != "AWS_IAM" {
		return errValidation(v, "authType", "Member must satisfy enum value set: [NONE, AWS_IAM]")
	}
	return nil
}

func validInvokeMode(v string) error {
	if v != "" && v != "BUFFERED" && v != "RESPONSE_STREAM" {
		return errValidation(v, "invokeMode", "Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]")
	}
	return nil
}

func (s *Service) urlOut(f *function, q string, u *urlConfig, list bool) map[string]any {
	arn := f.arn()
	if q != "" {
		arn += ":" + q
	}
	out := map[string]any{
		"FunctionUrl":  s.functionURL(f.Region, u.ID),
		"FunctionArn":  arn,
		"AuthType":     u.AuthType,
		"CreationTime": u.Created.UTC().Format(urlTimeFormat),
		"InvokeMode":   orDefault(u.InvokeMode, "BUFFERED"),
	}
	if u.Cors != nil {
		out["Cors"] = u.Cors
	}
	if list || u.Modified != u.Created {
		out["LastModifiedTime"] = u.Modified.UTC().Format(urlTimeFormat)
	}
	return out
}

func urlNotFound() error {
	return lerr(http.StatusNotFound, codeNotFound, "The resource you requested does not exist.")
}

func (s *Service) createFunctionURLConfig(r *service.Request) (map[string]any, error) {
	ref, q, err := urlRef(r)
	if err != nil {
		return nil, err
	}
	auth, mode := service.Str(r.Input, "AuthType"), service.Str(r.Input, "InvokeMode")
	if err := validAuthType(auth); err != nil {
		return nil, err
	}
	if err := validInvokeMode(mode); err != nil {
		return nil, err
	}
	if _, _, _, err := s.resolve(ref); err != nil {
		return nil, err
	}
	cors, _ := r.Input["Cors"].(map[string]any)
	now := s.clk.Now()
	var u *urlConfig
	f, err := s.mutate(ref.key, ref.arn(), func(f *function) error {
		if f.URLs[q] != nil {
			return errConflict("Failed to create function url config for [functionArn = %s]. Error message:  FunctionUrlConfig exists for this Lambda function", ref.arn())
		}
		u = &urlConfig{AuthType: auth, InvokeMode: orDefault(mode, "BUFFERED"), ID: newURLID(), Created: now, Modified: now}
		if cors != nil {
			u.Cors = cors
		}
		f.URLs = maps.Clone(f.URLs)
		if f.URLs == nil {
			f.URLs = map[string]*urlConfig{}
		}
		f.URLs[q] = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := s.urlOut(f, q, u, false)
	delete(out, "LastModifiedTime")
	return out, nil
}

func (s *Service) getFunctionURLConfig(r *service.Request) (map[string]any, error) {
	ref, q, err := urlRef(r)
	if err != nil {
		return nil, err
	}
	f := s.lookup(ref.key)
	if f == nil {
		return nil, errFunctionNotFound(ref.arn())
	}
	u := f.URLs[q]
	if u == nil {
		return nil, urlNotFound()
	}
	return s.urlOut(f, q, u, true), nil
}

func (s *Service) updateFunctionURLConfig(r *service.Request) (map[string]any, error) {
	ref, q, err := urlRef(r)
	if err != nil {
		return nil, err
	}
	auth, mode := service.Str(r.Input, "AuthType"), service.Str(r.Input, "InvokeMode")
	if auth != "" {
		if err := validAuthType(auth); err != nil {
			return nil, err
		}
	}
	if err := validInvokeMode(mode); err != nil {
		return nil, err
	}
	var u *urlConfig
	f, err := s.mutate(ref.key, ref.arn(), func(f *function) error {
		cur := f.URLs[q]
		if cur == nil {
			return urlNotFound()
		}
		c := *cur
		if auth != "" {
			c.AuthType = auth
		}
		if mode != "" {
			c.InvokeMode = mode
		}
		if cors, ok := r.Input["Cors"].(map[string]any); ok {
			c.Cors = cors
		}
		c.Modified = s.clk.Now()
		if !c.Modified.After(c.Created) {
			c.Modified = c.Created.Add(time.Microsecond)
		}
		u = &c
		f.URLs = maps.Clone(f.URLs)
		f.URLs[q] = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.urlOut(f, q, u, true), nil
}

func (s *Service) deleteFunctionURLConfig(r *service.Request) (map[string]any, error) {
	ref, q, err := urlRef(r)
	if err != nil {
		return nil, err
	}
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		if f.URLs[q] == nil {
			return urlNotFound()
		}
		f.URLs = maps.Clone(f.URLs)
		delete(f.URLs, q)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) listFunctionURLConfigs(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return nil, err
	}
	f := s.lookup(ref.key)
	if f == nil {
		return nil, errFunctionNotFound(ref.arn())
	}
	qs := make([]string, 0, len(f.URLs))
	for q := range f.URLs {
		qs = append(qs, q)
	}
	sort.Strings(qs)
	list := make([]any, 0, len(qs))
	for _, q := range qs {
		list = append(list, s.urlOut(f, q, f.URLs[q], true))
	}
	return map[string]any{"FunctionUrlConfigs": list}, nil
}

// ServeHost implements service.Host: requests whose host is
// <url-id>.lambda-url.<region>.localhost[:port] invoke the function behind
// that URL with the payload format version 2.0 event.
func (s *Service) ServeHost(w http.ResponseWriter, r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	id, rest, ok := strings.Cut(host, ".lambda-url.")
	if !ok || !strings.HasSuffix(rest, urlHostSuffix) {
		return false
	}
	region := strings.TrimSuffix(rest, urlHostSuffix)
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("lambda function URL panic", "panic", p)
			urlError(w, http.StatusInternalServerError, "Internal Server Error")
		}
	}()
	s.mu.RLock()
	t, found := s.urls[id]
	f := s.fns[t.fn]
	s.mu.RUnlock()
	var u *urlConfig
	if found && f != nil && t.fn.region == region {
		u = f.URLs[t.qualifier]
	}
	if u == nil {
		urlError(w, http.StatusNotFound, "Not Found")
		return true
	}
	var auth map[string]any
	if u.AuthType == "AWS_IAM" {
		if s.urlAuth == nil {
			urlError(w, http.StatusForbidden, "Forbidden")
			return true
		}
		key, account, err := s.urlAuth(r)
		if err != nil {
			urlError(w, http.StatusForbidden, "Forbidden")
			return true
		}
		auth = map[string]any{"iam": map[string]any{"accessKey": key, "accountId": account, "callerId": key,
			"cognitoIdentity": nil, "principalOrgId": nil, "userArn": "arn:aws:iam::" + account + ":root", "userId": account}}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSyncPayload+1))
	if err != nil {
		urlError(w, http.StatusBadRequest, "Bad Request")
		return true
	}
	if len(body) > maxSyncPayload {
		urlError(w, http.StatusRequestEntityTooLarge, "Request Too Long")
		return true
	}
	reqID := newID()
	event, _ := json.Marshal(urlEvent(r, f.Account, id, host, reqID, body, auth, s.clk.Now()))
	fn := functionARN(f.Account, f.Region, f.Name)
	if t.qualifier != "" {
		fn += ":" + t.qualifier
	}
	out, err := s.Invoke(r.Context(), f.Account, f.Region, fn, event, false)
	w.Header().Set("X-Amzn-Requestid", reqID)
	if err != nil {
		var ae *awserr.Error
		if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests {
			urlError(w, http.StatusTooManyRequests, "Rate Exceeded.")
			return true
		}
		urlError(w, http.StatusBadGateway, "Internal Server Error")
		return true
	}
	writeURLResponse(w, out)
	return true
}

func urlError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"Message": msg})
	w.Write(b)
}

// textual reports whether a body of content type ct is sent to the function
// as text (otherwise base64).
func textual(ct string) bool {
	ct = strings.ToLower(ct)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	switch {
	case strings.HasPrefix(ct, "text/"), strings.HasSuffix(ct, "+json"), strings.HasSuffix(ct, "+xml"):
		return true
	}
	switch ct {
	case "application/json", "application/javascript", "application/xml", "application/x-www-form-urlencoded", "application/graphql":
		return true
	}
	return false
}

// urlEvent is the payload format version 2.0 event of a function URL
// request.
func urlEvent(r *http.Request, account, id, host, reqID string, body []byte, auth map[string]any, now time.Time) map[string]any {
	headers := map[string]any{}
	var cookies []any
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	headers["host"] = r.Host
	ev := map[string]any{
		"version":         "2.0",
		"routeKey":        "$default",
		"rawPath":         r.URL.EscapedPath(),
		"rawQueryString":  r.URL.RawQuery,
		"headers":         headers,
		"isBase64Encoded": false,
	}
	if len(cookies) > 0 {
		ev["cookies"] = cookies
	}
	if r.URL.RawQuery != "" {
		qs := map[string]any{}
		for k, vs := range r.URL.Query() {
			qs[k] = strings.Join(vs, ",")
		}
		ev["queryStringParameters"] = qs
	}
	if len(body) > 0 {
		if textual(r.Header.Get("Content-Type")) {
			ev["body"] = string(body)
		} else {
			ev["body"] = base64.StdEncoding.EncodeToString(body)
			ev["isBase64Encoded"] = true
		}
	}
	source, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		source = r.RemoteAddr
	}
	rc := map[string]any{
		"accountId":    "anonymous",
		"apiId":        id,
		"domainName":   host,
		"domainPrefix": id,
		"http": map[string]any{
			"method":    r.Method,
			"path":      r.URL.Path,
			"protocol":  r.Proto,
			"sourceIp":  source,
			"userAgent": r.UserAgent(),
		},
		"requestId": reqID,
		"routeKey":  "$default",
		"stage":     "$default",
		"time":      now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
		"timeEpoch": now.UnixMilli(),
	}
	if auth != nil {
		rc["authorizer"] = auth
		rc["accountId"] = account
	}
	ev["requestContext"] = rc
	return ev
}

// writeURLResponse maps a function's response to the HTTP response: an
// object with statusCode is a structured response (headers, cookies, body,
// isBase64Encoded); anything else is a 200 application/json body.
func writeURLResponse(w http.ResponseWriter, out []byte) {
	var resp struct {
		StatusCode      *int              `json:"statusCode"`
		Headers         map[string]string `json:"headers"`
		Cookies         []string          `json:"cookies"`
		Body            *string           `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
	}
	trimmed := strings.TrimSpace(string(out))
	if strings.HasPrefix(trimmed, "{") && json.Unmarshal(out, &resp) == nil && resp.StatusCode != nil {
		h := w.Header()
		for k, v := range resp.Headers {
			h.Set(k, v)
		}
		for _, c := range resp.Cookies {
			h.Add("Set-Cookie", c)
		}
		var body []byte
		if resp.Body != nil {
			body = []byte(*resp.Body)
			if resp.IsBase64Encoded {
				b, err := base64.StdEncoding.DecodeString(*resp.Body)
				if err != nil {
					urlError(w, http.StatusBadGateway, "Internal Server Error")
					return
				}
				body = b
			}
		}
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json")
		}
		status := *resp.StatusCode
		if status < 100 || status > 999 {
			urlError(w, http.StatusBadGateway, "Internal Server Error")
			return
		}
		w.WriteHeader(status)
		w.Write(body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	var str string
	if strings.HasPrefix(trimmed, `"`) && json.Unmarshal(out, &str) == nil {
		w.Write([]byte(str))
		return
	}
	w.Write(out)
}

var _ service.Host = (*Service)(nil)
