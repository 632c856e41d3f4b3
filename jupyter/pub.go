package jupyter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/security/null"
)

// The iopub socket. zmq4's PUB queues every message in one unbounded list
// and, past its high-water mark, drops messages without a word
// (docs/protocol/jupyter.md §4.4): a cell printing faster than the frontend
// reads would either grow the kernel without bound or lose output, status
// messages included. This PUB speaks the same ZMTP through zmq4's Conn, but
// keeps a bounded queue per subscriber, and Send waits while a subscriber's
// queue is full. Output then leaves the kernel at the pace of its slowest
// frontend, and whoever produces it (a cell reading its board) is slowed
// down to that pace: back-pressure instead of memory or loss.
//
// It is also the kernel's XPUB (protocol 5.5, JEP 65): it greets as XPUB and,
// since it reads every subscription itself, answers each new subscription
// with an iopub_welcome to that subscriber. zmq4's own XPUB cannot: its
// reader consumes subscription frames without handing them to the
// application (docs/protocol/jupyter.md §4.5).
const (
	// pubQueueBytes bounds what waits for one subscriber.
	pubQueueBytes = 2 << 20
	// pubStall is how long Send waits for a subscriber that takes nothing
	// at all. It is then taken for dead (a frozen process keeping its TCP
	// connection open) and disconnected, as libzmq would a broken peer; a
	// live frontend reconnects.
	pubStall = 60 * time.Second
	// pubHandshake bounds a new connection's ZMTP greeting.
	pubHandshake = 10 * time.Second
)

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// errPubClosed is returned by Send after Close.
var errPubClosed = errors.New("jupyter: iopub socket closed")

type pubSocket struct {
	ctx    context.Context
	cancel context.CancelFunc
	logf   func(string, ...any)
	// welcome encodes the iopub_welcome for a subscription (the topic
	// prefix); nil sends none.
	welcome func(topic string) (zmq4.Msg, error)

	// waiting, if set, is called with mu held each time Send starts waiting
	// for a subscriber's room, with the bytes queued for it; tests set it
	// to know that Send waits.
	waiting func(queued int)

	mu     sync.Mutex
	ln     net.Listener
	subs   map[*subscriber]struct{}
	closed bool
	wg     sync.WaitGroup
}

// subscriber is one connected SUB socket.
type subscriber struct {
	conn   *zmq4.Conn
	topics map[string]struct{} // guarded by pubSocket.mu
	queue  []zmq4.Msg
	bytes  int
	took   time.Time     // when the writer last took a message
	wake   chan struct{} // capacity 1: a message was queued (or the subscriber is gone)
	room   chan struct{} // capacity 1: the writer took a message
	gone   bool
}

// newPubSocket makes the iopub socket; it has zmq4.Socket's shape so the
// server treats it like its other sockets. welcome (may be nil) makes the
// message that greets each new subscription.
func newPubSocket(ctx context.Context, logf func(string, ...any), welcome func(topic string) (zmq4.Msg, error)) *pubSocket {
	ctx, cancel := context.WithCancel(ctx)
	return &pubSocket{ctx: ctx, cancel: cancel, logf: logf, welcome: welcome, subs: map[*subscriber]struct{}{}}
}

// Listen binds endpoint ("tcp://IP:PORT" or "ipc://PATH") and accepts
// subscribers until Close.
func (p *pubSocket) Listen(endpoint string) error {
	network, addr, ok := strings.Cut(endpoint, "://")
	if !ok {
		return fmt.Errorf("jupyter: bad endpoint %q", endpoint)
	}
	switch network {
	case "tcp":
	case "ipc":
		network = "unix"
	default:
		return fmt.Errorf("jupyter: unknown transport %q", network)
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go p.accept(ln)
	return nil
}

func (p *pubSocket) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve greets a new connection, then reads its subscriptions until it ends.
func (p *pubSocket) serve(c net.Conn) {
	defer p.wg.Done()
	_ = c.SetDeadline(time.Now().Add(pubHandshake))
	zc, err := zmq4.Open(c, null.Security(), zmq4.XPub, zmq4.SocketIdentity(""), true, nil)
	if err != nil {
		p.logf("jupyter: iopub: %v", err)
		c.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	s := &subscriber{conn: zc, topics: map[string]struct{}{}, took: time.Now(),
		wake: make(chan struct{}, 1), room: make(chan struct{}, 1)}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.subs[s] = struct{}{}
	p.mu.Unlock()
	p.wg.Add(1)
	go p.write(s)
	for {
		msg, err := zc.RecvMsg()
		if err != nil {
			p.drop(s)
			return
		}
		// A ZMTP 3.0 subscription: one frame, 1 (subscribe) or 0
		// (cancel), then the topic prefix.
		if msg.Type != zmq4.CmdMsg && len(msg.Frames) == 1 && len(msg.Frames[0]) > 0 {
			f := msg.Frames[0]
			p.mu.Lock()
			switch f[0] {
			case 1:
				s.topics[string(f[1:])] = struct{}{}
				p.greet(s, string(f[1:]))
			case 0:
				delete(s.topics, string(f[1:]))
			}
			p.mu.Unlock()
		}
	}
}

// greet queues the iopub_welcome for a new subscription to topic, for the
// subscriber that made it only (JEP 65: it tells that client its
// subscription is in place; the others learn nothing from it). A peer that
// keeps subscribing while it reads nothing gets no more than the queue's
// bound. Called with p.mu held.
func (p *pubSocket) greet(s *subscriber, topic string) {
	if p.welcome == nil || s.gone {
		return
	}
	msg, err := p.welcome(topic)
	if err != nil {
		p.logf("jupyter: iopub: welcome: %v", err)
		return
	}
	if size := msgBytes(msg); s.bytes+size <= pubQueueBytes {
		s.queue = append(s.queue, msg)
		s.bytes += size
		signal(s.wake)
	}
}

// write sends a subscriber's queue, one message at a time, as fast as its
// connection takes them.
func (p *pubSocket) write(s *subscriber) {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		for len(s.queue) == 0 && !s.gone {
			p.mu.Unlock()
			<-s.wake
			p.mu.Lock()
		}
		if s.gone {
			p.mu.Unlock()
			return
		}
		msg := s.queue[0]
		s.queue[0] = zmq4.Msg{}
		s.queue = s.queue[1:]
		p.mu.Unlock()
		err := s.conn.SendMsg(msg)
		p.mu.Lock()
		s.bytes -= msgBytes(msg)
		s.took = time.Now()
		p.mu.Unlock()
		signal(s.room)
		if err != nil {
			p.drop(s)
			return
		}
	}
}

// drop forgets a subscriber and closes its connection.
func (p *pubSocket) drop(s *subscriber) {
	p.mu.Lock()
	_, known := p.subs[s]
	delete(p.subs, s)
	s.gone = true
	s.queue, s.bytes = nil, 0
	p.mu.Unlock()
	if known {
		s.conn.Close()
	}
	signal(s.wake)
	signal(s.room)
}

func msgBytes(m zmq4.Msg) int {
	n := 0
	for _, f := range m.Frames {
		n += len(f) + 9
	}
	return n
}

func subscribedTo(s *subscriber, topic string) bool {
	for t := range s.topics {
		if strings.HasPrefix(topic, t) {
			return true
		}
	}
	return false
}

// SendMulti queues msg for every subscriber whose subscription matches its
// first frame, first waiting while a subscriber's queue is full.
func (p *pubSocket) SendMulti(msg zmq4.Msg) error {
	if len(msg.Frames) == 0 {
		return errors.New("jupyter: empty message")
	}
	topic := string(msg.Frames[0])
	size := msgBytes(msg)
	p.mu.Lock()
	defer p.mu.Unlock()
	for s := range p.subs {
		if !subscribedTo(s, topic) {
			continue
		}
		for s.bytes > 0 && s.bytes+size > pubQueueBytes && !s.gone && !p.closed {
			if time.Since(s.took) > pubStall {
				p.logf("jupyter: iopub subscriber took nothing for %v with %d bytes waiting: disconnected", pubStall, s.bytes)
				p.mu.Unlock()
				p.drop(s)
				p.mu.Lock()
				break
			}
			if p.waiting != nil {
				p.waiting(s.bytes)
			}
			wait := time.Until(s.took.Add(pubStall)) + time.Millisecond // s.took is guarded by p.mu
			p.mu.Unlock()
			t := time.NewTimer(wait)
			select {
			case <-s.room:
			case <-t.C:
			case <-p.ctx.Done():
			}
			t.Stop()
			p.mu.Lock()
		}
		if p.closed {
			return errPubClosed
		}
		if s.gone {
			continue
		}
		s.queue = append(s.queue, msg)
		s.bytes += size
		signal(s.wake)
	}
	return nil
}

// Send is SendMulti: every Jupyter message has several frames.
func (p *pubSocket) Send(msg zmq4.Msg) error { return p.SendMulti(msg) }

// flush waits until every subscriber's queue is empty, or d has passed.
func (p *pubSocket) flush(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		pending := 0
		for s := range p.subs {
			pending += len(s.queue)
		}
		p.mu.Unlock()
		if pending == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Close stops accepting, disconnects every subscriber and waits for the
// socket's goroutines.
func (p *pubSocket) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	ln := p.ln
	subs := make([]*subscriber, 0, len(p.subs))
	for s := range p.subs {
		subs = append(subs, s)
	}
	p.mu.Unlock()
	p.cancel()
	if ln != nil {
		ln.Close()
	}
	for _, s := range subs {
		p.drop(s)
	}
	p.wg.Wait()
	return nil
}

func (p *pubSocket) Recv() (zmq4.Msg, error) {
	return zmq4.Msg{}, errors.New("jupyter: iopub does not receive")
}
func (p *pubSocket) Dial(string) error             { return errors.New("jupyter: iopub only listens") }
func (p *pubSocket) Type() zmq4.SocketType         { return zmq4.XPub }
func (p *pubSocket) GetOption(string) (any, error) { return nil, zmq4.ErrBadProperty }
func (p *pubSocket) SetOption(string, any) error   { return nil }

// Addr is the bound address, nil before Listen.
func (p *pubSocket) Addr() net.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return nil
	}
	return p.ln.Addr()
}

var _ zmq4.Socket = (*pubSocket)(nil)
