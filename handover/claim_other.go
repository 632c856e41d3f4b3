//go:build !(linux || darwin)

package handover

import (
	"context"
	"os"
)

// Supported: hand-over works on this system.
const Supported = false

// Unsupported is the line callers add when the board turns them away.
const Unsupported = "hand-over between processes is not available on this system (Linux and macOS only): stop the other process that holds the board"

// Claim does nothing here.
type Claim struct{}

func New(opts Options) (*Claim, error)         { return &Claim{}, nil }
func (c *Claim) SetKeep(bool)                  {}
func (c *Claim) TakenBy() string               { return "" }
func (c *Claim) Held() bool                    { return false }
func (c *Claim) TookOver() bool                { return false }
func (c *Claim) Acquire(context.Context) error { return nil }
func (c *Claim) Done()                         {}
func (c *Claim) Drop()                         {}
func (c *Claim) Close()                        {}

func ownedByUs(string, os.FileInfo) error { return nil }
