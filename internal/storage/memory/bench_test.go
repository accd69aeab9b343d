package memory

import (
	"encoding/binary"
	"sync/atomic"
	"testing"

	"github.com/overcast-dev/overcast/internal/storage"
)

func BenchmarkUpdate(b *testing.B) {
	s := New()
	val := make([]byte, 100)
	var n atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := binary.BigEndian.AppendUint64([]byte("bench/"), n.Add(1))
			if err := s.Update(func(tx storage.Tx) error { return tx.Put(k, val) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGet(b *testing.B) {
	s := New()
	const n = 100_000
	val := make([]byte, 100)
	s.Update(func(tx storage.Tx) error {
		for j := uint64(0); j < n; j++ {
			tx.Put(binary.BigEndian.AppendUint64([]byte("bench/"), j), val)
		}
		return nil
	})
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := uint64(0)
		for pb.Next() {
			i = (i + 7919) % n
			k := binary.BigEndian.AppendUint64([]byte("bench/"), i)
			if err := s.View(func(tx storage.Tx) error { _, err := tx.Get(k); return err }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
