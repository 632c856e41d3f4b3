package boardpy

import (
	"strings"
	"testing"
)

func TestStr(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		// The cases of the kernel's and webrepl's former encoders.
		{"a'b\\c\nd\te\x01é", `'a\'b\\c\nd\te\x01é'`},
		{"a'b\\c\nd é", `'a\'b\\c\nd é'`},
		{"", `''`},
		{"\r\x7f\x00\"", `'\r\x7f\x00"'`},
		{"bad \xff\xfe utf-8", `'bad \xff\xfe utf-8'`},
		{"\u2028 \U0001F600", "'\u2028 \U0001F600'"},
	} {
		if got := Str(c.in).Literal(); got != c.want {
			t.Errorf("Str(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestIntBoolNone(t *testing.T) {
	for _, c := range []struct {
		v    Value
		want string
	}{{Int(0), "0"}, {Int(-42), "-42"}, {Int(1 << 40), "1099511627776"}, {Bool(true), "True"}, {Bool(false), "False"}, {Value{}, "None"}} {
		if got := c.v.Literal(); got != c.want {
			t.Errorf("literal %s, want %s", got, c.want)
		}
	}
}

func TestCall(t *testing.T) {
	got := Call("__wk_f", Str("a'"), Int(3), Bool(false))
	if want := "__wk_f('a\\'',3,False)"; got != want {
		t.Errorf("Call = %q, want %q", got, want)
	}
	if got := Call("(lambda p:p)", Str("x")); got != "(lambda p:p)('x')" {
		t.Errorf("Call of an expression = %q", got)
	}
	for _, bad := range []string{"", "f(1);g", "1f", "f\n()", "(a)\n(b)"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Call(%q) did not panic", bad)
				}
			}()
			Call(bad)
		}()
	}
}

// FuzzStr holds Str to what its callers rely on: one line, quoted, and no
// quote or backslash left unescaped (TestStrUnderMicroPython checks values).
func FuzzStr(f *testing.F) {
	for _, s := range []string{"", "a'b", "\\", "\n\r\t", "\xff", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lit := Str(s).Literal()
		if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' || strings.ContainsAny(lit, "\n\r") {
			t.Fatalf("Str(%q) = %s", s, lit)
		}
		body := lit[1 : len(lit)-1]
		for i := 0; i < len(body); i++ {
			switch body[i] {
			case '\\':
				i++
			case '\'':
				t.Fatalf("Str(%q) = %s: unescaped quote", s, lit)
			}
		}
	})
}
