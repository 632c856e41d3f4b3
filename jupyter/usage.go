package jupyter

import (
	"os"
	"runtime"
	"sync"
	"time"
)

// UsageReply answers usage_request, which the jupyter-resource-usage
// extension sends on control every few seconds while its kernel panel is
// open. The fields and their meaning are ipykernel's (kernelbase.py
// usage_request): the extension's server handler passes the reply's content
// to its panel as it is, and the panel shows hostname, pid, kernel_cpu
// (percent of one CPU), kernel_memory (bytes), host_cpu_percent on cpu_count
// CPUs and the host_virtual_memory figures, or says "not available" when
// hostname is empty (docs/protocol/jupyter.md §1.10).
type UsageReply struct {
	Status       string  `json:"status"`
	Hostname     string  `json:"hostname"`
	PID          int     `json:"pid"`
	KernelCPU    float64 `json:"kernel_cpu"`
	KernelMemory uint64  `json:"kernel_memory"`
	// HostCPUPercent is left out when unknown (the first sample), as
	// ipykernel leaves out psutil's meaningless first 0.0.
	HostCPUPercent    float64            `json:"host_cpu_percent,omitempty"`
	CPUCount          int                `json:"cpu_count"`
	HostVirtualMemory map[string]float64 `json:"host_virtual_memory"`
}

// UsageMeter measures the kernel process and its host for UsageReply. CPU
// figures are averages since the previous Sample (the first: since the
// meter was made), as psutil's cpu_percent is since its previous call.
type UsageMeter struct {
	mu       sync.Mutex
	wall     time.Time     // when the previous sample was taken
	cpu      time.Duration // the process's CPU time then
	hostBusy uint64        // the host's busy and total CPU ticks then
	hostAll  uint64
}

// NewUsageMeter starts measuring now.
func NewUsageMeter() *UsageMeter {
	m := &UsageMeter{wall: time.Now(), cpu: processCPU()}
	m.hostBusy, m.hostAll, _ = hostCPUTicks()
	return m
}

// Sample measures the process and the host.
func (m *UsageMeter) Sample() UsageReply {
	host, _ := os.Hostname()
	r := UsageReply{Status: StatusOK, Hostname: host, PID: os.Getpid(), CPUCount: runtime.NumCPU(),
		KernelMemory: processMemory(), HostVirtualMemory: hostMemory()}
	now, cpu := time.Now(), processCPU()
	busy, all, ok := hostCPUTicks()
	m.mu.Lock()
	if wall := now.Sub(m.wall); wall > 0 {
		r.KernelCPU = 100 * float64(cpu-m.cpu) / float64(wall)
	}
	if ok && all > m.hostAll && m.hostAll > 0 {
		r.HostCPUPercent = 100 * float64(busy-m.hostBusy) / float64(all-m.hostAll)
	}
	m.wall, m.cpu, m.hostBusy, m.hostAll = now, cpu, busy, all
	m.mu.Unlock()
	if r.HostVirtualMemory == nil {
		r.HostVirtualMemory = map[string]float64{}
	}
	return r
}
