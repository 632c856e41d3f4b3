package kernel

import (
	"regexp"
	"strings"
	"unicode"
)

// This file holds a tokenizer-level reading of Python source: enough to tell
// a console whether a cell is complete (is_complete_request) and to find a
// cell's last top-level statement, without a Python parser on the host.

// Completeness verdicts of is_complete_reply.
const (
	statusComplete   = "complete"
	statusIncomplete = "incomplete"
	statusInvalid    = "invalid"
)

// logicalLine is one Python logical line: physical lines joined by open
// brackets or backslashes.
type logicalLine struct {
	first, last int    // physical line indexes (0-based), inclusive
	indent      string // leading whitespace of the first physical line
	code        string // the line without comments; strings kept verbatim
	lastTok     string // its last token: a name, keyword, number, string or one operator character
	lastKind    tokenKind
}

// tokenKind is what kind of token a logical line ends with.
type tokenKind int

const (
	tokOther tokenKind = iota // a string, a number or a closing bracket
	tokName                   // a name or a keyword
	tokOp                     // an operator or punctuation character
)

// endsBlockHeader reports whether the line opens an indented block ("if x:").
func (l logicalLine) endsBlockHeader() bool {
	return strings.HasSuffix(strings.TrimSpace(l.code), ":")
}

// startsWithKeyword reports whether the line's first word is one of words.
func (l logicalLine) startsWithKeyword(words ...string) bool {
	code := strings.TrimSpace(l.code)
	end := strings.IndexFunc(code, func(r rune) bool { return !isIdentRune(r) })
	if end < 0 {
		end = len(code)
	}
	for _, w := range words {
		if code[:end] == w {
			return true
		}
	}
	return false
}

// needsOperand are the keywords a statement cannot end with: each wants a
// name, an expression or a colon after it ("x = 1 if", "import", "else").
// return, raise, yield, pass, break and continue may end one.
var needsOperand = map[string]bool{
	"and": true, "as": true, "assert": true, "async": true, "await": true, "class": true, "def": true,
	"del": true, "elif": true, "else": true, "except": true, "finally": true, "for": true, "from": true,
	"global": true, "if": true, "import": true, "in": true, "is": true, "lambda": true, "nonlocal": true,
	"not": true, "or": true, "try": true, "while": true, "with": true,
}

// importStar is "from m import *", the one statement that ends with '*'.
var importStar = regexp.MustCompile(`\bimport\s*\*$`)

// danglingEnd says why a complete logical line cannot be a statement
// because of how it ends ("" if its end is fine): with an operator or a
// keyword that wants something after it ("x = 1 +", "import").
func (l logicalLine) danglingEnd() string {
	code := strings.TrimRight(l.code, " \t\f\r")
	switch l.lastKind {
	case tokName:
		if needsOperand[l.lastTok] {
			return "invalid syntax: '" + l.lastTok + "' at the end of the line"
		}
	case tokOp:
		if !strings.ContainsAny(l.lastTok, "+-*/%@&|^~<>=!.") {
			return "" // ',', ';' and ':' may end a line (a tuple, a statement, a block header)
		}
		if strings.HasSuffix(code, "...") || importStar.MatchString(code) {
			return ""
		}
		return "invalid syntax: '" + l.lastTok + "' at the end of the line"
	}
	return ""
}

// scan is the result of reading a piece of source.
type scan struct {
	lines        []logicalLine
	physical     []string
	invalid      string // why the source cannot be valid Python, "" if it may be
	openBrackets int    // brackets still open at the end
	inTriple     bool   // inside a triple-quoted string at the end
	continued    bool   // ends with a backslash continuation
}

func isIdentRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || r > unicode.MaxASCII
}

var closerOf = map[rune]rune{'(': ')', '[': ']', '{': '}'}

// scanSource tokenizes src far enough to know strings, comments, brackets,
// continuations and logical lines.
func scanSource(src string) scan {
	var s scan
	src = strings.ReplaceAll(src, "\r\n", "\n")
	s.physical = strings.Split(src, "\n")
	runes := []rune(src)
	var stack []rune
	var current *logicalLine
	var code strings.Builder
	line := 0
	finish := func() {
		if current != nil {
			current.code = code.String()
			s.lines = append(s.lines, *current)
			current = nil
		}
		code.Reset()
	}
	start := func() {
		if current == nil {
			current = &logicalLine{first: line, last: line, indent: leadingSpace(s.physical[line])}
		}
		current.last = line
	}
	// token notes the token just written to the current logical line.
	token := func(kind tokenKind, text string) {
		current.lastKind, current.lastTok = kind, text
	}
	for i := 0; i < len(runes); i++ {
		c := runes[i]
		switch {
		case c == '\n':
			if current != nil {
				current.last = line
			}
			line++
			if len(stack) == 0 {
				finish()
			} else {
				code.WriteRune(' ')
			}
		case c == '#':
			for i+1 < len(runes) && runes[i+1] != '\n' {
				i++
			}
		case c == '\\':
			if i+1 == len(runes) {
				s.continued = true
				start()
			} else if runes[i+1] == '\n' {
				i++
				line++
				code.WriteRune(' ')
			} else {
				s.invalid = "unexpected character after line continuation character"
				return s
			}
		case c == '\'' || c == '"':
			start()
			end, newlines, state := scanString(runes, i)
			code.WriteString(string(runes[i:end]))
			token(tokOther, string(runes[i:end]))
			line += newlines
			i = end - 1
			switch state {
			case stringUnterminated:
				s.invalid = "unterminated string literal"
				return s
			case stringOpenTriple:
				s.inTriple = true
				s.openBrackets = len(stack)
				finish()
				return s
			case stringOpenContinued:
				s.continued = true
				s.openBrackets = len(stack)
				finish()
				return s
			}
		case c == '(' || c == '[' || c == '{':
			start()
			stack = append(stack, c)
			code.WriteRune(c)
			token(tokOp, string(c))
		case c == ')' || c == ']' || c == '}':
			if len(stack) == 0 {
				s.invalid = "unmatched '" + string(c) + "'"
				return s
			}
			if closerOf[stack[len(stack)-1]] != c {
				s.invalid = "closing parenthesis '" + string(c) + "' does not match '" + string(stack[len(stack)-1]) + "'"
				return s
			}
			stack = stack[:len(stack)-1]
			code.WriteRune(c)
			token(tokOther, string(c))
		case c == ' ' || c == '\t' || c == '\f' || c == '\r':
			code.WriteRune(c)
		case unicode.IsDigit(c) || (c == '.' && i+1 < len(runes) && unicode.IsDigit(runes[i+1])):
			start()
			end, ok := scanNumber(runes, i)
			if !ok {
				s.invalid = "invalid number literal"
				return s
			}
			code.WriteString(string(runes[i:end]))
			token(tokOther, string(runes[i:end]))
			i = end - 1
		case isIdentRune(c):
			start()
			end := i
			for end < len(runes) && isIdentRune(runes[end]) {
				end++
			}
			code.WriteString(string(runes[i:end]))
			token(tokName, string(runes[i:end]))
			i = end - 1
		case c == '$' || c == '?' || c == '`':
			s.invalid = "invalid character '" + string(c) + "'"
			return s
		default:
			start()
			code.WriteRune(c)
			token(tokOp, string(c))
		}
	}
	s.openBrackets = len(stack)
	finish()
	return s
}

type stringState int

const (
	stringClosed stringState = iota
	stringUnterminated
	stringOpenTriple
	stringOpenContinued // single-quoted string whose line ends with a backslash at EOF
)

// scanString reads the string literal starting at the quote runes[i]. It
// returns the index after it and how many newlines it spans.
func scanString(runes []rune, i int) (end, newlines int, state stringState) {
	quote := runes[i]
	triple := i+2 < len(runes) && runes[i+1] == quote && runes[i+2] == quote
	j := i + 1
	if triple {
		j = i + 3
	}
	for j < len(runes) {
		c := runes[j]
		switch {
		case c == '\\':
			if j+1 == len(runes) {
				if triple {
					return len(runes), newlines, stringOpenTriple
				}
				return len(runes), newlines, stringOpenContinued
			}
			if runes[j+1] == '\n' {
				newlines++
			}
			j += 2
			continue
		case c == '\n':
			if !triple {
				return j, newlines, stringUnterminated
			}
			newlines++
		case c == quote:
			if !triple {
				return j + 1, newlines, stringClosed
			}
			if j+2 < len(runes) && runes[j+1] == quote && runes[j+2] == quote {
				return j + 3, newlines, stringClosed
			}
		}
		j++
	}
	if triple {
		return len(runes), newlines, stringOpenTriple
	}
	return len(runes), newlines, stringUnterminated
}

// scanNumber reads a numeric literal; a letter glued to its end ("7q") is
// a clear syntax error.
func scanNumber(runes []rune, i int) (end int, ok bool) {
	j := i
	digits := func(valid func(rune) bool) {
		for j < len(runes) && (valid(runes[j]) || runes[j] == '_') {
			j++
		}
	}
	isDec := func(r rune) bool { return r >= '0' && r <= '9' }
	if runes[j] == '0' && j+1 < len(runes) && strings.ContainsRune("xXoObB", runes[j+1]) {
		base := runes[j+1]
		j += 2
		switch base {
		case 'x', 'X':
			digits(func(r rune) bool { return isDec(r) || strings.ContainsRune("abcdefABCDEF", r) })
		case 'o', 'O':
			digits(func(r rune) bool { return r >= '0' && r <= '7' })
		default:
			digits(func(r rune) bool { return r == '0' || r == '1' })
		}
	} else {
		digits(isDec)
		if j < len(runes) && runes[j] == '.' {
			j++
			digits(isDec)
		}
		if j < len(runes) && (runes[j] == 'e' || runes[j] == 'E') {
			k := j + 1
			if k < len(runes) && (runes[k] == '+' || runes[k] == '-') {
				k++
			}
			if k < len(runes) && isDec(runes[k]) {
				j = k
				digits(isDec)
			}
		}
		if j < len(runes) && (runes[j] == 'j' || runes[j] == 'J') {
			j++
		}
	}
	if j < len(runes) && isIdentRune(runes[j]) {
		return j, false
	}
	return j, true
}

func leadingSpace(line string) string {
	return line[:len(line)-len(strings.TrimLeft(line, " \t\f"))]
}

// indentWidth measures indentation with tabs to the next multiple of 8, as
// Python's tokenizer does.
func indentWidth(indent string) int {
	w := 0
	for _, c := range indent {
		if c == '\t' {
			w = (w/8 + 1) * 8
		} else {
			w++
		}
	}
	return w
}

// checkIndentation applies Python's indentation rules to the logical lines.
// It returns why the layout is invalid ("" if it is fine) and whether the
// last line is a block header still waiting for its indented body.
func checkIndentation(lines []logicalLine) (invalid string, awaitingBody bool) {
	levels := []int{0}
	expectIndent := false
	for _, l := range lines {
		w := indentWidth(l.indent)
		top := levels[len(levels)-1]
		switch {
		case expectIndent:
			if w <= top {
				return "expected an indented block", false
			}
			levels = append(levels, w)
		case w > top:
			return "unexpected indent", false
		case w < top:
			for len(levels) > 1 && levels[len(levels)-1] > w {
				levels = levels[:len(levels)-1]
			}
			if levels[len(levels)-1] != w {
				return "unindent does not match any outer indentation level", false
			}
		}
		expectIndent = l.endsBlockHeader()
	}
	return "", expectIndent
}

// checkTry finds try statements without an except or finally clause. A
// statement after such a try at its level (or an outer one) is invalid;
// when the cell ends with one still waiting for its clause, open is that
// try's line (Python would say "expected 'except' or 'finally' block").
// The lines' indentation must already be valid (checkIndentation).
func checkTry(lines []logicalLine) (invalid string, open *logicalLine) {
	var waiting []logicalLine // tries without a clause yet, innermost last
	for _, l := range lines {
		w := indentWidth(l.indent)
		if n := len(waiting); n > 0 {
			top := indentWidth(waiting[n-1].indent)
			switch {
			case w == top && l.startsWithKeyword("except", "finally"):
				waiting = waiting[:n-1]
			case w <= top:
				return "expected 'except' or 'finally' block", nil
			}
		}
		if l.startsWithKeyword("try") {
			waiting = append(waiting, l)
		}
	}
	if len(waiting) == 0 {
		return "", nil
	}
	return "", &waiting[len(waiting)-1]
}

// isComplete answers is_complete_request like IPython's console: status and,
// when incomplete, the indentation of the next line.
func isComplete(src string) (status, indent string) {
	if strings.TrimSpace(src) == "" {
		return statusComplete, ""
	}
	s := scanSource(src)
	if s.invalid != "" {
		return statusInvalid, ""
	}
	ended := s.lines // the logical lines that are over
	unfinished := s.inTriple || s.continued || s.openBrackets > 0
	if unfinished && len(ended) > 0 {
		ended = ended[:len(ended)-1]
	}
	for _, l := range ended {
		if l.danglingEnd() != "" {
			return statusInvalid, ""
		}
	}
	lastPhysical := s.physical[len(s.physical)-1]
	if s.inTriple {
		return statusIncomplete, ""
	}
	if s.continued || s.openBrackets > 0 {
		return statusIncomplete, leadingSpace(lastPhysical)
	}
	invalid, awaitingBody := checkIndentation(s.lines)
	if invalid != "" {
		return statusInvalid, ""
	}
	if len(s.lines) == 0 {
		return statusComplete, "" // comments only
	}
	last := s.lines[len(s.lines)-1]
	if awaitingBody {
		return statusIncomplete, last.indent + "    "
	}
	invalid, openTry := checkTry(s.lines)
	if invalid != "" {
		return statusInvalid, ""
	}
	// A decorator wants its def or class next.
	if strings.HasPrefix(strings.TrimSpace(last.code), "@") {
		return statusIncomplete, last.indent
	}
	// The cell ends, at its level or by a blank line, but a try still
	// wants its except or finally: that is the next line.
	blankAfter := strings.TrimSpace(lastPhysical) == "" && len(s.physical) > last.last+1
	if openTry != nil && (last.indent == openTry.indent || blankAfter) {
		return statusIncomplete, openTry.indent
	}
	if last.indent == "" {
		return statusComplete, ""
	}
	// Inside a block: a blank line ends it, as in the interactive console.
	if blankAfter {
		return statusComplete, ""
	}
	indent = last.indent
	if last.startsWithKeyword("return", "pass", "break", "continue", "raise") {
		indent = dedent(indent)
	}
	return statusIncomplete, indent
}

func dedent(indent string) string {
	if strings.HasSuffix(indent, "\t") {
		return indent[:len(indent)-1]
	}
	if strings.HasSuffix(indent, "    ") {
		return indent[:len(indent)-4]
	}
	return strings.TrimRight(indent, " ")
}

// splitLastStatement splits a cell into the lines before its last top-level
// statement and that statement (with any decorators and else/except
// clauses). ok is false when the cell has no statement or cannot be read
// reliably; the caller then runs the cell unchanged.
func splitLastStatement(src string) (body, last string, lastLine int, ok bool) {
	s := scanSource(src)
	if s.invalid != "" || s.inTriple || s.continued || s.openBrackets > 0 {
		return "", "", 0, false
	}
	if invalid, awaiting := checkIndentation(s.lines); invalid != "" || awaiting {
		return "", "", 0, false
	}
	idx := -1
	for i := len(s.lines) - 1; i >= 0; i-- {
		l := s.lines[i]
		if l.indent != "" || l.startsWithKeyword("else", "elif", "except", "finally") {
			continue
		}
		idx = i
		break
	}
	if idx < 0 {
		return "", "", 0, false
	}
	for idx > 0 && s.lines[idx-1].indent == "" && strings.HasPrefix(strings.TrimSpace(s.lines[idx-1].code), "@") {
		idx--
	}
	first := s.lines[idx].first
	return strings.Join(s.physical[:first], "\n"), strings.Join(s.physical[first:], "\n"), first, true
}
