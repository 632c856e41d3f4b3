package boardpy_test

import (
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"

	"webrepl-kernel/internal/boardpy"
	"webrepl-kernel/internal/boardpy/boardpytest"
)

// pythonValue is the text MicroPython holds for Str(s): s's characters, and
// U+0000..U+00FF for each byte that is not UTF-8 (what \xNN means in a str).
func pythonValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			r = rune(s[i])
		}
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// TestLiteralsUnderMicroPython: every literal means, to real MicroPython,
// the value it was made from.
func TestLiteralsUnderMicroPython(t *testing.T) {
	strs := []string{"", "plain", "a'b\\c\nd\te\x01é", "a'b\\c\nd é", "\r\x7f\x00\"'", "bad \xff\xfe utf-8 \xc3",
		"\u2028 \U0001F600 日本", strings.Repeat("x'", 500), "#not a comment", "\\x41"}
	var prog strings.Builder
	prog.WriteString("import binascii\ndef show(v):print(binascii.hexlify(v.encode()).decode())\n")
	for _, s := range strs {
		prog.WriteString(boardpy.Call("show", boardpy.Str(s)) + "\n")
	}
	prog.WriteString(boardpy.Call("print", boardpy.Int(-7), boardpy.Int(1<<40), boardpy.Bool(true), boardpy.Bool(false), boardpy.Value{}) + "\n")
	out, err := boardpytest.Run(t, prog.String())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != len(strs)+1 {
		t.Fatalf("%d lines printed, want %d:\n%s", len(lines), len(strs)+1, out)
	}
	for i, s := range strs {
		if want := hex.EncodeToString([]byte(pythonValue(s))); lines[i] != want {
			t.Errorf("boardpy.Str(%q) reads as %s, want %s", s, lines[i], want)
		}
	}
	if want := "-7 1099511627776 True False None"; lines[len(strs)] != want {
		t.Errorf("Int/Bool/None read as %q, want %q", lines[len(strs)], want)
	}
}

func TestCompact(t *testing.T) {
	src := "# a comment\n\ndef f(name):\n    # why\n    if name:\n        return '#' + name   \n    return None\n"
	got, err := boardpy.Compact("f.py", src)
	if err != nil {
		t.Fatal(err)
	}
	if want := "def f(name):\n if name:\n  return '#' + name\n return None\n"; got != want {
		t.Errorf("Compact =\n%s\nwant\n%s", got, want)
	}
	out, err := boardpytest.Run(t, got+"print(f('x'), f(''))\n")
	if err != nil || out != "#x None\n" {
		t.Errorf("compacted program printed %q, %v", out, err)
	}
	for _, bad := range []string{"def f():\n  pass\n", "def f():\n\tpass\n", "x = '''a'''\n", "def f():\n    \"\"\"doc\"\"\"\n"} {
		if _, err := boardpy.Compact("bad.py", bad); err == nil {
			t.Errorf("Compact accepted %q", bad)
		}
	}
}

func TestCompiles(t *testing.T) {
	if err := boardpytest.Compiles(t, "ok.py", "def f(x):\n return x\n"); err != nil {
		t.Errorf("a good file: %v", err)
	}
	if err := boardpytest.Compiles(t, "bad.py", "def f(x)\n return x\n"); err == nil || !strings.Contains(err.Error(), "SyntaxError") {
		t.Errorf("a bad file: %v, want a SyntaxError", err)
	}
}
