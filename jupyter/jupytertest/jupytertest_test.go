package jupytertest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"webrepl-kernel/jupyter"
)

// waitLong bounds every wait: generous for a loaded machine.
const waitLong = 20 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	t.Cleanup(cancel)
	return ctx
}

func TestRequestRecordsPublishReplyAndInput(t *testing.T) {
	r := NewRequest("execute_request", jupyter.ExecuteRequest{Code: "x", AllowStdin: true}, Answers("first"))
	if r.Type() != "execute_request" || r.Channel() != "shell" || r.MsgID() == "" || r.Session() == "" || r.Received().IsZero() {
		t.Errorf("request %s %s %q %q %v", r.Type(), r.Channel(), r.MsgID(), r.Session(), r.Received())
	}
	var req jupyter.ExecuteRequest
	if err := r.Decode(&req); err != nil || req.Code != "x" || !req.AllowStdin {
		t.Fatalf("Decode: %+v %v", req, err)
	}
	if err := r.Publish("stream", jupyter.Stream{Name: jupyter.Stdout, Text: "out"}); err != nil {
		t.Fatal(err)
	}
	value, err := r.Input(testContext(t), "name? ", true)
	if err != nil || value != "first" {
		t.Fatalf("scripted Input = %q, %v", value, err)
	}
	// The second Input waits for Answer.
	got := make(chan string, 1)
	go func() {
		v, err := r.Input(context.Background(), "again? ", false)
		if err != nil {
			t.Errorf("Input: %v", err)
		}
		got <- v
	}()
	ask, err := r.Recorder().WaitFor(testContext(t), r.MsgID(), func(m Message) bool { return m.Str("prompt") == "again? " })
	if err != nil || ask.Channel != "stdin" || ask.Type != "input_request" || ask.Content["password"] != false {
		t.Fatalf("second input_request %v, %v", ask, err)
	}
	r.Answer("second")
	if v := <-got; v != "second" {
		t.Errorf("answered Input = %q", v)
	}
	if err := r.Reply(jupyter.ExecuteReply{Status: jupyter.StatusOK, ExecutionCount: 3}); err != nil {
		t.Fatal(err)
	}

	var seen []string
	for _, m := range r.Recorder().Messages() {
		if m.ParentID != r.MsgID() {
			t.Errorf("%v: parent %q, want %q", m, m.ParentID, r.MsgID())
		}
		seen = append(seen, m.Channel+" "+m.Type)
	}
	if want := "iopub stream|stdin input_request|stdin input_request|shell execute_reply"; strings.Join(seen, "|") != want {
		t.Errorf("recorded %q, want %q", strings.Join(seen, "|"), want)
	}
	msgs := r.Recorder().Messages()
	if msgs[0].Str("text") != "out" || msgs[1].Content["password"] != true || msgs[1].Str("prompt") != "name? " {
		t.Errorf("contents %v %v", msgs[0], msgs[1])
	}
	reply, err := r.Recorder().Reply(testContext(t), r.MsgID())
	var decoded jupyter.ExecuteReply
	if err != nil || !reply.IsReply() || reply.Decode(&decoded) != nil || decoded.ExecutionCount != 3 || reply.Content["execution_count"] != float64(3) {
		t.Errorf("reply %v %+v %v", reply, decoded, err)
	}
}

func TestRequestRefusesWhatTheWireRefuses(t *testing.T) {
	r := NewRequest("execute_request", map[string]any{"code": "x", "allow_stdin": false})
	if _, err := r.Input(testContext(t), "p", false); !errors.Is(err, jupyter.ErrStdinNotAllowed) {
		t.Errorf("Input with allow_stdin false: %v", err)
	}
	if err := r.Publish("stream", []int{1}); err == nil {
		t.Error("Publish of a non-object content succeeded")
	}
	if err := NewRequest("comm_open", nil).Reply(map[string]any{}); err == nil {
		t.Error("Reply to comm_open (not a request) succeeded")
	}
	if n := len(r.Recorder().Messages()); n != 0 {
		t.Errorf("refused calls recorded %d messages", n)
	}
	// allow_stdin left out means true, as on the wire.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewRequest("execute_request", map[string]any{"code": "x"}).Input(ctx, "p", false); !errors.Is(err, context.Canceled) {
		t.Errorf("unanswered Input after its context ended: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewRequest with content that is not an object did not panic")
		}
	}()
	NewRequest("execute_request", "code")
}

func TestRecorderWaitEndsWithItsContextAndSaysWhatCame(t *testing.T) {
	rec := NewRecorder()
	r := NewRequest("kernel_info_request", nil, RecordTo(rec))
	if err := r.Publish("status", jupyter.Status{ExecutionState: jupyter.StateBusy}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := rec.Reply(ctx, r.MsgID())
	if err == nil || !strings.Contains(err.Error(), "iopub status") || !strings.Contains(err.Error(), "busy") {
		t.Errorf("error %v, want it to name the recorded status", err)
	}
}

// blockingHandler runs "block" cells until released or cancelled, and
// answers interrupt_request on control meanwhile.
type blockingHandler struct {
	mu      sync.Mutex
	order   []string
	release chan struct{}
}

func (h *blockingHandler) HandleShell(ctx context.Context, r jupyter.Request) {
	var req jupyter.ExecuteRequest
	_ = r.Decode(&req)
	h.mu.Lock()
	h.order = append(h.order, req.Code)
	h.mu.Unlock()
	_ = r.Publish("stream", jupyter.Stream{Name: jupyter.Stdout, Text: req.Code})
	if req.Code == "block" {
		select {
		case <-h.release:
		case <-ctx.Done():
		}
	}
	_ = r.Reply(jupyter.ExecuteReply{Status: jupyter.StatusOK})
}

func (h *blockingHandler) HandleControl(ctx context.Context, r jupyter.Request) {
	_ = r.Reply(jupyter.InterruptReply{Status: jupyter.StatusOK})
}

func TestServerBracketsRequestsAndRunsControlBesideShell(t *testing.T) {
	h := &blockingHandler{release: make(chan struct{})}
	s := NewServer(h)
	defer s.Close()
	ctx := testContext(t)

	blocked := s.Send(NewRequest("execute_request", jupyter.ExecuteRequest{Code: "block"}))
	queued := s.Send(NewRequest("execute_request", jupyter.ExecuteRequest{Code: "queued"}))
	if _, err := s.Recorder.WaitFor(ctx, blocked.MsgID(), func(m Message) bool { return m.Type == "stream" }); err != nil {
		t.Fatal(err)
	}
	// Control is answered while shell is blocked.
	interrupt := s.Send(NewRequest("interrupt_request", nil, OnControl()))
	if reply, err := s.Recorder.Reply(ctx, interrupt.MsgID()); err != nil || reply.Channel != "control" || reply.Type != "interrupt_reply" {
		t.Fatalf("interrupt_reply %v, %v", reply, err)
	}
	if got := s.Recorder.Of(queued.MsgID()); len(got) != 0 {
		t.Errorf("the queued request ran beside the blocked one: %v", got)
	}
	if queued.Received().Before(blocked.Received()) {
		t.Errorf("queued received %v before blocked %v", queued.Received(), blocked.Received())
	}
	close(h.release)
	for _, r := range []*Request{blocked, queued} {
		out, err := s.Recorder.Outputs(ctx, r.MsgID())
		if err != nil || len(out) != 1 || out[0].Type != "stream" {
			t.Errorf("outputs %v, %v", out, err)
		}
		var states []string
		for _, m := range s.Recorder.Of(r.MsgID()) {
			if m.Type == "status" {
				states = append(states, m.Str("execution_state"))
			}
		}
		if strings.Join(states, ",") != "busy,idle" {
			t.Errorf("status %v", states)
		}
		if m := s.Recorder.Of(r.MsgID()); m[0].Type != "status" || !m[len(m)-1].IsStatus(jupyter.StateIdle) {
			t.Errorf("not bracketed: %v", m)
		}
	}
	if strings.Join(h.order, ",") != "block,queued" {
		t.Errorf("handled %v, want in order sent", h.order)
	}
}

func TestServerCloseCancelsTheHandler(t *testing.T) {
	h := &blockingHandler{release: make(chan struct{})}
	s := NewServer(h)
	r := s.Send(NewRequest("execute_request", jupyter.ExecuteRequest{Code: "block"}))
	if _, err := s.Recorder.WaitFor(testContext(t), r.MsgID(), func(m Message) bool { return m.Type == "stream" }); err != nil {
		t.Fatal(err)
	}
	s.Close() // returns only because the handler's context was cancelled
	s.Close()
	if _, err := s.Recorder.Reply(testContext(t), r.MsgID()); err != nil {
		t.Errorf("the cancelled handler did not finish: %v", err)
	}
}
