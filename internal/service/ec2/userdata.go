package ec2

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxUserData bounds decompressed user data.
const maxUserData = 1 << 20

// prepareUserData writes an instance's user data into its directory and
// returns the command that runs it (nil for none) and the working
// directory of the instance's program.
func prepareUserData(dir string, ud []byte, img *imageRec) (argv []string, wd string, err error) {
	wd = dir
	if img.Dir != "" {
		wd = img.Dir
	}
	if bytes.HasPrefix(ud, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(ud))
		if err != nil {
			return nil, "", fmt.Errorf("user data: %w", err)
		}
		ud, err = io.ReadAll(io.LimitReader(zr, maxUserData))
		if err != nil {
			return nil, "", fmt.Errorf("user data: %w", err)
		}
	}
	path := filepath.Join(dir, "user-data")
	if err := os.WriteFile(path, ud, 0o755); err != nil {
		return nil, "", err
	}
	if err := os.Chmod(path, 0o755); err != nil {
		return nil, "", err
	}
	switch {
	case img.Program != "":
		return []string{img.Program}, wd, nil
	case len(bytes.TrimSpace(ud)) == 0:
		return nil, wd, nil
	case bytes.HasPrefix(ud, []byte("#!")):
		return []string{path}, wd, nil
	case bytes.HasPrefix(ud, []byte("#cloud-config")):
		cc, err := parseCloudConfig(string(ud))
		if err != nil {
			// cloud-init logs a bad document and boots without it.
			script := fmt.Sprintf("echo %s >&2\n", shQuote("cloud-config: "+err.Error()))
			cc = &cloudConfig{Script: script}
		}
		for _, f := range cc.Files {
			if err := f.write(dir); err != nil {
				return nil, "", err
			}
		}
		sp := filepath.Join(dir, "cloud-config.sh")
		if err := os.WriteFile(sp, []byte(cc.Script), 0o644); err != nil {
			return nil, "", err
		}
		return []string{"/bin/sh", sp}, wd, nil
	}
	return []string{"/bin/sh", path}, wd, nil
}

// cloudConfig is what Overcast takes from a #cloud-config document.
type cloudConfig struct {
	Files  []cloudFile
	Script string // bootcmd then runcmd, as a shell script
}

type cloudFile struct {
	Path    string
	Content []byte
	Mode    os.FileMode
	Append  bool
}

// write writes f under root: absolute paths are taken relative to it.
func (f cloudFile) write(root string) error {
	rel := filepath.Clean("/" + f.Path)
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if f.Append {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	fh, err := os.OpenFile(p, flag, f.Mode)
	if err != nil {
		return err
	}
	_, err = fh.Write(f.Content)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(p, f.Mode)
	}
	return err
}

// parseCloudConfig reads write_files, bootcmd and runcmd from a
// #cloud-config document.
func parseCloudConfig(doc string) (*cloudConfig, error) {
	v, err := parseYAML(doc)
	if err != nil {
		return nil, err
	}
	top, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return &cloudConfig{}, nil
		}
		return nil, errors.New("the document is not a mapping")
	}
	cc := &cloudConfig{}
	if wf, ok := top["write_files"]; ok {
		list, ok := wf.([]any)
		if !ok {
			return nil, errors.New("write_files is not a list")
		}
		for _, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				return nil, errors.New("a write_files entry is not a mapping")
			}
			f := cloudFile{Mode: 0o644}
			f.Path, _ = m["path"].(string)
			if f.Path == "" {
				return nil, errors.New("a write_files entry has no path")
			}
			content, _ := m["content"].(string)
			enc, _ := m["encoding"].(string)
			switch strings.ToLower(enc) {
			case "", "text/plain":
				f.Content = []byte(content)
			case "b64", "base64":
				b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(content), ""))
				if err != nil {
					return nil, fmt.Errorf("write_files %s: %w", f.Path, err)
				}
				f.Content = b
			case "gz", "gzip", "gz+base64", "gzip+base64", "gz+b64", "gzip+b64":
				b := []byte(content)
				if strings.Contains(enc, "b") {
					if b, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(content), "")); err != nil {
						return nil, fmt.Errorf("write_files %s: %w", f.Path, err)
					}
				}
				zr, err := gzip.NewReader(bytes.NewReader(b))
				if err != nil {
					return nil, fmt.Errorf("write_files %s: %w", f.Path, err)
				}
				if f.Content, err = io.ReadAll(io.LimitReader(zr, maxUserData)); err != nil {
					return nil, fmt.Errorf("write_files %s: %w", f.Path, err)
				}
			default:
				return nil, fmt.Errorf("write_files %s: unknown encoding %q", f.Path, enc)
			}
			if p, ok := m["permissions"].(string); ok && p != "" {
				mode, err := strconv.ParseUint(p, 8, 32)
				if err != nil || mode > 0o7777 {
					return nil, fmt.Errorf("write_files %s: bad permissions %q", f.Path, p)
				}
				f.Mode = os.FileMode(mode)
			}
			if a, _ := m["append"].(string); a == "true" {
				f.Append = true
			}
			cc.Files = append(cc.Files, f)
		}
	}
	var b strings.Builder
	for _, key := range []string{"bootcmd", "runcmd"} {
		v, ok := top[key]
		if !ok {
			continue
		}
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%s is not a list", key)
		}
		for _, c := range list {
			switch c := c.(type) {
			case string:
				b.WriteString(c)
			case []any:
				for i, a := range c {
					s, ok := a.(string)
					if !ok {
						return nil, fmt.Errorf("%s: a command argument is not a string", key)
					}
					if i > 0 {
						b.WriteByte(' ')
					}
					b.WriteString(shQuote(s))
				}
			default:
				return nil, fmt.Errorf("%s: a command is neither a string nor a list", key)
			}
			b.WriteByte('\n')
		}
	}
	cc.Script = b.String()
	return cc, nil
}

// shQuote quotes s for a POSIX shell.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// The YAML subset cloud-config documents use: block mappings and
// sequences by indentation, plain, quoted and block (| and >) scalars,
// and flow sequences of scalars. Scalars stay strings.

type yline struct {
	indent int
	text   string // without indentation; "" for blank lines and comments
}

type yparser struct {
	raw   []string
	lines []yline
	i     int
	depth int
}

const maxYAMLDepth = 64

func parseYAML(doc string) (any, error) {
	p := &yparser{raw: strings.Split(strings.ReplaceAll(doc, "\r\n", "\n"), "\n")}
	for _, l := range p.raw {
		t := strings.TrimLeft(l, " ")
		ind := len(l) - len(t)
		if strings.HasPrefix(t, "#") || strings.TrimSpace(t) == "" || t == "---" {
			t = ""
		}
		if strings.HasPrefix(t, "\t") {
			return nil, errors.New("tabs are not allowed in indentation")
		}
		p.lines = append(p.lines, yline{ind, strings.TrimRight(t, " \t")})
	}
	v, err := p.node(0)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.i < len(p.lines) {
		return nil, fmt.Errorf("line %d: unexpected indentation", p.i+1)
	}
	return v, nil
}

// skip moves past blank lines and comments.
func (p *yparser) skip() {
	for p.i < len(p.lines) && p.lines[p.i].text == "" {
		p.i++
	}
}

func isSeqItem(t string) bool { return t == "-" || strings.HasPrefix(t, "- ") }

// mapKey splits "key: value" or "key:"; ok is false when t is no mapping
// entry.
func mapKey(t string) (key, rest string, ok bool) {
	if strings.HasPrefix(t, "'") || strings.HasPrefix(t, "\"") || strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
		return "", "", false
	}
	if i := strings.Index(t, ": "); i > 0 {
		return strings.TrimSpace(t[:i]), strings.TrimSpace(t[i+2:]), true
	}
	if strings.HasSuffix(t, ":") && len(t) > 1 {
		return strings.TrimSpace(t[:len(t)-1]), "", true
	}
	return "", "", false
}

// node parses the node starting at the next content line, which must be
// indented at least min.
func (p *yparser) node(min int) (any, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxYAMLDepth {
		return nil, errors.New("nesting too deep")
	}
	p.skip()
	if p.i >= len(p.lines) || p.lines[p.i].indent < min {
		return nil, nil
	}
	l := p.lines[p.i]
	if isSeqItem(l.text) {
		return p.seq(l.indent)
	}
	if _, _, ok := mapKey(l.text); ok {
		return p.mapping(l.indent)
	}
	p.i++
	return scalar(l.text)
}

func (p *yparser) seq(ind int) (any, error) {
	out := []any{}
	for {
		p.skip()
		if p.i >= len(p.lines) || p.lines[p.i].indent != ind || !isSeqItem(p.lines[p.i].text) {
			return out, nil
		}
		l := p.lines[p.i]
		rest := strings.TrimSpace(strings.TrimPrefix(l.text, "-"))
		if rest == "" {
			p.i++
			v, err := p.node(ind + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		off := ind + len(l.text) - len(strings.TrimLeft(l.text[1:], " ")) // column of rest
		if _, _, ok := mapKey(rest); ok || isSeqItem(rest) {
			// "- key: v" or "- - x": the item is a node at rest's column.
			p.lines[p.i] = yline{off, rest}
			v, err := p.node(off)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		p.i++
		v, err := p.value(rest, ind)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

func (p *yparser) mapping(ind int) (any, error) {
	out := map[string]any{}
	for {
		p.skip()
		if p.i >= len(p.lines) || p.lines[p.i].indent != ind {
			return out, nil
		}
		key, rest, ok := mapKey(p.lines[p.i].text)
		if !ok {
			return nil, fmt.Errorf("line %d: expected a mapping key", p.i+1)
		}
		if k, err := scalar(key); err == nil {
			key, _ = k.(string)
		}
		p.i++
		if rest == "" {
			p.skip()
			var v any
			var err error
			if p.i < len(p.lines) && p.lines[p.i].indent == ind && isSeqItem(p.lines[p.i].text) {
				v, err = p.seq(ind)
			} else {
				v, err = p.node(ind + 1)
			}
			if err != nil {
				return nil, err
			}
			out[key] = v
			continue
		}
		v, err := p.value(rest, ind)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
}

// value parses an inline value; a block scalar indicator reads the lines
// indented more than parent that follow.
func (p *yparser) value(t string, parent int) (any, error) {
	if t == "" {
		return "", nil
	}
	if t[0] != '|' && t[0] != '>' {
		return scalar(t)
	}
	ind := strings.TrimSpace(stripComment(t))
	folded := ind[0] == '>'
	chomp := "clip"
	if strings.Contains(ind, "-") {
		chomp = "strip"
	} else if strings.Contains(ind, "+") {
		chomp = "keep"
	}
	var lines []string
	blockInd := -1
	for ; p.i < len(p.raw); p.i++ {
		raw := p.raw[p.i]
		t := strings.TrimLeft(raw, " ")
		if strings.TrimSpace(raw) == "" {
			lines = append(lines, "")
			continue
		}
		n := len(raw) - len(t)
		if n <= parent {
			break
		}
		if blockInd < 0 {
			blockInd = n
		}
		if n < blockInd {
			break
		}
		lines = append(lines, raw[blockInd:])
	}
	// Trailing blank lines belong to chomping, and blank raw lines past
	// the block were consumed: give back the ones after the content.
	end := len(lines)
	for end > 0 && lines[end-1] == "" {
		end--
	}
	back := len(lines) - end
	p.i -= back
	if p.i < 0 {
		p.i = 0
	}
	body := lines[:end]
	var s string
	if folded {
		var b strings.Builder
		for i, l := range body {
			switch {
			case i == 0:
			case l == "" || body[i-1] == "":
				b.WriteByte('\n')
			default:
				b.WriteByte(' ')
			}
			b.WriteString(l)
		}
		s = b.String()
	} else {
		s = strings.Join(body, "\n")
	}
	switch chomp {
	case "clip":
		if len(body) > 0 {
			s += "\n"
		}
	case "keep":
		s += strings.Repeat("\n", back+1)
	}
	return s, nil
}

// stripComment removes a " #" comment from a plain scalar.
func stripComment(t string) string {
	if i := strings.Index(t, " #"); i >= 0 {
		return strings.TrimSpace(t[:i])
	}
	return t
}

// scalar parses a one-line scalar or flow sequence.
func scalar(t string) (any, error) {
	t = strings.TrimSpace(t)
	switch {
	case t == "":
		return "", nil
	case t[0] == '"':
		s, rest, err := doubleQuoted(t)
		if err != nil {
			return nil, err
		}
		if r := strings.TrimSpace(rest); r != "" && !strings.HasPrefix(r, "#") {
			return nil, fmt.Errorf("text after a quoted string: %q", r)
		}
		return s, nil
	case t[0] == '\'':
		s, rest, err := singleQuoted(t)
		if err != nil {
			return nil, err
		}
		if r := strings.TrimSpace(rest); r != "" && !strings.HasPrefix(r, "#") {
			return nil, fmt.Errorf("text after a quoted string: %q", r)
		}
		return s, nil
	case t[0] == '[':
		return flowSeq(t)
	case t[0] == '{':
		return nil, errors.New("flow mappings are not supported")
	}
	s := stripComment(t)
	if s == "~" || s == "null" {
		return nil, nil
	}
	return s, nil
}

func doubleQuoted(t string) (string, string, error) {
	var b strings.Builder
	for i := 1; i < len(t); i++ {
		c := t[i]
		switch c {
		case '"':
			return b.String(), t[i+1:], nil
		case '\\':
			i++
			if i >= len(t) {
				return "", "", errors.New("unterminated escape")
			}
			switch t[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			default:
				b.WriteByte(t[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("unterminated double-quoted string")
}

func singleQuoted(t string) (string, string, error) {
	var b strings.Builder
	for i := 1; i < len(t); i++ {
		if t[i] == '\'' {
			if i+1 < len(t) && t[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return b.String(), t[i+1:], nil
		}
		b.WriteByte(t[i])
	}
	return "", "", errors.New("unterminated single-quoted string")
}

// flowSeq parses "[a, 'b c', "d"]" into strings.
func flowSeq(t string) (any, error) {
	out := []any{}
	rest := strings.TrimSpace(t[1:])
	for {
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return nil, errors.New("unterminated flow sequence")
		}
		if rest[0] == ']' {
			if r := strings.TrimSpace(rest[1:]); r != "" && !strings.HasPrefix(r, "#") {
				return nil, fmt.Errorf("text after a flow sequence: %q", r)
			}
			return out, nil
		}
		var item string
		var err error
		switch rest[0] {
		case '"':
			item, rest, err = doubleQuoted(rest)
		case '\'':
			item, rest, err = singleQuoted(rest)
		case '[', '{':
			return nil, errors.New("nested flow collections are not supported")
		default:
			i := strings.IndexAny(rest, ",]")
			if i < 0 {
				return nil, errors.New("unterminated flow sequence")
			}
			item, rest = strings.TrimSpace(rest[:i]), rest[i:]
		}
		if err != nil {
			return nil, err
		}
		out = append(out, item)
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, ",") {
			rest = rest[1:]
		}
	}
}
