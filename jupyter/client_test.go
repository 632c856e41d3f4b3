package jupyter

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/security/null"
	"github.com/google/uuid"
)

// waitLong bounds every wait in these tests: generous for a loaded 2-core
// machine; a healthy run never gets near it.
const waitLong = 20 * time.Second

// testKey signs the test sessions.
const testKey = "c0ffee-test-key"

// testHandler is a small Handler exercising the Request API.
type testHandler struct {
	shutdown context.CancelFunc // cancels Serve's context

	started chan string   // receives an execute's code when it starts
	release chan struct{} // closed (or sent to) to let a "block" execute finish

	mu         sync.Mutex
	handled    []string // msg_ids, in handling order
	cancelExec context.CancelFunc
}

func newTestHandler() *testHandler {
	return &testHandler{started: make(chan string, 10), release: make(chan struct{})}
}

func (h *testHandler) handledIDs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.handled...)
}

func (h *testHandler) record(r Request) {
	h.mu.Lock()
	h.handled = append(h.handled, r.MsgID())
	h.mu.Unlock()
}

func kernelInfo() KernelInfoReply {
	return KernelInfoReply{
		Status: StatusOK, ProtocolVersion: ProtocolVersion, Implementation: "test",
		ImplementationVersion: "0.1", Banner: "test kernel",
		LanguageInfo: LanguageInfo{Name: "python", Version: "3.4", Mimetype: "text/x-python", FileExtension: ".py"},
		HelpLinks:    []HelpLink{{Text: "MicroPython", URL: "https://docs.micropython.org/"}},
	}
}

func (h *testHandler) HandleShell(ctx context.Context, r Request) {
	h.record(r)
	switch r.Type() {
	case "kernel_info_request":
		mustOK(r.Reply(kernelInfo()))
	case "execute_request":
		var req ExecuteRequest
		if err := r.Decode(&req); err != nil {
			mustOK(r.Reply(ErrorReply{Ename: "BadRequest", Evalue: err.Error()}))
			return
		}
		h.started <- req.Code
		switch req.Code {
		case "block":
			select {
			case <-h.release:
			case <-ctx.Done():
			}
		case "panic":
			panic("handler bug\nsecond line")
		case "reply then panic":
			mustOK(r.Reply(ExecuteReply{Status: StatusOK, ExecutionCount: 1}))
			panic("after the reply")
		case "input":
			execCtx, cancel := context.WithCancel(ctx)
			h.mu.Lock()
			h.cancelExec = cancel
			h.mu.Unlock()
			value, err := r.Input(execCtx, "name? ", false)
			cancel()
			if err != nil {
				mustOK(r.Publish("stream", Stream{Name: Stderr, Text: "input failed: " + err.Error()}))
				mustOK(r.Reply(ExecuteReply{Status: StatusError, ExecutionCount: 1, Ename: "InputError", Evalue: err.Error()}))
				return
			}
			mustOK(r.Publish("stream", Stream{Name: Stdout, Text: "hello " + value}))
		default:
			mustOK(r.Publish("stream", Stream{Name: Stdout, Text: req.Code}))
		}
		mustOK(r.Reply(ExecuteReply{Status: StatusOK, ExecutionCount: 1}))
	}
}

func (h *testHandler) HandleControl(ctx context.Context, r Request) {
	h.record(r)
	switch r.Type() {
	case "kernel_info_request":
		mustOK(r.Reply(kernelInfo()))
	case "interrupt_request":
		h.mu.Lock()
		if h.cancelExec != nil {
			h.cancelExec()
		}
		h.mu.Unlock()
		mustOK(r.Reply(InterruptReply{Status: StatusOK}))
	case "panic_request": // not a real message type: lets a test panic on control
		panic(fmt.Errorf("control bug"))
	case "shutdown_request":
		var req ShutdownRequest
		mustOK(r.Decode(&req))
		mustOK(r.Reply(ShutdownReply{Status: StatusOK, Restart: req.Restart}))
		h.shutdown()
	}
}

// mustOK panics on an error the handler cannot recover from; Serve recovers
// it, logs it and answers with an InternalError reply, which the test then
// fails on.
func mustOK(err error) {
	if err != nil {
		panic(err)
	}
}

// logBuffer collects Serve's log lines.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuffer) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *logBuffer) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

// running is a Serve call started by a test.
type running struct {
	info    ConnectionInfo
	srv     *server
	handler *testHandler
	log     *logBuffer
	cancel  context.CancelFunc
	done    chan error
}

// startServer runs Serve (through serve, to learn the bound ports) with
// info; zero ports are picked by the system.
func startServer(t *testing.T, info ConnectionInfo) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := newTestHandler()
	h.shutdown = cancel
	rs := &running{handler: h, log: &logBuffer{}, cancel: cancel, done: make(chan error, 1)}
	bound := make(chan *server, 1)
	go func() {
		rs.done <- serve(ctx, info, h, rs.log.logf, func(s *server) { bound <- s })
	}()
	select {
	case s := <-bound:
		rs.srv, rs.info = s, s.info
	case err := <-rs.done:
		cancel()
		t.Fatalf("Serve: %v", err)
	case <-time.After(waitLong):
		cancel()
		t.Fatal("Serve did not bind its sockets")
	}
	t.Cleanup(func() { rs.stop(t) })
	return rs
}

// stop cancels Serve and waits for it to return.
func (rs *running) stop(t *testing.T) {
	t.Helper()
	rs.cancel()
	select {
	case err, ok := <-rs.done:
		if ok && err != nil {
			t.Errorf("Serve returned %v", err)
		}
		if ok {
			close(rs.done)
		}
	case <-time.After(waitLong):
		t.Fatal("Serve did not return after its context was cancelled")
	}
}

func tcpInfo() ConnectionInfo {
	return ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", Key: testKey, SignatureScheme: "hmac-sha256"}
}

// testClient is a pure-Go frontend: DEALERs for shell, control and stdin,
// a SUB for iopub. Shell and stdin share an identity (as jupyter_client's
// do); control has its own, so a reply sent on the wrong ROUTER is lost.
type testClient struct {
	t       *testing.T
	signer  *signer
	session string

	shell, control, stdin, iopub zmq4.Socket
	shellIn, controlIn, stdinIn  chan *message
	iopubIn                      chan *message
	sockets                      []zmq4.Socket
	wg                           sync.WaitGroup
}

func dialClient(t *testing.T, info ConnectionInfo) *testClient {
	t.Helper()
	c := &testClient{t: t, signer: newSigner(info.Key), session: uuid.NewString()}
	id := zmq4.WithID(zmq4.SocketIdentity("client-" + c.session))
	ctx := context.Background()
	c.shell = c.dial(zmq4.NewDealer(ctx, id), info.endpoint(info.ShellPort))
	c.stdin = c.dial(zmq4.NewDealer(ctx, id), info.endpoint(info.StdinPort))
	c.control = c.dial(zmq4.NewDealer(ctx, zmq4.WithID(zmq4.SocketIdentity("control-"+c.session))), info.endpoint(info.ControlPort))
	c.iopub = zmq4.NewSub(ctx)
	if err := c.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	c.dial(c.iopub, info.endpoint(info.IOPubPort))
	c.shellIn, c.controlIn = c.read(c.shell), c.read(c.control)
	c.stdinIn, c.iopubIn = c.read(c.stdin), c.read(c.iopub)
	t.Cleanup(c.close)
	return c
}

func (c *testClient) dial(s zmq4.Socket, endpoint string) zmq4.Socket {
	c.t.Helper()
	if err := s.Dial(endpoint); err != nil {
		c.t.Fatalf("dial %s: %v", endpoint, err)
	}
	c.sockets = append(c.sockets, s)
	return s
}

// read decodes everything arriving on s into a channel until s is closed.
func (c *testClient) read(s zmq4.Socket) chan *message {
	ch := make(chan *message, 1000)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(ch)
		for {
			zmsg, err := s.Recv()
			if err != nil {
				return
			}
			msg, err := decodeMessage(zmsg.Frames, c.signer)
			if err != nil {
				c.t.Errorf("client got a message it cannot decode: %v", err)
				continue
			}
			ch <- msg
		}
	}()
	return ch
}

func (c *testClient) close() {
	for _, s := range c.sockets {
		s.Close()
	}
	c.wg.Wait()
}

// send sends a request with a client header; extraHeader adds fields to it.
func (c *testClient) send(s zmq4.Socket, msgType string, content any, extraHeader map[string]any) (msgID string, header []byte) {
	c.t.Helper()
	frames, msgID, header := c.frames(msgType, content, nil, extraHeader)
	if err := s.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
		c.t.Fatalf("send %s: %v", msgType, err)
	}
	return msgID, header
}

// frames builds a signed client message (no identities: DEALER adds none).
func (c *testClient) frames(msgType string, content any, parent []byte, extraHeader map[string]any) ([][]byte, string, []byte) {
	c.t.Helper()
	msgID := uuid.NewString()
	h := map[string]any{
		"msg_id": msgID, "session": c.session, "username": "tester",
		"date": time.Now().UTC().Format(time.RFC3339Nano), "msg_type": msgType, "version": "5.3",
	}
	for k, v := range extraHeader {
		h[k] = v
	}
	header, err := json.Marshal(h)
	if err != nil {
		c.t.Fatal(err)
	}
	if parent == nil {
		parent = []byte("{}")
	}
	body, err := json.Marshal(content)
	if err != nil {
		c.t.Fatal(err)
	}
	metadata := []byte("{}")
	return [][]byte{[]byte(delimiter), c.signer.sign(header, parent, metadata, body), header, parent, metadata, body}, msgID, header
}

// next returns the next message on ch, failing the test after waitLong.
func (c *testClient) next(ch chan *message, what string) *message {
	c.t.Helper()
	select {
	case msg, ok := <-ch:
		if !ok {
			c.t.Fatalf("%s: socket closed", what)
		}
		return msg
	case <-time.After(waitLong):
		c.t.Fatalf("timed out waiting for %s", what)
	}
	return nil
}

// replyTo skips messages on ch until the reply to msgID arrives.
func (c *testClient) replyTo(ch chan *message, msgID string) *message {
	c.t.Helper()
	for {
		msg := c.next(ch, "reply to "+msgID)
		if parentID(c.t, msg) == msgID {
			return msg
		}
	}
}

// untilIdle collects the iopub messages parented to msgID up to and including
// its idle status, skipping those of other requests.
func (c *testClient) untilIdle(msgID string) []*message {
	c.t.Helper()
	var got []*message
	for {
		msg := c.next(c.iopubIn, "iopub idle for "+msgID)
		if parentID(c.t, msg) != msgID {
			continue
		}
		got = append(got, msg)
		if msg.msgType == "status" && executionState(c.t, msg) == StateIdle {
			return got
		}
	}
}

// waitForIOPub makes sure the SUB's subscription has reached the kernel (a PUB
// drops messages for peers not yet subscribed) the way jupyter_client's
// wait_for_ready does: kernel_info until some iopub message arrives. It then
// drains iopub up to the idle of one last kernel_info, so later reads start clean.
func (c *testClient) waitForIOPub() {
	c.t.Helper()
	deadline := time.After(waitLong)
	for subscribed := false; !subscribed; {
		id, _ := c.send(c.shell, "kernel_info_request", struct{}{}, nil)
		c.replyTo(c.shellIn, id)
		select {
		case <-c.iopubIn:
			subscribed = true
		case <-time.After(100 * time.Millisecond): // poll interval, not an assertion
		case <-deadline:
			c.t.Fatal("no iopub message arrived: subscription never took effect")
		}
	}
	id, _ := c.send(c.shell, "kernel_info_request", struct{}{}, nil)
	c.replyTo(c.shellIn, id)
	c.untilIdle(id)
}

func parentID(t *testing.T, msg *message) string {
	t.Helper()
	var p struct {
		MsgID string `json:"msg_id"`
	}
	if err := json.Unmarshal(msg.parent, &p); err != nil {
		t.Fatalf("parent header: %v", err)
	}
	return p.MsgID
}

func executionState(t *testing.T, msg *message) string {
	t.Helper()
	var st Status
	if err := json.Unmarshal(msg.content, &st); err != nil {
		t.Fatalf("status content: %v", err)
	}
	return st.ExecutionState
}

// rawDealer is a DEALER that announces an empty identity, like
// jupyter_client's KernelManager control socket (libzmq default). zmq4's own
// sockets always invent one, so this speaks ZMTP through zmq4.Open directly.
type rawDealer struct {
	nc   net.Conn
	conn *zmq4.Conn
}

func dialRawDealer(t *testing.T, endpoint string) *rawDealer {
	t.Helper()
	addr := strings.TrimPrefix(endpoint, "tcp://")
	nc, err := net.DialTimeout("tcp", addr, waitLong)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	conn, err := zmq4.Open(nc, null.Security(), zmq4.Dealer, zmq4.SocketIdentity(""), false, nil)
	if err != nil {
		nc.Close()
		t.Fatalf("ZMTP handshake: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawDealer{nc: nc, conn: conn}
}

func (d *rawDealer) send(t *testing.T, frames [][]byte) {
	t.Helper()
	if err := d.conn.SendMsg(zmq4.NewMsgFrom(frames...)); err != nil {
		t.Fatalf("raw dealer send: %v", err)
	}
}

// recv reads one message, failing the test after waitLong.
func (d *rawDealer) recv(t *testing.T, s *signer) *message {
	t.Helper()
	if err := d.nc.SetReadDeadline(time.Now().Add(waitLong)); err != nil {
		t.Fatal(err)
	}
	for {
		zmsg, err := d.conn.RecvMsg()
		if err != nil {
			t.Fatalf("raw dealer receive: %v", err)
		}
		if zmsg.Type == zmq4.CmdMsg { // PING/PONG and the like
			continue
		}
		msg, err := decodeMessage(zmsg.Frames, s)
		if err != nil {
			t.Fatalf("raw dealer got a bad message: %v", err)
		}
		return msg
	}
}
