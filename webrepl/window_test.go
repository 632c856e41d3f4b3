package webrepl_test

import (
	"context"
	"testing"
	"time"

	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

// The raw-paste window follows the board identified at connect: 2·W only on
// an ESP32 from MicroPython 1.15 on (docs/protocol/webrepl.md §4.4), unless
// Options.Window says otherwise.
func TestRawPasteWindowChosenPerBoard(t *testing.T) {
	t.Parallel()
	cases := []struct {
		profile  string
		opts     webrepl.Options
		wantPort string
		want     webrepl.Window
	}{
		{"esp32", webrepl.Options{}, "esp32", webrepl.WindowFull},
		{"esp8266", webrepl.Options{}, "esp8266", webrepl.WindowSafe},
		{"esp32", webrepl.Options{Window: webrepl.WindowSafe}, "esp32", webrepl.WindowSafe},
		{"esp8266", webrepl.Options{Window: webrepl.WindowFull}, "esp8266", webrepl.WindowFull},
	}
	for _, c := range cases {
		t.Run(c.profile+"/"+c.opts.Window.String(), func(t *testing.T) {
			t.Parallel()
			b := simtest.Start(t, sim.Options{Profile: c.profile, DrainPeriod: 5 * time.Millisecond})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			opts := c.opts
			opts.Password = b.Password()
			s, err := webrepl.Dial(ctx, b.URL(), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			w, port := s.RawPasteWindow()
			if w != c.want || port != c.wantPort {
				t.Errorf("window %v on %q (MicroPython %s), want %v on %q", w, port, s.Firmware(), c.want, c.wantPort)
			}
			if c.want == webrepl.WindowFull && c.profile == "esp8266" {
				return // forced: the 255-byte ring may drop bytes, as documented
			}
			// The chosen window still delivers every byte of a big cell.
			code := []byte("s = 0\n")
			for i := 0; i < 60; i++ {
				code = append(code, []byte("s += 1  # a comment that makes this line longer\n")...)
			}
			code = append(code, []byte("print(s)\n")...)
			var out stringsBuilder
			res, err := s.Exec(ctx, code, &out)
			if err != nil || res.Exception != nil || out.String() != "60\n" {
				t.Errorf("exec: %v %+v %q", err, res, out.String())
			}
			{
				if d := b.DroppedBytes(); d != 0 {
					t.Errorf("%d bytes dropped", d)
				}
			}
		})
	}
}

type stringsBuilder struct{ b []byte }

func (s *stringsBuilder) Write(p []byte) (int, error) { s.b = append(s.b, p...); return len(p), nil }
func (s *stringsBuilder) String() string              { return string(s.b) }

// Once the firmware is known to offer raw-paste, a small cell is one frame:
// the request and the program leave together (no wait for the answer). A
// board that refuses raw-paste still runs it, and every later cell too.
func TestSmallCellIsOneFrame(t *testing.T) {
	t.Parallel()
	for _, refuse := range []bool{false, true} {
		b := simtest.Start(t, sim.Options{Profile: "esp32", DrainPeriod: 5 * time.Millisecond, NoRawPaste: refuse})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s, err := webrepl.Dial(ctx, b.URL(), webrepl.Options{Password: b.Password()})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for i := 0; i < 3; i++ {
			before := s.Stats().FramesSent
			var out stringsBuilder
			res, err := s.Exec(ctx, []byte("print(6*7)"), &out)
			if err != nil || res.Exception != nil || out.String() != "42\n" {
				t.Fatalf("refuse=%v cell %d: %v %+v %q", refuse, i, err, res, out.String())
			}
			frames := s.Stats().FramesSent - before
			if !refuse && frames != 1 {
				t.Errorf("cell %d took %d frames, want 1", i, frames)
			}
			if refuse && i == 0 && res.Pacing != webrepl.PacingPaced {
				t.Errorf("refused raw-paste ran with %v", res.Pacing)
			}
		}
	}
}
