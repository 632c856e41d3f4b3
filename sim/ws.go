package sim

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// The byte-exact answers of the board's webrepl.py (docs/protocol/webrepl.md §1.3).
const (
	handshakeReplyPrefix = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
	handshakeReplyEnd    = "\r\n\r\n"
	htmlFallbackReply    = "HTTP/1.0 200 OK\r\n\r\n<base href=\"https://micropython.org/webrepl/\"></base>\r\n<script src=\"webrepl_content.js\"></script>\r\n"
	websocketGUID        = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
	maxHandshakeLine     = 4096
)

// handshakeOutcome says what the board makes of an HTTP request.
type handshakeOutcome int

const (
	handshakeUpgrade handshakeOutcome = iota // answer 101 and start a WebREPL session
	handshakeHTML                            // not a websocket request: HTML page, then close
	handshakeAbandon                         // the board's handler raised: no answer at all
)

// handshakeRequest is what readHandshake learnt from the request.
type handshakeRequest struct {
	outcome handshakeOutcome
	key     []byte
	problem string // why the request was abandoned, as the board would report it
}

// readHandshake reads the HTTP request the way webrepl.py's server_handshake
// does: line by line, header names matched byte-exactly, so that a frame
// pipelined behind the request stays in r.
func readHandshake(r *bufio.Reader) (handshakeRequest, error) {
	if _, err := readHandshakeLine(r); err != nil {
		return handshakeRequest{}, fmt.Errorf("reading request line: %w", err)
	}
	var req handshakeRequest
	var connectionOK, upgradeOK, keySeen bool
	for {
		line, err := readHandshakeLine(r)
		if err != nil {
			return handshakeRequest{}, fmt.Errorf("reading request headers: %w", err)
		}
		if bytes.Equal(line, []byte("\r\n")) {
			break
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found {
			// h, v = [x.strip() for x in l.split(b":", 1)] raises here.
			req.outcome = handshakeAbandon
			req.problem = "ValueError: need more than 1 values to unpack"
			return req, nil
		}
		name, value = pyStrip(name), pyStrip(value)
		switch string(name) {
		case "Sec-WebSocket-Key":
			req.key = append([]byte(nil), value...)
			keySeen = true
		case "Connection":
			if bytes.Contains(value, []byte("Upgrade")) {
				connectionOK = true
			}
		case "Upgrade":
			if string(value) == "websocket" {
				upgradeOK = true
			}
		}
	}
	if keySeen && connectionOK && upgradeOK {
		req.outcome = handshakeUpgrade
	} else {
		req.outcome = handshakeHTML
	}
	return req, nil
}

// readHandshakeLine returns one line including its "\n" (or what came before
// EOF, which the board treats as the end of the request: an error here).
func readHandshakeLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		line = append(line, b)
		if b == '\n' {
			return line, nil
		}
		if len(line) > maxHandshakeLine {
			return nil, fmt.Errorf("header line longer than %d bytes", maxHandshakeLine)
		}
	}
}

// pyStrip trims what Python's bytes.strip() trims.
func pyStrip(b []byte) []byte {
	return bytes.Trim(b, " \t\n\r\v\f")
}

// acceptKey computes Sec-WebSocket-Accept for a client key (any bytes).
func acceptKey(key []byte) string {
	h := sha1.New()
	h.Write(key)
	h.Write([]byte(websocketGUID))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// errLongLength is the board's EIO for a client frame with a 64-bit length.
var errLongLength = errors.New("client frame uses a 64-bit length (the board closes the socket)")

// clientFrame is one frame as the board's modwebsocket.c sees it.
type clientFrame struct {
	opcode  byte // as sent, 0 for continuation
	payload []byte
}

// readClientFrame reads one client→board frame. Masked and unmasked frames
// are both accepted; a 64-bit length is an error (the board closes).
func readClientFrame(r io.Reader) (clientFrame, error) {
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return clientFrame{}, err
	}
	f := clientFrame{opcode: head[0] & 0x0F}
	masked := head[1]&0x80 != 0
	n := int(head[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return clientFrame{}, err
		}
		n = int(binary.BigEndian.Uint16(ext[:]))
	case 127:
		return clientFrame{}, errLongLength
	}
	var mask [4]byte
	if masked {
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return clientFrame{}, err
		}
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return clientFrame{}, err
	}
	if masked {
		for i := range f.payload {
			f.payload[i] ^= mask[i%4]
		}
	}
	return f, nil
}

// maxBoardFrame is the largest payload the board can write in one frame;
// a bigger write fails with ENOBUFS and dupterm drops the session.
const maxBoardFrame = 65535

// encodeBoardFrame builds one board→client frame: FIN, unmasked, 7- or
// 16-bit length.
func encodeBoardFrame(opcode byte, payload []byte) ([]byte, error) {
	if len(payload) > maxBoardFrame {
		return nil, fmt.Errorf("board write of %d bytes does not fit a 16-bit frame length (ENOBUFS)", len(payload))
	}
	frame := make([]byte, 0, len(payload)+4)
	frame = append(frame, 0x80|opcode)
	if len(payload) < 126 {
		frame = append(frame, byte(len(payload)))
	} else {
		frame = append(frame, 126, byte(len(payload)>>8), byte(len(payload)))
	}
	return append(frame, payload...), nil
}

// writeBoardFrame sends one encoded frame the way the firmware's
// modwebsocket.c websocket_write does: the header in one socket write and
// the payload in a second (docs/protocol/webrepl.md §1.4). With Nagle on
// (lwIP's default, see disableNoDelay) the payload waits for the client's
// ACK of the header, which a client with delayed ACKs holds back for up to
// ~40 ms; modelling the two writes makes that stall visible.
func writeBoardFrame(w io.Writer, frame []byte) error {
	head := 2
	if len(frame) >= 2 && frame[1]&0x7F == 126 {
		head = 4
	}
	if len(frame) <= head {
		_, err := w.Write(frame)
		return err
	}
	if _, err := w.Write(frame[:head]); err != nil {
		return err
	}
	_, err := w.Write(frame[head:])
	return err
}

// disableNoDelay turns Nagle's algorithm back on for an accepted
// connection (Go disables it by default); lwIP on the board leaves it on.
func disableNoDelay(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(false)
	}
}
