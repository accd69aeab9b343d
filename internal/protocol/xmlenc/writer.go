// Package xmlenc writes and reads the XML that AWS's query, ec2 and rest-xml
// protocols put on the wire. The writer appends to a byte slice with no
// reflection; the reader (parse.go) builds a small element tree.
package xmlenc

import (
	"strconv"
	"unicode/utf8"
)

// Writer appends XML to a buffer. The zero value is ready to use.
type Writer struct {
	B []byte
}

// Header appends the XML declaration.
func (w *Writer) Header() {
	w.B = append(w.B, `<?xml version="1.0" encoding="UTF-8"?>`...)
}

// Open appends <name>.
func (w *Writer) Open(name string) {
	w.B = append(w.B, '<')
	w.B = append(w.B, name...)
	w.B = append(w.B, '>')
}

// OpenAttrs appends <name a="v" ...> with attrs as name/value pairs.
func (w *Writer) OpenAttrs(name string, attrs ...string) {
	w.B = append(w.B, '<')
	w.B = append(w.B, name...)
	for i := 0; i+1 < len(attrs); i += 2 {
		w.B = append(w.B, ' ')
		w.B = append(w.B, attrs[i]...)
		w.B = append(w.B, `="`...)
		w.Text(attrs[i+1])
		w.B = append(w.B, '"')
	}
	w.B = append(w.B, '>')
}

// Close appends </name>.
func (w *Writer) Close(name string) {
	w.B = append(w.B, "</"...)
	w.B = append(w.B, name...)
	w.B = append(w.B, '>')
}

// Element appends <name>text</name> with text escaped.
func (w *Writer) Element(name, text string) {
	w.Open(name)
	w.Text(text)
	w.Close(name)
}

// Empty appends <name/>.
func (w *Writer) Empty(name string) {
	w.B = append(w.B, '<')
	w.B = append(w.B, name...)
	w.B = append(w.B, "/>"...)
}

// Text appends s escaped for element content and attribute values. Carriage
// returns and characters XML cannot carry literally are written as character
// references, so what a client parses back equals s.
func (w *Writer) Text(s string) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch c {
			case '<':
				esc = "&lt;"
			case '>':
				esc = "&gt;"
			case '&':
				esc = "&amp;"
			case '"':
				esc = "&quot;"
			case '\'':
				esc = "&apos;"
			case '\r':
				esc = "&#xD;"
			case '\n', '\t':
			default:
				if c < 0x20 {
					esc = "&#x" + strconv.FormatInt(int64(c), 16) + ";"
				}
			}
			if esc != "" {
				w.B = append(w.B, s[last:i]...)
				w.B = append(w.B, esc...)
				last = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			w.B = append(w.B, s[last:i]...)
			w.B = append(w.B, "\uFFFD"...)
			last = i + 1
		}
		i += size
	}
	w.B = append(w.B, s[last:]...)
}
