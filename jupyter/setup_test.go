package jupyter

// The package's test setup: a Serve with testHandler (startServer) and the
// one ZMQ client, KernelClient, connected to it and past KernelInfo
// (newTestKernel), plus the waits the tests share.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
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

// Beside takes comm_msg beside the running shell request (BesideHandler).
func (h *testHandler) Beside(r Request) bool { return r.Type() == "comm_msg" }

// HandleBeside answers a comm_msg with one carrying message metadata.
func (h *testHandler) HandleBeside(ctx context.Context, r Request) {
	h.record(r)
	var m CommMsg
	mustOK(r.Decode(&m))
	mustOK(r.Publish("comm_msg", WithMetadata{Content: CommMsg{CommID: m.CommID, Data: Metadata{"method": "echo_update"}},
		Metadata: map[string]any{"version": "2.1.0"}}))
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

// testKernel is a running Serve with a KernelClient that has seen it
// ready, and an iopub Subscription opened after that.
type testKernel struct {
	*running
	c     *KernelClient
	iopub *Subscription
}

// newTestKernel starts Serve on info (zero ports are picked by the
// system), connects a KernelClient and waits until KernelInfo says the
// kernel is serving and iopub is subscribed; the replies to its
// kernel_info requests have all been taken, so the next message on shell
// answers the test's first request.
func newTestKernel(t *testing.T, info ConnectionInfo) *testKernel {
	t.Helper()
	rs := startServer(t, info)
	c, err := Connect(rs.info)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close) // before Serve stops: cleanups run last first
	t.Cleanup(func() {
		if n, last := c.Rejected(); n > 0 {
			t.Errorf("the client got %d message(s) it cannot decode, the last: %v", n, last)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if _, err := c.KernelInfo(ctx); err != nil {
		t.Fatalf("kernel not ready: %v", err)
	}
	sub := c.Subscribe()
	t.Cleanup(sub.Close)
	return &testKernel{running: rs, c: c, iopub: sub}
}

// waitCtx bounds one wait of a test by waitLong.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	t.Cleanup(cancel)
	return ctx
}

// send sends m on ch, failing the test if it cannot.
func (k *testKernel) send(t *testing.T, ch Channel, m Outgoing) Sent {
	t.Helper()
	sent, err := k.c.Send(ch, m)
	if err != nil {
		t.Fatalf("send %s: %v", m.Type, err)
	}
	return sent
}

// request sends m on ch and returns its reply.
func (k *testKernel) request(t *testing.T, ch Channel, m Outgoing) Message {
	t.Helper()
	reply, err := k.c.Request(waitCtx(t), ch, m)
	if err != nil {
		t.Fatalf("%s: %v", m.Type, err)
	}
	return reply
}

// next returns the next message on ch, whatever it answers.
func (k *testKernel) next(t *testing.T, ch Channel) Message {
	t.Helper()
	m, err := k.c.Receive(waitCtx(t), ch)
	if err != nil {
		t.Fatalf("next message on %s: %v", ch, err)
	}
	return m
}

// queued returns a message already waiting on ch, if there is one.
func (k *testKernel) queued(t *testing.T, ch Channel) (Message, bool) {
	t.Helper()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	m, err := k.c.Receive(ended, ch)
	if errors.Is(err, context.Canceled) {
		return Message{}, false
	}
	if err != nil {
		t.Fatalf("%s: %v", ch, err)
	}
	return m, true
}

// replyTo skips messages on ch until the one parented to msgID.
func (k *testKernel) replyTo(t *testing.T, ch Channel, msgID string) Message {
	t.Helper()
	for {
		if m := k.next(t, ch); m.ParentID == msgID {
			return m
		}
	}
}

// nextIOPub returns the next message of the test's iopub Subscription.
func (k *testKernel) nextIOPub(t *testing.T, what string) Message {
	t.Helper()
	m, err := k.iopub.Next(waitCtx(t))
	if err != nil {
		t.Fatalf("iopub, waiting for %s: %v", what, err)
	}
	return m
}

// untilIdle collects the iopub messages parented to msgID up to and
// including its idle status, skipping those of other requests.
func (k *testKernel) untilIdle(t *testing.T, msgID string) []Message {
	t.Helper()
	var got []Message
	for {
		m := k.nextIOPub(t, "idle for "+msgID)
		if m.ParentID != msgID {
			continue
		}
		got = append(got, m)
		if m.Type == "status" && executionState(t, m) == StateIdle {
			return got
		}
	}
}

func executionState(t *testing.T, m Message) string {
	t.Helper()
	var st Status
	if err := m.Decode(&st); err != nil {
		t.Fatalf("status content: %v", err)
	}
	return st.ExecutionState
}
