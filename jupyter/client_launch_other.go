//go:build !linux

package jupyter

import "os/exec"

// endWithParent does nothing here: only Linux has a parent-death signal. On
// Windows Launch puts the kernel in a kill-on-close job object instead
// (internal/winjob); on macOS a launcher killed without Stop leaves its
// kernel running.
func endWithParent(*exec.Cmd) {}
