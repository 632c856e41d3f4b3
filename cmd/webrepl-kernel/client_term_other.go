//go:build !(linux || darwin)

package main

import (
	"errors"
	"os"
)

// Terminal control is implemented for Linux and macOS; elsewhere (Windows)
// the commands work without progress display or password prompt, and repl
// says it is not available.

var errNoTerminalSupport = errors.New("the interactive terminal is not available on this system (Linux and macOS only): use exec, put and get, or Jupyter")

// terminalAvailable says that repl cannot work on this system.
func terminalAvailable() error { return errNoTerminalSupport }

func isTerminal(f *os.File) bool { return false }

func makeRaw(f *os.File) (restore func() error, err error) { return nil, errNoTerminalSupport }

func withoutEcho(f *os.File, read func() error) error { return errNoTerminalSupport }

func openTerminalInput() (*os.File, error) { return nil, errNoTerminalSupport }
