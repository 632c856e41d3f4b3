package webrepl

import (
	"bytes"
	"context"
	"sync"
)

// maxBuffered bounds what a byteStream holds unread. When it is full the
// connection's reader goroutine waits, so the WebSocket and then TCP stop
// taking data and the board is slowed down to the pace of whoever consumes
// its output, instead of the client's memory growing with a babbling peer.
const maxBuffered = 256 << 10

// maxSeen bounds the bytes readUntil hands back from before its pattern:
// enough to quote in an error message.
const maxSeen = 256

// byteStream is a bounded byte pipe from the connection's reader goroutine
// to the one Session operation that consumes it. REPL text and
// file-transfer bytes have a stream each, so they can interleave.
type byteStream struct {
	mu   sync.Mutex
	buf  []byte        // reused: take hands out copies, so a flood costs one allocation per byte taken
	err  error         // set once, when the connection ends
	wake chan struct{} // capacity 1: "something arrived"
	room chan struct{} // capacity 1: "something was taken"
	stop <-chan struct{}
}

// newByteStream makes a stream whose push gives up waiting for room once
// stop is closed (the link is being closed).
func newByteStream(stop <-chan struct{}) *byteStream {
	return &byteStream{wake: make(chan struct{}, 1), room: make(chan struct{}, 1), stop: stop}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// push appends p, first waiting while the stream is full. It returns false
// if the stream was stopped while waiting (p is then dropped with the link).
func (s *byteStream) push(p []byte) bool {
	if len(p) == 0 {
		return true
	}
	for {
		s.mu.Lock()
		if len(s.buf) < maxBuffered {
			s.buf = append(s.buf, p...)
			s.mu.Unlock()
			signal(s.wake)
			return true
		}
		s.mu.Unlock()
		select {
		case <-s.room:
		case <-s.stop:
			return false
		}
	}
}

// fail records why the stream ended; buffered bytes stay readable first.
func (s *byteStream) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	signal(s.wake)
}

// take waits for buffered bytes and returns all of them (at most about
// maxBuffered). The end of ctx is checked first, so a peer that keeps
// sending cannot keep a step alive past its deadline.
func (s *byteStream) take(ctx context.Context) ([]byte, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.mu.Lock()
		if len(s.buf) > 0 {
			b := s.takeLocked()
			s.mu.Unlock()
			signal(s.room)
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
	b := s.takeLocked()
	s.mu.Unlock()
	signal(s.room)
	return b
}

// takeLocked empties the buffer into a copy of its own and keeps the
// buffer's memory for the next pushes. Handing out the buffer itself would
// make every push after a take grow a new one from nothing, and a peer
// that floods would have the garbage collector chase several times the
// bytes it sends: on a loaded machine, where the collector runs late, that
// garbage alone took a flooded process past 64 MB.
func (s *byteStream) takeLocked() []byte {
	if len(s.buf) == 0 {
		return nil
	}
	b := bytes.Clone(s.buf)
	s.buf = s.buf[:0]
	return b
}

// unread puts bytes back in front of the stream. They came out of it, so
// the stream stays within about twice maxBuffered.
func (s *byteStream) unread(p []byte) {
	if len(p) == 0 {
		return
	}
	s.mu.Lock()
	s.buf = append(append(make([]byte, 0, len(p)+len(s.buf)), p...), s.buf...)
	s.mu.Unlock()
	signal(s.wake)
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

// windowScanner looks for a pattern in a stream without keeping the
// stream: only the last len(pattern)-1 bytes are carried from one chunk to
// the next, and the first maxSeen bytes are kept to be quoted.
type windowScanner struct {
	pattern []byte
	tail    []byte // end of what was scanned, shorter than pattern
	seen    []byte // the first maxSeen bytes scanned
	total   int    // bytes scanned
}

// scan looks at the next chunk. When the pattern ends in it, scan returns
// the index just after the pattern's end in b; otherwise -1.
func (w *windowScanner) scan(b []byte) int {
	if room := maxSeen - len(w.seen); room > 0 {
		w.seen = append(w.seen, b[:min(room, len(b))]...)
	}
	w.total += len(b)
	// Only the joint needs copying: a pattern wholly inside b is found there.
	joint := append(append([]byte(nil), w.tail...), b[:min(len(b), len(w.pattern)-1)]...)
	if i := bytes.Index(joint, w.pattern); i >= 0 {
		return i + len(w.pattern) - len(w.tail)
	}
	if i := bytes.Index(b, w.pattern); i >= 0 {
		return i + len(w.pattern)
	}
	keep := len(w.pattern) - 1
	if len(b) >= keep {
		w.tail = append(w.tail[:0], b[len(b)-keep:]...)
	} else {
		w.tail = append(w.tail, b...)
		w.tail = w.tail[max(0, len(w.tail)-keep):]
	}
	return -1
}

// readUntil reads until pattern has been seen; the bytes after it stay in
// the stream. It keeps only a bounded window of what it reads, and returns
// the first maxSeen bytes read (to quote in errors) and how many it read
// before and including the pattern.
func (s *byteStream) readUntil(ctx context.Context, pattern []byte) (seen []byte, n int, err error) {
	w := windowScanner{pattern: pattern}
	for {
		b, err := s.take(ctx)
		if err != nil {
			return w.seen, w.total, err
		}
		if end := w.scan(b); end >= 0 {
			s.unread(b[end:])
			return w.seen, w.total - (len(b) - end), nil
		}
	}
}
