package kernel

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// %sync and %mip through the kernel: the plan lines and summary, the
// packages' lines, %mip list, and the one-line errors.
func TestSyncAndMipMagics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tk := newTestKernel(t, configure(func(c *Config) { c.Dir = dir }))
	ok, fails := magicRunner(t, tk)
	for name, text := range map[string]string{"proj/main.py": "import lib.x\n", "proj/lib/x.py": "X = 1\n"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if text := streamText(ok("%sync proj /app --dry-run")); !strings.Contains(text, "new      /app/main.py (13 bytes)\n") || !strings.Contains(text, "would sync (dry run") {
		t.Errorf("%%sync --dry-run printed %q", text)
	}
	if text := streamText(ok("%sync proj /app")); !strings.Contains(text, "synced: 2 new, 0 changed, 0 unchanged, 1 folders made") {
		t.Errorf("%%sync printed %q", text)
	}
	if got, _ := os.ReadFile(filepath.Join(tk.board.FlashDir(), "app/lib/x.py")); string(got) != "X = 1\n" {
		t.Errorf("app/lib/x.py on the board: %q", got)
	}
	fails("%sync nowhere", "FileNotFoundError", "no such local folder")
	fails("%sync proj --bogus", "UsageError", "unknown option --bogus")

	mod := []byte("def hi():\n    return 'hi'\n")
	sum := sha256.Sum256(mod)
	h := hex.EncodeToString(sum[:])[:8]
	mux := http.NewServeMux()
	mux.HandleFunc("/package/py/hello/latest.json", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"version": "0.1", "hashes": [["hello.py", %q]]}`, h)
	})
	mux.HandleFunc("/file/"+h[:2]+"/"+h, func(w http.ResponseWriter, r *http.Request) { w.Write(mod) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	text := streamText(ok("%mip install hello --no-mpy --index " + srv.URL))
	if !strings.Contains(text, "hello 0.1: 1 file(s)\n") || !strings.Contains(text, "installed 1 package(s) in /lib: 1 file(s) written") {
		t.Errorf("%%mip install printed %q", text)
	}
	if text := streamText(ok("import hello\nprint(hello.hi())")); text != "hi\n" {
		t.Errorf("the installed module printed %q", text)
	}
	if text := streamText(ok("%mip install hello --no-mpy --index " + srv.URL)); !strings.Contains(text, "0 file(s) written (0 bytes), 1 already there") {
		t.Errorf("second %%mip install printed %q", text)
	}
	if text := streamText(ok("%mip list")); !strings.Contains(text, "hello.py") {
		t.Errorf("%%mip list printed %q", text)
	}
	fails("%mip install nosuch --no-mpy --index "+srv.URL, "MipError", "no package nosuch")
	fails("%mip frobnicate", "UsageError", "unknown command")
}

// A reset between the two renames of a transfer into / leaves main.py
// under its backup name; the kernel's next connection puts it back.
func TestConnectRestoresMainPyCaughtBetweenRenames(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t)
	ok, _ := magicRunner(t, tk)
	flash := tk.board.FlashDir()
	if err := os.WriteFile(filepath.Join(flash, ".main.py.wk-old"), []byte("print('old')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(flash, ".boot.py.wk-tmp"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if text := streamText(ok("print(1)")); text != "1\n" {
		t.Errorf("the first cell printed %q: connecting is silent", text)
	}
	if got, err := os.ReadFile(filepath.Join(flash, "main.py")); err != nil || string(got) != "print('old')\n" {
		t.Errorf("main.py after connecting: %q, %v", got, err)
	}
	for _, name := range []string{".main.py.wk-old", ".boot.py.wk-tmp"} {
		if _, err := os.Stat(filepath.Join(flash, name)); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", name, err)
		}
	}
}
