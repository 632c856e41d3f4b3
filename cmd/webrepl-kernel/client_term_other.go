//go:build !linux

package main

import (
	"errors"
	"os"
)

// Terminal control is implemented for Linux only; elsewhere the commands
// work without progress display, password prompt or the interactive REPL.

var errNoTerminalSupport = errors.New("terminal control is only implemented on Linux")

func isTerminal(f *os.File) bool { return false }

func makeRaw(f *os.File) (restore func() error, err error) { return nil, errNoTerminalSupport }

func withoutEcho(f *os.File, read func() error) error { return errNoTerminalSupport }

func openTerminalInput() (*os.File, error) { return nil, errNoTerminalSupport }
