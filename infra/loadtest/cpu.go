package loadtest

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The machine's speed drifts from one run to the next (a shared VM), so a
// run's throughput alone compares builds poorly. What a build costs per
// event does not drift as much: the CPU time this process (simulator and
// pipeline) and the scratch database's Postgres backends used while the
// traffic was generated and stored.

// cpuSample is the CPU time used so far by this process and by each
// Postgres backend serving the scratch schema.
type cpuSample struct {
	process  time.Duration
	backends map[int]time.Duration
}

// clockTick is the unit of /proc/<pid>/stat's times (USER_HZ, 100 on Linux
// everywhere but exotic builds).
const clockTick = 10 * time.Millisecond

func sampleCPU(ctx context.Context, sc *scratch) cpuSample {
	s := cpuSample{backends: map[int]time.Duration{}}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	// Backends are found by the application name the scratch pool (and any
	// worker process given its URL) connects with. Postgres on another
	// host, or /proc unreadable: no backends, and no figure reported.
	rows, err := sc.db.Pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, sc.schema)
	if err != nil {
		return s
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) != nil {
			continue
		}
		if t, ok := procCPU(pid); ok {
			s.backends[pid] = t
		}
	}
	return s
}

// procCPU reads a process's user+system time from /proc.
func procCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * clockTick, true
}

// reportCPU sets the report's per-event CPU cost between two samples.
// Backends that closed in between are missed; new ones count from zero.
func reportCPU(rep *Report, from, to cpuSample, events int) {
	if events == 0 {
		return
	}
	rep.CPUMicrosPerEvent = float64((to.process - from.process).Microseconds()) / float64(events)
	var pg time.Duration
	for pid, t := range to.backends {
		pg += t - from.backends[pid]
	}
	if len(to.backends) > 0 {
		rep.PostgresCPUMicrosPerEvent = float64(pg.Microseconds()) / float64(events)
	}
}
