package rest

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/model"
	"github.com/overcast-dev/overcast/internal/protocol/xmlenc"
)

func (c *Codec) decodeXMLMembers(body []byte, sh *model.Shape, out map[string]any) error {
	root, err := xmlenc.Parse(body)
	if err != nil {
		return c.malformedBody(err.Error())
	}
	v, err := xmlStruct(sh, root, true)
	if err != nil {
		return c.malformedBody(err.Error())
	}
	for k, e := range v {
		out[k] = e
	}
	return nil
}

func (c *Codec) decodeXMLValue(body []byte, m *model.Ref) (any, error) {
	root, err := xmlenc.Parse(body)
	if err != nil {
		return nil, c.malformedBody(err.Error())
	}
	v, err := fromXML(m, root)
	if err != nil {
		return nil, c.malformedBody(err.Error())
	}
	return v, nil
}

// localName strips a namespace prefix ("xsi:type" → "type").
func localName(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// xmlStruct decodes the members of sh found in n. When top is set, members
// bound to the URI, query or headers are skipped.
func xmlStruct(sh *model.Shape, n *xmlenc.Node, top bool) (map[string]any, error) {
	out := map[string]any{}
	for _, name := range sh.MemberNames {
		m := sh.Members[name]
		if top && m.Location != "" {
			continue
		}
		wire := localName(m.WireName(name))
		if m.XMLAttribute {
			if v, ok := n.Attr(wire); ok {
				cv, err := xmlScalar(m, v)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				out[name] = cv
			}
			continue
		}
		if m.IsFlattened() && (m.Shape.Type == "list" || m.Shape.Type == "map") {
			elems := childrenNamed(n, wire)
			if len(elems) == 0 && m.Shape.Type == "list" && m.Shape.Member.LocationName != "" {
				elems = childrenNamed(n, localName(m.Shape.Member.LocationName))
			}
			if len(elems) == 0 {
				continue
			}
			var v any
			var err error
			if m.Shape.Type == "list" {
				l := make([]any, 0, len(elems))
				for _, e := range elems {
					cv, err := fromXML(m.Shape.Member, e)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", name, err)
					}
					l = append(l, cv)
				}
				v = l
			} else {
				v, err = xmlMapEntries(m.Shape, elems)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
			}
			out[name] = v
			continue
		}
		e := n.Child(wire)
		if e == nil {
			continue
		}
		cv, err := fromXML(m, e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = cv
	}
	return out, nil
}

func childrenNamed(n *xmlenc.Node, name string) []*xmlenc.Node {
	var out []*xmlenc.Node
	for _, c := range n.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// xmlMapEntries decodes map entries: each element holds a key and a value.
func xmlMapEntries(sh *model.Shape, entries []*xmlenc.Node) (map[string]any, error) {
	kn := localName(sh.Key.WireName("key"))
	vn := localName(sh.Value.WireName("value"))
	out := make(map[string]any, len(entries))
	for _, e := range entries {
		k := e.Child(kn)
		if k == nil {
			return nil, fmt.Errorf("map entry without <%s>", kn)
		}
		v := e.Child(vn)
		if v == nil {
			continue
		}
		cv, err := fromXML(sh.Value, v)
		if err != nil {
			return nil, err
		}
		out[k.Text] = cv
	}
	return out, nil
}

// fromXML decodes element n as m's shape.
func fromXML(m *model.Ref, n *xmlenc.Node) (any, error) {
	sh := m.Shape
	switch sh.Type {
	case "structure":
		return xmlStruct(sh, n, false)
	case "list":
		item := localName(sh.Member.WireName("member"))
		l := []any{}
		for _, c := range n.Children {
			if c.Name != item {
				continue
			}
			cv, err := fromXML(sh.Member, c)
			if err != nil {
				return nil, err
			}
			l = append(l, cv)
		}
		return l, nil
	case "map":
		return xmlMapEntries(sh, childrenNamed(n, "entry"))
	}
	return xmlScalar(m, n.Text)
}

func xmlScalar(m *model.Ref, s string) (any, error) {
	switch m.Shape.Type {
	case "string", "character":
		return s, nil
	case "blob":
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("invalid base64")
		}
		return b, nil
	}
	return (&Codec{}).parseString(m, strings.TrimSpace(s), fmtISO8601)
}
