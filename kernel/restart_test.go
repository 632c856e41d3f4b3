package kernel

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/jupyter/jupytertest"
)

const restartNotice = "Restart Kernel soft-reset the board at "

// shutdownKernel sends shutdown_request on control and waits until the
// kernel is done with it (Done), as the kernel subcommand does before it
// exits.
func shutdownKernel(t *testing.T, tk *testKernel, restart bool) {
	t.Helper()
	r := tk.request("shutdown_request", map[string]any{"restart": restart}, jupytertest.OnControl())
	if r.Type != "shutdown_reply" || r.Str("status") != "ok" || r.Content["restart"] != restart {
		t.Errorf("shutdown_reply = %v", r.Content)
	}
	select {
	case <-tk.k.Done():
	case <-time.After(waitLong):
		t.Fatal("kernel did not signal Done after shutdown_request")
	}
	tk.stop()
}

// Restart Kernel ("all variables will be lost") clears the board's RAM, not
// only the kernel process: the next kernel (same connection file, so same
// note file) finds the variable gone and the files kept, and its first
// cell says so in one line; the cells after it say nothing.
func TestRestartResetsTheBoardAndSaysSoOnce(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	note := filepath.Join(t.TempDir(), "kernel-1.json.webrepl-restart")
	withNote := configure(func(c *Config) { c.RestartNote = note })

	tk := newTestKernel(t, onBoard(board), withNote)
	if reply, _ := tk.execute("mark = 42\nwith open('kept.txt', 'w') as f:\n    f.write('kept')"); reply.Str("status") != "ok" {
		t.Fatalf("first cell: %v", reply.Content)
	}
	shutdownKernel(t, tk, true)
	if soft, hard := board.Resets(); soft != 1 || hard != 0 {
		t.Fatalf("after Restart the board saw %d soft and %d hard resets, want 1 soft", soft, hard)
	}
	// The next kernel's first cell would otherwise say "connecting to …"
	// while the board boots: wait until it serves again.
	waitUntilServing(t, board.URL(), board.Password())

	tk = newTestKernel(t, onBoard(board), withNote)
	reply, out := tk.execute("print('mark' in globals(), open('kept.txt').read())")
	if reply.Str("status") != "ok" {
		t.Fatalf("first cell after the restart: %v", reply.Content)
	}
	if got := streamText(out); got != "False kept\n" {
		t.Errorf("stdout = %q, want the variable gone and the file kept", got)
	}
	notice := streamsOf(out, "stderr")
	if !strings.HasPrefix(notice, restartNotice+board.URL()) || strings.Count(notice, "\n") != 1 ||
		!strings.Contains(notice, "variables and imports are gone") || !strings.Contains(notice, "files stay") {
		t.Errorf("notice = %q, want one line starting %q", notice, restartNotice)
	}
	if strings.Contains(notice, resetNotice) {
		t.Errorf("the reset is told twice: %q", notice)
	}
	reply, out = tk.execute("print('again')")
	if reply.Str("status") != "ok" || streamText(out) != "again\n" || streamsOf(out, "stderr") != "" {
		t.Errorf("second cell after the restart: %v %q %q", reply.Content, streamText(out), streamsOf(out, "stderr"))
	}

	// A plain shutdown keeps the board's RAM: the next kernel sees the
	// variable, and nothing is said.
	if reply, _ := tk.execute("mark = 43"); reply.Str("status") != "ok" {
		t.Fatalf("setting mark: %v", reply.Content)
	}
	shutdownKernel(t, tk, false)
	tk = newTestKernel(t, onBoard(board), withNote)
	reply, out = tk.execute("print(mark)")
	if reply.Str("status") != "ok" || streamText(out) != "43\n" || streamsOf(out, "stderr") != "" {
		t.Errorf("after a plain shutdown: %v %q %q", reply.Content, streamText(out), streamsOf(out, "stderr"))
	}
	if soft, hard := board.Resets(); soft != 1 || hard != 0 {
		t.Errorf("the plain shutdown reset the board: %d soft, %d hard resets in all", soft, hard)
	}
}

// A restart of a kernel that never reached the board resets nothing and
// says nothing; a note it got from its own predecessor is passed on.
func TestRestartWithoutBoardSessionPassesTheNoteOn(t *testing.T) {
	t.Parallel()
	board := startBoard(t)
	note := filepath.Join(t.TempDir(), "kernel-2.json.webrepl-restart")
	withNote := configure(func(c *Config) { c.RestartNote = note })
	tk := newTestKernel(t, onBoard(board), withNote)
	if reply, _ := tk.execute("mark = 1"); reply.Str("status") != "ok" {
		t.Fatalf("first cell: %v", reply.Content)
	}
	shutdownKernel(t, tk, true)
	tk = newTestKernel(t, onBoard(board), withNote)
	shutdownKernel(t, tk, true) // never ran a cell
	if soft, _ := board.Resets(); soft != 1 {
		t.Errorf("%d soft resets, want 1", soft)
	}
	waitUntilServing(t, board.URL(), board.Password())
	tk = newTestKernel(t, onBoard(board), withNote)
	_, out := tk.execute("print('mark' in globals())")
	if streamText(out) != "False\n" || !strings.HasPrefix(streamsOf(out, "stderr"), restartNotice) {
		t.Errorf("third kernel: %q %q", streamText(out), streamsOf(out, "stderr"))
	}
}
