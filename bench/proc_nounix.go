//go:build !unix

package main

import (
	"os"
	"os/exec"
)

// ownGroup does nothing here; killGroup ends the process itself only.
func ownGroup(*exec.Cmd) {}

func killGroup(p *os.Process) { _ = p.Kill() }
