package jupyter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// What a notebook runner asks of a kernel: kernel_info until it is ready,
// execute with its outputs and input, interrupt and shutdown.

// KernelInfo asks for kernel_info until the reply and an iopub message
// for one of the requests have both arrived: then the kernel is serving
// and this client's iopub subscription is live (messages published before
// it was are lost, so Execute must not start earlier). It retries with a
// growing interval until ctx ends. When it returns, the replies to all
// its requests have been taken from the shell channel.
func (c *KernelClient) KernelInfo(ctx context.Context) (KernelInfoReply, error) {
	c.shellMu.Lock()
	defer c.shellMu.Unlock()
	sub := c.Subscribe()
	defer sub.Close()
	shell := c.inboxes[Shell]
	ours := map[string]bool{}
	var reply *KernelInfoReply
	sawIOPub := false
	interval := 200 * time.Millisecond
	for {
		sent, err := c.Send(Shell, Outgoing{Type: "kernel_info_request", Content: KernelInfoRequest{}})
		if err != nil {
			return KernelInfoReply{}, err
		}
		ours[sent.MsgID] = true
		lastAnswered := false
		retry := time.NewTimer(interval)
	wait:
		for reply == nil || !sawIOPub {
			if m, err, ok := shell.poll(); ok {
				if err != nil {
					retry.Stop()
					return KernelInfoReply{}, err
				}
				if parentMsgID(m) == sent.MsgID {
					lastAnswered = true
				}
				if m.msgType == "kernel_info_reply" && ours[parentMsgID(m)] && reply == nil {
					var r KernelInfoReply
					if err := json.Unmarshal(m.content, &r); err != nil {
						retry.Stop()
						return KernelInfoReply{}, fmt.Errorf("jupyter: kernel_info_reply: %w", err)
					}
					reply = &r
				}
				continue
			}
			if m, err, ok := sub.q.poll(); ok {
				if errors.Is(err, ErrLost) {
					continue // what was lost does not matter here
				}
				if err != nil {
					retry.Stop()
					return KernelInfoReply{}, err
				}
				if ours[parentMsgID(m)] {
					sawIOPub = true
				}
				continue
			}
			ticked, err := await(ctx, retry.C, shell, sub.q, nil)
			if err != nil {
				retry.Stop()
				return KernelInfoReply{}, fmt.Errorf("jupyter: waiting for the kernel: %w", err)
			}
			if ticked {
				break wait
			}
		}
		if reply != nil && sawIOPub {
			retry.Stop()
			if !lastAnswered {
				if err := c.awaitReply(ctx, sent.MsgID); err != nil {
					return KernelInfoReply{}, err
				}
			}
			return *reply, nil
		}
		interval = min(2*interval, 2*time.Second)
	}
}

// awaitReply takes shell messages up to the reply to id. The kernel
// answers shell requests in order, so once the last retry's reply is in,
// those of the earlier ones are too: none is left for the next Receive.
func (c *KernelClient) awaitReply(ctx context.Context, id string) error {
	for {
		m, err := c.inboxes[Shell].next(ctx)
		if err != nil {
			return fmt.Errorf("jupyter: waiting for the kernel: %w", err)
		}
		if parentMsgID(m) == id {
			return nil
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
// still be running in the kernel (Interrupt it). If outputs were dropped
// because hooks.Output kept the client waiting (see clientStall), the
// reply comes with an error wrapping ErrLost.
func (c *KernelClient) Execute(ctx context.Context, req ExecuteRequest, hooks ExecuteHooks) (ExecuteReply, error) {
	c.shellMu.Lock()
	defer c.shellMu.Unlock()
	if req.UserExpressions == nil {
		req.UserExpressions = map[string]string{}
	}
	sub := c.Subscribe() // before sending: nothing of the request's is missed
	defer sub.Close()
	sent, err := c.Send(Shell, Outgoing{Type: "execute_request", Content: req})
	if err != nil {
		return ExecuteReply{}, err
	}
	id := sent.MsgID
	shell, stdin := c.inboxes[Shell], c.inboxes[Stdin]
	var reply *ExecuteReply
	idle := false
	var inputErr, lostErr error
	for reply == nil || !idle {
		if m, err, ok := shell.poll(); ok {
			if err != nil {
				return ExecuteReply{}, err
			}
			if m.msgType != "execute_reply" || parentMsgID(m) != id {
				continue
			}
			var r ExecuteReply
			if err := json.Unmarshal(m.content, &r); err != nil {
				return ExecuteReply{}, fmt.Errorf("jupyter: execute_reply: %w", err)
			}
			reply = &r
			continue
		}
		if m, err, ok := sub.q.poll(); ok {
			if errors.Is(err, ErrLost) {
				if lostErr == nil {
					lostErr = fmt.Errorf("jupyter: outputs of the cell: %w", err)
				}
				continue
			}
			if err != nil {
				return ExecuteReply{}, err
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
			continue
		}
		if m, err, ok := stdin.poll(); ok {
			if err != nil {
				return ExecuteReply{}, err
			}
			if m.msgType != "input_request" || parentMsgID(m) != id {
				continue
			}
			if err := c.answerInput(m, hooks.Input); err != nil && inputErr == nil {
				inputErr = err
			}
			continue
		}
		if _, err := await(ctx, nil, shell, sub.q, stdin); err != nil {
			return ExecuteReply{}, fmt.Errorf("jupyter: execute: %w", err)
		}
	}
	return *reply, errors.Join(inputErr, lostErr)
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
	_, err = c.Send(Stdin, Outgoing{Type: "input_reply", Parent: m.rawHeader, Content: InputReply{Value: value}})
	return err
}

// ShellRequest sends a message other than execute_request on shell and
// waits until the kernel has published idle for it and, for an
// "x_request", sent its "x_reply", which it returns (a message without a
// reply, such as comm_open, gives a zero Message).
func (c *KernelClient) ShellRequest(ctx context.Context, msgType string, content any) (Message, error) {
	c.shellMu.Lock()
	defer c.shellMu.Unlock()
	sub := c.Subscribe() // before sending: its idle is not missed
	defer sub.Close()
	sent, err := c.Send(Shell, Outgoing{Type: msgType, Content: content})
	if err != nil {
		return Message{}, err
	}
	want, replied := "", true
	if strings.HasSuffix(msgType, "_request") {
		want, replied = strings.TrimSuffix(msgType, "_request")+"_reply", false
	}
	shell := c.inboxes[Shell]
	var reply Message
	for idle := false; !idle || !replied; {
		if m, err, ok := shell.poll(); ok {
			if err != nil {
				return Message{}, err
			}
			if want != "" && m.msgType == want && parentMsgID(m) == sent.MsgID {
				reply, replied = exported(m), true
			}
			continue
		}
		if m, err, ok := sub.q.poll(); ok {
			if errors.Is(err, ErrLost) {
				continue // only its idle matters here
			}
			if err != nil {
				return Message{}, err
			}
			var s Status
			if m.msgType == "status" && parentMsgID(m) == sent.MsgID && json.Unmarshal(m.content, &s) == nil && s.ExecutionState == StateIdle {
				idle = true
			}
			continue
		}
		if _, err := await(ctx, nil, shell, sub.q, nil); err != nil {
			return Message{}, fmt.Errorf("jupyter: waiting for the kernel to answer %s: %w", msgType, err)
		}
	}
	return reply, nil
}

// ControlRequest sends a request on control and waits for its reply.
func (c *KernelClient) ControlRequest(ctx context.Context, msgType string, content any) (Message, error) {
	return c.controlRequest(ctx, msgType, content)
}

// controlRequest sends a control request and waits for its reply, which
// must be the matching *_reply.
func (c *KernelClient) controlRequest(ctx context.Context, msgType string, content any) (Message, error) {
	reply, err := c.Request(ctx, Control, Outgoing{Type: msgType, Content: content})
	if err != nil {
		return Message{}, err
	}
	if want := strings.TrimSuffix(msgType, "_request") + "_reply"; reply.Type != want {
		return Message{}, fmt.Errorf("jupyter: %s answered with %s, want %s", msgType, reply.Type, want)
	}
	return reply, nil
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
