package xmlenc

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	n, err := Parse([]byte(`<?xml version="1.0"?>
<!-- c --><A xmlns="urn:x" xmlns:p="urn:p" p:k="v" b="1">hi &amp; <![CDATA[<raw>]]><B>one</B><B/><C>&#xD;</C></A>`))
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "A" || n.Space != "urn:x" {
		t.Fatalf("root %q %q", n.Name, n.Space)
	}
	if len(n.Attrs) != 2 || n.Attrs[0].Name != "k" || n.Attrs[0].Space != "urn:p" || n.Attrs[0].Value != "v" {
		t.Fatalf("attrs %+v", n.Attrs)
	}
	if v, ok := n.Attr("b"); !ok || v != "1" {
		t.Fatalf("attr b %q %v", v, ok)
	}
	if n.Text != "hi & <raw>" {
		t.Fatalf("text %q", n.Text)
	}
	if len(n.Children) != 3 || n.Child("B").Text != "one" || n.Child("C").Text != "\r" {
		t.Fatalf("children %+v", n.Children)
	}
	if n.Child("Z") != nil {
		t.Fatal("Child(Z) not nil")
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		``,
		`<a>`,
		`<a></b>`,
		`<a/><b/>`,
		`<a/>text`,
		`<a>&ent;</a>`,
		`<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`,
		strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1),
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%.40q) succeeded", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`<a x="1"><b>t</b><c/></a>`))
	f.Add([]byte(`<?xml version="1.0"?><a xmlns="u"><![CDATA[x]]></a>`))
	f.Add([]byte(`<!DOCTYPE a><a>&amp;&#65;</a>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Parse(data)
		if err == nil && n == nil {
			t.Fatal("nil node without error")
		}
	})
}
