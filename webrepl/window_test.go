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
// Options.Window (or the older FullRawPasteWindow) says otherwise.
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
		{"esp8266", webrepl.Options{FullRawPasteWindow: true}, "esp8266", webrepl.WindowFull},
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
			if c.want == webrepl.WindowSafe || c.profile == "esp32" {
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
