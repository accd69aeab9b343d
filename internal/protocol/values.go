package protocol

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
	"github.com/overcast-dev/overcast/internal/protocol/model"
)

// Wire describes how a self-describing format (JSON, CBOR) carries the
// scalar types that need a convention.
type Wire int

const (
	// WireJSON: blobs are base64 strings, timestamps epoch-second numbers
	// (or strings per timestampFormat), numbers are json.Number.
	WireJSON Wire = iota
	// WireCBOR: blobs are byte strings, timestamps tag 1 (time.Time) or numbers.
	WireCBOR
)

// Coerce converts a generic decoded value (from encoding/json with UseNumber,
// or from package cbor) into the model value types for ref's shape. Unknown
// structure members are ignored; type mismatches return a
// SerializationException. A nil result means "absent".
func Coerce(v any, ref *model.Ref, wire Wire) (any, error) {
	return coerce(v, ref, wire, 0)
}

func serErr(format string, args ...any) error {
	return awserr.New(awserr.CodeSerialization, format, args...)
}

func coerce(v any, ref *model.Ref, wire Wire, depth int) (any, error) {
	if v == nil {
		return nil, nil
	}
	if depth > 100 {
		return nil, serErr("Input nesting is too deep.")
	}
	s := ref.Shape
	if s.Document {
		return v, nil
	}
	switch s.Type {
	case "structure":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, serErr("Expected a structure for %s.", s.Name)
		}
		out := make(map[string]any, len(m))
		for k, mv := range m {
			mref, ok := s.Members[k]
			if !ok {
				continue
			}
			cv, err := coerce(mv, mref, wire, depth+1)
			if err != nil {
				return nil, err
			}
			if cv != nil {
				out[k] = cv
			}
		}
		return out, nil
	case "list":
		l, ok := v.([]any)
		if !ok {
			return nil, serErr("Expected a list for %s.", s.Name)
		}
		out := make([]any, 0, len(l))
		for _, it := range l {
			cv, err := coerce(it, s.Member, wire, depth+1)
			if err != nil {
				return nil, err
			}
			if cv == nil {
				continue
			}
			out = append(out, cv)
		}
		return out, nil
	case "map":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, serErr("Expected a map for %s.", s.Name)
		}
		out := make(map[string]any, len(m))
		for k, mv := range m {
			cv, err := coerce(mv, s.Value, wire, depth+1)
			if err != nil {
				return nil, err
			}
			if cv != nil {
				out[k] = cv
			}
		}
		return out, nil
	case "string", "character":
		str, ok := v.(string)
		if !ok {
			return nil, serErr("Expected a string for %s.", s.Name)
		}
		return str, nil
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, serErr("Expected a boolean for %s.", s.Name)
		}
		return b, nil
	case "integer", "long", "short", "byte":
		return toInt(v, s.Name)
	case "float", "double":
		return toFloat(v, s.Name)
	case "timestamp":
		return toTime(v, s.Name)
	case "blob":
		switch t := v.(type) {
		case []byte:
			return t, nil
		case string:
			b, err := base64.StdEncoding.DecodeString(t)
			if err != nil {
				return nil, serErr("Invalid base64 for %s.", s.Name)
			}
			return b, nil
		}
		return nil, serErr("Expected a blob for %s.", s.Name)
	}
	return v, nil
}

func toInt(v any, name string) (any, error) {
	switch t := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(string(t), 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(string(t), 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<63 {
				return nil, serErr("Expected an integer for %s, got %s.", name, t)
			}
			return int64(f), nil
		}
		return n, nil
	case int64:
		return t, nil
	case uint64:
		if t > math.MaxInt64 {
			return nil, serErr("Integer out of range for %s.", name)
		}
		return int64(t), nil
	case float64:
		if t != math.Trunc(t) || math.Abs(t) > 1<<63 {
			return nil, serErr("Expected an integer for %s.", name)
		}
		return int64(t), nil
	case int:
		return int64(t), nil
	}
	return nil, serErr("Expected an integer for %s.", name)
}

func toFloat(v any, name string) (any, error) {
	switch t := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return nil, serErr("Expected a number for %s.", name)
		}
		return f, nil
	case float64:
		return t, nil
	case int64:
		return float64(t), nil
	case uint64:
		return float64(t), nil
	case string:
		switch t {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
	}
	return nil, serErr("Expected a number for %s.", name)
}

func toTime(v any, name string) (any, error) {
	switch t := v.(type) {
	case time.Time:
		return t.UTC(), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return nil, serErr("Expected a timestamp for %s.", name)
		}
		return EpochTime(f), nil
	case float64:
		return EpochTime(t), nil
	case int64:
		return time.Unix(t, 0).UTC(), nil
	case uint64:
		return time.Unix(int64(t), 0).UTC(), nil
	case string:
		for _, layout := range []string{time.RFC3339Nano, time.RFC1123} {
			if tm, err := time.Parse(layout, t); err == nil {
				return tm.UTC(), nil
			}
		}
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return EpochTime(f), nil
		}
	}
	return nil, serErr("Expected a timestamp for %s.", name)
}

// EpochTime converts fractional epoch seconds to a UTC time, rounding to the
// microsecond so decimal fractions such as 1.123 survive float error.
func EpochTime(f float64) time.Time {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	us := math.Round(frac * 1e6)
	return time.Unix(int64(sec), int64(us)*1000).UTC()
}
