//go:build linux

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"webrepl-kernel/sim"
)

// A foreign client (here a plain WebSocket client, as a browser WebREPL page
// is) holds the board: the CLI says so and how to free the board, and does
// not wait for a hand-over that cannot come.
func TestForeignClientIsNamed(t *testing.T) {
	t.Parallel()
	board := startBoard(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, board.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var got strings.Builder
	for !strings.Contains(got.String(), "Password: ") {
		_ = ws.SetReadDeadline(time.Now().Add(testTimeout))
		_, p, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("foreign client: %v (got %q)", err, got.String())
		}
		got.Write(p)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(board.Password()+"\r")); err != nil {
		t.Fatal(err)
	}
	env := []string{"XDG_RUNTIME_DIR=" + t.TempDir()}
	res := runCLI(t, env, []byte("print('no')\n"), append([]string{"exec"}, append(boardArgs(board), "-")...)...)
	if res.code != 1 || !strings.Contains(res.stderr, "another WebREPL client is connected (Thonny") ||
		!strings.Contains(res.stderr, "reset button") || strings.Contains(res.stderr, "waiting for") ||
		strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
}

// A board that sends garbage instead of the password prompt gets a cause of
// its own, never "another client".
func TestGarbageIsNotAnotherClient(t *testing.T) {
	t.Parallel()
	board := startBoard(t, t.TempDir())
	if err := board.SetFault(sim.FaultGarbageFrames); err != nil {
		t.Fatal(err)
	}
	env := []string{"XDG_RUNTIME_DIR=" + t.TempDir()}
	res := runCLI(t, env, []byte("print('no')\n"), append([]string{"exec", "--connect-timeout", "20s"}, append(boardArgs(board), "-")...)...)
	if res.code != 1 || strings.Contains(res.stderr, "another") || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	t.Logf("garbage: %s", strings.TrimSpace(res.stderr))
}
