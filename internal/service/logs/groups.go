package logs

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

var (
	groupNameRe  = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]+$`)
	streamNameRe = regexp.MustCompile(`^[^:*]*$`)
)

// retentionDays are the values PutRetentionPolicy accepts.
var retentionDays = []int64{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func validGroupName(member, name string) error {
	if name == "" {
		return missing(member)
	}
	if len(name) > 512 {
		return invalidParam("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to 512", name, member)
	}
	if !groupNameRe.MatchString(name) {
		return invalidParam(`1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`, name, member)
	}
	return nil
}

func validStreamName(name string) error {
	if name == "" {
		return missing("logStreamName")
	}
	if len(name) > 512 {
		return invalidParam("1 validation error detected: Value '%s' at 'logStreamName' failed to satisfy constraint: Member must have length less than or equal to 512", name)
	}
	if !streamNameRe.MatchString(name) {
		return invalidParam("1 validation error detected: Value '%s' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*", name)
	}
	return nil
}

func tagsOf(in map[string]any, member string) (map[string]string, error) {
	raw, _ := in[member].(map[string]any)
	if len(raw) > 50 {
		return nil, invalidParam("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to 50", member)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		sv, _ := v.(string)
		if k == "" || len(k) > 128 || len(sv) > 256 || strings.HasPrefix(k, "aws:") {
			return nil, invalidParam("Invalid tag key or value: %q", k)
		}
		out[k] = sv
	}
	return out, nil
}

func (s *Service) saveGroup(tx storage.Tx, account, region string, m *groupMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return tx.Put(scopeOf(account, region).Key("g", m.Name), b)
}

func (s *Service) createLogGroup(req *service.Request) (map[string]any, error) {
	name := service.Str(req.Input, "logGroupName")
	if err := validGroupName("logGroupName", name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "aws/") {
		return nil, invalidParam("Log group names starting with 'aws/' are reserved for AWS.")
	}
	class := service.Str(req.Input, "logGroupClass")
	switch class {
	case "":
		class = "STANDARD"
	case "STANDARD", "INFREQUENT_ACCESS", "DELIVERY":
	default:
		return nil, invalidParam("1 validation error detected: Value '%s' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]", class)
	}
	tags, err := tagsOf(req.Input, "tags")
	if err != nil {
		return nil, err
	}
	m := groupMeta{Name: name, Created: s.clk.Now().UnixMilli(), KmsKeyID: service.Str(req.Input, "kmsKeyId"),
		Class: class, Tags: tags, DeletionProtection: service.Bool(req.Input, "deletionProtectionEnabled")}
	if class == "DELIVERY" {
		m.Retention = 2
	}
	r := s.region(req.Account, req.Region)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.groups[name] != nil {
		return nil, logsErr(errAlreadyExists, "The specified log group already exists")
	}
	if err := s.kv.Update(func(tx storage.Tx) error { return s.saveGroup(tx, req.Account, req.Region, &m) }); err != nil {
		return nil, err
	}
	r.groups[name] = newGroup(m)
	return map[string]any{}, nil
}

func (s *Service) describeLogGroups(req *service.Request) (map[string]any, error) {
	prefix := service.Str(req.Input, "logGroupNamePrefix")
	pat := service.Str(req.Input, "logGroupNamePattern")
	if prefix != "" && pat != "" {
		return nil, invalidParam("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	class := service.Str(req.Input, "logGroupClass")
	limit := int64(50)
	if l, ok := service.Int(req.Input, "limit"); ok {
		if l < 1 || l > 50 {
			return nil, invalidParam("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50", l)
		}
		limit = l
	}
	after := ""
	if tok := service.Str(req.Input, "nextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) == 0 {
			return nil, badToken()
		}
		after = string(b)
	}
	ids := map[string]bool{}
	if _, ok := req.Input["logGroupIdentifiers"]; ok && (prefix != "" || pat != "") {
		return nil, invalidParam("logGroupIdentifiers cannot be combined with logGroupNamePrefix or logGroupNamePattern.")
	}
	for _, id := range service.Strings(req.Input, "logGroupIdentifiers") {
		ids[groupNameOf(id)] = true
	}
	var out []any
	next := ""
	for _, g := range s.region(req.Account, req.Region).sortedGroups() {
		n := g.name
		if after != "" && n <= after {
			continue
		}
		if prefix != "" && !strings.HasPrefix(n, prefix) {
			continue
		}
		if pat != "" && !strings.Contains(strings.ToLower(n), strings.ToLower(pat)) {
			continue
		}
		if len(ids) > 0 && !ids[n] {
			continue
		}
		if class != "" && g.class != class {
			continue
		}
		if int64(len(out)) == limit {
			next = base64.RawURLEncoding.EncodeToString([]byte(out[len(out)-1].(map[string]any)["logGroupName"].(string)))
			break
		}
		g.mu.Lock()
		if g.deleted {
			g.mu.Unlock()
			continue
		}
		out = append(out, s.groupOutput(req, g))
		g.mu.Unlock()
	}
	res := map[string]any{"logGroups": nonNil(out)}
	if next != "" {
		res["nextToken"] = next
	}
	return res, nil
}

// groupOutput renders g (g.mu held).
func (s *Service) groupOutput(req *service.Request, g *group) map[string]any {
	arn := groupARN(req, g.meta.Name)
	var stored int64
	for _, st := range g.streams {
		st.mu.Lock()
		stored += st.meta.Stored
		st.mu.Unlock()
	}
	o := map[string]any{
		"logGroupName":              g.meta.Name,
		"creationTime":              g.meta.Created,
		"metricFilterCount":         int64(len(g.mfs)),
		"arn":                       arn + ":*",
		"logGroupArn":               arn,
		"storedBytes":               stored,
		"logGroupClass":             g.meta.Class,
		"deletionProtectionEnabled": g.meta.DeletionProtection,
	}
	if g.meta.Retention > 0 {
		o["retentionInDays"] = g.meta.Retention
	}
	if g.meta.KmsKeyID != "" {
		o["kmsKeyId"] = g.meta.KmsKeyID
	}
	return o
}

func nonNil(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

func (s *Service) deleteLogGroup(req *service.Request) (map[string]any, error) {
	name := service.Str(req.Input, "logGroupName")
	if name == "" {
		return nil, missing("logGroupName")
	}
	r := s.region(req.Account, req.Region)
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.groups[name]
	if g == nil {
		return nil, groupNotFound()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.meta.DeletionProtection {
		return nil, logsErr(errInvalidOperation, "Log group %s has deletion protection enabled.", name)
	}
	// Hold every stream so no put lands events after the delete.
	for _, st := range g.streams {
		st.mu.Lock()
		defer st.mu.Unlock()
	}
	sc, ec := scopeOf(req.Account, req.Region), eventScope(req.Account, req.Region)
	err := s.kv.Update(func(tx storage.Tx) error {
		if err := tx.Delete(sc.Key("g", name)); err != nil {
			return err
		}
		for _, kind := range []string{"s", "mf", "sf"} {
			if err := deleteRange(tx, sc, kind, name); err != nil {
				return err
			}
		}
		return deleteRange(tx, ec, name)
	})
	if err != nil {
		return nil, err
	}
	g.deleted = true
	for _, st := range g.streams {
		st.deleted = true
	}
	delete(r.groups, name)
	return map[string]any{}, nil
}

func deleteRange(tx storage.Tx, sc storage.Scope, parts ...string) error {
	start, end := sc.Range(parts...)
	var keys [][]byte
	if err := tx.Scan(start, end, func(k, _ []byte) bool { keys = append(keys, k); return true }); err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// updateGroup runs fn on the named group's metadata under its lock and
// stores the result.
func (s *Service) updateGroup(req *service.Request, name string, fn func(m *groupMeta) error) error {
	g, err := s.lookupGroup(req, name)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.deleted {
		return groupNotFound()
	}
	m := g.meta
	m.Tags = make(map[string]string, len(g.meta.Tags))
	for k, v := range g.meta.Tags {
		m.Tags[k] = v
	}
	if err := fn(&m); err != nil {
		return err
	}
	if err := s.kv.Update(func(tx storage.Tx) error { return s.saveGroup(tx, req.Account, req.Region, &m) }); err != nil {
		return err
	}
	g.meta = m
	return nil
}

func (s *Service) putRetentionPolicy(req *service.Request) (map[string]any, error) {
	name := service.Str(req.Input, "logGroupName")
	days, ok := service.Int(req.Input, "retentionInDays")
	if name == "" {
		return nil, missing("logGroupName")
	}
	if !ok {
		return nil, missing("retentionInDays")
	}
	valid := false
	for _, d := range retentionDays {
		valid = valid || d == days
	}
	if !valid {
		return nil, invalidParam("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]", days)
	}
	err := s.updateGroup(req, name, func(m *groupMeta) error {
		if m.Class == "DELIVERY" {
			return logsErr(errInvalidOperation, "Retention policy cannot be changed for log groups of the DELIVERY class.")
		}
		m.Retention = days
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.mgr != nil {
		s.mgr.Trigger("logs-retention")
	}
	return map[string]any{}, nil
}

func (s *Service) deleteRetentionPolicy(req *service.Request) (map[string]any, error) {
	err := s.updateGroup(req, service.Str(req.Input, "logGroupName"), func(m *groupMeta) error {
		m.Retention = 0
		return nil
	})
	return map[string]any{}, err
}

func (s *Service) associateKmsKey(req *service.Request) (map[string]any, error) {
	key := service.Str(req.Input, "kmsKeyId")
	if key == "" {
		return nil, missing("kmsKeyId")
	}
	name := service.Str(req.Input, "logGroupName")
	if name == "" {
		return nil, invalidParam("Either logGroupName or resourceIdentifier must be specified.")
	}
	err := s.updateGroup(req, name, func(m *groupMeta) error { m.KmsKeyID = key; return nil })
	return map[string]any{}, err
}

func (s *Service) disassociateKmsKey(req *service.Request) (map[string]any, error) {
	name := service.Str(req.Input, "logGroupName")
	if name == "" {
		return nil, invalidParam("Either logGroupName or resourceIdentifier must be specified.")
	}
	err := s.updateGroup(req, name, func(m *groupMeta) error { m.KmsKeyID = ""; return nil })
	return map[string]any{}, err
}

func mergeTags(m *groupMeta, tags map[string]string) error {
	if m.Tags == nil {
		m.Tags = map[string]string{}
	}
	for k, v := range tags {
		m.Tags[k] = v
	}
	if len(m.Tags) > 50 {
		return invalidParam("A log group can have up to 50 tags.")
	}
	return nil
}

// arnGroup resolves a log group ARN given to the tagging API.
func (s *Service) arnGroup(req *service.Request) (string, error) {
	arn := service.Str(req.Input, "resourceArn")
	if arn == "" {
		return "", missing("resourceArn")
	}
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":log-group:") {
		return "", invalidParam("Invalid ARN: %s", arn)
	}
	return groupNameOf(arn), nil
}

func (s *Service) tagResource(req *service.Request) (map[string]any, error) {
	name, err := s.arnGroup(req)
	if err != nil {
		return nil, err
	}
	tags, err := tagsOf(req.Input, "tags")
	if err != nil {
		return nil, err
	}
	return map[string]any{}, s.updateGroup(req, name, func(m *groupMeta) error { return mergeTags(m, tags) })
}

func (s *Service) untagResource(req *service.Request) (map[string]any, error) {
	name, err := s.arnGroup(req)
	if err != nil {
		return nil, err
	}
	keys := service.Strings(req.Input, "tagKeys")
	return map[string]any{}, s.updateGroup(req, name, func(m *groupMeta) error {
		for _, k := range keys {
			delete(m.Tags, k)
		}
		return nil
	})
}

func (s *Service) groupTags(req *service.Request, name string) (map[string]any, error) {
	g, err := s.lookupGroup(req, name)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]any, len(g.meta.Tags))
	for k, v := range g.meta.Tags {
		out[k] = v
	}
	return map[string]any{"tags": out}, nil
}

func (s *Service) listTagsForResource(req *service.Request) (map[string]any, error) {
	name, err := s.arnGroup(req)
	if err != nil {
		return nil, err
	}
	return s.groupTags(req, name)
}

func (s *Service) tagLogGroup(req *service.Request) (map[string]any, error) {
	tags, err := tagsOf(req.Input, "tags")
	if err != nil {
		return nil, err
	}
	return map[string]any{}, s.updateGroup(req, service.Str(req.Input, "logGroupName"), func(m *groupMeta) error { return mergeTags(m, tags) })
}

func (s *Service) untagLogGroup(req *service.Request) (map[string]any, error) {
	keys := service.Strings(req.Input, "tags")
	return map[string]any{}, s.updateGroup(req, service.Str(req.Input, "logGroupName"), func(m *groupMeta) error {
		for _, k := range keys {
			delete(m.Tags, k)
		}
		return nil
	})
}

func (s *Service) listTagsLogGroup(req *service.Request) (map[string]any, error) {
	return s.groupTags(req, service.Str(req.Input, "logGroupName"))
}
