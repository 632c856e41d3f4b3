package kernel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/google/uuid"

	"webrepl-kernel/jupyter"
)

// waitLong bounds every wait: generous for a loaded 2-core machine.
const waitLong = 30 * time.Second

// msg is a Jupyter message as the test client sees it.
type msg struct {
	Header       map[string]any
	ParentHeader map[string]any
	Content      map[string]any
}

func (m msg) Type() string     { s, _ := m.Header["msg_type"].(string); return s }
func (m msg) ParentID() string { s, _ := m.ParentHeader["msg_id"].(string); return s }
func (m msg) str(key string) string {
	s, _ := m.Content[key].(string)
	return s
}

// testClient talks to a kernel over real ZMQ sockets, like jupyter_client.
type testClient struct {
	t       testing.TB
	key     []byte
	session string
	ctx     context.Context
	cancel  context.CancelFunc
	shell   zmq4.Socket
	control zmq4.Socket
	stdin   zmq4.Socket
	iopub   zmq4.Socket

	mu     sync.Mutex
	iopubQ []msg
	wake   chan struct{}
	done   chan struct{}
}

// newConnectionInfo returns ipc endpoints in a fresh short directory (unix
// socket paths are limited to ~100 bytes), so tests never race for ports.
func newConnectionInfo(t testing.TB) jupyter.ConnectionInfo {
	dir, err := os.MkdirTemp("", "wk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return jupyter.ConnectionInfo{
		Transport: "ipc", IP: filepath.Join(dir, "k"),
		ShellPort: 1, IOPubPort: 2, StdinPort: 3, ControlPort: 4, HBPort: 5,
		Key: uuid.NewString(), SignatureScheme: "hmac-sha256", KernelName: "test",
	}
}

func endpoint(info jupyter.ConnectionInfo, port int) string {
	if info.Transport == "ipc" {
		return fmt.Sprintf("ipc://%s-%d", info.IP, port)
	}
	return fmt.Sprintf("tcp://%s:%d", info.IP, port)
}

func newTestClient(t testing.TB, info jupyter.ConnectionInfo) *testClient {
	ctx, cancel := context.WithCancel(context.Background())
	session := uuid.NewString()
	id := zmq4.WithID(zmq4.SocketIdentity(session))
	// Retry dialling often while the kernel is still binding (zmq4 waits
	// 250 ms between attempts by default, which would swamp start-up times).
	retry, retries := zmq4.WithDialerRetry(2*time.Millisecond), zmq4.WithDialerMaxRetries(int(waitLong/(2*time.Millisecond)))
	c := &testClient{
		t: t, key: []byte(info.Key), session: session, ctx: ctx, cancel: cancel,
		shell:   zmq4.NewDealer(ctx, id, retry, retries),
		control: zmq4.NewDealer(ctx, id, retry, retries),
		stdin:   zmq4.NewDealer(ctx, id, retry, retries),
		iopub:   zmq4.NewSub(ctx, retry, retries),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	for _, s := range []struct {
		sock zmq4.Socket
		port int
	}{{c.shell, info.ShellPort}, {c.control, info.ControlPort}, {c.stdin, info.StdinPort}, {c.iopub, info.IOPubPort}} {
		if err := dialRetry(ctx, s.sock, endpoint(info, s.port)); err != nil {
			t.Fatalf("dial %s: %v", endpoint(info, s.port), err)
		}
	}
	if err := c.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		t.Fatal(err)
	}
	go c.readIOPub()
	t.Cleanup(c.close)
	return c
}

// dialRetry waits for the kernel's socket to be bound.
func dialRetry(ctx context.Context, s zmq4.Socket, ep string) error {
	deadline := time.Now().Add(waitLong)
	for {
		err := s.Dial(ep)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *testClient) close() {
	c.cancel()
	for _, s := range []zmq4.Socket{c.shell, c.control, c.stdin, c.iopub} {
		s.Close()
	}
	<-c.done
}

func (c *testClient) readIOPub() {
	defer close(c.done)
	for {
		m, err := c.iopub.Recv()
		if err != nil {
			return
		}
		decoded, err := c.decode(m.Frames)
		if err != nil {
			c.t.Errorf("iopub: %v", err)
			continue
		}
		c.mu.Lock()
		c.iopubQ = append(c.iopubQ, decoded)
		c.mu.Unlock()
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

func (c *testClient) sign(parts ...[]byte) string {
	mac := hmac.New(sha256.New, c.key)
	for _, p := range parts {
		mac.Write(p)
	}
	return hex.EncodeToString(mac.Sum(nil))
}

func (c *testClient) encode(msgType string, content any) (frames [][]byte, msgID string) {
	return c.encodeWithParent(msgType, content, nil)
}

// encodeWithParent builds a signed message; parent is the header replied to.
func (c *testClient) encodeWithParent(msgType string, content any, parentHeader map[string]any) (frames [][]byte, msgID string) {
	msgID = uuid.NewString()
	header, _ := json.Marshal(map[string]any{
		"msg_id": msgID, "session": c.session, "username": "test", "msg_type": msgType,
		"version": "5.3", "date": time.Now().UTC().Format(time.RFC3339Nano),
	})
	body, err := json.Marshal(content)
	if err != nil {
		c.t.Fatal(err)
	}
	parent, meta := []byte("{}"), []byte("{}")
	if parentHeader != nil {
		parent, _ = json.Marshal(parentHeader)
	}
	return [][]byte{[]byte("<IDS|MSG>"), []byte(c.sign(header, parent, meta, body)), header, parent, meta, body}, msgID
}

func (c *testClient) decode(frames [][]byte) (msg, error) {
	for i, f := range frames {
		if string(f) != "<IDS|MSG>" {
			continue
		}
		if len(frames) < i+6 {
			return msg{}, fmt.Errorf("short message: %d frames", len(frames))
		}
		parts := frames[i+2 : i+6]
		if got := c.sign(parts...); got != string(frames[i+1]) {
			return msg{}, fmt.Errorf("bad signature from kernel")
		}
		var m msg
		for j, dst := range []*map[string]any{&m.Header, &m.ParentHeader, nil, &m.Content} {
			if dst == nil {
				continue
			}
			if err := json.Unmarshal(parts[j], dst); err != nil {
				return msg{}, fmt.Errorf("frame %d: %w", j, err)
			}
		}
		return m, nil
	}
	return msg{}, fmt.Errorf("no delimiter in %d frames", len(frames))
}

// send sends a request on sock and returns its msg_id.
func (c *testClient) send(sock zmq4.Socket, msgType string, content any) string {
	frames, id := c.encode(msgType, content)
	if err := sock.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		c.t.Fatalf("send %s: %v", msgType, err)
	}
	return id
}

// sendWithParent sends a message answering parentHeader (input_reply).
func (c *testClient) sendWithParent(sock zmq4.Socket, msgType string, content any, parentHeader map[string]any) {
	frames, _ := c.encodeWithParent(msgType, content, parentHeader)
	if err := sock.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		c.t.Fatalf("send %s: %v", msgType, err)
	}
}

func zmqMsg(frames [][]byte) zmq4.Msg { return zmq4.NewMsgFrom(frames...) }

// recv reads the next message on a DEALER socket.
func (c *testClient) recv(sock zmq4.Socket) msg {
	c.t.Helper()
	type result struct {
		m   zmq4.Msg
		err error
	}
	ch := make(chan result, 1)
	go func() {
		m, err := sock.Recv()
		ch <- result{m, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			c.t.Fatalf("recv: %v", r.err)
		}
		m, err := c.decode(r.m.Frames)
		if err != nil {
			c.t.Fatal(err)
		}
		return m
	case <-time.After(waitLong):
		c.t.Fatalf("no message within %v", waitLong)
	}
	return msg{}
}

// reply waits for the reply to msgID on sock, skipping kernel_info replies
// left over from waitReady.
func (c *testClient) reply(sock zmq4.Socket, msgID string) msg {
	c.t.Helper()
	for {
		m := c.recv(sock)
		if m.ParentID() == msgID {
			return m
		}
		if m.Type() != "kernel_info_reply" {
			c.t.Fatalf("unexpected %s (parent %s) while waiting for the reply to %s", m.Type(), m.ParentID(), msgID)
		}
	}
}

// request sends on shell and waits for the reply.
func (c *testClient) request(msgType string, content any) (reply msg, id string) {
	c.t.Helper()
	id = c.send(c.shell, msgType, content)
	return c.reply(c.shell, id), id
}

// outputs waits for the idle status of parent and returns the iopub messages
// between busy and idle (status messages excluded).
func (c *testClient) outputs(parent string) []msg {
	c.t.Helper()
	deadline := time.After(waitLong)
	for {
		c.mu.Lock()
		var out []msg
		busy, idle := false, false
		for _, m := range c.iopubQ {
			if m.ParentID() != parent {
				continue
			}
			if m.Type() == "status" {
				switch m.str("execution_state") {
				case "busy":
					busy = true
				case "idle":
					idle = true
				}
				continue
			}
			out = append(out, m)
		}
		c.mu.Unlock()
		if busy && idle {
			return out
		}
		select {
		case <-c.wake:
		case <-deadline:
			c.t.Fatalf("no busy+idle for %s within %v", parent, waitLong)
		}
	}
}

// waitFor waits until an iopub message with parent satisfies ok.
func (c *testClient) waitFor(parent string, ok func(msg) bool) msg {
	c.t.Helper()
	deadline := time.After(waitLong)
	for {
		c.mu.Lock()
		for _, m := range c.iopubQ {
			if m.ParentID() == parent && ok(m) {
				c.mu.Unlock()
				return m
			}
		}
		c.mu.Unlock()
		select {
		case <-c.wake:
		case <-deadline:
			c.t.Fatalf("awaited iopub message for %s did not come within %v", parent, waitLong)
		}
	}
}

// waitReady repeats kernel_info until iopub delivers, as jupyter_client's
// wait_for_ready does (iopub drops messages until the subscription lands).
func (c *testClient) waitReady() {
	c.t.Helper()
	deadline := time.Now().Add(waitLong)
	for time.Now().Before(deadline) {
		id := c.send(c.shell, "kernel_info_request", map[string]any{})
		c.reply(c.shell, id)
		wait := time.After(500 * time.Millisecond)
		for {
			c.mu.Lock()
			n := len(c.iopubQ)
			c.mu.Unlock()
			if n > 0 {
				return
			}
			select {
			case <-c.wake:
				continue
			case <-wait:
			}
			break
		}
	}
	c.t.Fatal("kernel never delivered iopub messages")
}

// execute runs code and returns the reply and the iopub outputs.
func (c *testClient) execute(code string, opts map[string]any) (msg, []msg) {
	c.t.Helper()
	content := map[string]any{"code": code, "silent": false, "store_history": true,
		"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true}
	for k, v := range opts {
		content[k] = v
	}
	reply, id := c.request("execute_request", content)
	return reply, c.outputs(id)
}

// streamText joins the stdout stream messages.
func streamText(outputs []msg) string {
	var s string
	for _, m := range outputs {
		if m.Type() == "stream" && m.str("name") == "stdout" {
			s += m.str("text")
		}
	}
	return s
}

func types(outputs []msg) []string {
	var ts []string
	for _, m := range outputs {
		ts = append(ts, m.Type())
	}
	return ts
}
