package autoscaling

import (
	"encoding/hex"
	"sort"
	"strconv"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
)

// Helpers over decoded input values (see package model for their types).

func obj(in map[string]any, k string) map[string]any {
	m, _ := in[k].(map[string]any)
	return m
}

func objs(in map[string]any, k string) []map[string]any {
	l, _ := in[k].([]any)
	out := make([]map[string]any, 0, len(l))
	for _, v := range l {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func has(in map[string]any, k string) bool {
	_, ok := in[k]
	return ok
}

func intp(in map[string]any, k string) *int64 {
	if n, ok := in[k].(int64); ok {
		return &n
	}
	return nil
}

func floatp(in map[string]any, k string) *float64 {
	switch v := in[k].(type) {
	case float64:
		return &v
	case int64:
		f := float64(v)
		return &f
	}
	return nil
}

func boolp(in map[string]any, k string) *bool {
	if b, ok := in[k].(bool); ok {
		return &b
	}
	return nil
}

func awsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func itoa(n int) string { return strconv.Itoa(n) }

// page returns the names of one page of sorted keys after token and the
// next token; max is MaxRecords (0: def).
func page(keys []string, token string, maxRecords int64, def int) ([]string, string, error) {
	sort.Strings(keys)
	start := 0
	if token != "" {
		b, err := hex.DecodeString(token)
		if err != nil {
			return nil, "", apiErr(codeInvalidNextToken, "The token '%s' is invalid.", token)
		}
		after := string(b)
		start = sort.SearchStrings(keys, after)
		if start < len(keys) && keys[start] == after {
			start++
		}
	}
	n := def
	if maxRecords > 0 {
		n = int(maxRecords)
	}
	end := min(len(keys), start+n)
	if start > end {
		start = end
	}
	next := ""
	if end < len(keys) {
		next = hex.EncodeToString([]byte(keys[end-1]))
	}
	return keys[start:end], next, nil
}

func checkMaxRecords(in map[string]any, limit int64) error {
	if n, ok := service.Int(in, "MaxRecords"); ok && (n < 1 || n > limit) {
		return validation("1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to %d", n, limit)
	}
	return nil
}
