//go:build linux

package main

// End-to-end tests of `run`: the real binary (this test binary re-executed
// as main) starts its kernels (the same binary again) and runs notebooks
// on a simulated board; what it writes is checked with the pinned nbformat (.venv).

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"webrepl-kernel/internal/pyenv"
)

// nbCell is a code cell for writeLesson.
type nbCell struct {
	Source string
	Tags   []string
	Meta   map[string]any
}

// writeLesson writes a notebook for our kernel with the given code cells
// (and a markdown cell first) into dir.
func writeLesson(t *testing.T, dir, name string, cells ...nbCell) string {
	t.Helper()
	list := []any{map[string]any{"cell_type": "markdown", "id": "intro", "metadata": map[string]any{}, "source": "# A test lesson\n"}}
	for i, c := range cells {
		meta := map[string]any{}
		for k, v := range c.Meta {
			meta[k] = v
		}
		if c.Tags != nil {
			meta["tags"] = c.Tags
		}
		list = append(list, map[string]any{"cell_type": "code", "id": "code-" + string(rune('a'+i)), "metadata": meta,
			"source": c.Source, "outputs": []any{}, "execution_count": nil})
	}
	data, err := json.MarshalIndent(map[string]any{"cells": list, "nbformat": 4, "nbformat_minor": 5,
		"metadata": map[string]any{"kernelspec": map[string]any{"name": "micropython-webrepl", "display_name": "MicroPython (WebREPL)", "language": "python"}}}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// validateNotebook checks path with the pinned nbformat's validator.
func validateNotebook(t *testing.T, path string) {
	t.Helper()
	python := pyenv.Python(t, "nbformat")
	script := `import json, sys, nbformat
nbformat.validate(json.load(open(sys.argv[1])), version=4)
print("valid")`
	out, err := exec.Command(python, "-c", script, path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "valid" {
		t.Fatalf("nbformat rejects %s (%v):\n%s", path, err, out)
	}
}

func TestRunUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	nb := writeLesson(t, dir, "a.ipynb", nbCell{Source: "1"})
	aFile := filepath.Join(dir, "a-file")
	if err := os.WriteFile(aFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "no notebook given"},
		{[]string{"run", nb}, "no board: give --url"},
		{[]string{"run", "--sim", "--url", "ws://127.0.0.1:1/", nb}, "--sim and --url exclude each other"},
		{[]string{"run", "--profile", "esp8266", "--url", "ws://127.0.0.1:1/", nb}, "--profile needs --sim"},
		{[]string{"run", "--sim", "notes.txt"}, "not a notebook"},
		{[]string{"run", "--sim", "--timeout", "soon", nb}, "invalid value \"soon\" for flag -timeout"},
		{[]string{"run", "--sim", "--output", aFile, nb}, "not a folder"},
		{[]string{"run", "--sim", "--profile", "esp99", nb}, "want esp32, esp8266 or ideal"},
	} {
		res := runCLI(t, nil, nil, tc.args...)
		if res.code != 2 || strings.Count(res.stderr, tc.want) != 1 || res.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q once", tc.args, res.code, res.stdout, res.stderr, tc.want)
		}
	}
}

// One lesson end to end: outputs, a value, an expected error, input()
// answered from metadata, stdout and stderr; written, valid, and checked
// again against what was written.
func TestRunWritesAndChecks(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	// The output folder does not exist yet: run creates it, as nbconvert does.
	dir, outDir := t.TempDir(), filepath.Join(t.TempDir(), "new", "out")
	nb := writeLesson(t, dir, "lesson.ipynb",
		nbCell{Source: "import sys\nfor i in range(3):\n    print('line', i)\nprint('warn', file=sys.stderr)"},
		nbCell{Source: "x = 6 * 7\nx"},
		nbCell{Source: "1/0", Tags: []string{"raises-exception"}},
		nbCell{Source: "name = input('name? ')\nage = input('age? ')\nprint(name, age)",
			Meta: map[string]any{"webrepl": map[string]any{"input": []string{"Ada", "36"}}}},
		nbCell{Source: "import time\nprint(time.ticks_ms())", Tags: []string{"output-varies"}},
	)
	res := runCLI(t, nil, nil, append([]string{"run", "--output", outDir}, append(boardArgs(board), nb)...)...)
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{"[1/5]   ok", "[3/5]   raised", "ZeroDivisionError", "lesson.ipynb: passed", "notebooks: 1 passed, 0 failed, 0 skipped\n"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	written := filepath.Join(outDir, "lesson.ipynb")
	validateNotebook(t, written)
	data, err := os.ReadFile(written)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cells []struct {
			ExecutionCount *int             `json:"execution_count"`
			Outputs        []map[string]any `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	outText := func(cell int) string {
		var b strings.Builder
		for _, o := range doc.Cells[cell].Outputs {
			b.WriteString(o["output_type"].(string) + ":")
			switch o["output_type"] {
			case "stream":
				b.WriteString(o["name"].(string) + ":")
				for _, l := range o["text"].([]any) {
					b.WriteString(l.(string))
				}
			case "execute_result":
				for _, l := range o["data"].(map[string]any)["text/plain"].([]any) {
					b.WriteString(l.(string))
				}
			case "error":
				b.WriteString(o["ename"].(string))
			}
			b.WriteString("|")
		}
		return b.String()
	}
	for cell, want := range map[int]string{
		1: "stream:stdout:line 0\nline 1\nline 2\n|stream:stderr:warn\n|",
		2: "execute_result:42|",
		3: "error:ZeroDivisionError|",
		4: "stream:stdout:Ada 36\n|",
	} {
		if got := outText(cell); got != want {
			t.Errorf("cell %d outputs %q, want %q", cell, got, want)
		}
	}
	if doc.Cells[2].ExecutionCount == nil || *doc.Cells[2].ExecutionCount != 2 {
		t.Errorf("cell 2 execution_count %v, want 2", doc.Cells[2].ExecutionCount)
	}

	// --check against what was just written: the same (ticks_ms varies but is tagged).
	res = runCLI(t, nil, nil, append([]string{"run", "--check"}, append(boardArgs(board), written)...)...)
	if res.code != 0 || !strings.Contains(res.stdout, "0 differ") {
		t.Fatalf("run --check of the written notebook: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	// A stored output that no longer matches fails with a diff.
	changed := strings.Replace(string(data), `"line 1\n"`, `"line one\n"`, 1)
	if changed == string(data) {
		t.Fatal("test notebook has no stored \"line 1\" to change")
	}
	if err := os.WriteFile(written, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	res = runCLI(t, nil, nil, append([]string{"run", "--check"}, append(boardArgs(board), written)...)...)
	if res.code != 1 || !strings.Contains(res.stdout, "DIFFERS") || !strings.Contains(res.stdout, "- line one") ||
		!strings.Contains(res.stdout, "+ line 1") || !strings.Contains(res.stdout, "notebooks: 0 passed, 1 failed") {
		t.Errorf("run --check with a changed output: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// A failing cell fails the run (exit 1) and stops its notebook; a cell
// that overruns --timeout is interrupted, and the board serves the next
// notebook; another kernel's notebook is skipped.
func TestRunFailuresOnSimulator(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	failing := writeLesson(t, dir, "1-failing.ipynb",
		nbCell{Source: "print('first')"},
		nbCell{Source: "undefined_name"},
		nbCell{Source: "print('never')"})
	slow := writeLesson(t, dir, "2-slow.ipynb",
		nbCell{Source: "import time\nwhile True:\n    time.sleep_ms(10)"})
	after := writeLesson(t, dir, "3-after.ipynb", nbCell{Source: "print('board still here')"})
	other := filepath.Join(dir, "4-python.ipynb")
	if err := os.WriteFile(other, []byte(`{"cells": [], "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, nil, nil, "run", "--sim", "--profile", "ideal", "--timeout", "3", failing, slow, after, other)
	if res.code != 1 {
		t.Errorf("exit %d, want 1", res.code)
	}
	for _, want := range []string{
		"[2/3]   FAILED", "NameError", "[3-3/3] not run",
		"1-failing.ipynb: failed: cell 2 raised NameError",
		"[1/1]   TIMEOUT", "2-slow.ipynb: failed: cell 1 ran longer than 3s and was interrupted",
		"3-after.ipynb: passed",
		"4-python.ipynb: skipped: its kernel is python3, not micropython-webrepl",
		"notebooks: 1 passed, 2 failed, 1 skipped\n",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s\nstderr:\n%s", want, res.stdout, res.stderr)
		}
	}
}

// The widgets a lesson makes are saved with it (metadata.widgets, widget
// state 2.0) with their last values; nbformat accepts the metadata and
// nbconvert's HTML carries the state and the views.
func TestRunSavesWidgetState(t *testing.T) {
	t.Parallel()
	board := startBoard(t, "")
	dir, outDir := t.TempDir(), t.TempDir()
	nb := writeLesson(t, dir, "widgets.ipynb",
		nbCell{Source: "from jupyter.widgets import IntSlider, Dropdown\ns = IntSlider(0, 1023, value=10, description='LED')\nd = Dropdown(['a', 'b'])\ngone = Dropdown(['x'])"},
		nbCell{Source: "s.value = 300\ngone.close()"},
	)
	res := runCLI(t, nil, nil, append([]string{"run", "--output", outDir}, append(boardArgs(board), nb)...)...)
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	written := filepath.Join(outDir, "widgets.ipynb")
	validateNotebook(t, written)
	data, err := os.ReadFile(written)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Metadata struct {
			Widgets map[string]struct {
				Major int `json:"version_major"`
				Minor int `json:"version_minor"`
				State map[string]struct {
					ModelName string         `json:"model_name"`
					Version   string         `json:"model_module_version"`
					State     map[string]any `json:"state"`
				} `json:"state"`
			} `json:"widgets"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	saved, ok := doc.Metadata.Widgets["application/vnd.jupyter.widget-state+json"]
	if !ok || saved.Major != 2 || saved.Minor != 0 || len(saved.State) != 6 {
		t.Fatalf("widget state %+v", doc.Metadata.Widgets)
	}
	var slider string
	for id, m := range saved.State {
		if m.ModelName == "IntSliderModel" {
			slider = id
			if m.Version != "2.0.0" || m.State["value"] != 300.0 || m.State["description"] != "LED" {
				t.Errorf("saved slider %+v", m)
			}
		}
	}
	if slider == "" || !strings.Contains(string(data), `"model_id": "`+slider+`"`) {
		t.Errorf("no slider view in the cells or no slider in the state:\n%s", data)
	}

	python := pyenv.Python(t, "nbconvert")
	html := filepath.Join(t.TempDir(), "widgets.html")
	out, err := exec.Command(python, "-m", "nbconvert", "--to", "html", "--output", html, written).CombinedOutput()
	if err != nil {
		t.Fatalf("nbconvert: %v\n%s", err, out)
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`application/vnd.jupyter.widget-state+json`, `application/vnd.jupyter.widget-view+json`, slider} {
		if !strings.Contains(string(page), want) {
			t.Errorf("nbconvert's HTML lacks %q", want)
		}
	}
}
