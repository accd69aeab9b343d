package proc

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of CPU times in /proc/<pid>/stat; Linux
// exposes 100 on every architecture.
const clockTicks = 100

// groupStats sums the stats of every process in process group pgid.
func groupStats(pgid int) (Stats, error) {
	var st Stats
	leader, err := readStat(pgid)
	if err != nil {
		return st, fmt.Errorf("read stats of %d: %w", pgid, err)
	}
	st.add(leader)
	dir, err := os.ReadDir("/proc")
	if err != nil {
		return st, fmt.Errorf("read stats: %w", err)
	}
	for _, e := range dir {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pgid {
			continue
		}
		s, err := readStat(pid)
		if err != nil || s.pgrp != pgid {
			continue // gone, or not ours
		}
		st.add(s)
	}
	return st, nil
}

type procStat struct {
	pgrp                         int
	utime, stime, cutime, cstime int64 // clock ticks
	rssPages                     int64
}

func (st *Stats) add(s procStat) {
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / clockTicks }
	st.User += tick(s.utime + s.cutime)
	st.System += tick(s.stime + s.cstime)
	st.CPU = st.User + st.System
	st.RSS += s.rssPages * int64(os.Getpagesize())
	st.Processes++
}

// readStat parses /proc/<pid>/stat (see proc_pid_stat(5)).
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// The command name, field 2, is parenthesised and may hold anything;
	// the fields after the last ')' start at field 3.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 22 {
		return procStat{}, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	field := func(n int) int64 { // n is the 1-based field number of the man page
		v, _ := strconv.ParseInt(string(f[n-3]), 10, 64)
		return v
	}
	return procStat{
		pgrp:     int(field(5)),
		utime:    field(14),
		stime:    field(15),
		cutime:   field(16),
		cstime:   field(17),
		rssPages: field(24),
	}, nil
}
