package lambda

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/overcast-dev/overcast/internal/storage"
)

// maxZipEntries bounds the files of one package.
const maxZipEntries = 100000

// errBadZip is returned by unzip for an archive that is not a zip, or one
// that tries to escape its directory or exceeds the size limits.
var errBadZip = errors.New("invalid zip")

// unpacker unpacks function code and layers into directories shared by every
// environment running the same code: root/<digest>/task and root/<digest>/opt.
type unpacker struct {
	root string

	mu   sync.Mutex
	dirs map[string]*unpacked
}

type unpacked struct {
	once sync.Once
	dir  string
	err  error
}

// dir returns the directory holding code and layers, unpacking on first use.
func (u *unpacker) dir(blobs storage.Blobs, code string, layers []layerRef) (string, error) {
	h := sha256.New()
	io.WriteString(h, code)
	for _, l := range layers {
		io.WriteString(h, "\x00"+l.CodeKey)
	}
	digest := hex.EncodeToString(h.Sum(nil))[:32]
	u.mu.Lock()
	if u.dirs == nil {
		u.dirs = map[string]*unpacked{}
	}
	e := u.dirs[digest]
	if e == nil {
		e = &unpacked{}
		u.dirs[digest] = e
	}
	u.mu.Unlock()
	e.once.Do(func() {
		e.dir = filepath.Join(u.root, digest)
		if _, err := os.Stat(filepath.Join(e.dir, "task")); err == nil {
			return // unpacked by an earlier run of the server
		}
		e.err = u.unpack(blobs, e.dir, code, layers)
	})
	if e.err != nil {
		u.mu.Lock()
		delete(u.dirs, digest) // let a later invocation try again
		u.mu.Unlock()
	}
	return e.dir, e.err
}

func (u *unpacker) unpack(blobs storage.Blobs, dir, code string, layers []layerRef) error {
	if err := os.MkdirAll(u.root, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(u.root, ".unpack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	budget := int64(maxUnzipped)
	opt := filepath.Join(tmp, "opt")
	if err := os.MkdirAll(opt, 0o755); err != nil {
		return err
	}
	for _, l := range layers {
		if err := unzipBlob(blobs, l.CodeKey, opt, &budget); err != nil {
			return fmt.Errorf("layer %s: %w", l.Arn, err)
		}
	}
	task := filepath.Join(tmp, "task")
	if err := os.MkdirAll(task, 0o755); err != nil {
		return err
	}
	if err := unzipBlob(blobs, code, task, &budget); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, fs.ErrExist) {
		if _, serr := os.Stat(filepath.Join(dir, "task")); serr == nil {
			return nil
		}
		return err
	}
	return nil
}

func unzipBlob(blobs storage.Blobs, key, dest string, budget *int64) error {
	b, err := blobs.Open(key)
	if err != nil {
		return err
	}
	defer b.Close()
	return unzip(b, b.Size(), dest, budget)
}

// unzip extracts the archive into dest. Entries whose names escape dest
// (absolute paths, "..") fail the whole archive; symbolic links are kept only
// when they point inside dest. budget is the number of bytes that may still
// be written; it is decreased as files are.
func unzip(r io.ReaderAt, size int64, dest string, budget *int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("%w: %v", errBadZip, err)
	}
	if len(zr.File) > maxZipEntries {
		return fmt.Errorf("%w: too many entries", errBadZip)
	}
	for _, f := range zr.File {
		name := strings.ReplaceAll(f.Name, "\\", "/")
		clean := path.Clean("/" + name)
		if name == "" || strings.HasPrefix(name, "/") || clean == "/" && !strings.HasSuffix(name, "/") || hasDotDot(name) {
			return fmt.Errorf("%w: entry %q escapes the package", errBadZip, f.Name)
		}
		target := filepath.Join(dest, filepath.FromSlash(clean[1:]))
		mode := f.Mode()
		switch {
		case f.FileInfo().IsDir() || strings.HasSuffix(name, "/"):
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		case mode&fs.ModeSymlink != 0:
			link, err := readSmall(f, 4096)
			if err != nil {
				return err
			}
			l := string(link)
			if strings.HasPrefix(l, "/") || hasDotDot(path.Join(path.Dir(clean[1:]), l)) {
				continue // a link out of the package is dropped
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			os.Remove(target)
			if err := os.Symlink(l, target); err != nil {
				return err
			}
			continue
		case !mode.IsRegular() && mode.Type() != 0:
			continue // devices, pipes: skipped
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		perm := mode.Perm()
		if perm == 0 {
			perm = 0o755
		}
		perm |= 0o400
		if err := writeEntry(f, target, perm, budget); err != nil {
			return err
		}
	}
	return nil
}

// hasDotDot reports whether a slash-separated name has a ".." element.
func hasDotDot(name string) bool {
	for _, e := range strings.Split(name, "/") {
		if e == ".." {
			return true
		}
	}
	return false
}

func readSmall(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadZip, err)
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, limit))
}

func writeEntry(f *zip.File, target string, perm fs.FileMode, budget *int64) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%w: %v", errBadZip, err)
	}
	defer rc.Close()
	os.Remove(target) // a later entry of the same name, or a layer file, is replaced
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, io.LimitReader(rc, *budget+1))
	*budget -= n
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w: %v", errBadZip, err)
	}
	if *budget < 0 {
		return fmt.Errorf("%w: unzipped size must be smaller than %d bytes", errBadZip, maxUnzipped)
	}
	return nil
}
