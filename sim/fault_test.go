package sim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// quietWindow is how long a test listens for an answer a faulty board must
// not give; the check can only fail (an answer arrives), never flake.
const quietWindow = 300 * time.Millisecond

// faultBoard starts a board (with the stand-in board process: faults live
// in the Go server) in the given fault mode.
func faultBoard(t *testing.T, fault Fault) *Board {
	t.Helper()
	opts := fakeOptions(t)
	opts.Fault = fault
	return startTestBoard(t, opts)
}

const upgradeHeaders = "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: foo\r\n"

// expectQuiet checks that nothing arrives on conn within quietWindow.
func expectQuiet(t *testing.T, conn net.Conn, what string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(quietWindow))
	buf := make([]byte, 64)
	n, err := conn.Read(buf)
	var ne net.Error
	if n > 0 || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("%s: got %q, %v; want silence", what, buf[:n], err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(waitLimit))
}

func TestFaultSilentNeverAnswers(t *testing.T) {
	t.Parallel()
	b := faultBoard(t, FaultSilent)
	c := dialRaw(t, b.URL(), upgradeRequest(upgradeHeaders))
	expectQuiet(t, c.conn, "upgrade request")
	// Close ends the connection (and its goroutine).
	b.Close()
	c.expectEOF()
}

func TestFaultHTMLAnswersTheUpgrade(t *testing.T) {
	t.Parallel()
	b := faultBoard(t, FaultHTML)
	if got := rawExchange(t, b.URL(), upgradeRequest(upgradeHeaders)); got != htmlFallbackReply {
		t.Fatalf("got %q, want the HTML page", got)
	}
	if _, _, err := websocket.DefaultDialer.Dial(b.URL(), nil); !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatalf("websocket dial: %v, want a bad handshake", err)
	}
}

func TestFaultGarbageFrames(t *testing.T) {
	t.Parallel()
	b := faultBoard(t, FaultGarbageFrames)
	c := dialRaw(t, b.URL(), upgradeRequest(upgradeHeaders))
	if got := string(c.readN(len(handshakeReplyPrefix) + 28 + 4)); !strings.HasPrefix(got, handshakeReplyPrefix) {
		t.Fatalf("handshake %q", got)
	}
	opcodes := map[byte]bool{}
	for i := 0; i < 50; i++ {
		head := c.readN(2)
		if head[1]&0x80 != 0 {
			t.Fatalf("frame %d is masked", i)
		}
		n := int(head[1])
		if n == 126 {
			n = int(binary.BigEndian.Uint16(c.readN(2)))
		}
		p := c.readN(n)
		if string(p) == passwordPrompt {
			t.Fatalf("frame %d is the password prompt", i)
		}
		opcodes[head[0]&0x0F] = true
	}
	if len(opcodes) < 3 {
		t.Errorf("50 frames used only opcodes %v", opcodes)
	}
}

func TestFaultNoPrompt(t *testing.T) {
	t.Parallel()
	b := faultBoard(t, FaultNoPrompt)
	c := dialRaw(t, b.URL(), upgradeRequest(upgradeHeaders))
	c.readN(len(handshakeReplyPrefix) + 28 + 4)
	expectQuiet(t, c.conn, "after the upgrade")
	c.write(maskedFrame(0x81, []byte(b.Password()+"\r")))
	expectQuiet(t, c.conn, "after the password")
}

func TestFaultMuteREPL(t *testing.T) {
	t.Parallel()
	b := faultBoard(t, FaultMuteREPL)
	c := loggedInRaw(t, b)
	c.write(maskedFrame(0x81, []byte("echo me")))
	c.write(maskedFrame(0x82, transferRecord(xferGetVer, 0, "")))
	expectQuiet(t, c.conn, "REPL input and a file request")
	// Cured, the next client is answered (the stand-in echoes).
	if err := b.SetFault(FaultNone); err != nil {
		t.Fatal(err)
	}
	c.conn.Close()
	next := redialUntilServed(t, b)
	next.sendText("echo me")
	next.expectText("echo me")
}

func TestFaultFileTransfers(t *testing.T) {
	t.Parallel()
	flash := t.TempDir()
	opts := fakeOptions(t)
	opts.FlashDir = flash
	b := startTestBoard(t, opts)
	c := dialBoard(t, b.URL())
	c.login(b.Password())
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i)
	}
	c.putFile("good.bin", data)

	setFault := func(f Fault) {
		t.Helper()
		if err := b.SetFault(f); err != nil {
			t.Fatal(err)
		}
	}
	setFault(FaultCorruptPut)
	c.putFile("bad.bin", data) // every status is fine...
	stored, err := os.ReadFile(filepath.Join(flash, "bad.bin"))
	if err != nil || len(stored) != len(data) || bytes.Equal(stored, data) ||
		stored[len(data)/2] == data[len(data)/2] {
		t.Fatalf("stored %d bytes (err %v); want %d with the middle byte changed", len(stored), err, len(data))
	}

	setFault(FaultPutStatus)
	rec := transferRecord(xferPut, uint32(len(data)), "status.bin")
	c.send(websocket.BinaryMessage, rec)
	if got := c.expectBinary(); string(got) != statusOK {
		t.Fatalf("PUT opening status %q", got)
	}
	c.send(websocket.BinaryMessage, data)
	if got := c.expectBinary(); string(got) != statusError {
		t.Fatalf("PUT closing status %q, want %q", got, statusError)
	}

	setFault(FaultCorruptGet)
	got := c.getFile("good.bin")
	if len(got) != len(data) || bytes.Equal(got, data) {
		t.Fatalf("GET gave %d bytes, equal %v; want %d with one changed", len(got), bytes.Equal(got, data), len(data))
	}

	setFault(FaultGetStatus)
	c.send(websocket.BinaryMessage, transferRecord(xferGet, 0, "good.bin"))
	if got := c.expectBinary(); string(got) != statusError {
		t.Fatalf("GET status %q, want %q", got, statusError)
	}

	setFault(FaultNone)
	if got := c.getFile("good.bin"); !bytes.Equal(got, data) {
		t.Fatal("GET after the fault was cured differs")
	}
	// The session survived every fault: the REPL still answers.
	c.sendText("still here")
	c.expectText("still here")
}

func TestUnknownFaultRefused(t *testing.T) {
	t.Parallel()
	opts := fakeOptions(t)
	opts.Fault = "melt"
	if _, err := Start(t.Context(), opts); err == nil || !strings.Contains(err.Error(), `"melt"`) {
		t.Fatalf("Start with an unknown fault: %v", err)
	}
	if err := (&Board{}).SetFault("melt"); err == nil {
		t.Fatal("SetFault accepted an unknown fault")
	}
}

// TestFaultFloods: after the prompt (flood-login) or after a login with any
// password (flood-output), text frames keep coming, megabytes of them,
// printable, whatever the client sends.
func TestFaultFloods(t *testing.T) {
	t.Parallel()
	for _, fault := range []Fault{FaultFloodLogin, FaultFloodOutput} {
		t.Run(string(fault), func(t *testing.T) {
			t.Parallel()
			b := faultBoard(t, fault)
			c := dialRaw(t, b.URL(), upgradeRequest(upgradeHeaders))
			c.readN(len(handshakeReplyPrefix) + 28 + 4)
			if op, p := c.readFrame(); op&0x0F != opText || string(p) != passwordPrompt {
				t.Fatalf("first frame %x %q, want the prompt", op, p)
			}
			c.write(maskedFrame(0x81, []byte("wrong\r")))
			if fault == FaultFloodOutput {
				if _, p := c.readFrame(); string(p) != connectedBanner {
					t.Fatalf("after the password %q, want the login banner", p)
				}
			}
			const want = 4 << 20
			for got := 0; got < want; {
				c.write(maskedFrame(0x81, []byte{0x03}))
				op, p := c.readFrame()
				if op&0x0F != opText || len(p) == 0 || bytes.ContainsFunc(p, func(r rune) bool { return r != '\r' && r != '\n' && (r < ' ' || r > '~') }) {
					t.Fatalf("after %d bytes: frame %x of %d bytes %.40q", got, op, len(p), p)
				}
				got += len(p)
			}
		})
	}
}
