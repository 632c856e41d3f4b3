package webrepl

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
)

func dialConsoleBoard(t *testing.T, b *sim.Board, opts Options) *Console {
	t.Helper()
	if opts.Password == "" {
		opts.Password = b.Password()
	}
	if testing.Verbose() {
		opts.Logf = t.Logf
	}
	c := simtest.UntilServed(t, func(ctx context.Context) (*Console, error) {
		c, err := DialConsole(ctx, b.URL(), opts)
		if err != nil && !errors.Is(err, ErrBusy) && !errors.Is(err, ErrUnreachable) {
			t.Fatalf("DialConsole: %v", err)
		}
		return c, err
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// friendlyPrompt ends the banner the board's friendly REPL shows.
const friendlyPrompt = "for more information.\r\n>>> "

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
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal"})
	// As a kernel may leave it: in the raw REPL.
	s := dialBoard(t, b, Options{})
	execString(t, s, "x = 1")
	s.Close()
	c := dialConsoleBoard(t, b, Options{})
	var seen []byte
	pos := readConsoleUntil(t, c, &seen, 0, friendlyPrompt)
	if err := c.Write([]byte("print(6*7)\r")); err != nil {
		t.Fatal(err)
	}
	// Only the friendly REPL echoes what is typed.
	readConsoleUntil(t, c, &seen, pos, "print(6*7)\r\n42\r\n>>> ")
}

func TestConsolePacesAPaste(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal"})
	c := dialConsoleBoard(t, b, Options{ConsoleChunkSize: 10, ConsoleChunkGap: 5 * time.Millisecond})
	var seen []byte
	pos := readConsoleUntil(t, c, &seen, 0, ">>> ")
	paste := "# " + strings.Repeat("0123456789abcdefghi,", 10) // 202 bytes, a comment
	if err := c.Write([]byte(paste + "\r")); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(testCtx(t)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	// The echo shows every byte arrived, in order.
	readConsoleUntil(t, c, &seen, pos, paste+"\r\n>>> ")
	if st := b.TextFrames(); st.Largest > 10 {
		t.Errorf("a %d-byte frame; want at most 10 bytes per frame", st.Largest)
	}
}

func TestConsoleDefaultPacing(t *testing.T) {
	o := Options{}.withDefaults()
	if o.ConsoleChunkSize != DefaultConsoleChunkSize || o.ConsoleChunkGap != DefaultConsoleChunkGap {
		t.Errorf("defaults %d per %v, want %d per %v", o.ConsoleChunkSize, o.ConsoleChunkGap, DefaultConsoleChunkSize, DefaultConsoleChunkGap)
	}
}

func TestConsoleReconnectKeepsKeysTypedMeanwhile(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal"})
	c := dialConsoleBoard(t, b, Options{})
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
	readConsoleUntil(t, c, &seen, pos, ">>> xyz")
	if soft, hard := b.Resets(); soft != 1 || hard != 0 {
		t.Errorf("the board saw %d soft and %d hard resets, want 1 and 0", soft, hard)
	}
}

func TestConsoleReconnectStopsAtAWrongPassword(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal"})
	c := dialConsoleBoard(t, b, Options{})
	if err := b.SetPassword("changed"); err != nil {
		t.Fatal(err)
	}
	if err := c.Reconnect(testCtx(t)); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("Reconnect: %v, want ErrWrongPassword at once", err)
	}
}

func TestConsoleKeepAliveIsAnEmptyTextFrame(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal"})
	c := dialConsoleBoard(t, b, Options{KeepAlive: 10 * time.Millisecond})
	var seen []byte
	readConsoleUntil(t, c, &seen, 0, ">>> ")
	for deadline := time.Now().Add(30 * time.Second); b.TextFrames().Empty == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no empty keep-alive frame reached the board")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConsoleCloseLetsTheNextClientIn(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal"})
	c := dialConsoleBoard(t, b, Options{})
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
	dialBoard(t, b, Options{})
}
