package sim

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"
)

// Fault makes the board misbehave on purpose, the way a broken device, a
// wrong address or a different service would, so that clients can be tested
// against bad peers with the same server that tests them against a good
// board. The zero value, FaultNone, is a correct board. A fault applies to
// connections accepted (and, for the file and REPL faults, to data handled)
// after it is set; see Options.Fault and Board.SetFault.
type Fault string

const (
	// FaultNone: the board behaves as the firmware does.
	FaultNone Fault = ""

	// Faults of the connection itself (docs/protocol/webrepl.md §1.3).

	// FaultSilent: the TCP connection is accepted and whatever the client
	// sends is read and discarded; nothing is ever answered, not even the
	// HTTP handshake (a host that is not a WebREPL board, or a hung one).
	FaultSilent Fault = "silent"
	// FaultHTML: every request, WebSocket upgrade or not, gets the plain
	// HTML page the board serves to a browser, then the connection closes.
	FaultHTML Fault = "html"
	// FaultGarbageFrames: the upgrade succeeds, then the board sends
	// well-formed frames with random opcodes and random payload bytes, a
	// few hundred per second, and never a Password: prompt.
	FaultGarbageFrames Fault = "garbage-frames"

	// Faults of the login (docs/protocol/webrepl.md §1.5).

	// FaultNoPrompt: the upgrade succeeds but the Password: prompt never
	// comes; everything the client sends is ignored.
	FaultNoPrompt Fault = "no-prompt"
	// FaultMuteREPL: the login works ("WebREPL connected" and the >>>
	// prompt arrive), then the REPL never answers: console input and file
	// requests are swallowed.
	FaultMuteREPL Fault = "mute-repl"

	// Faults of file transfer (docs/protocol/webrepl.md §2). The board
	// still answers in step, so that only a client that checks notices.

	// FaultCorruptPut: a PUT is acknowledged as fine but the stored file
	// has one byte changed (the one in the middle).
	FaultCorruptPut Fault = "corrupt-put"
	// FaultPutStatus: the status record closing a PUT reports an error
	// ("WB" with code 1) although the file was stored.
	FaultPutStatus Fault = "put-status"
	// FaultCorruptGet: a GET sends the file with one byte changed (the
	// one in the middle of the first data chunk).
	FaultCorruptGet Fault = "corrupt-get"
	// FaultGetStatus: the status record opening a GET reports an error
	// ("WB" with code 1) and no data follows.
	FaultGetStatus Fault = "get-status"

	// Floods: a peer that sends as fast as the client reads, without end
	// (a wrong address, a device in a print loop that ignores Ctrl-C). The
	// text is printable and never contains what a client waits for.

	// FaultFloodLogin: the Password: prompt arrives, then text without end;
	// the password is read and ignored, no answer ever comes.
	FaultFloodLogin Fault = "flood-login"
	// FaultFloodOutput: the login works (any password), then the board
	// prints without end and ignores everything the client sends (Ctrl-C
	// included), so the raw REPL is never reached.
	FaultFloodOutput Fault = "flood-output"
)

// Faults returns every fault mode the board knows, FaultNone first.
func Faults() []Fault {
	return []Fault{
		FaultNone, FaultSilent, FaultHTML, FaultGarbageFrames,
		FaultNoPrompt, FaultMuteREPL,
		FaultCorruptPut, FaultPutStatus, FaultCorruptGet, FaultGetStatus,
		FaultFloodLogin, FaultFloodOutput,
	}
}

// validate reports an unknown mode.
func (f Fault) validate() error {
	known := Faults()
	for _, k := range known {
		if f == k {
			return nil
		}
	}
	return fmt.Errorf("unknown fault %q (want one of %q)", string(f), known[1:])
}

// statusError is the status record of a failed file operation, which the
// firmware never sends (it has only "WB\x00\x00"); a broken device might.
const statusError = "WB\x01\x00"

// SetFault changes the board's fault mode from now on: connections
// accepted afterwards, and file and REPL data handled afterwards, follow
// it. Use it to make a board break after a good first session.
func (b *Board) SetFault(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	b.fault.Store(&f)
	return nil
}

// currentFault is the mode in force.
func (b *Board) currentFault() Fault {
	if f := b.fault.Load(); f != nil {
		return *f
	}
	return FaultNone
}

// garbageFrameGap is the pause between two garbage frames: enough to keep
// a client busy, not a flood.
const garbageFrameGap = 3 * time.Millisecond

// serveSilent reads and discards until the connection ends (the client
// gives up, or Close closes it).
func serveSilent(conn net.Conn) {
	_, _ = io.Copy(io.Discard, conn)
}

// serveGarbage sends random well-formed frames until the connection ends,
// discarding what the client sends. The sequence is the same on every
// connection so that a failure can be reproduced.
func serveGarbage(conn net.Conn) {
	go serveSilent(conn) // a client that writes must not block on a full window
	rng := rand.New(rand.NewPCG(0x5eed, uint64(0x9a5ba6e)))
	opcodes := []byte{opContinuation, opText, opBinary, 0x3, 0x7, opPing, opPong, 0xB}
	for {
		payload := make([]byte, rng.IntN(300))
		for i := range payload {
			payload[i] = byte(rng.Uint32())
		}
		head := []byte{opcodes[rng.IntN(len(opcodes))]}
		if rng.IntN(4) != 0 {
			head[0] |= 0x80 // mostly FIN, sometimes a fragment that never ends
		}
		if len(payload) < 126 {
			head = append(head, byte(len(payload)))
		} else {
			head = binary.BigEndian.AppendUint16(append(head, 126), uint16(len(payload)))
		}
		if _, err := conn.Write(append(head, payload...)); err != nil {
			return
		}
		time.Sleep(garbageFrameGap)
	}
}

// floodLine is what a flooding board sends, over and over, in frames of
// floodFrame bytes: printable, so a client that shows it shows text.
const (
	floodLine  = "flood flood flood flood flood flood flood flood flood flood\r\n"
	floodFrame = 4096
)

// serveFlood sends the Password: prompt, then (FaultFloodOutput) waits for
// the password line and answers as if it were right, then sends text
// frames until the connection ends. What the client sends is read and
// discarded, so the client never blocks on a full window.
func serveFlood(conn net.Conn, reader *bufio.Reader, fault Fault) {
	if writeFrame(conn, []byte(passwordPrompt)) != nil {
		return
	}
	if fault == FaultFloodOutput {
		var typed []byte
		for !bytes.ContainsAny(typed, "\r\n") {
			f, err := readClientFrame(reader)
			if err != nil {
				return
			}
			if f.opcode == opText || f.opcode == opContinuation {
				typed = append(typed[:min(len(typed), maxPasswordBytes)], f.payload...)
			}
		}
		if writeFrame(conn, []byte(connectedBanner)) != nil {
			return
		}
	}
	go func() { _, _ = io.Copy(io.Discard, reader) }()
	payload := bytes.Repeat([]byte(floodLine), floodFrame/len(floodLine)+1)[:floodFrame]
	for writeFrame(conn, payload) == nil {
	}
}

// writeFrame sends one text frame in one write.
func writeFrame(conn net.Conn, payload []byte) error {
	frame, err := encodeBoardFrame(opText, payload)
	if err != nil {
		return err
	}
	_, err = conn.Write(frame)
	return err
}
