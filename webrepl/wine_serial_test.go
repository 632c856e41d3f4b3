//go:build linux

package webrepl_test

import (
	"bytes"
	"crypto/rand"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"webrepl-kernel/internal/boardpy/boardpytest"
	"webrepl-kernel/serialport/serialtest"
)

// wineCOM is the COM port the test maps to the board's pseudo-terminal: a
// number no /dev/ttyS* takes, so Wine's mount manager leaves its link be.
const wineCOM = "COM9"

// The Windows serial port (serialport/port_windows.go) under Wine: real
// MicroPython on a pseudo-terminal that Wine's $WINEPREFIX/dosdevices/com9
// points at, reached as serial://COM9 by exec, put, get and ls.
func TestWineSerial(t *testing.T) {
	prefix := os.Getenv("WINEPREFIX")
	if os.Getenv("WEBREPL_WINE_EXE") == "" || os.Getenv("WEBREPL_WINE") == "" || prefix == "" {
		t.Skip("WEBREPL_WINE / WEBREPL_WINE_EXE / WINEPREFIX not set: tests/wine/run.sh runs this test")
	}
	bin := boardpytest.MicroPython(t)
	if !serialtest.Supported() {
		t.Skip("no pseudo-terminals on this system")
	}
	flash := t.TempDir()
	b := serialtest.StartBoard(t, []string{bin}, serialtest.Options{Dir: flash})
	link := filepath.Join(prefix, "dosdevices", "com9")
	if err := os.Remove(link); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.Symlink(b.Port, link); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(link) })
	conn := []string{"--url", "serial://" + wineCOM}

	t.Run("exec", func(t *testing.T) {
		rng := mrand.New(mrand.NewPCG(23, 23^0x9e3779b97f4a7c15))
		for i := 0; i < 6; i++ {
			code, want := generatedProgram(t, rng, i, 4096)
			path := filepath.Join(t.TempDir(), "prog.py")
			if err := os.WriteFile(path, []byte(code), 0o644); err != nil {
				t.Fatal(err)
			}
			got := wineCLI(t, nil, append(append([]string{"exec"}, conn...), path)...)
			if string(got) != want {
				t.Fatalf("program %d (%d bytes) through exec over %s under Wine: output differs\n got %.300q\nwant %.300q\nprogram:\n%s", i, len(code), wineCOM, got, want, code)
			}
		}
	})

	t.Run("put-get", func(t *testing.T) {
		dir := t.TempDir()
		data := make([]byte, 20<<10)
		if _, err := rand.Read(data); err != nil {
			t.Fatal(err)
		}
		local := filepath.Join(dir, "up.bin")
		if err := os.WriteFile(local, data, 0o644); err != nil {
			t.Fatal(err)
		}
		wineCLI(t, nil, append(append([]string{"put"}, conn...), local, "wine.bin")...)
		if onBoard, err := os.ReadFile(filepath.Join(flash, "wine.bin")); err != nil || !bytes.Equal(onBoard, data) {
			t.Fatalf("the board's wine.bin after put over %s is not the 20 KB sent (%d bytes, %v)", wineCOM, len(onBoard), err)
		}
		back := filepath.Join(dir, "back.bin")
		wineCLI(t, nil, append(append([]string{"get"}, conn...), "wine.bin", back)...)
		if got, err := os.ReadFile(back); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("get over %s under Wine returned %d bytes (%v), not the 20 KB put", wineCOM, len(got), err)
		}
		if list := wineCLI(t, nil, append(append([]string{"ls"}, conn...), ".")...); !bytes.Contains(list, []byte("20480  wine.bin")) {
			t.Fatalf("ls over %s under Wine does not list wine.bin with its size:\n%s", wineCOM, list)
		}
	})
}
