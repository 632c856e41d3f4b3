//go:build linux

package webrepl_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"webrepl-kernel/webrepl"
)

// Raw-paste's fallback against real firmware. realmp (v1.28) always
// accepts raw-paste, so a proxy between the client and the board stands in
// for firmware that does not (docs/protocol/webrepl.md §4.1): every
// raw-paste request "\x05A\x01" is taken out of the client's frames and
// either answered "R\x00>" by the proxy (firmware that knows the prefix but
// refuses) or replaced by a lone Ctrl-A, to which the real board answers
// with its raw REPL banner, as firmware before 1.14 does. Whatever followed
// the request in its frame goes on to the board as raw input, so the
// client's fallback runs against the firmware's own raw REPL.

// refusingProxy forwards WebSocket connections to a board, refusing
// raw-paste as above.
type refusingProxy struct {
	ln          net.Listener
	target      string
	oldFirmware bool
	refusals    atomic.Int32
	wg          sync.WaitGroup
}

func startRefusingProxy(t *testing.T, boardURL string, oldFirmware bool) *refusingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &refusingProxy{ln: ln, target: strings.TrimSuffix(strings.TrimPrefix(boardURL, "ws://"), "/"), oldFirmware: oldFirmware}
	var conns sync.Map
	t.Cleanup(func() {
		ln.Close()
		conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		p.wg.Wait()
	})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			board, err := net.Dial("tcp", p.target)
			if err != nil {
				client.Close()
				continue
			}
			conns.Store(client, true)
			conns.Store(board, true)
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.serve(client, board)
			}()
		}
	}()
	return p
}

func (p *refusingProxy) URL() string { return "ws://" + p.ln.Addr().String() + "/" }

// serve relays the HTTP upgrade as it is, then frame by frame.
func (p *refusingProxy) serve(client, board net.Conn) {
	defer client.Close()
	defer board.Close()
	fromClient, fromBoard := bufio.NewReader(client), bufio.NewReader(board)
	if relayHeader(fromClient, board) != nil || relayHeader(fromBoard, client) != nil {
		return
	}
	var toClient sync.Mutex // frames to the client from two goroutines stay whole
	sendClient := func(op byte, payload []byte) error {
		toClient.Lock()
		defer toClient.Unlock()
		_, err := client.Write(encodeFrame(op, payload, false))
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer client.Close()
		for {
			op, payload, err := readFrame(fromBoard)
			if err != nil || sendClient(op, payload) != nil {
				return
			}
		}
	}()
	for {
		op, payload, err := readFrame(fromClient)
		if err != nil {
			break
		}
		if op&0x0f == 0x1 && bytes.HasPrefix(payload, []byte("\x05A\x01")) {
			p.refusals.Add(1)
			payload = payload[3:]
			if p.oldFirmware {
				payload = append([]byte{0x01}, payload...)
			} else if sendClient(0x81, []byte("R\x00>")) != nil {
				break
			}
			if len(payload) == 0 {
				continue
			}
		}
		if _, err := board.Write(encodeFrame(op, payload, true)); err != nil {
			break
		}
	}
	board.Close()
	<-done
}

// relayHeader copies an HTTP header block, through its empty line.
func relayHeader(r *bufio.Reader, w io.Writer) error {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, line); err != nil {
			return err
		}
		if line == "\r\n" {
			return nil
		}
	}
}

// readFrame reads one WebSocket frame and unmasks its payload; op is the
// first header byte (FIN and opcode).
func readFrame(r *bufio.Reader) (op byte, payload []byte, err error) {
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(head[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 1<<20 {
		return 0, nil, errors.New("frame too large for the test proxy")
	}
	var key [4]byte
	masked := head[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return 0, nil, err
		}
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return head[0], payload, nil
}

// encodeFrame builds a frame; a client's frame is masked (with a zero key,
// which leaves the payload as it is).
func encodeFrame(op byte, payload []byte, masked bool) []byte {
	frame := []byte{op, 0}
	switch n := len(payload); {
	case n < 126:
		frame[1] = byte(n)
	case n <= 0xffff:
		frame[1] = 126
		frame = binary.BigEndian.AppendUint16(frame, uint16(n))
	default:
		frame[1] = 127
		frame = binary.BigEndian.AppendUint64(frame, uint64(n))
	}
	if masked {
		frame[1] |= 0x80
		frame = append(frame, 0, 0, 0, 0)
	}
	return append(frame, payload...)
}

func TestRealmpRawPasteRefusedFallsBack(t *testing.T) {
	url := startRealmp(t)
	for _, c := range []struct {
		name        string
		oldFirmware bool
		seed        uint64
	}{
		{"refused with R\\x00", false, 31},
		{"unknown to old firmware", true, 32},
	} {
		t.Run(c.name, func(t *testing.T) {
			proxy := startRefusingProxy(t, url, c.oldFirmware)
			s := dial(t, proxy.URL(), realmpPassword, webrepl.Options{ChunkSize: 128, ChunkGap: 5 * time.Millisecond})
			execSeeded(t, s, c.seed, 8, 4096, webrepl.PacingPaced) // raw-paste was refused
			n := proxy.refusals.Load()
			t.Logf("%d raw-paste requests refused", n)
			if n < 1 {
				t.Fatalf("the client never asked for raw-paste (%d requests): the fallback did not run", n)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
