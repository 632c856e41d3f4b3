package jupyter

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// processCPU is the process's user and system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processMemory is the process's resident set size (VmRSS), what psutil
// calls rss.
func processMemory() uint64 {
	kb := procFields("/proc/self/status", "VmRSS")
	return kb["VmRSS"] * 1024
}

// hostCPUTicks reads the host's busy and total CPU ticks (/proc/stat's cpu
// line: busy is everything but idle and iowait, as psutil counts).
func hostCPUTicks() (busy, all uint64, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0, false
	}
	for i, f := range fields[1:] {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		if i < 8 { // guest and guest_nice are already in user and nice
			all += n
			if i != 3 && i != 4 { // idle, iowait
				busy += n
			}
		}
	}
	return busy, all, true
}

// hostMemory is psutil.virtual_memory() on Linux, from /proc/meminfo
// (bytes, and percent used).
func hostMemory() map[string]float64 {
	kb := procFields("/proc/meminfo", "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached",
		"SReclaimable", "Shmem", "Active", "Inactive", "Slab")
	total := kb["MemTotal"] * 1024
	if total == 0 {
		return nil
	}
	free, avail := kb["MemFree"]*1024, kb["MemAvailable"]*1024
	buffers, cached := kb["Buffers"]*1024, (kb["Cached"]+kb["SReclaimable"])*1024
	used := total - min(total, free+buffers+cached)
	m := map[string]float64{"percent": 100 * float64(total-min(total, avail)) / float64(total)}
	for name, v := range map[string]uint64{"total": total, "available": avail, "used": used, "free": free,
		"active": kb["Active"] * 1024, "inactive": kb["Inactive"] * 1024, "buffers": buffers,
		"cached": cached, "shared": kb["Shmem"] * 1024, "slab": kb["Slab"] * 1024} {
		m[name] = float64(v)
	}
	return m
}

// procFields reads "Name: value kB" lines of a /proc file.
func procFields(path string, names ...string) map[string]uint64 {
	out := map[string]uint64{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || !want[name] {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		if n, err := strconv.ParseUint(fields[0], 10, 64); err == nil {
			out[name] = n
		}
	}
	return out
}
