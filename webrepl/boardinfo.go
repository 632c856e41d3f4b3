// Board identification: the firmware version, what the board says it is
// (BoardInfo) and the marker in its RAM that shows a reset (probeBoard).

package webrepl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// Version is a MicroPython release as reported by GET_VER (§2.5).
type Version struct{ Major, Minor, Micro int }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Micro) }

// AtLeast reports whether v is the given release or a later one.
func (v Version) AtLeast(major, minor, micro int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Micro >= micro
}

// connectInfo is what a fresh connection learnt about the board.
type connectInfo struct {
	firmware Version
	epoch    string
	port     string // os.uname().sysname, "" if unknown
	build    string // os.uname().version
	machine  string // os.uname().machine
	uniqueID string // machine.unique_id(), hex
}

// BoardInfo is what the current connection learnt about the board, for a
// caller that tells the user which board it talks to and notices when that
// changes (a reset, another board at the same address, new firmware).
type BoardInfo struct {
	URL      string
	Firmware Version // GET_VER (docs/protocol/webrepl.md §2.5)
	Port     string  // os.uname().sysname: "esp32", "esp8266"; "" if the board has no os.uname
	Build    string  // os.uname().version, e.g. "v1.27.0 on 2025-12-09"; "" if unknown
	Machine  string  // os.uname().machine, e.g. "Generic ESP32 module with ESP32"; "" if unknown
	UniqueID string  // machine.unique_id() in hex (on ESP boards the MAC); "" if the board has none
	// Boot changes whenever the board resets: a marker this client left
	// in the board's RAM, compared between connections.
	Boot string
}

// SameBoard reports whether b and o describe the same physical board as far
// as can be told: not if their unique ids differ, nor their ports; nor
// their machine names under the same firmware (a firmware update may
// rename the machine, so then the name is not compared). A board flashed
// with new firmware is the same board.
func (b BoardInfo) SameBoard(o BoardInfo) bool {
	switch {
	case b.UniqueID != "" && o.UniqueID != "" && b.UniqueID != o.UniqueID:
		return false
	case b.Port != o.Port:
		return false
	case b.Machine != o.Machine && b.SameFirmware(o):
		return false
	}
	return true
}

// SameFirmware reports whether b and o run the same firmware build.
func (b BoardInfo) SameFirmware(o BoardInfo) bool {
	return b.Firmware == o.Firmware && b.Build == o.Build
}

// String names the board in one line: port, firmware, unique id, e.g.
// "esp32, MicroPython 1.27.0, id 240ac45e1a7c".
func (b BoardInfo) String() string {
	var parts []string
	if b.Port != "" {
		parts = append(parts, b.Port)
	}
	parts = append(parts, "MicroPython "+b.Firmware.String())
	if b.UniqueID != "" {
		parts = append(parts, "id "+b.UniqueID)
	}
	return strings.Join(parts, ", ")
}

// probeBoard leaves a random marker in the board's RAM (in sys.modules, so
// the user's globals stay clean) or reads the one already there: a marker
// that changed between two connections means the board reset in between.
// It also asks what the board is: os.uname() (its sysname names the port,
// which with GET_VER picks the raw-paste window, Options.Window; version
// and machine tell firmware builds and boards apart) and
// machine.unique_id(). A board without them (the unix port has neither)
// answers "?" for each. The program binds no names in the user's globals.
func (s *Session) probeBoard(ctx context.Context, l *link, info *connectInfo) error {
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	candidate := hex.EncodeToString(raw[:])
	info.epoch = candidate
	// Two short programs, each well under the 255-byte input ring of an
	// ESP8266, so that they arrive whole however the caller paces its own
	// programs (docs/protocol/webrepl.md §5.1).
	out, exc, err := s.runCapture(ctx, l, probeProgram(candidate))
	if err != nil {
		return fmt.Errorf("checking the board's state after login: %w", err)
	}
	if exc != nil {
		s.logf("webrepl: cannot leave a marker in the board's RAM (%s: %s); resets will go unnoticed", exc.Type, exc.Message)
		return nil
	}
	return s.finishProbe(ctx, l, info, out)
}

// finishProbe asks the board for its unique id and reads what it and the
// first probe (out: the marker, then os.uname()'s three lines) said into
// info.
func (s *Session) finishProbe(ctx context.Context, l *link, info *connectInfo, out []byte) error {
	id, exc, err := s.runCapture(ctx, l, uniqueIDProgram)
	if err != nil {
		return fmt.Errorf("asking the board for its unique id: %w", err)
	}
	if exc == nil {
		out = append(out, id...)
	}
	var lines []string
	for _, line := range strings.Split(string(out), "\n") {
		lines = append(lines, strings.TrimSpace(line))
	}
	field := func(i int) string {
		if i < len(lines) && lines[i] != "?" {
			return lines[i]
		}
		return ""
	}
	if m := field(0); m != "" {
		info.epoch = m
	}
	info.port = strings.ToLower(field(1))
	info.build, info.machine, info.uniqueID = field(2), field(3), field(4)
	return nil
}
