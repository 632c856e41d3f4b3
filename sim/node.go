package sim

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
)

// Message types of the pipe protocol (docs/design.md, "sim/ (Go) ↔ sim/board (Node)").
const (
	msgInput      = 'i' // Go → Node: console input, into the stdin ring (may overflow)
	msgInputRead  = 'I' // Go → Node: console input the REPL read from the socket itself (never dropped)
	msgQuit       = 'q' // Go → Node: exit now
	msgBooted     = 'B' // Node → Go: REPL ready
	msgOutput     = 'o' // Node → Go: one console write
	msgDropped    = 'd' // Node → Go: total bytes dropped by the stdin ring
	msgSoftReset  = 's' // Node → Go: soft reset requested
	msgHardReset  = 'h' // Node → Go: hard reset requested
	msgBusy       = 'b' // Node → Go: 1 = executing, 0 = at a prompt; a second byte 1: a Ctrl-C read will interrupt it
	msgPeripheral = 'p' // Node → Go: JSON peripheral change
	msgRawPaste   = 'c' // Node → Go: JSON credit use of one raw-paste upload
)

// maxNodeMessage bounds a payload from the board process; anything larger
// means the stream is corrupt.
const maxNodeMessage = 16 << 20

// nodeMessage is one message from the board process.
type nodeMessage struct {
	typ     byte
	payload []byte
}

// nodeProcess is one running `node main.mjs`. Its messages and its exit are
// reported through the callbacks given to startNode, tagged with gen.
type nodeProcess struct {
	gen      int
	cmd      *exec.Cmd
	outbox   *queue[[]byte]
	stderr   *tailBuffer
	exited   chan struct{} // closed after Wait returned
	waitErr  error
	killOnce sync.Once
	group    *processGroup // the OS's way to end the process and its children (node_*.go)
}

// nodeCallbacks connect a board process to the board's event loop.
type nodeCallbacks struct {
	message func(gen int, m nodeMessage)
	exit    func(gen int, err error, stderrTail string)
}

// startNode starts the board process described by cmd. The process gets
// its own process group (a job object on Windows) so that kill also ends
// anything it spawned.
func startNode(ctx context.Context, gen int, cmd *exec.Cmd, log io.Writer, cb nodeCallbacks) (*nodeProcess, error) {
	group := newProcessGroup(cmd)
	p := &nodeProcess{
		group:  group,
		gen:    gen,
		cmd:    cmd,
		outbox: newQueue[[]byte](),
		stderr: &tailBuffer{limit: 4096, also: log},
		exited: make(chan struct{}),
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("board process stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("board process stdout: %w", err)
	}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		group.close()
		return nil, fmt.Errorf("starting board process %s: %w", cmd.Path, err)
	}
	if err := group.started(cmd.Process); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		group.close()
		return nil, fmt.Errorf("board process %s: %w", cmd.Path, err)
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		r := bufio.NewReaderSize(stdout, 64<<10)
		for {
			m, err := readNodeMessage(r)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					p.stderr.Write([]byte("\n[sim] " + err.Error() + "\n"))
					p.kill()
				}
				return
			}
			cb.message(gen, m)
		}
	}()
	go func() {
		for {
			items, ok := p.outbox.take(ctx)
			if !ok {
				stdin.Close()
				return
			}
			for _, msg := range items {
				if _, err := stdin.Write(msg); err != nil {
					stdin.Close()
					return
				}
			}
		}
	}()
	go func() {
		<-readerDone
		p.waitErr = cmd.Wait()
		group.close()
		p.outbox.close()
		close(p.exited)
		cb.exit(gen, p.waitErr, p.stderr.String())
	}()
	return p, nil
}

// send queues one message to the process; it never blocks.
func (p *nodeProcess) send(typ byte, payload []byte) {
	msg := make([]byte, 5+len(payload))
	msg[0] = typ
	binary.BigEndian.PutUint32(msg[1:5], uint32(len(payload)))
	copy(msg[5:], payload)
	p.outbox.push(msg)
}

// kill ends the whole process group at once (a reset is not graceful).
func (p *nodeProcess) kill() {
	p.killOnce.Do(func() {
		if p.cmd.Process != nil {
			p.group.kill(p.cmd.Process)
		}
	})
}

// stop kills the process and waits until it has been reaped.
func (p *nodeProcess) stop(ctx context.Context) {
	p.kill()
	select {
	case <-p.exited:
	case <-ctx.Done():
	}
}

func readNodeMessage(r *bufio.Reader) (nodeMessage, error) {
	var head [5]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nodeMessage{}, fmt.Errorf("board process stream ended inside a message header")
		}
		return nodeMessage{}, err
	}
	n := binary.BigEndian.Uint32(head[1:])
	if n > maxNodeMessage {
		return nodeMessage{}, fmt.Errorf("board process sent a %d-byte message of type %q: stream corrupt", n, head[0])
	}
	m := nodeMessage{typ: head[0], payload: make([]byte, n)}
	if _, err := io.ReadFull(r, m.payload); err != nil {
		return nodeMessage{}, fmt.Errorf("board process message of type %q truncated: %w", head[0], err)
	}
	return m, nil
}

// tailBuffer keeps the last bytes written to it (the board process's
// stderr, quoted in error messages) and optionally copies everything on.
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	buf   []byte
	also  io.Writer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.limit {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.limit:]...)
	}
	if t.also != nil {
		_, _ = t.also.Write(p)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
