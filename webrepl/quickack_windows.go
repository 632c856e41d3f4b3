package webrepl

import (
	"net"
	"unsafe"

	"golang.org/x/sys/windows"
)

// sioTCPSetAckFrequency is mstcpip.h's SIO_TCP_SET_ACK_FREQUENCY,
// _WSAIOW(IOC_VENDOR, 23): the number of segments Windows receives before
// it sends an ACK; 1 turns delayed ACKs off for the socket.
const sioTCPSetAckFrequency = 0x98000017

// withQuickAck turns delayed ACKs off once for the connection (Windows
// keeps the setting, unlike Linux's TCP_QUICKACK): the board's second write
// of each frame waits for the ACK of its first (quickack_linux.go), and
// Windows delays ACKs by up to 200 ms. Systems that do not know the ioctl
// (older Windows, Wine) keep delayed ACKs: slower, never wrong.
func withQuickAck(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	_ = raw.Control(func(fd uintptr) {
		freq := uint32(1)
		var returned uint32
		_ = windows.WSAIoctl(windows.Handle(fd), sioTCPSetAckFrequency,
			(*byte)(unsafe.Pointer(&freq)), uint32(unsafe.Sizeof(freq)), nil, 0, &returned, nil, 0)
	})
	return c
}

const quickAckSupported = true
