package sim

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// linkProfile describes how console input travels from the TCP socket into
// the board's stdin ring (docs/protocol/webrepl.md §5).
type linkProfile struct {
	name string
	// ringCapacity is the usable size of the board's stdin ring buffer
	// (0 = unbounded); the Node side drops and counts what does not fit.
	ringCapacity int
	// drained: bytes pile up in lwIP's receive buffer and are moved to the
	// ring in one burst per socket poll (ESP32). Otherwise every frame is
	// moved as soon as it arrives (ESP8266's per-segment callback, or ideal).
	drained bool
	// directRead: while the REPL waits for input it reads the socket itself
	// (ESP32 from v1.28), so what arrives then reaches it at once and is
	// never dropped; the drain above still runs while code executes.
	directRead bool
	// vmHook: the VM services the network from a hook called on backward
	// jumps (ESP8266), so a Ctrl-C interrupts even a loop that never calls
	// out; on an ESP32 such a loop needs the reset button.
	vmHook bool
	// deafWhilePrinting: a running program that printed since the last
	// poll keeps the poll from happening (Options.DeafWhilePrinting).
	deafWhilePrinting bool
}

// port is what the board's os.uname().sysname says: the ideal board is an
// ESP32 that never loses input.
func (p linkProfile) port() string {
	if p.name == "esp8266" {
		return "esp8266"
	}
	return "esp32"
}

// lookupProfile describes board name running firmware fw
// (docs/protocol/simulator.md §4).
func lookupProfile(name string, fw firmware) (linkProfile, error) {
	switch name {
	case "", "esp32":
		ring := 259 // stdin_ringbuf_array[260], ports/esp32/mphalport.c (v1.15+)
		if !fw.atLeast(1, 15) {
			ring = 255
		}
		return linkProfile{name: "esp32", ringCapacity: ring, drained: true, directRead: fw.atLeast(1, 28)}, nil
	case "esp8266":
		return linkProfile{name: "esp8266", ringCapacity: 255, vmHook: true}, nil
	case "ideal":
		return linkProfile{name: "ideal", ringCapacity: 0}, nil
	}
	return linkProfile{}, fmt.Errorf("unknown board profile %q (want esp32, esp8266 or ideal)", name)
}

// timedChunk is the REPL text of one client frame and when it reaches the
// board after the simulated one-way latency.
type timedChunk struct {
	due  time.Time
	data []byte
}

// replIdle tells the link whether the board's REPL is waiting for input
// (true) or running code; the board's event loop sets it from the board
// process's busy messages. Only a directRead profile asks.
type replIdle struct {
	mu   sync.Mutex
	idle bool
	wake chan struct{} // signalled when idle becomes true
	// lastPrint: when the board last wrote output (UnixNano); inPrint:
	// it is inside print() now (waiting for the client to read).
	lastPrint atomic.Int64
	inPrint   atomic.Int32
}

// printing notes that the board enters (true) or leaves print().
func (r *replIdle) printing(in bool) {
	r.lastPrint.Store(time.Now().UnixNano())
	if in {
		r.inPrint.Add(1)
	} else {
		r.inPrint.Add(-1)
	}
}

// deafQuiet is how long a running program must go without output before
// a DeafWhilePrinting board polls its socket again: the simulator cannot
// see a loop's sleeps, so a pause in the output stands for them. A
// printing loop's writes come far closer together, but on a loaded
// machine the board process can be kept off the CPU for a good fraction
// of a second, hence the margin.
const deafQuiet = 2 * time.Second

// inPrintLoop reports whether the board is printing or printed within
// deafQuiet.
func (r *replIdle) inPrintLoop() bool {
	return r.inPrint.Load() > 0 || time.Since(time.Unix(0, r.lastPrint.Load())) < deafQuiet
}

func newReplIdle() *replIdle { return &replIdle{idle: true, wake: make(chan struct{}, 1)} }

func (r *replIdle) set(idle bool) {
	r.mu.Lock()
	was := r.idle
	r.idle = idle
	r.mu.Unlock()
	if idle && !was {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

func (r *replIdle) get() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.idle
}

// link carries one session's REPL input to the board process according to
// the profile. It ends when in is closed (delivering what it still holds,
// as the board reads a socket to its end) or ctx ends. deliver's direct
// says the REPL read the bytes from the socket itself (directRead), so the
// ring's capacity does not limit them.
type link struct {
	profile     linkProfile
	drainPeriod time.Duration
	in          chan timedChunk
	idle        *replIdle
	deliver     func(data []byte, direct bool)
	stalled     func() // a drain came late (Board.Stalls)
}

// deaf: a DeafWhilePrinting board runs a program that is printing, so it
// does not poll its socket.
func (l *link) deaf() bool {
	return l.profile.deafWhilePrinting && !l.idle.get() && l.idle.inPrintLoop()
}

func (l *link) run(ctx context.Context) {
	var (
		inFlight []timedChunk // sent by the client, still "on the wire"
		lwip     []byte       // arrived, waiting for the next socket poll
		tickC    <-chan time.Time
		idleC    <-chan struct{}
		timer    = time.NewTimer(time.Hour)
		in       = l.in
	)
	defer timer.Stop()
	if l.profile.drained {
		ticker := time.NewTicker(l.drainPeriod)
		defer ticker.Stop()
		tickC = ticker.C
	}
	reading := func() bool { return l.profile.directRead && l.idle.get() }
	lastTick := time.Now()
	if l.profile.directRead {
		idleC = l.idle.wake
	}
	for {
		now := time.Now()
		for len(inFlight) > 0 && !inFlight[0].due.After(now) {
			data := inFlight[0].data
			inFlight = inFlight[1:]
			switch {
			case !l.profile.drained:
				l.deliver(data, false)
			case reading():
				// The REPL waits in mp_hal_stdin_rx_chr and takes the bytes
				// straight from the socket (anything lwIP still held first).
				l.deliver(append(lwip, data...), true)
				lwip = nil
			default:
				lwip = append(lwip, data...)
			}
		}
		if in == nil {
			for _, c := range inFlight {
				lwip = append(lwip, c.data...)
			}
			inFlight = nil
			// A board deaf in a print loop reads what the closed
			// connection left only when it polls again (next tick).
			if !l.deaf() {
				if len(lwip) > 0 {
					l.deliver(lwip, reading())
				}
				return
			}
		}
		var timerC <-chan time.Time
		if len(inFlight) > 0 {
			timer.Reset(inFlight[0].due.Sub(now))
			timerC = timer.C
		}
		select {
		case c, ok := <-in:
			if !ok {
				in = nil
				break
			}
			inFlight = append(inFlight, c)
		case <-timerC:
		case <-tickC:
			// A drain more than two periods after the last one: this
			// process was kept off the CPU, and the input of several
			// drains reaches the ring at once.
			tick := time.Now()
			late := tick.Sub(lastTick) > 2*l.drainPeriod
			lastTick = tick
			// A program that printed since the last tick, and still
			// runs, never reached the poll: what arrived stays in lwIP.
			if l.deaf() {
				break
			}
			if len(lwip) > 0 {
				if late && l.stalled != nil {
					l.stalled()
				}
				l.deliver(lwip, false)
				lwip = nil
			}
		case <-idleC:
			// The code finished and the REPL reads again: what waited in
			// lwIP for the next poll is read at once.
			if len(lwip) > 0 && reading() {
				l.deliver(lwip, true)
				lwip = nil
			}
		case <-ctx.Done():
			return
		}
		if timerC != nil && !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}
