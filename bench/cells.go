package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"webrepl-kernel/webrepl"
)

// marker is what a measured cell prints first. MicroPython compiles a whole
// cell before running any of it, so once the marker arrives the board holds
// every byte of the program: the clock of an upload stops there.
const marker = "UPLOAD-COMPLETE"

// benchCell is one cell of the tables: its code, the line that stops the
// clock and the exact output a complete cell prints.
type benchCell struct {
	Name   string
	code   string
	marker string
	want   string
}

// codeLine is line i of a made-up but ordinary notebook cell: assignments,
// comprehensions, string building, comments (about 50 bytes a line).
func codeLine(i int) string {
	switch i % 4 {
	case 0:
		return fmt.Sprintf("readings_%03d = [x * %d for x in range(%d)]  # one row", i, i%9+1, i%13+2)
	case 1:
		return fmt.Sprintf("total = total + sum(readings_%03d) * 0.0625  # scale", i-1)
	case 2:
		return fmt.Sprintf("label_%03d = 'channel %d: ' + str(total // %d)", i, i%16, i%7+1)
	default:
		return fmt.Sprintf("flag_%03d = total > %d and len(label_%03d) < 40", i, 1000+i, i-1)
	}
}

// linesCell is a cell of exactly n lines: the marker first, the end line
// last, so a cell that lost a byte anywhere fails to compile or to end.
func linesCell(n int) benchCell {
	lines := []string{fmt.Sprintf("print('%s')", marker), "total = 0"}
	for i := 0; len(lines) < n-1; i++ {
		lines = append(lines, codeLine(i))
	}
	lines = append(lines[:n-1], "print('END', len(str(total)) > 0)")
	return benchCell{
		Name:   fmt.Sprintf("%d lines", n),
		code:   strings.Join(lines, "\n") + "\n",
		marker: marker,
		want:   marker + "\nEND True\n",
	}
}

// sizeCell is the shortest such cell of at least size bytes.
func sizeCell(name string, size int) benchCell {
	for n := 3; ; n++ {
		if c := linesCell(n); len(c.code) >= size {
			c.Name = name
			return c
		}
	}
}

func benchCells() []benchCell {
	return []benchCell{
		{Name: "print(1)", code: "print(1)\n", marker: "1\n", want: "1\n"},
		linesCell(20),
		linesCell(80),
		sizeCell("8 KB", 8*1024),
	}
}

// outputClock is an io.Writer for a board's output that notes when the
// marker has arrived.
type outputClock struct {
	mu      sync.Mutex
	marker  string
	seen    bytes.Buffer
	arrived time.Time
}

func (c *outputClock) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen.Write(p)
	if c.arrived.IsZero() && strings.Contains(c.seen.String(), c.marker) {
		c.arrived = time.Now()
	}
	return len(p), nil
}

func (c *outputClock) result() (string, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen.String(), c.arrived
}

// normalise makes board output comparable: an ESP board cooks "\n" to
// "\r\n", the unix port of ../shared/realmp does not.
func normalise(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// runPaced times one cell sent in the library's paced mode (frames of 200
// bytes, 100 ms apart: docs/protocol/webrepl.md §5.5) on a fresh session.
func runPaced(ctx context.Context, b *board, cell benchCell) (time.Duration, error) {
	s, err := b.dial(ctx, webrepl.Options{Pacing: webrepl.PacingPaced})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	clock := &outputClock{marker: cell.marker}
	start := time.Now()
	res, err := s.Exec(ctx, []byte(cell.code), clock)
	if err != nil {
		return 0, fmt.Errorf("paced: %w", err)
	}
	out, at := clock.result()
	if res.Exception != nil || normalise(out) != cell.want || at.IsZero() {
		return 0, fmt.Errorf("paced %s: output %q, want %q", cell.Name, out, cell.want)
	}
	return at.Sub(start), nil
}

// seedConn is the original kernel's way of running a cell, rebuilt as the
// baseline: plain gorilla WebSocket, raw REPL, each line its own text frame
// followed by a 50 ms pause, then Ctrl-D.
type seedConn struct {
	ws     *websocket.Conn
	output chan []byte
	done   chan struct{}
	buf    []byte
}

const seedLinePause = 50 * time.Millisecond

func seedConnect(ctx context.Context, url, password string) (*seedConn, error) {
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("dialling: %w", err)
	}
	c := &seedConn{ws: ws, output: make(chan []byte, 1024), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer close(c.output)
		for {
			kind, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if kind == websocket.TextMessage {
				c.output <- data
			}
		}
	}()
	steps := []struct{ send, await string }{
		{"", "Password: "},
		{password + "\r", "WebREPL connected"},
		{"\x03", ""},
		{"\x01", "raw REPL; CTRL-B to exit\r\n>"},
	}
	for _, step := range steps {
		if step.send != "" {
			if err := ws.WriteMessage(websocket.TextMessage, []byte(step.send)); err != nil {
				c.close()
				return nil, fmt.Errorf("logging in: %w", err)
			}
		}
		if step.await != "" {
			if _, err := c.await(ctx, step.await); err != nil {
				c.close()
				return nil, fmt.Errorf("logging in: %w", err)
			}
		}
	}
	return c, nil
}

// await reads output until it holds want and returns what came before it.
func (c *seedConn) await(ctx context.Context, want string) (string, error) {
	for {
		if i := bytes.Index(c.buf, []byte(want)); i >= 0 {
			before := string(c.buf[:i])
			c.buf = c.buf[i+len(want):]
			return before, nil
		}
		select {
		case data, ok := <-c.output:
			if !ok {
				return "", fmt.Errorf("connection closed while waiting for %q", want)
			}
			c.buf = append(c.buf, data...)
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for %q: %w", want, ctx.Err())
		}
	}
}

func (c *seedConn) close() {
	c.ws.Close()
	for range c.output {
	}
	<-c.done
}

// runSeed times one cell sent the seed's way on a fresh connection.
func runSeed(ctx context.Context, b *board, cell benchCell) (time.Duration, error) {
	var c *seedConn
	err := retry(ctx, func() error {
		var err error
		c, err = seedConnect(ctx, b.url, b.password)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	defer c.close()
	start := time.Now()
	for _, line := range strings.SplitAfter(cell.code, "\n") {
		if line == "" {
			continue
		}
		if err := c.ws.WriteMessage(websocket.TextMessage, []byte(line)); err != nil {
			return 0, fmt.Errorf("seed: sending a line: %w", err)
		}
		time.Sleep(seedLinePause)
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte("\x04")); err != nil {
		return 0, fmt.Errorf("seed: sending Ctrl-D: %w", err)
	}
	if _, err := c.await(ctx, "OK"); err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	var elapsed time.Duration
	for !strings.Contains(normalise(string(c.buf)), cell.marker) {
		select {
		case data, ok := <-c.output:
			if !ok {
				return 0, fmt.Errorf("seed %s: connection closed; output so far %q", cell.Name, c.buf)
			}
			c.buf = append(c.buf, data...)
		case <-ctx.Done():
			return 0, fmt.Errorf("seed %s: %w", cell.Name, ctx.Err())
		}
	}
	elapsed = time.Since(start)
	rest, err := c.await(ctx, "\x04")
	if err != nil {
		return 0, fmt.Errorf("seed %s: %w", cell.Name, err)
	}
	errText, err := c.await(ctx, "\x04>")
	if err != nil {
		return 0, fmt.Errorf("seed %s: %w", cell.Name, err)
	}
	if got := normalise(rest); got != cell.want || errText != "" {
		return 0, fmt.Errorf("seed %s: output %q, error %q; want %q", cell.Name, got, errText, cell.want)
	}
	return elapsed, nil
}

// retry runs f until it succeeds, for up to a minute: a board turns a
// client away for a moment after the previous one left (one client at a time).
func retry(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
