//go:build !linux

package jupyter

import (
	"runtime"
	"time"
)

// Outside Linux the kernel reports what the Go runtime knows: no CPU time,
// the memory it obtained from the system, and no host figures.

func processCPU() time.Duration { return 0 }

func processMemory() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Sys - ms.HeapReleased
}

func hostCPUTicks() (busy, all uint64, ok bool) { return 0, 0, false }

func hostMemory() map[string]float64 { return nil }
