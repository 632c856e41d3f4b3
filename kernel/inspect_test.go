package kernel

import (
	"strings"
	"testing"
)

func TestParsePythonString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`'abc'`, "abc"},
		{`"it's"`, "it's"},
		{`'a\'b"c'`, `a'b"c`},
		{`'\n\r\t\\\x02\x7f'`, "\n\r\t\\\x02\x7f"},
		{`'é€'`, "é€"},
		{`''`, ""},
	} {
		got, err := parsePythonString(c.in)
		if err != nil || got != c.want {
			t.Errorf("parsePythonString(%s) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{``, `'`, `'abc`, `abc`, `'\x4'`, `'\'`, `'a"`} {
		if got, err := parsePythonString(bad); err == nil {
			t.Errorf("parsePythonString(%s) = %q, want an error", bad, got)
		}
	}
}

func TestNameAtCursor(t *testing.T) {
	for _, c := range []struct {
		code   string
		cursor int // -1: end
		want   string
	}{
		{"machine.Pin", -1, "machine.Pin"},
		{"machine.Pin", 9, "machine.Pin"},
		{"x = machine.Pin.on", -1, "machine.Pin.on"},
		{"print(", -1, "print"},
		{"print(1, [2, 3], ", -1, "print"},
		{"led.blink(pin, (1, 2)", -1, "led.blink"},
		{"f(g(1), ", -1, "f"},
		{"xs.", -1, "xs"},
		{"1.real", -1, ""},
		{"'a'.upper", -1, ""},
		{"x = 1 + ", -1, ""},
		{"", -1, ""},
		{"a = 1\nb", -1, "b"},
		{"f(1)\nx = ", -1, ""},
		{"f(a,\n  b, ", -1, "f"},
		{"é = len(", -1, "len"},
	} {
		cursor := c.cursor
		if cursor < 0 {
			cursor = len([]rune(c.code))
		}
		if got := nameAtCursor(c.code, cursor); got != c.want {
			t.Errorf("nameAtCursor(%q, %d) = %q, want %q", c.code, cursor, got, c.want)
		}
	}
}

func TestParseHelpQueryAndExitRequest(t *testing.T) {
	for _, c := range []struct {
		code   string
		ok     bool
		name   string
		detail int
	}{
		{"print?", true, "print", 0},
		{"machine.Pin??", true, "machine.Pin", 1},
		{"?led.blink", true, "led.blink", 0},
		{"??f\n", true, "f", 1},
		{"print", false, "", 0},
		{"?f?", false, "", 0},
		{"f???", false, "", 0},
		{"x = f?", false, "", 0},
		{"f()?", false, "", 0},
		{"%put?", true, "%put", 0},
		{"%%writefile?", true, "%%writefile", 0},
		{"%put x?", false, "", 0},
	} {
		q, ok := parseHelpQuery(c.code)
		if ok != c.ok || (ok && (q.name != c.name || q.detail != c.detail)) {
			t.Errorf("parseHelpQuery(%q) = %+v %v; want %q %d %v", c.code, q, ok, c.name, c.detail, c.ok)
		}
	}
	for _, c := range []struct {
		code     string
		ok, keep bool
	}{
		{"exit", true, false}, {"quit", true, false}, {"exit()", true, false}, {" quit() \n", true, false},
		{"exit(keep_kernel=True)", true, true}, {"quit(keep_kernel=False)", true, false},
		{"exit(1)", false, false}, {"exit = 3", false, false}, {"print(exit)", false, false}, {"exits", false, false},
	} {
		keep, ok := exitRequest(c.code)
		if ok != c.ok || keep != c.keep {
			t.Errorf("exitRequest(%q) = %v %v; want %v %v", c.code, keep, ok, c.keep, c.ok)
		}
	}
}

func TestDefinitionFromSource(t *testing.T) {
	cell := strings.Split(`import machine

def blink(pin,
          times=3, *, delay=(0.1, 0.2)) -> int:
    """Blink a pin.

    Each time on, then off.
    """
    for _ in range(times):
        pin.on()
    return times

class Led(object):
    'An LED on a pin.'
    def __init__(self, pin, level=1):
        self.pin = pin

def blink(pin): return 0
x = 1`, "\n")

	block, ok := findDefinition(cell, "Led", true)
	if !ok {
		t.Fatal("class Led not found")
	}
	led := definition{lines: block}
	if got := led.signature("Led", false); got != "Led(pin, level=1)" {
		t.Errorf("class signature = %q", got)
	}
	if doc, ok := led.docstring(); !ok || doc != "An LED on a pin." {
		t.Errorf("class docstring = %q %v", doc, ok)
	}
	if len(block) != 4 {
		t.Errorf("class block = %q", block)
	}

	// The last top-level definition wins (a cell that redefines it).
	block, _ = findDefinition(cell, "blink", true)
	if got := (definition{lines: block}).signature("blink", false); got != "blink(pin)" || len(block) != 1 {
		t.Errorf("last blink = %q %q", got, block)
	}
	block, _ = findDefinition(cell, "blink", false)
	first := definition{lines: block}
	if got := first.signature("blink", false); got != "blink(pin, times=3, *, delay=(0.1, 0.2)) -> int" {
		t.Errorf("first blink signature = %q", got)
	}
	if doc, ok := first.docstring(); !ok || doc != "Blink a pin.\n\nEach time on, then off." {
		t.Errorf("first blink docstring = %q %v", doc, ok)
	}
	if len(block) != 9 {
		t.Errorf("first blink block has %d lines: %q", len(block), block)
	}
	// Broken text gives what it can and never panics.
	for _, broken := range [][]string{{"def f(a,", "  b"}, {"def f"}, {"class f"}, {"def f(): return {'a': 1}"}, {"def f():", "    '''open"}} {
		if block, ok := findDefinition(broken, "f", true); ok {
			d := definition{lines: block}
			_ = d.signature("f", false)
			if doc, ok := d.docstring(); ok {
				t.Errorf("docstring of %q = %q", broken, doc)
			}
		}
	}
	if _, ok := findDefinition(cell, "bl", true); ok {
		t.Error("a prefix of a name matched")
	}
	if _, ok := findDefinition([]string{"    def __init__(self): pass"}, "__init__", true); ok {
		t.Error("an indented def counted as a top-level one")
	}
}

func TestInspectionTextIsBounded(t *testing.T) {
	k := New(Config{})
	obj := boardObject{found: true, typeName: "list", repr: strings.Repeat("1, ", 10)[:inspectReprLimit/100], reprLen: 48890,
		members: []string{"append", "clear"}, nMembers: 150}
	n := 1000
	obj.length = &n
	text := k.inspectionText(obj, 0)
	for _, want := range []string{"Type:           list\n", "Length:         1000\n", "(48890 characters in all)", "Members:        append, clear, … (150 in all)\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("inspection text lacks %q:\n%s", want, text)
		}
	}
}

// inspectText sends an inspect_request and returns found and the text.
func inspectText(t *testing.T, tk *testKernel, code string, detail int) (bool, string) {
	t.Helper()
	reply := tk.request("inspect_request", map[string]any{"code": code, "cursor_pos": len([]rune(code)), "detail_level": detail})
	if reply.Str("status") != "ok" {
		t.Fatalf("inspect_reply for %q: %v", code, reply.Content)
	}
	data, _ := reply.Content["data"].(map[string]any)
	text, _ := data["text/plain"].(string)
	found, _ := reply.Content["found"].(bool)
	if found != (text != "") {
		t.Errorf("inspect %q: found=%v with text %q", code, found, text)
	}
	return found, text
}

func TestInspectOnTheBoard(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t)

	// Before any cell the kernel has no board: Shift-Tab does not connect.
	if found, text := inspectText(t, tk, "print", 0); found {
		t.Errorf("inspect before connecting found %q", text)
	}

	reply, _ := tk.execute(`import machine
ran = []
def blink(pin, times=3,
          delay=0.1):
    """Blink pin, times times."""
    ran.append('blink')
    return times

class Sensor:
    "Reads a value."
    def __init__(self, pin, scale=1.0):
        self.pin = pin
    @property
    def value(self):
        ran.append('property')
        return 1
    def read(self):
        return self.value

def read(port, count):
    return port

class Lazy:
    def __getattr__(self, name):
        ran.append('getattr ' + name)
        return 0
lazy = Lazy()
lazy.real = 1

s = Sensor(4)
xs = list(range(2000))
f = open('helpers.py', 'w')
f.write('def twice(x):\n    """Doubles x."""\n    return 2 * x\n')
f.close()
import helpers`)
	if reply.Str("status") != "ok" {
		t.Fatalf("setup cell: %v", reply.Content)
	}

	check := func(code string, detail int, want ...string) string {
		t.Helper()
		found, text := inspectText(t, tk, code, detail)
		if !found {
			t.Errorf("inspect %q: not found", code)
			return ""
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("inspect %q (detail %d) lacks %q:\n%s", code, detail, w, text)
			}
		}
		return text
	}
	pin := check("machine.Pin", 0, "Type:           type\n", "String form:    <class 'Pin'>\n",
		"Init signature: not known", "Members:        ", " on, ", " value")
	if strings.Contains(pin, "__") || strings.Contains(pin, " _") {
		t.Errorf("machine.Pin members show private names:\n%s", pin)
	}
	check("x = blink(", 0, "Signature:      blink(pin, times=3, delay=0.1)\n", "Docstring:      Blink pin, times times.\n",
		"File:           In [1]\n", "Type:           function\n")
	src := check("blink", 1, "Source:         def blink(pin, times=3,\n", "    ran.append('blink')\n")
	if strings.Contains(src, "class Sensor") {
		t.Errorf("source of blink runs into the next definition:\n%s", src)
	}
	// A cell the board could not compile defined nothing: blink keeps its source.
	if reply, _ := tk.execute("def blink(pin):\n    return ("); reply.Str("ename") != "SyntaxError" {
		t.Errorf("broken def: %v", reply.Content)
	}
	check("blink", 0, "Signature:      blink(pin, times=3, delay=0.1)\n")
	check("Sensor", 0, "Init signature: Sensor(pin, scale=1.0)\n", "Docstring:      Reads a value.\n", "Members:        read, value\n")
	// A method: from its class's block, not the top-level read; bound: no self.
	check("s.read", 0, "Signature:      read()\n", "Type:           bound_method\n", "File:           In [1]\n")
	check("Sensor.read", 0, "Signature:      read(self)\n")
	check("Sensor.read", 1, "Source:         def read(self):\n                    return self.value\n")
	check("read", 0, "Signature:      read(port, count)\n")
	check("s", 0, "Type:           Sensor\n", "String form:    <Sensor object at ", "Docstring:      Reads a value.\n")
	check("s.value", 0, "s.value is a property")
	check("helpers.twice", 0, "Signature:      twice(x)\n", "Docstring:      Doubles x.\n", "File:           helpers.py (on the board)\n")
	check("helpers.twice", 1, "Source:         def twice(x):\n")
	check("len", 0, "Signature:      not known", "<no docstring> (MicroPython usually drops docstrings")
	long := check("xs", 0, "Type:           list\n", "Length:         2000\n", "characters in all)")
	if len(long) > 4*inspectReprLimit {
		t.Errorf("the repr of a long list is not cut: %d bytes", len(long))
	}
	check("lazy", 0, "Type:           Lazy\n")
	check("lazy.real", 0, "Type:           int\n")
	for _, unknown := range []string{"nothing_here", "machine.NoSuch", "blink.nope", "1 + ", "lazy.anything"} {
		if found, text := inspectText(t, tk, unknown, 0); found {
			t.Errorf("inspect %q found %q", unknown, text)
		}
	}
	// Completion resolves names the same way: no getter runs for it either.
	names := map[string]bool{}
	for _, code := range []string{"s.", "s.value.", "s.value.x", "Sensor.", "s.pi", "lazy.", "lazy.x.", "lazy.re"} {
		reply := tk.request("complete_request", map[string]any{"code": code, "cursor_pos": len(code)})
		for _, m := range reply.Content["matches"].([]any) {
			names[m.(string)] = true
		}
	}
	for _, want := range []string{"s.read", "s.value", "s.pin", "Sensor.read", "Sensor.value", "lazy.real"} {
		if !names[want] {
			t.Errorf("completion lacks %q (got %v)", want, names)
		}
	}
	reply, out := tk.execute("print(ran)")
	if got := streamText(out); got != "[]\n" {
		t.Errorf("inspection or completion ran user code: %q (%v)", got, reply.Content)
	}

	// Help cells: the same text as a "page" payload; unknown names say so.
	for _, q := range []struct {
		cell   string
		detail int
	}{{"blink?", 0}, {"blink??", 1}, {"?machine.Pin", 0}} {
		reply, out := tk.execute(q.cell)
		payload, _ := reply.Content["payload"].([]any)
		if reply.Str("status") != "ok" || len(payload) != 1 {
			t.Errorf("%s: reply %v", q.cell, reply.Content)
			continue
		}
		page := payload[0].(map[string]any)
		data, _ := page["data"].(map[string]any)
		name := strings.Trim(q.cell, "?")
		_, want := inspectText(t, tk, name, q.detail)
		if page["source"] != "page" || data["text/plain"] != want || want == "" {
			t.Errorf("%s: page %v, want the inspect text %q", q.cell, page, want)
		}
		if got := types(out); len(got) != 1 || got[0] != "execute_input" {
			t.Errorf("%s published %v", q.cell, got)
		}
	}
	// Magics answer from the kernel's own table, in a cell and on Shift-Tab.
	reply, _ = tk.execute("%put?")
	if payload, _ := reply.Content["payload"].([]any); len(payload) != 1 ||
		!strings.Contains(payload[0].(map[string]any)["data"].(map[string]any)["text/plain"].(string), "Usage:          %put LOCAL") {
		t.Errorf("%%put?: %v", reply.Content)
	}
	if found, text := inspectText(t, tk, "%put blink.py", 2); !found || !strings.Contains(text, "Type:           line magic\n") {
		t.Errorf("Shift-Tab on %%put: %v %q", found, text)
	}
	if reply, _ := tk.execute("%nosuch?"); reply.Str("ename") != "UsageError" {
		t.Errorf("%%nosuch?: %v", reply.Content)
	}
	reply, out = tk.execute("nothing_here?")
	if reply.Str("status") != "ok" || streamText(out) != "Object `nothing_here` not found.\n" {
		t.Errorf("help on an unknown name: %v %q", reply.Content, streamText(out))
	}

	// Completion hides _private and __dunder__ names unless asked for.
	complete := func(code string) []string {
		reply := tk.request("complete_request", map[string]any{"code": code, "cursor_pos": len(code)})
		var got []string
		for _, m := range reply.Content["matches"].([]any) {
			got = append(got, m.(string))
		}
		return got
	}
	pinNames := complete("machine.Pin.")
	if len(pinNames) < 10 {
		t.Errorf("machine.Pin. completes %q", pinNames)
	}
	for _, n := range pinNames {
		if strings.HasPrefix(n, "machine.Pin._") {
			t.Errorf("machine.Pin. completes private name %q", n)
		}
	}
	private := complete("machine.Pin._")
	if len(private) == 0 {
		t.Error("machine.Pin._ completes nothing")
	}
	for _, n := range private {
		if !strings.HasPrefix(n, "machine.Pin._") {
			t.Errorf("machine.Pin._ completes %q", n)
		}
	}
	if got := complete("__na"); strings.Join(got, ",") != "__name__" {
		t.Errorf("__na completes %q", got)
	}

	// exit and quit end jupyter console as with ipykernel; the board is not asked.
	for _, cell := range []string{"exit", "quit()", "exit(keep_kernel=True)"} {
		reply, out := tk.execute(cell)
		payload, _ := reply.Content["payload"].([]any)
		if reply.Str("status") != "ok" || len(payload) != 1 {
			t.Errorf("%s: %v", cell, reply.Content)
			continue
		}
		p := payload[0].(map[string]any)
		if p["source"] != "ask_exit" || p["keepkernel"] != strings.Contains(cell, "True") {
			t.Errorf("%s: payload %v", cell, p)
		}
		if got := types(out); len(got) != 1 {
			t.Errorf("%s published %v", cell, got)
		}
	}
}

// FuzzInspectorOutput: whatever the board prints, parsing gives an object or
// an error, never a panic, and rendering it never fails.
func FuzzInspectorOutput(f *testing.F) {
	token := "\x02abc:"
	f.Add("\x02abc:T'list'\n\x02abc:r'3'\n\x02abc:R'[1]'\n\x02abc:L'1'\n\x02abc:M'append'\n")
	f.Add("\x02abc:N'x'\n")
	f.Add("\x02abc:P'value'\n")
	f.Add("\x02abc:T'function'\n\x02abc:K'function'\n\x02abc:n'f'\n\x02abc:F'a.py'\n\x02abc:S'def f(a,'\n\x02abc:S'  b):'\n")
	f.Add("\x02abc:R'\\x4'\n\x02abc:D\"it's\"\n\x02abc:T")
	k := New(Config{})
	f.Fuzz(func(t *testing.T, out string) {
		obj, err := parseInspectorOutput(out, token)
		if err == nil && obj.found {
			_ = k.inspectionText(obj, 0)
			_ = k.inspectionText(obj, 1)
		}
	})
}

// FuzzCellSource: any cell text (and cursor) gives a definition or none, a
// name at the cursor or none, never a panic.
func FuzzCellSource(f *testing.F) {
	f.Add("def f(a, b=(1, 2)):\n    '''doc'''\n    return a\n", 3)
	f.Add("class f(B):\n  'x'\n  def __init__(self, y): pass\n", 0)
	f.Add("def f(\n", 5)
	f.Add("f(1, [2, (3", 11)
	f.Fuzz(func(t *testing.T, cell string, cursor int) {
		_ = nameAtCursor(cell, cursor)
		_ = magicAtCursor(cell, cursor)
		_, _ = parseHelpQuery(cell)
		if block, ok := findDefinition(strings.Split(cell, "\n"), "f", true); ok {
			d := definition{lines: block}
			_ = d.signature("f", false)
			_, _ = d.docstring()
			_ = dedentLines(block)
		}
	})
}
