package notebook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"webrepl-kernel/jupyter"
)

// The lessons were written by Python's nbformat: reading and writing one
// must give back the same bytes, or regenerating them in place would
// rewrite every line.
func TestMarshalMatchesNbformat(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("../notebooks/*.ipynb")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no lessons found: %v", err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		nb, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out, err := nb.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data) {
			t.Errorf("%s: written back differently:\n%s", p, strings.Join(diffLines(strings.Split(string(data), "\n"), strings.Split(string(out), "\n")), "\n"))
		}
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{`[]`, `{"nbformat": 3, "cells": []}`, `{"nbformat": 4}`, `{"nbformat": 4, "cells": [1]}`, `not json`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) accepted it", bad)
		}
	}
}

func TestSplitLines(t *testing.T) {
	t.Parallel()
	got, _ := json.Marshal(splitLines("a\nb\r\nc\rd"))
	if string(got) != `["a\n","b\r\n","c\r","d"]` {
		t.Errorf("splitLines = %s", got)
	}
	if got, _ := json.Marshal(splitLines("")); string(got) != `[]` {
		t.Errorf("splitLines(\"\") = %s", got)
	}
}

func TestDiffLines(t *testing.T) {
	t.Parallel()
	got := strings.Join(diffLines([]string{"a", "b", "c"}, []string{"a", "x", "c", "d"}), "|")
	if want := "  a|- b|+ x|  c|+ d"; got != want {
		t.Errorf("diff = %q, want %q", got, want)
	}
}

func msg(typ, content string) jupyter.Message {
	return jupyter.Message{Type: typ, Content: json.RawMessage(content)}
}

func TestOutputsAndRender(t *testing.T) {
	t.Parallel()
	var o outputs
	o.add(msg("stream", `{"name":"stdout","text":"hel"}`))
	o.add(msg("stream", `{"name":"stdout","text":"lo\n"}`))
	o.add(msg("stream", `{"name":"stderr","text":"careful\n"}`))
	o.add(msg("display_data", `{"data":{"text/plain":"first"},"metadata":{},"transient":{"display_id":"d1"}}`))
	o.add(msg("update_display_data", `{"data":{"text/plain":"second"},"metadata":{},"transient":{"display_id":"d1"}}`))
	o.add(msg("execute_result", `{"execution_count":3,"data":{"text/plain":"42"},"metadata":{}}`))
	o.add(msg("error", `{"ename":"ValueError","evalue":"bad","traceback":["Traceback (most recent call last):","\u001b[0;31mValueError\u001b[0m: bad"]}`))
	got := strings.Join(render(o.list), "|")
	want := "hello|[stderr] careful|second|Out: 42|Traceback (most recent call last):|ValueError: bad"
	if got != want {
		t.Errorf("render = %q\nwant     %q", got, want)
	}
	o.add(msg("clear_output", `{"wait":true}`))
	if len(o.list) == 0 {
		t.Fatal("clear_output with wait cleared at once")
	}
	o.add(msg("stream", `{"name":"stdout","text":"fresh\n"}`))
	if got := strings.Join(render(o.list), "|"); got != "fresh" {
		t.Errorf("after clear_output(wait): %q", got)
	}
}

// fakeKernel answers each cell by its code (a unit-test stand-in; the
// real kernel is run end to end in cmd/webrepl-kernel's tests).
type fakeKernel struct {
	mu          sync.Mutex
	interrupted chan struct{}
	ran         []string
	stopped     bool
}

func newFakeKernel() *fakeKernel { return &fakeKernel{interrupted: make(chan struct{}, 10)} }

func (f *fakeKernel) Execute(ctx context.Context, req jupyter.ExecuteRequest, hooks jupyter.ExecuteHooks) (jupyter.ExecuteReply, error) {
	f.mu.Lock()
	f.ran = append(f.ran, req.Code)
	n := len(f.ran)
	f.mu.Unlock()
	out := func(typ, content string) { hooks.Output(msg(typ, content)) }
	stream := func(text string) {
		b, _ := json.Marshal(map[string]string{"name": "stdout", "text": text})
		out("stream", string(b))
	}
	raise := func(ename string) (jupyter.ExecuteReply, error) {
		out("error", `{"ename":"`+ename+`","evalue":"x","traceback":["`+ename+`: x"]}`)
		return jupyter.ExecuteReply{Status: jupyter.StatusError, ExecutionCount: n, Ename: ename, Evalue: "x"}, nil
	}
	switch {
	case strings.HasPrefix(req.Code, "print "):
		stream(strings.TrimPrefix(req.Code, "print ") + "\n")
	case req.Code == "raise":
		return raise("ValueError")
	case req.Code == "ask":
		if !req.AllowStdin {
			return raise("OSError")
		}
		for {
			v, err := hooks.Input(jupyter.InputRequest{Prompt: "? "})
			if err != nil {
				select { // the runner interrupts a kernel waiting for input it cannot give
				case <-f.interrupted:
					return raise("KeyboardInterrupt")
				case <-ctx.Done():
					return jupyter.ExecuteReply{}, ctx.Err()
				}
			}
			stream("got " + v + "\n")
		}
	case req.Code == "hang":
		select {
		case <-f.interrupted:
			return raise("KeyboardInterrupt")
		case <-ctx.Done():
			return jupyter.ExecuteReply{}, ctx.Err()
		}
	}
	return jupyter.ExecuteReply{Status: jupyter.StatusOK, ExecutionCount: n}, nil
}

func (f *fakeKernel) Interrupt(ctx context.Context) error {
	f.interrupted <- struct{}{}
	return nil
}

func (f *fakeKernel) Stop() error {
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	return nil
}

// writeNotebook writes a notebook whose code cells are given as
// {source, tags, stored stdout, metadata}.
type testCell struct {
	source string
	tags   []string
	stored string // stored stdout ("" = none)
	meta   map[string]any
}

func writeNotebook(t *testing.T, dir, name, kernel string, cells ...testCell) string {
	t.Helper()
	var list []any
	for i, c := range cells {
		meta := map[string]any{}
		for k, v := range c.meta {
			meta[k] = v
		}
		if c.tags != nil {
			meta["tags"] = c.tags
		}
		outs := []any{}
		if c.stored != "" {
			outs = append(outs, map[string]any{"output_type": "stream", "name": "stdout", "text": c.stored})
		}
		list = append(list, map[string]any{"cell_type": "code", "id": "c" + string(rune('a'+i)), "metadata": meta,
			"source": c.source, "outputs": outs, "execution_count": nil})
	}
	md := map[string]any{}
	if kernel != "" {
		md["kernelspec"] = map[string]any{"name": kernel, "display_name": kernel, "language": "python"}
	}
	data, err := json.Marshal(map[string]any{"cells": list, "metadata": md, "nbformat": 4, "nbformat_minor": 5})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runWith(t *testing.T, opts Options, paths ...string) (Summary, string, *fakeKernel) {
	t.Helper()
	k := newFakeKernel()
	var out bytes.Buffer
	opts.KernelName = "mp"
	opts.Out = &out
	opts.StartKernel = func(context.Context) (Kernel, error) { return k, nil }
	sum := Run(context.Background(), opts, paths)
	return sum, out.String(), k
}

func TestRunFailuresAndTags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := writeNotebook(t, dir, "good.ipynb", "mp",
		testCell{source: "print a"},
		testCell{source: "raise", tags: []string{TagRaisesException}},
		testCell{source: "   \n"}, // blank: not run
		testCell{source: "print b"})
	bad := writeNotebook(t, dir, "bad.ipynb", "mp",
		testCell{source: "print a"},
		testCell{source: "raise"},
		testCell{source: "print never"})
	quiet := writeNotebook(t, dir, "quiet.ipynb", "mp",
		testCell{source: "print a", tags: []string{TagRaisesException}})
	other := writeNotebook(t, dir, "other.ipynb", "python3", testCell{source: "print x"})
	none := writeNotebook(t, dir, "none.ipynb", "", testCell{source: "print x"})
	sum, out, k := runWith(t, Options{}, good, bad, quiet, other, none)
	if sum.Passed != 1 || sum.Failed != 2 || sum.Skipped != 2 || sum.OK() {
		t.Errorf("summary %+v\n%s", sum, out)
	}
	for _, want := range []string{
		"good.ipynb: passed",
		"raised ValueError",
		"bad.ipynb: failed: cell 2 raised ValueError: x",
		"[3-3/3] not run",
		"quiet.ipynb: failed: cell 1 is tagged raises-exception but raised nothing",
		"other.ipynb: skipped: its kernel is python3, not mp",
		"none.ipynb: skipped: no kernelspec in its metadata, not mp",
		"notebooks: 1 passed, 2 failed, 2 skipped\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, code := range k.ran {
		if code == "print never" || strings.TrimSpace(code) == "" {
			t.Errorf("ran %q", code)
		}
	}
}

func TestRunCheckAndOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeNotebook(t, dir, "lesson.ipynb", "mp",
		testCell{source: "print same", stored: "same\n"},
		testCell{source: "print new", stored: "old\n"},
		testCell{source: "print varies", stored: "whatever\n", tags: []string{TagOutputVaries}})
	outDir := t.TempDir()
	sum, out, _ := runWith(t, Options{Check: true, OutputDir: outDir}, path)
	if sum.Failed != 1 || sum.CellsDiff != 1 {
		t.Errorf("summary %+v\n%s", sum, out)
	}
	if !strings.Contains(out, "DIFFERS") || !strings.Contains(out, "- old") || !strings.Contains(out, "+ new") {
		t.Errorf("no diff shown:\n%s", out)
	}
	nb, err := Read(filepath.Join(outDir, "lesson.ipynb"))
	if err != nil {
		t.Fatalf("executed notebook not written: %v\n%s", err, out)
	}
	if got := strings.Join(render(nb.Cells[1].Outputs()), "|"); got != "new" {
		t.Errorf("written outputs %q", got)
	}
	if got := nb.Cells[2].fields["execution_count"]; got != json.Number("3") {
		t.Errorf("execution_count %v", got)
	}

	// In place: a failed notebook keeps its stored outputs; a passing one is updated.
	sum, out, _ = runWith(t, Options{Check: true, OutputDir: dir}, path)
	if !strings.Contains(out, "not written") || sum.OK() {
		t.Errorf("failed notebook written in place:\n%s", out)
	}
	sum, out, _ = runWith(t, Options{OutputDir: dir}, path)
	if !sum.OK() || !strings.Contains(out, "written to") {
		t.Fatalf("regenerating: %+v\n%s", sum, out)
	}
	if sum, out, _ = runWith(t, Options{Check: true}, path); !sum.OK() {
		t.Errorf("check after regenerating: %+v\n%s", sum, out)
	}
}

func TestRunInputFromMetadata(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeNotebook(t, dir, "ask.ipynb", "mp",
		testCell{source: "ask", meta: map[string]any{"webrepl": map[string]any{"input": []string{"Ada", "Bob"}}}})
	sum, out, _ := runWith(t, Options{OutputDir: dir}, path)
	if sum.OK() || !strings.Contains(out, "input() asked a 3rd time") {
		t.Errorf("exhausted answers not reported: %+v\n%s", sum, out)
	}
	nb, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	_ = nb
	noMeta := writeNotebook(t, dir, "ask2.ipynb", "mp", testCell{source: "ask", tags: []string{TagRaisesException}})
	if sum, out, _ := runWith(t, Options{}, noMeta); !sum.OK() || !strings.Contains(out, "OSError") {
		t.Errorf("input without answers: %+v\n%s", sum, out)
	}
	badMeta := writeNotebook(t, dir, "ask3.ipynb", "mp", testCell{source: "ask", meta: map[string]any{"webrepl": map[string]any{"input": "Ada"}}})
	if sum, out, _ := runWith(t, Options{}, badMeta); sum.OK() || !strings.Contains(out, "must be a list of strings") {
		t.Errorf("bad metadata: %+v\n%s", sum, out)
	}
}

func TestRunTimeoutInterrupts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeNotebook(t, dir, "hang.ipynb", "mp", testCell{source: "hang"}, testCell{source: "print after"})
	sum, out, k := runWith(t, Options{CellTimeout: 50 * time.Millisecond}, path)
	if sum.OK() || !strings.Contains(out, "TIMEOUT") || !strings.Contains(out, "was interrupted") {
		t.Errorf("timeout: %+v\n%s", sum, out)
	}
	if len(k.ran) != 1 || !k.stopped {
		t.Errorf("ran %q, stopped %v", k.ran, k.stopped)
	}
}

func TestRunStoppedByContext(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeNotebook(t, dir, "hang.ipynb", "mp", testCell{source: "hang"})
	second := writeNotebook(t, dir, "next.ipynb", "mp", testCell{source: "print x"})
	k := newFakeKernel()
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	started := make(chan struct{})
	opts := Options{KernelName: "mp", Out: &out, StartKernel: func(context.Context) (Kernel, error) {
		close(started)
		return k, nil
	}}
	go func() { <-started; cancel() }()
	sum := Run(ctx, opts, []string{path, second})
	if !sum.Stopped || sum.OK() || !strings.Contains(out.String(), "STOPPED") {
		t.Errorf("%+v\n%s", sum, out.String())
	}
	select {
	case <-k.interrupted: // the runner interrupted the cell it left
	default:
		t.Errorf("no interrupt after the run was stopped")
	}
}

func TestStartFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeNotebook(t, dir, "a.ipynb", "mp", testCell{source: "print a"})
	var out bytes.Buffer
	sum := Run(context.Background(), Options{KernelName: "mp", Out: &out, StartKernel: func(context.Context) (Kernel, error) {
		return nil, errors.New("no such kernel")
	}}, []string{path, filepath.Join(dir, "missing.ipynb")})
	if sum.Failed != 2 || !strings.Contains(out.String(), "starting the kernel: no such kernel") {
		t.Errorf("%+v\n%s", sum, out.String())
	}
}
