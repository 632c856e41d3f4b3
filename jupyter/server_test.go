package jupyter

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSignedRoundTripKeepsParentHeaderVerbatim(t *testing.T) {
	k := newTestKernel(t, tcpInfo())

	// An unknown header field must survive into parent_header byte for byte.
	sent := k.send(t, Shell, Outgoing{Type: "kernel_info_request", Header: map[string]any{"subshell_id": nil, "x-extra": []int{1, 2}}})
	reply := k.replyTo(t, Shell, sent.MsgID) // the client drops what fails the HMAC check

	if string(reply.ParentHeader) != string(sent.Header) {
		t.Errorf("parent_header = %s, want the request header verbatim %s", reply.ParentHeader, sent.Header)
	}
	if reply.Type != "kernel_info_reply" {
		t.Errorf("reply type %q", reply.Type)
	}
	var h Header
	if err := json.Unmarshal(reply.Header, &h); err != nil {
		t.Fatal(err)
	}
	if h.Version != ProtocolVersion || h.Username == "" || h.Session == "" || h.MsgID == "" {
		t.Errorf("reply header %+v", h)
	}
	if _, err := time.Parse(time.RFC3339Nano, h.Date); err != nil {
		t.Errorf("reply date %q is not RFC 3339: %v", h.Date, err)
	}
	var info KernelInfoReply
	if err := reply.Decode(&info); err != nil || info.Status != StatusOK || info.LanguageInfo.FileExtension != ".py" {
		t.Errorf("kernel_info_reply content %s (%v)", reply.Content, err)
	}

	// A second identical request gets a reply with a fresh msg_id
	// (jupyter_client rejects a repeated signature).
	reply2 := k.request(t, Shell, Outgoing{Type: "kernel_info_request"})
	var h2 Header
	if err := json.Unmarshal(reply2.Header, &h2); err != nil {
		t.Fatal(err)
	}
	if h2.MsgID == h.MsgID {
		t.Errorf("two replies share msg_id %s", h.MsgID)
	}
	if h2.Session != h.Session {
		t.Errorf("kernel session changed within one Serve: %s → %s", h.Session, h2.Session)
	}
}

func TestBadSignatureIsDroppedAndKernelKeepsAnswering(t *testing.T) {
	k := newTestKernel(t, tcpInfo())
	handledBefore := len(k.handler.handledIDs())

	// Signed with another key: a kernel_info_request, and an execute_request
	// that must never run.
	forgedIDs := map[string]bool{}
	for _, req := range []struct {
		msgType string
		content any
	}{{"kernel_info_request", struct{}{}}, {"execute_request", ExecuteRequest{Code: "forged = 1", StoreHistory: true}}} {
		forged, sent := k.frames(t, Outgoing{Type: req.msgType, Content: req.content})
		forged[1] = newSigner("not-the-key").sign(forged[2], forged[3], forged[4], forged[5])
		k.sendFrames(t, Shell, forged)
		forgedIDs[sent.MsgID] = true
	}
	goodID := k.send(t, Shell, Outgoing{Type: "kernel_info_request"}).MsgID

	// Requests are handled in arrival order, so if a forged one had been
	// accepted its reply would come first.
	if got := k.next(t, Shell).ParentID; got != goodID {
		t.Fatalf("first reply answers %s, want the signed request %s (forged were %v)", got, goodID, forgedIDs)
	}
	if ids := k.handler.handledIDs()[handledBefore:]; len(ids) != 1 || ids[0] != goodID {
		t.Errorf("handler saw %v, want only %s", ids, goodID)
	}
	if n := k.log.count("bad signature"); n != len(forgedIDs) {
		t.Errorf("want %d bad-signature log lines, got log %q", len(forgedIDs), k.log.lines)
	}
	// Nothing was published for them either (it would come before the
	// signed request's idle).
	for {
		msg := k.nextIOPub(t, "idle for "+goodID)
		if forgedIDs[msg.ParentID] {
			t.Errorf("iopub %s for a forged request", msg.Type)
		} else if msg.ParentID == goodID && msg.Type == "status" && executionState(t, msg) == StateIdle {
			break
		}
	}
}

func TestMalformedMessagesAreDropped(t *testing.T) {
	k := newTestKernel(t, tcpInfo())
	handledBefore := len(k.handler.handledIDs())

	good, _ := k.frames(t, Outgoing{Type: "kernel_info_request"})
	sign := func(f [][]byte) [][]byte { // re-sign after tampering with a dict
		f[1] = k.c.signer.sign(f[2], f[3], f[4], f[5])
		return f
	}
	clone := func() [][]byte { return append([][]byte(nil), good...) }
	cases := map[string][][]byte{
		"no delimiter":       clone()[1:],
		"too few frames":     clone()[:4],
		"header not JSON":    sign(append(clone()[:2], []byte("{not json"), good[3], good[4], good[5])),
		"header no msg_type": sign(append(clone()[:2], []byte(`{"msg_id":"x"}`), good[3], good[4], good[5])),
		"content not object": sign(append(clone()[:5], []byte(`[1,2]`))),
		"parent null":        sign(append(clone()[:3], []byte(`null`), good[4], good[5])),
		"signature not hex":  append(append(clone()[:1], []byte("zz")), good[2:]...),
		"only identities":    {[]byte("a"), []byte("b")},
	}
	for _, frames := range cases {
		k.sendFrames(t, Shell, frames)
	}
	goodID := k.send(t, Shell, Outgoing{Type: "kernel_info_request"}).MsgID
	if got := k.next(t, Shell).ParentID; got != goodID {
		t.Fatalf("first reply answers %s, want %s: a malformed message got through", got, goodID)
	}
	if ids := k.handler.handledIDs()[handledBefore:]; len(ids) != 1 {
		t.Errorf("handler saw %d requests, want 1", len(ids))
	}
	if n := k.log.count("dropped a message"); n != len(cases) {
		t.Errorf("%d drop log lines for %d malformed messages: %q", n, len(cases), k.log.lines)
	}
}

func TestBusyOutputIdleAroundEveryRequest(t *testing.T) {
	k := newTestKernel(t, tcpInfo())

	id := k.send(t, Shell, Outgoing{Type: "execute_request", Content: ExecuteRequest{Code: "some output", StoreHistory: true}}).MsgID
	reply := k.replyTo(t, Shell, id)
	if reply.Type != "execute_reply" {
		t.Errorf("reply type %s", reply.Type)
	}
	assertIOPub(t, k.untilIdle(t, id), []string{"status:busy", "stream", "status:idle"})

	// The same bracketing on control, with the reply on control.
	cid := k.send(t, Control, Outgoing{Type: "kernel_info_request"}).MsgID
	if r := k.replyTo(t, Control, cid); r.Type != "kernel_info_reply" {
		t.Errorf("control reply type %s", r.Type)
	}
	assertIOPub(t, k.untilIdle(t, cid), []string{"status:busy", "status:idle"})
}

func TestPanickingHandlerStillRepliesAndGoesIdle(t *testing.T) {
	k := newTestKernel(t, tcpInfo())

	assertInternalError := func(reply Message, wantType, wantValue string) {
		t.Helper()
		if reply.Type != wantType {
			t.Errorf("reply type %s, want %s", reply.Type, wantType)
		}
		var content map[string]any
		if err := reply.Decode(&content); err != nil {
			t.Fatalf("reply content: %v", err)
		}
		if content["status"] != "error" || content["ename"] != "InternalError" || content["evalue"] != wantValue {
			t.Errorf("reply content %s, want status error, ename InternalError, evalue %q", reply.Content, wantValue)
		}
		if tb, ok := content["traceback"].([]any); !ok || len(tb) != 0 {
			t.Errorf("traceback %#v, want an empty list", content["traceback"])
		}
	}

	id := k.send(t, Shell, Outgoing{Type: "execute_request", Content: ExecuteRequest{Code: "panic"}}).MsgID
	assertInternalError(k.replyTo(t, Shell, id), "execute_reply", "handler bug second line")
	assertIOPub(t, k.untilIdle(t, id), []string{"status:busy", "status:idle"})

	cid := k.send(t, Control, Outgoing{Type: "panic_request"}).MsgID
	assertInternalError(k.replyTo(t, Control, cid), "panic_reply", "control bug")
	assertIOPub(t, k.untilIdle(t, cid), []string{"status:busy", "status:idle"})

	// A handler that had already replied gets no second reply: the next
	// message on shell answers the next request.
	rid := k.send(t, Shell, Outgoing{Type: "execute_request", Content: ExecuteRequest{Code: "reply then panic"}}).MsgID
	if r := k.replyTo(t, Shell, rid); r.Type != "execute_reply" || !strings.Contains(string(r.Content), `"ok"`) {
		t.Errorf("got %s %s, want the handler's own ok execute_reply", r.Type, r.Content)
	}
	kid := k.send(t, Shell, Outgoing{Type: "kernel_info_request"}).MsgID
	if next := k.next(t, Shell); next.ParentID != kid {
		t.Errorf("next shell message is a %s to %s, want the kernel_info_reply to %s", next.Type, next.ParentID, kid)
	}
	if n := k.log.count("panicked"); n != 3 {
		t.Errorf("%d panic log lines for 3 panics: %q", n, k.log.lines)
	}
}

func assertIOPub(t *testing.T, msgs []Message, want []string) {
	t.Helper()
	var got []string
	for _, m := range msgs {
		kind := m.Type
		if kind == "status" {
			kind += ":" + executionState(t, m)
		}
		got = append(got, kind)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("iopub for the request: %v, want %v", got, want)
	}
}

func TestControlReplyReachesIdentitylessClient(t *testing.T) {
	k := newTestKernel(t, tcpInfo()) // shell peer exists, with a different identity

	d := dialRawDealer(t, k.info.endpoint(k.info.ControlPort))
	frames, sent := k.frames(t, Outgoing{Type: "interrupt_request"})
	d.send(t, frames)
	reply, err := decodeMessage(d.recv(t), k.c.signer)
	if err != nil {
		t.Fatalf("raw dealer got a bad message: %v", err)
	}
	if got := exported(reply); got.Type != "interrupt_reply" || got.ParentID != sent.MsgID {
		t.Errorf("got %s for %s, want interrupt_reply for %s", got.Type, got.ParentID, sent.MsgID)
	}
	if m, ok := k.queued(t, Shell); ok {
		t.Errorf("control reply leaked onto shell: %s", m.Type)
	}
}

func TestControlAndHeartbeatServedWhileShellBlocked(t *testing.T) {
	k := newTestKernel(t, tcpInfo())
	handledBefore := len(k.handler.handledIDs())

	execID := k.send(t, Shell, Outgoing{Type: "execute_request", Content: ExecuteRequest{Code: "block"}}).MsgID
	if code := <-k.handler.started; code != "block" {
		t.Fatalf("started %q", code)
	}

	// The shell reader keeps reading while the handler is busy.
	queuedID := k.send(t, Shell, Outgoing{Type: "kernel_info_request"}).MsgID
	awaitCondition(t, "second shell request queued", func() bool { return k.srv.shellQueue.len() == 1 })

	cid := k.send(t, Control, Outgoing{Type: "interrupt_request"}).MsgID
	if r := k.replyTo(t, Control, cid); r.Type != "interrupt_reply" {
		t.Errorf("control reply type %s", r.Type)
	}

	// Heartbeat fails unless the echo is the payload, frame for frame.
	for _, ping := range []string{"ping", "\x00binary\xff", "third"} {
		if err := k.c.Heartbeat(waitCtx(t), []byte(ping)); err != nil {
			t.Errorf("heartbeat %q: %v", ping, err)
		}
	}

	close(k.handler.release)
	if r := k.replyTo(t, Shell, execID); r.Type != "execute_reply" {
		t.Errorf("execute reply type %s", r.Type)
	}
	k.replyTo(t, Shell, queuedID)
	ids := k.handler.handledIDs()[handledBefore:]
	// shell: exec, queued; control: interrupt — the interrupt was handled
	// before the queued shell request, i.e. while exec was running.
	if len(ids) != 3 || ids[0] != execID || ids[1] != cid || ids[2] != queuedID {
		t.Errorf("handling order %v, want [%s %s %s]", ids, execID, cid, queuedID)
	}
}

// awaitCondition polls cond (an internal state the test cannot be notified
// of) until it holds, failing after waitLong.
func awaitCondition(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestInputRoundTrip(t *testing.T) {
	k := newTestKernel(t, tcpInfo())

	for _, withParent := range []bool{true, false} { // JupyterLab sets it; jupyter_client does not
		id := k.send(t, Shell, Outgoing{Type: "execute_request", Content: ExecuteRequest{Code: "input", AllowStdin: true}}).MsgID
		req := k.next(t, Stdin)
		if req.Type != "input_request" || req.ParentID != id {
			t.Fatalf("stdin got %s parented to %s, want input_request for %s", req.Type, req.ParentID, id)
		}
		var ir InputRequest
		if err := req.Decode(&ir); err != nil || ir.Prompt != "name? " || ir.Password {
			t.Errorf("input_request content %s", req.Content)
		}
		var parent json.RawMessage
		if withParent {
			parent = req.Header
		}
		k.send(t, Stdin, Outgoing{Type: "input_reply", Content: InputReply{Value: "Ada"}, Parent: parent})
		k.replyTo(t, Shell, id)
		out := k.untilIdle(t, id)
		if len(out) != 3 || out[1].Type != "stream" || !strings.Contains(string(out[1].Content), `"hello Ada"`) {
			t.Errorf("withParent=%v: iopub %v", withParent, out)
		}
	}
}

func TestInputRefusedWithoutAllowStdinAndCancelledByInterrupt(t *testing.T) {
	k := newTestKernel(t, tcpInfo())

	// allow_stdin false: Input fails at once, nothing is sent on stdin.
	reply := k.request(t, Shell, Outgoing{Type: "execute_request", Content: map[string]any{"code": "input", "allow_stdin": false}})
	var er ExecuteReply
	if err := reply.Decode(&er); err != nil || er.Status != StatusError || !strings.Contains(er.Evalue, "allow_stdin") {
		t.Errorf("execute_reply %s", reply.Content)
	}

	// An interrupt cancels a pending Input.
	id := k.send(t, Shell, Outgoing{Type: "execute_request", Content: ExecuteRequest{Code: "input", AllowStdin: true}}).MsgID
	k.next(t, Stdin)
	k.request(t, Control, Outgoing{Type: "interrupt_request"})
	reply = k.replyTo(t, Shell, id)
	if err := reply.Decode(&er); err != nil || er.Status != StatusError || !strings.Contains(er.Evalue, "canceled") {
		t.Errorf("execute_reply after interrupt %s", reply.Content)
	}
	if m, ok := k.queued(t, Stdin); ok {
		t.Errorf("unexpected stdin message %s before the first one was answered", m.Type)
	}
}

func TestShutdownReleasesPortsForRestart(t *testing.T) {
	first := newTestKernel(t, tcpInfo())

	// shutdown_request on control: the handler replies and cancels Serve.
	reply := first.request(t, Control, Outgoing{Type: "shutdown_request", Content: ShutdownRequest{Restart: true}})
	var sr map[string]any
	if err := reply.Decode(&sr); err != nil || sr["restart"] != true || sr["status"] != StatusOK {
		t.Errorf("shutdown_reply %s", reply.Content)
	}
	select {
	case err := <-first.done:
		if err != nil {
			t.Fatalf("Serve returned %v", err)
		}
		close(first.done)
	case <-time.After(waitLong):
		t.Fatal("Serve did not return after shutdown")
	}

	// Every goroutine Serve started has ended.
	buf := make([]byte, 1<<20)
	if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "jupyter.(*server)") {
		t.Errorf("server goroutines left after Serve returned:\n%s", stacks)
	}

	// jupyter_client restarts the kernel on the very same ports.
	second := newTestKernel(t, first.info)
	if second.info != first.info {
		t.Fatalf("second server bound %+v, want %+v", second.info, first.info)
	}
	second.request(t, Shell, Outgoing{Type: "kernel_info_request"})
}

func TestServeOverIPC(t *testing.T) {
	dir := t.TempDir()
	info := ConnectionInfo{Transport: "ipc", IP: filepath.Join(dir, "kernel"), Key: testKey,
		ShellPort: 1, IOPubPort: 2, StdinPort: 3, ControlPort: 4, HBPort: 5}
	// A socket file left by a killed kernel must not stop the next one.
	stale, err := net.Listen("unix", info.IP+"-1")
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	k := newTestKernel(t, info)
	k.request(t, Shell, Outgoing{Type: "kernel_info_request"})
	k.c.Close()
	k.stop(t)
	for _, p := range info.ports() {
		if _, err := os.Stat(info.IP + "-" + strconv.Itoa(p.port)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s socket file still there after Serve returned (%v)", p.name, err)
		}
	}
}

func TestServeRejectsBadConfiguration(t *testing.T) {
	h := newTestHandler()
	for name, info := range map[string]ConnectionInfo{
		"scheme":    {Transport: "tcp", IP: "127.0.0.1", SignatureScheme: "hmac-md5"},
		"transport": {Transport: "udp", IP: "127.0.0.1"},
	} {
		err := Serve(context.Background(), info, h, nil)
		if err == nil {
			t.Errorf("%s: Serve accepted %+v", name, info)
		}
	}
	// A port already taken is an error naming the socket, not a hang.
	rs := startServer(t, tcpInfo())
	taken := tcpInfo()
	taken.ShellPort = rs.info.ShellPort
	err := Serve(context.Background(), taken, h, nil)
	if err == nil || !strings.Contains(err.Error(), "shell") {
		t.Errorf("Serve on a taken port: %v", err)
	}
}

func TestGoroutineGroupWaitGivesUpAndLaterSucceeds(t *testing.T) {
	var g goroutineGroup
	release := make(chan struct{})
	g.start(func() {})
	g.start(func() { <-release })
	if g.wait(10 * time.Millisecond) {
		t.Fatal("wait reported a blocked goroutine as finished")
	}
	close(release)
	if !g.wait(waitLong) {
		t.Fatal("wait timed out after every goroutine was released")
	}
}

// A BesideHandler's requests are handled while a shell request runs,
// bracketed by busy and idle, and what they publish keeps its metadata.
func TestBesideRequestsServedWhileShellBlocked(t *testing.T) {
	k := newTestKernel(t, tcpInfo())
	execID := k.send(t, Shell, Outgoing{Type: "execute_request", Content: ExecuteRequest{Code: "block"}}).MsgID
	if code := <-k.handler.started; code != "block" {
		t.Fatalf("started %q", code)
	}
	commID := k.send(t, Shell, Outgoing{Type: "comm_msg", Content: CommMsg{CommID: "c1", Data: Metadata{"method": "update"}}}).MsgID
	got := k.untilIdle(t, commID)
	var types []string
	for _, m := range got {
		types = append(types, m.Type)
		if m.Type == "comm_msg" && string(m.Metadata) != `{"version":"2.1.0"}` {
			t.Errorf("comm_msg metadata %s", m.Metadata)
		}
	}
	if strings.Join(types, " ") != "status comm_msg status" {
		t.Errorf("published for the comm_msg: %v", types)
	}
	close(k.handler.release)
	k.replyTo(t, Shell, execID)
	if ids := k.handler.handledIDs(); len(ids) < 2 || ids[len(ids)-2] != execID || ids[len(ids)-1] != commID {
		// exec was recorded when it started, the comm_msg while it blocked
		t.Errorf("handling order %v", ids)
	}
}
