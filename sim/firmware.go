package sim

import (
	"fmt"
	"strings"
)

// DefaultFirmware is the MicroPython release a board models when
// Options.Firmware is empty: the newest one the simulator knows.
const DefaultFirmware = "1.28"

// firmware is a MicroPython release the simulator models. What changes
// between the releases it knows is the ESP32's console input path
// (docs/protocol/simulator.md §4); the interpreter
// underneath stays the WebAssembly port's.
type firmware struct {
	major, minor, micro int
}

// knownFirmware lists the releases Options.Firmware accepts.
var knownFirmware = []firmware{{1, 27, 0}, {1, 28, 0}}

// lookupFirmware accepts "1.27", "1.28" (or with a micro part, "1.28.0");
// "" means DefaultFirmware.
func lookupFirmware(name string) (firmware, error) {
	if name == "" {
		name = DefaultFirmware
	}
	for _, f := range knownFirmware {
		if name == f.short() || name == f.String() || name == "v"+f.String() {
			return f, nil
		}
	}
	names := make([]string, len(knownFirmware))
	for i, f := range knownFirmware {
		names[i] = f.short()
	}
	return firmware{}, fmt.Errorf("unknown firmware %q (want %s)", name, strings.Join(names, " or "))
}

func (f firmware) short() string  { return fmt.Sprintf("%d.%d", f.major, f.minor) }
func (f firmware) String() string { return fmt.Sprintf("%d.%d.%d", f.major, f.minor, f.micro) }

// atLeast reports whether f is release major.minor or newer.
func (f firmware) atLeast(major, minor int) bool {
	return f.major > major || f.major == major && f.minor >= minor
}

// getVer is the GET_VER answer (docs/protocol/webrepl.md §2.5).
func (f firmware) getVer() []byte {
	return []byte{byte(f.major), byte(f.minor), byte(f.micro)}
}
