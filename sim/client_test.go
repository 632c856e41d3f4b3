package sim

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"webrepl-kernel/sim/internal/serving"
)

// waitLimit bounds every wait in the tests; it only decides when a test
// gives up, never what it asserts.
const waitLimit = 30 * time.Second

type wsFrame struct {
	typ  int
	data []byte
	err  error
}

// testClient is a WebREPL client built on gorilla/websocket, as another
// package's code would use it.
type testClient struct {
	t      testing.TB
	conn   *websocket.Conn
	frames chan wsFrame
	text   []byte // text received and not yet consumed by expectText
	closed error  // set once the reader has seen the end
}

func dialBoard(t testing.TB, url string) *testClient {
	t.Helper()
	c, err := tryDialBoard(t, url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return c
}

// tryDialBoard is dialBoard for callers that expect a refusal.
func tryDialBoard(t testing.TB, url string) (*testClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	c := &testClient{t: t, conn: conn, frames: make(chan wsFrame, 100000)}
	go func() {
		for {
			typ, data, err := conn.ReadMessage()
			c.frames <- wsFrame{typ: typ, data: data, err: err}
			if err != nil {
				close(c.frames)
				return
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return c, nil
}

// next returns the next frame (or the end of the connection as err).
func (c *testClient) next() wsFrame {
	c.t.Helper()
	if c.closed != nil {
		return wsFrame{err: c.closed}
	}
	select {
	case f, ok := <-c.frames:
		if !ok {
			return wsFrame{err: io.EOF}
		}
		if f.err != nil {
			c.closed = f.err
		}
		return f
	case <-time.After(waitLimit):
		c.t.Fatalf("no frame from the board within %v; text so far %q", waitLimit, c.text)
		return wsFrame{}
	}
}

// nextText returns the payload of the next frame, which must be text.
func (c *testClient) nextText() string {
	c.t.Helper()
	f := c.next()
	if f.err != nil {
		c.t.Fatalf("connection ended (%v) while a text frame was expected", f.err)
	}
	if f.typ != websocket.TextMessage {
		c.t.Fatalf("got a binary frame %q, want text", f.data)
	}
	return string(f.data)
}

// expectText reads until the text stream contains want and returns
// everything up to and including it.
func (c *testClient) expectText(want string) string {
	c.t.Helper()
	for {
		if i := bytes.Index(c.text, []byte(want)); i >= 0 {
			got := string(c.text[:i+len(want)])
			c.text = c.text[i+len(want):]
			return got
		}
		f := c.next()
		if f.err != nil {
			c.t.Fatalf("connection ended (%v) waiting for %q; text so far %q", f.err, want, c.text)
		}
		if f.typ != websocket.TextMessage {
			c.t.Fatalf("unexpected binary frame %q waiting for text %q", f.data, want)
		}
		c.text = append(c.text, f.data...)
	}
}

// expectBinary returns the next binary frame; text frames before it are
// kept for expectText.
func (c *testClient) expectBinary() []byte {
	c.t.Helper()
	for {
		f := c.next()
		if f.err != nil {
			c.t.Fatalf("connection ended (%v) waiting for a binary frame", f.err)
		}
		if f.typ == websocket.BinaryMessage {
			return f.data
		}
		c.text = append(c.text, f.data...)
	}
}

// expectEnd reads until the board closes the connection and returns the
// text received on the way.
func (c *testClient) expectEnd() string {
	c.t.Helper()
	for {
		f := c.next()
		if f.err != nil {
			got := string(c.text)
			c.text = nil
			return got
		}
		c.text = append(c.text, f.data...)
	}
}

func (c *testClient) send(typ int, data []byte) {
	c.t.Helper()
	if err := c.conn.WriteMessage(typ, data); err != nil {
		c.t.Fatalf("sending to the board: %v", err)
	}
}

func (c *testClient) sendText(s string) { c.send(websocket.TextMessage, []byte(s)) }

// login answers the password prompt and checks the board's greeting.
func (c *testClient) login(password string) {
	c.t.Helper()
	if got := c.nextText(); got != passwordPrompt {
		c.t.Fatalf("first frame %q, want %q", got, passwordPrompt)
	}
	c.sendText(password + "\r")
	if got := c.nextText(); got != connectedBanner {
		c.t.Fatalf("after the password got %q, want %q", got, connectedBanner)
	}
}

// transferRecord builds the 82-byte `<2sBBQLH64s` request.
func transferRecord(typ byte, size uint32, name string) []byte {
	rec := make([]byte, xferHeaderSize)
	copy(rec, "WA")
	rec[2] = typ
	binary.LittleEndian.PutUint32(rec[12:], size)
	binary.LittleEndian.PutUint16(rec[16:], uint16(len(name)))
	copy(rec[18:], name)
	return rec
}

// putFile uploads data the way webrepl_cli.py does: record split in two
// frames, then 1024-byte binary frames.
func (c *testClient) putFile(name string, data []byte) {
	c.t.Helper()
	rec := transferRecord(xferPut, uint32(len(data)), name)
	c.send(websocket.BinaryMessage, rec[:10])
	c.send(websocket.BinaryMessage, rec[10:])
	if got := c.expectBinary(); string(got) != statusOK {
		c.t.Fatalf("PUT status %q, want %q", got, statusOK)
	}
	for len(data) > 0 {
		n := min(1024, len(data))
		c.send(websocket.BinaryMessage, data[:n])
		data = data[n:]
	}
	if got := c.expectBinary(); string(got) != statusOK {
		c.t.Fatalf("PUT final status %q, want %q", got, statusOK)
	}
}

// getFile downloads a file, checking every chunk is at most 256 bytes.
func (c *testClient) getFile(name string) []byte {
	c.t.Helper()
	c.send(websocket.BinaryMessage, transferRecord(xferGet, 0, name))
	if got := c.expectBinary(); string(got) != statusOK {
		c.t.Fatalf("GET status %q, want %q", got, statusOK)
	}
	var data []byte
	for {
		c.send(websocket.BinaryMessage, []byte{0})
		chunk := c.expectBinary()
		if len(chunk) < 2 {
			c.t.Fatalf("GET chunk %q too short", chunk)
		}
		n := int(binary.LittleEndian.Uint16(chunk))
		if n != len(chunk)-2 || n > xferGetChunk {
			c.t.Fatalf("GET chunk announces %d bytes, carries %d (max %d)", n, len(chunk)-2, xferGetChunk)
		}
		if n == 0 {
			break
		}
		data = append(data, chunk[2:]...)
	}
	if got := c.expectBinary(); string(got) != statusOK {
		c.t.Fatalf("GET final status %q, want %q", got, statusOK)
	}
	return data
}

// rawExchange sends a raw HTTP request and returns everything the board
// answers until it closes the connection.
func rawExchange(t testing.TB, url, request string) string {
	t.Helper()
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
	conn, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(waitLimit))
	if _, err := conn.Write([]byte(request)); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := io.ReadAll(conn)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("reading the answer: %v (got %q)", err, got)
	}
	return string(got)
}

// maskedFrame builds a client frame by hand (for what gorilla refuses to send).
func maskedFrame(first byte, payload []byte) []byte {
	frame := []byte{first}
	mask := []byte{1, 2, 3, 4}
	switch {
	case len(payload) < 126:
		frame = append(frame, 0x80|byte(len(payload)))
	default:
		frame = append(frame, 0x80|126, byte(len(payload)>>8), byte(len(payload)))
	}
	frame = append(frame, mask...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	return frame
}

func startTestBoard(t testing.TB, opts Options) *Board {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if opts.Log == nil {
		opts.Log = testLog{t}
	}
	b, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("starting the board: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// testLog sends the board's log to the test log while the test runs.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// waitFor polls cond (state held by the board, no event to await) until it
// holds or the wait limit passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// redial connects again after a reset, retrying while the board boots
// (it accepts and closes connections until its server is up).
func redial(t testing.TB, url string) *testClient {
	t.Helper()
	return serving.Until(t, waitLimit, func(context.Context) (*testClient, error) { return tryDialBoard(t, url) })
}
