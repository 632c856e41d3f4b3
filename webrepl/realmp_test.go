//go:build linux

package webrepl_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"testing"
	"time"

	"webrepl-kernel/internal/boardpy/boardpytest"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

// Conformance against real MicroPython (v1.28 unix port with the
// firmware's own WebREPL, WebSocket and REPL C code), found through
// $WEBREPL_REALMP or <repo root>/../shared/realmp. Its README lists what
// that board cannot do (Ctrl-C, machine, resets), so those stay simulator
// tests.

// realmpPassword is the WebREPL password of boards startRealmp starts.
const realmpPassword = boardpytest.BoardPassword

// startRealmp starts the real board on a free port and kills it when the
// test ends; it skips the test when the board is absent.
func startRealmp(t *testing.T) string {
	t.Helper()
	url, _ := boardpytest.StartBoard(t)
	return url
}

// execSeeded runs n programs from generatedProgram (seeded, each at most
// size bytes) on s and fails the test at the first whose output is not
// exact or that went other than pacing.
func execSeeded(t *testing.T, s *webrepl.Session, seed uint64, n, size int, pacing webrepl.Pacing) {
	t.Helper()
	rng := mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := 0; i < n; i++ {
		code, want := generatedProgram(t, rng, i, size)
		got, failure := execGenerated(t, s, i, code, want, 2*time.Minute)
		if failure != "" {
			t.Fatal(failure)
		}
		if got != pacing {
			t.Fatalf("program %d went %v, want %v", i, got, pacing)
		}
	}
}

func TestRealmpGeneratedProgramsExact(t *testing.T) {
	url := startRealmp(t)
	for _, c := range []struct {
		name   string
		opts   webrepl.Options
		pacing webrepl.Pacing
		seed   uint64
		n      int
	}{
		{"raw-paste", webrepl.Options{}, webrepl.PacingRawPaste, 21, 60},
		{"paced fallback", webrepl.Options{Pacing: webrepl.PacingPaced, ChunkSize: 128, ChunkGap: 5 * time.Millisecond}, webrepl.PacingPaced, 22, 15},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := dial(t, url, realmpPassword, c.opts)
			execSeeded(t, s, c.seed, c.n, 8192, c.pacing)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRealmpPutGetIdentical(t *testing.T) {
	url := startRealmp(t)
	s := dial(t, url, realmpPassword, webrepl.Options{})
	ctx := ctxFor(t, 3*time.Minute)
	for _, size := range []int{0, 1, 255, 256, 257, 100 * 1024} {
		data := make([]byte, size)
		rand.Read(data)
		name := fmt.Sprintf("f%d.bin", size)
		if err := s.Put(ctx, name, data, nil); err != nil {
			t.Fatalf("Put %d bytes: %v", size, err)
		}
		got, err := s.Get(ctx, name, nil)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get %d bytes: %v, %d bytes back, identical %v", size, err, len(got), bytes.Equal(got, data))
		}
	}
}

func TestRealmpSecondClientAndWrongPassword(t *testing.T) {
	url := startRealmp(t)
	s := dial(t, url, realmpPassword, webrepl.Options{})
	_, err := webrepl.Dial(ctxFor(t, time.Minute), url, webrepl.Options{Password: realmpPassword})
	if !errors.Is(err, webrepl.ErrBusy) {
		t.Errorf("second client: %v, want ErrBusy", err)
	} else {
		oneLine(t, err)
	}
	if out, _ := run(t, s, "print('first still fine')"); out != "first still fine\n" {
		t.Errorf("first client after the refusal: %q", out)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The board lets the next client in once the session has ended; a
	// wrong password is then refused as such (the socket stays open there).
	err = simtest.UntilServed(t, func(ctx context.Context) (error, error) {
		_, err := webrepl.Dial(ctx, url, webrepl.Options{Password: "wrong"})
		if errors.Is(err, webrepl.ErrBusy) {
			return nil, err // the slot is still held: try again
		}
		return err, nil
	})
	if !errors.Is(err, webrepl.ErrWrongPassword) {
		t.Fatalf("wrong password: %v, want ErrWrongPassword", err)
	}
	oneLine(t, err)
}
