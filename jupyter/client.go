package jupyter

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/google/uuid"
)

// This file is the frontend side of the protocol: what a notebook runner
// (or a test) needs to drive a kernel it did not write. Like the server
// side it knows nothing about what the kernel executes. It is the
// package's one ZMQ client: Execute, KernelInfo, Interrupt and Shutdown
// for runners; Send, Receive, Request, Subscribe and Heartbeat for any
// message on any channel.

// Channel names one of a kernel's sockets.
type Channel string

// The channels a KernelClient talks on.
const (
	Shell   Channel = "shell"
	Control Channel = "control"
	Stdin   Channel = "stdin"
	IOPub   Channel = "iopub"
	HB      Channel = "hb"
)

// Message is one message a KernelClient received.
type Message struct {
	Type     string          // header msg_type, e.g. "stream"
	MsgID    string          // header msg_id
	ParentID string          // parent_header msg_id ("" when there is none)
	Content  json.RawMessage // the content dict, undecoded

	// Channel is the socket it came on ("shell", "control", "stdin",
	// "iopub"). Header, ParentHeader and Metadata are the dicts exactly as
	// they arrived (a reply's ParentHeader is its request's header, byte
	// for byte): what a frontend's own checks look at.
	Channel      string
	Header       json.RawMessage
	ParentHeader json.RawMessage
	Metadata     json.RawMessage
}

// Decode unmarshals the content into v.
func (m Message) Decode(v any) error {
	if err := json.Unmarshal(m.Content, v); err != nil {
		return fmt.Errorf("decode %s content: %w", m.Type, err)
	}
	return nil
}

// Outgoing is a message for Send or Request.
type Outgoing struct {
	Type    string          // msg_type, e.g. "execute_request"
	Content any             // nil is {}; must encode as a JSON object
	Parent  json.RawMessage // parent_header; nil is {} (an input_reply may carry its input_request's Header)
	Header  map[string]any  // fields added to the header (e.g. subshell_id); not the standard ones
}

// Sent is what Send put on the wire.
type Sent struct {
	MsgID  string
	Header json.RawMessage // the header exactly as sent
}

// KernelClient talks to one kernel over its shell, control, stdin, iopub
// and heartbeat sockets. Its methods may be called from different
// goroutines: exchanges on shell and stdin (Execute, KernelInfo, Request
// and Receive on them) take turns, as do those on control; Send never
// waits for a turn.
type KernelClient struct {
	signer  *signer
	session string

	sockCtx context.Context
	cancel  context.CancelFunc
	sockets []zmq4.Socket
	readers goroutineGroup

	shell, control, stdin, hb zmq4.Socket
	inboxes                   map[Channel]*inbox // shell, control, stdin, hb
	iopub                     subscriptions

	shellMu   sync.Mutex // one shell (and stdin) exchange at a time
	controlMu sync.Mutex // one control exchange at a time
	hbMu      sync.Mutex // one heartbeat at a time
	hbPending int        // echoes owed to heartbeats that gave up; hbMu
	sendMu    sync.Mutex

	errMu      sync.Mutex
	readErr    error // the first socket failure, once the readers have stopped
	rejected   int   // messages dropped by decodeMessage
	lastReject error

	observe func(Message) // WithObserver's function, nil if none
}

// ClientOption changes how Connect sets up a KernelClient.
type ClientOption func(*KernelClient)

// WithObserver has f called with every message the client receives, on
// every socket, as it arrives, from the first one on (iopub_welcome
// included, and iopub messages no Subscription takes). It runs on the
// sockets' reader goroutines, so it must be quick and safe for concurrent
// use; the client's exchanges see the messages as before.
func WithObserver(f func(Message)) ClientOption {
	return func(c *KernelClient) { c.observe = f }
}

// Connect dials the kernel's sockets named in info. It does not wait for
// the kernel: call KernelInfo, which also makes sure iopub is subscribed.
func Connect(info ConnectionInfo, opts ...ClientOption) (*KernelClient, error) {
	if err := info.check(true); err != nil {
		return nil, fmt.Errorf("jupyter: connect: %w", err)
	}
	sockCtx, cancel := context.WithCancel(context.Background())
	c := &KernelClient{
		signer:  newSigner(info.Key),
		session: uuid.NewString(),
		sockCtx: sockCtx,
		cancel:  cancel,
		inboxes: map[Channel]*inbox{},
	}
	for _, o := range opts {
		o(c)
	}
	// Shell and stdin share an identity (the kernel routes input_request
	// by the shell's, as jupyter_client's do); control has its own, so a
	// reply sent on the wrong ROUTER is lost rather than misdelivered.
	id := zmq4.WithID(zmq4.SocketIdentity("client-" + c.session))
	c.shell = zmq4.NewDealer(sockCtx, id)
	c.stdin = zmq4.NewDealer(sockCtx, id)
	c.control = zmq4.NewDealer(sockCtx, zmq4.WithID(zmq4.SocketIdentity("control-"+c.session)))
	c.hb = zmq4.NewDealer(sockCtx, zmq4.WithID(zmq4.SocketIdentity("hb-"+c.session)))
	iopub := zmq4.NewSub(sockCtx)
	c.sockets = []zmq4.Socket{c.shell, c.stdin, c.control, c.hb, iopub}
	if err := iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		c.Close()
		return nil, fmt.Errorf("jupyter: subscribe to iopub: %w", err)
	}
	for _, d := range []struct {
		sock zmq4.Socket
		name Channel
		port int
	}{{c.shell, Shell, info.ShellPort}, {c.stdin, Stdin, info.StdinPort},
		{c.control, Control, info.ControlPort}, {iopub, IOPub, info.IOPubPort}, {c.hb, HB, info.HBPort}} {
		if err := d.sock.Dial(info.endpoint(d.port)); err != nil {
			c.Close()
			return nil, fmt.Errorf("jupyter: dial the kernel's %s socket: %w", d.name, err)
		}
	}
	for _, ch := range []Channel{Shell, Control, Stdin, HB} {
		c.inboxes[ch] = newInbox(string(ch))
	}
	c.read(c.shell, Shell, c.inboxes[Shell].put, c.inboxes[Shell].close)
	c.read(c.control, Control, c.inboxes[Control].put, c.inboxes[Control].close)
	c.read(c.stdin, Stdin, c.inboxes[Stdin].put, c.inboxes[Stdin].close)
	c.read(iopub, IOPub, c.iopub.deliver, c.iopub.close)
	c.readHeartbeats(c.inboxes[HB])
	return c, nil
}

// read decodes what arrives on s and hands it to deliver until s closes,
// then calls end with the reason. Messages that fail the signature check
// are dropped: they are not from the kernel.
func (c *KernelClient) read(s zmq4.Socket, name Channel, deliver func(*message, <-chan struct{}), end func(error)) {
	c.readers.start(func() {
		for {
			zmsg, err := s.Recv()
			if err != nil {
				if c.sockCtx.Err() == nil {
					c.setReadErr(fmt.Errorf("receive on %s socket: %w", name, err))
				}
				end(c.closedErr())
				return
			}
			msg, err := decodeMessage(zmsg.Frames, c.signer)
			if err != nil {
				c.reject(fmt.Errorf("%s: %w", name, err))
				continue
			}
			msg.channel = string(name)
			if c.observe != nil {
				c.observe(exported(msg))
			}
			deliver(msg, c.sockCtx.Done())
		}
	})
}

func (c *KernelClient) reject(err error) {
	c.errMu.Lock()
	c.rejected++
	c.lastReject = err
	c.errMu.Unlock()
}

// Rejected says how many messages the client dropped because they failed
// the signature check or were not Jupyter messages, and why the last one
// was: a kernel with another key, or not a kernel at all.
func (c *KernelClient) Rejected() (n int, last error) {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.rejected, c.lastReject
}

func (c *KernelClient) setReadErr(err error) {
	c.errMu.Lock()
	if c.readErr == nil {
		c.readErr = err
	}
	c.errMu.Unlock()
}

// closedErr says why a socket's inbox closed.
func (c *KernelClient) closedErr() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	if c.readErr != nil {
		return fmt.Errorf("jupyter: %w", c.readErr)
	}
	return fmt.Errorf("jupyter: client: %w", ErrClosed)
}

// Close closes the sockets and waits briefly for the readers to end.
func (c *KernelClient) Close() {
	c.cancel()
	for _, s := range c.sockets {
		s.Close()
	}
	c.readers.wait(shutdownGrace)
}

// socket is the socket a request on ch is sent on.
func (c *KernelClient) socket(ch Channel) (zmq4.Socket, error) {
	switch ch {
	case Shell:
		return c.shell, nil
	case Control:
		return c.control, nil
	case Stdin:
		return c.stdin, nil
	}
	return nil, fmt.Errorf("jupyter: a client sends no Jupyter messages on %q", ch)
}

// encode signs m as this client's message.
func (c *KernelClient) encode(m Outgoing) ([][]byte, Sent, error) {
	o := outgoing{msgType: m.Type, parent: m.Parent, content: m.Content, extraHeader: m.Header}
	frames, msgID, err := o.encode(c.session, c.signer, time.Now())
	if err != nil {
		return nil, Sent{}, fmt.Errorf("jupyter: %w", err)
	}
	return frames, Sent{MsgID: msgID, Header: frames[2]}, nil
}

// sendFrames sends one multipart message on s.
func (c *KernelClient) sendFrames(s zmq4.Socket, what string, frames [][]byte) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if err := s.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
		return fmt.Errorf("jupyter: send %s: %w", what, err)
	}
	return nil
}

// Send signs and sends m on ch (Shell, Control or Stdin) without waiting
// for anything; take the reply with Receive, or use Request.
func (c *KernelClient) Send(ch Channel, m Outgoing) (Sent, error) {
	s, err := c.socket(ch)
	if err != nil {
		return Sent{}, err
	}
	frames, sent, err := c.encode(m)
	if err != nil {
		return Sent{}, err
	}
	return sent, c.sendFrames(s, m.Type, frames)
}

// lock takes ch's turn: shell and stdin share one, control has its own.
func (c *KernelClient) lock(ch Channel) (unlock func(), err error) {
	switch ch {
	case Shell, Stdin:
		c.shellMu.Lock()
		return c.shellMu.Unlock, nil
	case Control:
		c.controlMu.Lock()
		return c.controlMu.Unlock, nil
	}
	return nil, fmt.Errorf("jupyter: Receive takes shell, control or stdin messages, not %q (iopub: Subscribe; hb: Heartbeat)", ch)
}

// Receive returns the next message that arrived on ch (Shell, Control or
// Stdin), whatever it answers, waiting until ctx ends. A message already
// queued is returned even if ctx has ended, so Receive with an ended
// context polls. An error wrapping ErrLost says messages were dropped
// because nobody took them (see clientStall); Receive again for the next.
func (c *KernelClient) Receive(ctx context.Context, ch Channel) (Message, error) {
	unlock, err := c.lock(ch)
	if err != nil {
		return Message{}, err
	}
	defer unlock()
	m, err := c.inboxes[ch].next(ctx)
	if err != nil {
		return Message{}, err
	}
	return exported(m), nil
}

// Request sends m on ch (Shell or Control) and returns the first message
// on ch parented to it (skipping others, replies to earlier requests).
func (c *KernelClient) Request(ctx context.Context, ch Channel, m Outgoing) (Message, error) {
	if ch != Shell && ch != Control {
		return Message{}, fmt.Errorf("jupyter: no requests are made on %q", ch)
	}
	unlock, err := c.lock(ch)
	if err != nil {
		return Message{}, err
	}
	defer unlock()
	return c.request(ctx, ch, m)
}

// request is Request with ch's turn taken.
func (c *KernelClient) request(ctx context.Context, ch Channel, m Outgoing) (Message, error) {
	sent, err := c.Send(ch, m)
	if err != nil {
		return Message{}, err
	}
	for {
		reply, err := c.inboxes[ch].next(ctx)
		if err != nil {
			return Message{}, fmt.Errorf("jupyter: waiting for the reply to %s: %w", m.Type, err)
		}
		if parentMsgID(reply) == sent.MsgID {
			return exported(reply), nil
		}
	}
}

// parentMsgID returns the msg_id of a message's parent_header.
func parentMsgID(m *message) string {
	var p struct {
		MsgID string `json:"msg_id"`
	}
	_ = json.Unmarshal(m.parent, &p) // decodeMessage checked it is an object
	return p.MsgID
}

func exported(m *message) Message {
	return Message{Type: m.msgType, MsgID: m.msgID, ParentID: parentMsgID(m), Content: m.content,
		Channel: m.channel, Header: m.rawHeader, ParentHeader: m.parent, Metadata: m.metadata}
}
