//go:build !linux

package jupyter

import "os/exec"

// endWithParent does nothing here: only Linux has a parent-death signal.
func endWithParent(*exec.Cmd) {}
