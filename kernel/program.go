package kernel

import (
	"fmt"
	"strings"
	"unicode/utf8"
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

// Markers in the board's output. repr() escapes control characters, so a
// value's text cannot contain them; a prompt is str() of what the program
// passed to input(), which could, but only by design of the program.
const (
	resultStart = "\x02R\x02" // then the repr of a value,
	resultEnd   = "\x02E\x02" // then output again
	inputStart  = "\x02I\x02" // then the prompt of input(),
	inputEnd    = "\x02J\x02" // then the board waits for a line
	stderrStart = "\x02S\x02" // then text printed to sys.stderr,
	stderrEnd   = "\x02T\x02" // then output again
)

// helperName is the board-side function that runs a cell.
const helperName = "__wk_cell"

// helperProgram defines the helper in the board's globals. Its arguments:
// the cell's body, the line index and text of its last statement, whether
// the frontend accepts input, and (bound at definition) the board's input,
// print and sys.stderr.
var helperProgram = "def " + helperName + "(b,n,l,s,i=input,P=__import__('builtins').print,E=__import__('sys').stderr):\n" +
	" c=[compile(b,'<stdin>','exec'),compile('\\\\\\n'*n+l,'<stdin>','single')]\n" +
	" g=globals()\n" +
	" p=lambda v:None if v is None else P(" + pythonString(resultStart) + "+repr(v)+" + pythonString(resultEnd) + ",end='')\n" +
	" def input(t=''):\n" +
	"  if not s:raise OSError('input() needs a frontend that accepts input')\n" +
	"  P(" + pythonString(inputStart) + "+str(t)+" + pythonString(inputEnd) + ",end='')\n" +
	"  return i()\n" +
	" def print(*a,**k):\n" +
	"  if k.get('file') is not E:return P(*a,**k)\n" +
	"  del k['file']\n" +
	"  P(" + pythonString(stderrStart) + ",end='')\n" +
	"  try:P(*a,**k)\n" +
	"  finally:P(" + pythonString(stderrEnd) + ",end='')\n" +
	" g['input']=input\n" +
	" if 'print' not in g:g['print']=print\n" +
	" try:\n" +
	"  for x in c:\n" +
	"   g['__repl_print__']=p\n" + // again before the last statement: the body may clear globals
	"   exec(x,g)\n" +
	" finally:\n" +
	"  g.pop('__repl_print__',None)\n" +
	"  if g.get('input') is input:del g['input']\n" +
	"  if g.get('print') is print:del g['print']\n"

// cellProgram is what is sent to the board for a cell.
type cellProgram struct {
	code    []byte
	wrapped bool // runs through the helper: drop its frames from tracebacks
}

// buildProgram prepares a cell for the board; allowStdin tells whether the
// frontend can answer input().
func buildProgram(cell string, allowStdin bool) cellProgram {
	body, last, lastLine, ok := splitLastStatement(cell)
	if !ok {
		// Unreadable on the host: the board's compiler reports the error.
		return cellProgram{code: []byte(cell)}
	}
	stdin := "0"
	if allowStdin {
		stdin = "1"
	}
	code := fmt.Sprintf("%s(%s,%d,%s,%s)", helperName, pythonString(body), lastLine,
		pythonString(strings.TrimRight(last, " \t\r\n")+"\n"), stdin)
	return cellProgram{code: []byte(code), wrapped: true}
}

// missingHelper reports whether a wrapped cell failed only because the
// helper is not defined (the user deleted it, or it was never defined).
func missingHelper(e boardError) bool {
	return e.Type == "NameError" && strings.Contains(e.Message, helperName)
}

// pythonString writes s as a Python string literal (UTF-8 kept as is).
func pythonString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte('\'')
	return b.String()
}

// boardError is an exception the board reported, as the kernel shows it.
type boardError struct {
	Type    string
	Message string
	Text    string // the board's traceback text, LF line ends
}

// errorOutput turns a board exception into the fields of a Jupyter error:
// the traceback is the board's own text, minus the wrapper's frame.
func errorOutput(e boardError, wrapped bool) (ename, evalue string, traceback []string) {
	lines := strings.Split(strings.TrimRight(e.Text, "\n"), "\n")
	if wrapped {
		lines = dropHelperFrames(lines)
	}
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

// dropHelperFrames removes the frames of the helper call: every frame up to
// and including the helper's own, or the first frame when the exception came
// before the helper ran.
func dropHelperFrames(lines []string) []string {
	first, helper := -1, -1
	for i, l := range lines {
		if !strings.HasPrefix(l, "  File ") {
			continue
		}
		if first < 0 {
			first = i
		}
		if strings.HasSuffix(l, ", in "+helperName) {
			helper = i
			break
		}
	}
	switch {
	case helper >= 0:
		return append(lines[:first:first], lines[helper+1:]...)
	case first >= 0:
		return append(lines[:first:first], lines[first+1:]...)
	}
	return lines
}
