//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"webrepl-kernel/handover"
	"webrepl-kernel/internal/boardpy/boardpytest"
	"webrepl-kernel/serialport"
	"webrepl-kernel/serialport/serialtest"
	"webrepl-kernel/webrepl"
)

// startSerialBoard runs realmp's MicroPython on a pseudo-terminal and
// returns its serial:// address (skipping when realmp or pseudo-terminals
// are missing).
func startSerialBoard(t *testing.T, flash string) (string, *serialtest.Board) {
	t.Helper()
	bin := boardpytest.MicroPython(t)
	if !serialtest.Supported() {
		t.Skip("no pseudo-terminals on this system")
	}
	b := serialtest.StartBoard(t, []string{bin}, serialtest.Options{Dir: flash})
	return "serial://" + b.Port, b
}

// The board commands over a serial port: no password asked (there is no
// terminal to ask on here), exec, put, get and ls as over WebREPL.
func TestBoardCommandsOverSerial(t *testing.T) {
	flash := t.TempDir()
	url, _ := startSerialBoard(t, flash)
	res := runCLI(t, nil, []byte("print('over USB', 6 * 7)\n"), "exec", "--url", url, "-")
	expectExit(t, res, 0)
	if res.stdout != "over USB 42\n" {
		t.Fatalf("exec: stdout %q, stderr %q", res.stdout, res.stderr)
	}
	data := bytes.Repeat([]byte{0, 4, 3, '\r', '\n', 0xff, 'a'}, 3000)
	local := writeFile(t, "blob.bin", data)
	expectExit(t, runCLI(t, nil, nil, "put", "--url", url, local), 0)
	if onFlash, err := os.ReadFile(filepath.Join(flash, "blob.bin")); err != nil || !bytes.Equal(onFlash, data) {
		t.Fatalf("put: the board's flash holds %d bytes (%v), want the %d put", len(onFlash), err, len(data))
	}
	back := filepath.Join(t.TempDir(), "back.bin")
	expectExit(t, runCLI(t, nil, nil, "get", "--url", url, "blob.bin", back), 0)
	if got, err := os.ReadFile(back); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get: %d bytes (%v), want the %d put", len(got), err, len(data))
	}
	// (The unix port's "/" is the host's; its flash is the current folder.)
	res = runCLI(t, nil, nil, "ls", "--url", url, ".")
	expectExit(t, res, 0)
	if !strings.Contains(res.stdout, "blob.bin") {
		t.Fatalf("ls: %q", res.stdout)
	}
	// A bare device path is a serial address too; a bad baud rate is a
	// usage error.
	expectExit(t, runCLI(t, nil, []byte("print(1)\n"), "exec", "--url", strings.TrimPrefix(url, "serial://"), "-"), 0)
	res = runCLI(t, nil, []byte("print(1)\n"), "exec", "--url", url+"?baud=fast", "-")
	expectExit(t, res, 2)
}

// Another program holding the port (a serial terminal) is named in one
// line; one of ours that holds it idle hands it over (package handover).
func TestSerialPortHeldByAnother(t *testing.T) {
	url, b := startSerialBoard(t, t.TempDir())
	other, err := serialport.Open(b.Port, 115200)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"XDG_RUNTIME_DIR=" + t.TempDir()}
	res := runCLI(t, env, []byte("print('no')\n"), "exec", "--url", url, "-")
	if res.code != 1 || !strings.Contains(res.stderr, "in use by another program") ||
		strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	other.Close()

	// A session of ours, idle, gives the port up when the command asks.
	runtime := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s, err := webrepl.Dial(ctx, url, webrepl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	claim, err := handover.New(handover.Options{Dir: filepath.Join(runtime, "webrepl-kernel"), URL: url, What: "a test notebook",
		Release: func() { s.Close(); close(released) }})
	if err != nil {
		t.Fatal(err)
	}
	defer claim.Close()
	if err := claim.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	claim.Done()
	res = runCLI(t, []string{"XDG_RUNTIME_DIR=" + runtime}, []byte("print('handed over')\n"), "exec", "--url", url, "-")
	expectExit(t, res, 0)
	if res.stdout != "handed over\n" {
		t.Fatalf("after the hand-over: stdout %q, stderr %q", res.stdout, res.stderr)
	}
	select {
	case <-released:
	default:
		t.Fatal("the holder was not asked to let go")
	}
}

// run over a serial port: kernels launched by the runner reach the board on
// its port, cell after cell, input() answered from the notebook.
func TestRunOverSerial(t *testing.T) {
	url, _ := startSerialBoard(t, t.TempDir())
	dir := t.TempDir()
	nb := writeLesson(t, dir, "usb.ipynb",
		nbCell{Source: "for i in range(3):\n    print('line', i)"},
		nbCell{Source: "x = 6 * 7\nx"},
		nbCell{Source: "1/0", Tags: []string{"raises-exception"}},
		nbCell{Source: "name = input('name? ')\nprint('hello', name)",
			Meta: map[string]any{"webrepl": map[string]any{"input": []string{"Ada"}}}},
	)
	res := runCLI(t, nil, nil, "run", "--url", url, nb)
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{"[1/4]   ok", "[3/4]   raised", "usb.ipynb: passed", "notebooks: 1 passed, 0 failed, 0 skipped\n"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
}
