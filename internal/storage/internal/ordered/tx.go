package ordered

import (
	"fmt"

	"github.com/overcast-dev/overcast/internal/storage"
)

// Op is one write of a committed transaction, as recorded for a log.
type Op struct {
	Delete     bool
	Key, Value []byte // owned by the Map: MUST NOT be modified
}

// Tx implements storage.Tx over a Map snapshot (read-only) or a Txn.
type Tx struct {
	r      Map
	w      *Txn // nil in a read-only Tx
	done   bool
	record bool
	ops    []Op
}

// ReadTx returns a read-only Tx over m.
func ReadTx(m Map) *Tx { return &Tx{r: m} }

// WriteTx returns a read-write Tx that builds on m. If record is set, the Tx
// remembers its effective writes for Ops.
func WriteTx(m Map, record bool) *Tx { return &Tx{w: m.Txn(), record: record} }

// Finish ends the Tx: every later method call returns storage.ErrTxDone.
func (tx *Tx) Finish() { tx.done = true }

// Map returns the state the Tx has built (or read).
func (tx *Tx) Map() Map {
	if tx.w != nil {
		return tx.w.Map()
	}
	return tx.r
}

// Ops returns the writes a recording Tx performed, in order.
func (tx *Tx) Ops() []Op { return tx.ops }

func (tx *Tx) check(write bool) error {
	if tx.done {
		return storage.ErrTxDone
	}
	if write && tx.w == nil {
		return storage.ErrReadOnly
	}
	return nil
}

// Get implements storage.Tx.
func (tx *Tx) Get(key []byte) ([]byte, error) {
	if err := tx.check(false); err != nil {
		return nil, err
	}
	var v []byte
	var ok bool
	if tx.w != nil {
		v, ok = tx.w.Get(key)
	} else {
		v, ok = tx.r.Get(key)
	}
	if !ok {
		return nil, fmt.Errorf("get %q: %w", key, storage.ErrNotFound)
	}
	return append(make([]byte, 0, len(v)), v...), nil
}

// Put implements storage.Tx.
func (tx *Tx) Put(key, value []byte) error {
	if err := tx.check(true); err != nil {
		return err
	}
	if len(key) == 0 {
		return storage.ErrEmptyKey
	}
	// One allocation holds both copies.
	buf := make([]byte, len(key)+len(value))
	k := buf[:copy(buf, key):len(key)]
	v := buf[len(key):]
	copy(v, value)
	tx.w.Put(k, v)
	if tx.record {
		tx.ops = append(tx.ops, Op{Key: k, Value: v})
	}
	return nil
}

// Delete implements storage.Tx.
func (tx *Tx) Delete(key []byte) error {
	if err := tx.check(true); err != nil {
		return err
	}
	if tx.w.Delete(key) && tx.record {
		tx.ops = append(tx.ops, Op{Delete: true, Key: append([]byte(nil), key...)})
	}
	return nil
}

// Scan implements storage.Tx.
func (tx *Tx) Scan(start, end []byte, fn func(k, v []byte) bool) error {
	if err := tx.check(false); err != nil {
		return err
	}
	tx.Map().Ascend(start, end, copying(fn))
	return nil
}

// ReverseScan implements storage.Tx.
func (tx *Tx) ReverseScan(start, end []byte, fn func(k, v []byte) bool) error {
	if err := tx.check(false); err != nil {
		return err
	}
	tx.Map().Descend(start, end, copying(fn))
	return nil
}

// copying wraps fn so that it receives copies it may keep.
func copying(fn func(k, v []byte) bool) func(k, v []byte) bool {
	return func(k, v []byte) bool {
		buf := make([]byte, len(k)+len(v))
		n := copy(buf, k)
		copy(buf[n:], v)
		return fn(buf[:n:n], buf[n:])
	}
}

var _ storage.Tx = (*Tx)(nil)
