package elb

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/protocol/awserr"
)

// Helpers over decoded input values (see package model for their types).

func str(in map[string]any, k string) string {
	s, _ := in[k].(string)
	return s
}

func has(in map[string]any, k string) bool {
	_, ok := in[k]
	return ok
}

func num(in map[string]any, k string) (int, bool) {
	n, ok := in[k].(int64)
	return int(n), ok
}

func boolv(in map[string]any, k string) (bool, bool) {
	b, ok := in[k].(bool)
	return b, ok
}

func strs(in map[string]any, k string) []string {
	l, _ := in[k].([]any)
	out := make([]string, 0, len(l))
	for _, v := range l {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
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

func obj(in map[string]any, k string) map[string]any {
	m, _ := in[k].(map[string]any)
	return m
}

func hexID(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func digitsID(n int) string {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, _ := rand.Int(rand.Reader, max)
	s := v.String()
	for len(s) < n {
		s = "0" + s
	}
	if s[0] == '0' {
		s = "1" + s[1:]
	}
	return s
}

// validName checks a load balancer or target group name.
func validName(kind, name string) *awserr.Error {
	if name == "" {
		return validation("%s name cannot be empty", kind)
	}
	if len(name) > 32 {
		return validation("%s name cannot be longer than '32' characters", kind)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return validation("%s name '%s' can only contain characters that are alphanumeric characters or hyphens(-)", kind, name)
		}
	}
	if name[0] == '-' || name[len(name)-1] == '-' {
		return validation("%s name cannot begin or end with '-' character", kind)
	}
	return nil
}

func parseTags(in map[string]any) ([]tag, *awserr.Error) {
	var out []tag
	seen := map[string]bool{}
	for _, t := range objs(in, "Tags") {
		k := str(t, "Key")
		if k == "" {
			return nil, validation("A tag key must be specified")
		}
		if seen[k] {
			return nil, apiErr("DuplicateTagKeysException", "Tag key '%s' is duplicated", k)
		}
		seen[k] = true
		out = append(out, tag{Key: k, Value: str(t, "Value")})
	}
	if len(out) > 50 {
		return nil, apiErr("TooManyTagsException", "The quota for the number of tags that can be assigned to a load balancer has been reached")
	}
	return out, nil
}

func tagsOut(ts []tag) []any {
	out := make([]any, 0, len(ts))
	for _, t := range ts {
		out = append(out, map[string]any{"Key": t.Key, "Value": t.Value})
	}
	return out
}

func mergeTags(old, add []tag) ([]tag, *awserr.Error) {
	out := cloneTags(old)
	for _, a := range add {
		found := false
		for i := range out {
			if out[i].Key == a.Key {
				out[i].Value = a.Value
				found = true
			}
		}
		if !found {
			out = append(out, a)
		}
	}
	if len(out) > 50 {
		return nil, apiErr("TooManyTagsException", "The quota for the number of tags that can be assigned to a resource has been reached")
	}
	return out, nil
}

func removeTags(old []tag, keys []string) []tag {
	var out []tag
	for _, t := range old {
		drop := false
		for _, k := range keys {
			if t.Key == k {
				drop = true
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

// page applies Marker/PageSize pagination to n sorted items: it returns the
// [from, to) bounds and the next marker.
func page(in map[string]any, n int) (from, to int, next string, err *awserr.Error) {
	size := 400
	if v, ok := num(in, "PageSize"); ok {
		if v < 1 || v > 400 {
			return 0, 0, "", validation("1 validation error detected: Value '%d' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400", v)
		}
		size = v
	}
	if m := str(in, "Marker"); m != "" {
		i, e := strconv.Atoi(m)
		if e != nil || i < 0 || i > n {
			return 0, 0, "", validation("The marker '%s' is not valid", m)
		}
		from = i
	}
	to = min(from+size, n)
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func attrsOut(m map[string]string) []any {
	out := make([]any, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, map[string]any{"Key": k, "Value": m[k]})
	}
	return out
}

func atoiRange(key, v string, lo, hi int) (int, *awserr.Error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, validation("The value of '%s' must be an integer between %d and %d", key, lo, hi)
	}
	return n, nil
}

func boolAttr(key, v string) *awserr.Error {
	if v != "true" && v != "false" {
		return validation("The value of '%s' must be 'true' or 'false'", key)
	}
	return nil
}

func oneOf(key, v string, allowed ...string) *awserr.Error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return validation("The value of '%s' must be one of %s", key, "'"+strings.Join(allowed, "', '")+"'")
}

// portString formats a port for messages.
func portString(p int) string { return fmt.Sprint(p) }
