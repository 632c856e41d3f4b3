package kernel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"webrepl-kernel/jupyter"
)

// The checks JupyterLab makes on every message it receives from a kernel,
// ported from jupyterlab packages/services/src/kernel/validate.ts
// (validateMessage, validateHeader, validateIOPubContent,
// IOPUB_CONTENT_FIELDS) and packages/services/src/validate.ts
// (validateProperty); JupyterLab 4.6.6 ships the same table in its
// jlab_core bundle. KernelConnection._onWSMessage runs validateMessage on
// each message jupyter_server relays, on every channel, and a message that
// fails is an error in the browser console and is not handled. Values are
// judged as JavaScript's typeof judges the JSON.parse result.

// labHeaderFields are HEADER_FIELDS: each must be a string.
var labHeaderFields = []string{"username", "version", "session", "msg_id", "msg_type"}

// labField is one entry of IOPUB_CONTENT_FIELDS: a type name and, for
// some, the allowed values.
type labField struct {
	typeName string
	values   []any
}

// labIOPubContent is IOPUB_CONTENT_FIELDS.
var labIOPubContent = map[string]map[string]labField{
	"stream":         {"name": {typeName: "string"}, "text": {typeName: "string"}},
	"display_data":   {"data": {typeName: "object"}, "metadata": {typeName: "object"}},
	"execute_input":  {"code": {typeName: "string"}, "execution_count": {typeName: "number"}},
	"execute_result": {"execution_count": {typeName: "number"}, "data": {typeName: "object"}, "metadata": {typeName: "object"}},
	"error":          {"ename": {typeName: "string"}, "evalue": {typeName: "string"}, "traceback": {typeName: "object"}},
	"status": {"execution_state": {typeName: "string",
		values: []any{"starting", "idle", "busy", "restarting", "dead"}}},
	"clear_output":   {"wait": {typeName: "boolean"}},
	"comm_open":      {"comm_id": {typeName: "string"}, "target_name": {typeName: "string"}, "data": {typeName: "object"}},
	"comm_msg":       {"comm_id": {typeName: "string"}, "data": {typeName: "object"}},
	"comm_close":     {"comm_id": {typeName: "string"}},
	"shutdown_reply": {"restart": {typeName: "boolean"}},
}

// labValidateProperty is validateProperty: object must have name as its
// own property, of typeName when given ("object" only asks that it is
// defined, which any JSON value is), and among values when given.
func labValidateProperty(object any, name, typeName string, values []any) error {
	m, ok := object.(map[string]any)
	if !ok {
		if object == nil {
			return fmt.Errorf("TypeError: cannot read property %q of null", name)
		}
		return fmt.Errorf("Missing property '%s'", name) // a string, number or array has no such own property
	}
	value, ok := m[name]
	if !ok {
		return fmt.Errorf("Missing property '%s'", name)
	}
	if typeName == "" {
		return nil
	}
	var valid bool
	switch typeName {
	case "array":
		_, valid = value.([]any)
	case "object":
		valid = true // typeof value !== 'undefined'
	case "string":
		_, valid = value.(string)
	case "number":
		_, valid = value.(float64)
	case "boolean":
		_, valid = value.(bool)
	default:
		return fmt.Errorf("validateProperty: type %q not in the port", typeName)
	}
	if !valid {
		return fmt.Errorf("Property '%s' is not of type '%s'", name, typeName)
	}
	if len(values) > 0 && !slices.Contains(values, value) {
		return fmt.Errorf("Property '%s' is not one of the valid values %v", name, values)
	}
	return nil
}

// labValidateMessage is validateMessage on the message jupyter_server
// builds from the kernel's frames: {header, parent_header, metadata,
// content, channel, buffers}, each frame parsed as JSON.
func labValidateMessage(channel string, header, metadata, content []byte) error {
	var h, md, c any
	for _, f := range []struct {
		name string
		data []byte
		dst  *any
	}{{"header", header, &h}, {"metadata", metadata, &md}, {"content", content, &c}} {
		if err := json.Unmarshal(f.data, f.dst); err != nil {
			return fmt.Errorf("%s is not JSON: %v", f.name, err)
		}
	}
	msg := map[string]any{"header": h, "metadata": md, "content": c, "channel": channel}
	for _, p := range []struct{ name, typeName string }{{"metadata", "object"}, {"content", "object"}, {"channel", "string"}} {
		if err := labValidateProperty(msg, p.name, p.typeName, nil); err != nil {
			return err
		}
	}
	for _, name := range labHeaderFields {
		if err := labValidateProperty(h, name, "string", nil); err != nil {
			return fmt.Errorf("header: %w", err)
		}
	}
	if channel != "iopub" {
		return nil
	}
	msgType, _ := h.(map[string]any)["msg_type"].(string)
	fields, known := labIOPubContent[msgType]
	if !known {
		return nil // unknown message types are not checked
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := labValidateProperty(c, name, fields[name].typeName, fields[name].values); err != nil {
			return fmt.Errorf("%s content: %w", msgType, err)
		}
	}
	return nil
}

// The port itself: each rule of validate.ts rejects what it should.
func TestLabValidatePort(t *testing.T) {
	header := `{"msg_id":"1","session":"s","username":"kernel","date":"2026-01-01T00:00:00Z","msg_type":"%s","version":"5.5"}`
	cases := []struct {
		name, channel, header, metadata, content string
		want                                     string // "" = valid
	}{
		{"stream", "iopub", fmt.Sprintf(header, "stream"), `{}`, `{"name":"stdout","text":"x"}`, ""},
		{"execute_result without metadata", "iopub", fmt.Sprintf(header, "execute_result"), `{}`,
			`{"execution_count":1,"data":{"text/plain":"1"}}`, "Missing property 'metadata'"},
		{"display_data without metadata", "iopub", fmt.Sprintf(header, "display_data"), `{}`,
			`{"data":{}}`, "Missing property 'metadata'"},
		{"execute_result with null metadata", "iopub", fmt.Sprintf(header, "execute_result"), `{}`,
			`{"execution_count":1,"data":{},"metadata":null}`, ""},
		{"execution_count a string", "iopub", fmt.Sprintf(header, "execute_input"), `{}`,
			`{"code":"1","execution_count":"1"}`, "not of type 'number'"},
		{"unknown state", "iopub", fmt.Sprintf(header, "status"), `{}`,
			`{"execution_state":"asleep"}`, "not one of the valid values"},
		{"header version a number", "shell",
			`{"msg_id":"1","session":"s","username":"k","msg_type":"kernel_info_reply","version":5.5}`, `{}`, `{}`, "Property 'version' is not of type 'string'"},
		{"header without username", "control",
			`{"msg_id":"1","session":"s","msg_type":"usage_reply","version":"5.5"}`, `{}`, `{}`, "Missing property 'username'"},
		{"content not an object", "iopub", fmt.Sprintf(header, "clear_output"), `{}`, `[]`, "Missing property 'wait'"},
		{"unknown iopub type unchecked", "iopub", fmt.Sprintf(header, "iopub_welcome"), `{}`, `{}`, ""},
		{"replies: content unchecked", "shell", fmt.Sprintf(header, "execute_reply"), `{}`, `{}`, ""},
		{"shutdown_reply on iopub", "iopub", fmt.Sprintf(header, "shutdown_reply"), `{}`, `{"status":"ok"}`, "Missing property 'restart'"},
	}
	for _, tc := range cases {
		err := labValidateMessage(tc.channel, []byte(tc.header), []byte(tc.metadata), []byte(tc.content))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want valid", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// Every message type the kernel sends, on every channel, passes
// JupyterLab's checks: a kernel on a simulated board, served over ZMQ, is
// driven through each request it answers and each kind of output a cell
// makes, and every message the client receives is checked as it came off
// the wire.
func TestEveryMessagePassesJupyterLabChecks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), []byte(strings.Repeat("0123456789abcdef", 1024)), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []jupyter.Message
	observe := func(m jupyter.Message) {
		mu.Lock()
		seen = append(seen, m)
		mu.Unlock()
	}
	tk := newTestKernel(t, overZMQ(), observing(observe), configure(func(c *Config) { c.Dir = dir }))
	c := tk.client
	ctx, cancel := tk.waitContext()
	defer cancel()

	for _, code := range []string{
		"print('out')", // stream stdout
		"import sys\nprint('e', file=sys.stderr)", // stream stderr
		"1 + 1",                 // execute_result
		"raise ValueError('x')", // error
		"%put big.bin /big.bin", // display_data, update_display_data
		"from jupyter import display, HTML\ndisplay(HTML('<b>hi</b>'), display_id='d1')",              // board display_data
		"from jupyter import display, HTML\ndisplay(HTML('<i>hi</i>'), display_id='d1', update=True)", // and its update
		"from jupyter import plot\nplot(1, temp=21.5)",                                                // a chart
		"%%plot\nfor i in range(5):\n    print(i, i * i)",                                             // %%plot
		"from jupyter import clear_output\nprint('x')\nclear_output(wait=True)",                       // clear_output
		"from jupyter.widgets import IntSlider\ns = IntSlider(0, 10)\ns.value = 3",                    // comm_open, widget display, comm_msg
		"print?",                 // a page payload
		"exit(keep_kernel=True)", // an ask_exit payload
	} {
		if _, err := c.Execute(ctx, executeRequest(code), jupyter.ExecuteHooks{}); err != nil {
			t.Fatalf("%q: %v", code, err)
		}
	}
	if _, err := c.Execute(ctx, executeRequest("pass", silent), jupyter.ExecuteHooks{}); err != nil {
		t.Fatal(err)
	}
	// stdin: input_request.
	answer := func(jupyter.InputRequest) (string, error) { return "Ada", nil }
	if _, err := c.Execute(ctx, executeRequest("input('name? ')", withStdin), jupyter.ExecuteHooks{Input: answer}); err != nil {
		t.Fatal(err)
	}
	// An interrupted cell, and interrupt_reply.
	started := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		_, err := c.Execute(ctx, executeRequest("import time\nprint('started')\nwhile True: time.sleep(0.1)"),
			jupyter.ExecuteHooks{Output: func(jupyter.Message) {
				select {
				case started <- struct{}{}:
				default:
				}
			}})
		done <- err
	}()
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the looping cell printed nothing")
	}
	if err := c.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The other shell requests.
	for _, req := range []struct {
		typ     string
		content map[string]any
	}{
		{"kernel_info_request", map[string]any{}},
		{"is_complete_request", map[string]any{"code": "for i in x:"}},
		{"complete_request", map[string]any{"code": "pri", "cursor_pos": 3}},
		{"complete_request", map[string]any{"code": "%ls", "cursor_pos": 3}},
		{"inspect_request", map[string]any{"code": "print", "cursor_pos": 5, "detail_level": 0}},
		{"inspect_request", map[string]any{"code": "no_such_name", "cursor_pos": 12, "detail_level": 1}},
		{"history_request", map[string]any{"output": true, "raw": true, "hist_access_type": "tail", "n": 5}},
		{"history_request", map[string]any{"output": false, "raw": true, "hist_access_type": "search", "pattern": "print*"}},
		{"comm_info_request", map[string]any{}},
		{"comm_open", map[string]any{"comm_id": "c1", "target_name": "nobody", "data": map[string]any{}}},
	} {
		if _, err := c.ShellRequest(ctx, req.typ, req.content); err != nil {
			t.Fatalf("%s: %v", req.typ, err)
		}
	}
	// Control: kernel_info, usage, shutdown.
	for _, typ := range []string{"kernel_info_request", "usage_request", "usage_request"} {
		if _, err := c.ControlRequest(ctx, typ, map[string]any{}); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	got := append([]jupyter.Message(nil), seen...)
	mu.Unlock()
	kinds := map[string]int{}
	for _, m := range got {
		kinds[m.Channel+" "+m.Type]++
		if err := labValidateMessage(m.Channel, m.Header, m.Metadata, m.Content); err != nil {
			t.Errorf("%s %s fails JupyterLab's validateMessage: %v\ncontent: %s\nmetadata: %s",
				m.Channel, m.Type, err, m.Content, m.Metadata)
		}
	}
	// The test must have seen each kind the kernel sends, or it proves
	// nothing about that kind.
	for _, want := range []string{
		"iopub iopub_welcome", "iopub status", "iopub execute_input", "iopub stream", "iopub execute_result",
		"iopub error", "iopub display_data", "iopub update_display_data", "iopub clear_output", "iopub comm_close",
		"iopub comm_open", "iopub comm_msg",
		"shell execute_reply", "shell kernel_info_reply", "shell is_complete_reply", "shell complete_reply",
		"shell inspect_reply", "shell history_reply", "shell comm_info_reply",
		"control interrupt_reply", "control kernel_info_reply", "control usage_reply", "control shutdown_reply",
		"stdin input_request",
	} {
		if kinds[want] == 0 {
			t.Errorf("no %s seen; seen: %v", want, kinds)
		}
	}
	t.Logf("validated %d messages: %v", len(got), kinds)
}

// usage_request (jupyter-resource-usage's kernel panel) is answered on
// control with the kernel process's figures in ipykernel's fields, and
// kernel_info declares protocol 5.5 with its supported_features list.
func TestUsageAndKernelInfoFor55(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t, overZMQ(), withoutBoard())
	c := tk.client
	ctx, cancel := tk.waitContext()
	defer cancel()
	info, err := c.ControlRequest(ctx, "kernel_info_request", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	var content map[string]any
	var header struct{ Version string }
	if err := info.Decode(&content); err != nil || json.Unmarshal(info.Header, &header) != nil {
		t.Fatalf("kernel_info_reply %s: %v", info.Content, err)
	}
	if content["protocol_version"] != "5.5" || header.Version != "5.5" {
		t.Errorf("kernel_info_reply: protocol_version %v, header version %q", content["protocol_version"], header.Version)
	}
	if f, ok := content["supported_features"].([]any); !ok || len(f) != 0 {
		t.Errorf("supported_features = %#v, want an empty list", content["supported_features"])
	}
	for i := 0; i < 2; i++ {
		u, err := c.ControlRequest(ctx, "usage_request", map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		var r map[string]any
		if err := u.Decode(&r); err != nil {
			t.Fatal(err)
		}
		host, _ := os.Hostname()
		mem, _ := r["kernel_memory"].(float64)
		cpus, _ := r["cpu_count"].(float64)
		_, hasCPU := r["kernel_cpu"].(float64)
		vm, _ := r["host_virtual_memory"].(map[string]any)
		if u.Type != "usage_reply" || r["hostname"] != host || r["pid"] != float64(os.Getpid()) ||
			mem < 1<<20 || cpus < 1 || !hasCPU || vm == nil {
			t.Errorf("usage_reply %d = %v", i, r)
		}
		if runtime.GOOS == "linux" {
			if total, _ := vm["total"].(float64); total < mem {
				t.Errorf("host_virtual_memory = %v, kernel_memory %v", vm, mem)
			}
			// Optional, as in ipykernel: left out while no CPU tick passed.
			if p, ok := r["host_cpu_percent"]; ok && (p.(float64) < 0 || p.(float64) > 100) {
				t.Errorf("host_cpu_percent = %v", p)
			}
		}
	}
}
