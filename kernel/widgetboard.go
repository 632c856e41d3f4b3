// Widgets on the board's side of the kernel: the board messages of
// py/widgets.py (boardmsg.go's channel) and the values the kernel gives the
// board (widgetcomm.go has the frontend's side).
//
// Board → kernel, framed with the running cell's token:
//
//	widget       {"id", "kind", "state", "show"}  a new widget: comms opened, shown
//	widget.set   {"id", "state"}                  board code set attributes: "update" to the frontend
//	widget.get   {"id"}                           the cell reads a value: the kernel types the answer
//	widget.gone  {"id"}                           the board has no such widget (it was reset)
//	widget.show  {"id"}                           display it again
//	widget.close {"id"}                           comm_close, forgotten
//
// Kernel → board: while a cell runs, only as the answer to widget.get: one
// line of JSON typed on the board's console, which the board's own
// input() reads (echo dropped, as for input() answers: input.go). No byte
// reaches the board's stdin unasked, so a cell's input() never reads a
// widget's value, nor the other way round. Between cells a board program
// calls py/widget_deliver.py with the changed values (deliverWidgets).

package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	"webrepl-kernel/internal/boardpy"
	"webrepl-kernel/jupyter"
)

// widgetMessageKinds are the board messages of widgets (boardMessageKinds).
func widgetMessageKinds() map[string]messageHandler {
	return map[string]messageHandler{
		"widget":       (*cellDisplay).widgetMake,
		"widget.set":   (*cellDisplay).widgetSet,
		"widget.get":   (*cellDisplay).widgetGet,
		"widget.gone":  (*cellDisplay).widgetGone,
		"widget.show":  (*cellDisplay).widgetShow,
		"widget.close": (*cellDisplay).widgetClose,
	}
}

// widgetPayload is the payload of every widget message.
type widgetPayload struct {
	ID    string         `json:"id"`
	Kind  string         `json:"kind"`
	State map[string]any `json:"state"`
	Show  bool           `json:"show"`
}

func readWidgetPayload(m boardMessage) (widgetPayload, error) {
	var p widgetPayload
	if err := json.Unmarshal(m.Payload, &p); err != nil {
		return p, fmt.Errorf("payload: %v", err)
	}
	if p.ID == "" || len(p.ID) > 64 {
		return p, fmt.Errorf("widget id %.70q", p.ID)
	}
	return p, nil
}

// widgetMake opens the comms of a new widget and shows it.
func (d *cellDisplay) widgetMake(m boardMessage) error {
	p, err := readWidgetPayload(m)
	if err != nil {
		return err
	}
	kind, ok := widgetKinds()[p.Kind]
	if !ok {
		return fmt.Errorf("the kernel knows no widget %.40q", p.Kind)
	}
	if err := kind.checkState(p.State); err != nil {
		return err
	}
	w := &widget{boardID: p.ID, kind: p.Kind, commID: newCommID(), layoutID: newCommID(), styleID: newCommID()}
	w.state = kind.modelState(p.State, w.layoutID, w.styleID)
	w.layout, w.style = layoutState(), kind.styleState()
	reg := &d.io.k.widgets
	reg.mu.Lock()
	reg.init()
	switch {
	case len(reg.byBoard) >= maxWidgets:
		reg.mu.Unlock()
		return fmt.Errorf("the kernel keeps at most %d widgets: close() some", maxWidgets)
	case reg.byBoard[p.ID] != nil:
		reg.mu.Unlock()
		return fmt.Errorf("widget id %q is taken", p.ID)
	}
	reg.byBoard[p.ID] = w
	for _, id := range []string{w.commID, w.layoutID, w.styleID} {
		reg.byComm[id] = w
	}
	reg.order = append(reg.order, w)
	opens := []jupyter.CommOpen{
		{CommID: w.layoutID, TargetName: widgetTarget, Data: openData(w.layout)},
		{CommID: w.styleID, TargetName: widgetTarget, Data: openData(w.style)},
		{CommID: w.commID, TargetName: widgetTarget, Data: openData(w.state)},
	}
	text := plainText(w.kind, w.state)
	reg.mu.Unlock()
	// Comms are opened even for a silent request: the board has the
	// widget, and a frontend must be able to reach it.
	for _, open := range opens {
		d.io.k.publish(d.io.r, "comm_open", jupyter.WithMetadata{Content: open,
			Metadata: map[string]any{"version": widgetProtocolVersion}})
	}
	if p.Show {
		d.showWidget(w.commID, text)
	}
	return nil
}

// openData is a comm_open's data for a model's state.
func openData(state map[string]any) jupyter.Metadata {
	return jupyter.Metadata{"state": maps.Clone(state), "buffer_paths": []any{}}
}

// showWidget publishes the display_data of a widget's view.
func (d *cellDisplay) showWidget(commID, text string) {
	if d.io.silent {
		return
	}
	d.io.k.publish(d.io.r, "display_data", jupyter.DisplayData{Data: jupyter.MIMEBundle{
		widgetViewMIME: map[string]any{"model_id": commID, "version_major": 2, "version_minor": 1},
		"text/plain":   text,
	}})
}

// lookup finds the widget of a board message; mu is held on success.
func (d *cellDisplay) lookup(p widgetPayload) (*widgetRegistry, *widget, error) {
	reg := &d.io.k.widgets
	reg.mu.Lock()
	w := reg.byBoard[p.ID]
	if w == nil {
		reg.mu.Unlock()
		return nil, nil, fmt.Errorf("the kernel has no widget %q (made by an earlier kernel?)", p.ID)
	}
	return reg, w, nil
}

// widgetSet sends the frontend what board code set.
func (d *cellDisplay) widgetSet(m boardMessage) error {
	p, err := readWidgetPayload(m)
	if err != nil {
		return err
	}
	reg, w, err := d.lookup(p)
	if err != nil {
		return err
	}
	if err := widgetKinds()[w.kind].checkState(p.State); err != nil {
		reg.mu.Unlock()
		return err
	}
	maps.Copy(w.state, p.State)
	commID := w.commID
	reg.mu.Unlock()
	d.io.k.publish(d.io.r, "comm_msg", jupyter.CommMsg{CommID: commID,
		Data: jupyter.Metadata{"method": "update", "state": p.State, "buffer_paths": []any{}}})
	return nil
}

// widgetGet answers the board with the widget's current values: one line
// of JSON, typed on its console. An unknown widget gets null (the board
// keeps what it has).
func (d *cellDisplay) widgetGet(m boardMessage) error {
	p, err := readWidgetPayload(m)
	answer := []byte("null")
	if err == nil {
		reg := &d.io.k.widgets
		reg.mu.Lock()
		if w := reg.byBoard[p.ID]; w != nil {
			answer, err = json.Marshal(w.boardValues())
			w.pendingForBoard = false
		}
		reg.mu.Unlock()
	}
	if d.answer == nil {
		return errors.New("the kernel cannot answer here")
	}
	// The board waits for a line whatever was wrong with the question.
	d.answer(string(answer))
	return err
}

// boardValues are the values the board takes from the frontend: the
// widget's value and a Button's clicks. Called with mu held.
func (w *widget) boardValues() map[string]any {
	values := map[string]any{}
	if key := widgetKinds()[w.kind].key; key != "" {
		if v, ok := w.state[key]; ok {
			values[key] = v
		}
	}
	if w.kind == "Button" {
		values["clicks"] = w.clicks
	}
	return values
}

// widgetGone: the board has no such widget; the frontend and the user are
// told.
func (d *cellDisplay) widgetGone(m boardMessage) error {
	p, err := readWidgetPayload(m)
	if err != nil {
		return err
	}
	reg, w, err := d.lookup(p)
	if err != nil {
		return nil // forgotten meanwhile: nothing to tell
	}
	change := w.markGone()
	commID := w.commID
	reg.mu.Unlock()
	d.io.k.tellGone(d.io.r, commID, change)
	return nil
}

func (d *cellDisplay) widgetShow(m boardMessage) error {
	p, err := readWidgetPayload(m)
	if err != nil {
		return err
	}
	reg, w, err := d.lookup(p)
	if err != nil {
		return err
	}
	commID, text := w.commID, plainText(w.kind, w.state)
	reg.mu.Unlock()
	d.showWidget(commID, text)
	return nil
}

func (d *cellDisplay) widgetClose(m boardMessage) error {
	p, err := readWidgetPayload(m)
	if err != nil {
		return err
	}
	reg, w, err := d.lookup(p)
	if err != nil {
		return err
	}
	reg.forget(w)
	reg.mu.Unlock()
	for _, id := range []string{w.commID, w.layoutID, w.styleID} {
		d.io.k.publish(d.io.r, "comm_close", jupyter.CommClose{CommID: id})
	}
	return nil
}

// setCellRunning says whether a cell uses the board: while it does, a
// frontend's updates are taken beside it (Beside) and wait for the board.
func (reg *widgetRegistry) setCellRunning(running bool) {
	reg.mu.Lock()
	reg.cellRunning = running
	reg.mu.Unlock()
}

// deliverWidgets gives the board, between cells, the values a frontend
// changed that the board has not been given: one board program calls the
// widgets' callbacks, its output going where io publishes. A board that
// is not connected gets them after the next cell connects.
func (k *Kernel) deliverWidgets(ctx context.Context, r jupyter.Request, io cellIO) {
	reg := &k.widgets
	reg.mu.Lock()
	answers := map[string]any{}
	var given []*widget
	for _, w := range reg.order {
		if w.pendingForBoard && !w.gone {
			answers[w.boardID] = w.boardValues()
			w.pendingForBoard = false
			given = append(given, w)
		}
	}
	reg.mu.Unlock()
	if len(answers) == 0 {
		return
	}
	k.mu.Lock()
	connected := k.session != nil
	k.mu.Unlock()
	text, err := json.Marshal(answers)
	if !connected || err != nil {
		reg.mu.Lock()
		for _, w := range given {
			w.pendingForBoard = true
		}
		reg.mu.Unlock()
		if !connected {
			io.stderr("widget: the board is not connected; it gets the widget's value after the next cell connects\n")
		}
		return
	}
	cell := k.startCell(ctx)
	io.display = &cellDisplay{io: io}
	failure := k.runProgram(cell, r, jupyter.ExecuteRequest{}, io,
		buildProgram(boardpy.Call(widgetDeliver, boardpy.Str(string(text))), false, "<widget>"), nil)
	io.display.finish()
	k.boardDone()
	k.endCell(cell)
	if failure != nil && !io.silent {
		k.publish(r, "stream", jupyter.Stream{Name: jupyter.Stderr,
			Text: "widget callback: " + strings.Join(failure.traceback, "\n") + "\n"})
	}
}
