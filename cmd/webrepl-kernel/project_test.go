//go:build linux

package main

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

// webrepl-kernel sync, mip install and put of a .py that does not compile,
// against a simulated board.
func TestSyncMipAndCheckedPutCommands(t *testing.T) {
	t.Parallel()
	flash := t.TempDir()
	board := startBoard(t, flash)
	proj := t.TempDir()
	if err := os.MkdirAll(filepath.Join(proj, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(proj, "main.py"), []byte("print(1)\n"), 0o644)
	os.WriteFile(filepath.Join(proj, "sub", "a.txt"), []byte("a"), 0o644)
	res := runCLI(t, nil, nil, append([]string{"sync", proj, "/p"}, boardArgs(board)...)...)
	expectExit(t, res, 0)
	if !strings.Contains(res.stdout, "synced: 2 new") {
		t.Errorf("sync printed %q", res.stdout)
	}
	if got, _ := os.ReadFile(filepath.Join(flash, "p", "sub", "a.txt")); string(got) != "a" {
		t.Errorf("p/sub/a.txt on the flash: %q", got)
	}
	res = runCLI(t, nil, nil, append([]string{"sync"}, boardArgs(board)...)...)
	expectExit(t, res, 2)

	mod := []byte("V = 2\n")
	sum := sha256.Sum256(mod)
	h := hex.EncodeToString(sum[:])[:8]
	mux := http.NewServeMux()
	mux.HandleFunc("/package/py/v/latest.json", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"version": "2", "hashes": [["v.py", %q]]}`, h)
	})
	mux.HandleFunc("/file/"+h[:2]+"/"+h, func(w http.ResponseWriter, r *http.Request) { w.Write(mod) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res = runCLI(t, nil, nil, append([]string{"mip", "install", "v", "-no-mpy", "-index", srv.URL}, boardArgs(board)...)...)
	expectExit(t, res, 0)
	if got, _ := os.ReadFile(filepath.Join(flash, "lib", "v.py")); string(got) != string(mod) || !strings.Contains(res.stdout, "v 2: 1 file(s)") {
		t.Errorf("mip install printed %q; lib/v.py is %q", res.stdout, got)
	}
	res = runCLI(t, nil, nil, append([]string{"mip", "install", "w", "-no-mpy", "-index", srv.URL}, boardArgs(board)...)...)
	expectExit(t, res, 1)
	if !strings.Contains(res.stderr, "no package w") || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Errorf("mip install of an unknown package: %q", res.stderr)
	}

	bad := writeFile(t, "main.py", []byte("print(2\n"))
	res = runCLI(t, nil, nil, append([]string{"put", bad, "p/main.py"}, boardArgs(board)...)...)
	expectExit(t, res, 1)
	if got, _ := os.ReadFile(filepath.Join(flash, "p", "main.py")); string(got) != "print(1)\n" || !strings.Contains(res.stderr, "line ") {
		t.Errorf("put of a syntax error: stderr %q, p/main.py now %q", res.stderr, got)
	}
	res = runCLI(t, nil, nil, append([]string{"put", "-force", bad, "p/main.py"}, boardArgs(board)...)...)
	expectExit(t, res, 0)
	if got, _ := os.ReadFile(filepath.Join(flash, "p", "main.py")); string(got) != "print(2\n" {
		t.Errorf("put -force: p/main.py is %q", got)
	}
}
