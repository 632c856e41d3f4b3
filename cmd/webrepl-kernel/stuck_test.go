//go:build linux

package main

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/kernel"
	"webrepl-kernel/kernelspec"
	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
)

// The kernel process against a board that prints as fast as the link
// allows and ignores Ctrl-C (issue 16 item 7): the interrupted cell ends
// at the grace with the stuck-board message, the next cell says in one
// line that the board is busy, the kernel's peak memory stays under
// issue 7's bound while the board floods for the whole test, and after
// the reset button cells run again.
func TestKernelWithABoardThatNeverStopsStaysBounded(t *testing.T) {
	t.Parallel()
	board := simtest.Start(t, sim.Options{Password: "secret", ResetAfter: time.Hour, DeafWhilePrinting: true})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	client, memory, wait := launchKernel(t, ctx, []string{"XDG_RUNTIME_DIR=" + shortRuntimeDir(t),
		kernelspec.EnvURL + "=" + board.URL(), kernelspec.EnvPassword + "=" + board.Password()})

	var shown atomic.Int64
	firstOutput := make(chan struct{})
	type result struct {
		reply jupyter.ExecuteReply
		err   error
	}
	done := make(chan result, 1)
	go func() {
		r, err := client.Execute(ctx, jupyter.ExecuteRequest{Code: "while True:\n    print('flood ' * 10)", StoreHistory: true},
			jupyter.ExecuteHooks{Output: func(m jupyter.Message) {
				if m.Type == "stream" && shown.Add(int64(len(m.Content))) == int64(len(m.Content)) {
					close(firstOutput)
				}
			}})
		done <- result{r, err}
	}()
	select {
	case <-firstOutput:
	case <-ctx.Done():
		t.Fatal("the loop printed nothing")
	}
	interrupted := time.Now()
	if err := client.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	took := time.Since(interrupted)
	if r.err != nil {
		t.Fatal(r.err)
	}
	grace := kernel.DefaultInterruptGrace
	t.Logf("cell ended %v after the interrupt (%d KB shown): %s", took.Round(time.Millisecond), shown.Load()>>10, r.reply.Evalue)
	if r.reply.Ename != "KeyboardInterrupt" || !strings.Contains(r.reply.Evalue, "did not stop within 5s of Ctrl-C") {
		t.Errorf("interrupted cell: %s %q", r.reply.Ename, r.reply.Evalue)
	}
	if took > grace+3*time.Second { // about a second after the grace, generously
		t.Errorf("the cell ended %v after the interrupt; the kernel gave up at %v", took, grace)
	}
	endedAt := shown.Load()

	for cell := 1; cell <= 2; cell++ {
		start := time.Now()
		reply, err := client.Execute(ctx, jupyter.ExecuteRequest{Code: "print('hi')", StoreHistory: true}, jupyter.ExecuteHooks{})
		if err != nil {
			t.Fatal(err)
		}
		checkPrintableLine(t, "evalue", reply.Evalue)
		if reply.Status != "error" || !strings.Contains(reply.Evalue, "still busy") || time.Since(start) > 6*time.Second {
			t.Errorf("busy cell %d: %s %q after %v", cell, reply.Status, reply.Evalue, time.Since(start))
		}
	}
	if shown.Load() != endedAt {
		t.Errorf("%d bytes more reached the ended cell", shown.Load()-endedAt)
	}

	board.PressReset()
	var out strings.Builder
	for deadline := time.Now().Add(time.Minute); ; {
		out.Reset()
		reply, err := client.Execute(ctx, jupyter.ExecuteRequest{Code: "print('back')", StoreHistory: true},
			jupyter.ExecuteHooks{Output: func(m jupyter.Message) {
				var s jupyter.Stream
				if m.Type == "stream" && m.Decode(&s) == nil {
					out.WriteString(s.Text)
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		if reply.Status == "ok" {
			break
		}
		if !strings.Contains(reply.Evalue, "still busy") || time.Now().After(deadline) {
			t.Fatalf("after the reset: %q", reply.Evalue)
		}
	}
	if !strings.Contains(out.String(), "back") {
		t.Errorf("after the reset the cell printed %q", out.String())
	}
	if err := client.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	wait()
	peak := memory.Peak(t)
	t.Logf("kernel peak RSS %.1f MB", float64(peak)/(1<<20))
	if peak >= peakMemoryLimit {
		t.Errorf("kernel peak RSS %d bytes, want < %d", peak, peakMemoryLimit)
	}
}
