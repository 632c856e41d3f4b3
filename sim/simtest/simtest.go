// Package simtest provides helpers for tests in other packages that need a
// simulated board: starting one for the length of a test (Start, or
// StartFault for a board that misbehaves on purpose), the one "retry until
// the board serves again" loop (UntilServed), and a TCP proxy that can cut
// the link to it like a Wi-Fi drop (NewCutProxy). It sets no environment, so
// tests using it may call t.Parallel.
package simtest

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"webrepl-kernel/sim"
	"webrepl-kernel/sim/internal/serving"
)

// startTimeout bounds the board's start; generous, the first start may
// install the board's runtime and the machine may be busy.
const startTimeout = 3 * time.Minute

// modulesEnv names the ready node_modules folder sim uses instead of `npm ci`.
const modulesEnv = "WEBREPL_SIM_MODULES"

// Modules is the node_modules folder boards started by Start use:
// $WEBREPL_SIM_MODULES if set, else sim/board/node_modules of this module if
// that folder exists, else "" (sim then runs `npm ci` once into its cache).
// It only reads the environment, so tests using it may run in parallel.
func Modules() string {
	if m := os.Getenv(modulesEnv); m != "" {
		return m
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		modules := filepath.Join(filepath.Dir(file), "..", "board", "node_modules")
		if st, err := os.Stat(modules); err == nil && st.IsDir() {
			return modules
		}
	}
	return ""
}

// Start boots a simulated board with opts and closes it when the test ends.
// opts.Modules defaults to Modules(). Fault modes (opts.Fault) pass through
// to the board. It stops the test with t.Fatalf if the board does not start.
// It is safe in parallel tests.
func Start(t testing.TB, opts sim.Options) *sim.Board {
	t.Helper()
	if opts.Modules == "" {
		opts.Modules = Modules()
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	board, err := sim.Start(ctx, opts)
	if err != nil {
		t.Fatalf("starting the simulated board: %v", err)
	}
	t.Cleanup(func() {
		if err := board.Close(); err != nil {
			t.Errorf("closing the board: %v", err)
		}
	})
	return board
}

// StartFault boots a board that misbehaves as fault says (see sim.Fault),
// with the default options otherwise.
func StartFault(t testing.TB, fault sim.Fault) *sim.Board {
	t.Helper()
	return Start(t, sim.Options{Profile: "ideal", Fault: fault})
}

// ServeTimeout bounds UntilServed: a board reboots in well under a second,
// but a loaded test machine may be slow to run it.
const ServeTimeout = time.Minute

// UntilServed calls dial until it succeeds and returns what it made: the
// one way tests wait until a board serves again, after a reset (it accepts
// and closes connections while it reboots) or after a client left (its
// single client slot frees only when it has read the close). Each attempt
// gets a context bounded by ServeTimeout; the test stops with dial's last
// error if the board has not served within ServeTimeout. dial may stop the
// test itself on an error that waiting cannot cure.
func UntilServed[T any](t testing.TB, dial func(ctx context.Context) (T, error)) T {
	t.Helper()
	return serving.Until(t, ServeTimeout, dial)
}

// CutProxy forwards TCP connections to a target address and can cut every
// connection it carries at once, like a Wi-Fi drop that leaves the board
// running. It is closed when the test ends.
type CutProxy struct {
	ln     net.Listener
	mu     sync.Mutex
	conns  []net.Conn
	count  int
	copies sync.WaitGroup
}

// NewCutProxy listens on a free local port and forwards each connection to
// target (host:port). When the test ends it stops listening, cuts every
// connection and waits for its copying goroutines.
func NewCutProxy(t testing.TB, target string) *CutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &CutProxy{ln: ln}
	accepting := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-accepting
		p.Cut()
		p.copies.Wait()
	})
	go func() {
		defer close(accepting)
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				down.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, down, up)
			p.count++
			p.mu.Unlock()
			p.copies.Add(2)
			go func() { defer p.copies.Done(); _, _ = io.Copy(up, down); up.Close() }()
			go func() { defer p.copies.Done(); _, _ = io.Copy(down, up); down.Close() }()
		}
	}()
	return p
}

// Addr is the proxy's listening address, host:port.
func (p *CutProxy) Addr() string { return p.ln.Addr().String() }

// URL is the WebREPL URL of the proxy, "ws://127.0.0.1:PORT/".
func (p *CutProxy) URL() string { return "ws://" + p.Addr() + "/" }

// Connections counts the connections forwarded so far.
func (p *CutProxy) Connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}

// Cut closes every connection the proxy carries, both sides. The proxy
// keeps accepting new ones.
func (p *CutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
