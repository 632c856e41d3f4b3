package kernel

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"webrepl-kernel/internal/boardpy"
	"webrepl-kernel/webrepl"
)

// A cell runs as one raw-REPL program, through a helper function defined on
// the board once per connection (helperProgram), so a cell costs only a
// short call more than its own text on the link. The helper gives cells two
// things the raw REPL lacks:
//
//   - Out[n], like the friendly REPL (docs/protocol/webrepl.md §7.1): the cell's last
//     top-level statement is compiled in "single" mode, which makes
//     MicroPython pass the value of an expression statement to
//     __repl_print__; the helper binds that name to a printer that frames the
//     repr with markers, which the host turns into an execute_result.
//   - input(): the helper binds input to a function that announces the prompt
//     with markers and then reads the line with the board's own input(); the
//     host asks the frontend (input_request) and types the answer.
//   - stderr: MicroPython cannot rebind sys.stderr, and on the board it
//     shares the console with stdout, so the helper binds print to one that
//     frames what print(..., file=sys.stderr) writes with markers; the host
//     publishes it as the stderr stream. (sys.stderr.write() still shows as
//     stdout.) A name print the user bound in the globals is left alone.
//
// Both parts of the cell are compiled before either runs, so a syntax error
// anywhere stops the cell before it has side effects, as a whole-cell
// compile would. Each part is compiled from the cell's own text (the last
// statement padded with backslash continuations: "single" mode takes a
// leading blank line as the whole statement), so line numbers in tracebacks
// are the cell's; the helper's own frames are removed from tracebacks.

// Markers in the board's output. A marker is 0x02, a letter, the cell's
// token and 0x03. It ends in a byte no marker starts with: webrepl holds
// back output that may be the start of a mark until it knows, so output
// ending in 0x02 waits for more, and an input() prompt frame must not.
// The token is random and new for every cell, so no program
// output can make one (docs/protocol/webrepl.md §3.9): printed text that
// looks like a marker, an old cell's marker included, is just text. The
// helper's Start, Error and End marks (cellMarks) are taken out by webrepl;
// the frames below reach cellOutput.
//
// Helpers that are not cells (the completer) use the empty token: what they
// print is the kernel's own and never shown.
const (
	kindResult      = 'R' // then the repr of a value,
	kindResultEnd   = 'E' // then output again
	kindInput       = 'I' // then the prompt of input(),
	kindInputEnd    = 'J' // then the board waits for a line
	kindStderr      = 'S' // then text printed to sys.stderr,
	kindStderrEnd   = 'T' // then output again
	kindMessage     = 'M' // then a board message (boardmsg.go),
	kindMessageEnd  = 'N' // then output again
	kindStart       = 'B' // the helper began (webrepl's Marks.Start)
	kindError       = 'X' // then the cell's traceback (Marks.Error)
	kindEnd         = 'Z' // the helper's last output (Marks.End)
	markerOpen      = "\x02"
	markerClose     = "\x03"
	cellTokenLength = 16 // hex digits: 64 random bits
)

// marker is the framing text of one kind for a token.
func marker(kind byte, token string) string {
	return markerOpen + string(kind) + token + markerClose
}

// The legacy (empty-token) frames of a value, for helpers that are not cells.
var (
	resultStart = marker(kindResult, "")
	resultEnd   = marker(kindResultEnd, "")
)

// newCellToken returns a fresh random token.
func newCellToken() string {
	var b [cellTokenLength / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on the systems Go supports; a
		// clock-derived token still differs from cell to cell.
		return fmt.Sprintf("%016x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}

// cellMarks are the webrepl marks of a cell's helper call.
func cellMarks(token string) webrepl.Marks {
	return webrepl.Marks{
		Start: []byte(marker(kindStart, token)),
		Error: []byte(marker(kindError, token)),
		End:   []byte(marker(kindEnd, token)),
	}
}

// helperFunc is the board-side function that runs a cell, as py/cell.py
// names it and tracebacks show it.
const helperFunc = "__wk_cell"

// helperName is the global the kernel keeps the helper under on the board
// and calls: helperFunc and the start of a digest of the program that
// defines it (py/helper_name.py), so that a board keeps the helper between
// connections and no kernel calls another version's. Set once, from the
// embedded file.
var helperName = func() string {
	sum := sha256.Sum256([]byte(boardSource("cell.py")))
	return helperFunc + "_" + hex.EncodeToString(sum[:4])
}()

// helperProgram (py/cell.py, boardpy.go) defines the helper in the
// board's globals. Its arguments: the cell's token, the file name its code
// is compiled under, its body, the line index and text of its last
// statement, the mode that statement is compiled in ("single" shows its
// value; "exec" for a trailing ';'), whether the frontend accepts input
// (1 or 0) and whether the cell mentions the module jupyter (1 or 0).
//
// Everything that can fail or be interrupted runs inside the outer try, so
// the helper always prints its End mark: an exception other than SystemExit
// is printed framed (Error mark, traceback) before it, and every exception is
// raised again after it, where the raw REPL reports it after the kernel has
// already read the cell's whole answer (a SystemExit soft-resets the board,
// docs/protocol/webrepl.md §3.2). A 0x04 in an exception message therefore
// cannot end the cell's output early. micropython.kbd_intr(-1) is the first
// statement of the inner finally, which the VM enters without checking for a
// pending interrupt; a Ctrl-C that came before it is raised by the loop that
// follows (a backward jump checks) and caught there. From then on a Ctrl-C is
// an ordinary byte, which the raw REPL ignores at its prompt
// (docs/protocol/webrepl.md §3.3), and the raw REPL arms Ctrl-C again for the
// next program. py/cell.py has the details beside the code.

// cellProgram is what is sent to the board for a cell.
type cellProgram struct {
	code    []byte
	wrapped bool          // runs through the helper: drop its frames from tracebacks
	token   string        // the cell's marker token
	marks   webrepl.Marks // the helper's marks, for Session.ExecMarked
}

// buildProgram prepares a cell for the board: the helper call with a new
// token. file is the name the board compiles the cell under (cellSources);
// allowStdin tells whether the frontend can answer input().
func buildProgram(cell string, allowStdin bool, file string) cellProgram {
	body, last, lastLine, ok := splitLastStatement(cell)
	mode := "single"
	switch {
	case !ok:
		// Unreadable on the host: the whole cell is compiled as a body,
		// and the board's compiler reports what is wrong with it.
		body, last, lastLine = cell, "", 0
	case hidesValue(last):
		mode = "exec" // a trailing ';' hides the value, as in IPython
	}
	if last != "" {
		last = strings.TrimRight(last, " \t\r\n") + "\n"
	}
	stdin := 0
	if allowStdin {
		stdin = 1
	}
	need := 0
	if mentionsJupyter.MatchString(cell) {
		need = 1
	}
	token := newCellToken()
	code := boardpy.Call(helperName, boardpy.Str(token), boardpy.Str(file), boardpy.Str(body),
		boardpy.Int(lastLine), boardpy.Str(last), boardpy.Str(mode), boardpy.Int(stdin), boardpy.Int(need))
	return cellProgram{code: []byte(code), wrapped: true, token: token, marks: cellMarks(token)}
}

// hidesValue reports whether a cell's last statement ends with ';' (outside
// strings and comments), which in IPython hides the value.
func hidesValue(last string) bool {
	lines := scanSource(last).lines
	if len(lines) == 0 {
		return false
	}
	return strings.HasSuffix(strings.TrimSpace(lines[len(lines)-1].code), ";")
}

// mentionsJupyter matches a cell that may use the board-side module
// jupyter (display.go), which the board then needs.
var mentionsJupyter = regexp.MustCompile(`\bjupyter\b`)

// missingJupyter reports whether a wrapped cell failed only because it
// needs the module jupyter and the board does not have it (py/cell.py).
func missingJupyter(e boardError) bool {
	return e.Type == "NameError" && strings.Contains(e.Message, "__wk_jupyter")
}

// missingHelper reports whether a wrapped cell failed only because the
// helper is not defined (the user deleted it, or it was never defined).
func missingHelper(e boardError) bool {
	return e.Type == "NameError" && strings.Contains(e.Message, helperName)
}

// boardError is an exception the board reported, as the kernel shows it.
type boardError struct {
	Type    string
	Message string
	Text    string // the board's traceback text, LF line ends
}

// errorOutput turns a board exception into the fields of a Jupyter error:
// the traceback is the board's own text, minus the wrapper's frames, with
// the frames of cells named as IPython names them ("Cell In[3], line 2")
// and followed by the line of the cell they point at (cells may be nil).
func errorOutput(e boardError, wrapped bool, cells *cellSources) (ename, evalue string, traceback []string) {
	lines := strings.Split(strings.TrimRight(e.Text, "\n"), "\n")
	if wrapped {
		lines = dropHelperFrames(lines)
	}
	lines = nameCellFrames(lines, cells)
	if len(lines) == 1 && lines[0] == "" {
		lines = []string{e.Type + ": " + e.Message}
	}
	// Colour the exception line as IPython does, so it stands out.
	last := len(lines) - 1
	if rest, ok := strings.CutPrefix(lines[last], e.Type); ok && e.Type != "" {
		lines[last] = "\x1b[0;31m" + e.Type + "\x1b[0m" + rest
	}
	return e.Type, e.Message, lines
}

// Cells are compiled on the board under a file name of their own,
// "<cell In[3] TAG.SERIAL>": the execution count for the reader, the
// kernel's tag (random per kernel process: the board's RAM outlives a
// kernel restart, and so do functions an earlier kernel's cells defined)
// and a serial number unique within the kernel. A traceback frame in a
// function defined by an earlier cell then names that cell and its line.
// Each name is a string the board keeps for as long as its RAM lasts
// (an interned qstr, some 25 bytes a cell).
var (
	cellFileName = regexp.MustCompile(`^<cell In\[(\d+)\] ([0-9a-f]+)\.(\d+)>$`)
	fileFrame    = regexp.MustCompile(`^  File "(.*)", line (\d+)(?:, in (.*))?$`)
)

// Bounds on the cell texts kept to quote in tracebacks; the oldest go first.
const (
	maxKeptCells     = 500
	maxKeptCellBytes = 4 << 20
)

// cellSources remembers the text of the cells run by this kernel, by the
// file name each was compiled under. Used on the shell goroutine only.
type cellSources struct {
	tag    string
	serial int
	text   map[string]string
	order  []string // oldest first
	bytes  int
}

// add records a cell about to run and returns its file name.
func (c *cellSources) add(count int, code string) string {
	if c.tag == "" {
		c.tag = newCellToken()[:6]
		c.text = map[string]string{}
	}
	c.serial++
	name := fmt.Sprintf("<cell In[%d] %s.%d>", count, c.tag, c.serial)
	c.text[name] = code
	c.order = append(c.order, name)
	c.bytes += len(code)
	for len(c.order) > maxKeptCells || (c.bytes > maxKeptCellBytes && len(c.order) > 1) {
		c.bytes -= len(c.text[c.order[0]])
		delete(c.text, c.order[0])
		c.order = c.order[1:]
	}
	return name
}

// source returns line n (1-based) of the cell compiled under name, if this
// kernel ran it and still keeps it.
func (c *cellSources) source(name string, n int) (string, bool) {
	if c == nil || c.text == nil {
		return "", false
	}
	text, ok := c.text[name]
	if !ok {
		return "", false
	}
	lines := strings.Split(text, "\n")
	if n < 1 || n > len(lines) {
		return "", false
	}
	return lines[n-1], true
}

// nameCellFrames rewrites the frames of cells: `File "<cell In[3] …>",
// line 2, in f` becomes `Cell In[3], line 2, in f` followed by that line of
// the cell. Frames of board files keep their names.
func nameCellFrames(lines []string, cells *cellSources) []string {
	out := make([]string, 0, len(lines)+4)
	for _, l := range lines {
		m := fileFrame.FindStringSubmatch(l)
		if m == nil {
			out = append(out, l)
			continue
		}
		cm := cellFileName.FindStringSubmatch(m[1])
		if cm == nil {
			out = append(out, l)
			continue
		}
		frame := "  Cell In[" + cm[1] + "], line " + m[2]
		if m[3] != "" && m[3] != "<module>" {
			frame += ", in " + m[3]
		}
		out = append(out, frame)
		n, _ := strconv.Atoi(m[2])
		if src, ok := cells.source(m[1], n); ok && strings.TrimSpace(src) != "" {
			out = append(out, "    "+strings.TrimSpace(src))
		}
	}
	return out
}

// dropHelperFrames removes the frames of the helper: its own, those of the
// functions it binds for the cell (input, print) and the raw REPL's call of
// it. They are all compiled as "<stdin>", and cells under names of their
// own, so every "<stdin>" frame of a wrapped cell is the helper's.
func dropHelperFrames(lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if !strings.HasPrefix(l, `  File "<stdin>"`) {
			out = append(out, l)
		}
	}
	return out
}
