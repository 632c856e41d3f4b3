package jupyter

import (
	"bytes"
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

// A subscriber that stops reading makes Send wait (bounded memory), and
// once it reads again every message arrives, in order.
func TestPubWaitsForASlowSubscriber(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := newPubSocket(ctx, t.Logf, nil)
	// Send tells when it waits, and how much was queued then (under the
	// socket's lock, so read by the test after the wait was signalled).
	waits := make(chan int, 1)
	var mostQueued atomic.Int64
	pub.waiting = func(queued int) {
		mostQueued.Store(max(mostQueued.Load(), int64(queued)))
		select {
		case waits <- queued:
		default:
		}
	}
	if err := pub.Listen("tcp://127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	sub := zmq4.NewSub(ctx)
	defer sub.Close()
	if err := sub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		t.Fatal(err)
	}
	if err := sub.Dial("tcp://" + pub.Addr().String()); err != nil {
		t.Fatal(err)
	}
	// Wait until the subscription arrived: a probe gets through.
	probe := make(chan struct{})
	go func() {
		defer close(probe)
		if _, err := sub.Recv(); err != nil {
			t.Error(err)
		}
	}()
	for done := false; !done; {
		if err := pub.Send(zmq4.NewMsgFrom([]byte("probe"))); err != nil {
			t.Fatal(err)
		}
		select {
		case <-probe:
			done = true
		case <-time.After(50 * time.Millisecond):
		}
	}

	const size = 64 << 10
	const total = 2000 // 128 MiB: far more than the queue and the sockets hold
	var sent atomic.Int64
	sendDone := make(chan error, 1)
	go func() {
		payload := bytes.Repeat([]byte{'x'}, size)
		for i := 0; i < total; i++ {
			seq := binary.BigEndian.AppendUint32(nil, uint32(i))
			if err := pub.Send(zmq4.NewMsgFrom([]byte("t"), seq, payload)); err != nil {
				sendDone <- err
				return
			}
			sent.Add(1)
		}
		sendDone <- nil
	}()
	// Nobody reads: Send must wait well before all is sent, with no more
	// than the bound queued.
	var last int64
	select {
	case queued := <-waits:
		last = sent.Load()
		if queued > pubQueueBytes {
			t.Errorf("Send waited with %d bytes queued, more than the bound %d", queued, pubQueueBytes)
		}
	case err := <-sendDone:
		t.Fatalf("all %d messages (%d MiB) went out to a subscriber that reads nothing, Send never waited (err %v)",
			total, total*size>>20, err)
	case <-time.After(waitLong):
		t.Fatalf("Send neither waited nor finished within %v (%d messages sent)", waitLong, sent.Load())
	}
	if last >= total || last*size > 64<<20 {
		t.Fatalf("%d messages (%d MiB) went out to a subscriber that reads nothing", last, last*size>>20)
	}
	t.Logf("Send waited after %d messages (%d MiB)", last, last*size>>20)
	for i := 0; i < total; i++ {
		msg, err := sub.Recv()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if string(msg.Frames[0]) == "probe" { // more probes went out than were needed
			i--
			continue
		}
		if len(msg.Frames) != 3 || binary.BigEndian.Uint32(msg.Frames[1]) != uint32(i) {
			t.Fatalf("message %d out of order or damaged", i)
		}
	}
	if err := <-sendDone; err != nil {
		t.Fatal(err)
	}
	if n := mostQueued.Load(); n > pubQueueBytes {
		t.Errorf("Send waited once with %d bytes queued, more than the bound %d", n, pubQueueBytes)
	}
}

// Protocol 5.5 (JEP 65): each subscription is answered with an
// iopub_welcome to that subscriber only, whose first frame its prefix
// matches; the socket greets as XPUB, which SUB peers accept.
func TestPubWelcomesEachSubscription(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := &server{session: "S", signer: newSigner("key")}
	pub := newPubSocket(ctx, t.Logf, srv.welcome)
	if err := pub.Listen("tcp://127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	recv := func(sub zmq4.Socket) [][]byte {
		t.Helper()
		got := make(chan zmq4.Msg, 1)
		go func() {
			m, err := sub.Recv()
			if err != nil {
				t.Error(err)
			}
			got <- m
		}()
		select {
		case m := <-got:
			return m.Frames
		case <-time.After(30 * time.Second):
			t.Fatal("nothing received within 30s")
		}
		return nil
	}
	var subs []zmq4.Socket
	for _, topic := range []string{"", "kernel."} {
		sub := zmq4.NewSub(ctx)
		defer sub.Close()
		subs = append(subs, sub)
		if err := sub.SetOption(zmq4.OptionSubscribe, topic); err != nil {
			t.Fatal(err)
		}
		if err := sub.Dial("tcp://" + pub.Addr().String()); err != nil {
			t.Fatal(err)
		}
		frames := recv(sub)
		m, err := decodeMessage(frames, newSigner("key"))
		if err != nil {
			t.Fatalf("welcome: %v", err)
		}
		if m.msgType != "iopub_welcome" || string(m.parent) != "{}" || string(m.content) != `{"subscription":"`+topic+`"}` ||
			!bytes.HasPrefix(frames[0], []byte(topic)) {
			t.Errorf("subscribed to %q, got %s parent %s content %s first frame %q", topic, m.msgType, m.parent, m.content, frames[0])
		}
	}
	// The first subscriber was not welcomed again for the second's
	// subscription: the next thing it reads is the next message published.
	if err := pub.Send(zmq4.NewMsgFrom([]byte("kernel.S.stream"), []byte("next"))); err != nil {
		t.Fatal(err)
	}
	for i, sub := range subs {
		if frames := recv(sub); len(frames) != 2 || string(frames[1]) != "next" {
			t.Errorf("subscriber %d then got %q, want the published message", i, frames)
		}
	}
}
