package ec2

import (
	"slices"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
)

// parseTags reads a TagList.
func parseTags(l []any) ([]Tag, error) {
	var out []Tag
	for _, v := range l {
		m, _ := v.(map[string]any)
		k := service.Str(m, "Key")
		if k == "" {
			return nil, invalidParam("Tag key cannot be null or empty")
		}
		if len(k) > 128 || len(service.Str(m, "Value")) > 256 {
			return nil, invalidParam("Tag keys may have at most 128 characters and values at most 256")
		}
		if strings.HasPrefix(k, "aws:") {
			return nil, invalidParam("Value ( %s ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use", k)
		}
		out = setTags(out, []Tag{{k, service.Str(m, "Value")}})
	}
	return out, nil
}

// tagSpecs returns the tags TagSpecifications give resourceType.
func tagSpecs(in map[string]any, resourceType string) ([]Tag, error) {
	var out []Tag
	for _, v := range listOf(in, "TagSpecifications") {
		m, _ := v.(map[string]any)
		rt := service.Str(m, "ResourceType")
		if rt != resourceType {
			continue
		}
		t, err := parseTags(listOf(m, "Tags"))
		if err != nil {
			return nil, err
		}
		out = setTags(out, t)
	}
	return out, nil
}

// tagsFor validates that every TagSpecification names one of types.
func checkTagSpecTypes(in map[string]any, types ...string) error {
	for _, v := range listOf(in, "TagSpecifications") {
		m, _ := v.(map[string]any)
		rt := service.Str(m, "ResourceType")
		if !slices.Contains(types, rt) {
			return invalidParam("'%s' is not a valid taggable resource type for this operation.", rt)
		}
	}
	return nil
}

// taggable finds a resource by id; it returns its tags, its resource type
// and a function that stores new tags in c.
func (rg *region) taggable(id string) (tags []Tag, rtype string, set func(c *change, t []Tag), err error) {
	prefix, _, _ := strings.Cut(id, "-")
	notFound := func(code, what string) error {
		return errf(code, "The %s ID '%s' does not exist", what, id)
	}
	switch prefix {
	case "i":
		if in := rg.instances[id]; in != nil {
			return in.Tags, "instance", func(c *change, t []Tag) { in.Tags = t; c.put(kindInstance, id, in) }, nil
		}
		return nil, "", nil, notFound(codeInstanceNotFound, "instance")
	case "vpc":
		if v := rg.vpcs[id]; v != nil {
			return v.Tags, "vpc", func(c *change, t []Tag) { v.Tags = t; c.put(kindVPC, id, v) }, nil
		}
		return nil, "", nil, notFound(codeVpcNotFound, "vpc")
	case "subnet":
		if v := rg.subnets[id]; v != nil {
			return v.Tags, "subnet", func(c *change, t []Tag) { v.Tags = t; c.put(kindSubnet, id, v) }, nil
		}
		return nil, "", nil, notFound(codeSubnetNotFound, "subnet")
	case "sg":
		if v := rg.groups[id]; v != nil {
			return v.Tags, "security-group", func(c *change, t []Tag) { v.Tags = t; c.put(kindGroup, id, v) }, nil
		}
		return nil, "", nil, errf(codeGroupNotFound, "The security group '%s' does not exist", id)
	case "key":
		if v := rg.keys[id]; v != nil {
			return v.Tags, "key-pair", func(c *change, t []Tag) { v.Tags = t; c.put(kindKey, id, v) }, nil
		}
		return nil, "", nil, errf(codeKeyPairNotFound, "The key pair '%s' does not exist", id)
	case "lt":
		if v := rg.templates[id]; v != nil {
			return v.Tags, "launch-template", func(c *change, t []Tag) { v.Tags = t; c.put(kindTemplate, id, v) }, nil
		}
		return nil, "", nil, errf(codeLTNotFound, "The specified launch template, with template ID %s, does not exist.", id)
	case "ami":
		if v := rg.images[id]; v != nil {
			return v.Tags, "image", func(c *change, t []Tag) { v.Tags = t; c.put(kindImage, id, v) }, nil
		}
		return nil, "", nil, errf(codeAMINotFound, "The image id '[%s]' does not exist", id)
	}
	return nil, "", nil, errf(codeInvalidID, "The ID '%s' is not valid", id)
}

func (s *Service) createTags(r *service.Request) (map[string]any, error) {
	return s.changeTags(r, true)
}

func (s *Service) deleteTags(r *service.Request) (map[string]any, error) {
	return s.changeTags(r, false)
}

func (s *Service) changeTags(r *service.Request, add bool) (map[string]any, error) {
	ids := service.Strings(r.Input, "Resources")
	if len(ids) == 0 {
		return nil, missingParam("ResourceId")
	}
	var tags []Tag
	if add {
		var err error
		if tags, err = parseTags(listOf(r.Input, "Tags")); err != nil {
			return nil, err
		}
		if len(tags) == 0 {
			return nil, missingParam("Tag")
		}
	} else {
		for _, v := range listOf(r.Input, "Tags") {
			m, _ := v.(map[string]any)
			_, hasValue := m["Value"]
			t := Tag{Key: service.Str(m, "Key"), Value: service.Str(m, "Value")}
			if !hasValue {
				t.Value = "\x00any"
			}
			tags = append(tags, t)
		}
	}
	rg, err := s.regionFor(r.Account, r.Region)
	if err != nil {
		return nil, err
	}
	rg.mu.Lock()
	type pending struct {
		set  func(*change, []Tag)
		tags []Tag
	}
	var todo []pending
	for _, id := range ids {
		cur, _, set, err := rg.taggable(id)
		if err != nil {
			rg.mu.Unlock()
			return nil, err
		}
		next := slices.Clone(cur)
		if add {
			next = setTags(next, tags)
		} else if len(tags) == 0 {
			next = nil
		} else {
			next = slices.DeleteFunc(next, func(t Tag) bool {
				return slices.ContainsFunc(tags, func(d Tag) bool { return d.Key == t.Key && (d.Value == "\x00any" || d.Value == t.Value) })
			})
		}
		todo = append(todo, pending{set, next})
	}
	// Build the change on copies so a failed commit changes nothing.
	c := &change{}
	saved := make([][]Tag, len(todo))
	for i, p := range todo {
		cur, _, _, _ := rg.taggable(ids[i])
		saved[i] = cur
		p.set(c, p.tags)
	}
	if err := s.save(rg, c); err != nil {
		for i, p := range todo {
			p.set(&change{}, saved[i])
		}
		rg.mu.Unlock()
		return nil, err
	}
	rg.mu.Unlock()
	return map[string]any{}, nil
}

func (s *Service) describeTags(r *service.Request) (map[string]any, error) {
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
	type td struct{ id, rtype, key, value string }
	var all []td
	add := func(id, rtype string, tags []Tag) {
		for _, t := range tags {
			all = append(all, td{id, rtype, t.Key, t.Value})
		}
	}
	for id, v := range rg.instances {
		add(id, "instance", v.Tags)
	}
	for id, v := range rg.vpcs {
		add(id, "vpc", v.Tags)
	}
	for id, v := range rg.subnets {
		add(id, "subnet", v.Tags)
	}
	for id, v := range rg.groups {
		add(id, "security-group", v.Tags)
	}
	for id, v := range rg.keys {
		add(id, "key-pair", v.Tags)
	}
	for id, v := range rg.templates {
		add(id, "launch-template", v.Tags)
	}
	for id, v := range rg.images {
		add(id, "image", v.Tags)
	}
	var list []td
	for _, t := range all {
		f := func(name string) ([]string, bool) {
			switch name {
			case "resource-id":
				return []string{t.id}, true
			case "resource-type":
				return []string{t.rtype}, true
			case "key":
				return []string{t.key}, true
			case "value":
				return []string{t.value}, true
			}
			if strings.HasPrefix(name, "tag:") {
				if name[4:] == t.key {
					return []string{t.value}, true
				}
				return nil, true
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
	page, next, err := paginate(r.Input, list, func(t td) string { return t.id + "\x00" + t.key }, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(page))
	for i, t := range page {
		out[i] = map[string]any{"ResourceId": t.id, "ResourceType": t.rtype, "Key": t.key, "Value": t.value}
	}
	return withToken(map[string]any{"Tags": out}, next), nil
}
