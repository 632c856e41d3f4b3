package kernel

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"webrepl-kernel/internal/boardpy/boardpytest"
	"webrepl-kernel/serialport/serialtest"
)

// Cells over a serial link, end to end on real MicroPython: realmp's unix
// port with its REPL on a pseudo-terminal, the kernel configured with its
// serial:// address (and no password), as a notebook on a board on USB.
// The notebook does not care which link its board is on: values,
// output, tracebacks, file magics, completion and inspection.
func TestCellsOverSerialRealmp(t *testing.T) {
	bin := boardpytest.MicroPython(t) // skips when absent
	if !serialtest.Supported() {
		t.Skip("no pseudo-terminals on this system")
	}
	flash, local := t.TempDir(), t.TempDir()
	board := serialtest.StartBoard(t, []string{bin}, serialtest.Options{Dir: flash})
	tk := newTestKernel(t, withoutBoard(), configure(func(c *Config) {
		c.URL, c.Dir = "serial://"+board.Port, local
	}))

	ok := func(code string) []msg {
		t.Helper()
		reply, out := tk.execute(code)
		if reply.Str("status") != "ok" {
			t.Fatalf("cell %q: %v (outputs %v)", code, reply.Content, out)
		}
		return out
	}
	if got := streamText(ok("print('hello over USB')")); got != "hello over USB\n" {
		t.Errorf("print: %q", got)
	}
	var value string
	for _, m := range ok("x = 6 * 7\nx") {
		if m.Type == "execute_result" {
			data, _ := m.Content["data"].(map[string]any)
			value, _ = data["text/plain"].(string)
		}
	}
	if value != "42" {
		t.Errorf("Out value %q, want 42", value)
	}
	reply, _ := tk.execute("def f():\n    return 1 / 0\nf()")
	if reply.Str("status") != "error" || reply.Str("ename") != "ZeroDivisionError" {
		t.Errorf("traceback: %v", reply.Content)
	}

	// Files: %%writefile, %ls, %cat, %run, %put and %get through the raw
	// REPL, checked by SHA-256.
	ok("%%writefile greet.py\nprint('hi from a file', x)\n")
	if got := streamText(ok("%ls")); !strings.Contains(got, "greet.py") {
		t.Errorf("%%ls: %q", got)
	}
	if got := streamText(ok("%cat greet.py")); got != "print('hi from a file', x)\n" {
		t.Errorf("%%cat: %q", got)
	}
	if got := streamText(ok("%run greet.py")); got != "hi from a file 42\n" {
		t.Errorf("%%run: %q", got)
	}
	blob := bytes.Repeat([]byte{0, 1, 2, 3, 4, 0xff, '\r', '\n'}, 4000)
	if err := os.WriteFile(filepath.Join(local, "blob.bin"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := streamText(ok("%put blob.bin")); !strings.Contains(got, "SHA-256") {
		t.Errorf("%%put: %q", got)
	}
	if disk, err := os.ReadFile(filepath.Join(flash, "blob.bin")); err != nil || !bytes.Equal(disk, blob) {
		t.Fatalf("blob.bin on the board: %v, identical %v", err, bytes.Equal(disk, blob))
	}
	ok("%get blob.bin copy.bin")
	if back, err := os.ReadFile(filepath.Join(local, "copy.bin")); err != nil || !bytes.Equal(back, blob) {
		t.Fatalf("%%get: %v, identical %v", err, bytes.Equal(back, blob))
	}

	// Completion and inspection ask the board as over WebREPL.
	ok("class Sensor:\n    def read(self):\n        return 1\ns = Sensor()")
	reply = tk.request("complete_request", map[string]any{"code": "s.re", "cursor_pos": 4})
	matches, _ := reply.Content["matches"].([]any)
	if len(matches) != 1 || matches[0] != "s.read" {
		t.Errorf("completion of s.re: %v", reply.Content)
	}
	if found, text := inspectText(t, tk, "s.read", 0); !found || !strings.Contains(text, "Signature:      read()") {
		t.Errorf("inspection of s.read: %v %q", found, text)
	}
	// %board names the link's board.
	if got := streamText(ok("%board")); !strings.Contains(got, "serial://"+board.Port) || !strings.Contains(got, "1.28") {
		t.Errorf("%%board: %q", got)
	}
}
