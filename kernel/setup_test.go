package kernel

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/jupyter/jupytertest"
	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
)

// The kernel's tests hand it requests through jupytertest, as jupyter.Serve
// would but without sockets, and run its cells on a simulated board (real
// MicroPython). The test in wire_test.go and the benchmarks serve it over
// ZMQ instead (overZMQ) and talk to it with jupyter.KernelClient.

// waitLong bounds every wait: generous for a loaded 2-core machine; a
// healthy run never gets near it.
const waitLong = 30 * time.Second

// msg is a message the kernel sent, as a frontend decodes it.
type msg = jupytertest.Message

// testKernel is a Kernel served through a jupytertest.Server (or, overZMQ,
// by jupyter.Serve to client), with the simulated board it was started for
// (nil without one).
type testKernel struct {
	t       testing.TB
	k       *Kernel
	srv     *jupytertest.Server
	client  *jupyter.KernelClient // overZMQ only
	board   *sim.Board
	once    sync.Once
	stopZMQ func() // ends Serve and waits for it
}

// setup is what newTestKernel starts; setupOptions change it.
type setup struct {
	board     *sim.Board  // a board already running
	boardOpts sim.Options // else the board to start
	noBoard   bool
	zmq       bool
	observe   func(jupyter.Message)
	configure []func(*Config)
}

type setupOption func(*setup)

// defaultBoard is the simulated board most tests use.
func defaultBoard() sim.Options {
	return sim.Options{Password: "secret", DrainPeriod: 10 * time.Millisecond, ResetAfter: 20 * time.Second}
}

// withBoard starts a board with o instead of defaultBoard.
func withBoard(o sim.Options) setupOption { return func(s *setup) { s.boardOpts = o } }

// onBoard uses a board the test started (several kernels in turn, a proxy).
func onBoard(b *sim.Board) setupOption { return func(s *setup) { s.board = b } }

// withoutBoard starts no board: the kernel has none until %connect.
func withoutBoard() setupOption { return func(s *setup) { s.noBoard = true } }

// overZMQ serves the kernel with jupyter.Serve on ipc sockets and connects
// a jupyter.KernelClient to it (testKernel.client) instead of jupytertest.
func overZMQ() setupOption { return func(s *setup) { s.zmq = true } }

// observing has overZMQ's client pass every message it receives, on every
// channel, to f (jupyter.WithObserver).
func observing(f func(jupyter.Message)) setupOption { return func(s *setup) { s.observe = f } }

// configure changes the kernel's Config once the board's URL and password
// are in it.
func configure(f func(*Config)) setupOption {
	return func(s *setup) { s.configure = append(s.configure, f) }
}

// startBoard boots a simulated board with defaultBoard's options.
func startBoard(t testing.TB) *sim.Board {
	t.Helper()
	return simtest.Start(t, defaultBoard())
}

// newTestKernel starts a kernel for a simulated board (one of its own
// unless the options say otherwise) and serves it through jupytertest
// until the test ends.
func newTestKernel(t testing.TB, opts ...setupOption) *testKernel {
	t.Helper()
	s := setup{boardOpts: defaultBoard()}
	for _, o := range opts {
		o(&s)
	}
	cfg := Config{Logf: t.Logf}
	if !s.noBoard {
		if s.board == nil {
			s.board = simtest.Start(t, s.boardOpts)
		}
		cfg.URL, cfg.Password = s.board.URL(), s.board.Password()
	}
	for _, f := range s.configure {
		f(&cfg)
	}
	tk := &testKernel{t: t, k: New(cfg), board: s.board}
	t.Cleanup(tk.stop)
	if s.zmq {
		tk.serveZMQ(s.observe)
	} else {
		tk.srv = jupytertest.NewServer(tk.k)
	}
	return tk
}

// serveZMQ runs jupyter.Serve for the kernel on ipc sockets in a fresh short
// directory (socket paths are limited to ~100 bytes; no ports to race for)
// and connects a client, ready once KernelInfo has seen iopub.
func (tk *testKernel) serveZMQ(observe func(jupyter.Message)) {
	t := tk.t
	t.Helper()
	dir, err := os.MkdirTemp("", "wk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	info := jupyter.ConnectionInfo{
		Transport: "ipc", IP: filepath.Join(dir, "k"),
		ShellPort: 1, IOPubPort: 2, StdinPort: 3, ControlPort: 4, HBPort: 5,
		Key: "kernel-test-key", SignatureScheme: "hmac-sha256", KernelName: "test",
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- jupyter.Serve(ctx, info, tk.k, t.Logf) }()
	tk.stopZMQ = func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(waitLong):
			t.Errorf("Serve did not return within %v of its context ending", waitLong)
		}
	}
	var copts []jupyter.ClientOption
	if observe != nil {
		copts = append(copts, jupyter.WithObserver(observe))
	}
	c, err := jupyter.Connect(info, copts...)
	if err != nil {
		t.Fatal(err)
	}
	tk.client = c
	wait, cancelWait := tk.waitContext()
	defer cancelWait()
	if _, err := c.KernelInfo(wait); err != nil {
		t.Fatalf("the kernel never answered kernel_info with iopub: %v", err)
	}
}

// stop ends the server and closes the kernel, as the kernel subcommand
// does when Serve returns.
func (tk *testKernel) stop() {
	tk.once.Do(func() {
		if tk.client != nil {
			tk.client.Close()
		}
		if tk.stopZMQ != nil {
			tk.stopZMQ()
		}
		if tk.srv != nil {
			tk.srv.Close()
		}
		tk.k.Close()
	})
}

// executeRequest is the content of an execute_request for code:
// jupyter_client's defaults (store_history, stop_on_error), except that
// stdin is not allowed unless withStdin says so.
func executeRequest(code string, opts ...func(*jupyter.ExecuteRequest)) jupyter.ExecuteRequest {
	e := jupyter.ExecuteRequest{Code: code, StoreHistory: true, StopOnError: true, UserExpressions: map[string]string{}}
	for _, o := range opts {
		o(&e)
	}
	return e
}

func withStdin(e *jupyter.ExecuteRequest) { e.AllowStdin = true }
func silent(e *jupyter.ExecuteRequest)    { e.Silent = true }
func noHistory(e *jupyter.ExecuteRequest) { e.StoreHistory = false }

// send hands the kernel a request (on shell unless jupytertest.OnControl)
// without waiting for it.
func (tk *testKernel) send(msgType string, content any, opts ...jupytertest.Option) *jupytertest.Request {
	return tk.srv.Send(jupytertest.NewRequest(msgType, content, opts...))
}

// submit sends an execute_request for code without waiting for it.
func (tk *testKernel) submit(code string, opts ...func(*jupyter.ExecuteRequest)) *jupytertest.Request {
	return tk.send("execute_request", executeRequest(code, opts...))
}

// execute runs code and returns the reply and the iopub outputs.
func (tk *testKernel) execute(code string, opts ...func(*jupyter.ExecuteRequest)) (msg, []msg) {
	tk.t.Helper()
	r := tk.submit(code, opts...)
	return tk.reply(r), tk.outputs(r)
}

// request sends a request and waits for its reply.
func (tk *testKernel) request(msgType string, content any, opts ...jupytertest.Option) msg {
	tk.t.Helper()
	return tk.reply(tk.send(msgType, content, opts...))
}

// interrupt sends interrupt_request on control and checks its reply.
func (tk *testKernel) interrupt() {
	tk.t.Helper()
	if r := tk.request("interrupt_request", nil, jupytertest.OnControl()); r.Type != "interrupt_reply" || r.Str("status") != "ok" {
		tk.t.Errorf("interrupt_reply = %v", r)
	}
}

func (tk *testKernel) waitContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), waitLong)
}

// reply waits for the reply to r.
func (tk *testKernel) reply(r *jupytertest.Request) msg {
	tk.t.Helper()
	ctx, cancel := tk.waitContext()
	defer cancel()
	m, err := tk.srv.Recorder.Reply(ctx, r.MsgID())
	if err != nil {
		tk.t.Fatalf("%s: %v", r.Type(), err)
	}
	return m
}

// outputs waits until the kernel is done with r (idle) and returns what it
// published for r, status excluded.
func (tk *testKernel) outputs(r *jupytertest.Request) []msg {
	tk.t.Helper()
	ctx, cancel := tk.waitContext()
	defer cancel()
	out, err := tk.srv.Recorder.Outputs(ctx, r.MsgID())
	if err != nil {
		tk.t.Fatalf("%s: %v", r.Type(), err)
	}
	return out
}

// waitFor waits for a message for r that satisfies ok.
func (tk *testKernel) waitFor(r *jupytertest.Request, what string, ok func(msg) bool) msg {
	tk.t.Helper()
	ctx, cancel := tk.waitContext()
	defer cancel()
	m, err := tk.srv.Recorder.WaitFor(ctx, r.MsgID(), ok)
	if err != nil {
		tk.t.Fatalf("%s: no %s: %v", r.Type(), what, err)
	}
	return m
}

// inputRequest waits for r's first input_request.
func (tk *testKernel) inputRequest(r *jupytertest.Request) msg {
	tk.t.Helper()
	return tk.waitFor(r, "input_request", func(m msg) bool { return m.Type == "input_request" })
}

// streamText joins the stdout stream messages.
func streamText(outputs []msg) string { return streamsOf(outputs, "stdout") }

// streamsOf joins the text of the stream messages named name ("stdout",
// "stderr").
func streamsOf(outputs []msg, name string) string {
	var s string
	for _, m := range outputs {
		if m.Type == "stream" && m.Str("name") == name {
			s += m.Str("text")
		}
	}
	return s
}

func types(outputs []msg) []string {
	var ts []string
	for _, m := range outputs {
		ts = append(ts, m.Type)
	}
	return ts
}
