//go:build !linux

package serialtest

import (
	"errors"
	"os"
)

// Supported reports whether OpenPTY works here.
func Supported() bool { return false }

// OpenPTY is Linux-only in this build.
func OpenPTY() (*os.File, string, error) {
	return nil, "", errors.New("pseudo-terminals for tests: Linux only")
}

// SetBoardMode is Linux-only in this build.
func SetBoardMode(*os.File) error { return errors.New("Linux only") }
