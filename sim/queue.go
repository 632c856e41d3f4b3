package sim

import (
	"context"
	"sync"
)

// queue is an unbounded FIFO with a wake-up channel. Producers never block,
// so the board's event loop can hand work to I/O goroutines without risking
// a deadlock with a peer that stopped reading.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	closed bool
	wake   chan struct{}
}

func newQueue[T any]() *queue[T] {
	return &queue[T]{wake: make(chan struct{}, 1)}
}

// push appends v; it reports false when the queue is closed.
func (q *queue[T]) push(v T) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.signal()
	return true
}

// close stops further pushes; take still returns what is queued.
func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *queue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// tryTake returns what is queued without waiting; closed reports that
// nothing more will come.
func (q *queue[T]) tryTake() (items []T, closed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	items, q.items = q.items, nil
	return items, q.closed && len(items) == 0
}

// take waits until items are queued and returns all of them. ok is false
// once the queue is closed and empty, or ctx ends.
func (q *queue[T]) take(ctx context.Context) (items []T, ok bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			items, q.items = q.items, nil
			q.mu.Unlock()
			return items, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil, false
		}
		select {
		case <-q.wake:
		case <-ctx.Done():
			return nil, false
		}
	}
}
