//go:build unix

package sim

import (
	"os"
	"os/exec"
	"syscall"
)

// processGroup ends the board process and anything it spawned: the process
// leads its own process group, and kill signals the whole group.
type processGroup struct{}

func newProcessGroup(cmd *exec.Cmd) *processGroup {
	cmd.SysProcAttr = boardProcAttr()
	return &processGroup{}
}

func (g *processGroup) started(*os.Process) error { return nil }

func (g *processGroup) kill(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }

func (g *processGroup) close() {}
