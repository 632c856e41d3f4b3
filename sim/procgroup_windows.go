package sim

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// processGroup puts the board process in a job object that kills every
// process in it when the job's last handle closes: kill ends node and
// anything it spawned, and so does this process's death (Windows closes
// the handle then).
type processGroup struct {
	mu  sync.Mutex
	job windows.Handle // 0 once closed, or if the job could not be made
}

func newProcessGroup(*exec.Cmd) *processGroup {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return &processGroup{}
	}
	var limits windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	limits.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&limits)), uint32(unsafe.Sizeof(limits))); err != nil {
		_ = windows.CloseHandle(job)
		return &processGroup{}
	}
	return &processGroup{job: job}
}

// started adds the process to the job. Without a job, kill still ends the
// process itself, and node exits when its stdin ends.
func (g *processGroup) started(p *os.Process) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.job == 0 {
		return nil
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(p.Pid))
	if err != nil {
		return fmt.Errorf("opening the process for its job object: %w", err)
	}
	defer windows.CloseHandle(h)
	if err := windows.AssignProcessToJobObject(g.job, h); err != nil {
		return fmt.Errorf("adding the process to its job object: %w", err)
	}
	return nil
}

func (g *processGroup) kill(p *os.Process) {
	g.mu.Lock()
	job := g.job
	if job != 0 {
		_ = windows.TerminateJobObject(job, 1)
	}
	g.mu.Unlock()
	_ = p.Kill()
}

func (g *processGroup) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.job != 0 {
		_ = windows.CloseHandle(g.job)
		g.job = 0
	}
}
