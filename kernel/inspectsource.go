// Source text for inspection: the def or class statement of a name in a
// cell or a board file, its signature and docstring, read on the host
// because MicroPython keeps neither on the board (inspect.go).

package kernel

import (
	"regexp"
	"strings"
)

// definition is the source text of a function or class, where the kernel
// can read it: a cell of this kernel or a file on the board.
type definition struct {
	where string   // "In [3]" or "helpers.py (on the board)"
	lines []string // the definition, from its def/class line to its end
}

// defStart matches a def or class statement for name (group 1: indent).
func defStart(name string) *regexp.Regexp {
	return regexp.MustCompile(`^([ \t]*)(?:async[ \t]+)?(?:def|class)[ \t]+` + regexp.QuoteMeta(name) + `[ \t]*[(:]`)
}

// findDefinition extracts the block of name's def or class statement that
// starts lines (a board file's excerpt) or, searching from the end, the last
// top-level one in text (a cell).
func findDefinition(lines []string, name string, last bool) (block []string, ok bool) {
	if !identifier.MatchString(name) {
		return nil, false // a name from the board is only text: no def can have it
	}
	re := defStart(name)
	at := -1
	for i, l := range lines {
		if m := re.FindStringSubmatch(l); m != nil && (m[1] == "" || !last) {
			at = i
			if !last {
				break
			}
		}
	}
	if at < 0 {
		return nil, false
	}
	indent := len(re.FindStringSubmatch(lines[at])[1])
	block = []string{lines[at]}
	open := bracketDepth(lines[at])
	for _, l := range lines[at+1:] {
		trimmed := strings.TrimSpace(l)
		if open <= 0 && trimmed != "" && indentLen(l) <= indent {
			break
		}
		block = append(block, l)
		open += bracketDepth(l)
	}
	for len(block) > 1 && strings.TrimSpace(block[len(block)-1]) == "" {
		block = block[:len(block)-1]
	}
	return block, true
}

func indentLen(l string) int { return len(l) - len(strings.TrimLeft(l, " \t")) }

// bracketDepth counts open minus closed brackets, outside string literals
// and comments (good enough for a def header spread over lines).
func bracketDepth(l string) int {
	depth := 0
	var quote rune
	for i, r := range l {
		switch {
		case quote != 0:
			if r == quote && (i == 0 || l[i-1] != '\\') {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#':
			return depth
		case strings.ContainsRune("([{", r):
			depth++
		case strings.ContainsRune(")]}", r):
			depth--
		}
	}
	return depth
}

// statement joins a definition's first statement onto one line and cuts the
// trailing colon: "def f(a,\n      b=2):" → "def f(a, b=2)".
func (d definition) statement() string {
	var parts []string
	depth := 0
	for _, l := range d.lines {
		parts = append(parts, strings.TrimSpace(l))
		depth += bracketDepth(l)
		if depth <= 0 {
			break
		}
	}
	s := strings.Join(parts, " ")
	if i := strings.LastIndex(s, ":"); i >= 0 && depth <= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// signature is the call signature a definition shows: "f(a, b=2)" for a
// function (without its first argument when bound to an object), the
// __init__ arguments without self for a class.
func (d definition) signature(name string, bound bool) string {
	stmt := d.statement()
	if strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(stmt, "async ")), "class ") {
		init, ok := findDefinition(d.lines[1:], "__init__", false)
		if !ok {
			return name + "()"
		}
		args := argsOf(definition{lines: init}.statement())
		if len(args) > 0 {
			args = args[1:] // self
		}
		return name + "(" + strings.Join(args, ", ") + ")"
	}
	args := argsOf(stmt)
	if bound && len(args) > 0 {
		args = args[1:] // self
	}
	return name + "(" + strings.Join(args, ", ") + ")" + returnAnnotation(stmt)
}

// argsOf splits the parameter list of "def f(a, b=(1, 2), *c)".
func argsOf(stmt string) []string {
	open := strings.IndexByte(stmt, '(')
	if open < 0 {
		return nil
	}
	var args []string
	depth, from := 0, open+1
	for i := open; i < len(stmt); i++ {
		switch stmt[i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 {
				if a := strings.TrimSpace(stmt[from:i]); a != "" {
					args = append(args, a)
				}
				return args
			}
		case ',':
			if depth == 1 {
				args = append(args, strings.TrimSpace(stmt[from:i]))
				from = i + 1
			}
		}
	}
	return args
}

func returnAnnotation(stmt string) string {
	if i := strings.LastIndex(stmt, ")"); i >= 0 {
		if rest := strings.TrimSpace(stmt[i+1:]); strings.HasPrefix(rest, "->") {
			return " " + rest
		}
	}
	return ""
}

// docstring is the string literal a definition's body starts with,
// dedented: MicroPython drops it on the board, the source keeps it.
func (d definition) docstring() (string, bool) {
	// The body starts after the statement's last line.
	depth, i := 0, 0
	for ; i < len(d.lines); i++ {
		depth += bracketDepth(d.lines[i])
		if depth <= 0 {
			break
		}
	}
	if i == len(d.lines) {
		return "", false // a header whose brackets never close
	}
	// A body on the statement's own line: "def f(): 'doc'".
	first := d.lines[i]
	var body string
	if after := strings.TrimSpace(first[strings.LastIndex(first, ":")+1:]); after != "" {
		body = after + "\n"
	}
	for _, l := range d.lines[i+1:] {
		body += l + "\n"
	}
	body = strings.TrimLeft(body, " \t\r\n")
	prefixLen := 0
	for prefixLen < len(body) && strings.ContainsRune("rRuU", rune(body[prefixLen])) && prefixLen < 2 {
		prefixLen++
	}
	rest := body[prefixLen:]
	for _, q := range []string{`"""`, `'''`, `"`, `'`} {
		if !strings.HasPrefix(rest, q) {
			continue
		}
		end := strings.Index(rest[len(q):], q)
		if end < 0 {
			return "", false
		}
		text := rest[len(q) : len(q)+end]
		if len(q) == 1 && strings.Contains(text, "\n") {
			return "", false
		}
		return dedentDoc(text), true
	}
	return "", false
}

// dedentDoc cleans a docstring as inspect.cleandoc does: the first line
// stripped, the common indent of the others removed, blank ends dropped.
func dedentDoc(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\t", "    "), "\n")
	indent := -1
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) != "" && (indent < 0 || indentLen(l) < indent) {
			indent = indentLen(l)
		}
	}
	lines[0] = strings.TrimSpace(lines[0])
	for i := 1; i < len(lines); i++ {
		if len(lines[i]) >= indent && indent > 0 {
			lines[i] = lines[i][indent:]
		}
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

// dedentLines removes the indent of a definition's first line from all.
func dedentLines(lines []string) []string {
	indent := indentLen(lines[0])
	out := make([]string, len(lines))
	for i, l := range lines {
		if indentLen(l) >= indent {
			l = l[indent:]
		}
		out[i] = l
	}
	return out
}
