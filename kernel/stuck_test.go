package kernel

import (
	"strings"
	"sync"
	"testing"
	"time"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/sim"
)

// cellTraffic is what a frontend received for each request, counted as it
// arrived off the wire (stream text is counted, not kept: a flooding cell
// must not fill the test's memory).
type cellTraffic struct {
	mu       sync.Mutex
	parentOf map[string]string    // cell code → its msg_id, from execute_input
	streamed map[string]int       // msg_id → stream bytes
	lastAt   map[string]time.Time // msg_id → when its last stream came
	replyAt  map[string]time.Time // msg_id → when its execute_reply came
	arrived  chan struct{}        // signalled on each stream message
}

func newCellTraffic() *cellTraffic {
	return &cellTraffic{parentOf: map[string]string{}, streamed: map[string]int{}, lastAt: map[string]time.Time{},
		replyAt: map[string]time.Time{}, arrived: make(chan struct{}, 1)}
}

func (ct *cellTraffic) observe(m jupyter.Message) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	switch {
	case m.Type == "execute_input":
		var in jupyter.ExecuteInput
		if m.Decode(&in) == nil {
			ct.parentOf[in.Code] = m.ParentID
		}
	case m.Type == "stream":
		ct.streamed[m.ParentID] += len(m.Content)
		ct.lastAt[m.ParentID] = time.Now()
		select {
		case ct.arrived <- struct{}{}:
		default:
		}
	case m.Type == "execute_reply":
		ct.replyAt[m.ParentID] = time.Now()
	}
}

// cell returns the msg_id of the cell whose code is code ("" before its
// execute_input), the stream bytes it got and when its reply came.
func (ct *cellTraffic) cell(code string) (id string, streamed int, replyAt time.Time) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	id = ct.parentOf[code]
	return id, ct.streamed[id], ct.replyAt[id]
}

// A board that never stops (an ESP32 printing in a loop that never polls
// its socket, so Ctrl-C is not read; sim.Options.DeafWhilePrinting) does
// not take the notebook with it: the interrupted cell ends soon after the
// kernel gives up on the board, nothing more flows into it, the next cells
// say in one line that the board is still busy, and once the board stops
// (reset, or its program ends by itself) cells run again. Over ZMQ, with a
// frontend as fast as the test and one slower than the board.
func TestBoardThatIgnoresCtrlCWhilePrinting(t *testing.T) {
	t.Parallel()
	forever := "while True:\n    print('flood ' * 10)"
	pressReset := func(b *sim.Board) { b.PressReset() }
	for _, tc := range []struct {
		name string
		loop string           // the cell
		stop func(*sim.Board) // nil: the loop ends by itself
		pace time.Duration    // the frontend's time over each output message
	}{
		{"reset button", forever, pressReset, 0},
		{"stops by itself", "import time\nt0 = time.ticks_ms()\nwhile time.ticks_diff(time.ticks_ms(), t0) < 9000:\n    print('flood ' * 10)", nil, 0},
		// The frontend takes less than the board prints, so the kernel's
		// iopub queue is full when it gives up (the 82 s).
		{"slow frontend", forever, pressReset, 50 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const grace = 2 * time.Second
			traffic := newCellTraffic()
			tk := newTestKernel(t, overZMQ(), observing(traffic.observe),
				withBoard(sim.Options{Password: "secret", DrainPeriod: 10 * time.Millisecond, ResetAfter: time.Hour, DeafWhilePrinting: true}),
				configure(func(c *Config) { c.InterruptGrace = grace }))
			c := tk.client
			ctx, cancel := tk.waitContext()
			defer cancel()
			run := func(code string) (jupyter.ExecuteReply, string) {
				t.Helper()
				var out strings.Builder
				reply, err := c.Execute(ctx, executeRequest(code), jupyter.ExecuteHooks{Output: func(m jupyter.Message) {
					var s jupyter.Stream
					if m.Type == "stream" && m.Decode(&s) == nil {
						out.WriteString(s.Text)
					}
				}})
				if err != nil {
					t.Fatalf("%q: %v", code, err)
				}
				return reply, out.String()
			}
			if reply, _ := run("x = 42"); reply.Status != "ok" {
				t.Fatalf("first cell: %+v", reply)
			}

			done := make(chan jupyter.ExecuteReply, 1)
			go func() {
				reply, err := c.Execute(ctx, executeRequest(tc.loop), jupyter.ExecuteHooks{Output: func(jupyter.Message) {
					time.Sleep(tc.pace) // stands for the frontend's work of showing it
				}})
				if err != nil {
					t.Errorf("the looping cell: %v", err)
				}
				done <- reply
			}()
			for {
				if _, n, _ := traffic.cell(tc.loop); n >= 100<<10 {
					break
				}
				select {
				case <-traffic.arrived:
				case <-ctx.Done():
					t.Fatal("the loop printed less than 100 KB")
				}
			}
			interrupted := time.Now()
			if err := c.Interrupt(ctx); err != nil {
				t.Fatal(err)
			}
			reply := <-done // after its reply and idle
			_, relayed, replyAt := traffic.cell(tc.loop)
			took := replyAt.Sub(interrupted)
			if reply.Ename != "KeyboardInterrupt" || !strings.Contains(reply.Evalue, "did not stop within 2s of Ctrl-C") {
				t.Fatalf("interrupted cell: %+v", reply)
			}
			// Within a second of the grace (generous for a loaded machine).
			if took > grace+3*time.Second {
				t.Errorf("the reply came %v after the interrupt, %v after the kernel gave up on the board (want about a second)", took, took-grace)
			}
			t.Logf("reply %v after the interrupt, idle %v; %d KB of output shown", took.Round(time.Millisecond),
				time.Since(interrupted).Round(time.Millisecond), relayed>>10)

			// The next cell says at once that the board is busy, in one line.
			asked := time.Now()
			reply, out := run("print(x)")
			if reply.Status != "error" || !strings.Contains(reply.Evalue, "still busy") ||
				strings.Contains(reply.Evalue, "\n") || out != "" {
				t.Errorf("cell while the board is busy: %+v %q", reply, out)
			}
			if d := time.Since(asked); d > 6*time.Second { // webrepl waits 2 s for a late stop
				t.Errorf("the busy board was told %v after the cell was sent", d)
			}

			if tc.stop != nil {
				tc.stop(tk.board)
			}
			// Once the board stops, cells run again; until then each one
			// says it is busy (after webrepl's wait for a late stop).
			for deadline := time.Now().Add(waitLong); ; {
				reply, out = run("print('back')")
				if reply.Status == "ok" {
					break
				}
				if !strings.Contains(reply.Evalue, "still busy") || time.Now().After(deadline) {
					t.Fatalf("after the board stopped: %+v", reply)
				}
			}
			if !strings.Contains(out, "back") {
				t.Errorf("cell after the board stopped printed %q", out)
			}
			// Nothing more reached the interrupted cell after it ended.
			if _, later, _ := traffic.cell(tc.loop); later != relayed {
				t.Errorf("output kept flowing into the ended cell: %d bytes more", later-relayed)
			}
		})
	}
}
