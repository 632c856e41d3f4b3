package sim

import (
	"os"
	"os/exec"

	"webrepl-kernel/internal/winjob"
)

// processGroup puts the board process in a job object that kills every
// process in it when the job's last handle closes: kill ends node and
// anything it spawned, and so does this process's death (Windows closes
// the handle then).
type processGroup struct{ job *winjob.Job }

func newProcessGroup(*exec.Cmd) *processGroup { return &processGroup{job: winjob.New()} }

func (g *processGroup) started(p *os.Process) error { return g.job.Add(p) }

func (g *processGroup) kill(p *os.Process) { g.job.Kill(p) }

func (g *processGroup) close() { g.job.Close() }
