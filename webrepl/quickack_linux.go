package webrepl

import (
	"net"
	"syscall"
)

// quickAckConn re-arms TCP_QUICKACK before every read. The board writes each
// WebSocket frame as two TCP segments with Nagle on (docs/protocol/webrepl.md
// §1.4): its second write waits until the first is acknowledged, and a
// delayed ACK would hold every frame back by up to ~40 ms. Linux clears
// TCP_QUICKACK by itself after a while, so it is set again on each read.
type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

func withQuickAck(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	q := &quickAckConn{TCPConn: tc, raw: raw}
	q.arm()
	return q
}

func (q *quickAckConn) arm() {
	// A failure only costs speed, never correctness.
	_ = q.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}

func (q *quickAckConn) Read(p []byte) (int, error) {
	n, err := q.TCPConn.Read(p)
	q.arm()
	return n, err
}

// quickAckSupported reports whether withQuickAck does anything here.
const quickAckSupported = true
