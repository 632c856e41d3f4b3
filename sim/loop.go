package sim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Events for the board's loop, which alone owns the board process, the
// listener and the session slot.
type event interface{}

type (
	evNodeMessage struct {
		gen int
		msg nodeMessage
	}
	evNodeExit struct {
		gen    int
		err    error
		stderr string
	}
	evBootDelayOver struct{ gen int }
	evClient        struct {
		gen    int // the generation whose server accepted the connection
		conn   net.Conn
		reader *bufio.Reader
	}
	evHandshakeRaised struct{ problem string }
	evSessionEnded    struct{ s *session }
	evInput           struct {
		gen    int
		data   []byte
		direct bool // read by the REPL from the socket (link.deliver)
	}
	evSerialInput  struct{ data []byte }
	evResetTimer   struct{ gen, seq int }
	evResetPressed struct{ handled chan struct{} }
)

// Strings the REPL prints that tell which mode it is in: the raw REPL's
// banner, and the last line of the friendly banner.
var (
	rawModeMarker      = []byte("raw REPL; CTRL-B to exit\r\n")
	friendlyModeMarker = []byte("for more information.\r\n")
)

// maxBootFailures is how many board processes in a row may die before
// booting before the board stops trying.
const maxBootFailures = 3

// boardState is what the loop knows; only the loop touches it.
type boardState struct {
	node         boardProcess
	gen          int
	booted       bool
	delayOver    bool
	bootFailures int
	listener     net.Listener // bound from Start to the end, across resets
	serving      bool         // booted and the boot delay is over
	sess         *session
	raw          bool
	modeTail     []byte
	executing    bool
	resetTimer   *time.Timer
	resetSeq     int          // which resetTimer an evResetTimer comes from
	ready        chan<- error // non-nil until the server first serves
	webreplOn    bool         // Options.Serial: this boot ran webrepl.start()
}

func (b *Board) post(ctx context.Context, e event) {
	select {
	case b.events <- e:
	case <-ctx.Done():
	}
}

// run is the board's event loop.
func (b *Board) run(ctx context.Context, ready chan<- error) {
	defer close(b.done)
	var helpers sync.WaitGroup // accept loops and process reapers
	st := &boardState{ready: ready}
	if b.serial != nil {
		b.serial.run(ctx, func(p []byte) { b.post(ctx, evSerialInput{data: p}) })
	}
	defer func() {
		if b.serial != nil {
			defer b.serial.close(true)
		}
		b.servingGen.Store(0)
		b.closeListener(st)
		if st.sess != nil {
			st.sess.close(false)
			<-st.sess.done
		}
		b.closeAllConns()
		if st.resetTimer != nil {
			st.resetTimer.Stop()
		}
		if st.node != nil {
			stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			st.node.stop(stopCtx)
			cancel()
		}
		helpers.Wait()
	}()
	// The port stays bound for the board's whole life, resets included, so
	// that no other process can take it while the board reboots.
	ln, err := net.Listen("tcp", b.opts.Addr)
	if err != nil {
		ready <- fmt.Errorf("listening on %s: %w", b.opts.Addr, err)
		return
	}
	st.listener = ln
	b.url = boardURL(ln.Addr())
	helpers.Add(1)
	go func() {
		defer helpers.Done()
		b.acceptLoop(ctx, ln)
	}()
	if err := b.bootNode(ctx, st, false, 0); err != nil {
		ready <- err
		return
	}
	for {
		var e event
		select {
		case <-ctx.Done():
			return
		case e = <-b.events:
		}
		switch e := e.(type) {
		case evNodeMessage:
			if e.gen != st.gen {
				continue
			}
			if err := b.handleNodeMessage(ctx, st, &helpers, e.msg); err != nil {
				b.fail(err)
				return
			}
		case evNodeExit:
			if e.gen != st.gen {
				continue
			}
			st.node = nil
			if !st.booted {
				st.bootFailures++
			}
			detail := e.stderr
			if detail == "" && e.err != nil {
				detail = e.err.Error()
			}
			if st.ready != nil {
				st.ready <- fmt.Errorf("the board process exited before booting: %s", lastLine(detail))
				return
			}
			if st.bootFailures >= maxBootFailures {
				b.fail(fmt.Errorf("the board process failed to boot %d times in a row: %s", st.bootFailures, lastLine(detail)))
				return
			}
			b.logf("sim: the board process exited unexpectedly (%s); resetting", lastLine(detail))
			if err := b.reset(ctx, st, &helpers, false); err != nil {
				b.fail(err)
				return
			}
		case evBootDelayOver:
			if e.gen == st.gen {
				st.delayOver = true
				b.maybeServe(st)
			}
		case evClient:
			b.handleClient(ctx, st, e)
		case evHandshakeRaised:
			// The accept handler's exception is printed on every console.
			if st.sess != nil {
				st.sess.print([]byte("Traceback (most recent call last):\r\n"))
				st.sess.print([]byte("  File \"webrepl.py\", line 41, in accept_conn\r\n"))
				st.sess.print([]byte("  File \"webrepl.py\", line 23, in server_handshake\r\n"))
				st.sess.print([]byte(e.problem + "\r\n"))
			}
		case evSessionEnded:
			if st.sess == e.s {
				st.sess = nil
				b.outputTo.Store(nil)
			}
		case evInput:
			if e.gen != st.gen || st.node == nil {
				continue
			}
			typ := byte(msgInput)
			if e.direct {
				typ = msgInputRead
			}
			st.node.send(typ, e.data)
		case evSerialInput:
			if st.node == nil {
				continue // a board that is booting hears nothing
			}
			// The UART fills the same input ring as WebREPL; a v1.28 ESP32
			// REPL that waits for input reads it as it comes (§4.2).
			typ := byte(msgInput)
			if b.profile.directRead && !st.executing {
				typ = msgInputRead
			}
			st.node.send(typ, e.data)
		case evResetPressed:
			b.logf("sim: reset button pressed")
			err := b.reset(ctx, st, &helpers, false)
			close(e.handled)
			if err != nil {
				b.fail(err)
				return
			}
		case evResetTimer:
			if e.gen == st.gen && e.seq == st.resetSeq && st.resetTimer != nil && st.executing {
				b.logf("sim: Ctrl-C not obeyed for %v; pressing reset", b.opts.ResetAfter)
				if err := b.reset(ctx, st, &helpers, false); err != nil {
					b.fail(err)
					return
				}
			}
		}
	}
}

// handleNodeMessage acts on one message of the current board process; an
// error means the board cannot go on.
func (b *Board) handleNodeMessage(ctx context.Context, st *boardState, helpers *sync.WaitGroup, m nodeMessage) error {
	switch m.typ {
	case msgBooted:
		st.booted = true
		st.bootFailures = 0
		b.maybeServe(st)
	case msgOutput:
		b.trackMode(st, m.payload)
		if st.sess != nil {
			st.sess.print(m.payload)
		}
		if b.serial != nil {
			b.serial.write(m.payload)
		}
	case msgDropped:
		// The total dropped; a fifth byte 1: the ring still held input the
		// waiting REPL had not read (the board process was kept off the CPU).
		if len(m.payload) == 4 || len(m.payload) == 5 {
			b.mu.Lock()
			b.droppedNow = int64(binary.BigEndian.Uint32(m.payload))
			b.mu.Unlock()
			if len(m.payload) == 5 && m.payload[4] == 1 {
				b.stalls.Add(1)
			}
		}
	case msgSoftReset:
		return b.reset(ctx, st, helpers, true)
	case msgHardReset:
		return b.reset(ctx, st, helpers, false)
	case msgBusy:
		// The board process says a Ctrl-C it read will interrupt the code
		// (second byte 1) rather than the Go side guessing from the input
		// it forwards: that input reaches the board process later, and a
		// Ctrl-C sent just before the code starts, or just after it started
		// but before its busy message arrived here, interrupts it as well.
		st.executing = len(m.payload) >= 1 && m.payload[0] == 1
		ctrlC := len(m.payload) >= 2 && m.payload[1] == 1
		b.replIdle.set(!st.executing)
		switch {
		case !st.executing && st.resetTimer != nil:
			st.resetTimer.Stop()
			st.resetTimer = nil
		case st.executing && ctrlC && st.resetTimer == nil:
			st.resetSeq++
			gen, seq := st.gen, st.resetSeq
			st.resetTimer = time.AfterFunc(b.opts.ResetAfter, func() { b.post(ctx, evResetTimer{gen: gen, seq: seq}) })
		}
	case msgPeripheral:
		var change struct {
			Pin    *int `json:"pin"`
			Value  *int `json:"value"`
			PWM    *int `json:"pwm"`
			Freq   int  `json:"freq"`
			Duty   int  `json:"duty"`
			Deinit bool `json:"deinit"`
			// webrepl.start()/stop(): a password, or null (sim/board/py/modules/webrepl.py)
			WebREPL *json.RawMessage `json:"webrepl"`
		}
		if err := json.Unmarshal(m.payload, &change); err != nil {
			b.logf("sim: unreadable peripheral message %q: %v", m.payload, err)
			return nil
		}
		if change.WebREPL != nil {
			b.webreplStartStop(st, *change.WebREPL)
			return nil
		}
		b.mu.Lock()
		if change.Pin != nil && change.Value != nil {
			b.pins[*change.Pin] = *change.Value
		}
		if change.PWM != nil {
			if change.Deinit {
				delete(b.pwms, *change.PWM)
			} else {
				b.pwms[*change.PWM] = PWMState{Freq: change.Freq, Duty: change.Duty}
			}
		}
		b.mu.Unlock()
	case msgRawPaste:
		var use struct {
			MaxExcess *int `json:"maxExcess"`
		}
		if err := json.Unmarshal(m.payload, &use); err != nil || use.MaxExcess == nil {
			b.logf("sim: unreadable raw-paste message %q: %v", m.payload, err)
			return nil
		}
		b.mu.Lock()
		if b.rawPastes == 0 || *use.MaxExcess > b.rawPasteExcess {
			b.rawPasteExcess = *use.MaxExcess
		}
		b.rawPastes++
		b.mu.Unlock()
	default:
		b.logf("sim: unknown message type %q from the board process", m.typ)
	}
	return nil
}

// trackMode follows the REPL mode from what it prints, so that a soft
// reset can keep the raw REPL (docs/protocol/webrepl.md §3.3).
func (b *Board) trackMode(st *boardState, out []byte) {
	window := append(st.modeTail, out...)
	rawAt := bytes.LastIndex(window, rawModeMarker)
	friendlyAt := bytes.LastIndex(window, friendlyModeMarker)
	switch {
	case rawAt > friendlyAt:
		st.raw = true
	case friendlyAt > rawAt:
		st.raw = false
	}
	const keep = 32
	if len(window) > keep {
		window = window[len(window)-keep:]
	}
	st.modeTail = append([]byte(nil), window...)
}

// bootNode starts a board process (generation gen+1); the server serves
// once it has booted and delay has passed.
func (b *Board) bootNode(ctx context.Context, st *boardState, raw bool, delay time.Duration) error {
	b.servingGen.Store(0)
	st.gen++
	gen := st.gen
	st.booted, st.delayOver, st.serving, st.executing, st.raw, st.modeTail = false, false, false, false, raw, nil
	st.webreplOn = false
	b.replIdle.set(true)
	node, err := b.start(ctx, gen, raw, nodeCallbacks{
		message: func(gen int, m nodeMessage) {
			if m.typ == msgOutput {
				// Back-pressure: the board process waits in print() while
				// the client is not reading (maxQueuedOutput).
				b.replIdle.printing(true)
				if s := b.outputTo.Load(); s != nil {
					s.waitRoom(ctx)
				}
				b.replIdle.printing(false)
			}
			b.post(ctx, evNodeMessage{gen: gen, msg: m})
		},
		exit: func(gen int, err error, stderr string) {
			b.post(ctx, evNodeExit{gen: gen, err: err, stderr: stderr})
		},
	})
	if err != nil {
		return err
	}
	st.node = node
	b.mu.Lock()
	b.pid = node.pid()
	b.mu.Unlock()
	if delay <= 0 {
		st.delayOver = true
	} else {
		time.AfterFunc(delay, func() { b.post(ctx, evBootDelayOver{gen: gen}) })
	}
	return nil
}

// reset is a soft or hard reset: the client is dropped, the board process
// replaced, and the server serves again after the boot delay. RAM state,
// and on a hard reset the pin states, are lost; the flash folder stays.
// An error means no new board process could be started.
func (b *Board) reset(ctx context.Context, st *boardState, helpers *sync.WaitGroup, soft bool) error {
	b.mu.Lock()
	if soft {
		b.soft++
	} else {
		b.hard++
		clear(b.pins)
		clear(b.pwms)
	}
	b.droppedBase += b.droppedNow
	b.droppedNow = 0
	b.mu.Unlock()
	if st.resetTimer != nil {
		st.resetTimer.Stop()
		st.resetTimer = nil
	}
	// The server stops serving first: a client that sees its connection
	// drop and dials at once must be refused, not served by the old board.
	b.servingGen.Store(0)
	st.serving = false
	b.dropClient(st)
	if old := st.node; old != nil {
		helpers.Add(1)
		go func() {
			defer helpers.Done()
			stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			old.stop(stopCtx)
		}()
	}
	st.node = nil
	raw := soft && st.raw
	delay := b.opts.BootDelay
	if !soft {
		delay *= 2
	}
	kind := "hard"
	if soft {
		kind = "soft"
	}
	b.logf("sim: %s reset (raw REPL kept: %v)", kind, raw)
	if err := b.bootNode(ctx, st, raw, delay); err != nil {
		return fmt.Errorf("restarting the board process after a %s reset: %w", kind, err)
	}
	return nil
}

func (b *Board) dropClient(st *boardState) {
	if st.sess != nil {
		st.sess.close(true)
		st.sess = nil
		b.outputTo.Store(nil)
	}
}

func (b *Board) closeListener(st *boardState) {
	if st.listener != nil {
		st.listener.Close()
		st.listener = nil
	}
}

// maybeServe lets the WebREPL server serve once the board has booted and
// the boot delay is over (the real board's boot.py starts webrepl).
// With Options.Serial it serves only once this boot has run webrepl.start().
func (b *Board) maybeServe(st *boardState) {
	if !st.booted || !st.delayOver || st.serving {
		return
	}
	if !b.opts.Serial || st.webreplOn {
		st.serving = true
		b.servingGen.Store(int64(st.gen))
	}
	if st.ready != nil {
		st.ready <- nil
		st.ready = nil
	}
}

// webreplStartStop acts on the board's webrepl.start(password) (a JSON
// string) or stop() (null) when WebREPL is the board's to start
// (Options.Serial); otherwise the server serves from boot and these are
// ignored, as a boot.py copied from a board runs on any simulated board.
func (b *Board) webreplStartStop(st *boardState, msg json.RawMessage) {
	if !b.opts.Serial {
		return
	}
	var password *string
	if err := json.Unmarshal(msg, &password); err != nil {
		b.logf("sim: unreadable webrepl message %q: %v", msg, err)
		return
	}
	if password == nil {
		st.webreplOn = false
		if st.serving {
			b.servingGen.Store(0)
			st.serving = false
			b.dropClient(st)
		}
		return
	}
	if err := b.SetPassword(*password); err != nil {
		b.logf("sim: webrepl.start(): %v; WebREPL stays off", err)
		return
	}
	b.logf("sim: webrepl.start(): WebREPL on")
	st.webreplOn = true
	b.maybeServe(st)
}

func boardURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "ws://" + addr.String() + "/"
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "ws://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port)) + "/"
}

// acceptLoop accepts connections until the listener closes; each one's
// HTTP handshake runs on its own goroutine (the real board blocks in it).
// While the board reboots a connection is closed at once, as by a board
// whose WebREPL server is not up yet.
func (b *Board) acceptLoop(ctx context.Context, ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				b.logf("sim: accept: %v", err)
			}
			return
		}
		gen := int(b.servingGen.Load())
		if gen == 0 {
			conn.Close()
			continue
		}
		disableNoDelay(conn)
		b.trackConn(conn, true)
		go b.handshake(ctx, conn, gen)
	}
}

func (b *Board) handshake(ctx context.Context, conn net.Conn, gen int) {
	fault := b.currentFault()
	if fault == FaultSilent {
		serveSilent(conn)
		b.forget(conn)
		return
	}
	reader := bufio.NewReader(conn)
	req, err := readHandshake(reader)
	if err != nil {
		b.logf("sim: handshake from %s failed: %v", conn.RemoteAddr(), err)
		b.forget(conn)
		return
	}
	if fault == FaultHTML {
		req.outcome = handshakeHTML
	}
	switch req.outcome {
	case handshakeHTML:
		_, _ = conn.Write([]byte(htmlFallbackReply))
		b.forget(conn)
	case handshakeAbandon:
		b.logf("sim: handshake from %s raised %s", conn.RemoteAddr(), req.problem)
		b.post(ctx, evHandshakeRaised{problem: req.problem})
		b.forget(conn)
	case handshakeUpgrade:
		for _, part := range []string{handshakeReplyPrefix, acceptKey(req.key), handshakeReplyEnd} {
			if _, err := conn.Write([]byte(part)); err != nil {
				b.forget(conn)
				return
			}
		}
		if fault == FaultGarbageFrames {
			serveGarbage(conn)
			b.forget(conn)
			return
		}
		if fault == FaultFloodLogin || fault == FaultFloodOutput {
			serveFlood(conn, reader, fault)
			b.forget(conn)
			return
		}
		b.post(ctx, evClient{gen: gen, conn: conn, reader: reader})
	}
}

func (b *Board) forget(conn net.Conn) {
	conn.Close()
	b.trackConn(conn, false)
}

// handleClient applies the single-client policy to an upgraded connection.
func (b *Board) handleClient(ctx context.Context, st *boardState, e evClient) {
	if e.gen != st.gen || !st.serving {
		b.forget(e.conn) // the board rebooted while this handshake ran
		return
	}
	peer := pythonAddress(e.conn.RemoteAddr())
	if st.sess != nil {
		// print("\nConcurrent WebREPL connection from", addr, "rejected"),
		// cooked: one write per line break.
		st.sess.print([]byte("\r\n"))
		st.sess.print([]byte("Concurrent WebREPL connection from " + peer + " rejected"))
		st.sess.print([]byte("\r\n"))
		b.forget(e.conn)
		return
	}
	b.logf("sim: WebREPL connection from: %s", peer)
	gen := st.gen
	s := &session{
		conn:     e.conn,
		reader:   e.reader,
		password: b.Password(),
		latency:  b.opts.Latency,
		logf:     b.logf,
		onText:   b.countTextFrame,
		input:    make(chan timedChunk, 64),
		fault:    b.currentFault,
		xfer:     fileTransfer{flashDir: b.flashDir, fault: b.currentFault, version: b.firmware.getVer()},
	}
	l := &link{
		profile:     b.profile,
		drainPeriod: b.opts.DrainPeriod,
		in:          s.input,
		idle:        b.replIdle,
		deliver:     func(p []byte, direct bool) { b.post(ctx, evInput{gen: gen, data: p, direct: direct}) },
		stalled:     func() { b.stalls.Add(1) },
	}
	go l.run(ctx)
	st.sess = s
	s.start(ctx, func() {
		b.trackConn(e.conn, false)
		b.post(ctx, evSessionEnded{s: s})
	})
	b.outputTo.Store(s)
}
