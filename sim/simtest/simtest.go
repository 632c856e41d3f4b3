// Package simtest provides helpers for tests in other packages that need a
// simulated board: starting one for the length of a test, and a TCP proxy
// that can cut the link to it like a Wi-Fi drop.
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
)

// startTimeout bounds the board's start; generous, the first start may
// install the board's runtime and the machine may be busy.
const startTimeout = 3 * time.Minute

// modulesEnv names the ready node_modules folder sim uses instead of `npm ci`.
const modulesEnv = "WEBREPL_SIM_MODULES"

// Start boots a simulated board with opts and closes it when the test ends.
// When WEBREPL_SIM_MODULES is unset it points it, for this test, at
// sim/board/node_modules of this module if that folder exists. It stops the
// test with t.Fatalf if the board does not start.
func Start(t testing.TB, opts sim.Options) *sim.Board {
	t.Helper()
	if os.Getenv(modulesEnv) == "" {
		if _, file, _, ok := runtime.Caller(0); ok {
			modules := filepath.Join(filepath.Dir(file), "..", "board", "node_modules")
			if _, err := os.Stat(modules); err == nil {
				t.Setenv(modulesEnv, modules)
			}
		}
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
