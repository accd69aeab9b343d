package rest

import (
	"net/http"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/model"
)

// binding is the precomputed plan for one operation's input and output: a
// request's headers and query parameters are each looked at once and found
// in a map, instead of asking the request for every member the shape
// declares (S3's PutObject has some 45 header members, and a request
// carries a handful), and response headers are written under keys
// canonicalised in advance.
type binding struct {
	// Input.
	labels   map[string]member   // URI label → member
	headers  map[string][]member // canonical header key → members
	prefixes []member            // "headers" members; prefix lowercased
	query    map[string]member   // query parameter → non-map member
	queryMap bool                // a map member takes the remaining parameters
	hasQuery bool
	hasBody  bool

	// Output.
	outMembers map[string]member // member name → header, headers or statusCode member
	outShared  []member          // header members sharing a key, in model order
	outBody    bool              // the output shape has body members besides the payload
}

// member is one member of a binding. key is the canonical header key of a
// header member and the lowercased prefix of a headers member.
type member struct {
	name   string
	ref    *model.Ref
	key    string
	shared bool
}

func newBinding(op *model.Operation) *binding {
	b := &binding{}
	if op.Input != nil && op.Input.Shape != nil {
		sh := op.Input.Shape
		for _, name := range sh.MemberNames {
			m := sh.Members[name]
			switch m.Location {
			case "uri":
				if b.labels == nil {
					b.labels = map[string]member{}
				}
				b.labels[m.WireName(name)] = member{name: name, ref: m}
			case "querystring":
				b.hasQuery = true
				if m.Shape.Type == "map" {
					b.queryMap = true
					continue
				}
				if b.query == nil {
					b.query = map[string]member{}
				}
				if _, dup := b.query[m.WireName(name)]; !dup {
					b.query[m.WireName(name)] = member{name: name, ref: m}
				}
			case "header":
				if b.headers == nil {
					b.headers = map[string][]member{}
				}
				k := http.CanonicalHeaderKey(m.WireName(name))
				b.headers[k] = append(b.headers[k], member{name: name, ref: m, key: k})
			case "headers":
				b.prefixes = append(b.prefixes, member{name: name, ref: m, key: strings.ToLower(m.WireName(""))})
			case "statusCode":
			default:
				b.hasBody = true
			}
		}
	}
	if op.Output != nil && op.Output.Shape != nil {
		sh := op.Output.Shape
		b.outMembers = map[string]member{}
		keys := map[string]int{}
		for _, name := range sh.MemberNames {
			m := sh.Members[name]
			switch m.Location {
			case "header":
				k := http.CanonicalHeaderKey(m.WireName(name))
				keys[k]++
				b.outMembers[name] = member{name: name, ref: m, key: k}
			case "headers":
				b.outMembers[name] = member{name: name, ref: m, key: m.WireName("")}
			case "statusCode":
				b.outMembers[name] = member{name: name, ref: m}
			case "uri", "querystring":
			default:
				if name != sh.Payload {
					b.outBody = true
				}
			}
		}
		// Members that share a header (S3's Expires and ExpiresString) are
		// written in model order, so the last one present wins, always.
		for _, name := range sh.MemberNames {
			if m, ok := b.outMembers[name]; ok && m.ref.Location == "header" && keys[m.key] > 1 {
				m.shared = true
				b.outMembers[name] = m
				b.outShared = append(b.outShared, m)
			}
		}
	}
	return b
}

// binding returns op's plan, from api's table when op belongs to it.
func (c *Codec) binding(api *model.API, op *model.Operation) *binding {
	if b := c.table(api).bind[op]; b != nil {
		return b
	}
	return newBinding(op)
}

// hasPrefixFold reports whether s begins with prefix, which is lower case,
// ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}
