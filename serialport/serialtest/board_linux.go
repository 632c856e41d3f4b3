//go:build linux

package serialtest

import (
	"bytes"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Board is a program (real MicroPython's unix port) whose console is a
// pseudo-terminal, reached through a second pseudo-terminal whose slave
// side is the board's serial port (Port). A relay carries the bytes both
// ways like a USB serial bridge; when the program exits (sys.exit(), a soft
// reset on the unix port) it is started again, as a board reboots behind
// a bridge that stays plugged in, so a client sees the boot banner.
type Board struct {
	// Port is the serial device a client opens (/dev/pts/N).
	Port string

	t       testing.TB
	argv    []string
	dir     string
	portM   *os.File // master side of Port
	portS   *os.File // held open so the master never sees a hang-up between clients
	refuse  RawPaste
	mu      sync.Mutex
	boardM  *os.File // master side of the running program's console
	cmd     *exec.Cmd
	closing bool
	starts  int
	prompt  chan struct{} // closed at the first start's first ">>> "
	wg      sync.WaitGroup
}

// RawPaste chooses how the relay treats a raw-paste request "\x05A\x01"
// (docs/protocol/webrepl.md §4.1): passed on, refused with "R\x00>" as
// firmware that knows it and declines, or turned into a lone Ctrl-A (to
// which the raw REPL answers with its banner) as firmware before 1.14.
type RawPaste int

const (
	RawPastePass RawPaste = iota
	RawPasteRefused
	RawPasteUnknown
)

// Options for StartBoard.
type Options struct {
	Dir      string // the program's working folder (the board's flash)
	RawPaste RawPaste
}

// StartBoard starts argv on a pseudo-terminal and returns once it runs;
// everything is stopped when the test ends.
func StartBoard(t testing.TB, argv []string, opts Options) *Board {
	t.Helper()
	m, s, err := OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile(s, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	if err := setRaw(slave); err != nil {
		m.Close()
		slave.Close()
		t.Fatal(err)
	}
	b := &Board{Port: s, t: t, argv: argv, dir: opts.Dir, portM: m, portS: slave, refuse: opts.RawPaste}
	prompt := make(chan struct{})
	b.prompt = prompt
	if err := b.start(); err != nil {
		m.Close()
		slave.Close()
		t.Fatal(err)
	}
	b.wg.Add(1)
	go b.toBoard()
	t.Cleanup(b.close)
	// Keys that reach the unix port before its REPL has put its terminal
	// in raw mode are lost in the line discipline (a real board has none):
	// wait for its first prompt, which it prints after that.
	select {
	case <-prompt:
	case <-time.After(time.Minute):
		t.Fatal("serialtest: the board printed no prompt within a minute")
	}
	return b
}

// Reset ends the running program as a reset button ends a board's
// firmware; it is started again and prints its banner.
func (b *Board) Reset() {
	b.mu.Lock()
	cmd := b.cmd
	b.mu.Unlock()
	_ = cmd.Process.Kill()
}

// Starts counts how often the program was started (1 + restarts).
func (b *Board) Starts() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.starts
}

func (b *Board) start() error {
	m, s, err := OpenPTY()
	if err != nil {
		return err
	}
	slave, err := os.OpenFile(s, os.O_RDWR, 0)
	if err != nil {
		m.Close()
		return err
	}
	defer slave.Close()
	if err := SetBoardMode(slave); err != nil {
		m.Close()
		return err
	}
	cmd := exec.Command(b.argv[0], b.argv[1:]...)
	cmd.Dir = b.dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	// Its own session with the pseudo-terminal as controlling terminal:
	// a Ctrl-C byte becomes SIGINT for it, as a terminal's does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		m.Close()
		return err
	}
	b.mu.Lock()
	if b.closing {
		b.mu.Unlock()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		m.Close()
		return nil
	}
	b.boardM, b.cmd = m, cmd
	b.starts++
	b.mu.Unlock()
	b.mu.Lock()
	prompt := b.prompt
	b.prompt = nil // only the first start's
	b.mu.Unlock()
	b.wg.Add(1)
	go b.fromBoard(m, cmd, prompt)
	return nil
}

// fromBoard copies the program's console to the port until the program
// ends, then starts it again unless the board is closing.
func (b *Board) fromBoard(m *os.File, cmd *exec.Cmd, prompt chan struct{}) {
	defer b.wg.Done()
	buf := make([]byte, 4096)
	var head []byte
	for {
		n, err := m.Read(buf)
		if n > 0 && prompt != nil {
			if head = append(head, buf[:n]...); bytes.Contains(head, []byte(">>> ")) {
				close(prompt)
				prompt = nil
			}
		}
		if n > 0 {
			if _, werr := b.portM.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break // EIO: the program closed its terminal (exited)
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	m.Close()
	b.mu.Lock()
	closing := b.closing
	b.mu.Unlock()
	if !closing {
		if err := b.start(); err != nil {
			b.t.Logf("serialtest: restarting the board: %v", err)
		}
	}
}

// toBoard copies what clients write on the port to the running program.
func (b *Board) toBoard() {
	defer b.wg.Done()
	buf := make([]byte, 4096)
	var carry []byte
	for {
		n, err := b.portM.Read(buf)
		if err != nil {
			return
		}
		p := append(carry, buf[:n]...)
		carry = nil
		p, carry = b.filter(p)
		b.mu.Lock()
		m := b.boardM
		b.mu.Unlock()
		if len(p) > 0 {
			_, _ = m.Write(p) // a program that just exited drops input, as a rebooting board does
		}
	}
}

var rawPasteRequest = []byte("\x05A\x01")

// filter applies Options.RawPaste; it returns the bytes to pass on and a
// tail that may be the start of a request.
func (b *Board) filter(p []byte) (out, carry []byte) {
	if b.refuse == RawPastePass {
		return p, nil
	}
	for {
		i := bytes.Index(p, rawPasteRequest)
		if i < 0 {
			break
		}
		out = append(out, p[:i]...)
		if b.refuse == RawPasteUnknown {
			out = append(out, 0x01)
		} else {
			_, _ = b.portM.Write([]byte("R\x00>"))
		}
		p = p[i+len(rawPasteRequest):]
	}
	for k := len(rawPasteRequest) - 1; k > 0; k-- {
		if len(p) >= k && bytes.Equal(p[len(p)-k:], rawPasteRequest[:k]) {
			return append(out, p[:len(p)-k]...), append([]byte(nil), p[len(p)-k:]...)
		}
	}
	return append(out, p...), nil
}

func (b *Board) close() {
	b.mu.Lock()
	b.closing = true
	cmd, m := b.cmd, b.boardM
	b.mu.Unlock()
	_ = cmd.Process.Kill()
	_ = m.Close()
	_ = b.portM.Close()
	_ = b.portS.Close()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		b.t.Errorf("serialtest: the board's relay did not stop within 30 s")
	}
}
