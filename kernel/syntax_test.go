package kernel

import "testing"

func TestIsComplete(t *testing.T) {
	cases := []struct {
		code, status, indent string
	}{
		{"", "complete", ""},
		{"   \n", "complete", ""},
		{"1", "complete", ""},
		{"print('hello, world')", "complete", ""},
		{"# only a comment", "complete", ""},
		{"x = [1,\n 2]", "complete", ""},
		{"s = 'a#b'  # comment (", "complete", ""},
		{"def f(x):\n  return x*2\n\n\n", "complete", ""},
		{"if x:\n    y\nz = 1", "complete", ""},
		{"x = 1 if y else 2", "complete", ""},
		{"s = '''a\nb'''", "complete", ""},
		{"x = 0x1F + 1e-3 + 2j + 1_000 + .5", "complete", ""},
		{"x = r'\\''", "complete", ""},
		{"for i in range(3):", "incomplete", "    "},
		{"def f(x):\n  x*2", "incomplete", "  "},
		{"def f(x):\n    if x:", "incomplete", "        "},
		{"def f(x):\n    return x", "incomplete", ""},
		{"print('''hello", "incomplete", ""},
		{"x = [1,\n  2,", "incomplete", "  "},
		{"foo(", "incomplete", ""},
		{"x = 1 + \\", "incomplete", ""},
		{"s = 'abc\\", "incomplete", ""},
		{"import = 7q", "invalid", ""},
		{")", "invalid", ""},
		{"x = (1, 2]", "invalid", ""},
		{"s = 'abc\nprint(1)", "invalid", ""},
		{"  x = 1", "invalid", ""},
		{"if x:\ny = 1", "invalid", ""},
		{"if x:\n        a\n    b", "invalid", ""},
		{"a = $b", "invalid", ""},
		{"x = 1.__class__", "invalid", ""},
		{"x = 1 \\ 2", "invalid", ""},
		// A statement cannot end with an operator or with a keyword that
		// wants more; "..." and "import *" can, and so can return and a tuple.
		{"x = 1 +", "invalid", ""},
		{"x = ", "invalid", ""},
		{"x = a.", "invalid", ""},
		{"x = 1 if", "invalid", ""},
		{"import", "invalid", ""},
		{"del", "invalid", ""},
		{"x = 1 +  # comment", "invalid", ""},
		{"x = 1 +\ny = [1,", "invalid", ""},
		{"x = ...", "complete", ""},
		{"x = 1.", "complete", ""},
		{"from m import *", "complete", ""},
		{"x = 1,", "complete", ""},
		{"x = 1;", "complete", ""},
		{"def f():\n    return", "incomplete", ""},
		{"x = [1 +\n", "incomplete", ""},
		// A decorator wants its def; a try its except or finally.
		{"@dec", "incomplete", ""},
		{"class A:\n    @property\n", "incomplete", "    "},
		{"try:\n    x\n", "incomplete", ""},
		{"try:\n    x", "incomplete", "    "},
		{"try: x", "incomplete", ""},
		{"def f():\n    try:\n        x\n\n", "incomplete", "    "},
		{"try:\n    x\nexcept ValueError:\n    pass\n", "complete", ""},
		{"try:\n    x\nfinally:\n    y", "incomplete", "    "},
		{"try:\n    x\ny = 1", "invalid", ""},
		{"def f():\n    try:\n        x\n    y = 1", "invalid", ""},
	}
	for _, c := range cases {
		status, indent := isComplete(c.code)
		if status != c.status || indent != c.indent {
			t.Errorf("isComplete(%q) = %q, %q; want %q, %q", c.code, status, indent, c.status, c.indent)
		}
	}
}

// A cell as the kernel reads it: help queries and magics are not Python.
func TestCellIsComplete(t *testing.T) {
	cases := []struct {
		code, status, indent string
	}{
		{"len?", "complete", ""},
		{"??machine.Pin", "complete", ""},
		{"x?\ny", "invalid", ""},
		{"%lsmagic", "complete", ""},
		{"%connect ws://192.168.4.1:8266/ --password pw", "complete", ""},
		{"%connect ws://a/\nfor i in range(3):", "incomplete", "    "},
		{"%put a.py\nx = (", "incomplete", ""},
		{"%%writefile a.py\nprint(1", "incomplete", ""},
		{"%%writefile a.py\nprint(1)\n", "incomplete", ""},
		{"%%writefile a.py\nprint(1)\n\n", "complete", ""},
		{"%%writefile a.py", "incomplete", ""},
		{"x = (1]", "invalid", ""},
	}
	for _, c := range cases {
		status, indent := cellIsComplete(c.code)
		if status != c.status || indent != c.indent {
			t.Errorf("cellIsComplete(%q) = %q, %q; want %q, %q", c.code, status, indent, c.status, c.indent)
		}
	}
}

func TestSplitLastStatement(t *testing.T) {
	cases := []struct {
		code, body, last string
		line             int
		ok               bool
	}{
		{"1+2", "", "1+2", 0, true},
		{"x = 1\nx", "x = 1", "x", 1, true},
		{"x = (1,\n 2)\ny = [3,\n 4]", "x = (1,\n 2)", "y = [3,\n 4]", 2, true},
		{"for i in range(2):\n    i\n", "", "for i in range(2):\n    i\n", 0, true},
		{"a = 1\nif a:\n    b = 2\nelse:\n    b = 3\n", "a = 1", "if a:\n    b = 2\nelse:\n    b = 3\n", 1, true},
		{"a = 1\n@dec\n@dec2\ndef f():\n    pass", "a = 1", "@dec\n@dec2\ndef f():\n    pass", 1, true},
		{"x = 1\ns = '''\nnot a statement\n'''", "x = 1", "s = '''\nnot a statement\n'''", 1, true},
		{"x = 1  # done\n\n# trailing comment\n", "", "x = 1  # done\n\n# trailing comment\n", 0, true},
		{"# nothing", "", "", 0, false},
		{"x = (", "", "", 0, false},
		{"1 +* 2\n)", "", "", 0, false},
	}
	for _, c := range cases {
		body, last, line, ok := splitLastStatement(c.code)
		if ok != c.ok || (ok && (body != c.body || last != c.last || line != c.line)) {
			t.Errorf("splitLastStatement(%q) = %q, %q, %d, %v; want %q, %q, %d, %v",
				c.code, body, last, line, ok, c.body, c.last, c.line, c.ok)
		}
	}
}
