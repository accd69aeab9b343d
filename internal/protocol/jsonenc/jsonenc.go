// Package jsonenc appends model values to JSON without reflection, walking
// the API model's shapes so member order, timestamps (epoch seconds) and
// blobs (base64) follow the AWS JSON protocols.
package jsonenc

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/overcast-dev/overcast/internal/protocol/model"
)

// AppendStruct appends the structure v of shape s.
func AppendStruct(b []byte, s *model.Shape, v map[string]any) []byte {
	b = append(b, '{')
	first := true
	for _, name := range s.MemberNames {
		mv, ok := v[name]
		if !ok || mv == nil {
			continue
		}
		ref := s.Members[name]
		if ref.Location != "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = AppendString(b, name)
		b = append(b, ':')
		b = AppendValue(b, ref, mv)
	}
	return append(b, '}')
}

// AppendValue appends v as the shape of ref.
func AppendValue(b []byte, ref *model.Ref, v any) []byte {
	s := ref.Shape
	if v == nil || s.Document {
		return AppendAny(b, v)
	}
	switch s.Type {
	case "structure":
		m, ok := v.(map[string]any)
		if !ok {
			return append(b, "{}"...)
		}
		return AppendStruct(b, s, m)
	case "list":
		l, _ := v.([]any)
		b = append(b, '[')
		for i, it := range l {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendValue(b, s.Member, it)
		}
		return append(b, ']')
	case "map":
		m, _ := v.(map[string]any)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, k)
			b = append(b, ':')
			b = AppendValue(b, s.Value, m[k])
		}
		return append(b, '}')
	case "timestamp":
		if t, ok := v.(time.Time); ok {
			format := ref.TimestampFormat
			if format == "" {
				format = s.TimestampFormat
			}
			switch format {
			case "iso8601":
				return AppendString(b, t.UTC().Format("2006-01-02T15:04:05.000Z"))
			case "rfc822":
				return AppendString(b, t.UTC().Format(time.RFC1123))
			}
			return AppendEpoch(b, t)
		}
	case "blob":
		if bs, ok := v.([]byte); ok {
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, bs)
			return append(b, '"')
		}
	}
	return AppendAny(b, v)
}

// AppendEpoch appends t as epoch seconds with up to millisecond precision.
func AppendEpoch(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(b, ms/1000, 10)
	}
	return strconv.AppendFloat(b, float64(ms)/1000, 'f', -1, 64)
}

// AppendAny appends a generic value (the model value types, plus int kinds,
// json.Number and []string) as JSON.
func AppendAny(b []byte, v any) []byte {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return AppendString(b, t)
	case bool:
		return strconv.AppendBool(b, t)
	case int64:
		return strconv.AppendInt(b, t, 10)
	case int:
		return strconv.AppendInt(b, int64(t), 10)
	case int32:
		return strconv.AppendInt(b, int64(t), 10)
	case uint64:
		return strconv.AppendUint(b, t, 10)
	case float64:
		return AppendFloat(b, t)
	case float32:
		return AppendFloat(b, float64(t))
	case json.Number:
		return append(b, t...)
	case time.Time:
		return AppendEpoch(b, t)
	case []byte:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, t)
		return append(b, '"')
	case []any:
		b = append(b, '[')
		for i, it := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendAny(b, it)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, it := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, it)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, k)
			b = append(b, ':')
			b = AppendAny(b, t[k])
		}
		return append(b, '}')
	case map[string]string:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, k)
			b = append(b, ':')
			b = AppendString(b, t[k])
		}
		return append(b, '}')
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, enc...)
}

// AppendFloat appends f; NaN and infinities become the strings AWS uses.
func AppendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
