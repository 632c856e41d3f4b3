package jupyter

import (
	"bytes"
	"context"
	"fmt"
)

// The heartbeat channel: the kernel echoes whatever it gets, frames
// intact (its socket is a ROUTER). The client's DEALER sends one frame and
// reads the echo into an inbox like any reply, so a heartbeat that gives
// up leaves no goroutine or socket state behind (a REQ would).

// readHeartbeats queues every echo, as a message whose buffers are its frames.
func (c *KernelClient) readHeartbeats(q *inbox) {
	c.readers.start(func() {
		for {
			zmsg, err := c.hb.Recv()
			if err != nil {
				if c.sockCtx.Err() == nil {
					c.setReadErr(fmt.Errorf("receive on hb socket: %w", err))
				}
				q.close(c.closedErr())
				return
			}
			q.put(&message{buffers: zmsg.Frames}, c.sockCtx.Done())
		}
	})
}

// Heartbeat sends payload on the heartbeat channel and waits until the
// kernel echoes it back. Echoes owed to earlier heartbeats that gave up
// are skipped; any other echo is an error.
func (c *KernelClient) Heartbeat(ctx context.Context, payload []byte) error {
	c.hbMu.Lock()
	defer c.hbMu.Unlock()
	if err := c.sendFrames(c.hb, "heartbeat", [][]byte{payload}); err != nil {
		return err
	}
	for {
		m, err := c.inboxes[HB].next(ctx)
		if err != nil {
			c.hbPending++ // its echo may still come
			return fmt.Errorf("jupyter: heartbeat: %w", err)
		}
		if len(m.buffers) == 1 && bytes.Equal(m.buffers[0], payload) {
			return nil
		}
		if c.hbPending == 0 {
			return fmt.Errorf("jupyter: heartbeat echoed %q, want %q", m.buffers, payload)
		}
		c.hbPending--
	}
}
