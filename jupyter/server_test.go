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

	"github.com/go-zeromq/zmq4"
)

func TestSignedRoundTripKeepsParentHeaderVerbatim(t *testing.T) {
	rs := startServer(t, tcpInfo())
	c := dialClient(t, rs.info)

	// An unknown header field must survive into parent_header byte for byte.
	id, header := c.send(c.shell, "kernel_info_request", struct{}{}, map[string]any{"subshell_id": nil, "x-extra": []int{1, 2}})
	reply := c.replyTo(c.shellIn, id) // decodeMessage already verified the HMAC

	if string(reply.parent) != string(header) {
		t.Errorf("parent_header = %s, want the request header verbatim %s", reply.parent, header)
	}
	if reply.msgType != "kernel_info_reply" {
		t.Errorf("reply type %q", reply.msgType)
	}
	var h Header
	if err := json.Unmarshal(reply.rawHeader, &h); err != nil {
		t.Fatal(err)
	}
	if h.Version != ProtocolVersion || h.Username == "" || h.Session == "" || h.MsgID == "" {
		t.Errorf("reply header %+v", h)
	}
	if _, err := time.Parse(time.RFC3339Nano, h.Date); err != nil {
		t.Errorf("reply date %q is not RFC 3339: %v", h.Date, err)
	}
	var info KernelInfoReply
	if err := json.Unmarshal(reply.content, &info); err != nil || info.Status != StatusOK || info.LanguageInfo.FileExtension != ".py" {
		t.Errorf("kernel_info_reply content %s (%v)", reply.content, err)
	}

	// A second identical request gets a reply with a fresh msg_id
	// (jupyter_client rejects a repeated signature).
	id2, _ := c.send(c.shell, "kernel_info_request", struct{}{}, nil)
	reply2 := c.replyTo(c.shellIn, id2)
	var h2 Header
	if err := json.Unmarshal(reply2.rawHeader, &h2); err != nil {
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
	rs := startServer(t, tcpInfo())
	c := dialClient(t, rs.info)
	c.waitForIOPub()
	handledBefore := len(rs.handler.handledIDs())

	// Signed with another key: a kernel_info_request, and an execute_request
	// that must never run.
	forgedIDs := map[string]bool{}
	for _, req := range []struct {
		msgType string
		content any
	}{{"kernel_info_request", struct{}{}}, {"execute_request", ExecuteRequest{Code: "forged = 1", StoreHistory: true}}} {
		forged, forgedID, _ := c.frames(req.msgType, req.content, nil, nil)
		forged[1] = newSigner("not-the-key").sign(forged[2], forged[3], forged[4], forged[5])
		if err := c.shell.SendMulti(zmq4.NewMsgFrom(forged...)); err != nil {
			t.Fatal(err)
		}
		forgedIDs[forgedID] = true
	}
	goodID, _ := c.send(c.shell, "kernel_info_request", struct{}{}, nil)

	// Requests are handled in arrival order, so if a forged one had been
	// accepted its reply would come first.
	if got := parentID(t, c.next(c.shellIn, "a reply")); got != goodID {
		t.Fatalf("first reply answers %s, want the signed request %s (forged were %v)", got, goodID, forgedIDs)
	}
	if ids := rs.handler.handledIDs()[handledBefore:]; len(ids) != 1 || ids[0] != goodID {
		t.Errorf("handler saw %v, want only %s", ids, goodID)
	}
	if n := rs.log.count("bad signature"); n != len(forgedIDs) {
		t.Errorf("want %d bad-signature log lines, got log %q", len(forgedIDs), rs.log.lines)
	}
	// Nothing was published for them either (it would come before the
	// signed request's idle).
	for {
		msg := c.next(c.iopubIn, "iopub idle for "+goodID)
		if id := parentID(t, msg); forgedIDs[id] {
			t.Errorf("iopub %s for a forged request", msg.msgType)
		} else if id == goodID && msg.msgType == "status" && executionState(t, msg) == StateIdle {
			break
		}
	}
}

func TestMalformedMessagesAreDropped(t *testing.T) {
	rs := startServer(t, tcpInfo())
	c := dialClient(t, rs.info)

	good, _, _ := c.frames("kernel_info_request", struct{}{}, nil, nil)
	sign := func(f [][]byte) [][]byte { // re-sign after tampering with a dict
		f[1] = c.signer.sign(f[2], f[3], f[4], f[5])
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
	for name, frames := range cases {
		if err := c.shell.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
			t.Fatalf("%s: send: %v", name, err)
		}
	}
	goodID, _ := c.send(c.shell, "kernel_info_request", struct{}{}, nil)
	if got := parentID(t, c.next(c.shellIn, "a reply")); got != goodID {
		t.Fatalf("first reply answers %s, want %s: a malformed message got through", got, goodID)
	}
	if ids := rs.handler.handledIDs(); len(ids) != 1 {
		t.Errorf("handler saw %d requests, want 1", len(ids))
	}
	if n := rs.log.count("dropped a message"); n != len(cases) {
		t.Errorf("%d drop log lines for %d malformed messages: %q", n, len(cases), rs.log.lines)
	}
}

func TestBusyOutputIdleAroundEveryRequest(t *testing.T) {
	rs := startServer(t, tcpInfo())
	c := dialClient(t, rs.info)
	c.waitForIOPub()

	id, _ := c.send(c.shell, "execute_request", ExecuteRequest{Code: "some output", StoreHistory: true}, nil)
	reply := c.replyTo(c.shellIn, id)
	if reply.msgType != "execute_reply" {
		t.Errorf("reply type %s", reply.msgType)
	}
	assertIOPub(t, c.untilIdle(id), []string{"status:busy", "stream", "status:idle"})

	// The same bracketing on control, with the reply on control.
	cid, _ := c.send(c.control, "kernel_info_request", struct{}{}, nil)
	if r := c.replyTo(c.controlIn, cid); r.msgType != "kernel_info_reply" {
		t.Errorf("control reply type %s", r.msgType)
	}
	assertIOPub(t, c.untilIdle(cid), []string{"status:busy", "status:idle"})
}

func TestPanickingHandlerStillRepliesAndGoesIdle(t *testing.T) {
	rs := startServer(t, tcpInfo())
	c := dialClient(t, rs.info)
	c.waitForIOPub()

	assertInternalError := func(reply *message, wantType, wantValue string) {
		t.Helper()
		if reply.msgType != wantType {
			t.Errorf("reply type %s, want %s", reply.msgType, wantType)
		}
		var content map[string]any
		if err := json.Unmarshal(reply.content, &content); err != nil {
			t.Fatalf("reply content: %v", err)
		}
		if content["status"] != "error" || content["ename"] != "InternalError" || content["evalue"] != wantValue {
			t.Errorf("reply content %s, want status error, ename InternalError, evalue %q", reply.content, wantValue)
		}
		if tb, ok := content["traceback"].([]any); !ok || len(tb) != 0 {
			t.Errorf("traceback %#v, want an empty list", content["traceback"])
		}
	}

	id, _ := c.send(c.shell, "execute_request", ExecuteRequest{Code: "panic"}, nil)
	assertInternalError(c.replyTo(c.shellIn, id), "execute_reply", "handler bug second line")
	assertIOPub(t, c.untilIdle(id), []string{"status:busy", "status:idle"})

	cid, _ := c.send(c.control, "panic_request", struct{}{}, nil)
	assertInternalError(c.replyTo(c.controlIn, cid), "panic_reply", "control bug")
	assertIOPub(t, c.untilIdle(cid), []string{"status:busy", "status:idle"})

	// A handler that had already replied gets no second reply: the next
	// message on shell answers the next request.
	rid, _ := c.send(c.shell, "execute_request", ExecuteRequest{Code: "reply then panic"}, nil)
	if r := c.replyTo(c.shellIn, rid); r.msgType != "execute_reply" || !strings.Contains(string(r.content), `"ok"`) {
		t.Errorf("got %s %s, want the handler's own ok execute_reply", r.msgType, r.content)
	}
	kid, _ := c.send(c.shell, "kernel_info_request", struct{}{}, nil)
	if next := c.next(c.shellIn, "kernel_info_reply"); parentID(t, next) != kid {
		t.Errorf("next shell message is a %s to %s, want the kernel_info_reply to %s", next.msgType, parentID(t, next), kid)
	}
	if n := rs.log.count("panicked"); n != 3 {
		t.Errorf("%d panic log lines for 3 panics: %q", n, rs.log.lines)
	}
}

func assertIOPub(t *testing.T, msgs []*message, want []string) {
	t.Helper()
	var got []string
	for _, m := range msgs {
		kind := m.msgType
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
	rs := startServer(t, tcpInfo())
	c := dialClient(t, rs.info) // shell peer exists, with a different identity
	id, _ := c.send(c.shell, "kernel_info_request", struct{}{}, nil)
	c.replyTo(c.shellIn, id)

	d := dialRawDealer(t, rs.info.endpoint(rs.info.ControlPort))
	frames, reqID, _ := c.frames("interrupt_request", struct{}{}, nil, nil)
	d.send(t, frames)
	reply := d.recv(t, c.signer)
	if reply.msgType != "interrupt_reply" || parentID(t, reply) != reqID {
		t.Errorf("got %s for %s, want interrupt_reply for %s", reply.msgType, parentID(t, reply), reqID)
	}
	select {
	case m := <-c.shellIn:
		t.Errorf("control reply leaked onto shell: %s", m.msgType)
	default:
	}
}

func TestControlAndHeartbeatServedWhileShellBlocked(t *testing.T) {
	rs := startServer(t, tcpInfo())
	c := dialClient(t, rs.info)

	execID, _ := c.send(c.shell, "execute_request", ExecuteRequest{Code: "block"}, nil)
	if code := <-rs.handler.started; code != "block" {
		t.Fatalf("started %q", code)
	}

	// The shell reader keeps reading while the handler is busy.
	queuedID, _ := c.send(c.shell, "kernel_info_request", struct{}{}, nil)
	awaitCondition(t, "second shell request queued", func() bool { return rs.srv.shellQueue.len() == 1 })

	cid, _ := c.send(c.control, "interrupt_request", struct{}{}, nil)
	if r := c.replyTo(c.controlIn, cid); r.msgType != "interrupt_reply" {
		t.Errorf("control reply type %s", r.msgType)
	}

	hb := zmq4.NewReq(context.Background())
	defer hb.Close()
	if err := hb.Dial(rs.info.endpoint(rs.info.HBPort)); err != nil {
		t.Fatal(err)
	}
	for _, ping := range []string{"ping", "\x00binary\xff", "third"} {
		if err := hb.Send(zmq4.NewMsgString(ping)); err != nil {
			t.Fatal(err)
		}
		echo, err := hb.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if len(echo.Frames) != 1 || string(echo.Frames[0]) != ping {
			t.Errorf("heartbeat echoed %q, want %q", echo.Frames, ping)
		}
	}

	close(rs.handler.release)
	if r := c.replyTo(c.shellIn, execID); r.msgType != "execute_reply" {
		t.Errorf("execute reply type %s", r.msgType)
	}
	c.replyTo(c.shellIn, queuedID)
	ids := rs.handler.handledIDs()
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
	rs := startServer(t, tcpInfo())
	c := dialClient(t, rs.info)
	c.waitForIOPub()

	for _, withParent := range []bool{true, false} { // JupyterLab sets it; jupyter_client does not
		id, _ := c.send(c.shell, "execute_request", ExecuteRequest{Code: "input", AllowStdin: true}, nil)
		req := c.next(c.stdinIn, "input_request")
		if req.msgType != "input_request" || parentID(t, req) != id {
			t.Fatalf("stdin got %s parented to %s, want input_request for %s", req.msgType, parentID(t, req), id)
		}
		var ir InputRequest
		if err := json.Unmarshal(req.content, &ir); err != nil || ir.Prompt != "name? " || ir.Password {
			t.Errorf("input_request content %s", req.content)
		}
		var parent []byte
		if withParent {
			parent = req.rawHeader
		}
		frames, _, _ := c.frames("input_reply", InputReply{Value: "Ada"}, parent, nil)
		if err := c.stdin.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
			t.Fatal(err)
		}
		c.replyTo(c.shellIn, id)
		out := c.untilIdle(id)
		if len(out) != 3 || out[1].msgType != "stream" || !strings.Contains(string(out[1].content), `"hello Ada"`) {
			t.Errorf("withParent=%v: iopub %v", withParent, out)
		}
	}
}

func TestInputRefusedWithoutAllowStdinAndCancelledByInterrupt(t *testing.T) {
	rs := startServer(t, tcpInfo())
	c := dialClient(t, rs.info)
	c.waitForIOPub()

	// allow_stdin false: Input fails at once, nothing is sent on stdin.
	id, _ := c.send(c.shell, "execute_request", map[string]any{"code": "input", "allow_stdin": false}, nil)
	reply := c.replyTo(c.shellIn, id)
	var er ExecuteReply
	if err := json.Unmarshal(reply.content, &er); err != nil || er.Status != StatusError || !strings.Contains(er.Evalue, "allow_stdin") {
		t.Errorf("execute_reply %s", reply.content)
	}

	// An interrupt cancels a pending Input.
	id, _ = c.send(c.shell, "execute_request", ExecuteRequest{Code: "input", AllowStdin: true}, nil)
	c.next(c.stdinIn, "input_request")
	cid, _ := c.send(c.control, "interrupt_request", struct{}{}, nil)
	c.replyTo(c.controlIn, cid)
	reply = c.replyTo(c.shellIn, id)
	if err := json.Unmarshal(reply.content, &er); err != nil || er.Status != StatusError || !strings.Contains(er.Evalue, "canceled") {
		t.Errorf("execute_reply after interrupt %s", reply.content)
	}
	select {
	case m := <-c.stdinIn:
		t.Errorf("unexpected stdin message %s before the first one was answered", m.msgType)
	default:
	}
}

func TestShutdownReleasesPortsForRestart(t *testing.T) {
	first := startServer(t, tcpInfo())
	c := dialClient(t, first.info)

	// shutdown_request on control: the handler replies and cancels Serve.
	id, _ := c.send(c.control, "shutdown_request", ShutdownRequest{Restart: true}, nil)
	reply := c.replyTo(c.controlIn, id)
	var sr map[string]any
	if err := json.Unmarshal(reply.content, &sr); err != nil || sr["restart"] != true || sr["status"] != StatusOK {
		t.Errorf("shutdown_reply %s", reply.content)
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
	second := startServer(t, first.info)
	if second.info != first.info {
		t.Fatalf("second server bound %+v, want %+v", second.info, first.info)
	}
	c2 := dialClient(t, second.info)
	id, _ = c2.send(c2.shell, "kernel_info_request", struct{}{}, nil)
	c2.replyTo(c2.shellIn, id)
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
	rs := startServer(t, info)
	c := dialClient(t, rs.info)
	id, _ := c.send(c.shell, "kernel_info_request", struct{}{}, nil)
	c.replyTo(c.shellIn, id)
	c.close()
	rs.stop(t)
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
