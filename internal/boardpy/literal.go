package boardpy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Value is one argument of a board-side call: a Python literal made from a
// Go value by Str, Int or Bool (the zero Value is None).
type Value struct{ text string }

// Literal is the Python text of v.
func (v Value) Literal() string {
	if v.text == "" {
		return "None"
	}
	return v.text
}

// Str is s as a Python str literal in single quotes. UTF-8 text is kept as
// is; \ and ' are escaped, \n \r \t by name, other control characters and
// each byte of invalid UTF-8 as \xNN.
func Str(s string) Value {
	var b strings.Builder
	b.Grow(len(s) + 2)
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
	return Value{b.String()}
}

// Int is n as a Python int literal.
func Int(n int) Value { return Value{strconv.Itoa(n)} }

// Bool is b as True or False.
func Bool(b bool) Value {
	if b {
		return Value{"True"}
	}
	return Value{"False"}
}

// callee is what Call accepts before the argument list: a dotted name, or
// a parenthesised expression (a lambda kept in a .py file).
var callee = regexp.MustCompile(`^(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|\(.*\))$`)

// Call is the Python expression that calls fn with args (no newline: a
// program of one call, or a statement the caller ends). fn is board code chosen by the host (a function's name, or a
// parenthesised expression from an embedded .py file), never data: Call
// panics when it is neither, a mistake of the caller's.
func Call(fn string, args ...Value) string {
	if !callee.MatchString(fn) || strings.Contains(fn, "\n") {
		panic(fmt.Sprintf("boardpy.Call: %q is not a name or a parenthesised expression", fn))
	}
	var b strings.Builder
	b.WriteString(fn)
	b.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(a.Literal())
	}
	b.WriteByte(')')
	return b.String()
}
