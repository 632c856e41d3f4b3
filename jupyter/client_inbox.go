package jupyter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// What a KernelClient received waits in an inbox until it is taken: one
// per reply socket (shell, control, stdin) and one per iopub Subscription.
// An inbox is bounded in messages and bytes. When it is full the socket's
// reader waits for the taker (back-pressure into ZMQ, and so into the
// kernel's own bounded queues) but only for clientStall: a taker that
// takes nothing for that long is not reading, and the reader then drops
// the oldest messages instead of blocking every other taker for ever. A
// drop is never silent: the next take reports it as an error wrapping
// ErrLost.
const (
	clientQueue      = 256 // a frontend slower than the kernel waits behind no more than this
	clientQueueBytes = 8 << 20
	clientStall      = 10 * time.Second
)

// ErrLost is wrapped by the error a KernelClient returns when messages it
// received were dropped because nobody took them in time.
var ErrLost = errors.New("messages were dropped because they were not taken in time")

type inbox struct {
	name       string // for errors: "shell", "iopub", …
	limit      int
	limitBytes int
	stall      time.Duration

	mu      sync.Mutex
	msgs    []*message
	bytes   int
	lost    int   // dropped since a take last reported it
	dropped int   // dropped in all
	err     error // why it closed; set once, with done

	ready chan struct{} // capacity 1: a message was queued
	room  chan struct{} // capacity 1: a message was taken
	done  chan struct{} // closed by close
}

func newInbox(name string) *inbox {
	return &inbox{name: name, limit: clientQueue, limitBytes: clientQueueBytes, stall: clientStall,
		ready: make(chan struct{}, 1), room: make(chan struct{}, 1), done: make(chan struct{})}
}

func messageSize(m *message) int {
	n := len(m.rawHeader) + len(m.parent) + len(m.metadata) + len(m.content)
	for _, b := range m.buffers {
		n += len(b)
	}
	return n
}

// full says whether m does not fit yet. A message larger than the byte
// bound alone fits into an empty inbox.
func (q *inbox) full(size int) bool {
	return len(q.msgs) >= q.limit || (len(q.msgs) > 0 && q.bytes+size > q.limitBytes)
}

// put queues m, waiting up to q.stall for room, then dropping the oldest
// messages. It gives up (dropping m) when quit or q closes.
func (q *inbox) put(m *message, quit <-chan struct{}) {
	size := messageSize(m)
	var stall *time.Timer
	stalled := false
	q.mu.Lock()
	for q.full(size) {
		if q.err != nil {
			q.mu.Unlock()
			return
		}
		if stalled {
			old := q.msgs[0]
			q.msgs[0] = nil
			q.msgs = q.msgs[1:]
			q.bytes -= messageSize(old)
			q.lost++
			q.dropped++
			continue
		}
		q.mu.Unlock()
		if stall == nil {
			stall = time.NewTimer(q.stall)
			defer stall.Stop()
		}
		select {
		case <-q.room: // the taker is taking: it has another stall to take more
			stall.Reset(q.stall)
		case <-stall.C:
			stalled = true
		case <-quit:
			return
		case <-q.done:
			return
		}
		q.mu.Lock()
	}
	if q.err == nil {
		q.msgs = append(q.msgs, m)
		q.bytes += size
		signal(q.ready)
	}
	q.mu.Unlock()
}

// close ends the inbox: takes return what is queued, then err.
func (q *inbox) close(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err == nil {
		q.err = err
		close(q.done)
	}
}

// poll returns, without waiting, a loss not yet reported (as an error
// wrapping ErrLost), else the oldest message, else the close error; ok is
// false when there is none of these.
func (q *inbox) poll() (m *message, err error, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.lost > 0:
		n := q.lost
		q.lost = 0
		return nil, fmt.Errorf("jupyter: %d %s message(s): %w", n, q.name, ErrLost), true
	case len(q.msgs) > 0:
		m = q.msgs[0]
		q.msgs[0] = nil
		q.msgs = q.msgs[1:]
		q.bytes -= messageSize(m)
		signal(q.room)
		if len(q.msgs) > 0 {
			signal(q.ready)
		}
		return m, nil, true
	case q.err != nil:
		return nil, q.err, true
	}
	return nil, nil, false
}

// next waits for what poll returns. A message already queued is returned
// even when ctx has ended, so next with an ended context polls.
func (q *inbox) next(ctx context.Context) (*message, error) {
	for {
		if m, err, ok := q.poll(); ok {
			return m, err
		}
		select {
		case <-q.ready:
		case <-q.done:
		case <-ctx.Done():
			if m, err, ok := q.poll(); ok {
				return m, err
			}
			return nil, fmt.Errorf("jupyter: waiting on %s: %w", q.name, context.Cause(ctx))
		}
	}
}

// droppedCount is how many messages were dropped in all.
func (q *inbox) droppedCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// await blocks until one of the inboxes a, b and c (nil: not watched) may
// have news (a message queued, or closed), or tick fires (ticked; nil: no
// tick), or ctx ends (its cause). The callers poll again after it returns.
func await(ctx context.Context, tick <-chan time.Time, a, b, c *inbox) (ticked bool, err error) {
	watch := func(q *inbox) (ready, done <-chan struct{}) {
		if q == nil {
			return nil, nil // a nil channel is never ready
		}
		return q.ready, q.done
	}
	aReady, aDone := watch(a)
	bReady, bDone := watch(b)
	cReady, cDone := watch(c)
	select {
	case <-aReady:
	case <-aDone:
	case <-bReady:
	case <-bDone:
	case <-cReady:
	case <-cDone:
	case <-tick:
		return true, nil
	case <-ctx.Done():
		return false, context.Cause(ctx)
	}
	return false, nil
}
