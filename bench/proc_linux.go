package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes Linux kill a kernel the bench started if the bench
// dies without stopping it.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
