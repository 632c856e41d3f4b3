package webrepl

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func dialConsoleFake(t *testing.T, f *fakeBoard, opts Options) *Console {
	t.Helper()
	if opts.Password == "" {
		opts.Password = f.password
	}
	opts.Logf = t.Logf
	c, err := DialConsole(testCtx(t), f.URL(), opts)
	if err != nil {
		t.Fatalf("DialConsole: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readConsoleUntil reads the console until its output (appended to *seen)
// contains want after position from, and returns the position past it.
func readConsoleUntil(t *testing.T, c *Console, seen *[]byte, from int, want string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if i := bytes.Index((*seen)[from:], []byte(want)); i >= 0 {
			return from + i + len(want)
		}
		out, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("reading the console while waiting for %q: %v (seen %q)", want, err, (*seen)[from:])
		}
		*seen = append(*seen, out...)
	}
}

func TestConsoleGreetsAndStaysFriendly(t *testing.T) {
	f := newFakeBoard(t)
	f.set(func(f *fakeBoard) { f.mode = "raw" }) // as a kernel may leave it
	c := dialConsoleFake(t, f, Options{})
	var seen []byte
	pos := readConsoleUntil(t, c, &seen, 0, "MicroPython v1.27.0\r\n>>> ")
	if err := c.Write([]byte("abc\r")); err != nil {
		t.Fatal(err)
	}
	readConsoleUntil(t, c, &seen, pos, "abc\r\n>>> ")
	if !f.get(func(f *fakeBoard) bool { return f.mode == "friendly" }) {
		t.Error("the board left its friendly REPL")
	}
}

func TestConsolePacesAPaste(t *testing.T) {
	f := newFakeBoard(t)
	c := dialConsoleFake(t, f, Options{ConsoleChunkSize: 10, ConsoleChunkGap: 5 * time.Millisecond})
	var seen []byte
	pos := readConsoleUntil(t, c, &seen, 0, ">>> ")
	paste := strings.Repeat("0123456789abcdefghi,", 10) // 200 bytes
	if err := c.Write([]byte(paste)); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(testCtx(t)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	readConsoleUntil(t, c, &seen, pos, paste)
	var all []byte
	f.get(func(f *fakeBoard) bool {
		for _, fr := range f.frames {
			if len(fr) > 10 {
				t.Errorf("a %d-byte frame %.20q; want at most 10 bytes per frame", len(fr), fr)
			}
			all = append(all, fr...)
		}
		return true
	})
	if !bytes.Contains(all, []byte(paste)) {
		t.Errorf("the board did not receive the paste whole and in order: %q", all)
	}
}

func TestConsoleDefaultPacing(t *testing.T) {
	o := Options{}.withDefaults()
	if o.ConsoleChunkSize != DefaultConsoleChunkSize || o.ConsoleChunkGap != DefaultConsoleChunkGap {
		t.Errorf("defaults %d per %v, want %d per %v", o.ConsoleChunkSize, o.ConsoleChunkGap, DefaultConsoleChunkSize, DefaultConsoleChunkGap)
	}
}

func TestConsoleReconnectKeepsKeysTypedMeanwhile(t *testing.T) {
	f := newFakeBoard(t)
	c := dialConsoleFake(t, f, Options{})
	var seen []byte
	pos := readConsoleUntil(t, c, &seen, 0, ">>> ")
	if err := c.Write([]byte{0x04}); err != nil { // Ctrl-D at an empty prompt: soft reset
		t.Fatal(err)
	}
	var err error
	for err == nil {
		var out []byte
		out, err = c.Read(testCtx(t))
		seen = append(seen, out...)
	}
	if !errors.Is(err, ErrLinkLost) {
		t.Fatalf("Read after the soft reset: %v, want ErrLinkLost", err)
	}
	if err := c.Write([]byte("xyz")); err != nil { // typed while the link is down
		t.Fatal(err)
	}
	if err := c.Reconnect(testCtx(t)); err != nil {
		t.Fatalf("Reconnect: %v", err)
	}
	readConsoleUntil(t, c, &seen, pos, "MicroPython v1.27.0\r\n>>> xyz")
	if !f.get(func(f *fakeBoard) bool { return f.soft == 1 }) {
		t.Error("the board did not see exactly one soft reset")
	}
}

func TestConsoleReconnectStopsAtAWrongPassword(t *testing.T) {
	f := newFakeBoard(t)
	c := dialConsoleFake(t, f, Options{})
	f.set(func(f *fakeBoard) { f.password = "changed" })
	if err := c.Reconnect(testCtx(t)); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("Reconnect: %v, want ErrWrongPassword at once", err)
	}
}

func TestConsoleKeepAliveIsAnEmptyTextFrame(t *testing.T) {
	f := newFakeBoard(t)
	c := dialConsoleFake(t, f, Options{KeepAlive: 10 * time.Millisecond})
	var seen []byte
	readConsoleUntil(t, c, &seen, 0, ">>> ")
	sawEmpty := func(f *fakeBoard) bool {
		for _, fr := range f.frames {
			if len(fr) == 0 {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(10 * time.Second); !f.get(sawEmpty); {
		if time.Now().After(deadline) {
			t.Fatal("no empty keep-alive frame reached the board")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConsoleCloseLetsTheNextClientIn(t *testing.T) {
	f := newFakeBoard(t)
	c := dialConsoleFake(t, f, Options{})
	var seen []byte
	readConsoleUntil(t, c, &seen, 0, ">>> ")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v, want ErrClosed", err)
	}
	if err := c.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
	if err := c.Reconnect(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Reconnect after Close: %v, want ErrClosed", err)
	}
	dialRetryBusy(t, f.URL(), Options{Password: f.password})
}
