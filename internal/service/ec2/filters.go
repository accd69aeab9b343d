package ec2

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

// filter is one of a Describe call's Filters: it matches a resource when any
// of the resource's values for Name matches any of Values (* and ? are
// wildcards).
type filter struct {
	Name   string
	Values []string
}

// fieldFunc returns a resource's values for a filter name, and false when
// the name is not a filter of that resource.
type fieldFunc func(name string) ([]string, bool)

func parseFilters(in map[string]any) ([]filter, error) {
	l, _ := in["Filters"].([]any)
	out := make([]filter, 0, len(l))
	for _, v := range l {
		m, _ := v.(map[string]any)
		f := filter{Name: service.Str(m, "Name"), Values: service.Strings(m, "Values")}
		if f.Name == "" {
			return nil, invalidParam("The filter 'null' is invalid")
		}
		out = append(out, f)
	}
	return out, nil
}

// tagFields answers the tag filters common to every resource.
func tagFields(tags []Tag, name string) ([]string, bool) {
	switch {
	case strings.HasPrefix(name, "tag:"):
		if v, ok := tagValue(tags, name[4:]); ok {
			return []string{v}, true
		}
		return nil, true
	case name == "tag-key":
		out := make([]string, len(tags))
		for i, t := range tags {
			out[i] = t.Key
		}
		return out, true
	case name == "tag-value":
		out := make([]string, len(tags))
		for i, t := range tags {
			out[i] = t.Value
		}
		return out, true
	}
	return nil, false
}

// validate reports an unknown filter name the way EC2 does.
func validateFilters(fs []filter, fields fieldFunc) error {
	for _, f := range fs {
		if _, ok := fields(f.Name); !ok {
			return invalidParam("The filter '%s' is invalid", f.Name)
		}
	}
	return nil
}

// matches reports whether a resource with fields passes every filter.
func matches(fs []filter, fields fieldFunc) bool {
	for _, f := range fs {
		vals, _ := fields(f.Name)
		if !anyMatch(vals, f.Values) {
			return false
		}
	}
	return true
}

func anyMatch(vals, patterns []string) bool {
	for _, p := range patterns {
		for _, v := range vals {
			if p == v {
				return true
			}
			if strings.ContainsAny(p, "*?") && glob(p, v) {
				return true
			}
		}
	}
	return false
}

// glob matches v against p, where * matches any run of characters and ?
// any one character.
func glob(p, v string) bool {
	px, vx := 0, 0
	star, mark := -1, 0
	for vx < len(v) {
		switch {
		case px < len(p) && (p[px] == '?' || p[px] == v[vx]):
			px++
			vx++
		case px < len(p) && p[px] == '*':
			star, mark = px, vx
			px++
		case star >= 0:
			px = star + 1
			mark++
			vx = mark
		default:
			return false
		}
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
}

func boolStr(b bool) string { return strconv.FormatBool(b) }

// paginate returns the page of items (sorted by key) that NextToken and
// MaxResults select, and the token of the next page.
func paginate[T any](in map[string]any, items []T, key func(T) string, minMax, maxMax int64) ([]T, string, error) {
	sort.Slice(items, func(i, j int) bool { return key(items[i]) < key(items[j]) })
	if tok := service.Str(in, "NextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) == 0 {
			return nil, "", errf(codeInvalidNextToken, "The token '%s' is invalid.", tok)
		}
		after := string(b)
		i := sort.Search(len(items), func(i int) bool { return key(items[i]) > after })
		items = items[i:]
	}
	n, ok := service.Int(in, "MaxResults")
	if !ok {
		return items, "", nil
	}
	if n < minMax || n > maxMax {
		return nil, "", invalidParam("Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than %d.", n, minMax-1)
	}
	if int64(len(items)) <= n {
		return items, "", nil
	}
	page := items[:n]
	return page, base64.RawURLEncoding.EncodeToString([]byte(key(page[len(page)-1]))), nil
}
