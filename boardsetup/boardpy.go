package boardsetup

import (
	"embed"

	"webrepl-kernel/internal/boardpy"
)

// The Python setup sends to the board lives in py/*.py (docs/design.md,
// "Where board-side Python lives"); the password, network name and key go in
// as the arguments of a call built by boardpy.Call.
//
//go:embed py/*.py
var boardFiles embed.FS

const opName = "_webrepl_op"

// program is py/<name>.py, compacted, then a call of the function it
// defines with args, deleted whatever happens.
func program(name string, args ...boardpy.Value) []byte {
	src, err := boardFiles.ReadFile("py/" + name + ".py")
	if err != nil {
		panic("boardsetup: embedded board file: " + err.Error())
	}
	return []byte(boardpy.MustCompact(name+".py", string(src)) + "try:\n " + boardpy.Call(opName, args...) +
		"\nfinally:\n del " + opName + "\n")
}

// configureProgram writes webrepl_cfg.py and boot.py (py/configure.py).
func configureProgram(password, ssid, key string) []byte {
	return program("configure", boardpy.Str(password), boardpy.Str(ssid), boardpy.Str(key))
}

// wlanProgram waits up to ms for the network (py/wlan.py).
func wlanProgram(ms int) []byte { return program("wlan", boardpy.Int(ms)) }
