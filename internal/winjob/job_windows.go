package winjob

import (
	"fmt"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Job is a kill-on-close job object; the zero handle means none could be
// made, and then Kill ends only the processes added by their own handles.
type Job struct {
	mu  sync.Mutex
	job windows.Handle // 0 once closed
}

// New makes a job; if Windows refuses, the job does nothing but Kill's
// per-process fallback.
func New() *Job {
	h, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return &Job{}
	}
	var limits windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	limits.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if _, err := windows.SetInformationJobObject(h, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&limits)), uint32(unsafe.Sizeof(limits))); err != nil {
		_ = windows.CloseHandle(h)
		return &Job{}
	}
	return &Job{job: h}
}

// Add puts a started process (and what it starts later) in the job.
func (j *Job) Add(p *os.Process) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.job == 0 {
		return nil
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(p.Pid))
	if err != nil {
		return fmt.Errorf("opening process %d for its job object: %w", p.Pid, err)
	}
	defer windows.CloseHandle(h)
	if err := windows.AssignProcessToJobObject(j.job, h); err != nil {
		return fmt.Errorf("adding process %d to its job object: %w", p.Pid, err)
	}
	return nil
}

// Kill ends every process in the job, and p itself in case it is not in it.
func (j *Job) Kill(p *os.Process) {
	j.mu.Lock()
	if j.job != 0 {
		_ = windows.TerminateJobObject(j.job, 1)
	}
	j.mu.Unlock()
	if p != nil {
		_ = p.Kill()
	}
}

// Close lets go of the job: processes still in it are killed. Call it once
// they have exited.
func (j *Job) Close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.job != 0 {
		_ = windows.CloseHandle(j.job)
		j.job = 0
	}
}
