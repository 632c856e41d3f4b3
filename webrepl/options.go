// Options: how a Session paces programs, the raw-paste window, its timeouts
// and the callbacks that tell its caller about the link.

package webrepl

import (
	"fmt"
	"strings"
	"time"
)

// Pacing chooses how program text is sent to the board (§5.5).
type Pacing int

const (
	// PacingAuto uses raw-paste mode when the board offers it, else PacingPaced.
	PacingAuto Pacing = iota
	// PacingRawPaste uses raw-paste mode's flow control (§4); boards before
	// 1.14 are refused with ErrRawPasteUnsupported.
	PacingRawPaste
	// PacingPaced sends ChunkSize bytes every ChunkGap in the standard raw
	// REPL, slow enough for the ESP32's 259-byte input queue (§5).
	PacingPaced
)

func (p Pacing) String() string {
	switch p {
	case PacingAuto:
		return "auto"
	case PacingRawPaste:
		return "raw-paste"
	case PacingPaced:
		return "paced"
	}
	return fmt.Sprintf("Pacing(%d)", int(p))
}

// ParsePacing reads "auto", "raw-paste" or "paced".
func ParsePacing(s string) (Pacing, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "auto", "":
		return PacingAuto, nil
	case "raw-paste", "rawpaste", "raw_paste":
		return PacingRawPaste, nil
	case "paced":
		return PacingPaced, nil
	}
	return PacingAuto, fmt.Errorf("unknown pacing %q (want auto, raw-paste or paced)", s)
}

// Defaults from docs/protocol/webrepl.md §5.5 and §1.7.
const (
	DefaultChunkSize        = 200
	DefaultChunkGap         = 100 * time.Millisecond
	DefaultKeepAlive        = 30 * time.Second
	DefaultConnectTimeout   = 15 * time.Second
	DefaultReconnectTimeout = 30 * time.Second
	stepTimeout             = 5 * time.Second
)

// Options configure a Session. The zero value of every field but Password
// picks the default.
type Options struct {
	Password  string
	Pacing    Pacing
	ChunkSize int           // paced mode, default 200 (docs/protocol/webrepl.md §5.5)
	ChunkGap  time.Duration // paced mode, default 100ms
	// Window chooses the raw-paste window: how many bytes may be
	// outstanding, 2·W (WindowFull) or 2·W−1 (WindowSafe). 2·W is only for
	// a board whose console input ring holds at least 2·W bytes: an ESP32
	// with MicroPython 1.15 or later (259 bytes, docs/protocol/webrepl.md
	// §4.4); on ESP8266 and ESP32 1.14 (255 bytes) the 256th byte can be
	// dropped, so WindowSafe keeps one byte in hand. Why it matters: the
	// board grants a window per W bytes consumed, so with 2·W−1 outstanding
	// only W new bytes can move per ESP32 drain (~80 ms); with 2·W, both
	// windows move and throughput doubles. WindowAuto (the default) takes
	// 2·W on an ESP32 with MicroPython 1.15 or later, identified at
	// connect, and 2·W−1 elsewhere.
	Window Window
	Logf   func(format string, args ...any) // optional debug log

	// KeepAlive: an empty text frame is sent after this long without any
	// write. Default 30s; negative disables it.
	KeepAlive time.Duration
	// ConnectTimeout bounds reaching the raw REPL after login (§3.7).
	ConnectTimeout time.Duration
	// ReconnectTimeout bounds Reconnect and the reconnection after a drop.
	ReconnectTimeout time.Duration
	// OnReconnect, if set, is called after every successful reconnection;
	// ramLost tells whether the board reset since the previous connection
	// (its variables and imports are gone). It runs inside the operation
	// that reconnected, so it must not call Exec, the file methods or the
	// resets (Interrupt and SendInput are fine).
	OnReconnect func(ramLost bool)
	// OnReconnecting, if set, is called as each attempt to reach the board
	// again begins: attempt counts from 1; cause is why the previous
	// attempt failed, or why the link ended before the first one (nil if
	// unknown). It is called for the reconnections after a drop or a reset
	// and for Dial's retries of a board that is still rebooting, inside the
	// operation that reconnects, with the same restriction as OnReconnect.
	// It lets a caller say at once that the board is being waited for,
	// rather than after ReconnectTimeout.
	OnReconnecting func(attempt int, cause error)
	// ConsoleChunkSize and ConsoleChunkGap pace what a Console sends: at
	// most ConsoleChunkSize bytes per ConsoleChunkGap, defaults 32 bytes
	// per 100ms. Single keystrokes are never delayed; a paste is spread
	// out so an ESP32's friendly REPL, which echoes each byte as a frame,
	// keeps up and drops nothing (docs/protocol/webrepl.md §5.1).
	ConsoleChunkSize int
	ConsoleChunkGap  time.Duration

	// Unsolicited, if set, receives text the board printed while no
	// program was running (timer output, notices about rejected clients),
	// when the next operation starts. Same restriction as OnReconnect.
	Unsolicited func(p []byte)

	// AfterHandOver: the caller has just taken the board from another of
	// our processes (package handover), which closed its link or died. The
	// board frees its single client slot only after it has seen that
	// connection end (§1.6), which a loaded board or host can take a while
	// to do, so Dial retries ErrBusy within ConnectTimeout as it retries
	// ErrRebooting. Otherwise ErrBusy means a foreign client and is
	// returned at once.
	AfterHandOver bool
}

func (o Options) withDefaults() Options {
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.ChunkGap <= 0 {
		o.ChunkGap = DefaultChunkGap
	}
	if o.ConsoleChunkSize <= 0 {
		o.ConsoleChunkSize = DefaultConsoleChunkSize
	}
	if o.ConsoleChunkGap <= 0 {
		o.ConsoleChunkGap = DefaultConsoleChunkGap
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.ReconnectTimeout <= 0 {
		o.ReconnectTimeout = DefaultReconnectTimeout
	}
	return o
}
