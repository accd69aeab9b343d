package disk

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/overcast-dev/overcast/internal/storage"
)

// BenchmarkUpdate measures one small Put per Update: serially (latency of a
// commit) and from many goroutines (throughput with group commit).
func BenchmarkUpdate(b *testing.B) {
	val := make([]byte, 100)
	for _, sync := range []bool{true, false} {
		for _, par := range []int{1, 64} {
			b.Run(fmt.Sprintf("sync=%v/writers=%d", sync, par), func(b *testing.B) {
				s, err := Open(b.TempDir(), Options{NoSync: !sync})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				var n atomic.Uint64
				b.SetParallelism(par) // par × GOMAXPROCS goroutines; writers=1 runs serially below
				body := func() error {
					k := binary.BigEndian.AppendUint64([]byte("bench/"), n.Add(1))
					return s.Update(func(tx storage.Tx) error { return tx.Put(k, val) })
				}
				b.ResetTimer()
				if par == 1 {
					for i := 0; i < b.N; i++ {
						if err := body(); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := body(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkGet measures a point read in a View over 100k keys.
func BenchmarkGet(b *testing.B) {
	s, err := Open(b.TempDir(), Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 100_000
	val := make([]byte, 100)
	for i := 0; i < n; i += 1000 {
		if err := s.Update(func(tx storage.Tx) error {
			for j := i; j < i+1000; j++ {
				if err := tx.Put(binary.BigEndian.AppendUint64([]byte("bench/"), uint64(j)), val); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
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
