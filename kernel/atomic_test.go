package kernel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// magicRunner is ok/fails over one test kernel: a cell that must succeed,
// and one that must fail with ename and one line containing text.
func magicRunner(t *testing.T, tk *testKernel) (ok func(string) []msg, fails func(code, ename, contains string)) {
	ok = func(code string) []msg {
		t.Helper()
		reply, out := tk.execute(code)
		if reply.Str("status") != "ok" {
			t.Fatalf("%q: %v", code, reply.Content)
		}
		return out
	}
	fails = func(code, ename, contains string) {
		t.Helper()
		reply, _ := tk.execute(code)
		if reply.Str("status") != "error" || reply.Str("ename") != ename || !strings.Contains(reply.Str("evalue"), contains) {
			t.Errorf("%q: %v; want %s containing %q", code, reply.Content, ename, contains)
			return
		}
		if tb, _ := reply.Content["traceback"].([]any); len(tb) != 1 || strings.Contains(reply.Str("evalue"), "\n") {
			t.Errorf("%q: the error is not one line: %q", code, tb)
		}
	}
	return ok, fails
}

// A .py file is compiled on the board before it replaces the old one: a
// syntax error keeps main.py as it was and names the line; --force writes
// it anyway. No temporary stays on the flash.
func TestWriteFileCompilesOnTheBoardFirst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tk := newTestKernel(t, configure(func(c *Config) { c.Dir = dir }))
	ok, fails := magicRunner(t, tk)
	flash := tk.board.FlashDir()
	good := "import time\nprint('started')\n"
	ok("%%writefile main.py\n" + good)
	fails("%%writefile main.py\nimport time\n\nprint('oops'\n", "SyntaxError", "main.py, line ")
	if got, err := os.ReadFile(filepath.Join(flash, "main.py")); err != nil || string(got) != good {
		t.Errorf("after a syntax error main.py is %q (%v), want the old %q", got, err, good)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.py"), []byte("def f(:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fails("%put bad.py main.py", "SyntaxError", "unchanged")
	ok("%put --force bad.py main.py")
	if got, _ := os.ReadFile(filepath.Join(flash, "main.py")); string(got) != "def f(:\n" {
		t.Errorf("--force did not write main.py: %q", got)
	}
	ok("%%writefile --force main.py\n" + good + "x = (\n")
	if got, _ := os.ReadFile(filepath.Join(flash, "main.py")); string(got) != good+"x = (\n" {
		t.Errorf("%%%%writefile --force did not write main.py: %q", got)
	}
	entries, _ := os.ReadDir(flash)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left on the flash: %s", e.Name())
		}
	}
}
