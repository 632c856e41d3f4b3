package main

import (
	"context"
	"net"
	"syscall"
)

// dialQuickAck dials TCP with TCP_QUICKACK re-armed before every read, so
// that the round-trip figure measures the link and not the delayed ACK the
// board's two-write frames would wait for (docs/protocol/webrepl.md §1.4).
func dialQuickAck(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c, nil
	}
	q := &quickAckConn{TCPConn: tc, raw: raw}
	q.arm()
	return q, nil
}

type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

func (q *quickAckConn) arm() {
	_ = q.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}

func (q *quickAckConn) Read(p []byte) (int, error) {
	n, err := q.TCPConn.Read(p)
	q.arm()
	return n, err
}
