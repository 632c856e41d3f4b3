//go:build unix

package sim

// The board's life: it keeps its port across reboots, reports its own
// death through Done and Err, and leaves no Node process behind.

import (
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// failingAfterFirst makes every board process after the first one come
// from broken (the first one boots normally).
func failingAfterFirst(t *testing.T, broken func() *exec.Cmd) Options {
	opts := fakeOptions(t)
	fake := opts.nodeCommand
	var started atomic.Int32
	opts.nodeCommand = func(args []string) *exec.Cmd {
		if started.Add(1) == 1 {
			return fake(args)
		}
		return broken()
	}
	return opts
}

func hostPort(url string) string {
	return strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
}

// waitDead waits until the board has died on its own and returns Err.
func waitDead(t *testing.T, b *Board) error {
	t.Helper()
	select {
	case <-b.Done():
	case <-time.After(waitLimit):
		t.Fatalf("the board did not report its death")
	}
	if _, err := net.Dial("tcp", hostPort(b.URL())); err == nil {
		t.Fatalf("a dead board still accepts connections")
	}
	return b.Err()
}

func TestBoardThatCannotBootReportsItsDeath(t *testing.T) {
	t.Parallel()
	b := startTestBoard(t, failingAfterFirst(t, func() *exec.Cmd {
		return exec.Command("sh", "-c", "echo 'main.mjs: cannot load firmware' >&2; exit 3")
	}))
	select {
	case <-b.Done():
		t.Fatalf("Done is closed while the board runs")
	default:
	}
	if err := b.Err(); err != nil {
		t.Fatalf("Err = %v while the board runs", err)
	}
	c := dialBoard(t, b.URL())
	c.login(b.Password())
	c.sendText("HARD")
	c.expectEnd()
	err := waitDead(t, b)
	if err == nil || !strings.Contains(err.Error(), "failed to boot 3 times") || !strings.Contains(err.Error(), "cannot load firmware") {
		t.Fatalf("Err = %v, want the boot failures and the process's last stderr line", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("Err is not one line: %q", err)
	}
}

func TestBoardThatCannotRestartReportsItsDeath(t *testing.T) {
	t.Parallel()
	b := startTestBoard(t, failingAfterFirst(t, func() *exec.Cmd {
		return exec.Command("/nonexistent/webrepl-sim-node")
	}))
	c := dialBoard(t, b.URL())
	c.login(b.Password())
	c.sendText("SOFT")
	c.expectEnd()
	err := waitDead(t, b)
	if err == nil || !strings.Contains(err.Error(), "restarting the board process after a soft reset") {
		t.Fatalf("Err = %v, want the failed restart", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseIsNotADeath(t *testing.T) {
	t.Parallel()
	b := startFake(t)
	b.Close()
	<-b.Done()
	if err := b.Err(); err != nil {
		t.Fatalf("Err = %v after Close, want nil", err)
	}
}

// While the board reboots its port stays bound, so no other process can
// take it, and a connection is accepted and closed at once.
func TestPortStaysBoundWhileRebooting(t *testing.T) {
	t.Parallel()
	opts := fakeOptions(t)
	opts.BootDelay = 10 * time.Minute // the reboot outlasts the test
	b := startTestBoard(t, opts)
	c := dialBoard(t, b.URL())
	c.login(b.Password())
	c.sendText("HARD")
	c.expectEnd()

	addr := hostPort(b.URL())
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Fatalf("another process could bind %s while the board rebooted", addr)
	} else if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("binding %s: %v, want EADDRINUSE", addr, err)
	}
	conn, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatalf("dial while rebooting: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(waitLimit))
	_, _ = conn.Write([]byte(upgradeRequest("Upgrade: websocket\r\nSec-WebSocket-Key: " + sampleKey + "\r\n")))
	if got, err := io.ReadAll(conn); len(got) != 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
		t.Fatalf("while rebooting the board answered %q (%v), want a closed connection", got, err)
	}
	if _, err := tryDialBoard(t, b.URL()); err == nil {
		t.Fatalf("a WebSocket client was served while the board rebooted")
	}
	select {
	case <-b.Done():
		t.Fatalf("the board died while rebooting: %v", b.Err())
	default:
	}
}

// The real board: after Close no process of any board process group
// (the current one and one replaced by a reset) is left.
func TestRealBoardCloseLeavesNoNodeProcess(t *testing.T) {
	t.Parallel()
	b, c := startReal(t, realOptions("esp32"))
	first := b.nodePID()
	c.sendText("\x04") // soft reset in the friendly REPL
	c.expectEnd()
	c = redial(t, b.URL())
	c.login(b.Password())
	second := b.nodePID()
	if first == second {
		t.Fatalf("the soft reset did not replace the board process (pid %d)", first)
	}
	if err := syscall.Kill(-second, 0); err != nil {
		t.Fatalf("the running board's process group %d: %v", second, err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pgid := range []int{first, second} {
		if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("after Close, kill(-%d, 0) = %v, want ESRCH: a Node process is left", pgid, err)
		}
	}
}
