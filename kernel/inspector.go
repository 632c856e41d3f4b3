// The board-side inspector (py/inspect.py): defining and calling it, and
// reading its answer into a boardObject.

package kernel

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"webrepl-kernel/internal/boardpy"
	"webrepl-kernel/webrepl"
)

// Bounds of what the inspector sends back: the repr, the docstring and each
// source line are cut on the board (a list of ten thousand items must not
// cross the link for a tooltip), the member list too. inspectOutputLimit
// bounds what the host keeps of the whole answer, whatever the board (or a
// user __repr__ that prints) sends.
const (
	inspectReprLimit    = 1000
	inspectDocLimit     = 4000
	inspectMembersLimit = 100
	inspectSourceLines  = 80
	inspectLineLimit    = 200
	inspectOutputLimit  = 64 << 10
)

// inspectorName is the board-side function behind inspection, defined once
// per connection (again when missing, as the completer is) by
// inspectorProgram: py/resolve.py, py/members.py and py/inspect.py, which say
// what it prints.
const inspectorName = "__wk_inspect"

// inspectorCall is the call that inspects name; every line of the answer
// starts with token.
func inspectorCall(name, token string) string {
	return boardpy.Call(inspectorName, boardpy.Str(name), boardpy.Str(token), boardpy.Int(inspectReprLimit),
		boardpy.Int(inspectDocLimit), boardpy.Int(inspectMembersLimit), boardpy.Int(inspectLineLimit),
		boardpy.Int(inspectSourceLines))
}

// inspectOnBoard asks the board about name. It never connects, like
// completion: a tooltip must not log in to a board or take it from another
// notebook. ok is false when the board did not answer.
func (k *Kernel) inspectOnBoard(ctx context.Context, s *webrepl.Session, step time.Duration, name string) (obj boardObject, ok bool) {
	token, err := answerToken()
	if err == nil {
		var out string
		out, err = k.callHelper(ctx, s, step, inspectorName, inspectorProgram, inspectorCall(name, token))
		if err == nil {
			obj, err = parseInspectorOutput(out, token)
		}
	}
	if err != nil {
		k.cfg.Logf("kernel: inspect %s on the board: %v", name, err)
		return boardObject{}, false
	}
	return obj, true
}

// boardObject is what the inspector found out about one dotted name.
type boardObject struct {
	found      bool
	property   string // the attribute is a property: not evaluated
	typeName   string
	repr       string
	reprLen    int
	kind       string // "class", "function", "module" or ""
	doc        *string
	name       string
	length     *int
	members    []string
	nMembers   int
	file       string
	inGlobals  bool     // defined in the REPL's globals, i.e. by a cell
	cellClass  string   // an instance's class, defined in the REPL's globals
	owner      string   // the class in the REPL's globals that defines the attribute
	fileSource []string // lines of the board's file from the definition on
}

// parseInspectorOutput reads the inspector's lines that carry token.
func parseInspectorOutput(out, token string) (boardObject, error) {
	var obj boardObject
	seen := false
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, token)
		if !ok || rest == "" {
			continue
		}
		key, literal := rest[0], rest[1:]
		value, err := parsePythonString(literal)
		if err != nil {
			return boardObject{}, fmt.Errorf("inspector line %q: %w", line, err)
		}
		seen = true
		number := func() int { n, _ := strconv.Atoi(value); return n }
		switch key {
		case 'N':
			return boardObject{}, nil
		case 'P':
			obj.property = value
			return obj, nil
		case 'T':
			obj.typeName, obj.found = value, true
		case 'r':
			obj.reprLen = number()
		case 'R':
			obj.repr = value
		case 'K':
			obj.kind = value
		case 'D':
			obj.doc = &value
		case 'n':
			obj.name = value
		case 'L':
			n := number()
			obj.length = &n
		case 'm':
			obj.nMembers = number()
		case 'M':
			obj.members = append(obj.members, value)
		case 'F':
			obj.file = value
		case 'G':
			obj.inGlobals = true
		case 'C':
			obj.cellClass = value
		case 'O':
			obj.owner = value
		case 'S':
			obj.fileSource = append(obj.fileSource, value)
		}
	}
	if !seen {
		return boardObject{}, fmt.Errorf("the inspector printed no answer")
	}
	return obj, nil
}

// parsePythonString reads the repr() of a str as MicroPython writes it:
// quoted with ' (or " when the text holds ' and no "), escapes \\ \' \"
// \n \r \t \xNN, everything else (UTF-8 included) as is.
func parsePythonString(s string) (string, error) {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
		return "", fmt.Errorf("not a string literal")
	}
	body := s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(body) {
			return "", fmt.Errorf("string literal ends in a backslash")
		}
		i++
		switch body[i] {
		case '\\', '\'', '"':
			b.WriteByte(body[i])
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'x', 'u', 'U':
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[body[i]]
			if i+1+width > len(body) {
				return "", fmt.Errorf("short \\%c escape", body[i])
			}
			n, err := strconv.ParseUint(body[i+1:i+1+width], 16, 32)
			if err != nil {
				return "", fmt.Errorf("bad \\%c escape: %w", body[i], err)
			}
			b.WriteRune(rune(n))
			i += width
		default:
			b.WriteByte('\\')
			b.WriteByte(body[i])
		}
	}
	return b.String(), nil
}
