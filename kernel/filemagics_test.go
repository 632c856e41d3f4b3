package kernel

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/sim"
	"webrepl-kernel/webrepl"
)

func TestFileArgs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		raw  string
		want []string
		bad  bool
	}{
		{"", nil, false},
		{"a.py  /lib/", []string{"a.py", "/lib/"}, false},
		{`"my file.txt" 'x y'`, []string{"my file.txt", "x y"}, false},
		{`''`, []string{""}, false},
		{`"open`, nil, true},
	} {
		got, err := fileArgs(c.raw)
		if (err != nil) != c.bad || strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
			t.Errorf("fileArgs(%q) = %q, %v; want %q (error %v)", c.raw, got, err, c.want, c.bad)
		}
	}
}

func TestSplitMagicsCellMagicTakesTheRest(t *testing.T) {
	t.Parallel()
	magics, rest := splitMagics("%%writefile main.py\nimport time\n%ls\nprint(1)")
	if len(magics) != 1 || !magics[0].cellMagic || magics[0].raw != "main.py" || magics[0].body != "import time\n%ls\nprint(1)" || rest != "" {
		t.Errorf("splitMagics = %+v, rest %q", magics, rest)
	}
	magics, _ = splitMagics("%ls\n%%writefile x.py\nprint(1)")
	if len(magics) != 2 || magics[1].cellMagic {
		t.Errorf("a %%%% line after another magic is not a cell magic: %+v", magics)
	}
}

func TestFormatListing(t *testing.T) {
	t.Parallel()
	got := formatListing([]webrepl.FileInfo{{Name: "boot.py", Size: 139}, {Name: "lib", IsDir: true}, {Name: "x", Size: 4}})
	if want := "139  boot.py\n     lib/\n  4  x\n"; got != want {
		t.Errorf("formatListing = %q, want %q", got, want)
	}
	if got := formatListing(nil); got != "(empty folder)\n" {
		t.Errorf("empty listing = %q", got)
	}
}

func TestDropRunFrames(t *testing.T) {
	t.Parallel()
	tail := "  File \"m.py\", line 2, in <module>\n  File \"<stdin>\", line 3, in g\nZeroDivisionError: divide by zero\n"
	for _, c := range []struct{ text, want string }{
		// The raw program, the helper, %run's statement, then the file (and
		// a function a cell defined, which stays).
		{"Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n  File \"<stdin>\", line 18, in " + helperFunc +
			"\n  File \"<stdin>\", line 1, in <module>\n" + tail,
			"Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n  File \"<stdin>\", line 18, in " + helperFunc + "\n" + tail},
		// Without a helper frame the first frame stays, for the cell path to remove.
		{"Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n  File \"<cell>\", line 1, in <module>\n" + tail,
			"Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\n" + tail},
		// No frame of the file: unchanged.
		{"Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\nOSError: 2\n",
			"Traceback (most recent call last):\n  File \"<stdin>\", line 1, in <module>\nOSError: 2\n"},
	} {
		if got := dropRunFrames(boardError{Text: c.text}, "m.py").Text; got != c.want {
			t.Errorf("dropRunFrames:\n%s\nwant:\n%s", got, c.want)
		}
	}
}

// The file magics end to end over ZMQ against a simulated board: files
// written from a cell, listed, shown, run, copied both ways with a progress
// display, and one-line errors.
func TestFileMagicsOnTheBoard(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tk := newTestKernel(t, configure(func(c *Config) { c.Dir = dir }))

	ok := func(code string) []msg {
		t.Helper()
		reply, out := tk.execute(code)
		if reply.Str("status") != "ok" {
			t.Fatalf("%q: %v", code, reply.Content)
		}
		return out
	}
	fails := func(code, ename, contains string) {
		t.Helper()
		reply, out := tk.execute(code)
		if reply.Str("status") != "error" || reply.Str("ename") != ename || !strings.Contains(reply.Str("evalue"), contains) {
			t.Errorf("%q: %v; want %s containing %q", code, reply.Content, ename, contains)
			return
		}
		tb, _ := reply.Content["traceback"].([]any)
		if len(tb) != 1 || strings.Contains(reply.Str("evalue"), "\n") {
			t.Errorf("%q: the error is not one line: %q", code, tb)
		}
		if got := types(out); got[len(got)-1] != "error" || strings.Count(strings.Join(got, " "), "error") != 1 {
			t.Errorf("%q: outputs %v", code, got)
		}
	}

	source := "x = 6 * 7\ndef f():\n    return 1 / 0\nprint('ran', x)"
	out := ok("%%writefile wk.py\n" + source)
	if text := streamText(out); !strings.Contains(text, fmt.Sprintf("%%%%writefile wk.py: %d bytes in", len(source)+1)) || !strings.Contains(text, "verified") {
		t.Errorf("writefile printed %q", text)
	}
	if text := streamText(ok("%ls")); !strings.Contains(text, fmt.Sprintf("%d  wk.py\n", len(source)+1)) {
		t.Errorf("%%ls printed %q", text)
	}
	if text := streamText(ok("%ls wk.py")); text != fmt.Sprintf("%d  wk.py\n", len(source)+1) {
		t.Errorf("%%ls of a file printed %q", text)
	}
	if text := streamText(ok("%cat wk.py")); text != source+"\n" {
		t.Errorf("%%cat printed %q", text)
	}
	if text := streamText(ok("%%writefile -a wk2.py\nprint('one')")); !strings.HasPrefix(text, "%%writefile wk2.py: ") {
		t.Errorf("-a of a new file printed %q", text)
	}
	if text := streamText(ok("%%writefile -a wk2.py\nprint('two')")); !strings.HasPrefix(text, fmt.Sprintf("%%%%writefile -a wk2.py: %d bytes", len("print('one')\nprint('two')\n"))) {
		t.Errorf("-a printed %q", text)
	}
	if text := streamText(ok("%cat wk2.py")); text != "print('one')\nprint('two')\n" {
		t.Errorf("after -a: %q", text)
	}
	if text := streamText(ok("%run wk.py\nprint(x + 1)")); text != "ran 42\n43\n" {
		t.Errorf("%%run then a line printed %q", text)
	}
	reply, _ := tk.execute("f()")
	tb := "\n"
	for _, l := range reply.Content["traceback"].([]any) {
		tb += l.(string) + "\n"
	}
	if reply.Str("ename") != "ZeroDivisionError" || !strings.Contains(tb, `File "wk.py", line 3, in f`) {
		t.Errorf("a function %%run defined fails with:%s", tb)
	}
	ok("%%writefile bad.py\n\ny = 1\nraise ValueError('from the file')")
	reply, _ = tk.execute("%run bad.py")
	tb = "\n"
	for _, l := range reply.Content["traceback"].([]any) {
		tb += l.(string) + "\n"
	}
	if reply.Str("ename") != "ValueError" || !strings.Contains(tb, "\n  File \"bad.py\", line 3, in <module>\n") || strings.Contains(tb, "<stdin>") {
		t.Errorf("%%run of a failing file:%s", tb)
	}

	// 30 KB of random binary there and back, with a progress display.
	rng := rand.New(rand.NewPCG(9, 1))
	data := make([]byte, 30*1024)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(filepath.Join(dir, "blob.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	ok("%mkdir /data")
	out = ok("%put blob.bin /data/")
	checkProgress(t, out, "%put blob.bin → board /data/blob.bin: 30720 bytes in")
	out = ok("%get /data/blob.bin copy.bin")
	checkProgress(t, out, "%get /data/blob.bin → copy.bin: 30720 bytes in")
	if got, err := os.ReadFile(filepath.Join(dir, "copy.bin")); err != nil || !bytes.Equal(got, data) {
		t.Errorf("copy.bin differs from blob.bin (%v)", err)
	}
	if text := streamText(ok("%ls /data")); text != "30720  blob.bin\n" {
		t.Errorf("%%ls /data printed %q", text)
	}

	fails("%cat nothing.txt", "FileNotFoundError", "nothing.txt")
	fails("%put missing.bin", "FileNotFoundError", "no such local file")
	fails("%get /data/blob.bin nodir/x.bin", "FileNotFoundError", "no such local folder: nodir")
	fails("%put blob.bin /wk.py/x.bin", "NotADirectoryError", "/wk.py")
	fails("%mkdir /data", "FileExistsError", "/data")
	fails("%rm /data", "OSError", "not empty")
	fails("%ls /nowhere", "FileNotFoundError", "/nowhere")
	fails("%run /data", "IsADirectoryError", "/data")
	fails("%cat /data/blob.bin", "UnicodeError", "%get")
	fails("%put", "UsageError", "%put LOCAL [REMOTE]")
	fails("%ls -l", "UsageError", "unknown option")
	fails("%ls\n%%writefile x.py\n1", "UsageError", "first line")

	// A corrupted download is caught by the check on the board.
	if err := tk.board.SetFault(sim.FaultCorruptGet); err != nil {
		t.Fatal(err)
	}
	fails("%get /data/blob.bin bad.bin", "TransferError", "does not match")
	if _, err := os.Stat(filepath.Join(dir, "bad.bin")); err == nil {
		t.Error("a corrupted download was written")
	}
	if err := tk.board.SetFault(sim.FaultNone); err != nil {
		t.Fatal(err)
	}
	ok("%rm /data/blob.bin /data wk.py wk2.py bad.py")
	if text := streamText(ok("%ls")); strings.Contains(text, "wk.py") || strings.Contains(text, "data/") {
		t.Errorf("after %%rm: %q", text)
	}
	if text := streamText(ok("%lsmagic")); !strings.Contains(text, "%%writefile [-a] PATH") || !strings.Contains(text, "%run FILE") {
		t.Errorf("%%lsmagic: %q", text)
	}
	if text := streamText(ok("%get -h")); !strings.HasPrefix(text, "usage: %get REMOTE [LOCAL]\n") {
		t.Errorf("%%get -h: %q", text)
	}
}

// checkProgress: one display_data with a display_id, updates of that same
// display only, the last at 100%, then the one-line summary.
func checkProgress(t *testing.T, out []msg, summary string) {
	t.Helper()
	var id string
	updates := 0
	last := ""
	for _, m := range out {
		tr, _ := m.Content["transient"].(map[string]any)
		data, _ := m.Content["data"].(map[string]any)
		switch m.Type {
		case "display_data":
			if id != "" {
				t.Errorf("a second progress display")
			}
			id, _ = tr["display_id"].(string)
			last, _ = data["text/plain"].(string)
		case "update_display_data":
			if tr["display_id"] != id || id == "" {
				t.Errorf("update of display %v, the bar is %q", tr["display_id"], id)
			}
			updates++
			last, _ = data["text/plain"].(string)
		}
	}
	if id == "" || updates == 0 || !strings.Contains(last, "100%") {
		t.Errorf("progress: display %q, %d updates, last %q", id, updates, last)
	}
	if text := streamText(out); !strings.HasPrefix(text, summary) || strings.Count(text, "\n") != 1 || !strings.Contains(text, "verified") {
		t.Errorf("summary %q, want one line starting %q", text, summary)
	}
}

// An interrupted download stops at once with KeyboardInterrupt, writes no
// local file, and leaves the board usable: the link, left inside a GET, is
// replaced by the next operation.
func TestInterruptedGetLeavesTheBoardUsable(t *testing.T) {
	t.Parallel()
	// 10 ms each way: a GET asks chunk by chunk (256 bytes, one round trip
	// each), so 200 KB takes at least 16 s however fast the machine is.
	dir := t.TempDir()
	tk := newTestKernel(t, withBoard(sim.Options{Password: "secret", Profile: "ideal", Latency: 10 * time.Millisecond, ResetAfter: 20 * time.Second}),
		configure(func(c *Config) { c.Dir = dir }))
	data := bytes.Repeat([]byte("0123456789abcdef"), 200*1024/16)
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if reply, _ := tk.execute("%put big.bin"); reply.Str("status") != "ok" {
		t.Fatalf("%%put: %v", reply.Content)
	}
	id := tk.submit("%get big.bin copy.bin")
	tk.waitFor(id, "progress display", func(m msg) bool { return m.Type == "display_data" })
	tk.interrupt()
	if reply := tk.reply(id); reply.Str("status") != "error" || reply.Str("ename") != "KeyboardInterrupt" {
		t.Errorf("interrupted %%get: %v", reply.Content)
	}
	tk.outputs(id)
	if _, err := os.Stat(filepath.Join(dir, "copy.bin")); err == nil {
		t.Error("an interrupted download wrote copy.bin")
	}
	reply, out := tk.execute("%ls\nprint('alive')")
	if reply.Str("status") != "ok" || !strings.Contains(streamText(out), fmt.Sprintf("%d  big.bin\n", len(data))) ||
		!strings.HasSuffix(streamText(out), "alive\n") {
		t.Errorf("after the interrupted get: %v %q", reply.Content, streamText(out))
	}
}
