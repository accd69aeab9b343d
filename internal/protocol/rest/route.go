package rest

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/model"
)

// table is the routing table of one API.
type table struct {
	byMethod map[string][]*route // most specific first
	byOp     map[*model.Operation]*route
	bind     map[*model.Operation]*binding
}

type route struct {
	op       *model.Operation
	segs     []model.PathSegment
	query    []queryLit // required literal query parameters
	headers  []string   // required header members (canonical names)
	reqQuery []string   // required query members
	literals int        // literal path segments
	greedy   bool
}

// queryLit is a literal query parameter of a request URI. An empty value
// means the key must be present with any value.
type queryLit struct{ key, value string }

func buildTable(api *model.API) *table {
	t := &table{byMethod: map[string][]*route{}, byOp: map[*model.Operation]*route{}, bind: map[*model.Operation]*binding{}}
	for _, op := range api.Operations {
		rt := &route{op: op, segs: op.Path}
		for k, v := range op.Query {
			if k == "x-id" { // clients send it, but it never decides the route
				continue
			}
			rt.query = append(rt.query, queryLit{k, v})
		}
		// Required query and header members also decide the route: S3's
		// UploadPart is PUT /{Bucket}/{Key+} with partNumber and uploadId,
		// CopyObject the same path with x-amz-copy-source.
		if op.Input != nil && op.Input.Shape != nil {
			for _, req := range op.Input.Shape.Required {
				m := op.Input.Shape.Members[req]
				if m == nil {
					continue
				}
				switch m.Location {
				case "querystring":
					if m.Shape.Type != "map" {
						if _, dup := op.Query[m.WireName(req)]; !dup {
							rt.reqQuery = append(rt.reqQuery, m.WireName(req))
						}
					}
				case "header":
					rt.headers = append(rt.headers, http.CanonicalHeaderKey(m.WireName(req)))
				}
			}
		}
		sort.Slice(rt.query, func(i, j int) bool { return rt.query[i].key < rt.query[j].key })
		for _, s := range op.Path {
			if s.Label == "" && s.Literal != "" {
				rt.literals++
			}
			if s.Greedy {
				rt.greedy = true
			}
		}
		t.byMethod[op.HTTP.Method] = append(t.byMethod[op.HTTP.Method], rt)
		t.byOp[op] = rt
		t.bind[op] = newBinding(op)
	}
	for _, rs := range t.byMethod {
		sort.Slice(rs, func(i, j int) bool {
			a, b := rs[i], rs[j]
			if len(a.query)+len(a.reqQuery) != len(b.query)+len(b.reqQuery) {
				return len(a.query)+len(a.reqQuery) > len(b.query)+len(b.reqQuery)
			}
			if len(a.headers) != len(b.headers) {
				return len(a.headers) > len(b.headers)
			}
			if a.literals != b.literals {
				return a.literals > b.literals
			}
			if a.greedy != b.greedy {
				return !a.greedy
			}
			if len(a.segs) != len(b.segs) {
				return len(a.segs) > len(b.segs)
			}
			if a.op.Deprecated != b.op.Deprecated {
				return !a.op.Deprecated
			}
			return a.op.Name < b.op.Name
		})
	}
	return t
}

// match finds the most specific route. Required query and header members
// decide between operations sharing a path; when none fits with them, the
// match is retried without, so the operation itself reports what is missing.
func (t *table) match(method, path, rawQuery string, h http.Header) *route {
	rs := t.byMethod[method]
	for _, rt := range rs {
		if rt.matchQuery(rawQuery) && rt.matchRequired(rawQuery, h) && rt.matchPath(path, nil) {
			return rt
		}
	}
	for _, rt := range rs {
		if rt.matchQuery(rawQuery) && rt.matchPath(path, nil) {
			return rt
		}
	}
	return nil
}

// pathExists reports whether any operation, under any method, has path.
func (t *table) pathExists(path, rawQuery string) bool {
	for _, rs := range t.byMethod {
		for _, rt := range rs {
			if rt.matchQuery(rawQuery) && rt.matchPath(path, nil) {
				return true
			}
		}
	}
	return false
}

func (rt *route) matchRequired(rawQuery string, h http.Header) bool {
	for _, k := range rt.reqQuery {
		if _, ok := queryValue(rawQuery, k); !ok {
			return false
		}
	}
	for _, k := range rt.headers {
		if len(h[k]) == 0 {
			return false
		}
	}
	return true
}

func (rt *route) matchQuery(raw string) bool {
	for _, q := range rt.query {
		v, ok := queryValue(raw, q.key)
		if !ok || (q.value != "" && v != q.value) {
			return false
		}
	}
	return true
}

// queryValue finds key in a raw query string without allocating; the value
// is returned still escaped.
func queryValue(raw, key string) (string, bool) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k == key {
			return v, true
		}
		if strings.IndexByte(k, '%') >= 0 {
			if uk, err := url.QueryUnescape(k); err == nil && uk == key {
				return v, true
			}
		}
	}
	return "", false
}

// matchPath matches the escaped path against the route's segments. When
// labels is not nil, each label's escaped value is passed to it.
func (rt *route) matchPath(path string, labels func(name, escaped string)) bool {
	if len(path) == 0 || path[0] != '/' {
		return false
	}
	rest := path[1:]
	for i, s := range rt.segs {
		last := i == len(rt.segs)-1
		if s.Greedy {
			if rest == "" {
				return false
			}
			if labels != nil {
				labels(s.Label, rest)
			}
			return last
		}
		var comp string
		slash := strings.IndexByte(rest, '/')
		if slash < 0 {
			comp, rest = rest, ""
		} else {
			comp, rest = rest[:slash], rest[slash+1:]
		}
		if s.Label != "" {
			if comp == "" {
				return false
			}
			if labels != nil {
				labels(s.Label, comp)
			}
		} else if comp != s.Literal {
			return false
		}
		if last {
			// "/bucket" and "/bucket/" both match "/{Bucket}".
			return rest == ""
		}
		if slash < 0 && !(i+1 == len(rt.segs)-1 && rt.segs[i+1].Literal == "" && rt.segs[i+1].Label == "") {
			return false
		}
	}
	return rest == ""
}
