//go:build !linux

package serialtest

import (
	"errors"
	"os"
	"testing"
)

// Supported reports whether OpenPTY works here.
func Supported() bool { return false }

// OpenPTY is Linux-only in this build.
func OpenPTY() (*os.File, string, error) {
	return nil, "", errors.New("pseudo-terminals for tests: Linux only")
}

// SetBoardMode is Linux-only in this build.
func SetBoardMode(*os.File) error { return errors.New("Linux only") }

// Board is Linux-only in this build.
type Board struct{ Port string }

// RawPaste: see the Linux build.
type RawPaste int

const (
	RawPastePass RawPaste = iota
	RawPasteRefused
	RawPasteUnknown
)

// Options for StartBoard.
type Options struct {
	Dir      string
	RawPaste RawPaste
}

// StartBoard skips the test: Linux only.
func StartBoard(t testing.TB, argv []string, opts Options) *Board {
	t.Skip("pseudo-terminal boards: Linux only")
	return nil
}

// Starts: see the Linux build.
func (b *Board) Starts() int { return 0 }

// Reset: see the Linux build.
func (b *Board) Reset() {}
