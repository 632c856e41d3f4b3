//go:build linux

// Package serialtest gives tests a serial port without hardware: a
// pseudo-terminal pair, whose slave side Open takes as it takes
// /dev/ttyUSB0, and a relay that carries bytes between two of them like a
// USB cable, which a test can pull.
package serialtest

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Supported reports whether OpenPTY works here.
func Supported() bool { return true }

// OpenPTY opens a new pseudo-terminal: the master side, and the path of
// the slave side (/dev/pts/N). The slave is left in the kernel's default
// (cooked) mode.
func OpenPTY() (master *os.File, slave string, err error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, "", fmt.Errorf("opening /dev/ptmx: %w", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(fd)
		return nil, "", fmt.Errorf("unlocking the pseudo-terminal: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		unix.Close(fd)
		return nil, "", fmt.Errorf("naming the pseudo-terminal: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), fmt.Sprintf("/dev/pts/%d", n), nil
}

// SetBoardMode puts the terminal f (a slave side) in the mode of a board's console
// seen through a USB serial bridge: no echo and no output translation
// (the board sends its own CR LF), but Ctrl-C still signals the program
// that reads it (the unix port's KeyboardInterrupt while code runs).
func SetBoardMode(f *os.File) error {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return err
	}
	t.Lflag &^= unix.ECHO | unix.ECHOE | unix.ECHOK | unix.ECHONL | unix.ECHOCTL | unix.ECHOKE
	t.Oflag &^= unix.OPOST
	return unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t)
}

// setRaw puts the terminal f in raw mode: no echo, no translation either
// way, so what reaches a port nobody has opened yet stays as it came (and
// is not echoed back to the board, as no serial port echoes).
func setRaw(f *os.File) error {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	return unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t)
}
