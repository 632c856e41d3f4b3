package sim

import "syscall"

// boardProcAttr gives the board process its own process group, and Linux
// kills it if this process dies without stopping it.
func boardProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
