// The widget models the board can make (py/widgets.py): for each kind, the
// @jupyter-widgets/controls 2.0.0 model and view, its style model, the
// state keys the board may set (with their types) and the key that is the
// widget's value. The state keys are those of the controls' model
// defaults (ipywidgets packages/controls, widget_int.ts, widget_float.ts,
// widget_bool.ts, widget_button.ts, widget_selection.ts, widget_string.ts);
// a key left out takes the frontend's default.

package kernel

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
)

// Versions of the widget protocol and of the model modules the kernel
// speaks (ipywidgets 8, jupyterlab_widgets 3).
const (
	widgetProtocolVersion = "2.1.0"
	widgetTarget          = "jupyter.widget"
	widgetControlTarget   = "jupyter.widget.control"
	controlsModule        = "@jupyter-widgets/controls"
	baseModule            = "@jupyter-widgets/base"
	widgetModuleVersion   = "2.0.0"
	widgetViewMIME        = "application/vnd.jupyter.widget-view+json"
	widgetStateMIME       = "application/vnd.jupyter.widget-state+json"
)

// stateType is the JSON type of a state key the board may set.
type stateType int

const (
	tInt stateType = iota
	tNumber
	tBool
	tString
	tStrings // a list of strings
)

// widgetKind is one kind of board widget.
type widgetKind struct {
	model, view, style string
	// key is the state key that is the widget's value for the board
	// ("value", Dropdown's "index"); "" for Button, whose clicks are.
	key string
	// board: the keys the board may set and their types; frontend: the
	// keys a frontend may change (its update messages).
	board    map[string]stateType
	frontend []string
	// defaults: the rest of the model's state.
	defaults map[string]any
}

func widgetKinds() map[string]widgetKind {
	described := map[string]stateType{"description": tString, "disabled": tBool}
	with := func(extra map[string]stateType) map[string]stateType {
		m := maps.Clone(described)
		maps.Copy(m, extra)
		return m
	}
	slider := func(model, view string, number stateType, format string) widgetKind {
		return widgetKind{model: model, view: view, style: "SliderStyleModel", key: "value",
			board:    with(map[string]stateType{"value": number, "min": number, "max": number, "step": number}),
			frontend: []string{"value"},
			defaults: map[string]any{"continuous_update": true, "orientation": "horizontal", "readout": true,
				"readout_format": format, "behavior": "drag-tap"}}
	}
	return map[string]widgetKind{
		"IntSlider":   slider("IntSliderModel", "IntSliderView", tInt, "d"),
		"FloatSlider": slider("FloatSliderModel", "FloatSliderView", tNumber, ".2f"),
		"Play": {model: "PlayModel", view: "PlayView", style: "DescriptionStyleModel", key: "value",
			board: with(map[string]stateType{"value": tInt, "min": tInt, "max": tInt, "step": tInt,
				"interval": tInt, "repeat": tBool}),
			frontend: []string{"value", "playing", "repeat"},
			defaults: map[string]any{"playing": false, "show_repeat": true}},
		"ToggleButton": {model: "ToggleButtonModel", view: "ToggleButtonView", style: "ToggleButtonStyleModel", key: "value",
			board:    with(map[string]stateType{"value": tBool}),
			frontend: []string{"value"},
			defaults: map[string]any{"button_style": "", "icon": "", "tooltip": nil}},
		"Button": {model: "ButtonModel", view: "ButtonView", style: "ButtonStyleModel",
			board:    described,
			defaults: map[string]any{"button_style": "", "icon": "", "tooltip": nil}},
		"Dropdown": {model: "DropdownModel", view: "DropdownView", style: "DescriptionStyleModel", key: "index",
			board:    with(map[string]stateType{"_options_labels": tStrings, "index": tInt}),
			frontend: []string{"index"}},
		"Label": {model: "LabelModel", view: "LabelView", style: "LabelStyleModel", key: "value",
			board:    map[string]stateType{"value": tString, "description": tString},
			defaults: map[string]any{"placeholder": ""}},
		"HTML": {model: "HTMLModel", view: "HTMLView", style: "HTMLStyleModel", key: "value",
			board:    map[string]stateType{"value": tString, "description": tString},
			defaults: map[string]any{"placeholder": ""}},
	}
}

// checkState checks state keys against the types the kind allows; keys
// names a key it does not know.
func (k widgetKind) checkState(state map[string]any) error {
	for key, v := range state {
		t, ok := k.board[key]
		if !ok {
			return fmt.Errorf("%s has no attribute %.40q a board may set", k.model, key)
		}
		if !t.holds(v) {
			return fmt.Errorf("%s.%s: %.40v is not %s", strings.TrimSuffix(k.model, "Model"), key, v, t)
		}
	}
	return nil
}

func (t stateType) holds(v any) bool {
	switch t {
	case tInt:
		f, ok := v.(float64)
		return ok && f == math.Trunc(f) && math.Abs(f) < 1<<53
	case tNumber:
		f, ok := v.(float64)
		return ok && !math.IsInf(f, 0) && !math.IsNaN(f)
	case tBool:
		_, ok := v.(bool)
		return ok
	case tString:
		_, ok := v.(string)
		return ok
	case tStrings:
		list, ok := v.([]any)
		for _, item := range list {
			if _, isString := item.(string); !isString {
				return false
			}
		}
		return ok
	}
	return false
}

func (t stateType) String() string {
	return [...]string{"an integer", "a number", "True or False", "a string", "a list of strings"}[t]
}

// modelState is a new widget model's whole state: the kind's defaults,
// then what the board gave, its layout and style referenced by comm id.
func (k widgetKind) modelState(board map[string]any, layoutID, styleID string) map[string]any {
	s := map[string]any{
		"_model_module": controlsModule, "_model_module_version": widgetModuleVersion, "_model_name": k.model,
		"_view_module": controlsModule, "_view_module_version": widgetModuleVersion, "_view_name": k.view,
		"_dom_classes": []any{}, "description": "", "description_allow_html": false, "disabled": false,
		"tabbable": nil, "tooltip": nil,
		"layout": "IPY_MODEL_" + layoutID, "style": "IPY_MODEL_" + styleID,
	}
	maps.Copy(s, k.defaults)
	maps.Copy(s, board)
	return s
}

// layoutState and styleState are the states of a widget's layout and
// style models (every key left to the frontend's defaults).
func layoutState() map[string]any {
	return map[string]any{"_model_module": baseModule, "_model_module_version": widgetModuleVersion,
		"_model_name": "LayoutModel", "_view_module": baseModule, "_view_module_version": widgetModuleVersion,
		"_view_name": "LayoutView"}
}

func (k widgetKind) styleState() map[string]any {
	return map[string]any{"_model_module": controlsModule, "_model_module_version": widgetModuleVersion,
		"_model_name": k.style, "_view_module": baseModule, "_view_module_version": widgetModuleVersion,
		"_view_name": "StyleView", "description_width": ""}
}

// plainText is a widget's text/plain: its kind and value, as ipywidgets'
// repr names a widget for frontends that cannot show it.
func plainText(kind string, state map[string]any) string {
	v, ok := state["value"]
	if kind == "Dropdown" {
		labels, _ := state["_options_labels"].([]any)
		i, _ := state["index"].(float64)
		v, ok = nil, false
		if int(i) >= 0 && int(i) < len(labels) {
			v, ok = labels[int(i)], true
		}
	}
	if kind == "Button" {
		v, ok = state["description"], true
	}
	if !ok {
		return kind + "()"
	}
	switch v := v.(type) {
	case string:
		return kind + "(" + strconv.Quote(v) + ")"
	case float64:
		return kind + "(value=" + strconv.FormatFloat(v, 'g', -1, 64) + ")"
	}
	return fmt.Sprintf("%s(value=%v)", kind, v)
}
