//go:build !(unix || windows)

package sim

import (
	"os"
	"os/exec"
)

// processGroup here ends only the board process itself.
type processGroup struct{}

func newProcessGroup(*exec.Cmd) *processGroup     { return &processGroup{} }
func (g *processGroup) started(*os.Process) error { return nil }
func (g *processGroup) kill(p *os.Process)        { _ = p.Kill() }
func (g *processGroup) close()                    {}
