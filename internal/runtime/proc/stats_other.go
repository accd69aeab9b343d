//go:build !linux

package proc

import "errors"

func groupStats(int) (Stats, error) {
	return Stats{}, errors.ErrUnsupported
}
