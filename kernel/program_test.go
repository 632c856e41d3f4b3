package kernel

import (
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestPythonString(t *testing.T) {
	got := pythonString("a'b\\c\nd\te\x01é")
	want := `'a\'b\\c\nd\te\x01é'`
	if got != want {
		t.Errorf("pythonString = %s, want %s", got, want)
	}
}

func TestBuildProgramKeepsLineNumbers(t *testing.T) {
	p := buildProgram("x = 1\ny = 2\nx + y", true)
	if !p.wrapped {
		t.Fatal("cell with a last statement not wrapped")
	}
	if want := helperName + `('x = 1\ny = 2',2,'x + y\n',1)`; string(p.code) != want {
		t.Errorf("program = %s, want %s", p.code, want)
	}
	if p := buildProgram("x = (", true); p.wrapped || string(p.code) != "x = (" {
		t.Errorf("unreadable cell must run unchanged, got %+v", p)
	}
	if p := buildProgram("1+1", false); !strings.HasSuffix(string(p.code), ",0)") {
		t.Errorf("stdin refusal not passed on: %s", p.code)
	}
}

func TestErrorOutputDropsWrapperFrame(t *testing.T) {
	text := "Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n  File \"<stdin>\", line 6, in " + helperName + "\n  File \"<stdin>\", line 2, in <module>\nZeroDivisionError: divide by zero\n"
	ename, evalue, tb := errorOutput(boardError{Type: "ZeroDivisionError", Message: "divide by zero", Text: text}, true)
	want := []string{"Traceback (most recent call last):", "  File \"<stdin>\", line 2, in <module>", "\x1b[0;31mZeroDivisionError\x1b[0m: divide by zero"}
	if ename != "ZeroDivisionError" || evalue != "divide by zero" || !reflect.DeepEqual(tb, want) {
		t.Errorf("got %q %q %q", ename, evalue, tb)
	}
	_, _, tb = errorOutput(boardError{Type: "ValueError", Message: "x", Text: text}, false)
	if len(tb) != 5 {
		t.Errorf("unwrapped traceback lost lines: %q", tb)
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
	var merged []string // consecutive messages of one stream joined: coalescing may cut them anywhere
	for _, e := range events {
		kind, _, _ := strings.Cut(e, ":")
		if n := len(merged); n > 0 && strings.HasPrefix(merged[n-1], kind+":") && kind != "value" {
			merged[n-1] += e[len(kind)+1:]
			continue
		}
		merged = append(merged, e)
	}
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
