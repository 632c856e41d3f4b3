//go:build !windows

package winjob

import "os"

// Job does nothing outside Windows.
type Job struct{}

func New() *Job                      { return &Job{} }
func (j *Job) Add(*os.Process) error { return nil }
func (j *Job) Kill(p *os.Process)    { _ = p.Kill() }
func (j *Job) Close()                {}
