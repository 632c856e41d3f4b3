package main

// `repl`: the board's friendly REPL in the local terminal. The terminal is
// put in raw mode so every keystroke (Ctrl-C, Tab, arrows) reaches the
// board, which does its own echo and line editing; Ctrl-] (0x1d, as in
// telnet) quits. The board link, its input pacing and the reconnection
// after a drop (Ctrl-D soft reset, machine.reset(), Wi-Fi) are
// webrepl.Console's; only the terminal is handled here.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"webrepl-kernel/webrepl"
)

const replQuitKey = 0x1d // Ctrl-]

// quitFlushTimeout bounds how long Ctrl-] waits for the keys typed just
// before it to reach the board (the link may be down, and Flush would then
// wait for a reconnection).
const quitFlushTimeout = 2 * time.Second

func runRepl(ctx context.Context, fs *flag.FlagSet, args []string) (err error) {
	conn := addConnFlags(fs)
	defer conn.release() // deferred first, so after the console's Close
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usage("takes no arguments, got %d", len(pos))
	}
	if err := terminalAvailable(); err != nil {
		return err
	}
	if !isTerminal(os.Stdin) {
		return errors.New("repl needs a terminal on stdin (use exec to run a file)")
	}
	if err := conn.resolve(); err != nil {
		return err
	}
	if err := conn.holdBoard(ctx); err != nil {
		return err
	}
	dialCtx, cancel := context.WithTimeout(ctx, conn.timeout)
	console, err := webrepl.DialConsole(dialCtx, conn.url, webrepl.Options{Password: conn.password})
	cancel()
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", conn.url, err)
	}
	defer console.Close() // after the terminal is restored: Close may wait for the board
	tty, err := openTerminalInput()
	if err != nil {
		return err
	}
	// The modes belong to the terminal, not to a file descriptor: set and
	// restore them through stdin, which stays open when serveRepl closes tty.
	restore, err := makeRaw(os.Stdin)
	if err != nil {
		tty.Close()
		return err
	}
	// Restored before any error reaches main, which prints it.
	defer func() {
		if restoreErr := restore(); restoreErr != nil && err == nil {
			err = restoreErr
		}
	}()
	fmt.Fprintf(os.Stderr, "Connected to %s. Ctrl-] quits.\r\n", conn.url)
	return serveRepl(ctx, console, tty, os.Stdout, os.Stderr)
}

// serveRepl shows the board's output on out until Ctrl-], the end of the
// terminal, or ctx ends (SIGTERM/SIGINT from outside; Ctrl-C itself goes to
// the board), and reconnects after a drop. It closes tty.
func serveRepl(ctx context.Context, console *webrepl.Console, tty io.ReadCloser, out, note io.Writer) error {
	sessionCtx, quit := context.WithCancel(ctx)
	keysDone := make(chan struct{})
	var keysErr error // set by the key goroutine, read after keysDone
	go func() {
		defer close(keysDone)
		defer quit()
		keysErr = forwardKeys(sessionCtx, tty, console)
	}()
	defer func() {
		quit()
		tty.Close() // unblocks the pending read
		<-keysDone
		if keysErr != nil {
			fmt.Fprintf(note, "[%v]\r\n", keysErr)
		}
	}()
	for {
		output, err := console.Read(sessionCtx)
		switch {
		case err == nil:
			if _, err := out.Write(output); err != nil {
				return fmt.Errorf("writing board output: %w", err)
			}
			continue
		case sessionCtx.Err() != nil:
			fmt.Fprint(note, "\r\n")
			return nil
		case !errors.Is(err, webrepl.ErrLinkLost):
			return err
		}
		fmt.Fprintf(note, "\r\n[connection to the board lost; reconnecting, Ctrl-] quits]\r\n")
		if err := console.Reconnect(sessionCtx); err != nil {
			if sessionCtx.Err() != nil {
				fmt.Fprint(note, "\r\n")
				return nil // Ctrl-] or a signal while reconnecting
			}
			return fmt.Errorf("reconnecting to %s: %w", console.URL(), err)
		}
		fmt.Fprintf(note, "[reconnected]\r\n")
	}
}

// forwardKeys queues terminal input for the board until Ctrl-] or the end
// of the terminal. Before it returns it waits until what was typed has been
// sent (at Ctrl-] for at most quitFlushTimeout), so the last keys are not
// lost to the Close that follows; the error says if some were not sent.
func forwardKeys(ctx context.Context, tty io.Reader, console *webrepl.Console) error {
	buf := make([]byte, 1024)
	for {
		n, err := tty.Read(buf)
		chunk := buf[:n]
		quitAt := bytes.IndexByte(chunk, replQuitKey)
		if quitAt >= 0 {
			chunk = chunk[:quitAt]
		}
		if len(chunk) > 0 && console.Write(chunk) != nil {
			return nil // closed
		}
		if quitAt >= 0 {
			flushCtx, cancel := context.WithTimeout(ctx, quitFlushTimeout)
			defer cancel()
			return flushTyped(flushCtx, console)
		}
		if err != nil {
			return flushTyped(ctx, console)
		}
	}
}

// flushTyped waits for the queued keys to be sent. Quitting in the meantime
// (a signal, the session ending) is not worth a message.
func flushTyped(ctx context.Context, console *webrepl.Console) error {
	err := console.Flush(ctx)
	if err == nil || errors.Is(err, webrepl.ErrClosed) || errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("some typed keys were not sent to the board: %w", err)
}
