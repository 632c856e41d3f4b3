//go:build linux || darwin

package handover

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testURL = "ws://127.0.0.1:8266/"

func testClaim(t *testing.T, dir, what string, pid int, wait time.Duration, released *atomic.Int32, notes *[]string) *Claim {
	t.Helper()
	opts := Options{Dir: dir, URL: testURL, What: what, Logf: t.Logf}
	if released != nil {
		opts.Release = func() { released.Add(1) }
	}
	if notes != nil {
		opts.Notify = func(line string) { *notes = append(*notes, line) }
	}
	c := newClaim(opts, wait, pid)
	t.Cleanup(c.Close)
	return c
}

func TestIdleHolderLetsGo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hand")
	ctx := context.Background()
	var releasedA atomic.Int32
	a := testClaim(t, dir, "notebook a.ipynb", os.Getpid(), time.Minute, &releasedA, nil)
	b := testClaim(t, dir, "command exec x.py", os.Getppid(), time.Minute, nil, nil)
	if err := a.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if a.TookOver() {
		t.Fatalf("a took a free board, but TookOver is true")
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("folder mode: %v %v", fi.Mode(), err)
	}
	a.Done()
	if err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if releasedA.Load() != 1 || a.Held() || !b.Held() {
		t.Fatalf("released %d, a held %v, b held %v", releasedA.Load(), a.Held(), b.Held())
	}
	if !b.TookOver() {
		t.Fatalf("b took the board from a, but TookOver is false")
	}
	if who := a.TakenBy(); !strings.Contains(who, "command exec x.py") {
		t.Fatalf("TakenBy = %q", who)
	}
	if who := a.TakenBy(); who != "" {
		t.Fatalf("TakenBy told twice: %q", who)
	}
	b.Close()
	// b removed its entry on Close: a takes the board back without asking.
	if err := a.Acquire(ctx); err != nil || !a.Held() || a.TookOver() {
		t.Fatalf("a again: %v (held %v, took over %v)", err, a.Held(), a.TookOver())
	}
}

func TestBusyAndKeptHoldersAreNamed(t *testing.T) {
	for _, kept := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "hand")
		ctx := context.Background()
		var released atomic.Int32
		a := testClaim(t, dir, "notebook ~/01-hello-board.ipynb", os.Getpid(), time.Minute, &released, nil)
		// The holder describes itself; the newcomer's messages use its words.
		a.opts.Busy, a.opts.KeepHow = "the cell running in notebook ~/01-hello-board.ipynb", "%connect --keep"
		var notes []string
		b := testClaim(t, dir, "command ls", os.Getppid(), 600*time.Millisecond, nil, &notes)
		if err := a.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		if kept {
			a.SetKeep(true)
			a.Done()
		}
		err := b.Acquire(ctx)
		var busy *BusyError
		if !errors.As(err, &busy) || busy.PID != os.Getpid() || busy.Kept != kept {
			t.Fatalf("kept=%v: err = %v", kept, err)
		}
		if !strings.Contains(err.Error(), "notebook ~/01-hello-board.ipynb") || len(notes) != 1 {
			t.Fatalf("kept=%v: err %q, notes %q", kept, err, notes)
		}
		if !kept && !strings.Contains(notes[0], "waiting for the cell running in notebook ~/01-hello-board.ipynb") {
			t.Fatalf("note %q", notes[0])
		}
		if kept && (!strings.Contains(notes[0], "it keeps the board (%connect --keep)") || !strings.Contains(err.Error(), "keeps it (%connect --keep)")) {
			t.Fatalf("kept: note %q, err %q: want the holder's KeepHow", notes[0], err)
		}
		if released.Load() != 0 || !a.Held() || b.Held() {
			t.Fatalf("kept=%v: the holder let go", kept)
		}
	}
}

func TestBusyHolderFinishesWhileNewcomerWaits(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hand")
	ctx := context.Background()
	var released atomic.Int32
	a := testClaim(t, dir, "notebook a", os.Getpid(), time.Minute, &released, nil)
	var notes []string
	b := testClaim(t, dir, "notebook b", os.Getppid(), time.Minute, nil, &notes)
	if err := a.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	// The holder finishes once the newcomer has said it waits (Notify).
	notify := b.opts.Notify
	b.opts.Notify = func(line string) {
		notify(line)
		a.Done()
	}
	if err := b.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if released.Load() != 1 || len(notes) != 1 {
		t.Fatalf("released %d, notes %q", released.Load(), notes)
	}
}

func TestStaleEntryIsTaken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hand")
	if err := ensureDir(dir); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	c := testClaim(t, dir, "notebook new", os.Getpid(), time.Minute, nil, nil)
	for _, e := range []entry{
		{PID: dead, What: "notebook dead", Socket: filepath.Join(dir, "gone.sock"), URL: testURL},
		{PID: os.Getppid(), What: "notebook pid reused", Socket: filepath.Join(dir, "gone.sock"), URL: testURL},
	} {
		b, _ := json.Marshal(e)
		if err := os.WriteFile(e.Socket, nil, 0o600); err != nil { // left behind, refuses connections
			t.Fatal(err)
		}
		if err := os.WriteFile(c.entry, b, 0o600); err != nil {
			t.Fatal(err)
		}
		c.Drop()
		if err := c.Acquire(context.Background()); err != nil {
			t.Fatalf("%s: %v", e.What, err)
		}
		if _, err := os.Stat(e.Socket); !os.IsNotExist(err) {
			t.Fatalf("%s: the stale socket is still there (%v)", e.What, err)
		}
		got, _ := readEntry(c.entry)
		if got == nil || got.PID != os.Getpid() {
			t.Fatalf("%s: entry now %+v", e.What, got)
		}
	}
}

func TestWaitFromEnvRejectsGarbage(t *testing.T) {
	t.Setenv(EnvWait, "soon")
	if _, err := WaitFromEnv(); err == nil || !strings.Contains(err.Error(), EnvWait) {
		t.Fatalf("err = %v", err)
	}
	t.Setenv(EnvWait, "2s")
	if d, err := WaitFromEnv(); err != nil || d != 2*time.Second {
		t.Fatalf("%v %v", d, err)
	}
}
