package dynamodb

import "github.com/overcast-dev/overcast/internal/storage"

// keyAttr checks one key attribute of an item or Key parameter.
func (t *table) keyAttr(it item, name string, forKey bool) (av, error) {
	a, ok := it[name]
	if !ok {
		if forKey {
			return av{}, validation("The provided key element does not match the schema")
		}
		return av{}, validation("One or more parameter values were invalid: Missing the key %s in the item", name)
	}
	want := t.meta.Attrs[name]
	if typeName(a.t) != want {
		if forKey {
			return av{}, validation("The provided key element does not match the schema")
		}
		return av{}, validation("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", name, want, typeName(a.t))
	}
	if len(a.s) == 0 && a.t != tN {
		return av{}, validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s", map[byte]string{tS: "string", tB: "binary"}[a.t], name)
	}
	return a, nil
}

// checkKey validates a Key parameter: exactly the table's key attributes.
func (t *table) checkKey(key item) error {
	n := 1
	if t.meta.RangeKey != "" {
		n = 2
	}
	if len(key) != n {
		return validation("The provided key element does not match the schema")
	}
	if _, err := t.keyAttr(key, t.meta.HashKey, true); err != nil {
		return err
	}
	if t.meta.RangeKey != "" {
		if _, err := t.keyAttr(key, t.meta.RangeKey, true); err != nil {
			return err
		}
	}
	return t.checkKeySize(key)
}

func (t *table) checkKeySize(it item) error {
	if len(it[t.meta.HashKey].s) > 2048 {
		return validation("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes")
	}
	if t.meta.RangeKey != "" && len(it[t.meta.RangeKey].s) > 1024 {
		return validation("One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
	}
	return nil
}

// checkItem validates an item to be stored: key attributes, index key types.
func (t *table) checkItem(it item) error {
	if _, err := t.keyAttr(it, t.meta.HashKey, false); err != nil {
		return err
	}
	if t.meta.RangeKey != "" {
		if _, err := t.keyAttr(it, t.meta.RangeKey, false); err != nil {
			return err
		}
	}
	if err := t.checkKeySize(it); err != nil {
		return err
	}
	for _, ix := range t.indexes {
		for _, k := range [2]string{ix.meta.HashKey, ix.meta.RangeKey} {
			if k == "" {
				continue
			}
			a, ok := it[k]
			if !ok {
				continue
			}
			want := t.meta.Attrs[k]
			if typeName(a.t) != want {
				return validation("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s", k, want, typeName(a.t), ix.meta.Name)
			}
			if len(a.s) == 0 && a.t != tN {
				return validation("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: %s, IndexKey: %s", ix.meta.Name, k)
			}
		}
	}
	if it.size() > 400*1024 {
		return validation("Item size has exceeded the maximum allowed size")
	}
	return nil
}

func (t *table) keyOf(it item) item {
	k := item{t.meta.HashKey: it[t.meta.HashKey]}
	if t.meta.RangeKey != "" {
		k[t.meta.RangeKey] = it[t.meta.RangeKey]
	}
	return k
}

// partPrefix is the key prefix of every item (or index entry) with the
// partition key value pk under base.
func partPrefix(base []byte, pk av) []byte {
	b := make([]byte, 0, len(base)+len(pk.s)+16)
	b = append(b, base...)
	b = append(b, 0, 0)
	n := len(b)
	b = appendKeyAV(b, pk)
	h1, h2 := hash16(b[n:])
	b[n-2], b[n-1] = h1, h2
	return b
}

// itemKey is the storage key of the item with t's key attributes in it.
func (t *table) itemKey(it item) []byte {
	b := partPrefix(t.prefix, it[t.meta.HashKey])
	if t.meta.RangeKey != "" {
		b = appendKeyAV(b, it[t.meta.RangeKey])
	}
	return b
}

// indexKey is the storage key of it's entry in ix, if it has the index keys.
func (t *table) indexKey(ix *index, it item) ([]byte, bool) {
	h, ok := it[ix.meta.HashKey]
	if !ok || typeName(h.t) != t.meta.Attrs[ix.meta.HashKey] {
		return nil, false
	}
	b := partPrefix(ix.prefix, h)
	if ix.meta.RangeKey != "" {
		r, ok := it[ix.meta.RangeKey]
		if !ok || typeName(r.t) != t.meta.Attrs[ix.meta.RangeKey] {
			return nil, false
		}
		b = appendKeyAV(b, r)
	}
	b = appendKeyAV(b, it[t.meta.HashKey])
	if t.meta.RangeKey != "" {
		b = appendKeyAV(b, it[t.meta.RangeKey])
	}
	return b, true
}

// project returns the attributes of it that ix stores.
func (t *table) project(ix *index, it item) item {
	if ix.meta.Proj == "ALL" {
		return it
	}
	p := t.keyOf(it)
	p[ix.meta.HashKey] = it[ix.meta.HashKey]
	if ix.meta.RangeKey != "" {
		p[ix.meta.RangeKey] = it[ix.meta.RangeKey]
	}
	for _, k := range ix.meta.NonKey {
		if a, ok := it[k]; ok {
			p[k] = a
		}
	}
	return p
}

// indexKeyOf returns the key attributes of an index entry (table and index keys).
func (t *table) indexKeyOf(ix *index, it item) item {
	k := t.keyOf(it)
	k[ix.meta.HashKey] = it[ix.meta.HashKey]
	if ix.meta.RangeKey != "" {
		k[ix.meta.RangeKey] = it[ix.meta.RangeKey]
	}
	return k
}

// writeIndexes replaces old's index entries with new's (either may be nil)
// and returns the count deltas.
func (t *table) writeIndexes(tx storage.Tx, old, new item, d *delta) error {
	for i, ix := range t.indexes {
		var ok1, ok2 bool
		var k1, k2 []byte
		if old != nil {
			k1, ok1 = t.indexKey(ix, old)
		}
		if new != nil {
			k2, ok2 = t.indexKey(ix, new)
		}
		var sz1, sz2 int
		if ok1 {
			p := t.project(ix, old)
			sz1 = p.size()
			d.idx[i].items--
			d.idx[i].bytes -= int64(sz1)
			if !ok2 || string(k1) != string(k2) {
				if err := tx.Delete(k1); err != nil {
					return err
				}
			}
		}
		if ok2 {
			p := t.project(ix, new)
			sz2 = p.size()
			d.idx[i].items++
			d.idx[i].bytes += int64(sz2)
			if err := tx.Put(k2, encodeItem(p)); err != nil {
				return err
			}
		}
		switch {
		case ok1 && ok2 && string(k1) == string(k2):
			d.idxWU[i] = writeUnits(max(sz1, sz2))
		case ok1 && ok2:
			d.idxWU[i] = writeUnits(sz1) + writeUnits(sz2)
		case ok1:
			d.idxWU[i] = writeUnits(sz1)
		case ok2:
			d.idxWU[i] = writeUnits(sz2)
		}
	}
	return nil
}

// delta is the change one write makes to a table's counters.
type delta struct {
	t     *table
	items int64
	bytes int64
	idx   []struct{ items, bytes int64 }
	// write capacity units of the table (and LSIs) and of each index
	wu    float64
	idxWU []float64
}

func newDelta(t *table) *delta {
	return &delta{t: t, idx: make([]struct{ items, bytes int64 }, len(t.indexes)), idxWU: make([]float64, len(t.indexes))}
}

// usage is the write capacity the delta's write consumed.
func (d *delta) usage() usage {
	return usage{t: d.t, write: true, table: d.wu, idx: d.idxWU}
}

func (d *delta) apply() {
	if d == nil {
		return
	}
	d.t.cnt.items.Add(d.items)
	d.t.cnt.bytes.Add(d.bytes)
	for i, ix := range d.t.indexes {
		ix.cnt.items.Add(d.idx[i].items)
		ix.cnt.bytes.Add(d.idx[i].bytes)
	}
}
