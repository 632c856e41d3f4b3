package kernel

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// executeShown runs code and returns the reply and what the cell shows:
// its outputs without execute_input, consecutive stream messages of one
// stream as one (coalescing may cut a stream anywhere).
func executeShown(tk *testKernel, code string) (msg, []msg) {
	tk.t.Helper()
	reply, out := tk.execute(code)
	var kept []msg
	for _, m := range out {
		if n := len(kept); n > 0 && m.Type == "stream" && kept[n-1].Type == "stream" && kept[n-1].Str("name") == m.Str("name") {
			joined := map[string]any{"name": m.Str("name"), "text": kept[n-1].Str("text") + m.Str("text")}
			kept[n-1].Content = joined
			continue
		}
		if m.Type != "execute_input" {
			kept = append(kept, m)
		}
	}
	return reply, kept
}

// Board code displays through the module jupyter (py/jupyter.py) over the
// Jupyter protocol, on a simulated board: the messages, their order among
// printed text, update by display_id, clear_output.
func TestBoardCodeDisplays(t *testing.T) {
	tk := newTestKernel(t)
	reply, out := executeShown(tk, `from jupyter import display, update_display, HTML, Markdown, SVG, Image, JSON, clear_output
display(HTML('<b>hi</b>'))
print('between')
h = display(Markdown('# one'), display_id=True)
h.update(Markdown('# two'))
display(Image(b'\x89PNG\r\n\x1a\n' + bytes(range(256)) * 8, width=40))
display(JSON({'a': [1, 2]}), SVG('<svg xmlns="http://www.w3.org/2000/svg"/>'))
display(42)
update_display(HTML('<i>three</i>'), display_id=h.display_id)
clear_output(wait=True)
print('after')`)
	if reply.Str("status") != "ok" {
		t.Fatalf("reply %v; outputs %v", reply, out)
	}
	want := []string{"display_data", "stream", "display_data", "update_display_data", "display_data", "display_data",
		"display_data", "display_data", "update_display_data", "clear_output", "stream"}
	if got := types(out); !reflect.DeepEqual(got, want) {
		t.Fatalf("outputs %q, want %q\n%v", got, want, out)
	}
	data := func(i int) map[string]any { return out[i].Content["data"].(map[string]any) }
	if d := data(0); d["text/html"] != "<b>hi</b>" || d["text/plain"] != "<HTML>" {
		t.Errorf("HTML display: %v", d)
	}
	if s := streamText(out); s != "between\nafter\n" {
		t.Errorf("stdout %q", s)
	}
	id := out[2].Content["transient"].(map[string]any)["display_id"]
	if id == nil || id == "" || data(2)["text/markdown"] != "# one" {
		t.Errorf("display with an id: %v", out[2].Content)
	}
	if u := out[3].Content; u["transient"].(map[string]any)["display_id"] != id || data(3)["text/markdown"] != "# two" {
		t.Errorf("update: %v, want display_id %v", u, id)
	}
	png, _ := base64.StdEncoding.DecodeString(data(4)["image/png"].(string))
	if len(png) != 8+256*8 || png[8+255] != 255 || data(4)["text/plain"] != "<PNG image, 2056 bytes>" {
		t.Errorf("PNG display: %d bytes, %v", len(png), data(4)["text/plain"])
	}
	if md := out[4].Content["metadata"].(map[string]any); !reflect.DeepEqual(md, map[string]any{"image/png": map[string]any{"width": 40.0}}) {
		t.Errorf("PNG metadata %v", md)
	}
	if !reflect.DeepEqual(data(5)["application/json"], map[string]any{"a": []any{1.0, 2.0}}) {
		t.Errorf("JSON display: %v", data(5))
	}
	if data(6)["image/svg+xml"] != `<svg xmlns="http://www.w3.org/2000/svg"/>` {
		t.Errorf("SVG display: %v", data(6))
	}
	if d := data(7); !reflect.DeepEqual(d, map[string]any{"text/plain": "42"}) {
		t.Errorf("display(42): %v", d)
	}
	if u := out[8].Content; u["transient"].(map[string]any)["display_id"] != id || data(8)["text/html"] != "<i>three</i>" {
		t.Errorf("update_display: %v", u)
	}
	if out[9].Content["wait"] != true {
		t.Errorf("clear_output %v, want wait", out[9].Content)
	}

	// Between cells the module sends nothing (no cell to show it in).
	_, out = executeShown(tk, "def later():\n    return display(HTML('x'))")
	if len(out) != 0 {
		t.Errorf("defining: %v", out)
	}
	reply, out = executeShown(tk, "later()")
	if reply.Str("status") != "ok" || !reflect.DeepEqual(types(out), []string{"display_data"}) {
		t.Errorf("a function of an earlier cell displays in the running cell: %v %v", reply, out)
	}
}

// The module jupyter is put on the board by the first cell that mentions
// it; code that imports it before is told how to get it.
func TestJupyterModuleDefinedOnDemand(t *testing.T) {
	tk := newTestKernel(t)
	reply, out := executeShown(tk, "import sys\nprint('jupy' + 'ter' in sys.modules)\n__import__('jupy' + 'ter')")
	if reply.Str("status") != "error" || streamText(out) != "False\n" ||
		!strings.Contains(fmt.Sprint(reply.Content["traceback"]), "run `import jupyter` in a cell first") {
		t.Errorf("import before any cell mentioned jupyter: %v %v", reply, out)
	}
	reply, out = executeShown(tk, "import jupyter\nprint(jupyter._t is not None)")
	if reply.Str("status") != "ok" || streamText(out) != "True\n" {
		t.Errorf("a cell that mentions jupyter: %v %v", reply, out)
	}
}

// Printed text that looks like a message frame, with a made-up token or
// the token of an earlier cell, is text: it creates no display.
func TestForgedMessageFrameCreatesNothing(t *testing.T) {
	tk := newTestKernel(t)
	reply, _ := executeShown(tk, "import jupyter\nold = jupyter._t")
	if reply.Str("status") != "ok" {
		t.Fatalf("reply %v", reply)
	}
	reply, out := executeShown(tk, `import jupyter
frame = 'display {"mime": "text/html", "id": null, "update": false, "meta": {}}\nPGI+\n'
for token in ('0123456789abcdef', old):
    print('\x02M' + token + '\x03' + frame + '\x02N' + token + '\x03')
print('\x02M' + old + '\x03clear {"wait": false}\x02N' + old + '\x03')
print(jupyter._t is None, old is None)`)
	if reply.Str("status") != "ok" {
		t.Fatalf("reply %v; outputs %v", reply, out)
	}
	for _, m := range out {
		if m.Type != "stream" {
			t.Errorf("forged frame made %s: %v", m.Type, m.Content)
		}
	}
	text := streamText(out)
	if strings.Count(text, "PGI+") != 2 || !strings.Contains(text, "clear {") || !strings.HasSuffix(text, "False False\n") {
		t.Errorf("the forged frames should print as text: %q", text)
	}
}

// A display over the limit is refused in one line, by the board (it knows
// the size before sending) or by the kernel (a frame longer than its bound),
// and the cell keeps running.
func TestOversizeDisplayRefusedInOneLine(t *testing.T) {
	tk := newTestKernel(t)
	reply, out := executeShown(tk, `import jupyter, os
from jupyter import display, Image
with open('wk_big.bin', 'wb') as f:
    f.write(b'\x89PNG\r\n\x1a\n')
    chunk = bytes(4096)
    for i in range(257):
        f.write(chunk)
display(Image(filename='wk_big.bin'))
print('still running')
jupyter.LIMIT = 2 << 20
display(Image(filename='wk_big.bin'))
print('and still')
os.remove('wk_big.bin')`)
	if reply.Str("status") != "ok" {
		t.Fatalf("reply %v; outputs %v", reply, out)
	}
	if got, want := types(out), []string{"stream", "stream", "stream", "stream"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("outputs %q, want %q: %v", got, want, out)
	}
	stderr := streamsOf(out, "stderr")
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "display refused: 1052680 bytes is over the limit of 1048576 bytes") ||
		!strings.Contains(lines[1], "refused") || !strings.Contains(lines[1], "1048576") {
		t.Errorf("stderr %q, want one line from the board and one from the kernel", stderr)
	}
	t.Logf("stderr: %q", stderr)
	if s := streamText(out); s != "still running\nand still\n" {
		t.Errorf("stdout %q", s)
	}
}

// %%plot plots printed lines of numbers and name=value pairs, shows the
// other lines, and leaves the last points drawn when the cell ends.
func TestPlotMagicPlotsPrintedNumbers(t *testing.T) {
	tk := newTestKernel(t)
	start := time.Now()
	reply, out := executeShown(tk, "%%plot --points 50\nfor i in range(100):\n    print(i, i * i)\nprint('done')\nprint('temp=1.5, light: 3')")
	elapsed := time.Since(start)
	if reply.Str("status") != "ok" {
		t.Fatalf("reply %v; outputs %v", reply, out)
	}
	if s := streamText(out); s != "done\n" {
		t.Errorf("stdout %q, want only the text line", s)
	}
	var first, last msg
	updates := 0
	for _, m := range out {
		switch m.Type {
		case "display_data":
			if first.Type != "" {
				t.Errorf("a second display_data: %v", m)
			}
			first, last = m, m
		case "update_display_data":
			updates++
			last = m
		}
	}
	if first.Type == "" {
		t.Fatalf("no chart: %q", types(out))
	}
	id := first.Content["transient"].(map[string]any)["display_id"]
	if last.Content["transient"].(map[string]any)["display_id"] != id {
		t.Errorf("updates of another display: %v vs %v", last.Content["transient"], id)
	}
	// At most one drawing per plotInterval (and the last one).
	if max := int(elapsed/plotInterval) + 2; updates+1 > max {
		t.Errorf("%d drawings in %v, over one per %v", updates+1, elapsed, plotInterval)
	}
	data := last.Content["data"].(map[string]any)
	if s := data["text/plain"]; s != "<plot of 101 points: y1=99 y2=9801 temp=1.5 light=3>" {
		t.Errorf("last chart's text %q", s)
	}
	svg, _ := data["image/svg+xml"].(string)
	for _, label := range []string{">y1 = 99<", ">y2 = 9801<", ">temp = 1.5<", ">light = 3<", "<polyline"} {
		if !strings.Contains(svg, label) {
			t.Errorf("the SVG lacks %q", label)
		}
	}

	reply, out = executeShown(tk, "%%plot --points 1\n1")
	if reply.Str("status") != "error" || !strings.Contains(reply.Str("evalue"), "usage: %%plot") {
		t.Errorf("bad --points: %v %v", reply, out)
	}
}

// Board code's plot() draws one chart per cell.
func TestBoardPlotCall(t *testing.T) {
	tk := newTestKernel(t)
	reply, out := executeShown(tk, "from jupyter import plot\nfor i in range(30):\n    plot(i, temp=i / 2)\nprint(i)")
	if reply.Str("status") != "ok" {
		t.Fatalf("reply %v; outputs %v", reply, out)
	}
	ts := types(out)
	if len(ts) < 2 || ts[0] != "display_data" || streamText(out) != "29\n" {
		t.Fatalf("outputs %q", ts)
	}
	last := out[len(out)-1]
	for i := len(out) - 1; i >= 0 && last.Type == "stream"; i-- {
		last = out[i]
	}
	if s := last.Content["data"].(map[string]any)["text/plain"]; s != "<plot of 30 points: y1=29 temp=14.5>" {
		t.Errorf("last chart %q (%q)", s, ts)
	}
}
