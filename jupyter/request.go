package jupyter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStdinNotAllowed is returned by Input when the execute_request said
// allow_stdin: false (the frontend cannot answer an input_request).
var ErrStdinNotAllowed = errors.New("jupyter: this frontend does not accept input requests (allow_stdin is false)")

// Request is one shell or control request as a Handler sees it. Its methods
// may be called from any goroutine while the handler runs. The server hands
// handlers its own implementation (a verified message off the wire);
// jupyter/jupytertest has one for tests that need no sockets.
type Request interface {
	// Type is the request's msg_type, e.g. "execute_request".
	Type() string
	// Channel is "shell" or "control".
	Channel() string
	// Received is when the request arrived.
	Received() time.Time
	// MsgID is the request's header msg_id.
	MsgID() string
	// Session is the client's session id from the request header.
	Session() string
	// Decode unmarshals the request content into v.
	Decode(v any) error
	// Publish sends an iopub message whose parent is this request.
	Publish(msgType string, content any) error
	// Reply answers the request ("<x>_request" → "<x>_reply") to whoever sent it.
	Reply(content any) error
	// Input asks the frontend for a line of text over stdin and waits for the
	// answer (ErrStdinNotAllowed when the request said allow_stdin: false).
	Input(ctx context.Context, prompt string, password bool) (string, error)
}

// wireRequest is a verified request off the server's sockets.
type wireRequest struct {
	srv      *server
	sock     *socket // the socket it came in on; replies go back there
	channel  string
	msg      *message
	received time.Time
	replied  atomic.Bool // a reply was sent (or attempted); see callHandler
}

// Type is the request's msg_type, e.g. "execute_request".
func (r *wireRequest) Type() string { return r.msg.msgType }

// Channel is "shell" or "control".
func (r *wireRequest) Channel() string { return r.channel }

// Received is when the socket reader got the request.
func (r *wireRequest) Received() time.Time { return r.received }

// MsgID is the request's header msg_id.
func (r *wireRequest) MsgID() string { return r.msg.msgID }

// Session is the client's session id from the request header.
func (r *wireRequest) Session() string { return r.msg.session }

// Decode unmarshals the request content into v.
func (r *wireRequest) Decode(v any) error {
	if err := json.Unmarshal(r.msg.content, v); err != nil {
		return fmt.Errorf("decode %s content: %w", r.Type(), err)
	}
	return nil
}

// Publish sends an iopub message whose parent is this request.
func (r *wireRequest) Publish(msgType string, content any) error {
	return r.srv.publish(r.msg.rawHeader, msgType, content)
}

// Reply answers the request ("<x>_request" → "<x>_reply") on the socket it
// came in on, routed to the identities it came from.
func (r *wireRequest) Reply(content any) error {
	base, ok := strings.CutSuffix(r.Type(), "_request")
	if !ok {
		return fmt.Errorf("jupyter: cannot reply to %s: not a request", r.Type())
	}
	r.replied.Store(true)
	return r.send(r.sock, base+"_reply", content)
}

func (r *wireRequest) send(k *socket, msgType string, content any) error {
	frames, _, err := outgoing{
		identities: r.msg.identities,
		msgType:    msgType,
		parent:     r.msg.rawHeader,
		content:    content,
	}.encode(r.srv.session, r.srv.signer, time.Now())
	if err != nil {
		return fmt.Errorf("jupyter: %w", err)
	}
	select {
	case <-r.srv.closing:
		return fmt.Errorf("jupyter: send %s: %w", msgType, ErrClosed)
	default:
	}
	if err := k.send(frames); err != nil {
		return fmt.Errorf("jupyter: send %s: %w", msgType, err)
	}
	return nil
}

// Input asks the frontend for a line of text: it sends input_request on the
// stdin socket, routed with this request's identities and parented to it, and
// waits for the input_reply. Cancelling ctx (an interrupt) abandons the wait;
// a late reply is then logged and dropped. If no stdin peer has connected at
// all, the send itself gives up after sendTimeout and the wait continues
// until ctx ends (zmq4 gives no delivery error).
func (r *wireRequest) Input(ctx context.Context, prompt string, password bool) (string, error) {
	if r.Type() == "execute_request" {
		var opts struct {
			AllowStdin *bool `json:"allow_stdin"`
		}
		if err := json.Unmarshal(r.msg.content, &opts); err == nil && opts.AllowStdin != nil && !*opts.AllowStdin {
			return "", ErrStdinNotAllowed
		}
	}
	frames, msgID, err := outgoing{
		identities: r.msg.identities,
		msgType:    "input_request",
		parent:     r.msg.rawHeader,
		content:    InputRequest{Prompt: prompt, Password: password},
	}.encode(r.srv.session, r.srv.signer, time.Now())
	if err != nil {
		return "", fmt.Errorf("jupyter: %w", err)
	}
	reply := r.srv.inputs.register(msgID)
	defer r.srv.inputs.unregister(msgID)
	select {
	case <-r.srv.closing:
		return "", fmt.Errorf("jupyter: input request: %w", ErrClosed)
	default:
	}
	if err := r.srv.stdin.send(frames); err != nil {
		return "", fmt.Errorf("jupyter: input request: %w", err)
	}
	select {
	case value := <-reply:
		return value, nil
	case <-ctx.Done():
		return "", fmt.Errorf("jupyter: waiting for input: %w", ctx.Err())
	case <-r.srv.closing:
		return "", fmt.Errorf("jupyter: waiting for input: %w", ErrClosed)
	}
}

// inputWaiters matches input_reply messages to the Input calls waiting for them.
type inputWaiters struct {
	mu      sync.Mutex
	pending map[string]chan string // input_request msg_id → its answer
}

func (w *inputWaiters) register(msgID string) <-chan string {
	ch := make(chan string, 1)
	w.mu.Lock()
	w.pending[msgID] = ch
	w.mu.Unlock()
	return ch
}

func (w *inputWaiters) unregister(msgID string) {
	w.mu.Lock()
	delete(w.pending, msgID)
	w.mu.Unlock()
}

// deliver hands a reply to the Input call it answers: the one named by its
// parent msg_id, or — because jupyter_client's KernelClient.input() sends no
// parent — the only one waiting.
func (w *inputWaiters) deliver(msg *message) error {
	var reply InputReply
	if err := json.Unmarshal(msg.content, &reply); err != nil {
		return fmt.Errorf("input_reply content: %w", err)
	}
	var parent struct {
		MsgID string `json:"msg_id"`
	}
	_ = json.Unmarshal(msg.parent, &parent) // decodeMessage checked it is an object
	w.mu.Lock()
	defer w.mu.Unlock()
	ch, ok := w.pending[parent.MsgID]
	if !ok && parent.MsgID == "" && len(w.pending) == 1 {
		for id, only := range w.pending {
			ch, ok = only, true
			delete(w.pending, id)
		}
	}
	if !ok {
		return fmt.Errorf("input_reply %q answers no pending input request; dropped", parent.MsgID)
	}
	delete(w.pending, parent.MsgID)
	select {
	case ch <- reply.Value:
		return nil
	default:
		return errors.New("a second input_reply for the same request; dropped")
	}
}
