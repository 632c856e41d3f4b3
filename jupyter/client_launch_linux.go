package jupyter

import (
	"os/exec"
	"syscall"
)

// endWithParent makes Linux send the kernel SIGTERM if this process dies
// without stopping it (killed, or SIGPIPE on a closed stdout): a kernel
// left behind would hold its board forever.
func endWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
