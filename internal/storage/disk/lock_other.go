//go:build !unix

package disk

import "os"

// lockDir opens the lock file; on platforms without flock it does not lock.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}
