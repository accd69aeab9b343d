package disk

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/overcast-dev/overcast/internal/storage"
)

// Blobs is the on-disk storage.Blobs: one file per blob under
// <dir>/blobs/ab/cd/<sha256(key) in hex>, where ab and cd are the first bytes of
// the name (fan-out keeps directories small). A Put streams into a temporary
// file in <dir>/blobs/tmp, fsyncs it and renames it into place, so a blob is
// visible whole or not at all; temporary files left by a crash are removed on
// open. File names are hashes, so blob keys may hold any bytes.
type Blobs struct {
	dir    string
	tmp    string
	noSync bool
}

func openBlobs(dir string, noSync bool) (*Blobs, error) {
	tmp := filepath.Join(dir, "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("clean blob temporary files: %w", err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	return &Blobs{dir: dir, tmp: tmp, noSync: noSync}, nil
}

func (b *Blobs) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	name := hex.EncodeToString(sum[:])
	return filepath.Join(b.dir, name[:2], name[2:4], name)
}

// Put implements storage.Blobs. The body is copied with io.Copy into the
// temporary file, so a file or socket reader may be spliced by the kernel.
func (b *Blobs) Put(key string, r io.Reader) (n int64, err error) {
	if key == "" {
		return 0, storage.ErrEmptyKey
	}
	f, err := os.CreateTemp(b.tmp, "put-*")
	if err != nil {
		return 0, fmt.Errorf("put blob: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if n, err = io.Copy(f, r); err != nil {
		return 0, fmt.Errorf("put blob %q: %w", key, err)
	}
	if !b.noSync {
		if err = f.Sync(); err != nil {
			return 0, fmt.Errorf("put blob %q: %w", key, err)
		}
	}
	if err = f.Close(); err != nil {
		return 0, fmt.Errorf("put blob %q: %w", key, err)
	}
	final := b.path(key)
	if err = b.ensureDir(filepath.Dir(final)); err != nil {
		return 0, fmt.Errorf("put blob %q: %w", key, err)
	}
	if err = os.Rename(f.Name(), final); err != nil {
		return 0, fmt.Errorf("put blob %q: %w", key, err)
	}
	if !b.noSync {
		if err := syncDir(filepath.Dir(final)); err != nil {
			return 0, fmt.Errorf("put blob %q: %w", key, err)
		}
	}
	return n, nil
}

// ensureDir creates the fan-out directories of dir that are missing, making
// each new directory entry durable.
func (b *Blobs) ensureDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != b.dir {
		if err := b.ensureDir(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if b.noSync {
		return nil
	}
	return syncDir(parent)
}

// Open implements storage.Blobs. The Blob it returns implements storage.Filer.
func (b *Blobs) Open(key string) (storage.Blob, error) {
	f, err := os.Open(b.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open blob %q: %w", key, storage.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %q: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open blob %q: %w", key, err)
	}
	return &fileBlob{f: f, size: fi.Size()}, nil
}

// Delete implements storage.Blobs.
func (b *Blobs) Delete(key string) error {
	p := b.path(key)
	err := os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %q: %w", key, storage.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete blob %q: %w", key, err)
	}
	if !b.noSync {
		if err := syncDir(filepath.Dir(p)); err != nil {
			return fmt.Errorf("delete blob %q: %w", key, err)
		}
	}
	return nil
}

// fileBlob is an open blob file. An open file keeps its content after the
// name is replaced or removed (POSIX semantics), which gives Blob's guarantee.
type fileBlob struct {
	f    *os.File
	size int64
}

func (b *fileBlob) Read(p []byte) (int, error)              { return b.f.Read(p) }
func (b *fileBlob) ReadAt(p []byte, off int64) (int, error) { return b.f.ReadAt(p, off) }
func (b *fileBlob) Seek(off int64, whence int) (int64, error) {
	return b.f.Seek(off, whence)
}
func (b *fileBlob) Close() error   { return b.f.Close() }
func (b *fileBlob) Size() int64    { return b.size }
func (b *fileBlob) File() *os.File { return b.f }

// WriteTo lets io.Copy use the file's own WriteTo (sendfile to a socket).
func (b *fileBlob) WriteTo(w io.Writer) (int64, error) { return b.f.WriteTo(w) }

var (
	_ storage.Blobs = (*Blobs)(nil)
	_ storage.Blob  = (*fileBlob)(nil)
	_ storage.Filer = (*fileBlob)(nil)
	_ io.WriterTo   = (*fileBlob)(nil)
)
