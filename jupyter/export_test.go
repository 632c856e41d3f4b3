package jupyter

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/security/null"
)

// Test-only hooks into KernelClient for messages no client should send:
// the frames of a signed message, to forge or break before sending them
// through the client's own sockets.

// frames returns m signed by the client, as Send would put it on the wire
// (no identities: a DEALER adds none): delimiter, signature, header,
// parent, metadata, content.
func (k *testKernel) frames(t *testing.T, m Outgoing) ([][]byte, Sent) {
	t.Helper()
	frames, sent, err := k.c.encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return frames, sent
}

// sendFrames sends frames as they are on the client's ch socket.
func (k *testKernel) sendFrames(t *testing.T, ch Channel, frames [][]byte) {
	t.Helper()
	s, err := k.c.socket(ch)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.c.sendFrames(s, "raw frames", frames); err != nil {
		t.Fatal(err)
	}
}

// rawDealer is not a client: it is a bare ZMTP connection announcing an
// empty identity, as jupyter_client's KernelManager control socket does
// (libzmq's default). zmq4's sockets always invent one, so it speaks ZMTP
// through zmq4.Open; it sends frames it is given and returns frames it
// gets, nothing more.
type rawDealer struct {
	nc   net.Conn
	conn *zmq4.Conn
}

func dialRawDealer(t *testing.T, endpoint string) *rawDealer {
	t.Helper()
	addr := strings.TrimPrefix(endpoint, "tcp://")
	nc, err := net.DialTimeout("tcp", addr, waitLong)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	conn, err := zmq4.Open(nc, null.Security(), zmq4.Dealer, zmq4.SocketIdentity(""), false, nil)
	if err != nil {
		nc.Close()
		t.Fatalf("ZMTP handshake: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawDealer{nc: nc, conn: conn}
}

func (d *rawDealer) send(t *testing.T, frames [][]byte) {
	t.Helper()
	if err := d.conn.SendMsg(zmq4.NewMsgFrom(frames...)); err != nil {
		t.Fatalf("raw dealer send: %v", err)
	}
}

// recv returns the frames of the next message, failing after waitLong.
func (d *rawDealer) recv(t *testing.T) [][]byte {
	t.Helper()
	if err := d.nc.SetReadDeadline(time.Now().Add(waitLong)); err != nil {
		t.Fatal(err)
	}
	for {
		zmsg, err := d.conn.RecvMsg()
		if err != nil {
			t.Fatalf("raw dealer receive: %v", err)
		}
		if zmsg.Type == zmq4.CmdMsg { // PING/PONG and the like
			continue
		}
		return zmsg.Frames
	}
}
