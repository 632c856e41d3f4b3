package jupytertest

import (
	"context"
	"sync"

	"webrepl-kernel/jupyter"
)

// queueSize bounds each channel's queue of requests not yet handled.
const queueSize = 64

// Server hands requests to a jupyter.Handler as jupyter.Serve does, without
// sockets: shell requests one at a time in the order sent, control requests
// on a goroutine of their own beside them, each bracketed by status busy
// and idle on the Recorder. Unlike Serve it does not recover a panicking
// handler: the test binary fails, with the handler's stack.
type Server struct {
	// Recorder receives what the handler does with every request sent.
	Recorder *Recorder

	h       jupyter.Handler
	cancel  context.CancelFunc
	shell   chan *Request
	control chan *Request
	beside  chan *Request // nil unless h is a jupyter.BesideHandler
	done    sync.WaitGroup
	once    sync.Once
}

// NewServer starts handing requests to h; Close stops it.
func NewServer(h jupyter.Handler) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		Recorder: NewRecorder(), h: h, cancel: cancel,
		shell: make(chan *Request, queueSize), control: make(chan *Request, queueSize),
	}
	s.done.Add(2)
	go s.work(ctx, s.shell, h.HandleShell)
	go s.work(ctx, s.control, h.HandleControl)
	if bh, ok := h.(jupyter.BesideHandler); ok {
		s.beside = make(chan *Request, queueSize)
		s.done.Add(1)
		go s.work(ctx, s.beside, bh.HandleBeside)
	}
	return s
}

// Send queues r on its channel, recording to the server's Recorder, and
// returns it. It blocks while the channel's queue is full. r keeps the
// Received time NewRequest gave it, so requests made before a cell failed
// count as queued behind it (stop_on_error) however late they are sent.
func (s *Server) Send(r *Request) *Request {
	r.mu.Lock()
	r.rec = s.Recorder
	r.mu.Unlock()
	switch {
	case r.Channel() == "control":
		s.control <- r
	case s.beside != nil && s.h.(jupyter.BesideHandler).Beside(r):
		s.beside <- r
	default:
		s.shell <- r
	}
	return r
}

func (s *Server) work(ctx context.Context, q <-chan *Request, handle func(context.Context, jupyter.Request)) {
	defer s.done.Done()
	for {
		select {
		case r := <-q:
			if ctx.Err() != nil {
				return
			}
			// Recording cannot fail for these contents.
			_ = r.Publish("status", jupyter.Status{ExecutionState: jupyter.StateBusy})
			handle(ctx, r)
			_ = r.Publish("status", jupyter.Status{ExecutionState: jupyter.StateIdle})
		case <-ctx.Done():
			return
		}
	}
}

// Close cancels the context the handler was given and waits for the
// requests being handled to end; queued ones are dropped, as Serve does.
// It is safe to call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		s.cancel()
		s.done.Wait()
	})
}
