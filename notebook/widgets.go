package notebook

import (
	"bytes"
	"encoding/json"

	"webrepl-kernel/jupyter"
)

// Widget state saved with the notebook: the models of the widgets the
// cells made, as the kernel opened and updated them (comm_open, comm_msg
// "update"/"echo_update", comm_close on target jupyter.widget), written to
// metadata.widgets["application/vnd.jupyter.widget-state+json"] in the
// form ipywidgets' html manager and JupyterLab read (version 2.0): a
// notebook that is reopened, or turned into HTML by nbconvert, shows the
// widgets with their last values.

const widgetStateMIME = "application/vnd.jupyter.widget-state+json"

// widgetState collects the models of one notebook's run.
type widgetState struct {
	models map[string]map[string]any // comm id → {model_name, model_module, model_module_version, state}
}

// add follows one iopub message of a cell.
func (w *widgetState) add(m jupyter.Message) {
	switch m.Type {
	case "comm_open", "comm_msg", "comm_close":
	default:
		return
	}
	var c struct {
		CommID     string         `json:"comm_id"`
		TargetName string         `json:"target_name"`
		Data       map[string]any `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(m.Content))
	dec.UseNumber()
	if dec.Decode(&c) != nil || c.CommID == "" {
		return
	}
	state, _ := c.Data["state"].(map[string]any)
	switch {
	case m.Type == "comm_open" && c.TargetName == "jupyter.widget" && state != nil:
		if w.models == nil {
			w.models = map[string]map[string]any{}
		}
		w.models[c.CommID] = map[string]any{"model_name": state["_model_name"], "model_module": state["_model_module"],
			"model_module_version": state["_model_module_version"], "state": state}
	case m.Type == "comm_msg" && state != nil && (c.Data["method"] == "update" || c.Data["method"] == "echo_update"):
		if model := w.models[c.CommID]; model != nil {
			kept := model["state"].(map[string]any)
			for k, v := range state {
				kept[k] = v
			}
		}
	case m.Type == "comm_close":
		delete(w.models, c.CommID)
	}
}

// save puts the state in the notebook's metadata, or takes an old one out
// when the run made no widgets.
func (w *widgetState) save(nb *Notebook) {
	meta, _ := nb.doc["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		nb.doc["metadata"] = meta
	}
	widgets, _ := meta["widgets"].(map[string]any)
	if len(w.models) == 0 {
		if widgets != nil {
			delete(widgets, widgetStateMIME)
			if len(widgets) == 0 {
				delete(meta, "widgets")
			}
		}
		return
	}
	if widgets == nil {
		widgets = map[string]any{}
		meta["widgets"] = widgets
	}
	state := make(map[string]any, len(w.models))
	for id, m := range w.models {
		state[id] = m
	}
	widgets[widgetStateMIME] = map[string]any{"version_major": 2, "version_minor": 0, "state": state}
}
