package webrepl

import (
	"embed"
	"strings"

	"webrepl-kernel/internal/boardpy"
)

// The Python this package sends to the board lives in py/*.py
// (docs/design.md, "Where board-side Python lives"), embedded here and sent
// in the compact form boardpy.Compact makes. Paths and markers go in as the
// arguments of a call built by boardpy.Call.
//
//go:embed py/*.py
var boardFiles embed.FS

// boardSource is the compact text of one embedded file. A file that cannot
// be read or compacted is a mistake in this package, which its tests catch
// (TestBoardFilesCompile).
func boardSource(name string) string {
	src, err := boardFiles.ReadFile("py/" + name)
	if err != nil {
		panic("webrepl: embedded board file: " + err.Error())
	}
	return boardpy.MustCompact(name, string(src))
}

// fileOpName is the function each file operation's file defines; the
// program deletes it after the call.
const fileOpName = "_webrepl_op"

// fileOp is the program of a file operation: py/<op>.py, then a call of the
// function it defines with args, which is deleted whatever happens, so the
// user's globals stay as they were.
func fileOp(op string, args ...boardpy.Value) []byte {
	return []byte(boardSource(op+".py") + "try:\n " + boardpy.Call(fileOpName, args...) +
		"\nfinally:\n del " + fileOpName + "\n")
}

// helloProgram is the first program of a connection (py/hello.py): it
// prints the nonce a+b, leaves it in the board's RAM as the marker unless one
// is there, and prints the record there (boardinfo.go).
func helloProgram(a, b string) []byte {
	return []byte(boardpy.Call(strings.TrimSpace(boardSource("hello.py")), boardpy.Str(a), boardpy.Str(b)) + "\n")
}

// identityProgram adds the board's identity to the record under markerKey
// and prints the record (py/identity.py).
var identityProgram = fileOp("identity", boardpy.Str(markerKey))

// Programs without arguments.
var (
	versionProgram = []byte(boardSource("version.py"))
	resetProgram   = []byte(boardSource("reset.py"))
)
