package sns_test

import "time"

// httpSleep yields between polls of a real HTTP endpoint, which no fake
// clock drives.
func httpSleep() { time.Sleep(time.Millisecond) }
