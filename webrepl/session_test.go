package webrepl

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func dialFake(t *testing.T, f *fakeBoard, opts Options) *Session {
	t.Helper()
	if opts.Password == "" {
		opts.Password = f.password
	}
	opts.Logf = t.Logf
	s, err := Dial(testCtx(t), f.URL(), opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func execString(t *testing.T, s *Session, code string) (string, *Result) {
	t.Helper()
	var out bytes.Buffer
	res, err := s.Exec(testCtx(t), []byte(code), &out)
	if err != nil {
		t.Fatalf("Exec(%.40q): %v", code, err)
	}
	return out.String(), res
}

func TestDialReachesRawREPLFromAnyState(t *testing.T) {
	for _, start := range []struct {
		name string
		set  func(f *fakeBoard)
	}{
		{"friendly", func(f *fakeBoard) {}},
		{"half-typed line", func(f *fakeBoard) { f.line = []byte("print('unfinish") }},
		{"friendly paste mode", func(f *fakeBoard) { f.mode = "paste" }},
		{"raw with junk", func(f *fakeBoard) { f.mode = "raw"; f.line = []byte("junk junk") }},
		{"main.py running", func(f *fakeBoard) { f.mode = "running" }},
	} {
		t.Run(start.name, func(t *testing.T) {
			f := newFakeBoard(t)
			f.set(start.set)
			s := dialFake(t, f, Options{})
			if got := s.Firmware().String(); got != "1.27.0" {
				t.Errorf("Firmware = %s, want 1.27.0", got)
			}
			out, res := execString(t, s, "out hello")
			if out != "hello\n" || res.Exception != nil {
				t.Errorf("got %q, %+v; want \"hello\\n\" and no exception", out, res.Exception)
			}
		})
	}
}

// TestDialErrors checks that Dial and DialConsole, which share the dial and
// the login, fail with the same error values.
func TestDialErrors(t *testing.T) {
	ctx := testCtx(t)
	dialers := []struct {
		name string
		dial func(ctx context.Context, url string, opts Options) (any, error)
	}{
		{"Dial", func(ctx context.Context, url string, opts Options) (any, error) { return Dial(ctx, url, opts) }},
		{"DialConsole", func(ctx context.Context, url string, opts Options) (any, error) { return DialConsole(ctx, url, opts) }},
	}
	for _, d := range dialers {
		dial := d.dial
		t.Run(d.name, func(t *testing.T) {
			t.Run("wrong password", func(t *testing.T) {
				f := newFakeBoard(t)
				_, err := dial(ctx, f.URL(), Options{Password: "nope"})
				if !errors.Is(err, ErrWrongPassword) {
					t.Fatalf("err = %v, want ErrWrongPassword", err)
				}
				assertOneLine(t, err)
			})
			t.Run("busy", func(t *testing.T) {
				f := newFakeBoard(t)
				dialFake(t, f, Options{})
				_, err := dial(ctx, f.URL(), Options{Password: f.password})
				if !errors.Is(err, ErrBusy) {
					t.Fatalf("err = %v, want ErrBusy", err)
				}
				assertOneLine(t, err)
			})
			t.Run("html page", func(t *testing.T) {
				f := newFakeBoard(t)
				f.set(func(f *fakeBoard) { f.html = true })
				_, err := dial(ctx, f.URL(), Options{Password: f.password})
				if !errors.Is(err, ErrNotWebREPL) {
					t.Fatalf("err = %v, want ErrNotWebREPL", err)
				}
				assertOneLine(t, err)
			})
			t.Run("nothing listening", func(t *testing.T) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr := ln.Addr().String()
				ln.Close()
				_, err = dial(ctx, addr, Options{Password: "x"})
				if !errors.Is(err, ErrUnreachable) {
					t.Fatalf("err = %v, want ErrUnreachable", err)
				}
				assertOneLine(t, err)
			})
			t.Run("no password prompt", func(t *testing.T) {
				f := newFakeBoard(t)
				f.set(func(f *fakeBoard) { f.mute = true })
				_, err := dial(ctx, f.URL(), Options{Password: f.password})
				var te *TimeoutError
				if !errors.As(err, &te) || !strings.Contains(te.Step, "Password: prompt") {
					t.Fatalf("err = %v, want a TimeoutError naming the Password: prompt", err)
				}
				var tv TimeoutError
				if !errors.As(err, &tv) || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("a TimeoutError must also match a value target and context.DeadlineExceeded")
				}
				assertOneLine(t, err)
			})
		})
	}
}

func assertOneLine(t *testing.T, err error) {
	t.Helper()
	if msg := err.Error(); strings.Contains(msg, "\n") || msg == "" {
		t.Errorf("error %q is not one line", msg)
	}
}

// firstWriteSignal is a writer that reports its first write.
type firstWriteSignal struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	first chan struct{}
}

func (w *firstWriteSignal) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() == 0 && len(p) > 0 {
		close(w.first)
	}
	return w.buf.Write(p)
}

func TestExecStreamsAndInterrupts(t *testing.T) {
	f := newFakeBoard(t)
	s := dialFake(t, f, Options{})
	w := &firstWriteSignal{first: make(chan struct{})}
	type result struct {
		res *Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := s.Exec(testCtx(t), []byte("out early\nwait"), w)
		done <- result{res, err}
	}()
	select {
	case <-w.first: // output arrived while the program still runs
	case r := <-done:
		t.Fatalf("Exec returned before streaming anything: %+v", r)
	}
	if err := s.Interrupt(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if w.buf.String() != "early\n" {
		t.Errorf("stdout = %q", w.buf.String())
	}
	if e := r.res.Exception; e == nil || e.Type != "KeyboardInterrupt" || e.Message != "" {
		t.Fatalf("exception = %+v, want KeyboardInterrupt", e)
	}
	if out, _ := execString(t, s, "out again"); out != "again\n" {
		t.Errorf("after the interrupt: %q", out)
	}
}

// TestExecInterruptibleResendsCtrlCUntilTheBoardStops: a program that shrugs
// off the first two Ctrl-Cs still ends with a KeyboardInterrupt Result, its
// output intact, and the session stays usable.
func TestExecInterruptibleResendsCtrlCUntilTheBoardStops(t *testing.T) {
	f := newFakeBoard(t)
	s := dialFake(t, f, Options{})
	w := &firstWriteSignal{first: make(chan struct{})}
	userCtx, pressCtrlC := context.WithCancel(testCtx(t))
	defer pressCtrlC()
	type result struct {
		res *Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := s.ExecInterruptible(userCtx, []byte("out started\ndeaf 2"), w, time.Minute)
		done <- result{res, err}
	}()
	select {
	case <-w.first:
	case r := <-done:
		t.Fatalf("returned before the program printed anything: %+v", r)
	}
	pressCtrlC()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if e := r.res.Exception; e == nil || e.Type != "KeyboardInterrupt" {
		t.Fatalf("exception = %+v, want KeyboardInterrupt", e)
	}
	w.mu.Lock()
	out := w.buf.String()
	w.mu.Unlock()
	if out != "started\nignored\nignored\n" {
		t.Errorf("stdout = %q, want the start line and two ignored Ctrl-Cs", out)
	}
	if out, _ := execString(t, s, "out again"); out != "again\n" {
		t.Errorf("after the interrupt: %q", out)
	}
}

// TestExecInterruptibleGivesUpAfterGrace: a board that is still running when
// the grace period ends makes ExecInterruptible abandon the run with an error
// that says so; the session stays usable.
func TestExecInterruptibleGivesUpAfterGrace(t *testing.T) {
	f := newFakeBoard(t)
	s := dialFake(t, f, Options{})
	w := &firstWriteSignal{first: make(chan struct{})}
	userCtx, pressCtrlC := context.WithCancel(testCtx(t))
	defer pressCtrlC()
	done := make(chan error, 1)
	go func() {
		_, err := s.ExecInterruptible(userCtx, []byte("out started\ndeaf 1"), w, time.Millisecond)
		done <- err
	}()
	<-w.first
	pressCtrlC()
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "did not stop") || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want one saying the board did not stop, wrapping context.Canceled", err)
	}
	assertOneLine(t, err)
	if out, _ := execString(t, s, "out again"); out != "again\n" {
		t.Errorf("after giving up: %q", out)
	}

	// A ctx that has already ended runs nothing.
	var out bytes.Buffer
	if _, err := s.ExecInterruptible(userCtx, []byte("out never"), &out, time.Minute); !errors.Is(err, context.Canceled) || out.Len() != 0 {
		t.Errorf("with an ended ctx: error %v, output %q; want context.Canceled and nothing run", err, out.String())
	}
}

func TestExecException(t *testing.T) {
	f := newFakeBoard(t)
	s := dialFake(t, f, Options{})
	out, res := execString(t, s, "out x\nraise ValueError bad thing")
	if out != "x\n" {
		t.Errorf("stdout = %q", out)
	}
	e := res.Exception
	if e == nil || e.Type != "ValueError" || e.Message != "bad thing" ||
		len(e.Frames) != 1 || e.Frames[0] != (Frame{"<stdin>", 1, "<module>"}) {
		t.Fatalf("exception = %+v", e)
	}
	if strings.Contains(e.Text, "\r") {
		t.Errorf("Text keeps CR: %q", e.Text)
	}
}

// fakeProgram is a program the fake answers with its length and hash.
func fakeProgram(n int) string {
	var b strings.Builder
	b.WriteString("#data")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "\n# line %d %s", i, strings.Repeat("é", i%7))
	}
	return b.String()[:max(n, 5)]
}

func fakeAnswer(code string) string {
	sum := sha256.Sum256([]byte(code))
	return fmt.Sprintf("len=%d sha=%x\n", len(code), sum[:4])
}

func TestRawPasteFlowControl(t *testing.T) {
	// Default: at most 2W−1 outstanding, and the client does use all of it.
	f := testRawPasteFlowControl(t, Options{Pacing: PacingRawPaste})
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.maxExcess != -1 {
		t.Errorf("most bytes beyond the credit = %d, want -1 (the client should use 2W-1)", f.maxExcess)
	}
}

func TestRawPasteFullWindow(t *testing.T) {
	// Opt-in for boards with a ring of at least 2W bytes: up to 2W.
	f := testRawPasteFlowControl(t, Options{Pacing: PacingRawPaste, FullRawPasteWindow: true})
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.maxExcess != 0 {
		t.Errorf("most bytes beyond the credit = %d, want 0 (the client should use all 2W)", f.maxExcess)
	}
}

// testRawPasteFlowControl sends programs of many sizes and checks that no
// byte went beyond the credit the options allow (2W−1, or 2W when full).
func testRawPasteFlowControl(t *testing.T, opts Options) *fakeBoard {
	f := newFakeBoard(t)
	f.fullWindow = opts.FullRawPasteWindow
	s := dialFake(t, f, opts)
	for _, n := range []int{5, 126, 127, 128, 129, 254, 255, 256, 257, 383, 384, 1000, 5000} {
		code := fakeProgram(n)
		out, res := execString(t, s, code)
		if want := fakeAnswer(code); out != want {
			t.Errorf("%d bytes: got %q, want %q", n, out, want)
		}
		if res.Pacing != PacingRawPaste {
			t.Errorf("%d bytes sent %v", n, res.Pacing)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.violations) > 0 {
		t.Errorf("bytes sent beyond the raw-paste credit: %v", f.violations)
	}
	return f
}

func TestPacedChunks(t *testing.T) {
	f := newFakeBoard(t)
	s := dialFake(t, f, Options{Pacing: PacingPaced, ChunkSize: 50, ChunkGap: time.Millisecond})
	code := fakeProgram(777)
	out, res := execString(t, s, code)
	if want := fakeAnswer(code); out != want {
		t.Errorf("got %q, want %q", out, want)
	}
	if res.Pacing != PacingPaced {
		t.Errorf("sent %v", res.Pacing)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.maxFrame == 0 || f.maxFrame > 50 {
		t.Errorf("largest program frame %d bytes, want 1..50", f.maxFrame)
	}
}

func TestAutoFallsBackWithoutRawPaste(t *testing.T) {
	f := newFakeBoard(t)
	f.set(func(f *fakeBoard) { f.rawPaste = false })
	s := dialFake(t, f, Options{ChunkGap: time.Millisecond})
	code := fakeProgram(600)
	out, res := execString(t, s, code)
	if want := fakeAnswer(code); out != want || res.Pacing != PacingPaced {
		t.Errorf("got %q via %v, want %q via paced", out, res.Pacing, want)
	}
	forced := dialFakeAgain(t, f, s, Options{Pacing: PacingRawPaste})
	if _, err := forced.Exec(testCtx(t), []byte("out x"), nil); !errors.Is(err, ErrRawPasteUnsupported) {
		t.Errorf("forced raw-paste: err = %v, want ErrRawPasteUnsupported", err)
	}
}

// dialFakeAgain closes s and dials again with other options.
func dialFakeAgain(t *testing.T, f *fakeBoard, s *Session, opts Options) *Session {
	t.Helper()
	s.Close()
	opts.Password = f.password
	return dialRetryBusy(t, f.URL(), opts)
}

func TestRawPasteEarlyEnd(t *testing.T) {
	f := newFakeBoard(t)
	s := dialFake(t, f, Options{})
	code := "x = = 1\n" + strings.Repeat("# filler\n", 60)
	_, res := execString(t, s, code)
	if e := res.Exception; e == nil || e.Type != "SyntaxError" || len(e.Frames) != 1 || e.Frames[0].Function != "" {
		t.Fatalf("exception = %+v, want a SyntaxError with one frame", e)
	}
	if out, _ := execString(t, s, "out next"); out != "next\n" {
		t.Errorf("after the early end: %q", out)
	}
}

func TestInterruptWhileSending(t *testing.T) {
	f := newFakeBoard(t)
	s := dialFake(t, f, Options{Pacing: PacingPaced, ChunkSize: 20, ChunkGap: 50 * time.Millisecond})
	done := make(chan error, 1)
	var res *Result
	go func() {
		var err error
		res, err = s.Exec(testCtx(t), []byte(fakeProgram(2000)), nil)
		done <- err
	}()
	deadline := time.Now().Add(time.Minute)
	for execPhase(s.phase.Load()) != phaseSending {
		if time.Now().After(deadline) {
			t.Fatal("Exec never started sending")
		}
		runtime.Gosched()
	}
	if err := s.Interrupt(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.Exception == nil || res.Exception.Type != "KeyboardInterrupt" {
		t.Fatalf("exception = %+v, want KeyboardInterrupt", res.Exception)
	}
	if out, _ := execString(t, s, "out clean"); out != "clean\n" {
		t.Errorf("next program: %q (the interrupted one must not run)", out)
	}
}

func TestProgramEndings(t *testing.T) {
	f := newFakeBoard(t)
	s := dialFake(t, f, Options{})
	execString(t, s, "set k=1")

	_, err := s.Exec(testCtx(t), []byte("out bye\nexit"), nil)
	if !errors.Is(err, ErrProgramExited) || !s.RAMLost() {
		t.Fatalf("sys.exit: err = %v, RAMLost %v", err, s.RAMLost())
	}
	assertOneLine(t, err)

	_, err = s.Exec(testCtx(t), []byte("out a\nreset"), nil)
	if !errors.Is(err, ErrBoardReset) || !s.RAMLost() {
		t.Fatalf("machine.reset: err = %v, RAMLost %v", err, s.RAMLost())
	}
	assertOneLine(t, err)

	_, err = s.Exec(testCtx(t), []byte("out a\ndrop"), nil)
	if !errors.Is(err, ErrLinkLost) || errors.Is(err, ErrBoardReset) || s.RAMLost() {
		t.Fatalf("link drop: err = %v, RAMLost %v", err, s.RAMLost())
	}
	assertOneLine(t, err)

	if out, _ := execString(t, s, "out alive"); out != "alive\n" {
		t.Errorf("after the endings: %q", out)
	}
}

func TestResets(t *testing.T) {
	f := newFakeBoard(t)
	var reconnects []bool
	var mu sync.Mutex
	s := dialFake(t, f, Options{OnReconnect: func(lost bool) {
		mu.Lock()
		reconnects = append(reconnects, lost)
		mu.Unlock()
	}})
	if err := s.SoftReset(testCtx(t)); err != nil {
		t.Fatalf("SoftReset: %v", err)
	}
	if err := s.HardReset(testCtx(t)); err != nil {
		t.Fatalf("HardReset: %v", err)
	}
	if err := s.Reconnect(testCtx(t)); err != nil || s.RAMLost() {
		t.Fatalf("Reconnect without reset: %v, RAMLost %v", err, s.RAMLost())
	}
	f.mu.Lock()
	soft, hard := f.soft, f.hard
	f.mu.Unlock()
	if soft != 1 || hard != 1 {
		t.Errorf("board saw %d soft and %d hard resets, want 1 and 1", soft, hard)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(reconnects) != "[true true false]" {
		t.Errorf("OnReconnect saw %v, want [true true false]", reconnects)
	}
}

func TestFilesOverFake(t *testing.T) {
	f := newFakeBoard(t)
	s := dialFake(t, f, Options{})
	ctx := testCtx(t)
	data := bytes.Repeat([]byte{0, 1, 2, 0xff, 'x'}, 1000)
	var calls int
	var last [2]int
	err := s.Put(ctx, "data.bin", data, func(done, total int) { calls++; last = [2]int{done, total} })
	if err != nil {
		t.Fatal(err)
	}
	if last != [2]int{len(data), len(data)} || calls < 2 {
		t.Errorf("progress: %d calls, last %v", calls, last)
	}
	got, err := s.Get(ctx, "data.bin", nil)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get: %v, %d bytes (want %d)", err, len(got), len(data))
	}
	if _, err := s.Get(ctx, "missing.bin", nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get missing: %v, want fs.ErrNotExist", err)
	}
	f.set(func(f *fakeBoard) { f.corruptPut = true })
	if err := s.Put(ctx, "bad.bin", data, nil); !errors.Is(err, ErrVerifyFailed) {
		t.Errorf("corrupted put: %v, want ErrVerifyFailed", err)
	}
	before := s.Stats().BytesSent
	name := strings.Repeat("n", 64)
	if err := s.Put(ctx, name, data, nil); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("64-byte name: %v, want ErrNameTooLong", err)
	}
	if _, err := s.Get(ctx, name, nil); !errors.Is(err, ErrNameTooLong) {
		t.Errorf("64-byte name: %v, want ErrNameTooLong", err)
	}
	if after := s.Stats().BytesSent; after != before {
		t.Errorf("%d bytes sent for a refused name", after-before)
	}
}

func TestUTF8SplitAcrossFrames(t *testing.T) {
	f := newFakeBoard(t)
	s := dialFake(t, f, Options{})
	var text bytes.Buffer
	tw := NewUTF8Writer(&text)
	var raw bytes.Buffer
	// "€" is e2 82 ac; the board sends it in two frames, then a bare \r\n.
	res, err := s.Exec(testCtx(t), []byte("raw e282\nraw ac0d0a\nraw ff"), multiWriter{&raw, tw})
	if err != nil || res.Exception != nil {
		t.Fatal(err, res)
	}
	tw.Flush()
	if raw.String() != "€\n\xff" {
		t.Errorf("bytes = %q", raw.String())
	}
	if text.String() != "€\n\uFFFD" {
		t.Errorf("text = %q", text.String())
	}
}

type multiWriter []interface{ Write([]byte) (int, error) }

func (m multiWriter) Write(p []byte) (int, error) {
	for _, w := range m {
		if _, err := w.Write(p); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func TestCloseLeavesNoGoroutine(t *testing.T) {
	f := newFakeBoard(t)
	s := dialFake(t, f, Options{KeepAlive: 20 * time.Millisecond})
	execString(t, s, "out x")
	s.Close()
	if _, err := s.Exec(testCtx(t), []byte("out x"), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Exec after Close: %v, want ErrClosed", err)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if strings.Contains(stacks, "webrepl.(*link)") {
		t.Errorf("a link goroutine outlived Close:\n%s", stacks)
	}
	// The board takes the next client (once it has noticed the close).
	dialRetryBusy(t, f.URL(), Options{Password: f.password})
}

func TestKeepAliveIsAnEmptyTextFrame(t *testing.T) {
	f := newFakeBoard(t)
	s := dialFake(t, f, Options{KeepAlive: 10 * time.Millisecond})
	before := s.Stats()
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().FramesSent == before.FramesSent && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	after := s.Stats()
	if after.FramesSent == before.FramesSent || after.BytesSent != before.BytesSent {
		t.Fatalf("keep-alive: frames %d→%d, bytes %d→%d; want more frames, same bytes",
			before.FramesSent, after.FramesSent, before.BytesSent, after.BytesSent)
	}
	if out, _ := execString(t, s, "out ok"); out != "ok\n" {
		t.Errorf("after keep-alives: %q", out)
	}
}

func TestSendInputOnlyWhileRunning(t *testing.T) {
	f := newFakeBoard(t)
	s := dialFake(t, f, Options{})
	if err := s.SendInput([]byte("x\r")); err == nil {
		t.Error("SendInput with no program running was accepted")
	}
	if out, _ := execString(t, s, "out ok"); out != "ok\n" {
		t.Errorf("after a refused input: %q", out)
	}
}

func TestRefusesControlBytes(t *testing.T) {
	f := newFakeBoard(t)
	s := dialFake(t, f, Options{})
	if _, err := s.Exec(testCtx(t), []byte("print('\x04')"), nil); err == nil || !strings.Contains(err.Error(), "0x04") {
		t.Errorf("err = %v, want a refusal naming 0x04", err)
	}
}

// dialRetryBusy dials until the board has let go of the previous client.
func dialRetryBusy(t *testing.T, url string, opts Options) *Session {
	t.Helper()
	opts.Logf = t.Logf
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, err := Dial(testCtx(t), url, opts)
		if err == nil {
			t.Cleanup(func() { s.Close() })
			return s
		}
		if !errors.Is(err, ErrBusy) || time.Now().After(deadline) {
			t.Fatalf("Dial: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
