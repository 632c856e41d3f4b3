package mip_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/boardsync"
	"webrepl-kernel/internal/boardpy/boardpytest"
	"webrepl-kernel/mip"
	"webrepl-kernel/sim"
	"webrepl-kernel/sim/simtest"
	"webrepl-kernel/webrepl"
)

// index is a package index in micropython-lib's v2 layout, served by the
// test on 127.0.0.1: "greet" 1.0 (a package folder with two files, in .mpy
// and .py variants) depends on "util" 0.2 (one module).
type index struct {
	files    map[string][]byte // /file/xx/hash → content
	packages map[string][]byte // /package/... → JSON
	// want: board path (below the target) → content, per variant.
	want map[string]map[string][]byte
}

func newIndex(t *testing.T, mpy string) *index {
	ix := &index{files: map[string][]byte{}, packages: map[string][]byte{}, want: map[string]map[string][]byte{}}
	add := func(variant, name, version string, files map[string][]byte, deps [][]string) {
		var hashes [][]string
		for p, data := range files {
			h := boardsync.Sum(data)[:8]
			ix.files["/file/"+h[:2]+"/"+h] = data
			hashes = append(hashes, []string{p, h})
			if ix.want[variant] == nil {
				ix.want[variant] = map[string][]byte{}
			}
			ix.want[variant][p] = data
		}
		desc, err := json.Marshal(map[string]any{"version": version, "hashes": hashes, "deps": deps})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{version, "latest"} {
			ix.packages[fmt.Sprintf("/package/%s/%s/%s.json", variant, name, v)] = desc
		}
	}
	for _, variant := range []string{mpy, "py"} {
		ext := ".py"
		if variant != "py" {
			ext = ".mpy"
		}
		// The .mpy variant is bytes of the test's making: the board does
		// not load them here, it stores them.
		body := func(src string) []byte {
			if variant == "py" {
				return []byte(src)
			}
			return append([]byte{'M', 6, 0, 31}, src...)
		}
		add(variant, "greet", "1.0", map[string][]byte{
			"greet/__init__" + ext: body("from util import twice\n\ndef hello(n):\n    return 'hello ' * twice(n)\n"),
			"greet/extra" + ext:    body("EXTRA = " + strings.Repeat("1", 3000) + "\n"),
		}, [][]string{{"util", "0.2"}})
		add(variant, "util", "0.2", map[string][]byte{"util" + ext: body("def twice(n):\n    return 2 * n\n")}, nil)
	}
	return ix
}

func (ix *index) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if data, ok := ix.files[r.URL.Path]; ok {
		w.Write(data)
		return
	}
	if data, ok := ix.packages[r.URL.Path]; ok {
		w.Write(data)
		return
	}
	http.NotFound(w, r)
}

// readTree is every file below dir, by slash path.
func readTree(t *testing.T, dir string) map[string][]byte {
	got := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			data, _ := os.ReadFile(p)
			got[filepath.ToSlash(rel)] = data
		}
		return nil
	})
	return got
}

func TestInstallSim(t *testing.T) {
	t.Parallel()
	b := simtest.Start(t, sim.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := webrepl.Dial(ctx, b.URL(), webrepl.Options{Password: b.Password()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exerciseInstall(t, ctx, s, b.FlashDir(), "/lib", "lib")

	// A write that fails on the board (a file arrives corrupted): nothing
	// is installed, the folders made for it are gone, no temporary stays.
	info, err := s.LibInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newIndex(t, fmt.Sprint(info.MPY)))
	defer srv.Close()
	if err := b.SetFault(sim.FaultCorruptPut); err != nil {
		t.Fatal(err)
	}
	_, err = mip.Install(ctx, s, []string{"greet"}, mip.Options{Index: srv.URL, Target: "/fresh/lib"}, nil)
	if !errors.Is(err, webrepl.ErrVerifyFailed) {
		t.Errorf("install with corrupted writes: %v, want ErrVerifyFailed", err)
	}
	if err := b.SetFault(sim.FaultNone); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(b.FlashDir(), "fresh")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed install left its folders: %v", err)
	}
	for p := range readTree(t, b.FlashDir()) {
		if strings.Contains(p, ".wk-") {
			t.Errorf("left on the board: %s", p)
		}
	}
}

func TestInstallRealmp(t *testing.T) {
	t.Parallel()
	url, flash := boardpytest.StartBoard(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := simtest.UntilServed(t, func(ctx context.Context) (*webrepl.Session, error) {
		return webrepl.Dial(ctx, url, webrepl.Options{Password: boardpytest.BoardPassword})
	})
	defer s.Close()
	// The unix port's "/" is the host's: install relative to its flash.
	exerciseInstall(t, ctx, s, flash, "lib", "lib")
}

// exerciseInstall installs greet (and util) into target on the board whose
// flash folder is flash (target is flashLib there), checks the bytes, the
// skip on a second install, a wrong version and a server that is down.
func exerciseInstall(t *testing.T, ctx context.Context, s *webrepl.Session, flash, target, flashLib string) {
	info, err := s.LibInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.MPY == 0 {
		t.Fatalf("the board names no .mpy version: %+v", info)
	}
	mpy := fmt.Sprint(info.MPY)
	ix := newIndex(t, mpy)
	srv := httptest.NewServer(ix)
	defer srv.Close()
	var lines []string
	opts := mip.Options{Index: srv.URL, Target: target, Line: func(l string) { lines = append(lines, l) }}
	var last [2]int
	res, err := mip.Install(ctx, s, []string{"greet"}, opts, func(d, n int) { last = [2]int{d, n} })
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"greet 1.0: 2 file(s)", "util 0.2: 1 file(s)"}; strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", lines, want)
	}
	if res.Written != 3 || res.Skipped != 0 || last[0] != last[1] || last[1] != res.Bytes {
		t.Errorf("first install: %+v, last progress %v", res, last)
	}
	checkFlash := func(variant string) {
		t.Helper()
		got := readTree(t, filepath.Join(flash, flashLib))
		for p, want := range ix.want[variant] {
			if !bytes.Equal(got[p], want) {
				t.Errorf("%s on the board: %q, want %q", p, got[p], want)
			}
		}
		for p := range got {
			if strings.Contains(p, ".wk-") {
				t.Errorf("left on the board: %s", p)
			}
		}
	}
	checkFlash(mpy)
	res, err = mip.Install(ctx, s, []string{"greet@1.0"}, opts, nil)
	if err != nil || res.Written != 0 || res.Skipped != 3 {
		t.Errorf("second install: %+v, %v; want every file skipped", res, err)
	}
	// --no-mpy: the .py variant replaces the files, and runs.
	opts.NoMPY = true
	if res, err = mip.Install(ctx, s, []string{"greet"}, opts, nil); err != nil || res.Written != 3 {
		t.Fatalf("--no-mpy: %+v, %v", res, err)
	}
	checkFlash("py")
	before := readTree(t, flash)
	_, err = mip.Install(ctx, s, []string{"greet@9.9"}, opts, nil)
	if err == nil || !strings.Contains(err.Error(), "no package greet version 9.9") || strings.Contains(err.Error(), "\n") {
		t.Errorf("wrong version: %v", err)
	}
	_, err = mip.Install(ctx, s, []string{"nosuch"}, opts, nil)
	if err == nil || !strings.Contains(err.Error(), "no package nosuch") {
		t.Errorf("unknown package: %v", err)
	}
	srv.Close()
	_, err = mip.Install(ctx, s, []string{"util"}, mip.Options{Index: srv.URL, Target: "other"}, nil)
	if err == nil || errors.Is(err, mip.ErrNotFound) || strings.Contains(err.Error(), "\n") {
		t.Errorf("server down: %v", err)
	}
	if after := readTree(t, flash); len(after) != len(before) {
		t.Errorf("failed installs changed the board: %d files before, %d after", len(before), len(after))
	}
	if _, err := os.Stat(filepath.Join(flash, "other")); err == nil {
		t.Error("a failed install left a folder")
	}
}
