//go:build !linux

package main

import (
	"context"
	"net"
)

// dialQuickAck is a plain dial where Go offers no TCP_QUICKACK.
func dialQuickAck(ctx context.Context, network, addr string) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}
