package ec2

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/overcast-dev/overcast/internal/protocol/model"
	"github.com/overcast-dev/overcast/internal/service"
)

type templateVersion struct {
	Number      int64
	Description string
	Created     time.Time
	CreatedBy   string
	// Data is the RequestLaunchTemplateData as decoded, in JSON.
	Data json.RawMessage
}

type templateRec struct {
	ID, Name  string
	Created   time.Time
	CreatedBy string
	Default   int64
	Latest    int64
	Versions  []*templateVersion
	Tags      []Tag
}

var templateNameRE = regexp.MustCompile(`^[a-zA-Z0-9().\-/_]{3,128}$`)

func (t *templateRec) version(n int64) *templateVersion {
	for _, v := range t.Versions {
		if v.Number == n {
			return v
		}
	}
	return nil
}

// resolve turns "$Latest", "$Default", "" (default) or a number into a
// version.
func (t *templateRec) resolve(ver string) (*templateVersion, error) {
	var n int64
	switch ver {
	case "", "$Default":
		n = t.Default
	case "$Latest":
		n = t.Latest
	default:
		var err error
		n, err = strconv.ParseInt(ver, 10, 64)
		if err != nil || n < 1 {
			return nil, errf(codeInvalidParameterValue, "The launch template version '%s' is not valid.", ver)
		}
	}
	if v := t.version(n); v != nil {
		return v, nil
	}
	return nil, errf(codeLTVersionNotFound, "Could not find launch template version %s for launch template %s", ver, t.ID)
}

// findTemplate finds a template by id or name; rg.mu is held.
func (rg *region) findTemplate(id, name string) (*templateRec, error) {
	if id != "" {
		if len(id) < 4 || id[:3] != "lt-" {
			return nil, errf(codeLTMalformed, "The specified launch template ID '%s' is malformed.", id)
		}
		if t := rg.templates[id]; t != nil {
			return t, nil
		}
		return nil, errf(codeLTNotFound, "The specified launch template, with template ID %s, does not exist.", id)
	}
	if name == "" {
		return nil, missingParam("LaunchTemplateId or LaunchTemplateName")
	}
	for _, t := range rg.templates {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, errf(codeLTNameNotFound, "The specified launch template, with template name %s, does not exist.", name)
}

// templateData returns the launch data of a template version, its id and
// the version number; rg.mu is held.
func (rg *region) templateData(id, name, ver string) (map[string]any, string, string, error) {
	t, err := rg.findTemplate(id, name)
	if err != nil {
		return nil, "", "", err
	}
	v, err := t.resolve(ver)
	if err != nil {
		return nil, "", "", err
	}
	var data map[string]any
	if len(v.Data) > 0 {
		if err := json.Unmarshal(v.Data, &data); err != nil {
			return nil, "", "", internal(err)
		}
	}
	return data, t.ID, strconv.FormatInt(v.Number, 10), nil
}

func (t *templateRec) out(rg *region) map[string]any {
	return map[string]any{
		"LaunchTemplateId": t.ID, "LaunchTemplateName": t.Name, "CreateTime": t.Created,
		"CreatedBy": t.CreatedBy, "DefaultVersionNumber": t.Default, "LatestVersionNumber": t.Latest,
		"Tags": tagsOut(t.Tags),
	}
}

// responseDataShape is the model shape launch template data is described
// with.
func responseDataShape() *model.Shape {
	api, err := model.Load("ec2")
	if err != nil {
		return nil
	}
	return api.Shapes["ResponseLaunchTemplateData"]
}

func (t *templateRec) versionOut(v *templateVersion) map[string]any {
	m := map[string]any{
		"LaunchTemplateId": t.ID, "LaunchTemplateName": t.Name, "VersionNumber": v.Number,
		"CreateTime": v.Created, "CreatedBy": v.CreatedBy, "DefaultVersion": v.Number == t.Default,
	}
	if v.Description != "" {
		m["VersionDescription"] = v.Description
	}
	var data any
	if len(v.Data) > 0 && json.Unmarshal(v.Data, &data) == nil {
		if sh := responseDataShape(); sh != nil {
			m["LaunchTemplateData"] = coerce(data, sh)
		}
	}
	if m["LaunchTemplateData"] == nil {
		m["LaunchTemplateData"] = map[string]any{}
	}
	return m
}

// coerce converts a JSON-decoded value to the Go types the codecs expect
// for shape sh, dropping members sh does not have.
func coerce(v any, sh *model.Shape) any {
	if sh == nil || v == nil {
		return nil
	}
	switch sh.Type {
	case "structure":
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		out := map[string]any{}
		for k, val := range m {
			ref := sh.Members[k]
			if ref == nil {
				continue
			}
			if c := coerce(val, ref.Shape); c != nil {
				out[k] = c
			}
		}
		return out
	case "list":
		l, ok := v.([]any)
		if !ok || sh.Member == nil {
			return nil
		}
		out := make([]any, 0, len(l))
		for _, e := range l {
			if c := coerce(e, sh.Member.Shape); c != nil {
				out = append(out, c)
			}
		}
		return out
	case "map":
		m, ok := v.(map[string]any)
		if !ok || sh.Value == nil {
			return nil
		}
		out := map[string]any{}
		for k, e := range m {
			if c := coerce(e, sh.Value.Shape); c != nil {
				out[k] = c
			}
		}
		return out
	case "string":
		s, _ := v.(string)
		return s
	case "boolean":
		b, ok := v.(bool)
		if !ok {
			return nil
		}
		return b
	case "integer", "long", "short", "byte":
		f, ok := v.(float64)
		if !ok {
			return nil
		}
		return int64(f)
	case "float", "double":
		f, ok := v.(float64)
		if !ok {
			return nil
		}
		return f
	case "timestamp":
		s, _ := v.(string)
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil
		}
		return ts
	case "blob":
		s, _ := v.(string)
		return []byte(s)
	}
	return nil
}

// encodeData validates launch template data and encodes it for storage.
func encodeData(rg *region, in map[string]any) (json.RawMessage, error) {
	data, _ := in["LaunchTemplateData"].(map[string]any)
	if data == nil {
		return nil, missingParam("LaunchTemplateData")
	}
	spec := &launchSpec{}
	if err := spec.apply(data); err != nil {
		return nil, err
	}
	if spec.ImageID != "" {
		if _, err := rg.image(spec.ImageID); err != nil {
			return nil, err
		}
	}
	if spec.InstanceType != "" && !instanceTypeRE.MatchString(spec.InstanceType) {
		return nil, invalidParam("Invalid value '%s' for InstanceType.", spec.InstanceType)
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, internal(err)
	}
	return b, nil
}

func (s *Service) createLaunchTemplate(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "LaunchTemplateName")
	if name == "" {
		return nil, missingParam("LaunchTemplateName")
	}
	if !templateNameRE.MatchString(name) {
		return nil, errf(codeLTNameMalformed, "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'")
	}
	if err := checkTagSpecTypes(r.Input, "launch-template"); err != nil {
		return nil, err
	}
	tags, err := tagSpecs(r.Input, "launch-template")
	if err != nil {
		return nil, err
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	for _, t := range rg.templates {
		if t.Name == name {
			return nil, errf(codeLTNameExists, "Launch template name already in use.")
		}
	}
	data, err := encodeData(rg, r.Input)
	if err != nil {
		return nil, err
	}
	now := s.clk.Now().UTC().Truncate(time.Millisecond)
	by := "arn:" + service.Partition(rg.name) + ":iam::" + r.Account + ":root"
	t := &templateRec{
		ID: newID("lt"), Name: name, Created: now, CreatedBy: by, Default: 1, Latest: 1, Tags: tags,
		Versions: []*templateVersion{{Number: 1, Description: service.Str(r.Input, "VersionDescription"), Created: now, CreatedBy: by, Data: data}},
	}
	if err := s.save(rg, (&change{}).put(kindTemplate, t.ID, t)); err != nil {
		return nil, err
	}
	rg.templates[t.ID] = t
	return map[string]any{"LaunchTemplate": t.out(rg)}, nil
}

func (s *Service) createLaunchTemplateVersion(r *service.Request) (map[string]any, error) {
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	t, err := rg.findTemplate(service.Str(r.Input, "LaunchTemplateId"), service.Str(r.Input, "LaunchTemplateName"))
	if err != nil {
		return nil, err
	}
	data, err := encodeData(rg, r.Input)
	if err != nil {
		return nil, err
	}
	if src := service.Str(r.Input, "SourceVersion"); src != "" {
		sv, err := t.resolve(src)
		if err != nil {
			return nil, err
		}
		// The new data overrides the source version's, member by member.
		var base, over map[string]any
		json.Unmarshal(sv.Data, &base)
		json.Unmarshal(data, &over)
		if base == nil {
			base = map[string]any{}
		}
		for k, v := range over {
			base[k] = v
		}
		if data, err = json.Marshal(base); err != nil {
			return nil, internal(err)
		}
	}
	now := s.clk.Now().UTC().Truncate(time.Millisecond)
	nt := *t
	nt.Latest = t.Latest + 1
	v := &templateVersion{Number: nt.Latest, Description: service.Str(r.Input, "VersionDescription"), Created: now, CreatedBy: t.CreatedBy, Data: data}
	nt.Versions = append(slices.Clone(t.Versions), v)
	if err := s.save(rg, (&change{}).put(kindTemplate, t.ID, &nt)); err != nil {
		return nil, err
	}
	*t = nt
	return map[string]any{"LaunchTemplateVersion": t.versionOut(v)}, nil
}

func (s *Service) describeLaunchTemplates(r *service.Request) (map[string]any, error) {
	fs, err := parseFilters(r.Input)
	if err != nil {
		return nil, err
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	ids := service.Strings(r.Input, "LaunchTemplateIds")
	names := service.Strings(r.Input, "LaunchTemplateNames")
	want := map[string]bool{}
	for _, id := range ids {
		t, err := rg.findTemplate(id, "")
		if err != nil {
			return nil, err
		}
		want[t.ID] = true
	}
	for _, n := range names {
		t, err := rg.findTemplate("", n)
		if err != nil {
			return nil, errf(codeLTNameNotFound, "At least one of the launch templates specified in the request does not exist.")
		}
		want[t.ID] = true
	}
	var list []*templateRec
	for _, t := range rg.templates {
		if len(want) > 0 && !want[t.ID] {
			continue
		}
		f := func(name string) ([]string, bool) {
			if vals, ok := tagFields(t.Tags, name); ok {
				return vals, true
			}
			switch name {
			case "launch-template-name":
				return []string{t.Name}, true
			case "create-time":
				return []string{t.Created.Format(time.RFC3339)}, true
			}
			return nil, false
		}
		if err := validateFilters(fs, f); err != nil {
			return nil, err
		}
		if matches(fs, f) {
			list = append(list, t)
		}
	}
	page, next, err := paginate(r.Input, list, func(t *templateRec) string { return t.Name }, 1, 200)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(page))
	for i, t := range page {
		out[i] = t.out(rg)
	}
	return withToken(map[string]any{"LaunchTemplates": out}, next), nil
}

func (s *Service) describeLaunchTemplateVersions(r *service.Request) (map[string]any, error) {
	fs, err := parseFilters(r.Input)
	if err != nil {
		return nil, err
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	id, name := service.Str(r.Input, "LaunchTemplateId"), service.Str(r.Input, "LaunchTemplateName")
	var templates []*templateRec
	if id == "" && name == "" {
		templates = mapValues(rg.templates)
	} else {
		t, err := rg.findTemplate(id, name)
		if err != nil {
			return nil, err
		}
		templates = []*templateRec{t}
	}
	versions := service.Strings(r.Input, "Versions")
	minV, maxV := int64(0), int64(1<<62)
	if v := service.Str(r.Input, "MinVersion"); v != "" {
		if minV, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, invalidParam("The version number '%s' is not valid.", v)
		}
	}
	if v := service.Str(r.Input, "MaxVersion"); v != "" {
		if maxV, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, invalidParam("The version number '%s' is not valid.", v)
		}
	}
	type tv struct {
		t *templateRec
		v *templateVersion
	}
	var list []tv
	for _, t := range templates {
		var vs []*templateVersion
		if len(versions) > 0 {
			for _, ver := range versions {
				v, err := t.resolve(ver)
				if err != nil {
					return nil, err
				}
				if !slices.Contains(vs, v) {
					vs = append(vs, v)
				}
			}
		} else {
			vs = t.Versions
		}
		for _, v := range vs {
			if v.Number < minV || v.Number > maxV {
				continue
			}
			f := func(name string) ([]string, bool) {
				switch name {
				case "is-default-version":
					return []string{boolStr(v.Number == t.Default)}, true
				case "create-time":
					return []string{v.Created.Format(time.RFC3339)}, true
				}
				var data map[string]any
				json.Unmarshal(v.Data, &data)
				switch name {
				case "image-id":
					return []string{service.Str(data, "ImageId")}, true
				case "instance-type":
					return []string{service.Str(data, "InstanceType")}, true
				case "kernel-id", "ram-disk-id", "host-resource-group-arn", "license-configuration-arn", "network-card-index", "ebs-optimized", "iam-instance-profile":
					return nil, true
				}
				return nil, false
			}
			if err := validateFilters(fs, f); err != nil {
				return nil, err
			}
			if matches(fs, f) {
				list = append(list, tv{t, v})
			}
		}
	}
	page, next, err := paginate(r.Input, list, func(x tv) string {
		return x.t.Name + "\x00" + strconv.FormatInt(1<<40+x.v.Number, 10)
	}, 1, 200)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(page))
	for i, x := range page {
		out[i] = x.t.versionOut(x.v)
	}
	return withToken(map[string]any{"LaunchTemplateVersions": out}, next), nil
}

func (s *Service) modifyLaunchTemplate(r *service.Request) (map[string]any, error) {
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	t, err := rg.findTemplate(service.Str(r.Input, "LaunchTemplateId"), service.Str(r.Input, "LaunchTemplateName"))
	if err != nil {
		return nil, err
	}
	if dv := service.Str(r.Input, "DefaultVersion"); dv != "" {
		v, err := t.resolve(dv)
		if err != nil {
			return nil, err
		}
		nt := *t
		nt.Default = v.Number
		if err := s.save(rg, (&change{}).put(kindTemplate, t.ID, &nt)); err != nil {
			return nil, err
		}
		t.Default = v.Number
	}
	return map[string]any{"LaunchTemplate": t.out(rg)}, nil
}

func (s *Service) deleteLaunchTemplate(r *service.Request) (map[string]any, error) {
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	t, err := rg.findTemplate(service.Str(r.Input, "LaunchTemplateId"), service.Str(r.Input, "LaunchTemplateName"))
	if err != nil {
		return nil, err
	}
	if err := s.save(rg, (&change{}).del(kindTemplate, t.ID)); err != nil {
		return nil, err
	}
	delete(rg.templates, t.ID)
	return map[string]any{"LaunchTemplate": t.out(rg)}, nil
}
