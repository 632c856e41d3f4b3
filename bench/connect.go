package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"webrepl-kernel/webrepl"
)

// ConnectFigure is a fresh connection plus its first cell, as a kernel
// starts its first notebook cell or comes back after a hand-over: Dial
// (WebSocket, login, the raw REPL, the board's identity) and one small
// program until its output is back (issue 18 item 6), as DialExec does it:
// the program rides in the frame that enters the raw REPL.
type ConnectFigure struct {
	Method
	// LimitS is what the link allows: the WebSocket handshake and login
	// (TCP, the upgrade and the password answer, 3 round trips), then one
	// round trip, plus on esp32 1.27 one drain, for the raw REPL and the
	// cell; Ratio is the median over it (0 where the limit is below a
	// millisecond: a loopback link without a drain).
	LimitS float64 `json:"limit_s"`
	Limit  string  `json:"limit"`
	Ratio  float64 `json:"ratio"`
}

const connectCell = "print('first')\n"

// measureConnect times rounds fresh connections, each with its first cell.
func measureConnect(ctx context.Context, b *board, pr ProfileResult, rounds int) (ConnectFigure, error) {
	var f ConnectFigure
	for range rounds {
		var out bytes.Buffer
		// Only the attempt that connects counts: one that found the board
		// still serving the previous round's client is waiting, not
		// connecting.
		var start time.Time
		var s *webrepl.Session
		var res *webrepl.Result
		var runErr error
		err := retry(ctx, func() error {
			out.Reset()
			start = time.Now()
			s, res, runErr = webrepl.DialExec(ctx, b.url, webrepl.Options{Password: b.password},
				webrepl.FirstProgram{Code: []byte(connectCell), Stdout: &out})
			if s == nil {
				return runErr
			}
			return nil
		})
		d := time.Since(start)
		if err != nil {
			return f, fmt.Errorf("connecting to %s: %w", b.url, err)
		}
		s.Close()
		if runErr != nil {
			return f, fmt.Errorf("connect + first cell: %w", runErr)
		}
		if res.Exception != nil || out.String() != "first\n" {
			return f, fmt.Errorf("connect + first cell: output %q, exception %+v", out.String(), res.Exception)
		}
		f.add(d)
	}
	f.LimitS = round6((4*pr.RTTMS + pr.DrainMS) / 1000)
	f.Limit = "3 RTT (TCP, upgrade, login) + 1 RTT"
	if pr.DrainMS > 0 {
		f.Limit += " + 1 drain"
	}
	if f.LimitS >= 0.001 { // a limit of microseconds makes no ratio worth reading

		f.Ratio = round1(f.MedianS / f.LimitS)
	}
	return f, nil
}

// runConnectOnly is `-only connect`: the connect + first cell figure of
// every profile, printed; neither -out nor the README is touched.
func runConnectOnly(ctx context.Context, realmp string, rounds int) error {
	modules := envOr("WEBREPL_SIM_MODULES", fmt.Sprintf("%s/../sim/board/node_modules", sourceDir()))
	for _, p := range profiles(modules) {
		b, err := startBoard(ctx, p, realmp)
		if err != nil {
			return err
		}
		pr := ProfileResult{Name: p.Name}
		rtt, _, err := measureRTT(ctx, b)
		if err != nil {
			b.stop()
			return err
		}
		pr.RTTMS = ms(rtt)
		if p.Sim != nil && p.Sim.Profile == "esp32" && p.Sim.Firmware == "1.27" {
			pr.DrainMS = ms(p.Sim.DrainPeriod)
		}
		f, err := measureConnect(ctx, b, pr, rounds)
		b.stop()
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		fmt.Fprintf(os.Stdout, "%-14s rtt %6.2f ms  connect+first cell median %.3f s (rounds %v)  limit %.3f s (%s)  ratio %.1f\n",
			p.Name, pr.RTTMS, f.MedianS, f.RoundsS, f.LimitS, f.Limit, f.Ratio)
	}
	return nil
}
