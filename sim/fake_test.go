package sim

// Network-side tests against a fake board process (this test binary in
// fake mode), so that the WebREPL layer is checked independently of the
// interpreter. The real board is exercised in board_test.go.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"webrepl-kernel/sim/internal/serving"
)

const fakeBoardEnv = "WEBREPL_SIM_FAKE_BOARD"

func TestMain(m *testing.M) {
	if os.Getenv(fakeBoardEnv) == "1" {
		runFakeBoard(os.Args[1:])
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runFakeBoard speaks the pipe protocol: it echoes input and obeys a few
// words that make it send the other message types.
func runFakeBoard(args []string) {
	out := bufio.NewWriter(os.Stdout)
	send := func(typ byte, payload []byte) {
		var head [5]byte
		head[0] = typ
		binary.BigEndian.PutUint32(head[1:], uint32(len(payload)))
		out.Write(head[:])
		out.Write(payload)
		out.Flush()
	}
	send(msgOutput, []byte("fake board "+strings.Join(args, " ")+"\r\n>>> "))
	send(msgBooted, nil)
	in := bufio.NewReader(os.Stdin)
	busy := false
	for {
		m, err := readNodeMessage(in)
		if err != nil || m.typ == msgQuit {
			return
		}
		if busy {
			// A program that neither sleeps nor prints: a Ctrl-C is read
			// and reported, but never stops it.
			if bytes.IndexByte(m.payload, 0x03) >= 0 {
				send(msgBusy, []byte{1, 1})
			}
			continue
		}
		text := string(m.payload)
		switch {
		case strings.Contains(text, "SOFT"):
			send(msgOutput, []byte("OK\r\n"))
			send(msgSoftReset, nil)
		case strings.Contains(text, "HARD"):
			send(msgHardReset, nil)
		case strings.Contains(text, "PIN"):
			send(msgPeripheral, []byte(`{"pin":2,"value":1}`))
			send(msgOutput, []byte("pin set"))
		case strings.Contains(text, "BUSY"):
			busy = true
			send(msgBusy, []byte{1})
			send(msgOutput, []byte("busy"))
		case strings.Contains(text, "DROP"):
			send(msgDropped, []byte{0, 0, 0, 7})
			send(msgOutput, []byte("dropped"))
		case strings.Contains(text, "BIG"):
			send(msgOutput, bytes.Repeat([]byte("x"), 70000))
		case strings.Contains(text, "RAW"):
			send(msgOutput, []byte("\r\nraw REPL; CTRL-B to exit\r\n>"))
		default:
			send(msgOutput, m.payload)
		}
	}
}

func fakeOptions(t testing.TB) Options {
	return Options{
		Profile:    "ideal",
		BootDelay:  20 * time.Millisecond,
		ResetAfter: 300 * time.Millisecond,
		nodeCommand: func(args []string) *exec.Cmd {
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), fakeBoardEnv+"=1")
			return cmd
		},
	}
}

func startFake(t *testing.T) *Board {
	return startTestBoard(t, fakeOptions(t))
}

// rawConn is a TCP connection that speaks WebSocket by hand.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t *testing.T, url, request string) *rawConn {
	t.Helper()
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
	conn, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(waitLimit))
	if _, err := conn.Write([]byte(request)); err != nil {
		t.Fatalf("write: %v", err)
	}
	return &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (c *rawConn) readN(n int) []byte {
	c.t.Helper()
	buf := make([]byte, n)
	if _, err := io.ReadFull(c.r, buf); err != nil {
		c.t.Fatalf("reading %d bytes: %v (got %q)", n, err, buf)
	}
	return buf
}

func (c *rawConn) write(p []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(p); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// readFrame reads one board frame: header byte and payload.
func (c *rawConn) readFrame() (byte, []byte) {
	c.t.Helper()
	head := c.readN(2)
	n := int(head[1])
	if head[1]&0x80 != 0 {
		c.t.Fatalf("board frame is masked: % x", head)
	}
	if n == 126 {
		ext := c.readN(2)
		n = int(binary.BigEndian.Uint16(ext))
	}
	return head[0], c.readN(n)
}

// expectEOF checks the board closes the connection with nothing more.
func (c *rawConn) expectEOF() {
	c.t.Helper()
	rest, err := io.ReadAll(c.r)
	if err != nil {
		c.t.Fatalf("waiting for the board to close: %v", err)
	}
	if len(rest) != 0 {
		c.t.Fatalf("board sent %q before closing, want nothing", rest)
	}
}

const sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

func upgradeRequest(headers string) string {
	return "GET / HTTP/1.1\r\nHost: board\r\n" + headers + "\r\n"
}

func TestHandshakeByteExact(t *testing.T) {
	t.Parallel()
	b := startFake(t)
	c := dialRaw(t, b.URL(), upgradeRequest("Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: "+sampleKey+"\r\n"))
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n" +
		"\x81\x0aPassword: "
	if got := string(c.readN(len(want))); got != want {
		t.Fatalf("handshake answer\n got %q\nwant %q", got, want)
	}
}

func TestHandshakeRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, headers string
		upgrade       bool
	}{
		{"canonical Go casing", "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-Websocket-Key: k\r\n", false},
		{"lower-case Upgrade token", "Connection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n", false},
		{"Upgrade value capitalised", "Connection: Upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Key: k\r\n", false},
		{"no Connection", "Upgrade: websocket\r\nSec-WebSocket-Key: k\r\n", false},
		{"no key", "Connection: Upgrade\r\nUpgrade: websocket\r\n", false},
		{"keep-alive, Upgrade", "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: foo\r\n", true},
		{"spaces and odd key", "Connection:   Upgrade  \r\nUpgrade:websocket\r\nSec-WebSocket-Key:  not base64 \r\nX-Other: 1\r\n", true},
	}
	b := startFake(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.upgrade {
				if got := rawExchange(t, b.URL(), upgradeRequest(tc.headers)); got != htmlFallbackReply {
					t.Fatalf("got %q, want the HTML page", got)
				}
				return
			}
			// An upgraded client holds the board's only slot: use a board of its own.
			c := dialRaw(t, startFake(t).URL(), upgradeRequest(tc.headers))
			want := handshakeReplyPrefix
			if got := string(c.readN(len(want))); got != want {
				t.Fatalf("got %q, want a 101", got)
			}
			c.readN(28 + 4)
			if op, p := c.readFrame(); op != 0x81 || string(p) != passwordPrompt {
				t.Fatalf("got %x %q, want the password prompt", op, p)
			}
		})
	}
}

func TestHandshakeWithoutColonIsAbandoned(t *testing.T) {
	t.Parallel()
	b := startFake(t)
	first := dialBoard(t, b.URL())
	first.login(b.Password())
	got := rawExchange(t, b.URL(), upgradeRequest("Connection: Upgrade\r\nUpgrade: websocket\r\nbroken header line\r\n"))
	if got != "" {
		t.Fatalf("board answered %q to a header without a colon; want nothing", got)
	}
	// The exception is printed on the board's consoles, this session's too.
	first.expectText("ValueError: need more than 1 values to unpack\r\n")
}

func TestPasswordPipelinedBehindRequest(t *testing.T) {
	t.Parallel()
	b := startFake(t)
	req := upgradeRequest("Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: foo\r\n")
	c := dialRaw(t, b.URL(), req+string(maskedFrame(0x81, []byte(b.Password()+"\r"))))
	c.readN(len(handshakeReplyPrefix) + 28 + 4)
	if op, p := c.readFrame(); op != 0x81 || string(p) != passwordPrompt {
		t.Fatalf("got %x %q, want the prompt", op, p)
	}
	if op, p := c.readFrame(); op != 0x81 || string(p) != connectedBanner {
		t.Fatalf("got %x %q, want %q", op, p, connectedBanner)
	}
}

func TestPasswordStateMachine(t *testing.T) {
	t.Parallel()
	b := startFake(t)
	t.Run("wrong", func(t *testing.T) {
		c := dialUntilPrompt(t, b)
		c.sendText("wrong\r")
		if got := c.expectEnd(); got != accessDenied {
			t.Fatalf("got %q, want %q then the end", got, accessDenied)
		}
		if ce, ok := c.closed.(*websocket.CloseError); ok && ce.Code != websocket.CloseAbnormalClosure {
			t.Fatalf("board sent a close frame after Access denied; it must just drop TCP")
		}
	})
	t.Run("too long", func(t *testing.T) {
		c := dialUntilPrompt(t, b)
		c.sendText(b.Password() + "12345\r")
		if got := c.expectEnd(); got != accessDenied {
			t.Fatalf("got %q, want %q", got, accessDenied)
		}
	})
	t.Run("split, LF, trailing input", func(t *testing.T) {
		c := dialUntilPrompt(t, b)
		c.sendText(b.Password()[:3])
		c.sendText(b.Password()[3:] + "\nhello")
		if got := c.nextText(); got != connectedBanner {
			t.Fatalf("got %q", got)
		}
		// Output produced before the login was discarded; the bytes after
		// the terminator are REPL input.
		if got := c.nextText(); got != "hello" {
			t.Fatalf("REPL input after the password: echo %q, want %q", got, "hello")
		}
	})
	t.Run("binary frames count too", func(t *testing.T) {
		c := dialUntilPrompt(t, b)
		c.send(websocket.BinaryMessage, []byte(b.Password()+"\r"))
		if got := c.nextText(); got != connectedBanner {
			t.Fatalf("got %q", got)
		}
	})
}

func TestSecondClientRejected(t *testing.T) {
	t.Parallel()
	b := startFake(t)
	first := dialBoard(t, b.URL())
	first.login(b.Password())
	second := dialBoard(t, b.URL()) // the 101 arrives …
	local := second.conn.LocalAddr().(*net.TCPAddr)
	if f := second.next(); f.err == nil { // … then the end, without a frame
		t.Fatalf("second client got frame %q, want the connection closed", f.data)
	}
	want := []string{"\r\n", "Concurrent WebREPL connection from ('127.0.0.1', " + strconv.Itoa(local.Port) + ") rejected", "\r\n"}
	for _, w := range want {
		if got := first.nextText(); got != w {
			t.Fatalf("first client got %q, want %q", got, w)
		}
	}
	first.sendText("still here")
	first.expectText("still here")
	first.conn.Close()
	third := redialUntilServed(t, b)
	third.sendText("third")
	third.expectText("third")
}

// redialUntilServed connects until the board has noticed the previous
// client left (its slot frees when the read sees EOF).
func redialUntilServed(t *testing.T, b *Board) *testClient {
	t.Helper()
	c := dialUntilPrompt(t, b)
	c.sendText(b.Password() + "\r")
	if got := c.nextText(); got != connectedBanner {
		t.Fatalf("got %q", got)
	}
	return c
}

// dialUntilPrompt connects until the board serves the client (it refuses
// connections while it reboots; a previous client's slot frees only when
// the board reads its EOF) and consumes the password prompt.
func dialUntilPrompt(t *testing.T, b *Board) *testClient {
	t.Helper()
	return serving.Until(t, waitLimit, func(context.Context) (*testClient, error) {
		c, err := tryDialBoard(t, b.URL())
		if err != nil {
			return nil, err
		}
		f := c.next()
		if f.err != nil {
			return nil, f.err
		}
		if string(f.data) != passwordPrompt {
			t.Fatalf("got %q, want the prompt", f.data)
		}
		return c, nil
	})
}

func loggedInRaw(t *testing.T, b *Board) *rawConn {
	t.Helper()
	c := dialRaw(t, b.URL(), upgradeRequest("Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: foo\r\n"))
	c.readN(len(handshakeReplyPrefix) + 28 + 4)
	c.readFrame()
	c.write([]byte("\x81\x07" + b.Password() + "\r")) // unmasked, as webrepl_cli.py sends
	if op, p := c.readFrame(); op != 0x81 || string(p) != connectedBanner {
		t.Fatalf("login: got %x %q", op, p)
	}
	return c
}

func TestFraming(t *testing.T) {
	t.Parallel()
	b := startFake(t)
	t.Run("64-bit length closes", func(t *testing.T) {
		c := loggedInRaw(t, b)
		c.write([]byte{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 'a', 'b', 'c'})
		c.expectEOF()
	})
	t.Run("ping gets no pong, empty frames skipped, 16-bit lengths", func(t *testing.T) {
		c := redialRawUntilServed(t, b)
		c.write(maskedFrame(0x89, nil))
		c.write(maskedFrame(0x89, []byte("Z")))
		c.write(maskedFrame(0x81, nil))
		long := bytes.Repeat([]byte("y"), 300)
		c.write(maskedFrame(0x81, long))
		op, p := c.readFrame()
		if op != 0x81 || !bytes.Equal(p, long) {
			t.Fatalf("got opcode %x and %d bytes, want the 300-byte echo as a text frame", op, len(p))
		}
	})
	t.Run("fragmented message", func(t *testing.T) {
		c := redialRawUntilServed(t, b)
		c.write([]byte{0x01, 0x80 | 3, 0, 0, 0, 0, 'a', 'b', 'c'}) // text, FIN=0
		c.write(maskedFrame(0x89, nil))                            // control frame in between
		c.write(maskedFrame(0x80, []byte("def")))                  // continuation, FIN=1
		var got []byte
		for len(got) < 6 {
			op, p := c.readFrame()
			if op != 0x81 {
				t.Fatalf("opcode %x, want text", op)
			}
			got = append(got, p...)
		}
		if string(got) != "abcdef" {
			t.Fatalf("echo %q, want abcdef", got)
		}
	})
	t.Run("ping payload leaks into the file-transfer header", func(t *testing.T) {
		c := redialRawUntilServed(t, b)
		c.write(maskedFrame(0x89, []byte("AB"))) // "A" reaches the header parser
		// The next text is swallowed as header bytes: completing the 82
		// bytes with type 3 at offset 2 makes it a GET_VER request.
		c.write(maskedFrame(0x81, []byte("\r\x03")))
		c.write(maskedFrame(0x81, make([]byte, xferHeaderSize-3)))
		if op, p := c.readFrame(); op != 0x82 || string(p) != "\x01\x1c\x00" {
			t.Fatalf("got %x %q, want the GET_VER answer of 1.28.0", op, p)
		}
		c.write(maskedFrame(0x81, []byte("after")))
		if op, p := c.readFrame(); op != 0x81 || string(p) != "after" {
			t.Fatalf("got %x %q, want the REPL back", op, p)
		}
	})
	t.Run("close frame", func(t *testing.T) {
		c := redialRawUntilServed(t, b)
		c.write(maskedFrame(0x88, []byte{0x03, 0xe8}))
		if got := c.readN(2); string(got) != "\x88\x00" {
			t.Fatalf("got % x, want 88 00", got)
		}
		c.expectEOF()
	})
	t.Run("64 KiB output ends the session", func(t *testing.T) {
		c := redialRawUntilServed(t, b)
		c.write(maskedFrame(0x81, []byte("BIG")))
		c.expectEOF()
	})
	redialUntilServed(t, b) // and the board still serves
}

func redialRawUntilServed(t *testing.T, b *Board) *rawConn {
	t.Helper()
	c := serving.Until(t, waitLimit, func(context.Context) (*rawConn, error) {
		c := dialRaw(t, b.URL(), upgradeRequest("Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: foo\r\n"))
		c.readN(len(handshakeReplyPrefix) + 28 + 4)
		head := make([]byte, 2)
		if _, err := io.ReadFull(c.r, head); err != nil {
			return nil, err
		}
		c.readN(int(head[1]))
		return c, nil
	})
	c.write(maskedFrame(0x81, []byte(b.Password()+"\r")))
	if op, p := c.readFrame(); op != 0x81 || string(p) != connectedBanner {
		t.Fatalf("login: got %x %q", op, p)
	}
	return c
}

func TestFileTransfer(t *testing.T) {
	t.Parallel()
	flash := t.TempDir()
	opts := fakeOptions(t)
	opts.FlashDir = flash
	b := startTestBoard(t, opts)
	c := dialBoard(t, b.URL())
	c.login(b.Password())

	c.send(websocket.BinaryMessage, transferRecord(xferGetVer, 0, ""))
	if got := c.expectBinary(); string(got) != "\x01\x1c\x00" {
		t.Fatalf("GET_VER %q, want 01 1c 00 (1.28.0, the default)", got)
	}

	data := make([]byte, 100*1024)
	for i := range data {
		data[i] = byte(i*7 + i/256)
	}
	c.putFile("big.bin", data)
	if onHost, err := os.ReadFile(filepath.Join(flash, "big.bin")); err != nil || !bytes.Equal(onHost, data) {
		t.Fatalf("flash folder copy differs (err %v)", err)
	}
	if got := c.getFile("/big.bin"); !bytes.Equal(got, data) {
		t.Fatalf("GET returned %d bytes differing from the %d uploaded", len(got), len(data))
	}

	// Zero-length PUT: both status records at once.
	c.send(websocket.BinaryMessage, transferRecord(xferPut, 0, "empty.txt"))
	for i := 0; i < 2; i++ {
		if got := c.expectBinary(); string(got) != statusOK {
			t.Fatalf("status %d: %q", i, got)
		}
	}
	// Board paths cannot leave the flash folder.
	c.putFile("../../escape.txt", []byte("inside"))
	if got, err := os.ReadFile(filepath.Join(flash, "escape.txt")); err != nil || string(got) != "inside" {
		t.Fatalf("escaping path not kept inside the flash folder: %q, %v", got, err)
	}
	// REPL text interleaves with a transfer.
	c.sendText("text meanwhile")
	c.expectText("text meanwhile")

	// A failed open kills the session: no status, TCP dropped.
	c.send(websocket.BinaryMessage, transferRecord(xferGet, 0, "no/such/file"))
	c.expectEnd()

	c = redialUntilServed(t, b)
	c.send(websocket.BinaryMessage, transferRecord(xferPut, 3, "missing-dir/x.txt"))
	c.expectEnd()
}

func TestResetsAndBoardState(t *testing.T) {
	t.Parallel()
	b := startFake(t)
	c := dialBoard(t, b.URL())
	c.login(b.Password())
	c.sendText("PIN")
	c.expectText("pin set")
	if v, ok := b.Pin(2); !ok || v != 1 {
		t.Fatalf("Pin(2) = %d, %v; want 1, true", v, ok)
	}
	c.sendText("DROP")
	c.expectText("dropped")
	if n := b.DroppedBytes(); n != 7 {
		t.Fatalf("DroppedBytes = %d, want 7", n)
	}

	// Soft reset in the raw REPL: "OK\r\n" arrives, the link drops, the
	// board comes back still raw.
	c.sendText("RAW")
	c.expectText("raw REPL; CTRL-B to exit\r\n>")
	c.sendText("SOFT")
	if got := c.expectEnd(); got != "OK\r\n" {
		t.Fatalf("before the drop got %q, want OK\\r\\n", got)
	}
	if soft, hard := b.Resets(); soft != 1 || hard != 0 {
		t.Fatalf("Resets = %d, %d; want 1, 0", soft, hard)
	}
	c = redial(t, b.URL())
	c.login(b.Password())
	c.sendText("SOFT")
	c.expectEnd()
	if v, ok := b.Pin(2); !ok || v != 1 {
		t.Fatalf("a soft reset kept no pin state: %d, %v", v, ok)
	}
	if n := b.DroppedBytes(); n != 7 {
		t.Fatalf("DroppedBytes after resets = %d, want 7 (the count is cumulative)", n)
	}

	c = redial(t, b.URL())
	c.login(b.Password())
	c.sendText("HARD")
	c.expectEnd()
	if _, ok := b.Pin(2); ok {
		t.Fatalf("pin state survived a hard reset")
	}
	if soft, hard := b.Resets(); soft != 2 || hard != 1 {
		t.Fatalf("Resets = %d, %d; want 2, 1", soft, hard)
	}

	// Ctrl-C not obeyed: the board is reset after ResetAfter.
	c = redial(t, b.URL())
	c.login(b.Password())
	c.sendText("BUSY")
	c.expectText("busy")
	c.sendText("\x03")
	c.expectEnd()
	if _, hard := b.Resets(); hard != 2 {
		t.Fatalf("hard resets = %d, want 2 after an ignored Ctrl-C", hard)
	}
	redial(t, b.URL()).login(b.Password())
}

func TestCloseLeavesNoProcess(t *testing.T) {
	b := startFake(t)
	c := dialBoard(t, b.URL())
	c.login(b.Password())
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	c.expectEnd()
	if _, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(b.URL(), "ws://"), "/")); err == nil {
		t.Fatalf("the board still accepts connections after Close")
	}
}

func TestLinkModel(t *testing.T) {
	t.Parallel()
	v127 := firmware{1, 27, 0}
	run := func(profile string, chunks ...string) []string {
		p, err := lookupProfile(profile, v127)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		l := &link{profile: p, drainPeriod: time.Hour, in: make(chan timedChunk, len(chunks)), idle: newReplIdle(),
			deliver: func(b []byte, direct bool) { got = append(got, string(b)) }}
		now := time.Now()
		for _, c := range chunks {
			l.in <- timedChunk{due: now, data: []byte(c)}
		}
		close(l.in)
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		l.run(ctx)
		return got
	}
	if got := run("esp32", "ab", "cd", "ef"); len(got) != 1 || got[0] != "abcdef" {
		t.Fatalf("esp32 drain delivered %q, want one burst", got)
	}
	if got := run("esp8266", "ab", "cd"); len(got) != 2 || got[0] != "ab" || got[1] != "cd" {
		t.Fatalf("esp8266 delivered %q, want one message per frame", got)
	}
	if p, _ := lookupProfile("esp32", v127); p.ringCapacity != 259 {
		t.Fatalf("esp32 ring %d", p.ringCapacity)
	}
	if p, _ := lookupProfile("esp8266", v127); p.ringCapacity != 255 {
		t.Fatalf("esp8266 ring %d", p.ringCapacity)
	}
	if _, err := lookupProfile("esp31", v127); err == nil {
		t.Fatalf("unknown profile accepted")
	}
}

func TestMissingNodeIsOneClearLine(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Start(context.Background(), Options{})
	if err == nil || !strings.Contains(err.Error(), "node not found on PATH") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v, want one line saying node is missing", err)
	}
}

func TestBadModulesFolderIsOneClearLine(t *testing.T) {
	t.Setenv(modulesEnv, filepath.Join(t.TempDir(), "nothing-here"))
	_, err := Start(context.Background(), Options{})
	if err == nil || !strings.Contains(err.Error(), modulesEnv) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v, want one line naming %s", err, modulesEnv)
	}
}

func TestOptionsValidated(t *testing.T) {
	t.Parallel()
	for _, opts := range []Options{{Password: "0123456789"}, {Profile: "esp31"}, {Latency: -time.Second}} {
		if _, err := Start(context.Background(), opts); err == nil {
			t.Errorf("Start(%+v) succeeded, want an error", opts)
		}
	}
}
