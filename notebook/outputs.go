package notebook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"webrepl-kernel/jupyter"
)

// outputs collects one cell's outputs from the kernel's iopub messages,
// as a frontend would show them: clear_output (with wait: at the next
// output), update_display_data by display id, and consecutive text on one
// stream merged into one output (how it reads; where the kernel split it
// depends on timing).
type outputs struct {
	list        []map[string]any
	clearOnNext bool
	displays    map[string][]int // display_id → indexes into list
}

// add handles one iopub message parented to the cell.
func (o *outputs) add(m jupyter.Message) {
	var content map[string]any
	dec := json.NewDecoder(bytes.NewReader(m.Content))
	dec.UseNumber()
	if dec.Decode(&content) != nil || content == nil {
		return
	}
	switch m.Type {
	case "clear_output":
		if wait, _ := content["wait"].(bool); wait {
			o.clearOnNext = true
		} else {
			o.clear()
		}
		return
	case "update_display_data":
		id := displayID(content)
		for _, i := range o.displays[id] {
			o.list[i]["data"] = orEmpty(content["data"])
			o.list[i]["metadata"] = orEmpty(content["metadata"])
		}
		return
	}
	if o.clearOnNext {
		o.clear()
	}
	switch m.Type {
	case "stream":
		name, _ := content["name"].(string)
		text, _ := content["text"].(string)
		if n := len(o.list); n > 0 && o.list[n-1]["output_type"] == "stream" && o.list[n-1]["name"] == name {
			o.list[n-1]["text"] = o.list[n-1]["text"].(string) + text
			return
		}
		o.list = append(o.list, map[string]any{"output_type": "stream", "name": name, "text": text})
	case "display_data":
		if id := displayID(content); id != "" {
			if o.displays == nil {
				o.displays = map[string][]int{}
			}
			o.displays[id] = append(o.displays[id], len(o.list))
		}
		o.list = append(o.list, map[string]any{"output_type": "display_data",
			"data": orEmpty(content["data"]), "metadata": orEmpty(content["metadata"])})
	case "execute_result":
		o.list = append(o.list, map[string]any{"output_type": "execute_result",
			"execution_count": content["execution_count"],
			"data":            orEmpty(content["data"]), "metadata": orEmpty(content["metadata"])})
	case "error":
		tb, _ := content["traceback"].([]any)
		if tb == nil {
			tb = []any{}
		}
		o.list = append(o.list, map[string]any{"output_type": "error",
			"ename": stringOf(content["ename"]), "evalue": stringOf(content["evalue"]), "traceback": tb})
	}
}

func (o *outputs) clear() {
	o.list, o.displays, o.clearOnNext = nil, nil, false
}

func displayID(content map[string]any) string {
	transient, _ := content["transient"].(map[string]any)
	id, _ := transient["display_id"].(string)
	return id
}

func orEmpty(v any) any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

// ansi matches the colour escapes a traceback carries.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// render turns outputs into the lines Check compares and a diff shows:
// stream text (stderr lines marked), values as "Out: …", other data by
// MIME type, errors as their traceback without colour. Consecutive text
// on one stream is one piece, however the kernel split it.
func render(outs []map[string]any) []string {
	var lines []string
	addText := func(prefix, text string) {
		text = strings.TrimSuffix(text, "\n")
		for _, l := range strings.Split(text, "\n") {
			lines = append(lines, prefix+l)
		}
	}
	for i := 0; i < len(outs); i++ {
		o := outs[i]
		switch o["output_type"] {
		case "stream":
			name := stringOf(o["name"])
			text := joinText(o["text"])
			for i+1 < len(outs) && outs[i+1]["output_type"] == "stream" && stringOf(outs[i+1]["name"]) == name {
				i++
				text += joinText(outs[i]["text"])
			}
			prefix := ""
			if name != "stdout" {
				prefix = "[" + name + "] "
			}
			addText(prefix, text)
		case "execute_result", "display_data":
			prefix := ""
			if o["output_type"] == "execute_result" {
				prefix = "Out: "
			}
			data, _ := o["data"].(map[string]any)
			mimes := make([]string, 0, len(data))
			for mime := range data {
				mimes = append(mimes, mime)
			}
			sort.Strings(mimes)
			for _, mime := range mimes {
				if mime == "text/plain" {
					addText(prefix, joinText(data[mime]))
					continue
				}
				raw, _ := json.Marshal(data[mime])
				lines = append(lines, fmt.Sprintf("%s[%s] %s", prefix, mime, raw))
			}
		case "error":
			tb, _ := o["traceback"].([]any)
			if len(tb) == 0 {
				lines = append(lines, stringOf(o["ename"])+": "+stringOf(o["evalue"]))
			}
			for _, t := range tb {
				addText("", ansi.ReplaceAllString(stringOf(t), ""))
			}
		}
	}
	return lines
}

// RenderOutputs is the text `run --check` compares for a cell's outputs
// (nbformat output dicts): the same lines for the same outputs, however a
// kernel split its streams. The hub load test (bench) compares with it.
func RenderOutputs(outs []map[string]any) []string { return render(outs) }
