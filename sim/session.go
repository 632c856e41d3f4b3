package sim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The WebREPL layer's own strings (docs/protocol/webrepl.md §1.5, §9).
const (
	passwordPrompt   = "Password: "
	connectedBanner  = "\r\nWebREPL connected\r\n>>> "
	accessDenied     = "\r\nAccess denied\r\n"
	maxPasswordBytes = 10 // bytes of an attempt the board keeps
)

// outFrame is one board→client write, sent when due (one-way latency).
// A nil frame closes the TCP connection once everything before it is out.
type outFrame struct {
	due   time.Time
	frame []byte
}

// session is the one WebREPL client the board serves: password, text vs
// binary demultiplexing, file transfer, and the outgoing frame queue.
type session struct {
	ctx      context.Context
	conn     net.Conn
	reader   *bufio.Reader
	password string
	latency  time.Duration
	logf     func(format string, args ...any)
	// input receives the REPL text of each client frame (read by the link).
	input chan timedChunk
	xfer  fileTransfer
	fault func() Fault // the board's fault mode in force
	// onText is told the payload size of each text frame (and text
	// continuation) the client sends, empty ones included.
	onText func(n int)

	out           *queue[outFrame]
	queued        atomic.Int64  // bytes of frames in out, not yet written to the socket
	room          chan struct{} // signalled when queued drops below maxQueuedOutput
	authenticated atomic.Bool
	closeOnce     sync.Once
	done          chan struct{} // closed once reader and writer have ended
}

// pythonAddress formats a peer the way the board's print() shows the
// address tuple: ('127.0.0.1', 51234).
func pythonAddress(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "('" + addr.String() + "', 0)"
	}
	p, _ := strconv.Atoi(port)
	return fmt.Sprintf("('%s', %d)", host, p)
}

// start runs the session's reader and writer. ended is called once the
// reader has stopped, i.e. the board's dupterm slot is free again.
func (s *session) start(ctx context.Context, ended func()) {
	s.ctx = ctx
	s.out = newQueue[outFrame]()
	s.room = make(chan struct{}, 1)
	s.done = make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.writeLoop(ctx)
	}()
	go func() {
		defer wg.Done()
		err := s.readLoop()
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
			s.logf("sim: WebREPL session from %s ended: %v", s.conn.RemoteAddr(), err)
		}
		// The slot is free before the client can see its connection end,
		// so that a client reconnecting at once is not turned away.
		ended()
		close(s.input)
		s.xfer.release()
		s.close(true)
	}()
	go func() {
		wg.Wait()
		close(s.done)
	}()
	if s.fault() != FaultNoPrompt {
		s.send(opText, []byte(passwordPrompt))
	}
}

// send queues one frame; it never blocks. A write the board cannot frame
// (≥ 64 KiB) ends the session, as dupterm does on a write error.
func (s *session) send(opcode byte, payload []byte) {
	frame, err := encodeBoardFrame(opcode, payload)
	if err != nil {
		s.logf("sim: dupterm: write error, deactivating: %v", err)
		s.close(false)
		return
	}
	s.queued.Add(int64(len(frame)))
	s.out.push(outFrame{due: time.Now().Add(s.latency), frame: frame})
}

// maxQueuedOutput bounds the console output waiting to be written to the
// client. A real board writes to the socket in blocking mode, so a client
// that stops reading fills the TCP send window and holds the program inside
// print() (docs/protocol/webrepl.md §1.4); the simulator models that window
// with this bound instead of queueing output without limit, which would
// also leave an interrupted flood's traceback behind megabytes of backlog.
const maxQueuedOutput = 32 << 10

// waitRoom blocks while more than maxQueuedOutput bytes wait to be written,
// until the client reads, the session ends or ctx is done.
func (s *session) waitRoom(ctx context.Context) {
	for s.queued.Load() > maxQueuedOutput {
		select {
		case <-s.room:
		case <-s.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// print shows console output to the client, once it has logged in (the
// board discards output for an unauthenticated client).
func (s *session) print(payload []byte) {
	if s.authenticated.Load() {
		s.send(opText, payload)
	}
}

// close drops the TCP connection: after what is already queued has gone
// out (flush), or at once. A client that does not read cannot hold a
// flushing close forever.
func (s *session) close(flush bool) {
	s.closeOnce.Do(func() {
		if !flush {
			s.conn.Close()
			s.out.close()
			return
		}
		s.out.push(outFrame{due: time.Now().Add(s.latency)})
		s.out.close()
		time.AfterFunc(s.latency+2*time.Second, func() { s.conn.Close() })
	})
}

func (s *session) writeLoop(ctx context.Context) {
	defer s.conn.Close()
	for {
		frames, ok := s.out.take(ctx)
		if !ok {
			return
		}
		for _, f := range frames {
			if wait := time.Until(f.due); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return
				}
			}
			if f.frame == nil {
				return
			}
			if err := writeBoardFrame(s.conn, f.frame); err != nil {
				s.conn.Close()
				return
			}
			if s.queued.Add(-int64(len(f.frame))) <= maxQueuedOutput {
				select {
				case s.room <- struct{}{}:
				default:
				}
			}
		}
	}
}

// readLoop parses client frames until the connection ends. Control frames
// are handled bug-for-bug: no pong, payload minus its last byte leaks into
// the file-transfer parser, close is answered with an empty close frame.
func (s *session) readLoop() error {
	var dataType byte = opText
	var password []byte
	next := s.frameReader()
	for {
		f, arrived, err := next()
		if err != nil {
			return err
		}
		opcode := f.opcode
		switch {
		case opcode == opContinuation:
			opcode = dataType
		case opcode < opClose:
			dataType = opcode
		default:
			leaked := f.payload
			if len(leaked) > 0 {
				leaked = leaked[:len(leaked)-1]
			}
			if len(leaked) > 0 {
				if err := s.consume(leaked, opBinary, &password, arrived); err != nil {
					return err
				}
			}
			if opcode == opClose {
				s.send(opClose, nil)
				return io.EOF
			}
			continue
		}
		if opcode == opText && s.onText != nil {
			s.onText(len(f.payload))
		}
		if len(f.payload) == 0 {
			continue
		}
		if err := s.consume(f.payload, opcode, &password, arrived); err != nil {
			return err
		}
	}
}

// inboundFrames bounds the frames read ahead while they wait out the
// latency; beyond it TCP holds them.
const inboundFrames = 64

// frameReader returns the function that gives the client's next frame and
// when it reached the board's socket. With a latency every frame is handed
// over only once it is due, so the login and file transfer see the delay
// too, not only REPL text (which the link delays); frames are read ahead
// on their own goroutine so that waiting does not shift later arrivals.
func (s *session) frameReader() func() (clientFrame, time.Time, error) {
	if s.latency <= 0 {
		return func() (clientFrame, time.Time, error) {
			f, err := readClientFrame(s.reader)
			return f, time.Now(), err
		}
	}
	type stamped struct {
		f       clientFrame
		arrived time.Time
		err     error
	}
	frames := make(chan stamped, inboundFrames)
	go func() {
		for {
			f, err := readClientFrame(s.reader)
			select {
			case frames <- stamped{f, time.Now(), err}:
			case <-s.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return func() (clientFrame, time.Time, error) {
		var sf stamped
		select {
		case sf = <-frames:
		case <-s.ctx.Done():
			return clientFrame{}, time.Time{}, s.ctx.Err()
		}
		if sf.err == nil {
			if wait := time.Until(sf.arrived.Add(s.latency)); wait > 0 {
				select {
				case <-time.After(wait):
				case <-s.ctx.Done():
					return clientFrame{}, time.Time{}, s.ctx.Err()
				}
			}
		}
		return sf.f, sf.arrived, sf.err
	}
}

// consume routes the payload bytes of one frame (or a control frame's
// leak), which reached the socket at arrived: password attempt, REPL text,
// or file transfer.
func (s *session) consume(data []byte, opcode byte, password *[]byte, arrived time.Time) error {
	var text []byte
	switch s.fault() {
	case FaultNoPrompt:
		return nil // no prompt, so no login either
	case FaultMuteREPL:
		if s.authenticated.Load() {
			return nil
		}
	}
	for len(data) > 0 {
		if !s.authenticated.Load() {
			c := data[0]
			data = data[1:]
			if c != '\r' && c != '\n' {
				if len(*password) < maxPasswordBytes {
					*password = append(*password, c)
				}
				continue
			}
			if string(*password) != s.password {
				s.logf("sim: dupterm: EOF received, deactivating (wrong password from %s)", s.conn.RemoteAddr())
				s.send(opText, []byte(accessDenied))
				return io.EOF
			}
			s.authenticated.Store(true)
			s.send(opText, []byte(connectedBanner))
			if s.fault() == FaultMuteREPL {
				return nil
			}
			continue
		}
		var replies [][]byte
		var err error
		switch {
		case s.xfer.headerInProgress() || opcode != opText:
			var n int
			n, replies, err = s.xfer.feed(data, opcode == opText)
			data = data[n:]
		default:
			text = append(text, data...)
			data = nil
		}
		for _, r := range replies {
			s.send(opBinary, r)
		}
		if err != nil {
			s.logf("sim: dupterm: Exception in read() method, deactivating: %v", err)
			return err
		}
	}
	if len(text) > 0 {
		select {
		case s.input <- timedChunk{due: arrived.Add(s.latency), data: text}:
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
	}
	return nil
}
