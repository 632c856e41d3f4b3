package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA
)

// openTerminalInput opens the controlling terminal afresh (macOS has no
// /proc; its /dev/fd/0 would share stdin's open file description). The new
// description can be made non-blocking (so a read can be interrupted by
// closing it) without changing the one the shell shares with us. It must be
// the terminal stdin is.
func openTerminalInput() (*os.File, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("opening the terminal: %w", err)
	}
	var in, tty syscall.Stat_t
	if syscall.Fstat(int(os.Stdin.Fd()), &in) != nil || syscall.Fstat(int(f.Fd()), &tty) != nil || in.Rdev != tty.Rdev {
		f.Close()
		return nil, errors.New("opening the terminal: stdin is not this process's controlling terminal")
	}
	return f, nil
}
