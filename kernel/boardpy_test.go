package kernel

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/internal/boardpy"
	"webrepl-kernel/internal/boardpy/boardpytest"
	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

// The kernel's board-side Python (py/*.py) under real MicroPython: each file
// compiles, as written and as sent, and each program does what the Go code
// that reads its answer expects, on realmp's unix MicroPython and on the
// simulator's MicroPython WebAssembly.

// TestBoardFilesCompile: every embedded file, and every program made of
// them, compiles under MicroPython.
func TestBoardFilesCompile(t *testing.T) {
	boardpytest.FilesCompile(t, boardFiles, "py/*.py")
	for name, program := range map[string]string{"helper": helperProgram, "jupyter": jupyterProgram, "inspector": inspectorProgram,
		"completer": completerProgram, "run": runFile, "free memory": boardFreeMemory} {
		if err := boardpytest.Compiles(t, name, program); err != nil {
			t.Errorf("the %s program does not compile: %v", name, err)
		}
	}
}

// pieceEnd ends the output of each piece a realmp run runs.
const pieceEnd = "\x01end of piece\x01\n"

// boardRunner runs programs one after the other in one interpreter and
// returns what each printed; a program that raises fails the test.
type boardRunner func(t *testing.T, pieces ...string) []string

// realmpRunner runs the pieces as one script under realmp's micropython.
func realmpRunner(t *testing.T, pieces ...string) []string {
	t.Helper()
	var prog strings.Builder
	for _, p := range pieces {
		prog.WriteString(strings.TrimRight(p, "\n") + "\n")
		prog.WriteString("print(" + boardpy.Str(pieceEnd[:len(pieceEnd)-1]).Literal() + ")\n")
	}
	out, err := boardpytest.Run(t, prog.String())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(out, pieceEnd)
	if len(parts) != len(pieces)+1 {
		t.Fatalf("%d pieces ran, output has %d:\n%q", len(pieces), len(parts)-1, out)
	}
	return parts[:len(pieces)]
}

// simRunner runs each piece as one program on a simulated board, as the
// kernel sends them.
func simRunner(s *webrepl.Session) boardRunner {
	return func(t *testing.T, pieces ...string) []string {
		t.Helper()
		var outs []string
		for _, p := range pieces {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			var out strings.Builder
			res, err := s.Exec(ctx, []byte(p), &out)
			cancel()
			if err != nil {
				t.Fatalf("running %.60q…: %v", p, err)
			}
			if res != nil && res.Exception != nil {
				t.Fatalf("running %.60q… raised %s: %s\n%s", p, res.Exception.Type, res.Exception.Message, res.Exception.Text)
			}
			outs = append(outs, strings.ReplaceAll(out.String(), "\r\n", "\n"))
		}
		return outs
	}
}

func TestBoardPythonRealmp(t *testing.T) {
	boardpytest.MicroPython(t) // skips when absent
	exerciseBoardPython(t, realmpRunner)
}

func TestBoardPythonSim(t *testing.T) {
	board := simtest.Start(t, sim.Options{Password: "secret", Profile: "ideal"})
	s := simtest.UntilServed(t, func(ctx context.Context) (*webrepl.Session, error) {
		s, err := webrepl.Dial(ctx, board.URL(), webrepl.Options{Password: board.Password()})
		if err != nil && !errors.Is(err, webrepl.ErrBusy) && !errors.Is(err, webrepl.ErrUnreachable) {
			t.Fatalf("Dial: %v", err)
		}
		return s, err
	})
	t.Cleanup(func() { s.Close() })
	exerciseBoardPython(t, simRunner(s))
}

// boardNamespace is what the inspector and completer are asked about.
const boardNamespace = `class Thing:
    def __init__(self):
        self.items = [1, 2]
    def method(self):
        pass
    @property
    def risky(self):
        global touched
        touched = True
        return 1
touched = False
thing = Thing()
numbers = [1, 2, 3]
def helper(a, b=2):
    pass
`

func exerciseBoardPython(t *testing.T, run boardRunner) {
	t.Run("cell", func(t *testing.T) {
		value := buildProgram("x = 6\nx * 7", true, "<cell In[1] ab.1>")
		errCell := buildProgram("y = 1\n1/0", true, "<cell In[2] ab.2>")
		stderr := buildProgram("import sys\nprint('oops', file=sys.stderr)", true, "<cell In[3] ab.3>")
		refused := buildProgram("input('name? ')", false, "<cell In[4] ab.4>")
		// The helper raises a cell's exception again after its end mark,
		// for the raw REPL to report: caught here, so the run goes on.
		raising := func(p cellProgram) string {
			return "try:\n " + string(p.code) + "\nexcept Exception as e:\n print('raised', type(e).__name__)"
		}
		outs := run(t, helperProgram, string(value.code), raising(errCell), string(stderr.code), raising(refused),
			"print(sorted(n for n in globals() if n in ('__repl_print__', 'input', 'print', 'x', 'y')))")
		mark := func(kind byte, p cellProgram) string { return marker(kind, p.token) }
		if want := mark(kindStart, value) + mark(kindResult, value) + "42" + mark(kindResultEnd, value) + mark(kindEnd, value); outs[1] != want {
			t.Errorf("value cell printed %q, want %q", outs[1], want)
		}
		if o := outs[2]; !strings.HasPrefix(o, mark(kindStart, errCell)+mark(kindError, errCell)+"Traceback") ||
			!strings.Contains(o, "ZeroDivisionError") || !strings.HasSuffix(o, mark(kindEnd, errCell)+"raised ZeroDivisionError\n") {
			t.Errorf("failing cell printed %q", o)
		}
		if want := mark(kindStart, stderr) + mark(kindStderr, stderr) + "oops\n" + mark(kindStderrEnd, stderr) + mark(kindEnd, stderr); outs[3] != want {
			t.Errorf("stderr cell printed %q, want %q", outs[3], want)
		}
		if o := outs[4]; !strings.Contains(o, mark(kindError, refused)) || !strings.Contains(o, "OSError: input() needs a frontend that accepts input") {
			t.Errorf("input() without a frontend printed %q", o)
		}
		if want := "['x', 'y']\n"; outs[5] != want {
			t.Errorf("globals after the cells: %q, want %q (the helper's names removed)", outs[5], want)
		}
	})

	t.Run("inspector", func(t *testing.T) {
		names := []string{"numbers", "Thing", "thing", "thing.risky", "thing.method", "helper", "nope.x", "thing.nope"}
		pieces := []string{boardNamespace, inspectorProgram}
		tokens := make([]string, len(names))
		for i, name := range names {
			tokens[i] = "\x02tok" + strconv.Itoa(i) + ":"
			pieces = append(pieces, inspectorCall(name, tokens[i]))
		}
		pieces = append(pieces, "print(touched, '__wk_resolve' in globals(), '__wk_members' in globals(), '__wk_inspect' in globals())")
		outs := run(t, pieces...)
		got := map[string]boardObject{}
		for i, name := range names {
			obj, err := parseInspectorOutput(outs[2+i], tokens[i])
			if err != nil {
				t.Fatalf("inspecting %s: %v (printed %q)", name, err, outs[2+i])
			}
			got[name] = obj
		}
		three := 3
		if o := got["numbers"]; !o.found || o.typeName != "list" || o.repr != "[1, 2, 3]" || o.reprLen != 9 || o.kind != "" ||
			!reflect.DeepEqual(o.length, &three) || !slices.Contains(o.members, "append") {
			t.Errorf("numbers: %+v", o)
		}
		if o := got["Thing"]; o.kind != "class" || o.name != "Thing" || !o.inGlobals || !reflect.DeepEqual(o.members, []string{"method", "risky"}) || o.nMembers != 2 {
			t.Errorf("Thing: %+v", o)
		}
		if o := got["thing"]; o.kind != "" || o.cellClass != "Thing" || !slices.Contains(o.members, "items") {
			t.Errorf("thing: %+v", o)
		}
		if o := got["thing.risky"]; o.property != "risky" || o.found {
			t.Errorf("thing.risky: %+v, want a property not evaluated", o)
		}
		if o := got["thing.method"]; o.kind != "function" || o.owner != "Thing" || o.name != "method" {
			t.Errorf("thing.method: %+v", o)
		}
		if o := got["helper"]; o.kind != "function" || !o.inGlobals || o.name != "helper" {
			t.Errorf("helper: %+v", o)
		}
		for _, name := range []string{"nope.x", "thing.nope"} {
			if o := got[name]; o.found || o.property != "" {
				t.Errorf("%s: %+v, want not found", name, o)
			}
		}
		if want := "False False False True\n"; outs[len(outs)-1] != want {
			t.Errorf("touched, helper names left = %q, want %q (no getter run, only __wk_inspect defined)", outs[len(outs)-1], want)
		}
	})

	t.Run("completer", func(t *testing.T) {
		const token = "\x02tok:"
		cases := []struct {
			object, prefix string
			want           []string
		}{
			{"", "numb", []string{"numbers"}},
			{"thing", "", []string{"__init__", "items", "method", "risky"}},
			{"thing", "ri", []string{"risky"}},
			{"", "__wk", nil},
			{"nope", "", nil},
			{"thing.risky", "", nil},
		}
		pieces := []string{boardNamespace, completerProgram}
		for _, c := range cases {
			pieces = append(pieces, completerCall(c.object, c.prefix, token))
		}
		pieces = append(pieces, "print(touched, '__wk_resolve' in globals(), '__wk_members' in globals())")
		outs := run(t, pieces...)
		for i, c := range cases {
			var names []string
			for _, line := range strings.Split(outs[2+i], "\n") {
				if name, ok := strings.CutPrefix(line, token); ok {
					names = append(names, name)
				}
			}
			// The members of an instance include the class's dunders the
			// port lists; the public ones and __init__ are what is checked.
			if c.object == "thing" && c.prefix == "" {
				names = slices.DeleteFunc(names, func(n string) bool { return strings.HasPrefix(n, "__") && n != "__init__" })
			}
			if !reflect.DeepEqual(names, c.want) {
				t.Errorf("complete %q %q = %q, want %q", c.object, c.prefix, names, c.want)
			}
		}
		if want := "False False False\n"; outs[len(outs)-1] != want {
			t.Errorf("touched, helper names left = %q, want %q", outs[len(outs)-1], want)
		}
	})

	t.Run("display module", func(t *testing.T) {
		cell := buildProgram(`from jupyter import display, HTML, Image, plot, clear_output
import jupyter
display(HTML('<b>\u00e9</b>'))
h = display(Image(b'\x89PNG\r\n\x1a\n' + bytes(range(250)) * 8, width=3), display_id=True)
plot(1, t=2.5)
clear_output(wait=True)
jupyter.LIMIT = 4
display(HTML('12345'))
print(h.display_id == jupyter._t[:8] + '-1')`, true, "<cell In[6] ab.6>")
		// Without the module, a cell that mentions it stops before it runs.
		missing := buildProgram("import jupyter\nprint('ran')", true, "<cell In[7] ab.7>")
		first := run(t, helperProgram, "try:\n "+string(missing.code)+"\nexcept NameError as e:\n print('raised', e)")
		if first[1] != "raised __wk_jupyter\n" {
			t.Errorf("a cell needing jupyter on a board without it printed %q", first[1])
		}
		outs := run(t, helperProgram, jupyterProgram, string(cell.code), "import jupyter\nprint(jupyter._t, jupyter.display(1), jupyter.send('x', 1))")
		outs = outs[1:]
		var frames []boardMessage
		var stdout, stderr strings.Builder
		o := newTokenOutput(cell.token, func(s string) { stdout.WriteString(s) }, nil, nil)
		o.errStream = func(s string) { stderr.WriteString(s) }
		o.message = func(frame []byte, overflow int, cut bool) {
			m, err := parseBoardMessage(frame)
			if err != nil || overflow > 0 || cut {
				t.Errorf("frame %.80q: %v (overflow %d, cut %v)", frame, err, overflow, cut)
			}
			frames = append(frames, m)
		}
		body := strings.TrimPrefix(strings.TrimSuffix(outs[1], marker(kindEnd, cell.token)), marker(kindStart, cell.token))
		o.Write([]byte(strings.ReplaceAll(body, "\r\n", "\n")))
		o.Close()
		if len(frames) != 4 {
			t.Fatalf("%d frames, want 4; printed %q", len(frames), outs[1])
		}
		payload := func(i int) string { return string(frames[i].Payload) }
		if frames[0].Kind != "display" || string(frames[0].Data) != "<b>\u00e9</b>" || !strings.Contains(payload(0), `"mime": "text/html"`) {
			t.Errorf("HTML frame %+v", frames[0])
		}
		if f := frames[1]; len(f.Data) != 2008 || f.Data[8+249] != 249 || !strings.Contains(payload(1), `"mime": "image"`) ||
			!strings.Contains(payload(1), `"meta": {"width": 3}`) || !strings.Contains(payload(1), `"id": "`+cell.token[:8]+`-1"`) {
			t.Errorf("Image frame: %d bytes, payload %s", len(f.Data), f.Payload)
		}
		if frames[2].Kind != "plot" || frames[2].HasData || !strings.Contains(payload(2), `"values": [1]`) || !strings.Contains(payload(2), `"named": {"t": 2.5}`) {
			t.Errorf("plot frame %+v %s", frames[2], frames[2].Payload)
		}
		if frames[3].Kind != "clear" || payload(3) != `{"wait": true}` {
			t.Errorf("clear frame %+v %s", frames[3], frames[3].Payload)
		}
		if want := "display refused: 5 bytes is over the limit of 4 bytes\n"; stderr.String() != want {
			t.Errorf("stderr %q, want %q", stderr.String(), want)
		}
		if stdout.String() != "True\n" {
			t.Errorf("stdout %q", stdout.String())
		}
		if want := "None None False\n"; outs[2] != want {
			t.Errorf("between cells: %q, want %q (nothing sent)", outs[2], want)
		}
	})

	t.Run("widgets module", func(t *testing.T) {
		// A cell makes widgets and sets one; between cells the kernel's
		// deliver program calls their callbacks; an id the board does not
		// have is answered with widget.gone. (A value read inside a cell
		// waits for a typed line: kernel/widget_test.go, on the simulator.)
		cell := buildProgram(`from jupyter.widgets import IntSlider, Button, Dropdown, Label
got = []
s = IntSlider(0, 1023, value=5, on_change=got.append)
b = Button(description='go', on_click=lambda w: got.append('click'))
d = Dropdown(['low', 'high'], value='high', on_change=got.append)
l = Label('hi', show=False)
s.value = 9
d.close()
print(repr(s), repr(d), l.value)`, true, "<cell In[8] ab.8>")
		deliver := buildProgram(boardpy.Call(widgetDeliver, boardpy.Str(
			`{"`+cell.token[:8]+`-1": {"value": 700}, "`+cell.token[:8]+`-2": {"clicks": 2}, "gone-1": {"value": 1}}`)), false, "<widget>")
		outs := run(t, helperProgram, jupyterProgram, string(cell.code), string(deliver.code), "print(sorted(got, key=str), s.value, b.clicks)")
		frames := func(token, printed string) (msgs []boardMessage, stdout string) {
			var text strings.Builder
			o := newTokenOutput(token, func(s string) { text.WriteString(s) }, nil, nil)
			o.message = func(frame []byte, overflow int, cut bool) {
				m, err := parseBoardMessage(frame)
				if err != nil || overflow > 0 || cut {
					t.Errorf("frame %.80q: %v", frame, err)
				}
				msgs = append(msgs, m)
			}
			body := strings.TrimPrefix(strings.TrimSuffix(printed, marker(kindEnd, token)), marker(kindStart, token))
			o.Write([]byte(body))
			o.Close()
			return msgs, text.String()
		}
		made, stdout := frames(cell.token, outs[2])
		var kinds []string
		for _, m := range made {
			kinds = append(kinds, m.Kind)
		}
		if want := "widget widget widget widget widget.set widget.close"; strings.Join(kinds, " ") != want {
			t.Fatalf("cell sent %q, want %q; printed %q", kinds, want, outs[2])
		}
		id := cell.token[:8] + "-1"
		if p := string(made[0].Payload); !strings.Contains(p, `"id": "`+id+`"`) || !strings.Contains(p, `"kind": "IntSlider"`) ||
			!strings.Contains(p, `"max": 1023`) || !strings.Contains(p, `"show": true`) {
			t.Errorf("slider frame %s", p)
		}
		if p := string(made[2].Payload); !strings.Contains(p, `"_options_labels": ["low", "high"]`) || !strings.Contains(p, `"index": 1`) {
			t.Errorf("dropdown frame %s", p)
		}
		if p := string(made[3].Payload); !strings.Contains(p, `"show": false`) {
			t.Errorf("label frame %s", p)
		}
		if p := string(made[4].Payload); !strings.Contains(p, `"state": {"value": 9}`) {
			t.Errorf("set frame %s", p)
		}
		if stdout != "IntSlider(value=9) Dropdown(value='high') hi\n" {
			t.Errorf("cell printed %q", stdout)
		}
		gone, _ := frames(deliver.token, outs[3])
		if len(gone) != 1 || gone[0].Kind != "widget.gone" || string(gone[0].Payload) != `{"id": "gone-1"}` {
			t.Errorf("deliver sent %+v", gone)
		}
		if want := "[700, 9, 'click', 'click'] 700 2\n"; outs[4] != want {
			t.Errorf("after delivery: %q, want %q", outs[4], want)
		}
	})

	t.Run("run and free memory", func(t *testing.T) {
		runCell := buildProgram(boardpy.Call(runFile, boardpy.Str("wk_runme.py")), true, "<cell In[5] ab.5>")
		outs := run(t, "f = open('wk_runme.py', 'w')\nf.write('ran = 6 * 7\\nprint(__file__ if \"__file__\" in globals() else \"-\")\\n')\nf.close()\ndel f",
			helperProgram, string(runCell.code), "print(ran)\nimport os\nos.remove('wk_runme.py')", boardFreeMemory)
		if want := marker(kindStart, runCell.token); !strings.HasPrefix(outs[2], want) || !strings.HasSuffix(outs[2], marker(kindEnd, runCell.token)) ||
			strings.Contains(outs[2], marker(kindError, runCell.token)) {
			t.Errorf("%%run cell printed %q", outs[2])
		}
		if outs[3] != "42\n" {
			t.Errorf("after %%run, ran = %q, want 42", outs[3])
		}
		if n, err := strconv.Atoi(strings.TrimSpace(outs[4])); err != nil || n <= 0 {
			t.Errorf("free memory printed %q", outs[4])
		}
	})
}
