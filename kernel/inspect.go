// Inspection: Shift-Tab (inspect_request). What an object is comes from
// the live board, through the board-side inspector (inspector.go, py/inspect.py)
// that resolves a dotted name without running a call and reports its type,
// a bounded repr, its docstring, its public members and where it was
// defined. The signature and source come from text the kernel can read
// (sourcelookup.go, inspectsource.go): the cells this kernel ran for
// functions and classes defined in a cell, the board's .py file for those
// imported from one. MicroPython keeps neither argument names nor counts on
// a function object (no inspect.signature, no usable __code__ on the boards
// this project meets) and drops docstrings when it compiles, so that text is
// the only place they survive (docs/design.md, "Inspection"). The help cells
// obj? and obj?? show the same text (help.go).

package kernel

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/webrepl"
)

// inspectTimeout bounds each step of a Shift-Tab on the board (the call,
// and the first time on a connection the definition of the inspector): a
// tooltip that does not come within a few seconds is worth nothing, and the
// board must not stay busy for it. A help cell is a cell: no bound but the
// interrupt.
const inspectTimeout = 5 * time.Second

// inspection answers for name: found is false when the board does not know
// it (or is not connected); the text otherwise.
func (k *Kernel) inspection(ctx context.Context, s *webrepl.Session, step time.Duration, name string, detail int) (text string, found bool) {
	obj, ok := k.inspectOnBoard(ctx, s, step, name)
	switch {
	case !ok:
		return "", false
	case obj.property != "":
		return fmt.Sprintf("%s is a property: inspection does not run it (that would call the getter).\n", name), true
	case !obj.found:
		return "", false
	}
	return k.inspectionText(obj, detail), true
}

// inspect answers inspect_request (Shift-Tab): from the connected board only.
func (k *Kernel) inspect(ctx context.Context, r jupyter.Request) {
	var req jupyter.InspectRequest
	if err := r.Decode(&req); err != nil {
		k.reply(r, jupyter.ErrorReply{Ename: "ValueError", Evalue: err.Error()})
		return
	}
	reply := jupyter.InspectReply{Status: jupyter.StatusOK, Data: jupyter.MIMEBundle{}, Metadata: jupyter.Metadata{}}
	k.mu.Lock()
	s := k.session
	k.mu.Unlock()
	if text, ok := magicHelp(magicAtCursor(req.Code, req.CursorPos)); ok {
		reply.Found, reply.Data["text/plain"] = true, text
	} else if name := nameAtCursor(req.Code, req.CursorPos); name != "" && s != nil {
		if text, found := k.inspection(ctx, s, inspectTimeout, name, req.DetailLevel); found {
			reply.Found, reply.Data["text/plain"] = true, text
		}
	}
	k.reply(r, reply)
}

// magicAtCursor is the magic named at the start of the cursor's line
// ("%put a.py" → "%put"), or "".
func magicAtCursor(code string, cursor int) string {
	runes := []rune(code)
	if cursor < 0 || cursor > len(runes) {
		cursor = len(runes)
	}
	before, after := string(runes[:cursor]), string(runes[cursor:])
	line := before[strings.LastIndexByte(before, '\n')+1:]
	if i := strings.IndexByte(after, '\n'); i >= 0 {
		after = after[:i]
	}
	line = strings.TrimLeft(line+after, " \t")
	if !strings.HasPrefix(line, "%") {
		return ""
	}
	name, _, _ := strings.Cut(line, " ")
	return strings.TrimRight(name, "?")
}

// magicHelp is the inspection text of a magic, from the magic table.
func magicHelp(name string) (string, bool) {
	m, ok := lookupMagic(name)
	if !ok {
		return "", false
	}
	kind := "line magic"
	if strings.HasPrefix(m.name, "%%") {
		kind = "cell magic"
	}
	return fmt.Sprintf("%-*s%s\n%-*s%s\n%-*s%s\n", inspectLabelWidth, "Usage:", m.usage,
		inspectLabelWidth, "Docstring:", m.help, inspectLabelWidth, "Type:", kind), true
}

// inspectableName is a dotted name: the only thing the inspector evaluates.
var inspectableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// callScanLimit is how far back nameAtCursor looks for an open call.
const callScanLimit = 4096

// nameAtCursor finds what Shift-Tab asks about: the dotted name the cursor
// is in or just after ("machine.Pi|n" → machine.Pin), else the name of the
// call whose arguments the cursor is in ("print(1, |" → print), as IPython
// does. "" when there is none.
func nameAtCursor(code string, cursor int) string {
	runes := []rune(code)
	if cursor < 0 || cursor > len(runes) {
		cursor = len(runes)
	}
	isName := func(r rune) bool { return r == '_' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r) }
	start, end := cursor, cursor
	for start > 0 && isName(runes[start-1]) {
		start--
	}
	for end < len(runes) && isName(runes[end]) {
		end++
	}
	if name := strings.Trim(string(runes[start:end]), "."); inspectableName.MatchString(name) {
		if start == 0 || !strings.ContainsRune("0123456789'\")]}", runes[start-1]) {
			return name
		}
	}
	// The innermost call still open before the cursor (looking back a
	// bounded stretch: a tooltip need not parse a huge cell).
	depth := 0
	for i := cursor - 1; i >= 0 && i >= cursor-callScanLimit; i-- {
		switch runes[i] {
		case ')', ']', '}':
			depth++
		case '[', '{':
			depth--
		case '(':
			if depth > 0 {
				depth--
				continue
			}
			j := i
			for j > 0 && isName(runes[j-1]) {
				j--
			}
			if name := string(runes[j:i]); inspectableName.MatchString(name) {
				return name
			}
			return ""
		}
	}
	return ""
}
