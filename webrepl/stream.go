package webrepl

import (
	"bytes"
	"context"
	"sync"
)

// byteStream is an unbounded byte pipe from the connection's reader goroutine
// to the one Session operation that consumes it. The reader never blocks on
// it, so REPL text and file-transfer bytes can interleave freely.
type byteStream struct {
	mu   sync.Mutex
	buf  []byte
	err  error         // set once, when the connection ends
	wake chan struct{} // capacity 1: "something changed"
}

func newByteStream() *byteStream { return &byteStream{wake: make(chan struct{}, 1)} }

func (s *byteStream) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *byteStream) push(p []byte) {
	if len(p) == 0 {
		return
	}
	s.mu.Lock()
	s.buf = append(s.buf, p...)
	s.mu.Unlock()
	s.notify()
}

// fail records why the stream ended; buffered bytes stay readable first.
func (s *byteStream) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.notify()
}

// take waits for buffered bytes and returns all of them.
func (s *byteStream) take(ctx context.Context) ([]byte, error) {
	for {
		s.mu.Lock()
		if len(s.buf) > 0 {
			b := s.buf
			s.buf = nil
			s.mu.Unlock()
			return b, nil
		}
		err := s.err
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// takeBuffered returns what is buffered now without waiting.
func (s *byteStream) takeBuffered() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buf
	s.buf = nil
	return b
}

// unread puts bytes back in front of the stream.
func (s *byteStream) unread(p []byte) {
	if len(p) == 0 {
		return
	}
	s.mu.Lock()
	s.buf = append(append(make([]byte, 0, len(p)+len(s.buf)), p...), s.buf...)
	s.mu.Unlock()
	s.notify()
}

// readFull reads exactly n bytes.
func (s *byteStream) readFull(ctx context.Context, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for len(out) < n {
		b, err := s.take(ctx)
		if err != nil {
			return out, err
		}
		need := n - len(out)
		if len(b) > need {
			s.unread(b[need:])
			b = b[:need]
		}
		out = append(out, b...)
	}
	return out, nil
}

// readUntil reads until pattern has been seen and returns everything up to
// and including it; the bytes after it stay in the stream.
func (s *byteStream) readUntil(ctx context.Context, pattern []byte) ([]byte, error) {
	var acc []byte
	for {
		b, err := s.take(ctx)
		if err != nil {
			return acc, err
		}
		searchFrom := max(0, len(acc)-len(pattern)+1)
		acc = append(acc, b...)
		if i := bytes.Index(acc[searchFrom:], pattern); i >= 0 {
			end := searchFrom + i + len(pattern)
			s.unread(acc[end:])
			return acc[:end:end], nil
		}
	}
}
