package jupyter

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// An inbox that is full makes its reader wait while the taker takes; a
// taker that takes nothing for the stall loses the oldest messages, and
// the next take says how many.
func TestInboxWaitsForTheTakerThenDropsTheOldest(t *testing.T) {
	q := newInbox("test")
	q.limit, q.stall = 2, waitLong
	msg := func(i int) *message { return &message{msgID: strconv.Itoa(i), content: []byte("{}")} }
	take := func() *message {
		t.Helper()
		m, err := q.next(waitCtx(t))
		if err != nil {
			t.Fatalf("take: %v", err)
		}
		return m
	}
	q.put(msg(0), nil)
	q.put(msg(1), nil)

	put := make(chan struct{})
	go func() {
		q.put(msg(2), nil) // full: waits for room
		close(put)
	}()
	if m := take(); m.msgID != "0" {
		t.Fatalf("took %s, want 0", m.msgID)
	}
	select {
	case <-put:
	case <-time.After(waitLong):
		t.Fatal("put did not end when the taker made room")
	}
	for _, want := range []string{"1", "2"} {
		if m := take(); m.msgID != want {
			t.Fatalf("took %s, want %s", m.msgID, want)
		}
	}

	q.put(msg(3), nil)
	q.put(msg(4), nil)
	q.stall = 0 // the taker has stopped taking (put ended above: no race)
	q.put(msg(5), nil)
	q.put(msg(6), nil)
	_, err := q.next(waitCtx(t))
	if !errors.Is(err, ErrLost) || !strings.Contains(err.Error(), "2 test message(s)") {
		t.Fatalf("take after two drops: %v, want 2 lost", err)
	}
	for _, want := range []string{"5", "6"} {
		if m := take(); m.msgID != want {
			t.Fatalf("took %s, want the newest, %s", m.msgID, want)
		}
	}
	if n := q.droppedCount(); n != 2 {
		t.Errorf("dropped %d, want 2", n)
	}

	// Closed: what is queued is taken first, then the reason; put does not wait.
	q.put(msg(7), nil)
	q.close(ErrClosed)
	q.put(msg(8), nil)
	if m := take(); m.msgID != "7" {
		t.Fatalf("took %s, want 7", m.msgID)
	}
	if _, err := q.next(waitCtx(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("take from a closed inbox: %v", err)
	}
}

// A Subscription nobody reads does not hold up the client: Execute (with
// its own Subscription) gets every output while the idle one loses the
// oldest messages and says so. Subscriptions get each message in the
// order they were opened, so the idle one has had the last idle when
// Execute returns.
func TestSubscriptionNotReadDoesNotBlockExecute(t *testing.T) {
	k := newTestKernel(t, tcpInfo())
	idle := newInbox(string(IOPub))
	idle.limit, idle.stall = 1, 0
	sub := k.c.subscribe(idle)
	defer sub.Close()
	go func() {
		for range k.handler.started {
		}
	}()
	for i := range 3 {
		var got []Message
		code := "cell " + strconv.Itoa(i)
		reply, err := k.c.Execute(waitCtx(t), ExecuteRequest{Code: code}, ExecuteHooks{Output: func(m Message) { got = append(got, m) }})
		if err != nil || reply.Status != StatusOK || texts(got) != code {
			t.Fatalf("execute %d: %+v, %v, outputs %q", i, reply, err, texts(got))
		}
	}
	// 3 × (busy, execute_input or not, stream, idle) went by one slot.
	if n := sub.Dropped(); n < 8 {
		t.Errorf("the unread Subscription dropped %d messages, want at least 8", n)
	}
	if _, err := sub.Next(waitCtx(t)); !errors.Is(err, ErrLost) {
		t.Fatalf("first Next of a Subscription that lost messages: %v, want ErrLost", err)
	}
	m, err := sub.Next(waitCtx(t))
	if err != nil || m.Type != "status" || executionState(t, m) != StateIdle {
		t.Errorf("then %s %s (%v), want the last idle", m.Type, m.Content, err)
	}
	sub.Close()
	if _, err := sub.Next(waitCtx(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
}

// The header fields a client writes cannot be replaced by extra ones;
// Request and Receive refuse channels they make no sense on.
func TestClientRefusesWhatIsNotAMessage(t *testing.T) {
	k := newTestKernel(t, tcpInfo())
	if _, err := k.c.Send(Shell, Outgoing{Type: "kernel_info_request", Header: map[string]any{"msg_id": "mine"}}); err == nil {
		t.Error("Send replaced msg_id")
	}
	if _, err := k.c.Send(Shell, Outgoing{Type: "execute_request", Content: []int{1}}); err == nil {
		t.Error("Send sent a list as content")
	}
	if _, err := k.c.Request(context.Background(), Stdin, Outgoing{Type: "input_reply"}); err == nil {
		t.Error("Request on stdin")
	}
	if _, err := k.c.Receive(context.Background(), IOPub); err == nil {
		t.Error("Receive on iopub (Subscribe is the way)")
	}
	if _, err := k.c.Send(HB, Outgoing{Type: "ping"}); err == nil {
		t.Error("Send on hb")
	}
}

// A client with the wrong key takes nothing from the kernel and says why.
func TestClientCountsWhatItRejects(t *testing.T) {
	k := newTestKernel(t, tcpInfo())
	wrong := k.info
	wrong.Key = "not-the-key"
	c, err := Connect(wrong)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sub := c.Subscribe()
	defer sub.Close()
	// Once its iopub subscription is live it gets busy and idle for each
	// of k's requests, signed with the kernel's key.
	deadline := time.Now().Add(waitLong)
	for n, _ := c.Rejected(); n == 0; n, _ = c.Rejected() {
		if time.Now().After(deadline) {
			t.Fatalf("no message rejected within %v", waitLong)
		}
		k.request(t, Shell, Outgoing{Type: "kernel_info_request"})
	}
	if _, last := c.Rejected(); last == nil || !strings.Contains(last.Error(), "iopub: bad signature") {
		t.Errorf("last rejection %v, want a bad iopub signature", last)
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if m, err := sub.Next(ended); err == nil {
		t.Errorf("the wrong-key client passed on %s", m.Type)
	}
}

// WithObserver sees every message as it arrives, with its channel and
// frames; ShellRequest waits for the reply (if the type has one) and the
// idle; ControlRequest for the reply.
func TestObserverShellRequestControlRequest(t *testing.T) {
	k := newTestKernel(t, tcpInfo())
	var mu sync.Mutex
	var seen []Message
	c, err := Connect(k.info, WithObserver(func(m Message) {
		mu.Lock()
		seen = append(seen, m)
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.KernelInfo(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	reply, err := c.ShellRequest(waitCtx(t), "kernel_info_request", KernelInfoRequest{})
	if err != nil || reply.Type != "kernel_info_reply" || reply.Channel != "shell" {
		t.Fatalf("ShellRequest kernel_info: %s on %s, %v", reply.Type, reply.Channel, err)
	}
	// The test handler answers nothing it does not know; Serve still
	// brackets it with busy and idle.
	if reply, err := c.ShellRequest(waitCtx(t), "comm_open", map[string]any{"comm_id": "c", "target_name": "t", "data": map[string]any{}}); err != nil || reply.Type != "" {
		t.Fatalf("ShellRequest comm_open: %+v, %v", reply, err)
	}
	creply, err := c.ControlRequest(waitCtx(t), "kernel_info_request", map[string]any{})
	if err != nil || creply.Type != "kernel_info_reply" || creply.Channel != "control" {
		t.Fatalf("ControlRequest: %s on %s, %v", creply.Type, creply.Channel, err)
	}
	mu.Lock()
	defer mu.Unlock()
	kinds := map[string]bool{}
	for _, m := range seen {
		kinds[m.Channel+" "+m.Type] = true
		if len(m.Header) == 0 || string(m.Metadata) == "" {
			t.Errorf("observed %s %s without its header or metadata", m.Channel, m.Type)
		}
	}
	for _, want := range []string{"shell kernel_info_reply", "control kernel_info_reply", "iopub status"} {
		if !kinds[want] {
			t.Errorf("the observer never saw a %s (saw %v)", want, kinds)
		}
	}
}
