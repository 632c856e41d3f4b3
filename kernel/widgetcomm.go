// Widgets: the ipywidgets 8 comm protocol (ipywidgets
// packages/schema/messages.md, protocol 2.1.0) for widgets that board code
// makes (py/widgets.py, widgetboard.go). The kernel holds every widget's
// model state; the frontend's stock widget manager talks to it:
//
//   - comm_open (target jupyter.widget, metadata version 2.1.0) for each
//     widget and for its layout and style models, when the board makes one;
//     then display_data with the widget view MIME type.
//   - comm_msg "update" from a frontend: the state is kept, echoed to every
//     frontend ("echo_update") and its value sent to the board: at once
//     between cells (a board program, widgetboard.go), or while a cell
//     runs when the cell reads the value, and the rest after the cell.
//   - comm_msg "custom" {"event": "click"}: a Button's click, delivered
//     as the value is.
//   - comm_msg "request_state": the model's whole state as an "update".
//   - comm_open of target jupyter.widget.control, then "request_states":
//     "update_states" with every model's state (how a reopened page gets
//     the widgets back); comm_info_request lists the open comms.
//   - comm_close from a frontend forgets the comm.
//
// Comm requests that need no board are taken beside a running cell
// (jupyter.BesideHandler), so a slider moves while a loop runs; an update
// or click between cells waits its turn on shell, where the board is used.

package kernel

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"sync"

	"github.com/google/uuid"

	"webrepl-kernel/jupyter"
)

// maxWidgets bounds the widgets the kernel keeps; the board is told when
// it makes one more.
const maxWidgets = 1000

// widget is one board widget: its model and the two models it refers to.
type widget struct {
	boardID           string // py/widgets.py's id
	kind              string
	commID            string // the model id
	layoutID, styleID string
	state             map[string]any
	layout, style     map[string]any
	clicks            int  // Button clicks from the frontend
	gone              bool // the board lost the widget (it was reset)
	pendingForBoard   bool // values changed that the board has not been given
}

// widgetRegistry is the kernel's widgets and open widget comms.
type widgetRegistry struct {
	mu      sync.Mutex
	byBoard map[string]*widget
	byComm  map[string]*widget // every comm id: model, layout and style
	order   []*widget          // in the order made
	control map[string]bool    // open jupyter.widget.control comms
	// cellRunning: a cell (or a board program) uses the board; updates go
	// beside it and wait in pendingForBoard.
	cellRunning bool
}

func (reg *widgetRegistry) init() {
	if reg.byBoard == nil {
		reg.byBoard, reg.byComm, reg.control = map[string]*widget{}, map[string]*widget{}, map[string]bool{}
	}
}

// commData is the data of a comm_msg, either way.
type commData struct {
	Method      string         `json:"method"`
	State       map[string]any `json:"state"`
	BufferPaths []any          `json:"buffer_paths"`
	Content     map[string]any `json:"content"`
}

// Beside takes the comm requests that need no board beside a running
// request (jupyter.BesideHandler). An update or click is applied here,
// on the reader, so that a cell that ends meanwhile finds it pending.
func (k *Kernel) Beside(r jupyter.Request) bool {
	switch r.Type() {
	case "comm_info_request", "comm_open", "comm_close":
		return true
	case "comm_msg":
	default:
		return false
	}
	var m jupyter.CommMsg
	var d commData
	if r.Decode(&m) != nil || decodeData(m.Data, &d) != nil {
		return true // HandleBeside logs it
	}
	reg := &k.widgets
	reg.mu.Lock()
	defer reg.mu.Unlock()
	w := reg.byComm[m.CommID]
	if w == nil || w.commID != m.CommID || (d.Method != "update" && d.Method != "custom") {
		return true
	}
	if !reg.cellRunning {
		return false // HandleShell applies it and gives it to the board
	}
	reg.apply(w, d)
	return true
}

// HandleBeside answers a comm request beside a running cell.
func (k *Kernel) HandleBeside(ctx context.Context, r jupyter.Request) {
	switch r.Type() {
	case "comm_info_request":
		k.commInfo(r)
	case "comm_open":
		k.commOpen(r)
	case "comm_close":
		k.commClose(r)
	case "comm_msg":
		k.commMsg(ctx, r, false)
	}
}

// decodeData reads a comm message's data into d.
func decodeData(data jupyter.Metadata, d *commData) error {
	return remarshal(data, d)
}

// commInfo lists the open comms, of one target if the request names one.
func (k *Kernel) commInfo(r jupyter.Request) {
	var req jupyter.CommInfoRequest
	_ = r.Decode(&req) // no target: all of them
	comms := map[string]jupyter.CommInfo{}
	reg := &k.widgets
	reg.mu.Lock()
	if req.TargetName == "" || req.TargetName == widgetTarget {
		for id := range reg.byComm {
			comms[id] = jupyter.CommInfo{TargetName: widgetTarget}
		}
	}
	if req.TargetName == "" || req.TargetName == widgetControlTarget {
		for id := range reg.control {
			comms[id] = jupyter.CommInfo{TargetName: widgetControlTarget}
		}
	}
	reg.mu.Unlock()
	k.reply(r, jupyter.CommInfoReply{Status: jupyter.StatusOK, Comms: comms})
}

// commOpen keeps a widget manager's control comm and closes any other
// comm a frontend opens: the kernel makes widgets only from the board.
func (k *Kernel) commOpen(r jupyter.Request) {
	var open jupyter.CommOpen
	if err := r.Decode(&open); err != nil || open.CommID == "" {
		return
	}
	if open.TargetName == widgetControlTarget {
		reg := &k.widgets
		reg.mu.Lock()
		reg.init()
		if len(reg.control) < maxWidgets {
			reg.control[open.CommID] = true
			reg.mu.Unlock()
			return
		}
		reg.mu.Unlock()
	}
	k.publish(r, "comm_close", jupyter.CommClose{CommID: open.CommID})
}

// commClose forgets a comm a frontend closed.
func (k *Kernel) commClose(r jupyter.Request) {
	var c jupyter.CommClose
	if r.Decode(&c) != nil {
		return
	}
	reg := &k.widgets
	reg.mu.Lock()
	defer reg.mu.Unlock()
	delete(reg.control, c.CommID)
	if w := reg.byComm[c.CommID]; w != nil && w.commID == c.CommID {
		reg.forget(w)
	}
}

// forget drops a widget and its comms. Called with mu held.
func (reg *widgetRegistry) forget(w *widget) {
	delete(reg.byBoard, w.boardID)
	for _, id := range []string{w.commID, w.layoutID, w.styleID} {
		delete(reg.byComm, id)
	}
	for i, o := range reg.order {
		if o == w {
			reg.order = append(reg.order[:i], reg.order[i+1:]...)
			break
		}
	}
}

// commMsg handles a comm_msg. onShell: between cells, where the board may
// be used; a change is then given to the board at once.
func (k *Kernel) commMsg(ctx context.Context, r jupyter.Request, onShell bool) {
	var m jupyter.CommMsg
	var d commData
	if err := r.Decode(&m); err != nil {
		k.cfg.Logf("kernel: comm_msg: %v", err)
		return
	}
	if err := decodeData(m.Data, &d); err != nil {
		k.cfg.Logf("kernel: comm_msg data: %v", err)
		return
	}
	reg := &k.widgets
	reg.mu.Lock()
	if reg.control[m.CommID] {
		states := map[string]any{}
		if d.Method == "request_states" {
			for _, w := range reg.order {
				states[w.layoutID] = modelEntry(w.layout)
				states[w.styleID] = modelEntry(w.style)
				states[w.commID] = modelEntry(w.state)
			}
		}
		reg.mu.Unlock()
		if d.Method == "request_states" {
			k.publish(r, "comm_msg", jupyter.CommMsg{CommID: m.CommID,
				Data: jupyter.Metadata{"method": "update_states", "states": states, "buffer_paths": []any{}}})
		}
		return
	}
	w := reg.byComm[m.CommID]
	if w == nil {
		reg.mu.Unlock()
		k.cfg.Logf("kernel: comm_msg for unknown comm %s", m.CommID)
		return
	}
	var full map[string]any
	switch w.commID {
	case m.CommID:
		full = w.state
	case w.layoutID:
		full = w.layout
	default:
		full = w.style
	}
	var echo map[string]any
	switch {
	case d.Method == "request_state":
		full = maps.Clone(full)
	case d.Method == "update" && m.CommID == w.commID:
		if onShell {
			reg.apply(w, d)
		}
		echo = frontendKeys(w, d.State)
	case d.Method == "update": // a layout or style: kept as sent
		echo = d.State
		maps.Copy(full, d.State)
	case d.Method == "custom" && onShell:
		reg.apply(w, d)
	}
	gone := w.gone && (d.Method == "update" || d.Method == "custom")
	var goneState map[string]any
	if gone {
		goneState = w.markGone()
	}
	reg.mu.Unlock()

	switch {
	case d.Method == "request_state":
		k.publish(r, "comm_msg", jupyter.CommMsg{CommID: m.CommID,
			Data: jupyter.Metadata{"method": "update", "state": full, "buffer_paths": []any{}}})
	case len(echo) > 0:
		k.publish(r, "comm_msg", jupyter.CommMsg{CommID: m.CommID,
			Data: jupyter.Metadata{"method": "echo_update", "state": echo, "buffer_paths": []any{}}})
	}
	if gone {
		k.tellGone(r, w.commID, goneState)
		return
	}
	if onShell {
		k.deliverWidgets(ctx, r, cellIO{k: k, r: r, count: k.executionCount})
	}
}

// apply keeps what a frontend changed of a widget: its state keys a
// frontend may change, a click. Called with mu held.
func (reg *widgetRegistry) apply(w *widget, d commData) {
	switch d.Method {
	case "update":
		maps.Copy(w.state, frontendKeys(w, d.State))
	case "custom":
		if event, _ := d.Content["event"].(string); event == "click" && w.kind == "Button" {
			w.clicks++
		}
	}
	if !w.gone {
		w.pendingForBoard = true
	}
}

// frontendKeys is the part of a frontend's update that the kind lets a
// frontend change, with the types the model has.
func frontendKeys(w *widget, state map[string]any) map[string]any {
	kept := map[string]any{}
	for _, key := range widgetKinds()[w.kind].frontend {
		v, ok := state[key]
		if !ok {
			continue
		}
		switch v.(type) {
		case float64, bool, string:
			kept[key] = v
		}
	}
	return kept
}

// modelEntry is one model in update_states and in the notebook's widget
// state.
func modelEntry(state map[string]any) map[string]any {
	return map[string]any{"model_name": state["_model_name"], "model_module": state["_model_module"],
		"model_module_version": state["_model_module_version"], "state": maps.Clone(state)}
}

// markGone notes that the board lost the widget and returns the state
// that shows it: disabled, its description saying why. Called with mu held.
func (w *widget) markGone() map[string]any {
	w.gone, w.pendingForBoard = true, false
	desc := stringValue(w.state["description"])
	if !strings.HasPrefix(desc, goneMark) {
		desc = goneMark + desc
	}
	change := map[string]any{"disabled": true, "description": desc}
	maps.Copy(w.state, change)
	return change
}

// goneMark starts the description of a widget whose board was reset.
const goneMark = "(board reset) "

// tellGone says, on the request's stderr and in the widget, that the
// board this widget drove was reset.
func (k *Kernel) tellGone(r jupyter.Request, commID string, state map[string]any) {
	k.publish(r, "comm_msg", jupyter.CommMsg{CommID: commID,
		Data: jupyter.Metadata{"method": "update", "state": state, "buffer_paths": []any{}}})
	k.publish(r, "stream", jupyter.Stream{Name: jupyter.Stderr,
		Text: "the board was reset: this widget no longer drives it (run its cell again for a new one)\n"})
}

// newCommID is a fresh comm id (a model id).
func newCommID() string { return uuid.NewString() }

func stringValue(v any) string {
	s, _ := v.(string)
	return s
}

// remarshal converts a decoded JSON value into v's type.
func remarshal(from, v any) error {
	b, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
