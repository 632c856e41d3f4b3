package jupyter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/google/uuid"
)

// This file is the frontend side of the protocol: what a notebook runner
// needs to drive a kernel it did not write. Like the server side it knows
// nothing about what the kernel executes.

// clientQueue bounds each socket's queue of decoded messages: a reader
// that is not drained blocks (back-pressure into ZMQ) instead of growing.
const clientQueue = 256

// Message is one message a KernelClient received.
type Message struct {
	Type     string          // header msg_type, e.g. "stream"
	MsgID    string          // header msg_id
	ParentID string          // parent_header msg_id ("" when there is none)
	Content  json.RawMessage // the content dict, undecoded
}

// Decode unmarshals the content into v.
func (m Message) Decode(v any) error {
	if err := json.Unmarshal(m.Content, v); err != nil {
		return fmt.Errorf("decode %s content: %w", m.Type, err)
	}
	return nil
}

// KernelClient talks to one kernel over its shell, control, stdin and iopub
// sockets. Execute, Interrupt and Shutdown may be called from different
// goroutines; at most one Execute (or KernelInfo) runs at a time.
type KernelClient struct {
	signer  *signer
	session string

	sockCtx context.Context
	cancel  context.CancelFunc
	sockets []zmq4.Socket
	readers goroutineGroup

	shell, control, stdin zmq4.Socket
	shellIn, controlIn    chan *message
	stdinIn, iopubIn      chan *message

	shellMu   sync.Mutex // one shell exchange at a time
	controlMu sync.Mutex // one control exchange at a time
	sendMu    sync.Mutex

	errMu   sync.Mutex
	readErr error // the first socket failure, once the readers have stopped
}

// Connect dials the kernel's sockets named in info. It does not wait for
// the kernel: call KernelInfo, which also makes sure iopub is subscribed.
func Connect(info ConnectionInfo) (*KernelClient, error) {
	if err := info.check(true); err != nil {
		return nil, fmt.Errorf("jupyter: connect: %w", err)
	}
	sockCtx, cancel := context.WithCancel(context.Background())
	c := &KernelClient{
		signer:  newSigner(info.Key),
		session: uuid.NewString(),
		sockCtx: sockCtx,
		cancel:  cancel,
	}
	id := zmq4.WithID(zmq4.SocketIdentity("client-" + c.session))
	c.shell = zmq4.NewDealer(sockCtx, id)
	c.stdin = zmq4.NewDealer(sockCtx, id) // the same identity: the kernel routes input_request by the shell's
	c.control = zmq4.NewDealer(sockCtx, zmq4.WithID(zmq4.SocketIdentity("control-"+c.session)))
	iopub := zmq4.NewSub(sockCtx)
	c.sockets = []zmq4.Socket{c.shell, c.stdin, c.control, iopub}
	if err := iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		c.Close()
		return nil, fmt.Errorf("jupyter: subscribe to iopub: %w", err)
	}
	for _, d := range []struct {
		sock zmq4.Socket
		name string
		port int
	}{{c.shell, "shell", info.ShellPort}, {c.stdin, "stdin", info.StdinPort},
		{c.control, "control", info.ControlPort}, {iopub, "iopub", info.IOPubPort}} {
		if err := d.sock.Dial(info.endpoint(d.port)); err != nil {
			c.Close()
			return nil, fmt.Errorf("jupyter: dial the kernel's %s socket: %w", d.name, err)
		}
	}
	c.shellIn, c.controlIn = c.read(c.shell, "shell"), c.read(c.control, "control")
	c.stdinIn, c.iopubIn = c.read(c.stdin, "stdin"), c.read(iopub, "iopub")
	return c, nil
}

// read decodes what arrives on s into a bounded channel until s closes.
// Messages that fail the signature check are dropped: they are not from
// the kernel.
func (c *KernelClient) read(s zmq4.Socket, name string) chan *message {
	ch := make(chan *message, clientQueue)
	c.readers.start(func() {
		defer close(ch)
		for {
			zmsg, err := s.Recv()
			if err != nil {
				if c.sockCtx.Err() == nil {
					c.setReadErr(fmt.Errorf("receive on %s socket: %w", name, err))
				}
				return
			}
			msg, err := decodeMessage(zmsg.Frames, c.signer)
			if err != nil {
				continue
			}
			select {
			case ch <- msg:
			case <-c.sockCtx.Done():
				return
			}
		}
	})
	return ch
}

func (c *KernelClient) setReadErr(err error) {
	c.errMu.Lock()
	if c.readErr == nil {
		c.readErr = err
	}
	c.errMu.Unlock()
}

// closedErr says why a socket's channel closed.
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

// send signs and sends a request on s and returns its msg_id.
func (c *KernelClient) send(s zmq4.Socket, msgType string, parent json.RawMessage, content any) (string, error) {
	frames, msgID, err := outgoing{msgType: msgType, parent: parent, content: content}.encode(c.session, c.signer, time.Now())
	if err != nil {
		return "", fmt.Errorf("jupyter: %w", err)
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if err := s.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
		return "", fmt.Errorf("jupyter: send %s: %w", msgType, err)
	}
	return msgID, nil
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
	return Message{Type: m.msgType, MsgID: m.msgID, ParentID: parentMsgID(m), Content: m.content}
}

// KernelInfo asks for kernel_info until the reply and an iopub message
// for one of the requests have both arrived: then the kernel is serving
// and this client's iopub subscription is live (messages published before
// it was are lost, so Execute must not start earlier). It retries with a
// growing interval until ctx ends.
func (c *KernelClient) KernelInfo(ctx context.Context) (KernelInfoReply, error) {
	c.shellMu.Lock()
	defer c.shellMu.Unlock()
	ours := map[string]bool{}
	var reply *KernelInfoReply
	sawIOPub := false
	interval := 200 * time.Millisecond
	for {
		id, err := c.send(c.shell, "kernel_info_request", nil, KernelInfoRequest{})
		if err != nil {
			return KernelInfoReply{}, err
		}
		ours[id] = true
		retry := time.NewTimer(interval)
	wait:
		for {
			select {
			case m, ok := <-c.shellIn:
				if !ok {
					retry.Stop()
					return KernelInfoReply{}, c.closedErr()
				}
				if m.msgType == "kernel_info_reply" && ours[parentMsgID(m)] && reply == nil {
					var r KernelInfoReply
					if err := json.Unmarshal(m.content, &r); err != nil {
						retry.Stop()
						return KernelInfoReply{}, fmt.Errorf("jupyter: kernel_info_reply: %w", err)
					}
					reply = &r
				}
			case m, ok := <-c.iopubIn:
				if !ok {
					retry.Stop()
					return KernelInfoReply{}, c.closedErr()
				}
				if ours[parentMsgID(m)] {
					sawIOPub = true
				}
			case <-retry.C:
				break wait
			case <-ctx.Done():
				retry.Stop()
				return KernelInfoReply{}, fmt.Errorf("jupyter: waiting for the kernel: %w", context.Cause(ctx))
			}
			if reply != nil && sawIOPub {
				retry.Stop()
				c.drainShell(ours)
				return *reply, nil
			}
		}
		interval = min(2*interval, 2*time.Second)
	}
}

// drainShell drops replies to earlier retries that are already queued, so
// that the next exchange does not see them (it would ignore them anyway).
func (c *KernelClient) drainShell(ours map[string]bool) {
	for {
		select {
		case m, ok := <-c.shellIn:
			if !ok || !ours[parentMsgID(m)] {
				return
			}
		default:
			return
		}
	}
}

// ExecuteHooks receive what a running cell produces. Either may be nil.
type ExecuteHooks struct {
	// Output gets each iopub message parented to the request except
	// status and execute_input (stream, execute_result, display_data,
	// update_display_data, clear_output, error, …), in arrival order.
	Output func(Message)
	// Input answers an input_request; nil, or an error, leaves the
	// request unanswered (the caller should then interrupt the kernel).
	Input func(InputRequest) (string, error)
}

// Execute sends an execute_request and returns its reply once the kernel
// has also published idle for it (so every output has been delivered to
// hooks.Output). If ctx ends first it returns ctx's cause; the cell may
// still be running in the kernel (Interrupt it).
func (c *KernelClient) Execute(ctx context.Context, req ExecuteRequest, hooks ExecuteHooks) (ExecuteReply, error) {
	c.shellMu.Lock()
	defer c.shellMu.Unlock()
	if req.UserExpressions == nil {
		req.UserExpressions = map[string]string{}
	}
	id, err := c.send(c.shell, "execute_request", nil, req)
	if err != nil {
		return ExecuteReply{}, err
	}
	var reply *ExecuteReply
	idle := false
	var inputErr error
	for reply == nil || !idle {
		select {
		case m, ok := <-c.shellIn:
			if !ok {
				return ExecuteReply{}, c.closedErr()
			}
			if m.msgType != "execute_reply" || parentMsgID(m) != id {
				continue
			}
			var r ExecuteReply
			if err := json.Unmarshal(m.content, &r); err != nil {
				return ExecuteReply{}, fmt.Errorf("jupyter: execute_reply: %w", err)
			}
			reply = &r
		case m, ok := <-c.iopubIn:
			if !ok {
				return ExecuteReply{}, c.closedErr()
			}
			if parentMsgID(m) != id {
				continue
			}
			switch m.msgType {
			case "status":
				var s Status
				if json.Unmarshal(m.content, &s) == nil && s.ExecutionState == StateIdle {
					idle = true
				}
			case "execute_input":
			default:
				if hooks.Output != nil {
					hooks.Output(exported(m))
				}
			}
		case m, ok := <-c.stdinIn:
			if !ok {
				return ExecuteReply{}, c.closedErr()
			}
			if m.msgType != "input_request" || parentMsgID(m) != id {
				continue
			}
			if err := c.answerInput(m, hooks.Input); err != nil && inputErr == nil {
				inputErr = err
			}
		case <-ctx.Done():
			return ExecuteReply{}, fmt.Errorf("jupyter: execute: %w", context.Cause(ctx))
		}
	}
	if inputErr != nil {
		return *reply, inputErr
	}
	return *reply, nil
}

// ErrNoInput is returned (wrapped) by Execute when the kernel asked for
// input that the hooks could not give; the reply is returned with it.
var ErrNoInput = errors.New("the kernel asked for input that was not given")

// answerInput asks the hook for an input_request's answer and sends it.
func (c *KernelClient) answerInput(m *message, answer func(InputRequest) (string, error)) error {
	var req InputRequest
	if err := json.Unmarshal(m.content, &req); err != nil {
		return fmt.Errorf("jupyter: input_request: %w", err)
	}
	if answer == nil {
		return fmt.Errorf("jupyter: %w (prompt %q)", ErrNoInput, req.Prompt)
	}
	value, err := answer(req)
	if err != nil {
		return fmt.Errorf("jupyter: %w (prompt %q): %v", ErrNoInput, req.Prompt, err)
	}
	if _, err := c.send(c.stdin, "input_reply", m.rawHeader, InputReply{Value: value}); err != nil {
		return err
	}
	return nil
}

// controlRequest sends a control request and waits for its reply.
func (c *KernelClient) controlRequest(ctx context.Context, msgType string, content any) (Message, error) {
	c.controlMu.Lock()
	defer c.controlMu.Unlock()
	id, err := c.send(c.control, msgType, nil, content)
	if err != nil {
		return Message{}, err
	}
	want := strings.TrimSuffix(msgType, "_request") + "_reply"
	for {
		select {
		case m, ok := <-c.controlIn:
			if !ok {
				return Message{}, c.closedErr()
			}
			if m.msgType == want && parentMsgID(m) == id {
				return exported(m), nil
			}
		case <-ctx.Done():
			return Message{}, fmt.Errorf("jupyter: waiting for %s: %w", want, context.Cause(ctx))
		}
	}
}

// Interrupt sends interrupt_request on control (for kernels whose
// interrupt_mode is "message") and waits for the reply.
func (c *KernelClient) Interrupt(ctx context.Context) error {
	_, err := c.controlRequest(ctx, "interrupt_request", InterruptRequest{})
	return err
}

// Shutdown asks the kernel to exit and waits for its reply.
func (c *KernelClient) Shutdown(ctx context.Context) error {
	_, err := c.controlRequest(ctx, "shutdown_request", ShutdownRequest{})
	return err
}
