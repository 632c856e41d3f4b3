package boardpy

import (
	"fmt"
	"strings"
)

// indentUnit is the indentation of the .py files: four spaces a level.
const indentUnit = 4

// Compact is the text of a board-side .py file as it is sent: blank lines
// and lines that hold only a comment are dropped and each level of
// indentation shrinks from four spaces to one, so readable names and
// comments cost the link (an ESP8266 reads a few kilobytes a second) little.
// What the board compiles is the same program. To keep that true with a
// line-by-line reading, a file may not hold triple-quoted strings (a
// docstring is a comment here: MicroPython drops docstrings anyway) or tabs,
// and indents by multiples of four spaces.
func Compact(name, src string) (string, error) {
	var b strings.Builder
	for i, line := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		where := func(what string) error { return fmt.Errorf("%s:%d: %s", name, i+1, what) }
		if strings.Contains(line, `"""`) || strings.Contains(line, `'''`) {
			return "", where("triple-quoted string (use a comment)")
		}
		if strings.ContainsRune(line, '\t') {
			return "", where("tab (indent with four spaces)")
		}
		code := strings.TrimLeft(line, " ")
		if code == "" || code[0] == '#' {
			continue
		}
		indent := len(line) - len(code)
		if indent%indentUnit != 0 {
			return "", where(fmt.Sprintf("indented by %d spaces, not a multiple of %d", indent, indentUnit))
		}
		b.WriteString(strings.Repeat(" ", indent/indentUnit))
		b.WriteString(strings.TrimRight(code, " "))
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// MustCompact is Compact for the embedded files of a package, read once
// when it starts: an error there is a mistake in the file, which the tests
// of that package catch.
func MustCompact(name, src string) string {
	out, err := Compact(name, src)
	if err != nil {
		panic("boardpy: " + err.Error())
	}
	return out
}
