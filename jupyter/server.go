// Package jupyter implements the kernel side of the Jupyter messaging protocol
// (version 5.5) over ZeroMQ: the connection file, the five sockets, message
// signing, heartbeat, and dispatch of shell and control requests to a Handler
// with the busy/idle bracketing that frontends rely on. It knows nothing about
// what the kernel executes.
package jupyter

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/google/uuid"
)

// Handler answers requests. Both methods receive the context given to Serve.
type Handler interface {
	// HandleShell runs on the single shell goroutine, one request at a time, in arrival order.
	HandleShell(ctx context.Context, r Request)
	// HandleControl runs on the control goroutine, concurrently with HandleShell.
	HandleControl(ctx context.Context, r Request)
}

// BesideHandler is a Handler that takes some shell requests beside the
// shell request being handled rather than after it: a comm message that a
// widget sends while a cell runs (kernel/widgetcomm.go) must not wait for
// the cell's end.
type BesideHandler interface {
	Handler
	// Beside is called on the shell socket's reader for every shell
	// request, in arrival order; true hands r to HandleBeside instead of
	// queueing it for HandleShell. It must not block.
	Beside(r Request) bool
	// HandleBeside runs on a goroutine of its own, one request at a time in
	// arrival order, bracketed by busy and idle like HandleShell (a widget
	// frontend sends a model's next update once it sees the idle of the
	// last one).
	HandleBeside(ctx context.Context, r Request)
}

const (
	// sendTimeout bounds a ZMQ send. zmq4's default is five minutes, and a
	// ROUTER send blocks until some peer has ever connected (docs/protocol/jupyter.md §4.3).
	sendTimeout = 10 * time.Second
	// iopubFlushDelay is how long Serve keeps iopub open after the last
	// publish: the PUB sends from a goroutine per subscriber, so a returned
	// Send is not yet a delivered message.
	iopubFlushDelay = 250 * time.Millisecond
	// shutdownGrace is how long Serve waits for a handler that ignores the
	// cancelled context before closing the sockets anyway.
	shutdownGrace = 3 * time.Second
)

// ErrClosed is returned by Request methods once Serve has closed its sockets.
var ErrClosed = errors.New("jupyter: server closed")

// Serve binds the sockets named in info, answers heartbeats, reads and
// verifies requests and hands them to h until ctx is cancelled. It then waits
// for running handlers, lets iopub flush briefly, closes every socket (so the
// ports can be bound again at once) and returns nil. Errors are returned for a
// bad ConnectionInfo, a port that cannot be bound, or a socket that fails.
func Serve(ctx context.Context, info ConnectionInfo, h Handler, logf func(string, ...any)) error {
	return serve(ctx, info, h, logf, nil)
}

// serve is Serve with a hook called once the sockets are bound (tests bind
// port 0 and read the ports from s.info).
func serve(ctx context.Context, info ConnectionInfo, h Handler, logf func(string, ...any), listening func(*server)) error {
	if h == nil {
		return errors.New("jupyter: Serve needs a Handler")
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if err := info.check(false); err != nil {
		return fmt.Errorf("jupyter: %w", err)
	}
	s := &server{
		info:    info,
		signer:  newSigner(info.Key),
		session: uuid.NewString(),
		logf:    logf,
		closing: make(chan struct{}),
		inputs:  inputWaiters{pending: map[string]chan string{}},

		shellQueue:   newRequestQueue(),
		controlQueue: newRequestQueue(),
		besideQueue:  newRequestQueue(),
	}
	if err := s.bind(); err != nil {
		return err
	}
	if listening != nil {
		listening(s)
	}
	return s.run(ctx, h)
}

// server holds one Serve call's sockets and state.
type server struct {
	info    ConnectionInfo
	signer  *signer
	session string // identifies this kernel process in every header we send
	logf    func(string, ...any)

	sockCtx   context.Context
	sockClose context.CancelFunc
	shell     *socket
	control   *socket
	stdin     *socket
	iopub     *socket
	heartbeat *socket

	closing chan struct{} // closed when the sockets are about to close
	inputs  inputWaiters

	shellQueue, controlQueue *requestQueue
	besideQueue              *requestQueue // shell requests a BesideHandler takes

	publishMu   sync.Mutex
	lastPublish time.Time
}

// socket is a zmq4 socket with serialised writes.
type socket struct {
	name string
	zmq  zmq4.Socket
	mu   sync.Mutex
}

func (k *socket) send(frames [][]byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.zmq.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
		return fmt.Errorf("send on %s socket: %w", k.name, err)
	}
	return nil
}

// bind creates and binds all five sockets, or none.
func (s *server) bind() error {
	// The sockets get their own context: cancelling Serve's ctx must not
	// close them before the last replies and the idle status are out.
	s.sockCtx, s.sockClose = context.WithCancel(context.Background())
	zlog := log.New(logWriter(s.logf), "zmq4: ", 0)
	opts := []zmq4.Option{zmq4.WithTimeout(sendTimeout), zmq4.WithLogger(zlog)}
	specs := []struct {
		dst  **socket
		name string
		port *int
		make func(context.Context, ...zmq4.Option) zmq4.Socket
	}{
		{&s.shell, "shell", &s.info.ShellPort, zmq4.NewRouter},
		{&s.control, "control", &s.info.ControlPort, zmq4.NewRouter},
		{&s.stdin, "stdin", &s.info.StdinPort, zmq4.NewRouter},
		{&s.iopub, "iopub", &s.info.IOPubPort, func(ctx context.Context, _ ...zmq4.Option) zmq4.Socket { return newPubSocket(ctx, s.logf, s.welcome) }},
		// A ROUTER echoing whole messages (identity, delimiter, payload)
		// answers libzmq REQ clients as ipykernel's heartbeat does.
		{&s.heartbeat, "heartbeat", &s.info.HBPort, zmq4.NewRouter},
	}
	for _, spec := range specs {
		zs := spec.make(s.sockCtx, opts...)
		k := &socket{name: spec.name, zmq: zs}
		*spec.dst = k
		endpoint := s.info.endpoint(*spec.port)
		if err := listen(zs, endpoint, s.info.Transport); err != nil {
			s.closeSockets()
			return fmt.Errorf("jupyter: bind %s socket to %s: %w", spec.name, endpoint, err)
		}
		if tcp, ok := zs.Addr().(*net.TCPAddr); ok && *spec.port == 0 {
			*spec.port = tcp.Port
		}
	}
	return nil
}

// listen binds zs; for ipc it first clears a socket file left behind by a
// kernel that was killed (nothing accepts on it), as libzmq does.
func listen(zs zmq4.Socket, endpoint, transport string) error {
	err := zs.Listen(endpoint)
	if err == nil || transport != "ipc" {
		return err
	}
	path := strings.TrimPrefix(endpoint, "ipc://")
	fi, statErr := os.Lstat(path)
	if statErr != nil || fi.Mode()&os.ModeSocket == 0 {
		return err
	}
	if c, dialErr := net.Dial("unix", path); dialErr == nil {
		c.Close()
		return err // a live process owns it
	}
	if rmErr := os.Remove(path); rmErr != nil {
		return fmt.Errorf("%w (stale socket file not removed: %v)", err, rmErr)
	}
	return zs.Listen(endpoint)
}

func (s *server) closeSockets() {
	s.sockClose()
	for _, k := range []*socket{s.shell, s.control, s.stdin, s.iopub, s.heartbeat} {
		if k != nil {
			k.zmq.Close()
		}
	}
}

// run serves until ctx is cancelled or a socket fails.
func (s *server) run(parent context.Context, h Handler) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	var readers, workers goroutineGroup
	fail := func(err error) { cancel(err) } // a socket failed: end Serve with that error

	readers.start(func() { s.echoHeartbeats(fail) })
	shellRoute := func(*wireRequest) *requestQueue { return s.shellQueue }
	if bh, ok := h.(BesideHandler); ok {
		shellRoute = func(r *wireRequest) *requestQueue {
			if bh.Beside(r) {
				return s.besideQueue
			}
			return s.shellQueue
		}
		workers.start(func() { s.work(ctx, s.besideQueue, bh.HandleBeside) })
	}
	readers.start(func() { s.readRequests(s.shell, "shell", shellRoute, fail) })
	readers.start(func() {
		s.readRequests(s.control, "control", func(*wireRequest) *requestQueue { return s.controlQueue }, fail)
	})
	readers.start(func() { s.readInputReplies(fail) })
	workers.start(func() { s.work(ctx, s.shellQueue, h.HandleShell) })
	workers.start(func() { s.work(ctx, s.controlQueue, h.HandleControl) })

	// Usually lost (no subscriber yet), but the protocol asks for it.
	if err := s.publish(nil, "status", Status{ExecutionState: StateStarting}); err != nil {
		s.logf("jupyter: %v", err)
	}

	<-ctx.Done()
	if !workers.wait(shutdownGrace) {
		s.logf("jupyter: a handler ignored shutdown for %v; closing sockets anyway", shutdownGrace)
	}
	s.waitIOPubFlush()
	close(s.closing)
	s.closeSockets()
	if !readers.wait(shutdownGrace) {
		s.logf("jupyter: socket readers did not stop within %v", shutdownGrace)
	}
	if cause := context.Cause(ctx); parent.Err() == nil && cause != nil {
		return fmt.Errorf("jupyter: %w", cause)
	}
	return nil
}

// readRequests reads one ROUTER socket and queues valid requests on the
// queue route picks. It returns
// when the socket is closed; any other receive error ends Serve, because
// zmq4 keeps returning it (a loop that logged and continued would spin).
func (s *server) readRequests(k *socket, channel string, route func(*wireRequest) *requestQueue, fail func(error)) {
	for {
		zmsg, err := k.zmq.Recv()
		if err != nil {
			if s.sockCtx.Err() == nil {
				fail(fmt.Errorf("receive on %s socket: %w", channel, err))
			}
			return
		}
		received := time.Now()
		msg, err := decodeMessage(zmsg.Frames, s.signer)
		if err != nil {
			s.logf("jupyter: %s: dropped a message: %v", channel, err)
			continue
		}
		r := &wireRequest{srv: s, sock: k, channel: channel, msg: msg, received: received}
		route(r).push(r)
	}
}

// readInputReplies delivers input_reply messages to waiting Input calls.
func (s *server) readInputReplies(fail func(error)) {
	for {
		zmsg, err := s.stdin.zmq.Recv()
		if err != nil {
			if s.sockCtx.Err() == nil {
				fail(fmt.Errorf("receive on stdin socket: %w", err))
			}
			return
		}
		msg, err := decodeMessage(zmsg.Frames, s.signer)
		if err != nil {
			s.logf("jupyter: stdin: dropped a message: %v", err)
			continue
		}
		if msg.msgType != "input_reply" {
			s.logf("jupyter: stdin: ignored a %s message", msg.msgType)
			continue
		}
		if err := s.inputs.deliver(msg); err != nil {
			s.logf("jupyter: stdin: %v", err)
		}
	}
}

// echoHeartbeats sends every heartbeat message straight back, frames intact.
func (s *server) echoHeartbeats(fail func(error)) {
	for {
		zmsg, err := s.heartbeat.zmq.Recv()
		if err != nil {
			if s.sockCtx.Err() == nil {
				fail(fmt.Errorf("receive on heartbeat socket: %w", err))
			}
			return
		}
		if err := s.heartbeat.send(zmsg.Frames); err != nil && s.sockCtx.Err() == nil {
			s.logf("jupyter: heartbeat: %v", err)
		}
	}
}

// work runs handle for each queued request, bracketed by busy and idle.
func (s *server) work(ctx context.Context, q *requestQueue, handle func(context.Context, Request)) {
	for {
		r, ok := q.pop(ctx)
		if !ok {
			if n := q.len(); n > 0 {
				s.logf("jupyter: shutting down with %d unanswered request(s)", n)
			}
			return
		}
		if err := r.Publish("status", Status{ExecutionState: StateBusy}); err != nil {
			s.logf("jupyter: %v", err)
		}
		s.callHandler(ctx, r, handle)
		if err := r.Publish("status", Status{ExecutionState: StateIdle}); err != nil {
			s.logf("jupyter: %v", err)
		}
	}
}

// callHandler keeps a panicking handler from taking the kernel down. A
// request the handler had not answered yet gets an error reply, because a
// frontend waits for the reply forever otherwise.
func (s *server) callHandler(ctx context.Context, r *wireRequest, handle func(context.Context, Request)) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		s.logf("jupyter: %s handler panicked on %s: %v\n%s", r.channel, r.Type(), p, debug.Stack())
		if !strings.HasSuffix(r.Type(), "_request") || r.replied.Load() {
			return
		}
		reply := ErrorReply{Status: StatusError, Ename: "InternalError", Evalue: panicLine(p), Traceback: []string{}}
		if err := r.Reply(reply); err != nil {
			s.logf("jupyter: error reply after a panic: %v", err)
		}
	}()
	handle(ctx, r)
}

// panicLine renders a recovered panic value as a single line of text.
func panicLine(p any) string {
	text := strings.TrimSpace(fmt.Sprint(p))
	return strings.Join(strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n"), " ")
}

// welcome encodes the iopub_welcome that answers a subscription to topic
// (protocol 5.5, JEP 65): no parent, the subscription in the content, and
// a first frame the subscriber's prefix matches (ipykernel sends the topic
// itself).
func (s *server) welcome(topic string) (zmq4.Msg, error) {
	first := topic
	if first == "" {
		first = "kernel." + s.session + ".iopub_welcome"
	}
	frames, _, err := outgoing{
		identities: [][]byte{[]byte(first)},
		msgType:    "iopub_welcome",
		content:    IOPubWelcome{Subscription: topic},
	}.encode(s.session, s.signer, time.Now())
	if err != nil {
		return zmq4.Msg{}, err
	}
	return zmq4.NewMsgFrom(frames...), nil
}

// publish sends one iopub message. parent nil means no parent ({}).
func (s *server) publish(parent []byte, msgType string, content any) error {
	frames, _, err := outgoing{
		identities: [][]byte{[]byte("kernel." + s.session + "." + msgType)},
		msgType:    msgType,
		parent:     parent,
		content:    content,
	}.encode(s.session, s.signer, time.Now())
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	select {
	case <-s.closing:
		return fmt.Errorf("publish %s: %w", msgType, ErrClosed)
	default:
	}
	if err := s.iopub.send(frames); err != nil {
		return fmt.Errorf("publish %s: %w", msgType, err)
	}
	s.publishMu.Lock()
	s.lastPublish = time.Now()
	s.publishMu.Unlock()
	return nil
}

// waitIOPubFlush gives the PUB socket's senders time to deliver what was
// published last: until every subscriber's queue is empty (at most a
// second), and at least iopubFlushDelay after the last publish, so a
// subscriber that connected late still gets the final messages.
func (s *server) waitIOPubFlush() {
	if p, ok := s.iopub.zmq.(*pubSocket); ok {
		p.flush(time.Second)
	}
	s.publishMu.Lock()
	wait := time.Until(s.lastPublish.Add(iopubFlushDelay))
	s.publishMu.Unlock()
	if wait > 0 {
		time.Sleep(wait)
	}
}

// goroutineGroup tracks goroutines by one channel each, closed when the
// goroutine returns, so waiting for them can give up without leaving a
// waiter goroutine behind (as a sync.WaitGroup waited on in a goroutine would).
type goroutineGroup struct {
	done []chan struct{}
}

// start runs f in a new goroutine. Not safe for concurrent use: call it from
// one goroutine only, before wait.
func (g *goroutineGroup) start(f func()) {
	done := make(chan struct{})
	g.done = append(g.done, done)
	go func() {
		defer close(done)
		f()
	}()
}

// wait reports whether every goroutine returned within d.
func (g *goroutineGroup) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for _, done := range g.done {
		select {
		case <-done:
		case <-t.C:
			return false
		}
	}
	return true
}

// logWriter turns zmq4's log.Logger output into logf calls.
type logWriter func(string, ...any)

func (w logWriter) Write(p []byte) (int, error) {
	w("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// requestQueue is an unbounded FIFO, so a long-running handler never stops
// the socket reader (and zmq4's own small queues) from draining.
type requestQueue struct {
	mu    sync.Mutex
	items []*wireRequest
	ready chan struct{}
}

func newRequestQueue() *requestQueue {
	return &requestQueue{ready: make(chan struct{}, 1)}
}

func (q *requestQueue) push(r *wireRequest) {
	q.mu.Lock()
	q.items = append(q.items, r)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop waits for the next request; false once ctx is done.
func (q *requestQueue) pop(ctx context.Context) (*wireRequest, bool) {
	for {
		if ctx.Err() != nil {
			return nil, false
		}
		q.mu.Lock()
		if len(q.items) > 0 {
			r := q.items[0]
			q.items[0] = nil
			q.items = q.items[1:]
			q.mu.Unlock()
			return r, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, false
		case <-q.ready:
		}
	}
}

func (q *requestQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}
