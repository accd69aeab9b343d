package dynamodb

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/overcast-dev/overcast/internal/service"
	"github.com/overcast-dev/overcast/internal/storage"
)

// tableMeta is a table's stored definition.
type tableMeta struct {
	Name       string            `json:"name"`
	ID         string            `json:"id"`
	Created    time.Time         `json:"created"`
	Attrs      map[string]string `json:"attrs"`
	HashKey    string            `json:"hash"`
	RangeKey   string            `json:"range,omitempty"`
	Billing    string            `json:"billing"`
	RCU        int64             `json:"rcu"`
	WCU        int64             `json:"wcu"`
	GSIs       []indexMeta       `json:"gsis,omitempty"`
	LSIs       []indexMeta       `json:"lsis,omitempty"`
	StreamView string            `json:"streamView,omitempty"` // "" when disabled
	StreamID   string            `json:"streamId,omitempty"`
	StreamLbl  string            `json:"streamLabel,omitempty"`
	SSE        bool              `json:"sse,omitempty"`
	SSEKey     string            `json:"sseKey,omitempty"`
	Protect    bool              `json:"protect,omitempty"`
	Class      string            `json:"class,omitempty"`
	TTLAttr    string            `json:"ttlAttr,omitempty"`
	PITR       bool              `json:"pitr,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	TagOrder   []string          `json:"tagOrder,omitempty"`
}

type indexMeta struct {
	Name     string   `json:"name"`
	HashKey  string   `json:"hash"`
	RangeKey string   `json:"range,omitempty"`
	Proj     string   `json:"proj"`
	NonKey   []string `json:"nonKey,omitempty"`
	RCU      int64    `json:"rcu,omitempty"`
	WCU      int64    `json:"wcu,omitempty"`
	Local    bool     `json:"local,omitempty"`
}

// table is a table's runtime form. Copies made by UpdateTable share counts.
type table struct {
	meta    tableMeta
	scope   storage.Scope
	arn     string
	prefix  []byte // item keys
	cnt     *counts
	cap     *capState
	stats   *tableStats
	indexes []*index
	stream  *stream
}

type index struct {
	meta   indexMeta
	prefix []byte
	cnt    *counts
	cap    *capState
}

func newTable(sc storage.Scope, m tableMeta) *table {
	t := &table{meta: m, scope: sc, cnt: &counts{}, cap: &capState{}, stats: &tableStats{}}
	t.arn = fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", service.Partition(sc.Region), sc.Region, sc.Account, m.Name)
	t.prefix = sc.Key("item", m.ID)
	for _, im := range m.LSIs {
		t.indexes = append(t.indexes, newIndex(sc, m.ID, im))
	}
	for _, im := range m.GSIs {
		t.indexes = append(t.indexes, newIndex(sc, m.ID, im))
	}
	if m.StreamID != "" {
		t.stream = &stream{id: m.StreamID, label: m.StreamLbl, view: m.StreamView,
			arn: t.arn + "/stream/" + m.StreamLbl, prefix: sc.Key("srec", m.StreamID)}
	}
	return t
}

func newIndex(sc storage.Scope, id string, im indexMeta) *index {
	return &index{meta: im, prefix: sc.Key("index", id, im.Name), cnt: &counts{}, cap: &capState{}}
}

func (t *table) index(name string) *index {
	for _, ix := range t.indexes {
		if ix.meta.Name == name {
			return ix
		}
	}
	return nil
}

func (t *table) metaKey() []byte { return t.scope.Key("table", t.meta.Name) }

// recount rebuilds counters and the stream sequence from the store.
func (t *table) recount(tx storage.Tx) error {
	var n, sz int64
	err := tx.Scan(t.prefix, storage.PrefixEnd(t.prefix), func(k, v []byte) bool {
		if it, err := decodeItem(v); err == nil {
			n++
			sz += int64(it.size())
		}
		return true
	})
	if err != nil {
		return err
	}
	t.cnt.items.Store(n)
	t.cnt.bytes.Store(sz)
	for _, ix := range t.indexes {
		var n, sz int64
		tx.Scan(ix.prefix, storage.PrefixEnd(ix.prefix), func(k, v []byte) bool {
			if it, err := decodeItem(v); err == nil {
				n++
				sz += int64(it.size())
			}
			return true
		})
		ix.cnt.items.Store(n)
		ix.cnt.bytes.Store(sz)
	}
	if t.stream != nil {
		tx.ReverseScan(t.stream.prefix, storage.PrefixEnd(t.stream.prefix), func(k, v []byte) bool {
			if len(k) >= 8 {
				t.stream.seq.Store(int64(beUint64(k[len(k)-8:])))
			}
			return false
		})
	}
	return nil
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}

func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	h := randomID(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

var tableNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

func checkTableName(name, field string) error {
	if len(name) < 3 {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to 3", name, field)
	}
	if len(name) > 255 {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to 255", name, field)
	}
	if !tableNameRE.MatchString(name) {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", name, field)
	}
	return nil
}

// tableNameFromARN accepts a table name or a table ARN.
func tableNameFromARN(s string) string {
	if strings.HasPrefix(s, "arn:") {
		if i := strings.Index(s, ":table/"); i >= 0 {
			s = s[i+len(":table/"):]
			if j := strings.IndexByte(s, '/'); j >= 0 {
				s = s[:j]
			}
		}
	}
	return s
}

func parseKeySchema(v any, what string) (hash, rng string, err error) {
	l, _ := v.([]any)
	if len(l) == 0 || len(l) > 2 {
		return "", "", validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must have length less than or equal to 2", what)
	}
	for i, e := range l {
		m, _ := e.(map[string]any)
		name, typ := service.Str(m, "AttributeName"), service.Str(m, "KeyType")
		switch {
		case i == 0 && typ != "HASH":
			return "", "", validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
		case i == 1 && typ != "RANGE":
			return "", "", validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
		}
		if i == 0 {
			hash = name
		} else {
			rng = name
		}
	}
	if hash == rng {
		return "", "", validation("Invalid KeySchema: Both the Hash Key and the Range Key element in the KeySchema have the same name")
	}
	return hash, rng, nil
}

func parseThroughput(v any) (rcu, wcu int64, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap {
		return 0, 0, false
	}
	rcu, _ = service.Int(m, "ReadCapacityUnits")
	wcu, _ = service.Int(m, "WriteCapacityUnits")
	return rcu, wcu, true
}

func parseIndexProjection(v any) (string, []string, error) {
	m, _ := v.(map[string]any)
	pt := service.Str(m, "ProjectionType")
	nk := service.Strings(m, "NonKeyAttributes")
	switch pt {
	case "ALL", "KEYS_ONLY":
		if len(nk) > 0 {
			return "", nil, validation("One or more parameter values were invalid: ProjectionType is %s, but NonKeyAttributes is specified", pt)
		}
	case "INCLUDE":
		if len(nk) == 0 {
			return "", nil, validation("One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
		}
	case "":
		return "", nil, validation("One or more parameter values were invalid: Unknown ProjectionType: null")
	default:
		return "", nil, validation("One or more parameter values were invalid: Unknown ProjectionType: %s", pt)
	}
	return pt, nk, nil
}

func parseIndexes(v any, local bool, billing string, hashKey string) ([]indexMeta, error) {
	l, _ := v.([]any)
	kind := "GlobalSecondaryIndex"
	if local {
		kind = "LocalSecondaryIndex"
	}
	var out []indexMeta
	seen := map[string]bool{}
	for _, e := range l {
		m, _ := e.(map[string]any)
		im := indexMeta{Name: service.Str(m, "IndexName"), Local: local}
		if err := checkTableName(im.Name, "indexName"); err != nil {
			return nil, err
		}
		if seen[im.Name] {
			return nil, validation("One or more parameter values were invalid: Duplicate index name: %s", im.Name)
		}
		seen[im.Name] = true
		h, r, err := parseKeySchema(m["KeySchema"], "keySchema")
		if err != nil {
			return nil, err
		}
		im.HashKey, im.RangeKey = h, r
		if local {
			if r == "" {
				return nil, validation("One or more parameter values were invalid: Index KeySchema does not have a range key for index: %s", im.Name)
			}
			if h != hashKey {
				return nil, validation("One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: %s. index hash key: %s, table hash key: %s", im.Name, h, hashKey)
			}
		}
		im.Proj, im.NonKey, err = parseIndexProjection(m["Projection"])
		if err != nil {
			return nil, err
		}
		if !local {
			rcu, wcu, has := parseThroughput(m["ProvisionedThroughput"])
			if billing == "PROVISIONED" && !has {
				return nil, validation("One or more parameter values were invalid: ProvisionedThroughput must be specified for index: %s", im.Name)
			}
			if billing == "PAY_PER_REQUEST" && has {
				return nil, validation("One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: %s when BillingMode is PAY_PER_REQUEST", im.Name)
			}
			im.RCU, im.WCU = rcu, wcu
		}
		out = append(out, im)
	}
	if local && len(out) > 5 {
		return nil, validation("One or more parameter values were invalid: Number of %ses exceeds per-table limit of 5", kind)
	}
	if !local && len(out) > 20 {
		return nil, validation("One or more parameter values were invalid: Number of %ses exceeds per-table limit of 20", kind)
	}
	return out, nil
}

func (s *Service) createTable(r *service.Request) (map[string]any, error) {
	in := r.Input
	name := service.Str(in, "TableName")
	if err := checkTableName(name, "tableName"); err != nil {
		return nil, err
	}
	m := tableMeta{Name: name, ID: randomID(8), Created: s.now(), Attrs: map[string]string{}}
	for _, e := range asList(in["AttributeDefinitions"]) {
		d, _ := e.(map[string]any)
		an, at := service.Str(d, "AttributeName"), service.Str(d, "AttributeType")
		if at != "S" && at != "N" && at != "B" {
			return nil, validation("1 validation error detected: Value '%s' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]", at)
		}
		if _, dup := m.Attrs[an]; dup {
			return nil, validation("Cannot have two attributes with the same name")
		}
		m.Attrs[an] = at
	}
	var err error
	m.HashKey, m.RangeKey, err = parseKeySchema(in["KeySchema"], "keySchema")
	if err != nil {
		return nil, err
	}
	m.Billing = service.Str(in, "BillingMode")
	if m.Billing == "" {
		m.Billing = "PROVISIONED"
	}
	rcu, wcu, hasTP := parseThroughput(in["ProvisionedThroughput"])
	switch m.Billing {
	case "PROVISIONED":
		if !hasTP {
			return nil, validation("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
		}
		if rcu < 1 || wcu < 1 {
			return nil, validation("One or more parameter values were invalid: Each of ReadCapacityUnits and WriteCapacityUnits must be at least 1")
		}
		m.RCU, m.WCU = rcu, wcu
	case "PAY_PER_REQUEST":
		if hasTP {
			return nil, validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", m.Billing)
	}
	if m.LSIs, err = parseIndexes(in["LocalSecondaryIndexes"], true, m.Billing, m.HashKey); err != nil {
		return nil, err
	}
	if m.GSIs, err = parseIndexes(in["GlobalSecondaryIndexes"], false, m.Billing, m.HashKey); err != nil {
		return nil, err
	}
	if m.LSIs != nil && m.RangeKey == "" {
		return nil, validation("One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
	}
	// Every key attribute must be defined, and every definition used.
	used := map[string]bool{m.HashKey: true}
	if m.RangeKey != "" {
		used[m.RangeKey] = true
	}
	for _, ix := range append(append([]indexMeta{}, m.LSIs...), m.GSIs...) {
		used[ix.HashKey] = true
		if ix.RangeKey != "" {
			used[ix.RangeKey] = true
		}
		if seen := ix.Name; seen == "" {
			continue
		}
	}
	var missing []string
	for k := range used {
		if _, ok := m.Attrs[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		var defs []string
		for k := range m.Attrs {
			defs = append(defs, k)
		}
		sort.Strings(defs)
		return nil, validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]", strings.Join(missing, ", "), strings.Join(defs, ", "))
	}
	if len(used) != len(m.Attrs) {
		return nil, validation("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	names := map[string]bool{}
	for _, ix := range append(append([]indexMeta{}, m.LSIs...), m.GSIs...) {
		if names[ix.Name] {
			return nil, validation("One or more parameter values were invalid: Duplicate index name: %s", ix.Name)
		}
		names[ix.Name] = true
	}
	if ss, ok := in["StreamSpecification"].(map[string]any); ok && service.Bool(ss, "StreamEnabled") {
		view := service.Str(ss, "StreamViewType")
		if err := checkStreamView(view); err != nil {
			return nil, err
		}
		m.StreamView = view
		m.StreamLbl = m.Created.UTC().Format("2006-01-02T15:04:05.000")
		m.StreamID = m.ID + "-" + randomID(4)
	}
	if sse, ok := in["SSESpecification"].(map[string]any); ok && service.Bool(sse, "Enabled") {
		m.SSE = true
		m.SSEKey = service.Str(sse, "KMSMasterKeyId")
		if m.SSEKey == "" {
			m.SSEKey = fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", service.Partition(r.Region), r.Region, r.Account, uuid())
		}
	}
	m.Protect = service.Bool(in, "DeletionProtectionEnabled")
	m.Class = service.Str(in, "TableClass")
	tags, order, err := parseTags(in["Tags"])
	if err != nil {
		return nil, err
	}
	m.Tags, m.TagOrder = tags, order

	sc := scopeOf(r)
	t := newTable(sc, m)
	b, _ := json.Marshal(m)
	err = s.kv.Update(func(tx storage.Tx) error {
		key := tableKey{sc.Account, sc.Region, name}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.tables[key] != nil {
			return inUse("Table already exists: %s", name)
		}
		if err := tx.Put(t.metaKey(), b); err != nil {
			return err
		}
		s.tables[key] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": s.describe(t, "ACTIVE")}, nil
}

func checkStreamView(v string) error {
	switch v {
	case "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY":
		return nil
	}
	return validation("One or more parameter values were invalid: StreamViewType must be specified when StreamEnabled is true")
}

func asList(v any) []any { l, _ := v.([]any); return l }

func keySchemaWire(h, r string) []any {
	out := []any{map[string]any{"AttributeName": h, "KeyType": "HASH"}}
	if r != "" {
		out = append(out, map[string]any{"AttributeName": r, "KeyType": "RANGE"})
	}
	return out
}

func (s *Service) describe(t *table, status string) map[string]any {
	m := t.meta
	var defs []any
	for _, k := range sortedKeysStr(m.Attrs) {
		defs = append(defs, map[string]any{"AttributeName": k, "AttributeType": m.Attrs[k]})
	}
	d := map[string]any{
		"AttributeDefinitions":      defs,
		"TableName":                 m.Name,
		"KeySchema":                 keySchemaWire(m.HashKey, m.RangeKey),
		"TableStatus":               status,
		"CreationDateTime":          m.Created,
		"ProvisionedThroughput":     map[string]any{"ReadCapacityUnits": m.RCU, "WriteCapacityUnits": m.WCU, "NumberOfDecreasesToday": int64(0)},
		"TableSizeBytes":            t.cnt.bytes.Load(),
		"ItemCount":                 t.cnt.items.Load(),
		"TableArn":                  t.arn,
		"TableId":                   m.ID[:8] + "-0000-4000-8000-" + m.ID[4:16],
		"DeletionProtectionEnabled": m.Protect,
	}
	if m.Billing == "PAY_PER_REQUEST" {
		d["BillingModeSummary"] = map[string]any{"BillingMode": "PAY_PER_REQUEST", "LastUpdateToPayPerRequestDateTime": m.Created}
	} else {
		d["BillingModeSummary"] = map[string]any{"BillingMode": "PROVISIONED"}
	}
	if m.Class != "" {
		d["TableClassSummary"] = map[string]any{"TableClass": m.Class}
	}
	var lsis, gsis []any
	for _, ix := range t.indexes {
		proj := map[string]any{"ProjectionType": ix.meta.Proj}
		if len(ix.meta.NonKey) > 0 {
			proj["NonKeyAttributes"] = toAnyList(ix.meta.NonKey)
		}
		e := map[string]any{
			"IndexName":      ix.meta.Name,
			"KeySchema":      keySchemaWire(ix.meta.HashKey, ix.meta.RangeKey),
			"Projection":     proj,
			"IndexSizeBytes": ix.cnt.bytes.Load(),
			"ItemCount":      ix.cnt.items.Load(),
			"IndexArn":       t.arn + "/index/" + ix.meta.Name,
		}
		if ix.meta.Local {
			lsis = append(lsis, e)
		} else {
			e["IndexStatus"] = "ACTIVE"
			e["ProvisionedThroughput"] = map[string]any{"ReadCapacityUnits": ix.meta.RCU, "WriteCapacityUnits": ix.meta.WCU, "NumberOfDecreasesToday": int64(0)}
			gsis = append(gsis, e)
		}
	}
	if lsis != nil {
		d["LocalSecondaryIndexes"] = lsis
	}
	if gsis != nil {
		d["GlobalSecondaryIndexes"] = gsis
	}
	if t.stream != nil {
		d["StreamSpecification"] = map[string]any{"StreamEnabled": true, "StreamViewType": m.StreamView}
		d["LatestStreamLabel"] = t.stream.label
		d["LatestStreamArn"] = t.stream.arn
	}
	if m.SSE {
		d["SSEDescription"] = map[string]any{"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": m.SSEKey}
	}
	return d
}

func toAnyList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

func sortedKeysStr(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (s *Service) describeTable(r *service.Request) (map[string]any, error) {
	name := tableNameFromARN(service.Str(r.Input, "TableName"))
	t := s.lookup(scopeOf(r), name)
	if t == nil {
		return nil, notFound("Requested resource not found: Table: %s not found", name)
	}
	return map[string]any{"Table": s.describe(t, "ACTIVE")}, nil
}

func (s *Service) listTables(r *service.Request) (map[string]any, error) {
	sc := scopeOf(r)
	limit, ok := service.Int(r.Input, "Limit")
	if !ok {
		limit = 100
	}
	if limit < 1 || limit > 100 {
		return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100", limit)
	}
	start := service.Str(r.Input, "ExclusiveStartTableName")
	var names []string
	s.mu.RLock()
	for k := range s.tables {
		if k.account == sc.Account && k.region == sc.Region && k.name > start {
			names = append(names, k.name)
		}
	}
	s.mu.RUnlock()
	sort.Strings(names)
	out := map[string]any{}
	if int64(len(names)) > limit {
		names = names[:limit]
		out["LastEvaluatedTableName"] = names[len(names)-1]
	}
	out["TableNames"] = toAnyList(names)
	return out, nil
}

func (s *Service) deleteTable(r *service.Request) (map[string]any, error) {
	name := tableNameFromARN(service.Str(r.Input, "TableName"))
	sc := scopeOf(r)
	var desc map[string]any
	err := s.kv.Update(func(tx storage.Tx) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		key := tableKey{sc.Account, sc.Region, name}
		t := s.tables[key]
		if t == nil {
			return notFound("Requested resource not found: Table: %s not found", name)
		}
		if t.meta.Protect {
			return validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
		}
		desc = s.describe(t, "DELETING")
		if err := deleteRange(tx, t.prefix); err != nil {
			return err
		}
		for _, ix := range t.indexes {
			if err := deleteRange(tx, ix.prefix); err != nil {
				return err
			}
		}
		if t.stream != nil {
			if err := deleteRange(tx, t.stream.prefix); err != nil {
				return err
			}
		}
		if err := tx.Delete(t.metaKey()); err != nil {
			return err
		}
		delete(s.tables, key)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": desc}, nil
}

func deleteRange(tx storage.Tx, prefix []byte) error {
	var keys [][]byte
	if err := tx.Scan(prefix, storage.PrefixEnd(prefix), func(k, _ []byte) bool {
		keys = append(keys, k)
		return true
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// mutateTable applies fn to a copy of the table's metadata and runtime form
// inside one transaction, then publishes the copy.
func (s *Service) mutateTable(r *service.Request, name string, fn func(tx storage.Tx, old, t *table) error) (*table, error) {
	name = tableNameFromARN(name)
	sc := scopeOf(r)
	var out *table
	err := s.kv.Update(func(tx storage.Tx) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		key := tableKey{sc.Account, sc.Region, name}
		old := s.tables[key]
		if old == nil {
			return notFound("Requested resource not found: Table: %s not found", name)
		}
		t := &table{meta: old.meta, scope: old.scope, arn: old.arn, prefix: old.prefix, cnt: old.cnt, cap: old.cap, stats: old.stats,
			indexes: append([]*index(nil), old.indexes...), stream: old.stream}
		t.meta.Attrs = copyMap(old.meta.Attrs)
		t.meta.Tags = copyMap(old.meta.Tags)
		t.meta.TagOrder = append([]string(nil), old.meta.TagOrder...)
		t.meta.GSIs = append([]indexMeta(nil), old.meta.GSIs...)
		if err := fn(tx, old, t); err != nil {
			return err
		}
		b, _ := json.Marshal(t.meta)
		if err := tx.Put(t.metaKey(), b); err != nil {
			return err
		}
		s.tables[key] = t
		out = t
		return nil
	})
	return out, err
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (s *Service) updateTable(r *service.Request) (map[string]any, error) {
	in := r.Input
	t, err := s.mutateTable(r, service.Str(in, "TableName"), func(tx storage.Tx, old, t *table) error {
		for _, e := range asList(in["AttributeDefinitions"]) {
			d, _ := e.(map[string]any)
			an, at := service.Str(d, "AttributeName"), service.Str(d, "AttributeType")
			if prev, ok := t.meta.Attrs[an]; ok && prev != at {
				return validation("One or more parameter values were invalid: Attribute %s is already defined with a different type", an)
			}
			t.meta.Attrs[an] = at
		}
		if bm := service.Str(in, "BillingMode"); bm != "" {
			t.meta.Billing = bm
			if bm == "PAY_PER_REQUEST" {
				t.meta.RCU, t.meta.WCU = 0, 0
			}
		}
		if rcu, wcu, ok := parseThroughput(in["ProvisionedThroughput"]); ok {
			if t.meta.Billing == "PAY_PER_REQUEST" {
				return validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
			}
			t.meta.RCU, t.meta.WCU = rcu, wcu
		}
		if v, ok := in["DeletionProtectionEnabled"].(bool); ok {
			t.meta.Protect = v
		}
		if c := service.Str(in, "TableClass"); c != "" {
			t.meta.Class = c
		}
		if ss, ok := in["StreamSpecification"].(map[string]any); ok {
			if service.Bool(ss, "StreamEnabled") {
				if t.stream != nil {
					return validation("Table already has an enabled stream: %s", t.stream.arn)
				}
				view := service.Str(ss, "StreamViewType")
				if err := checkStreamView(view); err != nil {
					return err
				}
				now := s.now()
				t.meta.StreamView = view
				t.meta.StreamLbl = now.UTC().Format("2006-01-02T15:04:05.000")
				t.meta.StreamID = t.meta.ID + "-" + randomID(4)
				t.stream = &stream{id: t.meta.StreamID, label: t.meta.StreamLbl, view: view,
					arn: t.arn + "/stream/" + t.meta.StreamLbl, prefix: t.scope.Key("srec", t.meta.StreamID)}
			} else {
				if t.stream == nil {
					return validation("Table already has no stream enabled")
				}
				if err := deleteRange(tx, t.stream.prefix); err != nil {
					return err
				}
				t.stream = nil
				t.meta.StreamView, t.meta.StreamID, t.meta.StreamLbl = "", "", ""
			}
		}
		for _, e := range asList(in["GlobalSecondaryIndexUpdates"]) {
			u, _ := e.(map[string]any)
			if c, ok := u["Create"].(map[string]any); ok {
				ims, err := parseIndexes([]any{c}, false, t.meta.Billing, t.meta.HashKey)
				if err != nil {
					return err
				}
				im := ims[0]
				if t.index(im.Name) != nil {
					return validation("One or more parameter values were invalid: Index %s already exists", im.Name)
				}
				for _, k := range []string{im.HashKey, im.RangeKey} {
					if _, ok := t.meta.Attrs[k]; k != "" && !ok {
						return validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]", k, strings.Join(sortedKeysStr(t.meta.Attrs), ", "))
					}
				}
				ix := newIndex(t.scope, t.meta.ID, im)
				if err := backfill(tx, t, ix); err != nil {
					return err
				}
				t.meta.GSIs = append(t.meta.GSIs, im)
				t.indexes = append(t.indexes, ix)
			}
			if d, ok := u["Delete"].(map[string]any); ok {
				n := service.Str(d, "IndexName")
				ix := t.index(n)
				if ix == nil || ix.meta.Local {
					return notFound("Requested resource not found: Requested resource not found: Index: %s not found", n)
				}
				if err := deleteRange(tx, ix.prefix); err != nil {
					return err
				}
				for i, x := range t.indexes {
					if x == ix {
						t.indexes = append(t.indexes[:i:i], t.indexes[i+1:]...)
						break
					}
				}
				for i, x := range t.meta.GSIs {
					if x.Name == n {
						t.meta.GSIs = append(t.meta.GSIs[:i:i], t.meta.GSIs[i+1:]...)
						break
					}
				}
			}
			if up, ok := u["Update"].(map[string]any); ok {
				n := service.Str(up, "IndexName")
				found := false
				for i, x := range t.meta.GSIs {
					if x.Name == n {
						found = true
						if rcu, wcu, ok := parseThroughput(up["ProvisionedThroughput"]); ok {
							t.meta.GSIs[i].RCU, t.meta.GSIs[i].WCU = rcu, wcu
							nix := *t.index(n)
							nix.meta = t.meta.GSIs[i]
							for j, y := range t.indexes {
								if y.meta.Name == n {
									t.indexes[j] = &nix
								}
							}
						}
					}
				}
				if !found {
					return notFound("Requested resource not found: Requested resource not found: Index: %s not found", n)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": s.describe(t, "ACTIVE")}, nil
}

// backfill indexes every existing item of t into ix.
func backfill(tx storage.Tx, t *table, ix *index) error {
	type kv struct{ k, v []byte }
	var puts []kv
	var n, sz int64
	err := tx.Scan(t.prefix, storage.PrefixEnd(t.prefix), func(k, v []byte) bool {
		it, err := decodeItem(v)
		if err != nil {
			return true
		}
		if ik, ok := t.indexKey(ix, it); ok {
			p := t.project(ix, it)
			puts = append(puts, kv{ik, encodeItem(p)})
			n++
			sz += int64(p.size())
		}
		return true
	})
	if err != nil {
		return err
	}
	for _, p := range puts {
		if err := tx.Put(p.k, p.v); err != nil {
			return err
		}
	}
	ix.cnt.items.Store(n)
	ix.cnt.bytes.Store(sz)
	return nil
}

func (s *Service) describeTimeToLive(r *service.Request) (map[string]any, error) {
	t, err := s.table(r, service.Str(r.Input, "TableName"))
	if err != nil {
		return nil, err
	}
	d := map[string]any{"TimeToLiveStatus": "DISABLED"}
	if t.meta.TTLAttr != "" {
		d = map[string]any{"TimeToLiveStatus": "ENABLED", "AttributeName": t.meta.TTLAttr}
	}
	return map[string]any{"TimeToLiveDescription": d}, nil
}

func (s *Service) updateTimeToLive(r *service.Request) (map[string]any, error) {
	spec, _ := r.Input["TimeToLiveSpecification"].(map[string]any)
	attr := service.Str(spec, "AttributeName")
	enabled := service.Bool(spec, "Enabled")
	_, err := s.mutateTable(r, service.Str(r.Input, "TableName"), func(tx storage.Tx, old, t *table) error {
		if enabled {
			if t.meta.TTLAttr != "" {
				return validation("TimeToLive is already enabled")
			}
			t.meta.TTLAttr = attr
		} else {
			if t.meta.TTLAttr == "" {
				return validation("TimeToLive is already disabled")
			}
			t.meta.TTLAttr = ""
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"TimeToLiveSpecification": map[string]any{"AttributeName": attr, "Enabled": enabled}}, nil
}

func parseTags(v any) (map[string]string, []string, error) {
	l := asList(v)
	if len(l) == 0 {
		return nil, nil, nil
	}
	tags := map[string]string{}
	var order []string
	for _, e := range l {
		m, _ := e.(map[string]any)
		k := service.Str(m, "Key")
		if k == "" {
			return nil, nil, validation("1 validation error detected: Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1")
		}
		if _, ok := tags[k]; !ok {
			order = append(order, k)
		}
		tags[k] = service.Str(m, "Value")
	}
	return tags, order, nil
}

func (s *Service) resourceTable(r *service.Request, arn string) (string, error) {
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":table/") {
		return "", validation("Invalid TableArn: Invalid ResourceArn provided as input %s", arn)
	}
	return tableNameFromARN(arn), nil
}

func (s *Service) tagResource(r *service.Request) (map[string]any, error) {
	name, err := s.resourceTable(r, service.Str(r.Input, "ResourceArn"))
	if err != nil {
		return nil, err
	}
	tags, order, err := parseTags(r.Input["Tags"])
	if err != nil {
		return nil, err
	}
	_, err = s.mutateTable(r, name, func(tx storage.Tx, old, t *table) error {
		if t.meta.Tags == nil {
			t.meta.Tags = map[string]string{}
		}
		for _, k := range order {
			if _, ok := t.meta.Tags[k]; !ok {
				t.meta.TagOrder = append(t.meta.TagOrder, k)
			}
			t.meta.Tags[k] = tags[k]
		}
		if len(t.meta.Tags) > 50 {
			return &awserrLimit{}
		}
		return nil
	})
	if _, ok := err.(*awserrLimit); ok {
		return nil, limitExceeded("The number of tags for the resource exceeds the maximum of 50")
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

type awserrLimit struct{}

func (*awserrLimit) Error() string { return "limit" }

func (s *Service) untagResource(r *service.Request) (map[string]any, error) {
	name, err := s.resourceTable(r, service.Str(r.Input, "ResourceArn"))
	if err != nil {
		return nil, err
	}
	keys := service.Strings(r.Input, "TagKeys")
	_, err = s.mutateTable(r, name, func(tx storage.Tx, old, t *table) error {
		for _, k := range keys {
			delete(t.meta.Tags, k)
		}
		var order []string
		for _, k := range t.meta.TagOrder {
			if _, ok := t.meta.Tags[k]; ok {
				order = append(order, k)
			}
		}
		t.meta.TagOrder = order
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (s *Service) listTagsOfResource(r *service.Request) (map[string]any, error) {
	name, err := s.resourceTable(r, service.Str(r.Input, "ResourceArn"))
	if err != nil {
		return nil, err
	}
	t, err := s.table(r, name)
	if err != nil {
		return nil, err
	}
	tags := []any{}
	for _, k := range t.meta.TagOrder {
		tags = append(tags, map[string]any{"Key": k, "Value": t.meta.Tags[k]})
	}
	return map[string]any{"Tags": tags}, nil
}

func (s *Service) describeLimits(r *service.Request) (map[string]any, error) {
	return map[string]any{
		"AccountMaxReadCapacityUnits":  int64(80000),
		"AccountMaxWriteCapacityUnits": int64(80000),
		"TableMaxReadCapacityUnits":    int64(40000),
		"TableMaxWriteCapacityUnits":   int64(40000),
	}, nil
}

func (s *Service) describeEndpoints(r *service.Request) (map[string]any, error) {
	host := "dynamodb." + r.Region + ".amazonaws.com"
	if r.HTTP != nil && r.HTTP.Host != "" {
		host = r.HTTP.Host
	}
	return map[string]any{"Endpoints": []any{map[string]any{"Address": host, "CachePeriodInMinutes": int64(1440)}}}, nil
}

func (s *Service) backupsDesc(t *table) map[string]any {
	pitr := map[string]any{"PointInTimeRecoveryStatus": "DISABLED"}
	if t.meta.PITR {
		now := s.now()
		pitr = map[string]any{"PointInTimeRecoveryStatus": "ENABLED", "EarliestRestorableDateTime": t.meta.Created,
			"LatestRestorableDateTime": now.Add(-5 * time.Minute), "RecoveryPeriodInDays": int64(35)}
	}
	return map[string]any{"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": pitr}
}

func (s *Service) describeContinuousBackups(r *service.Request) (map[string]any, error) {
	name := service.Str(r.Input, "TableName")
	t := s.lookup(scopeOf(r), tableNameFromARN(name))
	if t == nil {
		return nil, tableNotFoundExc(name)
	}
	return map[string]any{"ContinuousBackupsDescription": s.backupsDesc(t)}, nil
}

func (s *Service) updateContinuousBackups(r *service.Request) (map[string]any, error) {
	spec, _ := r.Input["PointInTimeRecoverySpecification"].(map[string]any)
	en := service.Bool(spec, "PointInTimeRecoveryEnabled")
	name := service.Str(r.Input, "TableName")
	t, err := s.mutateTable(r, name, func(tx storage.Tx, old, t *table) error {
		t.meta.PITR = en
		return nil
	})
	if err != nil {
		if strings.HasPrefix(err.Error(), codeResourceNotFound) {
			return nil, tableNotFoundExc(name)
		}
		return nil, err
	}
	return map[string]any{"ContinuousBackupsDescription": s.backupsDesc(t)}, nil
}
