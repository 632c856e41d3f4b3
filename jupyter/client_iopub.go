package jupyter

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// iopub on the client: one reader hands every message to each open
// Subscription (its own bounded inbox). Messages that arrive while no
// Subscription is open are not kept: nobody asked for them, and a client
// that is not executing anything must not fill up.

// Subscription receives every iopub message that arrives from Subscribe
// until Close. Its queue is bounded (see clientStall): a subscriber that
// stops taking loses the oldest messages, and Next says so.
type Subscription struct {
	q    *inbox
	subs *subscriptions
}

// subscriptions are a client's open Subscriptions.
type subscriptions struct {
	mu     sync.Mutex
	open   []*inbox // in the order they were opened
	closed error    // set when the iopub socket ended
}

// Subscribe starts a Subscription. Only messages the kernel publishes
// after the client's own ZMQ subscription took effect arrive at all (see
// KernelInfo).
func (c *KernelClient) Subscribe() *Subscription {
	return c.subscribe(newInbox(string(IOPub)))
}

// subscribe opens a Subscription that queues into q.
func (c *KernelClient) subscribe(q *inbox) *Subscription {
	s := &c.iopub
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed != nil {
		q.close(s.closed)
	} else {
		s.open = append(s.open, q)
	}
	return &Subscription{q: q, subs: s}
}

// deliver hands m to every open Subscription, oldest first.
func (s *subscriptions) deliver(m *message, quit <-chan struct{}) {
	s.mu.Lock()
	open := slices.Clone(s.open)
	s.mu.Unlock()
	for _, q := range open {
		q.put(m, quit)
	}
}

// close ends every Subscription, and those made later, with err.
func (s *subscriptions) close(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = err
	for _, q := range s.open {
		q.close(err)
	}
	s.open = nil
}

// Next returns the next iopub message, waiting until ctx ends. A message
// already queued is returned even if ctx has ended. An error wrapping
// ErrLost says messages were dropped before this point; Next again for
// the next one.
func (s *Subscription) Next(ctx context.Context) (Message, error) {
	m, err := s.q.next(ctx)
	if err != nil {
		return Message{}, err
	}
	return exported(m), nil
}

// next is Next without the export, for the client's own exchanges.
func (s *Subscription) next(ctx context.Context) (*message, error) { return s.q.next(ctx) }

// Dropped is how many messages this Subscription has lost in all.
func (s *Subscription) Dropped() int { return s.q.droppedCount() }

// Close ends the Subscription; Next then returns what was queued, then an
// error wrapping ErrClosed.
func (s *Subscription) Close() {
	s.subs.mu.Lock()
	s.subs.open = slices.DeleteFunc(s.subs.open, func(q *inbox) bool { return q == s.q })
	s.subs.mu.Unlock()
	s.q.close(errSubscriptionClosed)
}

// errSubscriptionClosed ends a Subscription's Next after Close.
var errSubscriptionClosed = fmt.Errorf("jupyter: iopub subscription: %w", ErrClosed)
