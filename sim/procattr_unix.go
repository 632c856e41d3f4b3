//go:build unix && !linux

package sim

import "syscall"

// boardProcAttr gives the board process its own process group. There is no
// parent-death signal outside Linux; the board process exits when its stdin
// ends (sim/board/main.mjs), which happens when this process dies.
func boardProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
