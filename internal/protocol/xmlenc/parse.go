package xmlenc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// MaxDepth bounds the element nesting Parse accepts, so a hostile document
// cannot exhaust the stack or memory of the code that walks the tree.
const MaxDepth = 256

// Node is one XML element.
type Node struct {
	// Name is the element's local name (any prefix removed).
	Name string
	// Space is the element's namespace URI, or "" when it has none.
	Space string
	// Attrs are the element's attributes in document order, namespace
	// declarations (xmlns, xmlns:p) excluded.
	Attrs []Attr
	// Children are the child elements in document order.
	Children []*Node
	// Text is the concatenated character data directly inside the element
	// (CDATA included, entities resolved), not that of its children.
	Text string
}

// Attr is an attribute of a Node.
type Attr struct {
	Name  string // local name
	Space string // namespace URI, or ""
	Value string
}

// ErrTooDeep is returned by Parse for documents nested deeper than MaxDepth.
var ErrTooDeep = errors.New("xml: document nested too deeply")

// Parse reads one XML document into an element tree and returns its root.
// Parsing is strict: only the predefined entities are expanded, DOCTYPEs and
// other directives are ignored (never interpreted), the document must have
// exactly one root element, and nesting is bounded by MaxDepth. Comments and
// processing instructions are dropped.
func Parse(data []byte) (*Node, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	// No d.Entity map: only &lt; &gt; &amp; &apos; &quot; and character
	// references are accepted. No CharsetReader: non-UTF-8 documents fail.
	var (
		root  *Node
		stack []*Node
		text  []strings.Builder
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= MaxDepth {
				return nil, ErrTooDeep
			}
			if root != nil && len(stack) == 0 {
				return nil, errors.New("xml: more than one root element")
			}
			n := &Node{Name: t.Name.Local, Space: t.Name.Space}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				n.Attrs = append(n.Attrs, Attr{Name: a.Name.Local, Space: a.Name.Space, Value: a.Value})
			}
			if len(stack) == 0 {
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
			text = append(text, strings.Builder{})
		case xml.EndElement:
			// The decoder has already checked that the names match.
			n := stack[len(stack)-1]
			n.Text = text[len(text)-1].String()
			stack = stack[:len(stack)-1]
			text = text[:len(text)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, errors.New("xml: character data outside the root element")
				}
				continue
			}
			text[len(text)-1].Write(t)
		}
	}
	if root == nil {
		return nil, errors.New("xml: no root element")
	}
	return root, nil
}

// Child returns the first child element with the given local name, or nil.
func (n *Node) Child(name string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Attr returns the value of the attribute with the given local name.
func (n *Node) Attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}
