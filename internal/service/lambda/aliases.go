package lambda

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/overcast-dev/overcast/internal/service"
)

func aliasARN(f *function, name string) string { return f.arn() + ":" + name }

func aliasOut(f *function, a *alias) map[string]any {
	out := map[string]any{
		"AliasArn":        aliasARN(f, a.Name),
		"Name":            a.Name,
		"FunctionVersion": a.Version,
		"Description":     a.Description,
		"RevisionId":      a.RevisionID,
	}
	if len(a.Weights) > 0 {
		w := make(map[string]any, len(a.Weights))
		for k, v := range a.Weights {
			w[k] = v
		}
		out["RoutingConfig"] = map[string]any{"AdditionalVersionWeights": w}
	}
	return out
}

// aliasWeights validates a RoutingConfig against f for an alias pointing at
// primary.
func aliasWeights(f *function, primary string, in map[string]any) (map[string]float64, error) {
	rc, ok := in["RoutingConfig"].(map[string]any)
	if !ok {
		return nil, nil
	}
	m, _ := rc["AdditionalVersionWeights"].(map[string]any)
	if len(m) == 0 {
		return nil, nil
	}
	if len(m) > 1 {
		return nil, errInvalid("Number of items in AdditionalVersionWeights cannot be greater than 1")
	}
	out := map[string]float64{}
	for ver, wv := range m {
		w, _ := wv.(float64)
		if w < 0 || w > 1 || math.IsNaN(w) {
			return nil, errValidation(w, "routingConfig.additionalVersionWeights", "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]")
		}
		if ver == primary {
			return nil, errInvalid("Invalid function version %s. Function version %s is already included in routing configuration.", ver, ver)
		}
		if _, err := strconv.Atoi(ver); err != nil || f.lookupVersion(ver) == nil {
			return nil, errNotFound("Function not found: %s:%s", f.arn(), ver)
		}
		if primary == latest {
			return nil, errInvalid("$LATEST is not supported for an alias pointing to more than 1 version")
		}
		out[ver] = w
	}
	return out, nil
}

func checkAliasVersion(f *function, ver string) error {
	if ver == latest {
		return nil
	}
	if _, err := strconv.Atoi(ver); err != nil || f.lookupVersion(ver) == nil {
		return errNotFound("Function not found: %s:%s", f.arn(), ver)
	}
	return nil
}

func (s *Service) createAlias(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return nil, err
	}
	name := service.Str(r.Input, "Name")
	if !aliasRe.MatchString(name) || len(name) > 128 {
		return nil, errValidation(name, "name", "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")
	}
	ver := service.Str(r.Input, "FunctionVersion")
	var out map[string]any
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		if f.Aliases[name] != nil {
			return errConflict("Alias already exists: %s", aliasARN(f, name))
		}
		if err := checkAliasVersion(f, ver); err != nil {
			return err
		}
		w, err := aliasWeights(f, ver, r.Input)
		if err != nil {
			return err
		}
		a := &alias{Name: name, Version: ver, Description: service.Str(r.Input, "Description"), Weights: w, RevisionID: newID()}
		if f.Aliases == nil {
			f.Aliases = map[string]*alias{}
		}
		f.Aliases[name] = a
		out = aliasOut(f, a)
		return nil
	})
	return out, err
}

func (s *Service) findAlias(r *service.Request) (fnRef, *function, *alias, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return ref, nil, nil, err
	}
	f := s.lookup(ref.key)
	if f == nil {
		return ref, nil, nil, errFunctionNotFound(ref.arn())
	}
	name := service.Str(r.Input, "Name")
	a := f.Aliases[name]
	if a == nil {
		return ref, nil, nil, errNotFound("Alias not found: %s", aliasARN(f, name))
	}
	return ref, f, a, nil
}

func (s *Service) getAlias(r *service.Request) (map[string]any, error) {
	_, f, a, err := s.findAlias(r)
	if err != nil {
		return nil, err
	}
	return aliasOut(f, a), nil
}

func (s *Service) updateAlias(r *service.Request) (map[string]any, error) {
	ref, _, _, err := s.findAlias(r)
	if err != nil {
		return nil, err
	}
	name := service.Str(r.Input, "Name")
	var out map[string]any
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		cur := f.Aliases[name]
		if cur == nil {
			return errNotFound("Alias not found: %s", aliasARN(f, name))
		}
		if err := checkRevision(r.Input, cur.RevisionID, "GetFunction/GetAlias"); err != nil {
			return err
		}
		a := *cur
		if v := service.Str(r.Input, "FunctionVersion"); v != "" {
			if err := checkAliasVersion(f, v); err != nil {
				return err
			}
			a.Version = v
		}
		if _, ok := r.Input["Description"]; ok {
			a.Description = service.Str(r.Input, "Description")
		}
		if _, ok := r.Input["RoutingConfig"]; ok {
			w, err := aliasWeights(f, a.Version, r.Input)
			if err != nil {
				return err
			}
			a.Weights = w
		}
		a.RevisionID = newID()
		f.Aliases[name] = &a
		out = aliasOut(f, &a)
		return nil
	})
	return out, err
}

func (s *Service) deleteAlias(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return nil, err
	}
	name := service.Str(r.Input, "Name")
	_, err = s.mutate(ref.key, ref.arn(), func(f *function) error {
		delete(f.Aliases, name) // deleting a missing alias succeeds, as in Lambda
		delete(f.EventInvoke, name)
		return nil
	})
	return nil, err
}

func (s *Service) listAliases(r *service.Request) (map[string]any, error) {
	ref, err := parseRef(r, service.Str(r.Input, "FunctionName"), "")
	if err != nil {
		return nil, err
	}
	f := s.lookup(ref.key)
	if f == nil {
		return nil, errFunctionNotFound(ref.arn())
	}
	fv := service.Str(r.Input, "FunctionVersion")
	var as []*alias
	for _, a := range f.Aliases {
		if fv == "" || a.Version == fv {
			as = append(as, a)
		}
	}
	sort.Slice(as, func(i, j int) bool { return as[i].Name < as[j].Name })
	lo, hi, next, err := page(r.Input, service.Str(r.Input, "Marker"), len(as), func(i int) string { return as[i].Name }, 50)
	if err != nil {
		return nil, err
	}
	list := make([]any, 0, hi-lo)
	for _, a := range as[lo:hi] {
		list = append(list, aliasOut(f, a))
	}
	out := map[string]any{"Aliases": list}
	if next != "" {
		out["NextMarker"] = next
	}
	return out, nil
}

// route picks the version an invocation of alias a runs: the alias's
// version, or an additional version with its weight's probability.
func route(a *alias) string {
	if len(a.Weights) == 0 {
		return a.Version
	}
	x := rand.Float64()
	for v, w := range a.Weights {
		if x < w {
			return v
		}
		x -= w
	}
	return a.Version
}
