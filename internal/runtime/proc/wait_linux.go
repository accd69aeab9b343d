package proc

import (
	"syscall"
	"unsafe"
)

// waitExitable blocks until the child pid has exited, without reaping it,
// and reports true. While the exited child is unreaped its pid, and so its
// process group id, cannot be reused, so the group may still be signalled.
func waitExitable(pid int) bool {
	const (
		pPID    = 1
		wNoWait = 0x1000000
	)
	var siginfo [128]byte
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&siginfo[0])), syscall.WEXITED|wNoWait, 0, 0)
		if errno != syscall.EINTR {
			return errno == 0
		}
	}
}
