package kernel

import (
	"reflect"
	"strings"
	"testing"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/jupyter/jupytertest"
)

// widgetOpens returns the comm_open messages of the outputs, by comm id,
// checking the protocol version each carries.
func widgetOpens(t *testing.T, out []msg) map[string]msg {
	t.Helper()
	opens := map[string]msg{}
	for _, m := range out {
		if m.Type != "comm_open" {
			continue
		}
		if m.Str("target_name") != "jupyter.widget" || m.Metadata["version"] != "2.1.0" {
			t.Errorf("comm_open %v, metadata %v", m, m.Metadata)
		}
		opens[m.Str("comm_id")] = m
	}
	return opens
}

// shownWidget is the model id of the cell's widget display, checked.
func shownWidget(t *testing.T, out []msg) string {
	t.Helper()
	for _, m := range out {
		if m.Type != "display_data" {
			continue
		}
		data := m.Content["data"].(map[string]any)
		view, ok := data["application/vnd.jupyter.widget-view+json"].(map[string]any)
		if !ok {
			continue
		}
		if view["version_major"] != 2.0 || view["version_minor"] != 1.0 || data["text/plain"] == nil {
			t.Errorf("widget display %v", data)
		}
		return view["model_id"].(string)
	}
	t.Fatalf("no widget display in %v", out)
	return ""
}

func stateOf(m msg) map[string]any {
	return m.Content["data"].(map[string]any)["state"].(map[string]any)
}

// commMsg sends a frontend's comm_msg and returns what the kernel
// published for it.
func (tk *testKernel) commMsg(commID string, data map[string]any) []msg {
	tk.t.Helper()
	r := tk.send("comm_msg", jupyter.CommMsg{CommID: commID, Data: data})
	return tk.outputs(r)
}

func echoed(out []msg, commID string) map[string]any {
	for _, m := range out {
		if m.Type == "comm_msg" && m.Str("comm_id") == commID {
			if d := m.Content["data"].(map[string]any); d["method"] == "echo_update" {
				return d["state"].(map[string]any)
			}
		}
	}
	return nil
}

// Widgets made by board code, over the Jupyter protocol on a simulated
// board: comm_open of the model and its layout and style, the display,
// state sync by the control comm, a slider moved between cells calling the
// board function (the PWM duty the simulator reports), a Button click,
// comm_info_request, comm close.
func TestBoardWidgets(t *testing.T) {
	tk := newTestKernel(t)
	reply, out := executeShown(tk, `from machine import PWM, Pin
from jupyter.widgets import IntSlider, Button, Dropdown, ToggleButton, FloatSlider, Label, HTML, Play
pwm = PWM(Pin(2), freq=1000, duty=0)
s = IntSlider(0, 1023, value=100, description='LED', on_change=pwm.duty)
clicks = []
b = Button(description='go', on_click=lambda b: clicks.append(1))
d = Dropdown(['low', 'high'], value='high')
others = [ToggleButton(True), FloatSlider(0, 1, 0.5), Label('hi'), HTML('<b>x</b>'), Play(interval=50)]`)
	if reply.Str("status") != "ok" {
		t.Fatalf("reply %v; outputs %v", reply, out)
	}
	opens := widgetOpens(t, out)
	if len(opens) != 8*3 {
		t.Fatalf("%d comms opened, want 24: %v", len(opens), types(out))
	}
	sliderID := shownWidget(t, out)
	slider := stateOf(opens[sliderID])
	if slider["_model_name"] != "IntSliderModel" || slider["_model_module"] != "@jupyter-widgets/controls" ||
		slider["_model_module_version"] != "2.0.0" || slider["value"] != 100.0 || slider["max"] != 1023.0 ||
		slider["description"] != "LED" {
		t.Errorf("slider state %v", slider)
	}
	layoutID := strings.TrimPrefix(slider["layout"].(string), "IPY_MODEL_")
	styleID := strings.TrimPrefix(slider["style"].(string), "IPY_MODEL_")
	if stateOf(opens[layoutID])["_model_name"] != "LayoutModel" || stateOf(opens[styleID])["_model_name"] != "SliderStyleModel" {
		t.Errorf("layout %v, style %v", opens[layoutID], opens[styleID])
	}
	var buttonID, dropdownID string
	for id, m := range opens {
		switch stateOf(m)["_model_name"] {
		case "ButtonModel":
			buttonID = id
		case "DropdownModel":
			dropdownID = id
			if st := stateOf(m); st["index"] != 1.0 || !reflect.DeepEqual(st["_options_labels"], []any{"low", "high"}) {
				t.Errorf("dropdown state %v", st)
			}
		}
	}
	if st, ok := tk.board.PWM(2); !ok || st.Duty != 0 {
		t.Fatalf("PWM before: %+v %v", st, ok)
	}

	// The widget manager's state sync, as on a reopened page.
	control := "control-comm"
	tk.request("comm_info_request", jupyter.CommInfoRequest{TargetName: "jupyter.widget"})
	tk.send("comm_open", jupyter.CommOpen{CommID: control, TargetName: "jupyter.widget.control", Data: jupyter.Metadata{}})
	states := tk.commMsg(control, map[string]any{"method": "request_states"})
	var got map[string]any
	for _, m := range states {
		if m.Type == "comm_msg" && m.Str("comm_id") == control {
			got = m.Content["data"].(map[string]any)
		}
	}
	if got["method"] != "update_states" || len(got["states"].(map[string]any)) != 24 {
		t.Fatalf("request_states answered %v", states)
	}
	entry := got["states"].(map[string]any)[sliderID].(map[string]any)
	if entry["model_name"] != "IntSliderModel" || entry["model_module_version"] != "2.0.0" || entry["state"].(map[string]any)["value"] != 100.0 {
		t.Errorf("slider in update_states: %v", entry)
	}
	info := tk.request("comm_info_request", jupyter.CommInfoRequest{TargetName: "jupyter.widget"})
	if comms := info.Content["comms"].(map[string]any); len(comms) != 24 || comms[sliderID] == nil {
		t.Errorf("comm_info_reply %v", info)
	}
	info = tk.request("comm_info_request", jupyter.CommInfoRequest{})
	if comms := info.Content["comms"].(map[string]any); len(comms) != 25 {
		t.Errorf("comm_info_reply without target: %d comms", len(comms))
	}

	// Moved between cells: echoed, and the board's callback sets the duty.
	moved := tk.commMsg(sliderID, map[string]any{"method": "update", "state": map[string]any{"value": 700}, "buffer_paths": []any{}})
	if e := echoed(moved, sliderID); !reflect.DeepEqual(e, map[string]any{"value": 700.0}) {
		t.Errorf("echo_update %v in %v", e, moved)
	}
	if st, ok := tk.board.PWM(2); !ok || st.Duty != 700 {
		t.Errorf("PWM after the slider moved: %+v %v; published %v", st, ok, moved)
	}
	tk.commMsg(buttonID, map[string]any{"method": "custom", "content": map[string]any{"event": "click"}})
	tk.commMsg(buttonID, map[string]any{"method": "custom", "content": map[string]any{"event": "click"}})
	tk.commMsg(dropdownID, map[string]any{"method": "update", "state": map[string]any{"index": 0}})
	reply, out = executeShown(tk, "print(len(clicks), b.clicks, s.value, d.value, d.index)")
	if reply.Str("status") != "ok" || streamText(out) != "2 2 700 low 0\n" {
		t.Errorf("board values: %v %q", reply, streamText(out))
	}

	// request_state of one model; a comm the frontend closes is forgotten.
	one := tk.commMsg(sliderID, map[string]any{"method": "request_state"})
	if len(one) != 1 || stateOf(one[0])["value"] != 700.0 || one[0].Content["data"].(map[string]any)["method"] != "update" {
		t.Errorf("request_state: %v", one)
	}
	tk.send("comm_close", jupyter.CommClose{CommID: control})
	tk.send("comm_close", jupyter.CommClose{CommID: buttonID})
	info = tk.request("comm_info_request", jupyter.CommInfoRequest{})
	if comms := info.Content["comms"].(map[string]any); len(comms) != 21 || comms[control] != nil || comms[buttonID] != nil {
		t.Errorf("after closing: %d comms", len(comms))
	}

	// Board code closes a widget and sets one: comm_close, update.
	_, out = executeShown(tk, "d.close()\ns.value = 5\ns.description = 'dim'")
	var closed []string
	var update map[string]any
	for _, m := range out {
		switch {
		case m.Type == "comm_close":
			closed = append(closed, m.Str("comm_id"))
		case m.Type == "comm_msg" && m.Str("comm_id") == sliderID:
			update = m.Content["data"].(map[string]any)["state"].(map[string]any)
		}
	}
	if len(closed) != 3 || closed[0] != dropdownID || update["description"] != "dim" {
		t.Errorf("closed %v, last update %v; %v", closed, update, out)
	}
	if st, _ := tk.board.PWM(2); st.Duty != 5 {
		t.Errorf("s.value = 5 did not call on_change: duty %d", st.Duty)
	}
}

// While a cell's loop runs, it reads the slider's current value: the
// kernel takes the update beside the cell and answers the board's
// question; input() of the same cell still reads what the user typed.
func TestWidgetValueWhileCellRuns(t *testing.T) {
	tk := newTestKernel(t)
	_, out := executeShown(tk, "from jupyter.widgets import IntSlider\nseen = []\ns = IntSlider(0, 10, on_change=seen.append)")
	sliderID := shownWidget(t, out)
	r := tk.submit(`import time
print('start', s.value)
while s.value != 7:
    time.sleep(0.01)
name = input('name? ')
print('got', s.value, name, seen)`, withStdin)
	tk.waitFor(r, "start", func(m msg) bool { return m.Type == "stream" && strings.Contains(m.Str("text"), "start 0") })
	moved := tk.commMsg(sliderID, map[string]any{"method": "update", "state": map[string]any{"value": 7}})
	if e := echoed(moved, sliderID); e["value"] != 7.0 {
		t.Errorf("echo while the cell runs: %v", moved)
	}
	tk.inputRequest(r)
	r.Answer("ada")
	if reply := tk.reply(r); reply.Str("status") != "ok" {
		t.Fatalf("reply %v: %v", reply, tk.outputs(r))
	}
	if text := streamText(tk.outputs(r)); !strings.Contains(text, "got 7 ada [7]\n") {
		t.Errorf("the loop printed %q", text)
	}
}

// Widgets of a board that was reset say so when moved; a forged frame in
// printed text makes no widget.
func TestWidgetOfResetBoardAndForgedFrame(t *testing.T) {
	tk := newTestKernel(t)
	_, out := executeShown(tk, `from jupyter.widgets import IntSlider
s = IntSlider(0, 10)
import jupyter
print('\x02M' + 'f' * 16 + '\x03widget {"id": "x-1", "kind": "IntSlider", "state": {}, "show": true}\x02N' + 'f' * 16 + '\x03')`)
	if len(widgetOpens(t, out)) != 3 {
		t.Errorf("forged text opened comms: %v", types(out))
	}
	sliderID := shownWidget(t, out)
	tk.board.PressReset()
	moved := tk.commMsg(sliderID, map[string]any{"method": "update", "state": map[string]any{"value": 3}})
	var disabled map[string]any
	for _, m := range moved {
		if m.Type == "comm_msg" && m.Content["data"].(map[string]any)["method"] == "update" {
			disabled = m.Content["data"].(map[string]any)["state"].(map[string]any)
		}
	}
	if disabled["disabled"] != true || !strings.HasPrefix(disabled["description"].(string), "(board reset)") ||
		!strings.Contains(streamsOf(moved, "stderr"), "the board was reset: this widget no longer drives it") {
		t.Errorf("after a reset the widget says %v; published %v", disabled, moved)
	}
	// Again: said again, the board not asked.
	again := tk.commMsg(sliderID, map[string]any{"method": "update", "state": map[string]any{"value": 4}})
	if !strings.Contains(streamsOf(again, "stderr"), "no longer drives it") {
		t.Errorf("second update: %v", again)
	}
}

var _ jupyter.BesideHandler = (*Kernel)(nil)
var _ = jupytertest.OnControl
