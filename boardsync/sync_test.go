package boardsync_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/boardsync"
	"webrepl-kernel/internal/boardpy/boardpytest"
	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

func writeTree(t *testing.T, dir string, files map[string]string) {
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// boardFiles is every file below dir on the host side of the flash.
func boardFiles(t *testing.T, dir string) map[string]string {
	got := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			data, _ := os.ReadFile(p)
			got[filepath.ToSlash(rel)] = string(data)
		}
		return nil
	})
	return got
}

func TestSyncNestedTree(t *testing.T) {
	t.Parallel()
	b := simtest.Start(t, sim.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := webrepl.Dial(ctx, b.URL(), webrepl.Options{Password: b.Password()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exerciseSync(t, ctx, s, b.FlashDir(), "/proj")
}

func TestSyncNestedTreeRealmp(t *testing.T) {
	t.Parallel()
	url, flash := boardpytest.StartBoard(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := simtest.UntilServed(t, func(ctx context.Context) (*webrepl.Session, error) {
		return webrepl.Dial(ctx, url, webrepl.Options{Password: boardpytest.BoardPassword})
	})
	defer s.Close()
	// The unix port's "/" is the host's: sync relative to its flash.
	exerciseSync(t, ctx, s, flash, "proj")
}

// exerciseSync syncs a nested tree to boardDir (the folder proj below
// flashRoot on the host), changes it and syncs again.
func exerciseSync(t *testing.T, ctx context.Context, s *webrepl.Session, flashRoot, boardDir string) {
	local := t.TempDir()
	tree := map[string]string{
		"main.py":                "import app.run\n",
		"app/__init__.py":        "",
		"app/run.py":             "print('run')\n",
		"app/drivers/screen.py":  "W = 128\n",
		"app/drivers/big.bin":    strings.Repeat("\x00\xff", 6000),
		"data/deep/er/notes.txt": "hello\n",
	}
	writeTree(t, local, tree)
	writeTree(t, local, map[string]string{".git/HEAD": "x", "app/__pycache__/run.cpython.pyc": "x"})
	flash := filepath.Join(flashRoot, "proj")
	var last [2]int
	plan, err := boardsync.Sync(ctx, s, local, boardDir, boardsync.Options{}, func(d, n int) { last = [2]int{d, n} })
	if err != nil {
		t.Fatal(err)
	}
	if got := boardFiles(t, flash); len(got) != len(tree) {
		t.Errorf("board has %d files, want %d: %q", len(got), len(tree), got)
	} else {
		for name, want := range tree {
			if got[name] != want {
				t.Errorf("%s on the board: %q, want %q", name, got[name], want)
			}
		}
	}
	if !strings.HasPrefix(plan.Summary(false), "synced: 6 new, 0 changed, 0 unchanged") || last[0] != last[1] || last[1] == 0 {
		t.Errorf("first sync: %s; last progress %v", plan.Summary(false), last)
	}
	// Change one file (same size), add one, remove two locally.
	writeTree(t, local, map[string]string{"app/run.py": "print('RUN')\n", "app/new.py": "N = 1\n"})
	os.Remove(filepath.Join(local, "data/deep/er/notes.txt"))
	os.Remove(filepath.Join(local, "app/drivers/screen.py"))
	before := boardFiles(t, flash)
	plan, err = boardsync.Sync(ctx, s, local, boardDir, boardsync.Options{Delete: true, DryRun: true}, nil)
	var lines []string
	for _, c := range plan.Changes {
		lines = append(lines, c.Describe())
	}
	want := []string{
		"new      " + boardDir + "/app/new.py (6 bytes)",
		"changed  " + boardDir + "/app/run.py (13 bytes)",
		"delete   " + boardDir + "/data/deep/er/notes.txt",
		"delete   " + boardDir + "/app/drivers/screen.py",
	}
	if err != nil || strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("dry run (%v):\n%s\nwant\n%s", err, strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if after := boardFiles(t, flash); len(after) != len(before) || after["app/run.py"] != before["app/run.py"] {
		t.Error("a dry run changed the board")
	}
	if _, err = boardsync.Sync(ctx, s, local, boardDir, boardsync.Options{Delete: true}, nil); err != nil {
		t.Fatal(err)
	}
	got := boardFiles(t, flash)
	if got["app/run.py"] != "print('RUN')\n" || got["app/new.py"] != "N = 1\n" || got["data/deep/er/notes.txt"] != "" || len(got) != 5 {
		t.Errorf("after --delete: %q", got)
	}
	// Nothing to do the second time: every file is unchanged by hash.
	plan, err = boardsync.Sync(ctx, s, local, boardDir, boardsync.Options{Delete: true}, nil)
	if err != nil || !strings.HasPrefix(plan.Summary(false), "synced: 0 new, 0 changed, 5 unchanged") {
		t.Errorf("second sync: %s, %v", plan.Summary(false), err)
	}
	if data, _ := os.ReadFile(filepath.Join(flash, "app/drivers/big.bin")); !bytes.Equal(data, []byte(tree["app/drivers/big.bin"])) {
		t.Error("big.bin differs")
	}
}
