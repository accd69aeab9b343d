package rest

import (
	"encoding/base64"
	"fmt"
	"sort"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/model"
	"github.com/overcast-dev/overcast/internal/protocol/xmlenc"
)

// writeXMLElement writes v, a value of ref's shape, as the element name.
// ns, when set, is declared on the element. When top is set (the document
// root of an operation's output), members bound to headers, the URI or the
// status code are left out.
func writeXMLElement(xw *xmlenc.Writer, ref *model.Ref, name string, v any, ns *model.XMLNamespace, top bool) error {
	sh := ref.Shape
	switch sh.Type {
	case "structure":
		mv, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("want map[string]any, have %T", v)
		}
		var attrs []string
		if ns != nil && ns.URI != "" {
			if ns.Prefix != "" {
				attrs = append(attrs, "xmlns:"+ns.Prefix, ns.URI)
			} else {
				attrs = append(attrs, "xmlns", ns.URI)
			}
		}
		for _, mn := range sh.MemberNames {
			m := sh.Members[mn]
			if !m.XMLAttribute {
				continue
			}
			av, ok := mv[mn]
			if !ok || av == nil {
				continue
			}
			s, err := xmlText(m, av)
			if err != nil {
				return fmt.Errorf("%s: %w", mn, err)
			}
			attrs = append(attrs, m.WireName(mn), s)
		}
		xw.OpenAttrs(name, attrs...)
		for _, mn := range sh.MemberNames {
			m := sh.Members[mn]
			if m.XMLAttribute || (top && m.Location != "") {
				continue
			}
			cv, ok := mv[mn]
			if !ok || cv == nil {
				continue
			}
			if err := writeXMLMember(xw, m, m.WireName(mn), cv); err != nil {
				return fmt.Errorf("%s: %w", mn, err)
			}
		}
		xw.Close(name)
		return nil
	case "list":
		l, ok := v.([]any)
		if !ok {
			return fmt.Errorf("want []any, have %T", v)
		}
		xw.Open(name)
		item := sh.Member.WireName("member")
		for _, e := range l {
			if e == nil {
				continue
			}
			if err := writeXMLMember(xw, sh.Member, item, e); err != nil {
				return err
			}
		}
		xw.Close(name)
		return nil
	case "map":
		mv, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("want map[string]any, have %T", v)
		}
		xw.Open(name)
		if err := writeXMLEntries(xw, sh, "entry", mv); err != nil {
			return err
		}
		xw.Close(name)
		return nil
	}
	s, err := xmlText(ref, v)
	if err != nil {
		return err
	}
	xw.Element(name, s)
	return nil
}

// writeXMLMember writes a member: flattened lists and maps repeat their
// items under the member's name, everything else is one element.
func writeXMLMember(xw *xmlenc.Writer, m *model.Ref, name string, v any) error {
	var ns *model.XMLNamespace
	if m.XMLNamespace != nil {
		ns = m.XMLNamespace
	} else if m.Shape.XMLNamespace != nil {
		ns = m.Shape.XMLNamespace
	}
	if m.IsFlattened() {
		switch m.Shape.Type {
		case "list":
			l, ok := v.([]any)
			if !ok {
				return fmt.Errorf("want []any, have %T", v)
			}
			item := name
			if m.Shape.Member.LocationName != "" {
				item = m.Shape.Member.LocationName
			}
			for _, e := range l {
				if e == nil {
					continue
				}
				if err := writeXMLMember(xw, m.Shape.Member, item, e); err != nil {
					return err
				}
			}
			return nil
		case "map":
			mv, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("want map[string]any, have %T", v)
			}
			return writeXMLEntries(xw, m.Shape, name, mv)
		}
	}
	return writeXMLElement(xw, m, name, v, ns, false)
}

func writeXMLEntries(xw *xmlenc.Writer, sh *model.Shape, entry string, mv map[string]any) error {
	keys := make([]string, 0, len(mv))
	for k := range mv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kn := sh.Key.WireName("key")
	vn := sh.Value.WireName("value")
	for _, k := range keys {
		if mv[k] == nil {
			continue
		}
		xw.Open(entry)
		xw.Element(kn, k)
		if err := writeXMLMember(xw, sh.Value, vn, mv[k]); err != nil {
			return err
		}
		xw.Close(entry)
	}
	return nil
}

// xmlText formats a scalar for element text or an attribute.
func xmlText(m *model.Ref, v any) (string, error) {
	switch m.Shape.Type {
	case "timestamp":
		t, ok := v.(time.Time)
		if !ok {
			return "", fmt.Errorf("want time.Time, have %T", v)
		}
		return formatTime(t, tsFormat(m, fmtISO8601)), nil
	case "blob":
		switch x := v.(type) {
		case []byte:
			return base64.StdEncoding.EncodeToString(x), nil
		case string:
			return base64.StdEncoding.EncodeToString([]byte(x)), nil
		}
		return "", fmt.Errorf("want []byte, have %T", v)
	}
	return scalarString(m, v)
}
