package webrepl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startBoard boots a simulated board for one test; the drain period is
// short unless the test sets one (the loss rule is the same, §5).
func startBoard(t *testing.T, opts sim.Options) *sim.Board {
	t.Helper()
	if opts.DrainPeriod == 0 {
		opts.DrainPeriod = 5 * time.Millisecond
	}
	return simtest.Start(t, opts)
}

// dialBoard logs in to b, waiting until it serves, and closes the session
// when the test ends.
func dialBoard(t *testing.T, b *sim.Board, opts Options) *Session {
	t.Helper()
	if opts.Password == "" {
		opts.Password = b.Password()
	}
	if testing.Verbose() {
		opts.Logf = t.Logf
	}
	s := simtest.UntilServed(t, func(ctx context.Context) (*Session, error) {
		s, err := Dial(ctx, b.URL(), opts)
		if err != nil && !errors.Is(err, ErrBusy) && !errors.Is(err, ErrUnreachable) {
			t.Fatalf("Dial: %v", err)
		}
		return s, err
	})
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

// TestDialErrors checks that Dial and DialConsole, which share the dial and
// the login, fail with the same error values against the same bad peers.
func TestDialErrors(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	good := startBoard(t, sim.Options{Profile: "ideal"})
	html := simtest.StartFault(t, sim.FaultHTML)
	mute := simtest.StartFault(t, sim.FaultNoPrompt)
	dialers := []struct {
		name string
		dial func(ctx context.Context, url string, opts Options) (io.Closer, error)
	}{
		{"Dial", func(ctx context.Context, url string, opts Options) (io.Closer, error) { return Dial(ctx, url, opts) }},
		{"DialConsole", func(ctx context.Context, url string, opts Options) (io.Closer, error) {
			return DialConsole(ctx, url, opts)
		}},
	}
	for _, d := range dialers {
		dial := d.dial
		t.Run(d.name, func(t *testing.T) {
			t.Run("wrong password", func(t *testing.T) {
				_, err := dial(ctx, good.URL(), Options{Password: "nope"})
				if !errors.Is(err, ErrWrongPassword) {
					t.Fatalf("err = %v, want ErrWrongPassword", err)
				}
				assertOneLine(t, err)
			})
			t.Run("busy", func(t *testing.T) {
				first := dialBoard(t, good, Options{})
				_, err := dial(ctx, good.URL(), Options{Password: good.Password()})
				if !errors.Is(err, ErrBusy) {
					t.Fatalf("err = %v, want ErrBusy", err)
				}
				assertOneLine(t, err)
				first.Close()
			})
			t.Run("html page", func(t *testing.T) {
				_, err := dial(ctx, html.URL(), Options{Password: html.Password()})
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
				_, err := dial(ctx, mute.URL(), Options{Password: mute.Password()})
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

// TestDialToBadPeers: a peer that never answers the handshake, and one
// that logs in but whose REPL never answers, end in a TimeoutError naming
// the step; garbage frames end in a clear error; none hangs.
func TestDialToBadPeers(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		fault sim.Fault
		check func(t *testing.T, err error)
	}{
		{sim.FaultSilent, func(t *testing.T, err error) {
			var te *TimeoutError
			if !errors.As(err, &te) || !strings.Contains(te.Step, "connecting") {
				t.Errorf("err = %v, want a TimeoutError for the connection step", err)
			}
		}},
		{sim.FaultMuteREPL, func(t *testing.T, err error) {
			var te *TimeoutError
			if !errors.As(err, &te) {
				t.Errorf("err = %v, want a TimeoutError", err)
			}
		}},
		{sim.FaultGarbageFrames, func(t *testing.T, err error) {
			if err == nil {
				t.Error("logged in to a peer that sends garbage")
			}
		}},
	} {
		t.Run(string(c.fault), func(t *testing.T) {
			t.Parallel()
			b := simtest.StartFault(t, c.fault)
			s, err := Dial(testCtx(t), b.URL(), Options{Password: b.Password()})
			if err == nil {
				s.Close()
			}
			c.check(t, err)
			if err != nil {
				assertOneLine(t, err)
			}
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

func (w *firstWriteSignal) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitLoop is a program that prints its first line, then runs until a
// Ctrl-C; it catches the first ignore of them, printing "ignored".
func waitLoop(first string, ignore int) string {
	return fmt.Sprintf("import time\nprint(%q)\nn = 0\nwhile True:\n try:\n  while True:\n   time.sleep(0.01)\n except KeyboardInterrupt:\n  if n == %d:\n   raise\n  n += 1\n  print('ignored')\n", first, ignore)
}

func TestExecStreamsAndInterrupts(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{})
	s := dialBoard(t, b, Options{})
	w := &firstWriteSignal{first: make(chan struct{})}
	type result struct {
		res *Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := s.Exec(testCtx(t), []byte(waitLoop("early", 0)), w)
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
	if w.String() != "early\n" {
		t.Errorf("stdout = %q", w.String())
	}
	if e := r.res.Exception; e == nil || e.Type != "KeyboardInterrupt" || e.Message != "" {
		t.Fatalf("exception = %+v, want KeyboardInterrupt", e)
	}
	if out, _ := execString(t, s, "print('again')"); out != "again\n" {
		t.Errorf("after the interrupt: %q", out)
	}
}

// TestExecInterruptibleResendsCtrlCUntilTheBoardStops: a program that shrugs
// off the first two Ctrl-Cs still ends with a KeyboardInterrupt Result, its
// output intact, and the session stays usable.
func TestExecInterruptibleResendsCtrlCUntilTheBoardStops(t *testing.T) {
	t.Parallel()
	// The board must not press its own reset while the client keeps trying.
	b := startBoard(t, sim.Options{ResetAfter: time.Minute})
	s := dialBoard(t, b, Options{})
	w := &firstWriteSignal{first: make(chan struct{})}
	userCtx, pressCtrlC := context.WithCancel(testCtx(t))
	defer pressCtrlC()
	type result struct {
		res *Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := s.ExecInterruptible(userCtx, []byte(waitLoop("started", 2)), w, time.Minute)
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
	if out := w.String(); out != "started\nignored\nignored\n" {
		t.Errorf("stdout = %q, want the start line and two ignored Ctrl-Cs", out)
	}
	if out, _ := execString(t, s, "print('again')"); out != "again\n" {
		t.Errorf("after the interrupt: %q", out)
	}
}

// TestExecInterruptibleGivesUpAfterGrace: a board that is still running when
// the grace period ends makes ExecInterruptible abandon the run with an error
// that says so; the session stays usable.
func TestExecInterruptibleGivesUpAfterGrace(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{ResetAfter: time.Minute})
	s := dialBoard(t, b, Options{})
	w := &firstWriteSignal{first: make(chan struct{})}
	userCtx, pressCtrlC := context.WithCancel(testCtx(t))
	defer pressCtrlC()
	done := make(chan error, 1)
	go func() {
		_, err := s.ExecInterruptible(userCtx, []byte(waitLoop("started", 1)), w, time.Millisecond)
		done <- err
	}()
	<-w.first
	pressCtrlC()
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "did not stop") || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want one saying the board did not stop, wrapping context.Canceled", err)
	}
	assertOneLine(t, err)
	if out, _ := execString(t, s, "print('again')"); out != "again\n" {
		t.Errorf("after giving up: %q", out)
	}

	// A ctx that has already ended runs nothing.
	var out bytes.Buffer
	if _, err := s.ExecInterruptible(userCtx, []byte("print('never')"), &out, time.Minute); !errors.Is(err, context.Canceled) || out.Len() != 0 {
		t.Errorf("with an ended ctx: error %v, output %q; want context.Canceled and nothing run", err, out.String())
	}
}

func TestExecException(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{})
	s := dialBoard(t, b, Options{})
	out, res := execString(t, s, "print('x')\nraise ValueError('bad thing')")
	if out != "x\n" {
		t.Errorf("stdout = %q", out)
	}
	e := res.Exception
	if e == nil || e.Type != "ValueError" || e.Message != "bad thing" ||
		len(e.Frames) != 1 || e.Frames[0] != (Frame{"<stdin>", 2, "<module>"}) {
		t.Fatalf("exception = %+v", e)
	}
	if strings.Contains(e.Text, "\r") {
		t.Errorf("Text keeps CR: %q", e.Text)
	}
}

func TestRawPasteFlowControl(t *testing.T) {
	t.Parallel()
	// Safe window: at most 2W−1 outstanding, and the client does use all of it.
	b := testRawPasteFlowControl(t, Options{Pacing: PacingRawPaste, Window: WindowSafe})
	if most, n := b.RawPasteCredit(); most != -1 || n == 0 {
		t.Errorf("most bytes beyond the credit = %d over %d uploads, want -1 (the client should use 2W-1)", most, n)
	}
}

func TestRawPasteFullWindow(t *testing.T) {
	t.Parallel()
	// Boards with a ring of at least 2W bytes: up to 2W. The simulated
	// ESP32 reports MicroPython 1.27, so auto picks it by itself.
	b := testRawPasteFlowControl(t, Options{Pacing: PacingRawPaste})
	if most, n := b.RawPasteCredit(); most != 0 || n == 0 {
		t.Errorf("most bytes beyond the credit = %d over %d uploads, want 0 (the client should use all 2W)", most, n)
	}
}

// testRawPasteFlowControl sends programs of many sizes to a board that
// drains its socket only now and then (ESP32) and checks each ran exactly
// and no byte went beyond the credit the options allow (2W−1, or 2W when
// full: RawPasteCredit at most 0).
func testRawPasteFlowControl(t *testing.T, opts Options) *sim.Board {
	b := startBoard(t, sim.Options{Profile: "esp32", DrainPeriod: 20 * time.Millisecond})
	s := dialBoard(t, b, opts)
	for _, n := range []int{12, 126, 127, 128, 129, 254, 255, 256, 257, 383, 384, 1000, 5000} {
		code, want := sizedCode(n)
		out, res := execString(t, s, code)
		if out != want || res.Exception != nil {
			t.Errorf("%d bytes: got %q (%+v), want %q", n, out, res.Exception, want)
		}
		if res.Pacing != PacingRawPaste {
			t.Errorf("%d bytes sent %v", n, res.Pacing)
		}
		if most, _ := b.RawPasteCredit(); most > 0 {
			t.Fatalf("%d bytes: the client sent %d bytes beyond the raw-paste credit", n, most)
		}
	}
	if d := b.DroppedBytes(); d != 0 {
		t.Errorf("the board dropped %d input bytes", d)
	}
	return b
}

// sizedCode is a valid program of exactly n bytes (n ≥ 12): comment lines
// with non-ASCII text, then a statement that prints the program's length
// as the host computed it, so that a lost or extra byte in the comments
// (which could swallow the statement) shows.
func sizedCode(n int) (code, want string) {
	tail := fmt.Sprintf("print(%d)", n)
	var b strings.Builder
	for i := 0; ; i++ {
		line := fmt.Sprintf("# %d %s\n", i, strings.Repeat("é", i%7))
		if b.Len()+len(line)+len(tail) > n {
			break
		}
		b.WriteString(line)
	}
	if pad := n - len(tail) - b.Len(); pad > 0 {
		if b.Len() > 0 {
			// Lengthen the last comment line.
			s := b.String()
			b.Reset()
			b.WriteString(s[:len(s)-1] + strings.Repeat("#", pad) + "\n")
		} else {
			b.WriteString(strings.Repeat("#", pad-1) + "\n")
		}
	}
	return b.String() + tail, fmt.Sprintf("%d\n", n)
}

func TestPacedChunks(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal"})
	s := dialBoard(t, b, Options{Pacing: PacingPaced, ChunkSize: 50, ChunkGap: time.Millisecond})
	code, want := sizedCode(777)
	out, res := execString(t, s, code)
	if out != want {
		t.Errorf("got %q, want %q", out, want)
	}
	if res.Pacing != PacingPaced {
		t.Errorf("sent %v", res.Pacing)
	}
	if st := b.TextFrames(); st.Largest == 0 || st.Largest > 50 {
		t.Errorf("largest text frame %d bytes, want 1..50", st.Largest)
	}
}

func TestAutoFallsBackWithoutRawPaste(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal", NoRawPaste: true})
	s := dialBoard(t, b, Options{ChunkGap: time.Millisecond})
	code, want := sizedCode(600)
	out, res := execString(t, s, code)
	if out != want || res.Pacing != PacingPaced {
		t.Errorf("got %q via %v, want %q via paced", out, res.Pacing, want)
	}
	s.Close()
	forced := dialBoard(t, b, Options{Pacing: PacingRawPaste})
	if _, err := forced.Exec(testCtx(t), []byte("print(1)"), nil); !errors.Is(err, ErrRawPasteUnsupported) {
		t.Errorf("forced raw-paste: err = %v, want ErrRawPasteUnsupported", err)
	}
}

func TestInterruptWhileSending(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal"})
	s := dialBoard(t, b, Options{Pacing: PacingPaced, ChunkSize: 20, ChunkGap: 50 * time.Millisecond})
	done := make(chan error, 1)
	var res *Result
	code, _ := sizedCode(2000)
	go func() {
		var err error
		res, err = s.Exec(testCtx(t), []byte(code), nil)
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
	if out, r := execString(t, s, "print('clean')"); out != "clean\n" {
		t.Errorf("next program: %q, %+v (the interrupted one must not run)", out, r.Exception)
	}
}

func TestFilesOnFaultyBoard(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal"})
	s := dialBoard(t, b, Options{})
	ctx := testCtx(t)
	data := bytes.Repeat([]byte{0, 1, 2, 0xff, 'x'}, 1000)
	var calls int
	var last [2]int
	if err := s.Put(ctx, "data.bin", data, func(done, total int) { calls++; last = [2]int{done, total} }); err != nil {
		t.Fatal(err)
	}
	if last != [2]int{len(data), len(data)} || calls < 2 {
		t.Errorf("progress: %d calls, last %v", calls, last)
	}
	setFault := func(f sim.Fault) {
		t.Helper()
		if err := b.SetFault(f); err != nil {
			t.Fatal(err)
		}
	}
	setFault(sim.FaultCorruptPut)
	if err := s.Put(ctx, "bad.bin", data, nil); !errors.Is(err, ErrVerifyFailed) {
		t.Errorf("corrupted put: %v, want ErrVerifyFailed", err)
	} else {
		assertOneLine(t, err)
	}
	setFault(sim.FaultPutStatus)
	if err := s.Put(ctx, "status.bin", data, nil); err == nil {
		t.Error("a put the board reported failed was taken as done")
	} else {
		assertOneLine(t, err)
	}
	setFault(sim.FaultGetStatus)
	if _, err := s.Get(ctx, "data.bin", nil); err == nil {
		t.Error("a get the board refused returned data")
	} else {
		assertOneLine(t, err)
	}
	setFault(sim.FaultCorruptGet)
	if got, err := s.Get(ctx, "data.bin", nil); !errors.Is(err, ErrGetCorrupt) {
		t.Errorf("corrupted get: %v (%d bytes), want ErrGetCorrupt", err, len(got))
	} else {
		assertOneLine(t, err)
	}
	setFault(sim.FaultNone)
	got, check, err := s.GetChecked(ctx, "data.bin", nil)
	if check != CheckSHA256 {
		t.Errorf("get checked by %q, want SHA-256", check)
	}
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after the faults: %v, %d bytes (want %d)", err, len(got), len(data))
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

func TestCloseLeavesNoGoroutine(t *testing.T) {
	// Not parallel: it looks at every goroutine of the test binary.
	b := startBoard(t, sim.Options{Profile: "ideal"})
	s := dialBoard(t, b, Options{KeepAlive: 20 * time.Millisecond})
	execString(t, s, "print('x')")
	s.Close()
	if _, err := s.Exec(testCtx(t), []byte("print('x')"), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Exec after Close: %v, want ErrClosed", err)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if strings.Contains(stacks, "webrepl.(*link)") {
		t.Errorf("a link goroutine outlived Close:\n%s", stacks)
	}
	// The board takes the next client (once it has noticed the close).
	dialBoard(t, b, Options{})
}

func TestKeepAliveIsAnEmptyTextFrame(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal"})
	s := dialBoard(t, b, Options{KeepAlive: 10 * time.Millisecond})
	before := s.Stats()
	deadline := time.Now().Add(30 * time.Second)
	for b.TextFrames().Empty == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	after := s.Stats()
	if b.TextFrames().Empty == 0 || after.FramesSent == before.FramesSent || after.BytesSent != before.BytesSent {
		t.Fatalf("keep-alive: %d empty frames at the board, frames %d→%d, bytes %d→%d; want empty frames, same bytes",
			b.TextFrames().Empty, before.FramesSent, after.FramesSent, before.BytesSent, after.BytesSent)
	}
	if out, _ := execString(t, s, "print('ok')"); out != "ok\n" {
		t.Errorf("after keep-alives: %q", out)
	}
}

func TestSendInputOnlyWhileRunning(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal"})
	s := dialBoard(t, b, Options{})
	if err := s.SendInput([]byte("x\r")); err == nil {
		t.Error("SendInput with no program running was accepted")
	}
	if out, _ := execString(t, s, "print('ok')"); out != "ok\n" {
		t.Errorf("after a refused input: %q", out)
	}
}

func TestRefusesControlBytes(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal"})
	s := dialBoard(t, b, Options{})
	if _, err := s.Exec(testCtx(t), []byte("print('\x04')"), nil); err == nil || !strings.Contains(err.Error(), "0x04") {
		t.Errorf("err = %v, want a refusal naming 0x04", err)
	}
}

func TestUTF8SplitAcrossFrames(t *testing.T) {
	t.Parallel()
	b := startBoard(t, sim.Options{Profile: "ideal"})
	s := dialBoard(t, b, Options{})
	var text bytes.Buffer
	tw := NewUTF8Writer(&text)
	var raw bytes.Buffer
	// "€" is e2 82 ac; the board writes it in two pieces (two frames),
	// then a CRLF, then a byte that is not UTF-8.
	code := "import sys\nw = sys.stdout.buffer.write\nw(b'\\xe2\\x82')\nw(b'\\xac\\r\\n')\nw(b'\\xff')\n"
	res, err := s.Exec(testCtx(t), []byte(code), multiWriter{&raw, tw})
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

// TestFloodingPeersKeepTheDeadlines: a peer flooding text after Password:
// fails the password step at its deadline, and one flooding after the
// login fails the raw REPL step at the connect deadline, although data
// never stops arriving. The limit is generous (a loaded machine is slow):
// what it catches is a deadline that arriving data keeps pushing back.
const floodSlack = 20 * time.Second

func TestFloodingPeersKeepTheDeadlines(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		fault    sim.Fault
		step     string
		deadline time.Duration
	}{
		{sim.FaultFloodLogin, "answer to the password", stepTimeout},
		{sim.FaultFloodOutput, "raw REPL prompt", 3 * time.Second},
	} {
		t.Run(string(c.fault), func(t *testing.T) {
			t.Parallel()
			b := simtest.StartFault(t, c.fault)
			start := time.Now()
			s, err := Dial(testCtx(t), b.URL(), Options{Password: b.Password(), ConnectTimeout: c.deadline})
			took := time.Since(start)
			if err == nil {
				s.Close()
			}
			var te *TimeoutError
			if !errors.As(err, &te) || !strings.Contains(te.Step, c.step) {
				t.Fatalf("err = %v, want a TimeoutError waiting for the %s", err, c.step)
			}
			t.Logf("%s: %v after %v (step deadline %v)", c.fault, err, took.Round(time.Millisecond), c.deadline)
			if limit := c.deadline + floodSlack; took > limit {
				t.Errorf("the step ended %v after Dial began, beyond its deadline %v + %v: does arriving data push the deadline back?",
					took, c.deadline, floodSlack)
			}
			assertOneLine(t, err)
		})
	}
}
