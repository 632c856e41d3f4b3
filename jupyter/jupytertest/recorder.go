package jupytertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"webrepl-kernel/jupyter"
)

// Message is one message a handler sent, as a frontend decodes it.
type Message struct {
	// Channel is "iopub" (Publish), "shell" or "control" (Reply, on the
	// request's channel) or "stdin" (an input_request from Input).
	Channel string
	// Type is the msg_type, e.g. "stream" or "execute_reply".
	Type string
	// ParentID is the msg_id of the request the message answers.
	ParentID string
	// Content is the content decoded from JSON (numbers are float64).
	Content map[string]any
	// Raw is the content as JSON, for Decode.
	Raw json.RawMessage
	// Metadata is the message-level metadata (jupyter.WithMetadata), nil
	// when there is none.
	Metadata map[string]any
}

// Decode unmarshals the content into v.
func (m Message) Decode(v any) error {
	if err := json.Unmarshal(m.Raw, v); err != nil {
		return fmt.Errorf("decode %s content: %w", m.Type, err)
	}
	return nil
}

// Str returns the content's string field key ("" if absent or no string).
func (m Message) Str(key string) string {
	s, _ := m.Content[key].(string)
	return s
}

// IsReply reports whether m is a reply (on shell or control).
func (m Message) IsReply() bool { return m.Channel == "shell" || m.Channel == "control" }

// IsStatus reports whether m is an iopub status with execution_state state.
func (m Message) IsStatus(state string) bool {
	return m.Channel == "iopub" && m.Type == "status" && m.Str("execution_state") == state
}

// String renders m on one line for failure messages.
func (m Message) String() string {
	return fmt.Sprintf("%s %s %s", m.Channel, m.Type, m.Raw)
}

// Recorder keeps every message handlers sent through the requests that
// record to it, in the order they were sent. It is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	msgs    []Message
	changed chan struct{} // closed and replaced on every new message
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{changed: make(chan struct{})} }

func (rec *Recorder) record(channel, msgType, parent string, content any) error {
	var metadata map[string]any
	if wm, ok := content.(jupyter.WithMetadata); ok {
		raw, err := encodeObject(wm.Metadata)
		if err != nil {
			return fmt.Errorf("jupytertest: %s metadata: %w", msgType, err)
		}
		if err := json.Unmarshal(raw, &metadata); err != nil {
			return fmt.Errorf("jupytertest: %s metadata: %w", msgType, err)
		}
		content = wm.Content
	}
	raw, err := encodeObject(content)
	if err != nil {
		return fmt.Errorf("jupytertest: %s: %w", msgType, err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(raw, &decoded); err != nil {
		return fmt.Errorf("jupytertest: %s: %w", msgType, err)
	}
	rec.mu.Lock()
	rec.msgs = append(rec.msgs, Message{Channel: channel, Type: msgType, ParentID: parent, Content: decoded, Raw: raw, Metadata: metadata})
	close(rec.changed)
	rec.changed = make(chan struct{})
	rec.mu.Unlock()
	return nil
}

// Messages returns everything recorded so far, in order.
func (rec *Recorder) Messages() []Message {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]Message(nil), rec.msgs...)
}

// Of returns what was recorded so far for the request with msg_id parent.
func (rec *Recorder) Of(parent string) []Message {
	var out []Message
	for _, m := range rec.Messages() {
		if m.ParentID == parent {
			out = append(out, m)
		}
	}
	return out
}

// Wait returns the first recorded message (already recorded or still to
// come) for which ok is true. When ctx ends first, the error names what
// was recorded.
func (rec *Recorder) Wait(ctx context.Context, ok func(Message) bool) (Message, error) {
	next := 0
	for {
		rec.mu.Lock()
		for ; next < len(rec.msgs); next++ {
			if ok(rec.msgs[next]) {
				m := rec.msgs[next]
				rec.mu.Unlock()
				return m, nil
			}
		}
		changed := rec.changed
		rec.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("jupytertest: %w; recorded:\n%s", ctx.Err(), rec.dump())
		}
	}
}

// WaitFor is Wait for messages parented to the request with msg_id parent.
func (rec *Recorder) WaitFor(ctx context.Context, parent string, ok func(Message) bool) (Message, error) {
	m, err := rec.Wait(ctx, func(m Message) bool { return m.ParentID == parent && ok(m) })
	if err != nil {
		return Message{}, fmt.Errorf("waiting for a message for %s: %w", parent, err)
	}
	return m, nil
}

// Reply waits for the reply to the request with msg_id parent.
func (rec *Recorder) Reply(ctx context.Context, parent string) (Message, error) {
	m, err := rec.Wait(ctx, func(m Message) bool { return m.ParentID == parent && m.IsReply() })
	if err != nil {
		return Message{}, fmt.Errorf("waiting for the reply to %s: %w", parent, err)
	}
	return m, nil
}

// Outputs waits for the status idle that a Server publishes after handling
// the request with msg_id parent, and returns the iopub messages parented
// to it, in order, status excluded.
func (rec *Recorder) Outputs(ctx context.Context, parent string) ([]Message, error) {
	if _, err := rec.Wait(ctx, func(m Message) bool { return m.ParentID == parent && m.IsStatus(jupyter.StateIdle) }); err != nil {
		return nil, fmt.Errorf("waiting for idle after %s: %w", parent, err)
	}
	var out []Message
	for _, m := range rec.Of(parent) {
		if m.Channel == "iopub" && m.Type != "status" {
			out = append(out, m)
		}
	}
	return out, nil
}

// dump renders the recorded messages, one a line, for a failure message.
func (rec *Recorder) dump() string {
	var b strings.Builder
	for _, m := range rec.Messages() {
		fmt.Fprintf(&b, "  [%.8s] %s\n", m.ParentID, m)
	}
	if b.Len() == 0 {
		return "  (nothing)\n"
	}
	return b.String()
}
