//go:build linux || darwin

package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Terminal handling with two ioctls (through golang.org/x/sys/unix, which
// calls libc on macOS as the system requires), so the binary needs no stty
// process. Their request numbers and how to reopen the terminal differ per
// system: client_term_linux.go, client_term_darwin.go.

func getTermios(fd uintptr) (unix.Termios, error) {
	t, err := unix.IoctlGetTermios(int(fd), ioctlGetTermios)
	if err != nil {
		return unix.Termios{}, err
	}
	return *t, nil
}

func setTermios(fd uintptr, t unix.Termios) error {
	return unix.IoctlSetTermios(int(fd), ioctlSetTermios, &t)
}

// terminalAvailable is nil: repl, the password prompt and progress lines
// work on this system.
func terminalAvailable() error { return nil }

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
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP |
		unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
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
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ECHONL
	if err := setTermios(fd, quiet); err != nil {
		return fmt.Errorf("switching terminal echo off: %w", err)
	}
	readErr := read()
	if err := setTermios(fd, saved); err != nil && readErr == nil {
		return fmt.Errorf("restoring the terminal: %w", err)
	}
	return readErr
}
