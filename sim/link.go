package sim

import (
	"context"
	"fmt"
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
}

// port is what the board's os.uname().sysname says: the ideal board is an
// ESP32 that never loses input.
func (p linkProfile) port() string {
	if p.name == "esp8266" {
		return "esp8266"
	}
	return "esp32"
}

func lookupProfile(name string) (linkProfile, error) {
	switch name {
	case "", "esp32":
		return linkProfile{name: "esp32", ringCapacity: 259, drained: true}, nil
	case "esp8266":
		return linkProfile{name: "esp8266", ringCapacity: 255}, nil
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

// link carries one session's REPL input to the board process according to
// the profile. It ends when in is closed (delivering what it still holds,
// as the board reads a socket to its end) or ctx ends.
type link struct {
	profile     linkProfile
	drainPeriod time.Duration
	in          chan timedChunk
	deliver     func([]byte)
}

func (l *link) run(ctx context.Context) {
	var (
		inFlight []timedChunk // sent by the client, still "on the wire"
		lwip     []byte       // arrived, waiting for the next socket poll
		tickC    <-chan time.Time
		timer    = time.NewTimer(time.Hour)
		in       = l.in
	)
	defer timer.Stop()
	if l.profile.drained {
		ticker := time.NewTicker(l.drainPeriod)
		defer ticker.Stop()
		tickC = ticker.C
	}
	for {
		now := time.Now()
		for len(inFlight) > 0 && !inFlight[0].due.After(now) {
			data := inFlight[0].data
			inFlight = inFlight[1:]
			if l.profile.drained {
				lwip = append(lwip, data...)
			} else {
				l.deliver(data)
			}
		}
		if in == nil {
			for _, c := range inFlight {
				lwip = append(lwip, c.data...)
			}
			if len(lwip) > 0 {
				l.deliver(lwip)
			}
			return
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
			if len(lwip) > 0 {
				l.deliver(lwip)
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
