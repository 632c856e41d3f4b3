package jupyter

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, key := range []string{"", testKey} {
		s := newSigner(key)
		parent := []byte(`{"msg_id":"p1","msg_type":"execute_request","extra":[1]}`)
		frames, msgID, err := outgoing{
			identities: [][]byte{[]byte("peer")},
			msgType:    "stream",
			parent:     parent,
			content:    Stream{Name: Stdout, Text: "hi\n"},
		}.encode("sess", s, time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := decodeMessage(frames, s)
		if err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		if msg.msgID != msgID || msg.msgType != "stream" || msg.session != "sess" {
			t.Errorf("decoded %+v", msg)
		}
		if len(msg.identities) != 1 || string(msg.identities[0]) != "peer" {
			t.Errorf("identities %q", msg.identities)
		}
		if !bytes.Equal(msg.parent, parent) {
			t.Errorf("parent %s", msg.parent)
		}
		var h Header
		if err := json.Unmarshal(msg.rawHeader, &h); err != nil {
			t.Fatal(err)
		}
		if h.Date != "2026-01-02T03:04:05.000006Z" || h.Version != "5.5" {
			t.Errorf("header %+v", h)
		}
		wantSigLen := 64 // hex HMAC-SHA256
		if key == "" {
			wantSigLen = 0
		}
		if len(frames[2]) != wantSigLen {
			t.Errorf("key %q: signature %q", key, frames[2])
		}
	}
}

func TestSignatureChecks(t *testing.T) {
	s := newSigner(testKey)
	frames, _, err := outgoing{msgType: "status", content: Status{ExecutionState: StateIdle}}.encode("k", s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeMessage(frames, newSigner("other")); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("wrong key accepted: %v", err)
	}
	tampered := append([][]byte(nil), frames...)
	tampered[5] = []byte(`{"execution_state":"busy"}`)
	if _, err := decodeMessage(tampered, s); err == nil {
		t.Error("tampered content accepted")
	}
	upper := append([][]byte(nil), frames...)
	upper[1] = bytes.ToUpper(frames[1]) // hex is case-insensitive: same MAC
	if _, err := decodeMessage(upper, s); err != nil {
		t.Errorf("upper-case hex signature rejected: %v", err)
	}
	if _, err := decodeMessage(frames, nil); err != nil {
		t.Errorf("empty key must not check signatures: %v", err)
	}
}

func TestEncodeRejectsNonObjectContent(t *testing.T) {
	_, _, err := outgoing{msgType: "stream", content: []string{"x"}}.encode("k", nil, time.Now())
	if err == nil {
		t.Error("a list encoded as content")
	}
	frames, _, err := outgoing{msgType: "status"}.encode("k", nil, time.Now())
	if err != nil || string(frames[3]) != "{}" || string(frames[4]) != "{}" || string(frames[5]) != "{}" {
		t.Errorf("nil parent/metadata/content: %q, %v", frames, err)
	}
}

func TestReadConnectionFile(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "kernel-x.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := `{"shell_port": 5001, "iopub_port": 5002, "stdin_port": 5003, "control_port": 5004,
		"hb_port": 5005, "ip": "127.0.0.1", "key": "abc", "transport": "tcp",
		"signature_scheme": "hmac-sha256", "kernel_name": "webrepl"}`
	info, err := ReadConnectionFile(write(good))
	if err != nil {
		t.Fatal(err)
	}
	want := ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: 5001, IOPubPort: 5002, StdinPort: 5003,
		ControlPort: 5004, HBPort: 5005, Key: "abc", SignatureScheme: "hmac-sha256", KernelName: "webrepl"}
	if info != want {
		t.Errorf("got %+v", info)
	}
	if ep := info.endpoint(info.ShellPort); ep != "tcp://127.0.0.1:5001" {
		t.Errorf("endpoint %s", ep)
	}
	ipc := ConnectionInfo{Transport: "ipc", IP: "/tmp/kernel-ipc"}
	if ep := ipc.endpoint(7); ep != "ipc:///tmp/kernel-ipc-7" {
		t.Errorf("ipc endpoint %s", ep)
	}
	v6 := ConnectionInfo{Transport: "tcp", IP: "::1"}
	if ep := v6.endpoint(7); ep != "tcp://[::1]:7" {
		t.Errorf("ipv6 endpoint %s", ep)
	}

	for body, wantErr := range map[string]string{
		strings.Replace(good, `"hmac-sha256"`, `"hmac-md5"`, 1): `signature_scheme "hmac-md5" is not supported`,
		strings.Replace(good, `"tcp"`, `"udp"`, 1):              `transport "udp"`,
		strings.Replace(good, `5005`, `5001`, 1):                `both 5001`,
		strings.Replace(good, `5005`, `0`, 1):                   `hb_port 0`,
		strings.Replace(good, `5005`, `70000`, 1):               `hb_port 70000`,
		`{"shell_port": "x"}`:                                   `not valid JSON`,
		`[]`:                                                    `not valid JSON`,
	} {
		_, err := ReadConnectionFile(write(body))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("error %v, want it to mention %q", err, wantErr)
		}
	}
	if _, err := ReadConnectionFile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestContentNeverOmitsRequiredFields(t *testing.T) {
	cases := []struct {
		content any
		want    string
	}{
		{ExecuteReply{Status: StatusOK}, `{"status":"ok","execution_count":0,"payload":[],"user_expressions":{}}`},
		{ExecuteReply{Status: StatusError, ExecutionCount: 3, Ename: "ValueError"},
			`{"status":"error","execution_count":3,"ename":"ValueError","evalue":"","traceback":[]}`},
		{ExecuteResult{ExecutionCount: 0, Data: MIMEBundle{"text/plain": "3"}}, `{"execution_count":0,"data":{"text/plain":"3"},"metadata":{}}`},
		{DisplayData{Data: MIMEBundle{"image/png": "AA=="}}, `{"data":{"image/png":"AA=="},"metadata":{}}`},
		{UpdateDisplayData{Transient: Transient{DisplayID: "d1"}}, `{"data":{},"metadata":{},"transient":{"display_id":"d1"}}`},
		{Error{Ename: "E"}, `{"ename":"E","evalue":"","traceback":[]}`},
		{ErrorReply{Ename: "E"}, `{"status":"error","ename":"E","evalue":"","traceback":[]}`},
		{CompleteReply{Status: StatusOK}, `{"status":"ok","matches":[],"cursor_start":0,"cursor_end":0,"metadata":{}}`},
		{InspectReply{Status: StatusOK}, `{"status":"ok","found":false,"data":{},"metadata":{}}`},
		{ShutdownReply{Status: StatusOK}, `{"status":"ok","restart":false}`},
		{CommInfoReply{Status: StatusOK}, `{"status":"ok","comms":{}}`},
		{HistoryReply{Status: StatusOK}, `{"status":"ok","history":[]}`},
		{ExecuteInput{Code: "x"}, `{"code":"x","execution_count":0}`},
		{IsCompleteReply{Status: Incomplete, Indent: "    "}, `{"status":"incomplete","indent":"    "}`},
		{InputRequest{Prompt: "? "}, `{"prompt":"? ","password":false}`},
		{ClearOutput{}, `{"wait":false}`},
		{CommClose{CommID: "c"}, `{"comm_id":"c","data":{}}`},
	}
	for _, c := range cases {
		got, err := json.Marshal(c.content)
		if err != nil {
			t.Errorf("%T: %v", c.content, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%T:\n got %s\nwant %s", c.content, got, c.want)
		}
	}
	out := "4"
	h, _ := json.Marshal(HistoryReply{Status: StatusOK, History: []HistoryEntry{{1, 2, "2+2", nil}, {1, 3, "2+2", &out}}})
	if string(h) != `{"status":"ok","history":[[1,2,"2+2"],[1,3,["2+2","4"]]]}` {
		t.Errorf("history %s", h)
	}
	ki, _ := json.Marshal(KernelInfoReply{Status: StatusOK})
	for _, field := range []string{`"help_links":[]`, `"banner":""`, `"protocol_version":""`, `"file_extension":""`} {
		if !strings.Contains(string(ki), field) {
			t.Errorf("kernel_info_reply %s lacks %s", ki, field)
		}
	}
}

func TestExecuteRequestDefaults(t *testing.T) {
	var e ExecuteRequest
	if err := json.Unmarshal([]byte(`{"code":"1"}`), &e); err != nil {
		t.Fatal(err)
	}
	if !e.StoreHistory || !e.AllowStdin || !e.StopOnError || e.Silent {
		t.Errorf("defaults %+v", e)
	}
	if err := json.Unmarshal([]byte(`{"code":"1","silent":true,"store_history":true,"allow_stdin":false,"stop_on_error":false,"user_expressions":{"a":"b"}}`), &e); err != nil {
		t.Fatal(err)
	}
	if e.StoreHistory || e.AllowStdin || e.StopOnError || !e.Silent || e.UserExpressions["a"] != "b" {
		t.Errorf("explicit %+v", e)
	}
}

// fuzzFrameSep splits the fuzz input into frames: 0xFF never occurs in UTF-8
// text, so seeds of real JSON frames are easy to write.
const fuzzFrameSep = "\xff"

func FuzzDecodeMessage(f *testing.F) {
	s := newSigner(testKey)
	valid, _, err := outgoing{
		identities: [][]byte{[]byte("id-1")},
		msgType:    "execute_request",
		parent:     []byte(`{"msg_id":"p"}`),
		content:    ExecuteRequest{Code: "print(1)"},
	}.encode("sess", s, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	join := func(frames [][]byte) []byte { return bytes.Join(frames, []byte(fuzzFrameSep)) }
	f.Add(join(valid), false)
	f.Add(join(valid), true)
	f.Add(join(valid[1:]), true)                       // no identities
	f.Add(join(valid[2:]), false)                      // no delimiter
	f.Add(join(valid[:5]), true)                       // too few frames
	f.Add(join(append(valid, []byte("buffer"))), true) // with a buffer
	f.Add([]byte("<IDS|MSG>\xff\xff{}\xff{}\xff{}\xff{}"), true)
	f.Add([]byte("<IDS|MSG>\xffzz\xff{\"msg_type\":1}\xffnull\xff[]\xff{}"), false)
	f.Add([]byte("<IDS|MSG>\xff\xff{\"msg_type\":\"a\",\"msg_id\":{}}\xff{}\xff{}\xff{}"), true)
	f.Add([]byte{}, false)

	f.Fuzz(func(t *testing.T, data []byte, resign bool) {
		frames := bytes.Split(data, []byte(fuzzFrameSep))
		if resign { // reach the JSON checks past the signature
			for i, fr := range frames {
				if string(fr) == delimiter && len(frames) >= i+6 {
					frames[i+1] = s.sign(frames[i+2], frames[i+3], frames[i+4], frames[i+5])
					break
				}
			}
		}
		msg, err := decodeMessage(frames, s)
		if err != nil {
			if msg != nil {
				t.Fatal("error with a message")
			}
			return
		}
		// Accepted: signed correctly, with the fields Serve relies on.
		if msg.msgType == "" || !isJSONObject(msg.parent) || !isJSONObject(msg.metadata) || !isJSONObject(msg.content) {
			t.Fatalf("accepted an invalid message: %+v", msg)
		}
		if err := s.verify(s.sign(msg.rawHeader, msg.parent, msg.metadata, msg.content), msg.rawHeader, msg.parent, msg.metadata, msg.content); err != nil {
			t.Fatal(err)
		}
		// A reply to it encodes and decodes again with the header as parent.
		out, _, err := outgoing{identities: msg.identities, msgType: "x_reply", parent: msg.rawHeader, content: Status{}}.encode("k", s, time.Now())
		if err != nil {
			t.Fatalf("cannot reply: %v", err)
		}
		back, err := decodeMessage(out, s)
		if err != nil {
			t.Fatalf("own reply rejected: %v", err)
		}
		if !bytes.Equal(back.parent, msg.rawHeader) {
			t.Fatalf("parent %q, want %q", back.parent, msg.rawHeader)
		}
	})
}
