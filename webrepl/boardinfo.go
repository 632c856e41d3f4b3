// Board identification: the firmware version, what the board says it is
// (BoardInfo) and the record in its RAM that shows a reset and keeps the identity.

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
	// identityPending: the record had no identity yet and the board was
	// busy with the caller's first program (connect, ahead), so the
	// caller asks once that has ended (DialExec).
	identityPending bool
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
	// Pending: Port, Build, Machine and UniqueID are not known yet, on a
	// board met for the first time since it started, while DialExec runs
	// its first program (they are asked after it); unknown is not "none".
	Pending bool
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

// The session marker: a random nonce a connection leaves in the board's RAM
// (in sys.modules, so the user's globals stay clean) unless one is there,
// and reads back. A marker that changed between two connections means the
// board reset in between. Once per boot the board's identity follows it in
// the same record (py/identity.py): os.uname() (its sysname names the port,
// which with GET_VER picks the raw-paste window, Options.Window; version and
// machine tell firmware builds and boards apart) and machine.unique_id(), or
// "?" for each the board lacks (the unix port has neither). So a connection
// to a board that another connection has met since it started learns all
// of it from the first program (py/hello.py), and only the first connection
// after a boot asks a second time. No program binds names in the user's
// globals.

// markerKey is where the record lives in sys.modules; py/hello.py spells it
// out, since every byte of that program counts.
const markerKey = "__wk_board"

// recordLines is how many lines a record with the identity has.
const recordLines = 5

// newNonce is a random marker candidate: 16 hex digits.
func newNonce() string {
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	return hex.EncodeToString(raw[:])
}

// readRecord reads the record a first program printed (the marker line, then
// the identity's four if the board has been asked since it started) into
// info, and reports whether it held the identity.
func (info *connectInfo) readRecord(record string) bool {
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(record), "\n") {
		lines = append(lines, strings.TrimSpace(line))
	}
	if lines[0] != "" {
		info.epoch = lines[0]
	}
	if len(lines) < recordLines {
		return false
	}
	field := func(i int) string {
		if lines[i] != "?" {
			return lines[i]
		}
		return ""
	}
	info.port = strings.ToLower(field(1))
	info.build, info.machine, info.uniqueID = field(2), field(3), field(4)
	return true
}

// askIdentity runs py/identity.py on a board at the raw prompt: it adds the
// identity to the record in the board's RAM and prints the record, which is
// read into info. A board that cannot run it stays unidentified (logged).
func (s *Session) askIdentity(ctx context.Context, l *link, info *connectInfo) error {
	out, exc, err := s.runCapture(ctx, l, identityProgram)
	if err != nil {
		return fmt.Errorf("asking the board what it is: %w", err)
	}
	if exc != nil {
		s.logf("webrepl: the board cannot say what it is (%s: %s)", exc.Type, exc.Message)
		return nil
	}
	info.readRecord(string(out))
	return nil
}
