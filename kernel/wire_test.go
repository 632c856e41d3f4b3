package kernel

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/jupyter"
)

// The kernel behind jupyter.Serve, driven by jupyter.KernelClient over ZMQ:
// what the other tests hand it through jupytertest arrives off the wire the
// same way — replies, iopub output, an input_request over stdin (the
// board's password), interrupt and shutdown on control.
func TestKernelOverZMQ(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t, overZMQ(), configure(func(c *Config) { c.Password = "" }))
	c := tk.client
	ctx, cancel := tk.waitContext()
	defer cancel()

	info, err := c.KernelInfo(ctx)
	if err != nil || info.Status != "ok" || info.LanguageInfo.Name != "python" || !strings.Contains(info.Banner, tk.board.URL()) {
		t.Fatalf("kernel_info: %+v, %v", info, err)
	}

	var out strings.Builder
	var prompts []jupyter.InputRequest
	hooks := jupyter.ExecuteHooks{
		Output: func(m jupyter.Message) {
			var s jupyter.Stream
			if m.Type == "stream" && m.Decode(&s) == nil {
				out.WriteString(s.Text)
			}
		},
		Input: func(r jupyter.InputRequest) (string, error) {
			prompts = append(prompts, r)
			return tk.board.Password(), nil
		},
	}
	reply, err := c.Execute(ctx, executeRequest("print(6 * 7)", withStdin), hooks)
	if err != nil || reply.Status != "ok" || reply.ExecutionCount != 1 || out.String() != "42\n" {
		t.Errorf("cell: %+v %q, %v", reply, out.String(), err)
	}
	if len(prompts) != 1 || !prompts[0].Password || !strings.Contains(prompts[0].Prompt, tk.board.URL()) {
		t.Errorf("input requests %+v, want one asking the board's password", prompts)
	}

	// A running cell stops on interrupt_request.
	running := make(chan jupyter.ExecuteReply, 1)
	started := make(chan struct{}, 1)
	go func() {
		reply, err := c.Execute(ctx, executeRequest("import time\nprint('started')\nwhile True: time.sleep(0.1)"), jupyter.ExecuteHooks{
			Output: func(m jupyter.Message) {
				select {
				case started <- struct{}{}:
				default:
				}
			},
		})
		if err != nil {
			t.Errorf("interrupted cell: %v", err)
		}
		running <- reply
	}()
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the looping cell printed nothing")
	}
	if err := c.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	if reply := <-running; reply.Status != "error" || reply.Ename != "KeyboardInterrupt" {
		t.Errorf("interrupted cell: %+v", reply)
	}

	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-tk.k.Done():
	case <-time.After(waitLong):
		t.Fatal("kernel did not signal Done after shutdown_request")
	}
}

// Widgets over the wire (jupyter.Serve and KernelClient): comm_open carries
// the protocol version as message metadata, and a slider's update is
// answered (echo_update, idle) while a cell's loop runs, which then reads
// the new value.
func TestWidgetsOverZMQ(t *testing.T) {
	t.Parallel()
	tk := newTestKernel(t, overZMQ())
	c := tk.client
	ctx, cancel := tk.waitContext()
	defer cancel()
	var modelID string
	var openMeta json.RawMessage
	reply, err := c.Execute(ctx, executeRequest("from jupyter.widgets import IntSlider\ns = IntSlider(0, 10)"), jupyter.ExecuteHooks{
		Output: func(m jupyter.Message) {
			var d jupyter.DisplayData
			if m.Type == "comm_open" {
				openMeta = m.Metadata
			}
			if m.Type == "display_data" && m.Decode(&d) == nil {
				view, _ := d.Data["application/vnd.jupyter.widget-view+json"].(map[string]any)
				modelID, _ = view["model_id"].(string)
			}
		},
	})
	if err != nil || reply.Status != "ok" || modelID == "" || !strings.Contains(string(openMeta), `"version":"2.1.0"`) {
		t.Fatalf("making a slider: %+v %v, model %q, comm_open metadata %s", reply, err, modelID, openMeta)
	}

	started := make(chan struct{}, 1)
	done := make(chan string, 1)
	go func() {
		var out strings.Builder
		reply, err := c.Execute(ctx, executeRequest("import time\nprint('started')\nwhile s.value != 7:\n    time.sleep(0.01)\nprint('read', s.value)"), jupyter.ExecuteHooks{
			Output: func(m jupyter.Message) {
				var st jupyter.Stream
				if m.Type == "stream" && m.Decode(&st) == nil {
					out.WriteString(st.Text)
					if strings.Contains(st.Text, "started") {
						started <- struct{}{}
					}
				}
			},
		})
		if err != nil || reply.Status != "ok" {
			out.WriteString(fmt.Sprintf("reply %+v, %v", reply, err))
		}
		done <- out.String()
	}()
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the loop did not start")
	}
	sub := c.Subscribe()
	defer sub.Close()
	sent, err := c.Send(jupyter.Shell, jupyter.Outgoing{Type: "comm_msg",
		Content: jupyter.CommMsg{CommID: modelID, Data: jupyter.Metadata{"method": "update", "state": map[string]any{"value": 7}, "buffer_paths": []any{}}}})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for the comm_msg's idle: %v; saw %v", err, seen)
		}
		if m.ParentID != sent.MsgID {
			continue
		}
		var content map[string]any
		_ = m.Decode(&content)
		if m.Type == "comm_msg" {
			seen = append(seen, fmt.Sprint(content["data"].(map[string]any)["method"]))
		} else {
			seen = append(seen, m.Type+":"+fmt.Sprint(content["execution_state"]))
		}
		if m.Type == "status" && content["execution_state"] == "idle" {
			break
		}
	}
	if strings.Join(seen, " ") != "status:busy echo_update status:idle" {
		t.Errorf("published for the update: %v", seen)
	}
	select {
	case out := <-done:
		if !strings.Contains(out, "read 7\n") {
			t.Errorf("the loop printed %q", out)
		}
	case <-ctx.Done():
		t.Fatal("the loop never read the new value")
	}
}
