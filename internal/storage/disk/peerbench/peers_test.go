//go:build benchpeers

package peerbench

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/overcast-dev/overcast/internal/storage"
	"github.com/overcast-dev/overcast/internal/storage/disk"
)

// engine is the common shape of one small write transaction and one point read.
type engine struct {
	put   func(k, v []byte) error
	get   func(k []byte) error
	close func() error
}

func openOvercast(b *testing.B, sync bool) engine {
	s, err := disk.Open(b.TempDir(), disk.Options{NoSync: !sync})
	if err != nil {
		b.Fatal(err)
	}
	return engine{
		put: func(k, v []byte) error {
			return s.Update(func(tx storage.Tx) error { return tx.Put(k, v) })
		},
		get: func(k []byte) error {
			return s.View(func(tx storage.Tx) error { _, err := tx.Get(k); return err })
		},
		close: s.Close,
	}
}

var bucket = []byte("b")

func openBolt(b *testing.B, sync bool) engine {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "bolt.db"), 0o600, &bolt.Options{NoSync: !sync})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucket); return err }); err != nil {
		b.Fatal(err)
	}
	return engine{
		put: func(k, v []byte) error {
			return db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(k, v) })
		},
		get: func(k []byte) error {
			return db.View(func(tx *bolt.Tx) error {
				if tx.Bucket(bucket).Get(k) == nil {
					return fmt.Errorf("missing %x", k)
				}
				return nil
			})
		},
		close: db.Close,
	}
}

var engines = []struct {
	name string
	open func(*testing.B, bool) engine
}{{"overcast", openOvercast}, {"bbolt", openBolt}}

func key(i uint64) []byte { return binary.BigEndian.AppendUint64([]byte("bench/"), i) }

// BenchmarkPeersUpdate: one 100-byte Put per transaction; writers=1 is
// commit latency, writers=64 is throughput under concurrency.
func BenchmarkPeersUpdate(b *testing.B) {
	val := make([]byte, 100)
	for _, e := range engines {
		for _, sync := range []bool{true, false} {
			for _, writers := range []int{1, 64} {
				b.Run(fmt.Sprintf("%s/sync=%v/writers=%d", e.name, sync, writers), func(b *testing.B) {
					eng := e.open(b, sync)
					defer eng.close()
					var n atomic.Uint64
					b.ResetTimer()
					if writers == 1 {
						for i := 0; i < b.N; i++ {
							if err := eng.put(key(n.Add(1)), val); err != nil {
								b.Fatal(err)
							}
						}
						return
					}
					b.SetParallelism(writers)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := eng.put(key(n.Add(1)), val); err != nil {
								b.Error(err)
								return
							}
						}
					})
				})
			}
		}
	}
}

// BenchmarkPeersGet: point reads over 100k keys from all CPUs.
func BenchmarkPeersGet(b *testing.B) {
	const n = 100_000
	val := make([]byte, 100)
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			eng := e.open(b, false)
			defer eng.close()
			for i := uint64(0); i < n; i++ {
				if err := eng.put(key(i), val); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := uint64(0)
				for pb.Next() {
					i = (i + 7919) % n
					if err := eng.get(key(i)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
