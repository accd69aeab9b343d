//go:build !linux

package proc

// waitExitable is not supported here: the exit is observed only when the
// child is reaped, so the process group is not killed after the main
// process exits.
func waitExitable(int) bool { return false }
