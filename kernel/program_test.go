package kernel

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The literal encoder cells use is tested in internal/boardpy (TestStr).

// The frames of the empty token, as the legacy tests below write them.
var (
	inputStart  = marker(kindInput, "")
	inputEnd    = marker(kindInputEnd, "")
	stderrStart = marker(kindStderr, "")
	stderrEnd   = marker(kindStderrEnd, "")
)

func TestBuildProgramKeepsLineNumbers(t *testing.T) {
	p := buildProgram("x = 1\ny = 2\nx + y", true, "<cell In[1] ab.1>")
	if !p.wrapped || len(p.token) != cellTokenLength {
		t.Fatalf("cell not wrapped with a token: %+v", p)
	}
	want := helperName + "('" + p.token + `','<cell In[1] ab.1>','x = 1\ny = 2',2,'x + y\n','single',1,0)`
	if string(p.code) != want {
		t.Errorf("program = %s, want %s", p.code, want)
	}
	if string(p.marks.End) != "\x02Z"+p.token+"\x03" {
		t.Errorf("end mark %q", p.marks.End)
	}
	// A cell the host cannot read is compiled whole by the board.
	if p := buildProgram("x = (", true, "f"); !p.wrapped || !strings.Contains(string(p.code), `,'f','x = (',0,'','single',1,0)`) {
		t.Errorf("unreadable cell: %s", p.code)
	}
	if p := buildProgram("1+1", false, "f"); !strings.HasSuffix(string(p.code), ",0,0)") {
		t.Errorf("stdin refusal not passed on: %s", p.code)
	}
	if p := buildProgram("x = 1\nx + 1;", false, "f"); !strings.Contains(string(p.code), ",'exec',0,0)") {
		t.Errorf("a trailing ; must hide the value: %s", p.code)
	}
	// A cell that mentions the module jupyter needs it on the board.
	if p := buildProgram("from jupyter import plot\nplot(1)", false, "f"); !strings.HasSuffix(string(p.code), ",0,1)") {
		t.Errorf("need of jupyter not passed on: %s", p.code)
	}
	if a, b := buildProgram("1", false, "f"), buildProgram("1", false, "f"); a.token == b.token {
		t.Error("two cells got the same token")
	}
}

func TestHidesValue(t *testing.T) {
	for code, want := range map[string]bool{
		"3 + 4;": true, "3 + 4;  # note": true, "3 + 4": false, "';'": false, "x = 1;": true,
		"print(1); 2": false, "f(1,\n  2);": true, "'a' # ;": false,
	} {
		if got := hidesValue(code); got != want {
			t.Errorf("hidesValue(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestErrorOutputNamesCells(t *testing.T) {
	var cells cellSources
	first := cells.add(2, "def f(x):\n    return x / 0\n")
	second := cells.add(3, "y = 1\nf(y)")
	text := "Traceback (most recent call last):\n" +
		"  File \"<stdin>\", line 30, in " + helperFunc + "\n" +
		"  File \"" + second + "\", line 2, in <module>\n" +
		"  File \"lib.py\", line 7, in g\n" +
		"  File \"" + first + "\", line 2, in f\n" +
		"  File \"<stdin>\", line 12, in input\n" +
		"  File \"<cell In[9] 0ddba1.4>\", line 1, in h\n" +
		"ZeroDivisionError: divide by zero\n"
	ename, evalue, tb := errorOutput(boardError{Type: "ZeroDivisionError", Message: "divide by zero", Text: text}, true, &cells)
	want := []string{"Traceback (most recent call last):",
		"  Cell In[3], line 2", "    f(y)",
		`  File "lib.py", line 7, in g`,
		"  Cell In[2], line 2, in f", "    return x / 0",
		"  Cell In[9], line 1, in h", // an earlier kernel's cell: no text to quote
		"\x1b[0;31mZeroDivisionError\x1b[0m: divide by zero"}
	if ename != "ZeroDivisionError" || evalue != "divide by zero" || !reflect.DeepEqual(tb, want) {
		t.Errorf("got %q %q\n%q", ename, evalue, tb)
	}
	_, _, tb = errorOutput(boardError{Type: "ValueError", Message: "x", Text: text}, false, nil)
	if len(tb) != 8 || tb[1] != `  File "<stdin>", line 30, in `+helperFunc || tb[2] != "  Cell In[3], line 2" {
		t.Errorf("unwrapped traceback: %q", tb)
	}
}

func TestCellSourcesAreBounded(t *testing.T) {
	var cells cellSources
	first := cells.add(1, "a")
	for i := 0; i < maxKeptCells; i++ {
		cells.add(i+2, strings.Repeat("x", 100))
	}
	if _, ok := cells.source(first, 1); ok || len(cells.order) != maxKeptCells {
		t.Errorf("oldest cell kept, %d kept", len(cells.order))
	}
	big := cells.add(1000, strings.Repeat("y\n", maxKeptCellBytes))
	if _, ok := cells.source(big, 1); !ok || len(cells.order) != 1 {
		t.Errorf("a cell over the byte bound replaces the others: %d kept", len(cells.order))
	}
}

func TestTokenOutputTakesOnlyItsOwnFrames(t *testing.T) {
	token := newCellToken()
	var text, values []string
	out := newTokenOutput(token, func(s string) { text = append(text, s) }, func(s string) { values = append(values, s) },
		func(s string) { t.Errorf("input(%q) asked", s) })
	out.errStream = func(s string) { t.Errorf("stderr %q", s) }
	other := newCellToken()
	forged := "\x02R\x02old\x02E\x02" + marker(kindResult, other) + "9" + marker(kindResultEnd, other) +
		marker(kindStderr, "") + marker(kindInput, other) + "\x02R" + token[:8]
	real := marker(kindResult, token) + "42" + marker(kindResultEnd, token)
	for _, chunk := range []string{forged[:5], forged[5:], real[:3], real[3:] + "end"} {
		out.Write([]byte(chunk))
	}
	out.Close()
	if got := strings.Join(text, ""); got != forged+"end" {
		t.Errorf("text = %q, want %q", got, forged+"end")
	}
	if !reflect.DeepEqual(values, []string{"42"}) {
		t.Errorf("values = %q", values)
	}
}

func TestHelperProgramIsPython(t *testing.T) {
	// The helper's source as the board gets it (py/cell.py, compacted):
	// Python escapes for the marks and the padding, and kbd_intr(-1) first
	// in the inner finally, one statement per line.
	for _, want := range []string{"mark = lambda kind: '\\x02' + kind + token + '\\x03'\n",
		"compile('\\\\\\n' * line + last, file, mode)", "  finally:\n   kbd_intr(-1)\n"} {
		if !strings.Contains(helperProgram, want) {
			t.Errorf("helper lacks %q:\n%s", want, helperProgram)
		}
	}
}

func TestCellOutputSplitsValuesFromText(t *testing.T) {
	var mu sync.Mutex
	var events []string
	out := newCellOutput(
		func(s string) { mu.Lock(); events = append(events, "text:"+s); mu.Unlock() },
		func(s string) { mu.Lock(); events = append(events, "value:"+s); mu.Unlock() },
		func(s string) { t.Errorf("input(%q) asked", s) })
	// The marker and a UTF-8 character arrive split across writes.
	for _, chunk := range []string{"hi\n\xc3", "\xa9", resultStart[:2], resultStart[2:] + "[1, ", "2]" + resultEnd[:1], resultEnd[1:] + "tail"} {
		out.Write([]byte(chunk))
	}
	out.Close()
	joined := strings.Join(events, "|")
	if !strings.HasPrefix(joined, "text:hi\n") || !strings.Contains(joined, "value:[1, 2]") || !strings.HasSuffix(joined, "text:tail") {
		t.Errorf("events = %q", events)
	}
	var text string
	for _, e := range events {
		if s, ok := strings.CutPrefix(e, "text:"); ok {
			text += s
		}
	}
	if text != "hi\né"+"tail" {
		t.Errorf("text = %q", text)
	}
	out.Write([]byte("late"))
	if len(events) != strings.Count(joined, "|")+1 {
		t.Error("write after Close published")
	}
}

func TestDropHelperFramesWhenHelperMissing(t *testing.T) {
	lines := []string{"Traceback (most recent call last):", `  File "<stdin>", line 1, in <module>`, "NameError: name '" + helperName + "' isn't defined"}
	got := dropHelperFrames(lines)
	if len(got) != 2 || got[1] != lines[2] {
		t.Errorf("got %q", got)
	}
	if !missingHelper(boardError{Type: "NameError", Message: "name '" + helperName + "' isn't defined"}) {
		t.Error("missing helper not recognised")
	}
}

func TestCellOutputAsksForInputAndHidesTheEcho(t *testing.T) {
	var text []string
	var prompts []string
	var out *cellOutput
	out = newCellOutput(
		func(s string) { text = append(text, s) },
		func(s string) { t.Errorf("value %q", s) },
		func(p string) { prompts = append(prompts, p); out.echo = []byte("Ada\n") }) // as expectEcho, under the lock
	out.Write([]byte("before\n" + inputStart + "name? "))
	out.Write([]byte(inputEnd + "Ad"))
	out.Write([]byte("a\nhi Ada\n"))
	out.Close()
	if len(prompts) != 1 || prompts[0] != "name? " {
		t.Errorf("prompts = %q", prompts)
	}
	if got := strings.Join(text, ""); got != "before\nhi Ada\n" {
		t.Errorf("text = %q", got)
	}
	// A wrong guess about the echo loses nothing.
	text = nil
	out = newCellOutput(func(s string) { text = append(text, s) }, func(string) {}, func(string) {})
	out.expectEcho("xyz")
	out.Write([]byte("xyQ\n"))
	out.Close()
	if got := strings.Join(text, ""); got != "xyQ\n" {
		t.Errorf("text after a wrong echo guess = %q", got)
	}
}

func TestCellOutputGivesBackAnEchoGuessThatFailsAcrossWrites(t *testing.T) {
	cases := []struct {
		name   string
		writes []string
		want   string
	}{
		// Board output that starts like the echo and differs in a later write.
		{"differs later", []string{"Ad", "mirals\n"}, "Admirals\n"},
		{"differs after several writes", []string{"A", "d", "a", "!\n"}, "Ada!\n"},
		// The held bytes may begin a marker frame: it is still recognised.
		{"held bytes then a frame", []string{"A", "x" + resultStart + "1" + resultEnd}, "Ax"},
		// The cell ends while the guess is undecided: shown, not lost.
		{"undecided at close", []string{"Ad"}, "Ad"},
		// The real echo split across writes is still hidden.
		{"real echo split", []string{"Ad", "a", "\nnext\n"}, "next\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var text []string
			out := newCellOutput(func(s string) { text = append(text, s) }, func(string) {}, func(string) {})
			out.expectEcho("Ada")
			for _, w := range tc.writes {
				out.Write([]byte(w))
			}
			out.Close()
			if got := strings.Join(text, ""); got != tc.want {
				t.Errorf("text = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCellOutputSeparatesStderrInOrder(t *testing.T) {
	var mu sync.Mutex
	var events []string
	record := func(kind string) func(string) {
		return func(s string) { mu.Lock(); events = append(events, kind+s); mu.Unlock() }
	}
	out := newCellOutput(record("out:"), record("value:"), func(s string) { t.Errorf("input(%q) asked", s) })
	out.errStream = record("err:")
	// Markers split across writes; stderr text between stdout text.
	for _, chunk := range []string{"a\n" + stderrStart[:1], stderrStart[1:] + "oo", "ps\n" + stderrEnd[:2], stderrEnd[2:] + "b\n",
		stderrStart + "x" + stderrEnd + stderrStart + "y\n" + stderrEnd + resultStart + "7" + resultEnd} {
		out.Write([]byte(chunk))
	}
	out.Close()
	// Consecutive messages of one stream joined: coalescing may cut them
	// anywhere (the first piece after a quiet moment goes at once).
	mergeStreams := func(events []string) []string {
		var merged []string
		for _, e := range events {
			kind, _, _ := strings.Cut(e, ":")
			if n := len(merged); n > 0 && strings.HasPrefix(merged[n-1], kind+":") && kind != "value" {
				merged[n-1] += e[len(kind)+1:]
				continue
			}
			merged = append(merged, e)
		}
		return merged
	}
	merged := mergeStreams(events)
	want := []string{"out:a\n", "err:oops\n", "out:b\n", "err:xy\n", "value:7"}
	if strings.Join(merged, "|") != strings.Join(want, "|") {
		t.Errorf("events = %q, want %q", merged, want)
	}

	// A cell interrupted inside a stderr write: what came is still stderr.
	events = nil
	out = newCellOutput(record("out:"), record("value:"), func(string) {})
	out.errStream = record("err:")
	out.Write([]byte(stderrStart + "half" + stderrEnd[:1]))
	out.Close()
	if got := strings.Join(events, "|"); got != "err:half"+stderrEnd[:1] {
		t.Errorf("unfinished stderr frame: %q", got)
	}
}

func TestTypeableRemovesWhatTheLineEditorActsOn(t *testing.T) {
	kept, removed := typeable([]string{"a\tb\x03c", "é ok", "\x1b[A"})
	if !reflect.DeepEqual(kept, []string{"abc", "é ok", "[A"}) || removed != `'\t' '\x03' '\x1b'` {
		t.Errorf("kept %q, removed %q", kept, removed)
	}
}

// The first output after a quiet moment is published by Write itself, not
// left to the coalescing timer; what follows still arrives, in order.
func TestCellOutputSendsTheFirstPieceAtOnce(t *testing.T) {
	var mu sync.Mutex
	var got []string
	o := newTokenOutput("0123456789abcdef", func(s string) {
		mu.Lock()
		got = append(got, s)
		mu.Unlock()
	}, nil, nil)
	o.Write([]byte("first\n"))
	mu.Lock()
	first := slices.Clone(got)
	mu.Unlock()
	if !reflect.DeepEqual(first, []string{"first\n"}) {
		t.Errorf("after the first Write: %q, want it published", first)
	}
	o.Write([]byte("second\n"))
	o.Write([]byte("third\n"))
	o.Close()
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, "") != "first\nsecond\nthird\n" {
		t.Errorf("published %q", got)
	}
}
