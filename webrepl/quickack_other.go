//go:build !linux && !windows

package webrepl

import "net"

// withQuickAck does nothing outside Linux and Windows: no portable way to turn off
// delayed ACKs exists, so frames from a real board can arrive up to the
// OS's delayed-ACK time late (see quickack_linux.go).
func withQuickAck(c net.Conn) net.Conn { return c }

const quickAckSupported = false
