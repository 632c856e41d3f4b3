package rehearsal

// Unit tests with a fake kernel and probe (the end-to-end tests, on
// simulated boards through the CLI, are in cmd/webrepl-kernel).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/notebook"
	"webrepl-kernel/webrepl"
)

// fakeKernel answers every cell with reply.
type fakeKernel struct{ reply jupyter.ExecuteReply }

func (k fakeKernel) Execute(ctx context.Context, req jupyter.ExecuteRequest, hooks jupyter.ExecuteHooks) (jupyter.ExecuteReply, error) {
	return k.reply, nil
}
func (fakeKernel) Interrupt(ctx context.Context) error { return nil }
func (fakeKernel) Stop() error                         { return nil }

func writeNotebook(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	text := `{"cells": [{"cell_type": "code", "id": "a", "metadata": {}, "source": "print(1)", "outputs": [], "execution_count": null}],
 "metadata": {"kernelspec": {"name": "micropython-webrepl"}}, "nbformat": 4, "nbformat_minor": 5}`
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A lesson that fails on the link, after which the board no longer
// answers, is the board's problem (unreachable), not the lesson's; the
// lessons after it are not run (nor is it probed again). A lesson that
// fails on a board that still answers is the lesson's.
func TestLinkFailureIsClassifiedByProbing(t *testing.T) {
	dir := t.TempDir()
	lessons := []string{writeNotebook(t, dir, "1.ipynb"), writeNotebook(t, dir, "2.ipynb"), writeNotebook(t, dir, "3.ipynb")}
	var mu sync.Mutex
	probes := map[string]int{}
	started := map[string]int{}
	opts := Options{
		Jobs:     2,
		Notebook: notebook.Options{KernelName: "micropython-webrepl"},
		StartKernel: func(url, password string) func(context.Context) (notebook.Kernel, error) {
			return func(context.Context) (notebook.Kernel, error) {
				mu.Lock()
				started[url]++
				mu.Unlock()
				return fakeKernel{jupyter.ExecuteReply{Status: jupyter.StatusError, Ename: "ConnectionError", Evalue: "link to the board lost"}}, nil
			}
		},
		Probe: func(ctx context.Context, url, password string) error {
			mu.Lock()
			defer mu.Unlock()
			probes[url]++
			if url == "ws://gone/" && probes[url] > 1 {
				return fmt.Errorf("%w: nothing accepted a connection", webrepl.ErrUnreachable)
			}
			return nil
		},
	}
	rep := Run(context.Background(), []Board{{Name: "gone", URL: "ws://gone/"}, {Name: "here", URL: "ws://here/"}}, lessons, opts)
	gone, here := rep.Boards[0].Results, rep.Boards[1].Results
	for i, o := range gone {
		if o.Status != Unreachable || !strings.Contains(o.Error, "nothing accepted a connection") {
			t.Errorf("gone, lesson %d: %+v", i+1, o)
		}
	}
	if !strings.Contains(gone[0].Error, "(during the lesson: raised ConnectionError: link to the board lost)") {
		t.Errorf("gone, lesson 1 does not say what the lesson saw: %q", gone[0].Error)
	}
	if started["ws://gone/"] != 1 || probes["ws://gone/"] != 2 {
		t.Errorf("for the gone board: %d kernels, %d probes; want 1 and 2 (nothing more once it is gone)", started["ws://gone/"], probes["ws://gone/"])
	}
	if probes["ws://here/"] != 4 {
		t.Errorf("probes of the board that stays: %d, want 4 (before the first lesson, after each failure)", probes["ws://here/"])
	}
	for i, o := range here {
		if o.Status != Failed || o.Cell != 1 || o.Ename != "ConnectionError" {
			t.Errorf("here, lesson %d: %+v", i+1, o)
		}
	}
	if rep.OK || rep.Counts[Unreachable] != 3 || rep.Counts[Failed] != 3 || rep.BoardsReady != 0 {
		t.Errorf("report: %+v", rep)
	}
}

// Jobs boards are worked on at once, never more: the first probes wait
// until Jobs of them run together.
func TestJobsBoundsConcurrency(t *testing.T) {
	dir := t.TempDir()
	lessons := []string{writeNotebook(t, dir, "1.ipynb")}
	var mu sync.Mutex
	running, most := 0, 0
	allIn := make(chan struct{})
	var release sync.Once
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := Options{
		Jobs:     3,
		Notebook: notebook.Options{KernelName: "micropython-webrepl"},
		StartKernel: func(url, password string) func(context.Context) (notebook.Kernel, error) {
			return func(context.Context) (notebook.Kernel, error) {
				return fakeKernel{jupyter.ExecuteReply{Status: jupyter.StatusOK}}, nil
			}
		},
		Probe: func(ctx context.Context, url, password string) error {
			mu.Lock()
			running++
			most = max(most, running)
			if running == 3 {
				release.Do(func() { close(allIn) })
			}
			mu.Unlock()
			defer func() { mu.Lock(); running--; mu.Unlock() }()
			select {
			case <-allIn:
				return nil
			case <-ctx.Done():
				return fmt.Errorf("%w: never 3 boards at once", webrepl.ErrUnreachable)
			}
		},
	}
	var boards []Board
	for i := range 12 {
		boards = append(boards, Board{Name: fmt.Sprint(i), URL: fmt.Sprintf("ws://b%d/", i)})
	}
	rep := Run(ctx, boards, lessons, opts)
	if !rep.OK || rep.Counts[OK] != 12 || rep.BoardsReady != 12 || most > 3 {
		t.Errorf("OK %v, counts %v, ready %d, most at once %d (want ≤ 3)", rep.OK, rep.Counts, rep.BoardsReady, most)
	}
}
