package rest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/overcast-dev/overcast/internal/protocol/model"
)

// maxJSONDepth bounds nesting in request bodies.
const maxJSONDepth = 128

func parseJSON(body []byte) (any, error) {
	if depthExceeded(body, maxJSONDepth) {
		return nil, fmt.Errorf("nested too deeply")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return v, nil
}

// depthExceeded scans for bracket nesting deeper than max, skipping strings.
func depthExceeded(b []byte, max int) bool {
	depth, inStr, esc := 0, false, false
	for _, c := range b {
		switch {
		case inStr:
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return true
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}

func (c *Codec) decodeJSONMembers(body []byte, sh *model.Shape, out map[string]any) error {
	v, err := parseJSON(body)
	if err != nil {
		return c.malformedBody("The request body is not valid JSON: " + err.Error())
	}
	obj, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return nil
		}
		return c.malformedBody("The request body must be a JSON object.")
	}
	for k, raw := range obj {
		name, m := sh.MemberByLocationName(k)
		if m == nil || m.Location != "" || raw == nil {
			continue
		}
		cv, err := fromJSON(m, raw)
		if err != nil {
			return c.malformedBody(fmt.Sprintf("Invalid value for %s: %v", name, err))
		}
		out[name] = cv
	}
	return nil
}

func (c *Codec) decodeJSONValue(body []byte, m *model.Ref) (any, error) {
	v, err := parseJSON(body)
	if err != nil {
		return nil, c.malformedBody("The request body is not valid JSON: " + err.Error())
	}
	if v == nil {
		return nil, nil
	}
	cv, err := fromJSON(m, v)
	if err != nil {
		return nil, c.malformedBody("Invalid request body: " + err.Error())
	}
	return cv, nil
}

// fromJSON converts a decoded JSON value (numbers as json.Number) to the
// generic value of m's shape.
func fromJSON(m *model.Ref, v any) (any, error) {
	sh := m.Shape
	if m.JSONValue {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a JSON string, have %s", jsonKind(v))
		}
		d, err := parseJSON([]byte(s))
		if err != nil {
			return nil, err
		}
		return plain(d), nil
	}
	if sh.Document {
		return plain(v), nil
	}
	switch sh.Type {
	case "structure":
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want an object, have %s", jsonKind(v))
		}
		out := make(map[string]any, len(obj))
		for k, raw := range obj {
			name, mm := sh.MemberByLocationName(k)
			if mm == nil || raw == nil {
				continue
			}
			cv, err := fromJSON(mm, raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			out[name] = cv
		}
		return out, nil
	case "list":
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("want an array, have %s", jsonKind(v))
		}
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			if e == nil {
				continue
			}
			cv, err := fromJSON(sh.Member, e)
			if err != nil {
				return nil, err
			}
			out = append(out, cv)
		}
		return out, nil
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want an object, have %s", jsonKind(v))
		}
		out := make(map[string]any, len(obj))
		for k, e := range obj {
			if e == nil {
				continue
			}
			cv, err := fromJSON(sh.Value, e)
			if err != nil {
				return nil, err
			}
			out[k] = cv
		}
		return out, nil
	case "string", "character":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a string, have %s", jsonKind(v))
		}
		return s, nil
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want a boolean, have %s", jsonKind(v))
		}
		return b, nil
	case "byte", "short", "integer", "long":
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("want an integer, have %s", jsonKind(v))
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(string(n), 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<63 {
				return nil, fmt.Errorf("want an integer, have %s", n)
			}
			i = int64(f)
		}
		return i, nil
	case "float", "double":
		switch x := v.(type) {
		case json.Number:
			return strconv.ParseFloat(string(x), 64)
		case string:
			f, err := parseFloat(x)
			if err != nil || (!math.IsNaN(f) && !math.IsInf(f, 0)) {
				return nil, fmt.Errorf("want a number, have %q", x)
			}
			return f, nil
		}
		return nil, fmt.Errorf("want a number, have %s", jsonKind(v))
	case "timestamp":
		switch x := v.(type) {
		case json.Number:
			return parseTime(string(x), fmtUnix)
		case string:
			return parseTime(x, tsFormat(m, fmtUnix))
		}
		return nil, fmt.Errorf("want a timestamp, have %s", jsonKind(v))
	case "blob":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a base64 string, have %s", jsonKind(v))
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("invalid base64")
		}
		return b, nil
	}
	return plain(v), nil
}

// plain turns json.Number into float64, the way encoding/json decodes into any.
func plain(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = plain(e)
		}
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
	}
	return v
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case nil:
		return "null"
	}
	return "a value"
}
