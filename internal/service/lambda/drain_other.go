//go:build !linux

package lambda

import "os"

// outputPipe is a no-op where /proc and FIONREAD are not available: output
// written just before a response may be logged after its END line.
type outputPipe struct{}

func openOutputPipe(int) outputPipe { return outputPipe{} }
func (outputPipe) drain()           {}
func (outputPipe) close()           {}

func peakRSS(*os.File, []byte) (int64, bool) { return 0, false }
func openStatus(int) *os.File                { return nil }
