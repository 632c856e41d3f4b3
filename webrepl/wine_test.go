//go:build linux

package webrepl_test

// The Windows build of the CLI, run under Wine against a simulated board
// on loopback (tests/wine/run.sh builds it, prepares the Wine prefix and
// sets the variables below; without them the test is skipped with a line).

import (
	"bytes"
	"context"
	"crypto/rand"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
)

// wineCLI runs the Windows binary under Wine with args; stdin may be nil.
// It returns stdout, and fails the test with stderr on a non-zero exit.
func wineCLI(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	wine, exe := os.Getenv("WEBREPL_WINE"), os.Getenv("WEBREPL_WINE_EXE")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, wine, append([]string{exe}, args...)...)
	cmd.Dir = t.TempDir()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			t.Fatalf("webrepl-kernel.exe %s under Wine did not finish within 2 minutes; stderr:\n%s", strings.Join(args, " "), stderr.String())
		}
		t.Fatalf("webrepl-kernel.exe %s under Wine: %v; stderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

func TestWineCLI(t *testing.T) {
	if os.Getenv("WEBREPL_WINE_EXE") == "" || os.Getenv("WEBREPL_WINE") == "" {
		t.Skip("WEBREPL_WINE / WEBREPL_WINE_EXE not set: tests/wine/run.sh runs this test")
	}
	b := simtest.Start(t, sim.Options{Profile: "esp32"})
	conn := []string{"--url", b.URL(), "--password", b.Password()}
	// The single client slot frees a moment after the previous command's
	// close; the CLI waits for it (its default --timeout).

	t.Run("exec", func(t *testing.T) {
		rng := mrand.New(mrand.NewPCG(19, 19^0x9e3779b97f4a7c15))
		for i := 0; i < 12; i++ {
			code, want := generatedProgram(t, rng, i, 8192)
			dir := t.TempDir()
			path := filepath.Join(dir, "prog.py")
			if err := os.WriteFile(path, []byte(code), 0o644); err != nil {
				t.Fatal(err)
			}
			got := wineCLI(t, nil, append(append([]string{"exec"}, conn...), path)...)
			if string(got) != want {
				t.Fatalf("program %d (%d bytes) through exec under Wine: output differs\n got %.300q\nwant %.300q\nprogram:\n%s", i, len(code), got, want, code)
			}
		}
	})

	t.Run("put-get", func(t *testing.T) {
		dir := t.TempDir()
		data := make([]byte, 100<<10)
		if _, err := rand.Read(data); err != nil {
			t.Fatal(err)
		}
		local := filepath.Join(dir, "up.bin")
		if err := os.WriteFile(local, data, 0o644); err != nil {
			t.Fatal(err)
		}
		wineCLI(t, nil, append(append([]string{"put"}, conn...), local, "wine.bin")...)
		onBoard, err := os.ReadFile(filepath.Join(b.FlashDir(), "wine.bin"))
		if err != nil || !bytes.Equal(onBoard, data) {
			t.Fatalf("the board's wine.bin after put is not the 100 KB sent (%d bytes, %v)", len(onBoard), err)
		}
		back := filepath.Join(dir, "back.bin")
		wineCLI(t, nil, append(append([]string{"get"}, conn...), "wine.bin", back)...)
		got, err := os.ReadFile(back)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("get under Wine returned %d bytes (%v), not the 100 KB put", len(got), err)
		}
		list := wineCLI(t, nil, append([]string{"ls"}, conn...)...)
		if !bytes.Contains(list, []byte("102400  wine.bin")) {
			t.Fatalf("ls under Wine does not list wine.bin with its size:\n%s", list)
		}
	})

	// run starts the kernel (this same binary) as a child process and
	// talks to it over loopback TCP, Windows's default transport.
	t.Run("run", func(t *testing.T) {
		dir := t.TempDir()
		nb := filepath.Join(dir, "wine.ipynb")
		if err := os.WriteFile(nb, []byte(wineNotebook), 0o644); err != nil {
			t.Fatal(err)
		}
		out := wineCLI(t, nil, append(append([]string{"run", "-v"}, conn...), nb)...)
		if !bytes.Contains(out, []byte("from run 42")) {
			t.Fatalf("run under Wine does not show the cell's output:\n%s", out)
		}
	})
}

const wineNotebook = `{
 "cells": [
  {"cell_type": "code", "execution_count": null, "id": "c1", "metadata": {}, "outputs": [],
   "source": ["x = 6 * 7\n", "print('from run', x)"]}
 ],
 "metadata": {"kernelspec": {"display_name": "MicroPython (WebREPL)", "language": "python", "name": "micropython-webrepl"}},
 "nbformat": 4, "nbformat_minor": 5
}
`
