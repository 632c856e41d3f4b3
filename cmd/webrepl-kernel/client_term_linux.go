//go:build linux

package main

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// Terminal handling with two ioctls from the standard library, so the binary
// needs neither golang.org/x/term nor an stty process.

func getTermios(fd uintptr) (syscall.Termios, error) {
	var t syscall.Termios
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCGETS, uintptr(unsafe.Pointer(&t))); errno != 0 {
		return t, errno
	}
	return t, nil
}

func setTermios(fd uintptr, t syscall.Termios) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCSETS, uintptr(unsafe.Pointer(&t))); errno != 0 {
		return errno
	}
	return nil
}

// isTerminal reports whether f is a terminal (a tty accepts TCGETS).
func isTerminal(f *os.File) bool {
	_, err := getTermios(f.Fd())
	return err == nil
}

// makeRaw switches the terminal to raw mode (as cfmakeraw does) and returns
// the function that puts the previous settings back.
func makeRaw(f *os.File) (restore func() error, err error) {
	fd := f.Fd()
	saved, err := getTermios(fd)
	if err != nil {
		return nil, fmt.Errorf("reading terminal settings: %w", err)
	}
	raw := saved
	raw.Iflag &^= syscall.IGNBRK | syscall.BRKINT | syscall.PARMRK | syscall.ISTRIP |
		syscall.INLCR | syscall.IGNCR | syscall.ICRNL | syscall.IXON
	raw.Oflag &^= syscall.OPOST
	raw.Lflag &^= syscall.ECHO | syscall.ECHONL | syscall.ICANON | syscall.ISIG | syscall.IEXTEN
	raw.Cflag &^= syscall.CSIZE | syscall.PARENB
	raw.Cflag |= syscall.CS8
	raw.Cc[syscall.VMIN] = 1
	raw.Cc[syscall.VTIME] = 0
	if err := setTermios(fd, raw); err != nil {
		return nil, fmt.Errorf("switching the terminal to raw mode: %w", err)
	}
	return func() error {
		if err := setTermios(fd, saved); err != nil {
			return fmt.Errorf("restoring the terminal: %w", err)
		}
		return nil
	}, nil
}

// withoutEcho runs read with the terminal's echo switched off (for a
// password) and switches it back on whatever read does.
func withoutEcho(f *os.File, read func() error) error {
	fd := f.Fd()
	saved, err := getTermios(fd)
	if err != nil {
		return fmt.Errorf("reading terminal settings: %w", err)
	}
	quiet := saved
	quiet.Lflag &^= syscall.ECHO
	quiet.Lflag |= syscall.ICANON | syscall.ECHONL
	if err := setTermios(fd, quiet); err != nil {
		return fmt.Errorf("switching terminal echo off: %w", err)
	}
	readErr := read()
	if err := setTermios(fd, saved); err != nil && readErr == nil {
		return fmt.Errorf("restoring the terminal: %w", err)
	}
	return readErr
}

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
