//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing outside Linux (no parent-death signal): a
// bench that is killed may leave its kernels to be ended by hand. The bench
// runs on Linux (it needs the real MicroPython board's Linux build).
func dieWithParent(*exec.Cmd) {}
