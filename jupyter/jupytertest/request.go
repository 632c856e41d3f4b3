// Package jupytertest drives a jupyter.Handler without sockets, the way
// net/http/httptest serves net/http: NewRequest builds a jupyter.Request
// from a message type and content, a Recorder keeps what the handler
// published on iopub, replied and asked over stdin (in order, with types
// and decoded content), and a Server hands requests to a Handler as
// jupyter.Serve does (shell one at a time in order, control beside it,
// each bracketed by status busy and idle). Waits are on recorded events,
// never on the clock; a context bounds them.
package jupytertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"webrepl-kernel/jupyter"
)

// Request is a jupyter.Request made by a test. What the handler does with
// it is recorded on its Recorder; Input takes the answers given with
// Answers or Answer, in order.
type Request struct {
	msgType  string
	channel  string
	msgID    string
	session  string
	content  json.RawMessage
	received time.Time
	mu       sync.Mutex // guards rec and the answers
	rec      *Recorder
	answers  []string
	answered chan struct{} // closed and replaced when an answer is added
}

// Option changes a request NewRequest makes.
type Option func(*Request)

// OnControl makes the request arrive on the control channel (the default
// is shell).
func OnControl() Option { return func(r *Request) { r.channel = "control" } }

// Answers scripts the frontend's answers to the handler's Input calls, in
// order. Once they are used up Input waits for Answer or its context.
func Answers(values ...string) Option {
	return func(r *Request) { r.answers = append(r.answers, values...) }
}

// RecordTo records what the handler does with the request on rec instead
// of a Recorder of its own (a frontend sees every request's messages).
func RecordTo(rec *Recorder) Option { return func(r *Request) { r.rec = rec } }

// NewRequest returns a request of type msgType (e.g. "execute_request")
// whose content is content encoded as JSON, received now. Like
// httptest.NewRequest it panics when content does not encode to a JSON
// object: that is a mistake in the test.
func NewRequest(msgType string, content any, opts ...Option) *Request {
	raw, err := encodeObject(content)
	if err != nil {
		panic(fmt.Sprintf("jupytertest: NewRequest(%q): %v", msgType, err))
	}
	r := &Request{
		msgType: msgType, channel: "shell", msgID: uuid.NewString(), session: "jupytertest",
		content: raw, received: time.Now(), answered: make(chan struct{}),
	}
	for _, o := range opts {
		o(r)
	}
	if r.rec == nil {
		r.rec = NewRecorder()
	}
	return r
}

// encodeObject encodes content as the wire does: a JSON object (nil is {}).
func encodeObject(content any) (json.RawMessage, error) {
	if content == nil {
		return json.RawMessage("{}"), nil
	}
	raw, err := json.Marshal(content)
	if err != nil {
		return nil, fmt.Errorf("encode content: %w", err)
	}
	if !strings.HasPrefix(strings.TrimSpace(string(raw)), "{") {
		return nil, fmt.Errorf("content %s is not a JSON object", raw)
	}
	return raw, nil
}

// Recorder is where what the handler does with this request is recorded.
func (r *Request) Recorder() *Recorder {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec
}

// Answer gives the frontend's answer to the handler's next (or waiting)
// Input call.
func (r *Request) Answer(value string) {
	r.mu.Lock()
	r.answers = append(r.answers, value)
	close(r.answered)
	r.answered = make(chan struct{})
	r.mu.Unlock()
}

// Type is the request's msg_type.
func (r *Request) Type() string { return r.msgType }

// Channel is "shell" or "control".
func (r *Request) Channel() string { return r.channel }

// Received is when NewRequest made the request.
func (r *Request) Received() time.Time { return r.received }

// MsgID is the request's msg_id: the ParentID of what the handler records.
func (r *Request) MsgID() string { return r.msgID }

// Session is the frontend's session id ("jupytertest").
func (r *Request) Session() string { return r.session }

// Decode unmarshals the request content into v.
func (r *Request) Decode(v any) error {
	if err := json.Unmarshal(r.content, v); err != nil {
		return fmt.Errorf("decode %s content: %w", r.msgType, err)
	}
	return nil
}

// Publish records an iopub message parented to the request. Like the
// wire, it fails for content that is not a JSON object.
func (r *Request) Publish(msgType string, content any) error {
	return r.Recorder().record("iopub", msgType, r.msgID, content)
}

// Reply records the reply ("<x>_request" → "<x>_reply") on the request's
// channel.
func (r *Request) Reply(content any) error {
	base, ok := strings.CutSuffix(r.msgType, "_request")
	if !ok {
		return fmt.Errorf("jupytertest: cannot reply to %s: not a request", r.msgType)
	}
	return r.Recorder().record(r.channel, base+"_reply", r.msgID, content)
}

// Input records an input_request on the stdin channel and returns the next
// answer (Answers, Answer), waiting for one until ctx ends. As on the wire,
// an execute_request that said allow_stdin: false gets
// jupyter.ErrStdinNotAllowed and nothing is recorded.
func (r *Request) Input(ctx context.Context, prompt string, password bool) (string, error) {
	if r.msgType == "execute_request" {
		var opts struct {
			AllowStdin *bool `json:"allow_stdin"`
		}
		if err := json.Unmarshal(r.content, &opts); err == nil && opts.AllowStdin != nil && !*opts.AllowStdin {
			return "", jupyter.ErrStdinNotAllowed
		}
	}
	if err := r.Recorder().record("stdin", "input_request", r.msgID, jupyter.InputRequest{Prompt: prompt, Password: password}); err != nil {
		return "", err
	}
	for {
		r.mu.Lock()
		if len(r.answers) > 0 {
			value := r.answers[0]
			r.answers = r.answers[1:]
			r.mu.Unlock()
			return value, nil
		}
		answered := r.answered
		r.mu.Unlock()
		select {
		case <-answered:
		case <-ctx.Done():
			return "", fmt.Errorf("jupytertest: waiting for input: %w", ctx.Err())
		}
	}
}

var _ jupyter.Request = (*Request)(nil)
