package kernel

import (
	"embed"
	"strings"

	"webrepl-kernel/internal/boardpy"
)

// The Python the kernel sends to the board lives in py/*.py (docs/design.md,
// "Where board-side Python lives"), embedded here and sent in the compact
// form boardpy.Compact makes. What differs from call to call (tokens, names,
// cell text) goes in as the arguments of a call built by boardpy.Call.
//
//go:embed py/*.py
var boardFiles embed.FS

// boardSource is the compact text of the embedded files, one after the
// other: one board program. A file that cannot be read or compacted is a
// mistake in this package, which its tests catch (TestBoardFilesCompile).
func boardSource(names ...string) string {
	var b strings.Builder
	for _, name := range names {
		src, err := boardFiles.ReadFile("py/" + name)
		if err != nil {
			panic("kernel: embedded board file: " + err.Error())
		}
		b.WriteString(boardpy.MustCompact(name, string(src)))
	}
	return b.String()
}

// The board programs, each defined once per connection (again when the user
// deletes the function) or, for the last two, sent as they are.
var (
	// helperProgram defines helperName, which runs cells (program.go).
	helperProgram = boardSource("cell.py") +
		boardpy.Call(strings.TrimSpace(boardSource("helper_name.py")), boardpy.Str(helperName)) + "\n"
	// jupyterProgram defines the module jupyter that board code displays
	// with (display.go) and its widgets, jupyter.widgets (widgetcomm.go),
	// before the first cell that mentions it.
	jupyterProgram = boardSource("jupyter.py", "widgets.py")
	// inspectorProgram defines inspectorName (inspector.go).
	inspectorProgram = boardSource("resolve.py", "members.py", "inspect.py")
	// completerProgram defines completerName (complete.go).
	completerProgram = boardSource("resolve.py", "members.py", "complete.py")
	// runFile is the expression %run calls with a board file's path.
	runFile = strings.TrimSpace(boardSource("run.py"))
	// widgetDeliver is the expression the kernel calls between cells with
	// the values the frontend gave the board's widgets (widgetcomm.go).
	widgetDeliver = strings.TrimSpace(boardSource("widget_deliver.py"))
	// boardFreeMemory prints the board's free heap (%board).
	boardFreeMemory = boardSource("free_memory.py")
)
