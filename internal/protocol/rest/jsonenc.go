package rest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/model"
)

// appendJSONStruct appends the members of v present in sh as a JSON object.
// When top is set, members bound to headers, the URI or the status code are
// left out.
func appendJSONStruct(b []byte, sh *model.Shape, v map[string]any, top bool) ([]byte, error) {
	b = append(b, '{')
	first := true
	for _, name := range sh.MemberNames {
		m := sh.Members[name]
		if top && m.Location != "" {
			continue
		}
		mv, ok := v[name]
		if !ok || mv == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, m.WireName(name))
		b = append(b, ':')
		var err error
		if b, err = appendJSONValue(b, m, mv); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return append(b, '}'), nil
}

// appendJSONValue appends v, a value of m's shape, as JSON.
func appendJSONValue(b []byte, m *model.Ref, v any) ([]byte, error) {
	sh := m.Shape
	if m.JSONValue {
		doc, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return appendJSONString(b, string(doc)), nil
	}
	if sh.Document {
		doc, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return append(b, doc...), nil
	}
	switch sh.Type {
	case "structure":
		mv, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want map[string]any, have %T", v)
		}
		return appendJSONStruct(b, sh, mv, false)
	case "list":
		l, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("want []any, have %T", v)
		}
		b = append(b, '[')
		for i, e := range l {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if e == nil {
				b = append(b, "null"...)
			} else if b, err = appendJSONValue(b, sh.Member, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case "map":
		mv, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want map[string]any, have %T", v)
		}
		keys := make([]string, 0, len(mv))
		for k := range mv {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			var err error
			if mv[k] == nil {
				b = append(b, "null"...)
			} else if b, err = appendJSONValue(b, sh.Value, mv[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case "timestamp":
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("want time.Time, have %T", v)
		}
		switch f := tsFormat(m, fmtUnix); f {
		case fmtUnix:
			return append(b, formatEpoch(t)...), nil
		default:
			return appendJSONString(b, formatTime(t, f)), nil
		}
	case "blob":
		switch x := v.(type) {
		case []byte:
			return appendJSONString(b, base64.StdEncoding.EncodeToString(x)), nil
		case string:
			return appendJSONString(b, base64.StdEncoding.EncodeToString([]byte(x))), nil
		}
		return nil, fmt.Errorf("want []byte, have %T", v)
	case "float", "double":
		f, ok := toFloat(v)
		if !ok {
			return nil, fmt.Errorf("want float64, have %T", v)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return appendJSONString(b, formatFloat(f)), nil
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64), nil
	case "byte", "short", "integer", "long":
		n, ok := toInt(v)
		if !ok {
			return nil, fmt.Errorf("want int64, have %T", v)
		}
		return strconv.AppendInt(b, n, 10), nil
	case "boolean":
		x, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want bool, have %T", v)
		}
		return strconv.AppendBool(b, x), nil
	case "string", "character":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want string, have %T", v)
		}
		return appendJSONString(b, s), nil
	}
	doc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, doc...), nil
}
