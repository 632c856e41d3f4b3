package webrepl_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

// tripProxy forwards connections to a board and counts the bytes that go
// through, both ways; once armed with a budget, it calls trip when that
// many more bytes have gone through, after forwarding exactly them, and
// then forwards the rest (unless trip closed the link): it never loses a
// byte itself.
type tripProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	budget int64 // bytes left before trip; <0 unarmed
	sent   int64 // bytes forwarded in total
	trip   func()
	wg     sync.WaitGroup
}

func newTripProxy(t *testing.T, boardURL string) *tripProxy {
	u, err := url.Parse(boardURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tripProxy{ln: ln, target: u.Host, budget: -1}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				down.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, down, up)
			p.mu.Unlock()
			p.wg.Add(2)
			go func() { defer p.wg.Done(); p.forward(up, down); up.Close() }()
			go func() { defer p.wg.Done(); p.forward(down, up); down.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.cut(); p.wg.Wait() })
	return p
}

func (p *tripProxy) url() string { return "ws://" + p.ln.Addr().String() + "/" }

// forward copies bytes from one side to the other, tripping on the
// budget, which counts both directions.
func (p *tripProxy) forward(to, from net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			p.mu.Lock()
			chunk, trip := buf[:n], func() {}
			if p.budget >= 0 && int64(n) >= p.budget {
				chunk = buf[:p.budget]
				trip, p.trip, p.budget = p.trip, nil, -1
			} else if p.budget >= 0 {
				p.budget -= int64(n)
			}
			p.sent += int64(len(chunk))
			p.mu.Unlock()
			if _, werr := to.Write(chunk); werr != nil {
				return
			}
			if trip != nil {
				trip()
				// The rest of what was read goes on after the trip: a
				// stream missing bytes would be a fault of the proxy.
				if _, werr := to.Write(buf[len(chunk):n]); werr != nil {
					return
				}
				p.mu.Lock()
				p.sent += int64(n - len(chunk))
				p.mu.Unlock()
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *tripProxy) arm(budget int64, trip func()) {
	p.mu.Lock()
	p.budget, p.trip = budget, trip
	p.mu.Unlock()
}

func (p *tripProxy) disarm() { p.arm(-1, nil) }

func (p *tripProxy) total() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent
}

// cut closes every connection, both sides.
func (p *tripProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestCutTransfersLeaveOldOrNew cuts PutAtomic of main.py at 20 random
// points of its bytes each by dropping the link, by a hard reset of the
// board and by an Interrupt (the context cancelled), through the whole
// transfer: the tidy-up, the checks, the data, the hash, the compile and
// the renames. Afterwards main.py is always the old file or the new one,
// whole, and the next transfer leaves no temporary behind.
func TestCutTransfersLeaveOldOrNew(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"drop", "reset", "interrupt"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			cutTransfers(t, mode, 20)
		})
	}
}

func cutTransfers(t *testing.T, mode string, points int) {
	b := simtest.Start(t, sim.Options{})
	cutTransfersOn(t, mode, points, b.URL(), b.Password(), b.FlashDir(), b.PressReset)
}

func cutTransfersOn(t *testing.T, mode string, points int, boardURL, password, flash string, reset func()) {
	p := newTripProxy(t, boardURL)
	ctx := ctxFor(t, 10*time.Minute)
	s := dial(t, p.url(), password, webrepl.Options{})
	rng := rand.New(rand.NewPCG(21, uint64(len(mode))))
	version := func(n int) []byte {
		var b strings.Builder
		for i := 0; b.Len() < 5000; i++ {
			b.WriteString("print('version " + string(rune('A'+n)) + " line', " + string(rune('0'+i%10)) + ")\n")
		}
		return []byte(b.String())
	}
	versions := [][]byte{version(0), version(1)}
	const name = "main.py"
	put := func(ctx context.Context, data []byte) error {
		_, err := s.PutAtomic(ctx, name, data, webrepl.PutOptions{Compile: true}, nil)
		return err
	}
	if err := put(ctx, versions[0]); err != nil {
		t.Fatal(err)
	}
	// How many bytes a whole transfer sends: the cut points lie below.
	start := p.total()
	if err := put(ctx, versions[1]); err != nil {
		t.Fatal(err)
	}
	whole := p.total() - start
	cur := 1
	outcomes := map[string]int{}
	for i := 0; i < points; i++ {
		next := 1 - cur
		// Half the cut points anywhere, half in the last tenth: the hash,
		// the compile and the renames, where the board works while the
		// link is quiet.
		at := 1 + rng.Int64N(whole-1)
		if i%2 == 1 {
			at = whole - 1 - rng.Int64N(whole/10)
		}
		began := time.Now()
		tctx, cancel := context.WithCancel(ctx)
		switch mode {
		case "drop":
			p.arm(at, p.cut)
		case "reset":
			p.arm(at, reset)
		case "interrupt":
			p.arm(at, cancel)
		}
		err := put(tctx, versions[next])
		cancel()
		p.disarm()
		took := time.Since(began)
		// The board as the cut left it, before any tidying: main.py is
		// whole, old or new, or (cut between the renames) absent with the
		// old one complete under its backup name.
		got, rerr := os.ReadFile(filepath.Join(flash, name))
		switch {
		case rerr == nil && (bytes.Equal(got, versions[cur]) || bytes.Equal(got, versions[next])):
		case errors.Is(rerr, os.ErrNotExist):
			if old, _ := os.ReadFile(filepath.Join(flash, "."+name+".wk-old")); !bytes.Equal(old, versions[cur]) {
				t.Fatalf("cut %d at byte %d of %d: main.py is gone and its backup is not the old file (%d bytes)", i, at, whole, len(old))
			}
		default:
			t.Fatalf("cut %d at byte %d of %d: main.py is a mixture (%d bytes, %v); put said %v", i, at, whole, len(got), rerr, err)
		}
		// The next transfer tidies: a leftover backup becomes main.py
		// again, a leftover temporary goes.
		if _, err := s.Recover(ctx, ""); err != nil {
			t.Logf("cut %d: first tidy after %v: %v", i, time.Since(began)-took, err)
			// After a reset the board may still be booting.
			if _, err = simtest.UntilServed(t, func(ctx context.Context) ([]string, error) { return s.Recover(ctx, "") }), nil; err != nil {
				t.Fatal(err)
			}
		}
		got, rerr = os.ReadFile(filepath.Join(flash, name))
		switch {
		case rerr == nil && bytes.Equal(got, versions[next]):
			cur = next
			outcomes["new"]++
		case rerr == nil && bytes.Equal(got, versions[cur]):
			outcomes["old"]++
		default:
			t.Fatalf("cut %d at byte %d: after tidying main.py is %d bytes (%v)", i, at, len(got), rerr)
		}
		entries, _ := os.ReadDir(flash)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".wk-") {
				t.Errorf("cut %d: %s left after tidying", i, e.Name())
			}
		}
		if testing.Verbose() {
			t.Logf("cut %d at %d/%d: put %v in %v, then tidied in %v", i, at, whole, err, took, time.Since(began)-took)
		}
	}
	t.Logf("%s: %d cut points, whole transfer %d bytes: %v", mode, points, whole, outcomes)
	// Every cut lands before the transfer's last byte, so most leave the
	// old file; one that leaves neither means the cuts missed the transfer.
	if outcomes["old"] == 0 {
		t.Errorf("outcomes %v: the cut points did not cover the transfer", outcomes)
	}
}
