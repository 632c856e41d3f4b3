// The raw-paste window policy (Options.Window) and the window it gives a
// board.

package webrepl

import (
	"fmt"
	"strings"
)

// Window is the raw-paste window policy (docs/protocol/webrepl.md §4.4).
type Window int

const (
	WindowAuto Window = iota // by the board identified at connect
	WindowFull               // 2·W outstanding
	WindowSafe               // 2·W−1 outstanding
)

func (w Window) String() string {
	switch w {
	case WindowFull:
		return "full"
	case WindowSafe:
		return "safe"
	}
	return "auto"
}

// ParseWindow reads "auto", "full" or "safe".
func ParseWindow(s string) (Window, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "auto", "":
		return WindowAuto, nil
	case "full":
		return WindowFull, nil
	case "safe":
		return WindowSafe, nil
	}
	return WindowAuto, fmt.Errorf("unknown window %q (want auto, full or safe)", s)
}

// windowFor is the window policy applied to a board: only an ESP32
// from 1.15 on has the 259-byte ring that holds 2·W bytes; ESP8266, ESP32
// up to 1.14 (255 bytes) and anything unidentified keep one byte in hand
// (docs/protocol/webrepl.md §4.4, §5.1, §5.3).
func (s *Session) windowFor(port string, v Version) Window {
	switch {
	case s.opts.Window == WindowFull:
		return WindowFull
	case s.opts.Window == WindowSafe:
		return WindowSafe
	case port == "esp32" && v.AtLeast(1, 15, 0):
		return WindowFull
	}
	return WindowSafe
}

// sendWindow is the window a program is sent with: RawPasteWindow for the
// caller's programs; for the package's own (own: execOn), the window the
// board is known to take whatever Options.Window forces, since they must
// arrive whole (a forced full window may overflow a 255-byte ring).
func (s *Session) sendWindow(own bool) Window {
	s.mu.Lock()
	port, v := s.port, s.firmware
	s.mu.Unlock()
	if own && s.opts.Window == WindowFull && !(port == "esp32" && v.AtLeast(1, 15, 0)) {
		return WindowSafe
	}
	return s.windowFor(port, v)
}

// RawPasteWindow is the window policy in use on the current connection
// (WindowFull or WindowSafe) and the port the board named at connect.
func (s *Session) RawPasteWindow() (Window, string) {
	s.mu.Lock()
	port, v := s.port, s.firmware
	s.mu.Unlock()
	return s.windowFor(port, v), port
}
