package webrepl

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// FuzzRawReplParser checks the incremental raw-REPL reply parser against a
// plain reference split of the whole reply, for every way of cutting the
// reply into pieces.
func FuzzRawReplParser(f *testing.F) {
	for _, c := range replySeeds {
		f.Add([]byte(c.reply), c.standard, uint8(1))
		f.Add([]byte(c.reply), c.standard, uint8(5))
	}
	f.Add([]byte("OOK\x04\x04junk>"), true, uint8(2))
	f.Add([]byte("\x04\x04Traceback (most recent call last):\n  File \"<stdin>\", line 3\nSyntaxError: invalid syntax\n\x04>"), false, uint8(3))
	f.Fuzz(func(t *testing.T, reply []byte, standard bool, piece uint8) {
		var chunks []int
		for i := 0; i < len(reply); i += int(piece) + 1 {
			chunks = append(chunks, int(piece)+1)
		}
		stdout, p, consumed := runParser(reply, standard, chunks)

		// Reference: OK, stdout up to 0x04, exception up to 0x04, then '>'.
		var wantStdout, wantExc []byte
		wantDone, wantConsumed := false, len(reply)
		rest := reply
		okFound := true
		if standard {
			i := bytes.Index(rest, []byte("OK"))
			okFound = i >= 0
			if okFound {
				rest = rest[i+2:]
			}
		}
		if okFound {
			var found bool
			wantStdout, rest, found = bytes.Cut(rest, []byte{4})
			if found {
				wantExc, rest, found = bytes.Cut(rest, []byte{4})
				if found {
					if i := bytes.IndexByte(rest, '>'); i >= 0 {
						wantDone = true
						wantConsumed = len(reply) - len(rest) + i + 1
					}
				}
			}
		}
		if !bytes.Equal(stdout, wantStdout) || !bytes.Equal(p.exception, wantExc) ||
			p.done() != wantDone || consumed != wantConsumed {
			t.Fatalf("reply %q (pieces of %d): stdout %q exc %q done %v used %d; want %q %q %v %d",
				reply, piece+1, stdout, p.exception, p.done(), consumed, wantStdout, wantExc, wantDone, wantConsumed)
		}
		// The streaming CRLF conversion equals the whole-buffer one.
		var lf bytes.Buffer
		w := &lfWriter{w: &lf}
		for i := 0; i < len(stdout); i += int(piece) + 1 {
			w.write(stdout[i:min(i+int(piece)+1, len(stdout))])
		}
		w.flush()
		if want := bytes.ReplaceAll(stdout, []byte("\r\n"), []byte("\n")); !bytes.Equal(lf.Bytes(), want) {
			t.Fatalf("lfWriter(%q) = %q, want %q", stdout, lf.Bytes(), want)
		}
		e := parseException(p.exception)
		checkException(t, p.exception, e)
		if plain := string(bytes.ReplaceAll(p.exception, []byte("\r\n"), []byte("\n"))); printable(plain) == plain && e.Text != plain {
			t.Fatalf("exception Text %q, want the printable text %q unchanged", e.Text, plain)
		}
	})
}

// scriptedConn is the client end of a TCP connection whose server answers
// the WebSocket handshake and then sends fixed bytes, then EOF.
type scriptedConn struct {
	mu      sync.Mutex
	request []byte
	reply   io.Reader
	wire    []byte
}

var keyHeader = regexp.MustCompile(`(?m)^Sec-WebSocket-Key: (\S+)\r$`)

func (c *scriptedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reply == nil {
		m := keyHeader.FindSubmatch(c.request)
		if m == nil {
			return 0, errors.New("no handshake request")
		}
		h := sha1.Sum(append(m[1], "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"...))
		resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			base64.StdEncoding.EncodeToString(h[:]) + "\r\n\r\n"
		c.reply = io.MultiReader(bytes.NewReader([]byte(resp)), bytes.NewReader(c.wire))
	}
	return c.reply.Read(p)
}

func (c *scriptedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reply == nil {
		c.request = append(c.request, p...)
	}
	return len(p), nil
}

func (c *scriptedConn) Close() error                     { return nil }
func (c *scriptedConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptedConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptedConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptedConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptedConn) SetWriteDeadline(time.Time) error { return nil }

// serverFrame encodes one unmasked board→client frame.
func serverFrame(first byte, payload []byte) []byte {
	out := []byte{first}
	switch n := len(payload); {
	case n < 126:
		out = append(out, byte(n))
	default:
		out = append(out, 126, byte(n>>8), byte(n))
	}
	return append(out, payload...)
}

type fuzzMessage struct {
	binary  bool
	payload []byte
}

// decodeFuzzMessages turns fuzz bytes into messages and their wire form:
// per message a flags byte (bit 0 binary, bit 1 fragmented, bit 2 a ping
// first, bits 4-5 high length bits), a length byte, the payload.
func decodeFuzzMessages(spec []byte) ([]fuzzMessage, []byte) {
	var msgs []fuzzMessage
	var wire []byte
	for len(spec) >= 2 {
		flags := spec[0]
		n := min(int(spec[1])|int(flags&0x30)<<4, len(spec)-2)
		payload := spec[2 : 2+n]
		spec = spec[2+n:]
		m := fuzzMessage{binary: flags&1 != 0, payload: payload}
		msgs = append(msgs, m)
		op := byte(websocket.TextMessage)
		if m.binary {
			op = websocket.BinaryMessage
		}
		if flags&4 != 0 {
			wire = append(wire, serverFrame(0x89, nil)...)
		}
		if flags&2 != 0 && n > 1 {
			wire = append(wire, serverFrame(op, payload[:n/2])...)
			wire = append(wire, serverFrame(0x80, payload[n/2:])...)
		} else {
			wire = append(wire, serverFrame(0x80|op, payload)...)
		}
	}
	return msgs, wire
}

// FuzzFrameDemux feeds server bytes through gorilla and the link's reader:
// well-formed frames must come out split exactly into the REPL stream (text)
// and the file stream (binary), whatever follows them; the reader must end
// at EOF; UTF-8 split across text frames must decode as if whole.
func FuzzFrameDemux(f *testing.F) {
	seed := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	text := func(s string) []byte { return append([]byte{0, byte(len(s))}, s...) }
	bin := func(b []byte) []byte { return append([]byte{1, byte(len(b))}, b...) }
	// Appendix A: login, raw REPL, raw-paste window bytes, GET_VER, a GET.
	f.Add(seed(text("Password: "), text("\r\nWebREPL connected\r\n>>> "), text("\r\n"), text(">>> ")), []byte{})
	f.Add(seed(text("OK"), text("123"), text("\r\n"), text("\x04"), text("\x04"), text(">")), []byte{})
	f.Add(seed(text("R\x01"), text("\x80\x00\x01"), text("\x04"), text("0"), text("\r\n"), text("\x04"), text(">")), []byte{0x88, 0x00})
	f.Add(seed(bin([]byte{1, 0x1d, 0}), bin([]byte("WB\x00\x00")), bin(append([]byte{0x58, 0}, bytes.Repeat([]byte{7}, 88)...)), bin([]byte{0, 0})), []byte{})
	f.Add(seed(text("\xe2\x82"), text("\xac"), []byte{6, 4}, []byte("\xf0\x9f\x98\x80"), text("\xff")), []byte{0x81, 0x7f})
	f.Add(seed([]byte{0x21, 0x10}, bytes.Repeat([]byte("x"), 300)), []byte{0x82, 0x02, 'W', 'B'})
	f.Fuzz(func(t *testing.T, spec, tail []byte) {
		msgs, wire := decodeFuzzMessages(spec)
		conn := &scriptedConn{wire: append(wire, tail...)}
		dialer := websocket.Dialer{NetDialContext: func(context.Context, string, string) (net.Conn, error) { return conn, nil }}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws, _, err := dialer.DialContext(ctx, "ws://board/", nil)
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		var stats statCounters
		l := newLink(ws, "board", &stats)
		select {
		case <-l.done:
		case <-ctx.Done():
			t.Fatal("the reader did not end at EOF")
		}
		var wantText, wantBin []byte
		var textw bytes.Buffer
		uw := NewUTF8Writer(&textw)
		for _, m := range msgs {
			if m.binary {
				wantBin = append(wantBin, m.payload...)
			} else {
				wantText = append(wantText, m.payload...)
				uw.Write(m.payload)
			}
		}
		uw.Flush()
		gotText, gotBin := l.repl.takeBuffered(), l.file.takeBuffered()
		if !bytes.HasPrefix(gotText, wantText) || !bytes.HasPrefix(gotBin, wantBin) {
			t.Fatalf("text %q (want prefix %q), binary %q (want prefix %q)", gotText, wantText, gotBin, wantBin)
		}
		if len(tail) == 0 && (len(gotText) != len(wantText) || len(gotBin) != len(wantBin)) {
			t.Fatalf("extra bytes without a tail: text %q binary %q", gotText, gotBin)
		}
		if _, err := l.repl.take(ctx); !errors.Is(err, ErrLinkLost) {
			t.Fatalf("after EOF the REPL stream reports %v, want ErrLinkLost", err)
		}
		if textw.String() != string([]rune(string(wantText))) {
			t.Fatalf("UTF-8 across frames: %q, want %q", textw.String(), string([]rune(string(wantText))))
		}
		l.close()
	})
}
