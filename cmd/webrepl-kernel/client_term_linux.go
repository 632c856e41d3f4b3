package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

const (
	ioctlGetTermios = unix.TCGETS
	ioctlSetTermios = unix.TCSETS
)

// openTerminalInput opens stdin's terminal afresh. The new open file
// description can be made non-blocking (so a read can be interrupted by
// closing it) without changing the one the shell shares with us.
func openTerminalInput() (*os.File, error) {
	f, err := os.OpenFile("/proc/self/fd/0", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("opening the terminal: %w", err)
	}
	return f, nil
}
