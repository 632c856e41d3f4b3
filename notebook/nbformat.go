// Package notebook runs Jupyter notebooks headless against a kernel, as
// `webrepl-kernel run` does: it reads nbformat 4 files, executes their code
// cells one by one through a jupyter.KernelClient (a fresh kernel per
// notebook), prints one line per cell and a summary, writes the executed
// notebooks, and with Check compares each cell's new outputs with the ones
// stored in the file and shows a diff. Notebook conventions it follows are
// nbclient's: a cell tagged "raises-exception" is expected to fail, and it
// adds "output-varies" for cells whose output is not compared.
//
// Notebooks are kept as generic JSON (every field survives a run) and are
// written the way Python's nbformat writes them (sorted keys, one-space
// indent, multi-line strings as lists of lines), so re-running a lesson in
// place changes only what the run changed.
package notebook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Notebook is one nbformat 4 document.
type Notebook struct {
	doc   map[string]any // the whole file, decoded with json.Number
	Cells []*Cell
}

// Cell is one cell of a Notebook; its fields live in the document.
type Cell struct {
	fields map[string]any
}

// Read reads and checks an nbformat 4 notebook file.
func Read(path string) (*Notebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	nb, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return nb, nil
}

// Parse decodes a notebook from its JSON text.
func Parse(data []byte) (*Notebook, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers are written back exactly as read
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a notebook (invalid JSON): %w", err)
	}
	if doc == nil {
		return nil, errors.New("not a notebook (not a JSON object)")
	}
	if major, _ := doc["nbformat"].(json.Number); major.String() != "4" {
		return nil, fmt.Errorf("nbformat %v is not supported (only 4)", doc["nbformat"])
	}
	raw, ok := doc["cells"].([]any)
	if !ok {
		return nil, errors.New("not a notebook (no cells list)")
	}
	nb := &Notebook{doc: doc}
	for i, c := range raw {
		fields, ok := c.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("cell %d is not an object", i+1)
		}
		if _, ok := fields["cell_type"].(string); !ok {
			return nil, fmt.Errorf("cell %d has no cell_type", i+1)
		}
		nb.Cells = append(nb.Cells, &Cell{fields: fields})
	}
	if _, ok := doc["metadata"].(map[string]any); !ok {
		doc["metadata"] = map[string]any{}
	}
	return nb, nil
}

// KernelName is metadata.kernelspec.name, or "" when the notebook has none.
func (nb *Notebook) KernelName() string {
	meta, _ := nb.doc["metadata"].(map[string]any)
	spec, _ := meta["kernelspec"].(map[string]any)
	name, _ := spec["name"].(string)
	return name
}

// Marshal encodes the notebook as Python's nbformat.write does.
func (nb *Notebook) Marshal() ([]byte, error) {
	cells := make([]any, len(nb.Cells))
	for i, c := range nb.Cells {
		cells[i] = splitCell(c.fields)
	}
	doc := make(map[string]any, len(nb.doc))
	for k, v := range nb.doc {
		doc[k] = v
	}
	doc["cells"] = cells
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Python's json leaves <, > and & alone
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode notebook: %w", err)
	}
	return buf.Bytes(), nil // Encode ends with the newline nbformat writes too
}

// Write writes the notebook to path (through a temporary file, so a
// failed write leaves the old file whole).
func (nb *Notebook) Write(path string) error {
	data, err := nb.Marshal()
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// Type is "code", "markdown" or "raw".
func (c *Cell) Type() string { s, _ := c.fields["cell_type"].(string); return s }

// Source is the cell's text.
func (c *Cell) Source() string { return joinText(c.fields["source"]) }

// Tags are metadata.tags.
func (c *Cell) Tags() []string {
	meta, _ := c.fields["metadata"].(map[string]any)
	list, _ := meta["tags"].([]any)
	var tags []string
	for _, t := range list {
		if s, ok := t.(string); ok {
			tags = append(tags, s)
		}
	}
	return tags
}

// HasTag reports whether the cell carries tag.
func (c *Cell) HasTag(tag string) bool {
	for _, t := range c.Tags() {
		if t == tag {
			return true
		}
	}
	return false
}

// InputAnswers are the lines metadata.webrepl.input gives for the cell's
// input() calls, in order; ok is false when the cell has none.
func (c *Cell) InputAnswers() (answers []string, ok bool, err error) {
	meta, _ := c.fields["metadata"].(map[string]any)
	ns, _ := meta["webrepl"].(map[string]any)
	raw, present := ns["input"]
	if !present {
		return nil, false, nil
	}
	list, isList := raw.([]any)
	if !isList {
		return nil, false, errors.New("metadata webrepl.input must be a list of strings")
	}
	for _, v := range list {
		s, isString := v.(string)
		if !isString {
			return nil, false, errors.New("metadata webrepl.input must be a list of strings")
		}
		answers = append(answers, s)
	}
	return answers, true, nil
}

// Outputs are the cell's stored outputs (code cells).
func (c *Cell) Outputs() []map[string]any {
	list, _ := c.fields["outputs"].([]any)
	outs := make([]map[string]any, 0, len(list))
	for _, o := range list {
		if m, ok := o.(map[string]any); ok {
			outs = append(outs, m)
		}
	}
	return outs
}

// SetResult stores a run's outputs and execution count (nil: not run).
func (c *Cell) SetResult(count *int, outputs []map[string]any) {
	list := make([]any, len(outputs))
	for i, o := range outputs {
		list[i] = o
	}
	c.fields["outputs"] = list
	if count == nil {
		c.fields["execution_count"] = nil
	} else {
		c.fields["execution_count"] = *count
	}
}

// joinText turns nbformat's multi-line string (a string or a list of
// lines) into one string.
func joinText(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		var b strings.Builder
		for _, line := range t {
			if s, ok := line.(string); ok {
				b.WriteString(s)
			}
		}
		return b.String()
	}
	return ""
}

// splitLines splits s after each line break, as Python's
// str.splitlines(keepends=True) does for \n, \r\n and \r.
func splitLines(s string) []any {
	lines := []any{}
	for len(s) > 0 {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			lines = append(lines, s)
			break
		}
		end := i + 1
		if s[i] == '\r' && end < len(s) && s[end] == '\n' {
			end++
		}
		lines = append(lines, s[:end])
		s = s[end:]
	}
	return lines
}

// splitCell returns a copy of a cell's fields with multi-line strings as
// lists of lines, where nbformat writes them so: the source, stream text,
// and text/* (plus application/javascript and image/svg+xml) data.
func splitCell(fields map[string]any) map[string]any {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		out[k] = v
	}
	if s, ok := out["source"].(string); ok {
		out["source"] = splitLines(s)
	}
	if list, ok := out["outputs"].([]any); ok {
		outs := make([]any, len(list))
		for i, o := range list {
			outs[i] = splitOutput(o)
		}
		out["outputs"] = outs
	}
	return out
}

func splitOutput(o any) any {
	m, ok := o.(map[string]any)
	if !ok {
		return o
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	switch out["output_type"] {
	case "stream":
		if s, ok := out["text"].(string); ok {
			out["text"] = splitLines(s)
		}
	case "execute_result", "display_data":
		if data, ok := out["data"].(map[string]any); ok {
			split := make(map[string]any, len(data))
			for mime, v := range data {
				s, isString := v.(string)
				if isString && (strings.HasPrefix(mime, "text/") || mime == "application/javascript" || mime == "image/svg+xml") {
					split[mime] = splitLines(s)
				} else {
					split[mime] = v
				}
			}
			out["data"] = split
		}
	}
	return out
}
