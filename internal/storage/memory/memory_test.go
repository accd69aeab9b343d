package memory_test

import (
	"testing"

	"github.com/overcast-dev/overcast/internal/storage"
	"github.com/overcast-dev/overcast/internal/storage/memory"
	"github.com/overcast-dev/overcast/internal/storage/storagetest"
)

func TestKV(t *testing.T) {
	storagetest.RunKV(t, func(t *testing.T) storage.KV { return memory.New() })
}

func TestBlobs(t *testing.T) {
	storagetest.RunBlobs(t, func(t *testing.T) storage.Blobs { return memory.NewBlobs() }, storagetest.BlobOptions{})
}
