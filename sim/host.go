package sim

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
)

// boardProcess is what the board's event loop runs its board on: a Node
// process of its own (nodeProcess), or a worker thread in a Host's process
// (hostedBoard). Its messages and its end are reported through the
// nodeCallbacks it was started with.
type boardProcess interface {
	send(typ byte, payload []byte)
	stop(ctx context.Context) // kills it and waits until its end was reported
	pid() int                 // the operating-system process it runs in
}

func (p *nodeProcess) pid() int { return p.cmd.Process.Pid }

// Messages of the host protocol (sim/board/host.mjs) beyond the board's own.
const (
	hostStart = 'n' // Go → host: start a board (JSON hostBoardSpec)
	hostKill  = 'k' // Go → host: stop a board
	hostAck   = 'a' // Go → host: bytes of a board's messages taken
	hostData  = 'o' // host → Go: a board's framed messages
	hostEnded = 'x' // host → Go: a board ended (JSON {code, detail})
)

// HostOptions configure a Host.
type HostOptions struct {
	// Modules is a ready node_modules folder for the board's npm package,
	// used instead of running `npm ci`; "" means $WEBREPL_SIM_MODULES, if set.
	Modules string
	Log     io.Writer // optional: the host process's diagnostics
}

// Host is one Node process that runs the boards started with it
// (Options.Host), each in a worker thread of its own: a separate
// MicroPython with its own flash, input ring, loss model and resets, at a
// fraction of the memory of a process per board (docs/protocol/simulator.md
// §7). A reset restarts only that board's worker. The process starts with
// the first board; if it dies, its boards reboot in a new one. Close the
// boards before the Host.
type Host struct {
	opts   HostOptions
	ctx    context.Context // the host's life; ends with Close
	cancel context.CancelFunc

	mu      sync.Mutex
	rt      *boardRuntime
	proc    *hostProcess // nil before the first board and after a death
	gen     int          // of host processes
	nextID  uint32
	closed  bool
	stopped chan struct{} // closed by Close once the process has been reaped
}

// NewHost returns a Host; its process starts with its first board.
func NewHost(opts HostOptions) *Host {
	if opts.Modules == "" {
		opts.Modules = os.Getenv(modulesEnv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Host{opts: opts, ctx: ctx, cancel: cancel, stopped: make(chan struct{})}
}

// PID is the host process's id, 0 while none runs (for measurements).
func (h *Host) PID() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc == nil {
		return 0
	}
	return h.proc.node.pid()
}

// Close kills the host process and waits until it has been reaped. Boards
// still running on it die (Board.Err says why).
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		<-h.stopped
		return nil
	}
	h.closed = true
	proc := h.proc
	h.mu.Unlock()
	if proc != nil {
		stopCtx, cancel := context.WithTimeout(context.Background(), startupTimeout)
		proc.node.stop(stopCtx)
		cancel()
	}
	h.cancel()
	close(h.stopped)
	return nil
}

func (h *Host) logf(format string, args ...any) {
	if h.opts.Log != nil {
		fmt.Fprintf(h.opts.Log, format+"\n", args...)
	}
}

// hostBoardSpec is the payload of hostStart.
type hostBoardSpec struct {
	Args    []string `json:"args"`    // main.mjs's arguments
	Port    string   `json:"port"`    // what os.uname() reports
	LogName string   `json:"logName"` // how the board's log lines begin
}

// startBoard starts one board (generation gen of a Board) in the host
// process, starting that process first if none runs.
func (h *Host) startBoard(ctx context.Context, gen int, spec hostBoardSpec, cb nodeCallbacks) (boardProcess, error) {
	payload, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("describing the board to the simulator host: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errors.New("the simulator host is closed")
	}
	if h.proc == nil {
		if err := h.startProcess(ctx); err != nil {
			return nil, err
		}
	}
	h.nextID++
	hb := &hostedBoard{
		id:     h.nextID,
		gen:    gen,
		proc:   h.proc,
		cb:     cb,
		chunks: newQueue[[]byte](),
		done:   make(chan struct{}),
	}
	if !h.proc.add(hb) {
		// The process died just now: report it as this board's end.
		hb.ended(-1, "the simulator host process has ended")
	}
	go hb.read()
	h.proc.send(hostStart, hb.id, payload)
	return hb, nil
}

// startProcess starts a host process; h.mu is held.
func (h *Host) startProcess(ctx context.Context) error {
	if h.rt == nil {
		rt, err := prepareRuntime(ctx, h.opts.Modules, h.opts.Log)
		if err != nil {
			return err
		}
		h.rt = &rt
	}
	cmd := exec.Command(h.rt.node, "host.mjs")
	cmd.Dir = h.rt.dir
	cmd.Env = os.Environ()
	if h.rt.modules != "" {
		cmd.Env = append(cmd.Env, modulesEnv+"="+h.rt.modules)
	}
	h.gen++
	proc := &hostProcess{boards: map[uint32]*hostedBoard{}}
	node, err := startNode(h.ctx, h.gen, cmd, h.opts.Log, nodeCallbacks{
		message: func(_ int, m nodeMessage) { proc.dispatch(m) },
		exit: func(_ int, err error, stderr string) {
			detail := lastLine(stderr)
			if detail == "" && err != nil {
				detail = err.Error()
			}
			h.mu.Lock()
			if h.proc == proc {
				h.proc = nil
			}
			closed := h.closed
			h.mu.Unlock()
			if !closed {
				h.logf("sim: the simulator host process ended (%s)", detail)
			}
			proc.died("the simulator host process ended: " + detail)
		},
	})
	if err != nil {
		return fmt.Errorf("starting the simulator host: %w", err)
	}
	proc.node = node
	h.proc = proc
	return nil
}

// hostProcess is one running `node host.mjs` and the boards in it.
type hostProcess struct {
	node *nodeProcess

	mu     sync.Mutex
	boards map[uint32]*hostedBoard
	dead   bool
}

func (p *hostProcess) add(hb *hostedBoard) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead {
		return false
	}
	p.boards[hb.id] = hb
	return true
}

func (p *hostProcess) lookup(id uint32) *hostedBoard {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.boards[id]
}

func (p *hostProcess) send(typ byte, id uint32, data []byte) {
	payload := make([]byte, 4+len(data))
	binary.BigEndian.PutUint32(payload, id)
	copy(payload[4:], data)
	p.node.send(typ, payload)
}

// dispatch hands one message of the host process to its board.
func (p *hostProcess) dispatch(m nodeMessage) {
	if len(m.payload) < 4 {
		p.node.stderr.Write([]byte("\n[sim] a host message without a board id\n"))
		return
	}
	id := binary.BigEndian.Uint32(m.payload)
	data := m.payload[4:]
	hb := p.lookup(id)
	if hb == nil {
		return
	}
	switch m.typ {
	case hostData:
		hb.chunks.push(data)
	case hostEnded:
		var end struct {
			Code   int    `json:"code"`
			Detail string `json:"detail"`
		}
		if err := json.Unmarshal(data, &end); err != nil {
			end.Code, end.Detail = -1, fmt.Sprintf("unreadable end message %q", data)
		}
		p.mu.Lock()
		delete(p.boards, id)
		p.mu.Unlock()
		hb.ended(end.Code, end.Detail)
	default:
		p.node.stderr.Write([]byte(fmt.Sprintf("\n[sim] unknown host message type %q\n", m.typ)))
	}
}

// died ends every board of a host process that has ended.
func (p *hostProcess) died(detail string) {
	p.mu.Lock()
	p.dead = true
	boards := p.boards
	p.boards = map[uint32]*hostedBoard{}
	p.mu.Unlock()
	for _, hb := range boards {
		hb.ended(-1, detail)
	}
}

// hostedBoard is one board in a host process, as its Board sees it.
type hostedBoard struct {
	id   uint32
	gen  int
	proc *hostProcess
	cb   nodeCallbacks
	// chunks holds the board's framed messages as they arrive; the host
	// sends more only as read acknowledges them, so it stays bounded.
	chunks *queue[[]byte]

	endOnce  sync.Once
	code     int
	detail   string
	killOnce sync.Once
	done     chan struct{} // closed once the end has been read
}

func (hb *hostedBoard) send(typ byte, payload []byte) {
	hb.proc.send(typ, hb.id, payload)
}

func (hb *hostedBoard) pid() int { return hb.proc.node.pid() }

// ended records how the board ended; what it sent before is still read.
func (hb *hostedBoard) ended(code int, detail string) {
	hb.endOnce.Do(func() {
		hb.code, hb.detail = code, detail
		hb.chunks.close()
	})
}

// stop asks the host to stop the board's worker and waits for its end.
func (hb *hostedBoard) stop(ctx context.Context) {
	hb.killOnce.Do(func() { hb.send(hostKill, nil) })
	select {
	case <-hb.done:
	case <-ctx.Done():
	}
}

// read parses the board's messages, as nodeProcess's reader does, and then
// reports the end. It ends when the board has ended (chunks is closed).
func (hb *hostedBoard) read() {
	r := newChunkReader(hb.chunks, func(n int) {
		var ack [4]byte
		binary.BigEndian.PutUint32(ack[:], uint32(n))
		hb.send(hostAck, ack[:])
	})
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		m, err := readNodeMessage(br)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				hb.ended(-1, err.Error())
				hb.killOnce.Do(func() { hb.send(hostKill, nil) })
				for { // let the host's end message arrive
					if _, err := r.Read(make([]byte, 4096)); err != nil {
						break
					}
				}
			}
			break
		}
		hb.cb.message(hb.gen, m)
	}
	var err error
	if hb.code != 0 {
		err = fmt.Errorf("the board's worker ended with code %d", hb.code)
	}
	close(hb.done)
	hb.cb.exit(hb.gen, err, hb.detail)
}

// chunkReader reads a queue of byte chunks as one stream and acknowledges
// what it hands out.
type chunkReader struct {
	q    *queue[[]byte]
	ack  func(n int)
	held [][]byte
}

func newChunkReader(q *queue[[]byte], ack func(n int)) *chunkReader {
	return &chunkReader{q: q, ack: ack}
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.held) == 0 {
		// The queue always ends: the host's end message or its death closes it.
		items, ok := r.q.take(context.Background())
		if !ok {
			return 0, io.EOF
		}
		r.held = items
	}
	n := copy(p, r.held[0])
	if n == len(r.held[0]) {
		r.held = r.held[1:]
	} else {
		r.held[0] = r.held[0][n:]
	}
	r.ack(n)
	return n, nil
}
