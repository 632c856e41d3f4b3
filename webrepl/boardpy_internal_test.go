package webrepl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"webrepl-kernel/internal/boardpy"
	"webrepl-kernel/internal/boardpy/boardpytest"
	"webrepl-kernel/sim"
)

// This package's board-side Python (py/*.py) under real MicroPython: each
// file compiles, as written and as sent, and each program does what the Go
// code that reads its answer expects, on realmp's unix MicroPython and on
// the simulator's MicroPython WebAssembly. (py/reset.py is compiled here and
// run by the simulator's hard-reset tests: no unix board has machine.reset.)

func TestBoardFilesCompile(t *testing.T) {
	boardpytest.FilesCompile(t, boardFiles, "py/*.py")
	programs := map[string][]byte{"identity": identityProgram, "reset": resetProgram,
		"hello": helloProgram("01234567", "89abcdef")}
	for _, op := range []string{"stat", "list", "remove", "mkdir", "verify"} {
		programs[op] = fileOp(op, boardpy.Str("a/b.txt"))
	}
	programs["put_check"] = fileOp("put_check", boardpy.Str("a"), boardpy.Str("a/b.txt"), boardpy.Int(100))
	for _, op := range []string{"recover", "tree", "makedirs", "hashes", "discard"} {
		programs[op] = fileOp(op, boardpy.Str("a/b.txt"))
	}
	programs["commit"] = fileOp("commit", boardpy.Str("a/.b.wk-tmp"), boardpy.Str("a/b"), boardpy.Str("a/.b.wk-old"))
	programs["compile_check"] = fileOp("compile_check", boardpy.Str("a/.b.py.wk-tmp"), boardpy.Str("a/b.py"))
	programs["mpy_version"] = []byte(boardSource("mpy_version.py"))
	programs["version"] = versionProgram
	for _, op := range []string{"write_open", "write_abort"} {
		programs[op] = fileOp(op, boardpy.Str("a/.b.txt.wk-tmp"))
	}
	programs["rename"] = fileOp("rename", boardpy.Str("a/.b.txt.wk-tmp"), boardpy.Str("a/b.txt"))
	programs["read"] = fileOp("read", boardpy.Str("a/b.txt"), boardpy.Int(384))
	for name, program := range programs {
		if err := boardpytest.Compiles(t, name, string(program)); err != nil {
			t.Errorf("the %s program does not compile: %v", name, err)
		}
	}
	// The first program travels with the 6 keys before it and its 0x04
	// (dial.go, fastEnter), and leaves room in the smallest input ring for
	// a small first program of the caller's with its raw-paste request and
	// 0x04 (DialExec): 100 bytes, a short cell wrapped by the kernel.
	frame := 6 + len(helloProgram("01234567", "89abcdef")) + 1
	if room := helloRing - frame - len(rawPasteRequest) - 1; room < 100 {
		t.Errorf("the first frame is %d bytes, leaving %d in the %d-byte input ring for the caller's first program, want 100 or more", frame, room, helloRing)
	}
	if !strings.Contains(boardSource("hello.py"), "'"+markerKey+"'") {
		t.Errorf("py/hello.py does not keep its record under %q, where py/identity.py is told to find it", markerKey)
	}
}

// opRun is one program of the exercise and what it must print, or the
// error it must raise (matched with errors.Is on fsError's answer).
type opRun struct {
	program []byte
	want    string
	raises  error
	starts  bool // want is the start of what it prints
}

// fileOpRuns exercises every file operation in a fresh folder "d".
func fileOpRuns() []opRun {
	hello := sha256.Sum256([]byte("hello"))
	globalsClean := []byte("print('_webrepl_op' in globals())\n")
	return []opRun{
		{program: fileOp("mkdir", boardpy.Str("d"))},
		{program: fileOp("mkdir", boardpy.Str("d")), raises: fs.ErrExist},
		{program: []byte("f = open('d/a.txt', 'wb')\nf.write(b'hello')\nf.close()\ndel f\n")},
		{program: fileOp("stat", boardpy.Str("d/a.txt")), want: "file 5"},
		{program: fileOp("stat", boardpy.Str("d")), want: "folder"},
		{program: fileOp("stat", boardpy.Str("d/none")), raises: fs.ErrNotExist},
		{program: fileOp("list", boardpy.Str("d")), want: hex.EncodeToString([]byte("a.txt")) + " 32768 5\n"},
		{program: fileOp("verify", boardpy.Str("d/a.txt")), want: "sha256 " + hex.EncodeToString(hello[:]) + "\n"},
		{program: fileOp("put_check", boardpy.Str("d"), boardpy.Str("d/b.txt"), boardpy.Int(10))},
		{program: fileOp("put_check", boardpy.Str(""), boardpy.Str("d"), boardpy.Int(1)), raises: ErrIsDir},
		{program: fileOp("put_check", boardpy.Str("d/a.txt"), boardpy.Str("d/a.txt/x"), boardpy.Int(1)), raises: ErrNotDir},
		{program: fileOp("put_check", boardpy.Str("d"), boardpy.Str("d/b.txt"), boardpy.Int(1<<62)), raises: ErrNoSpace},
		{program: fileOp("remove", boardpy.Str("d")), raises: ErrNotEmpty},
		{program: fileOp("remove", boardpy.Str("d/a.txt"))},
		{program: fileOp("remove", boardpy.Str("d"))},
		{program: fileOp("stat", boardpy.Str("d")), raises: fs.ErrNotExist},
		{program: globalsClean, want: "False\n"},
	}
}

// atomicOpRuns exercises the helpers of atomic.go in a fresh folder "e":
// staging, compiling, committing, recovering after cuts.
func atomicOpRuns() []opRun {
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	write := func(name, text string) []byte {
		return []byte("f = open(" + boardpy.Str(name).Literal() + ", 'w')\nf.write(" + boardpy.Str(text).Literal() + ")\nf.close()\ndel f\n")
	}
	hashes := func(names ...string) []byte {
		args := make([]boardpy.Value, len(names))
		for i, n := range names {
			args[i] = boardpy.Str(n)
		}
		return fileOp("hashes", args...)
	}
	m, tmp, old := "e/f/m.py", TempName("e/f/m.py"), backupName("e/f/m.py")
	commit := fileOp("commit", boardpy.Str(tmp), boardpy.Str(m), boardpy.Str(old))
	compile := fileOp("compile_check", boardpy.Str(tmp), boardpy.Str(m))
	return []opRun{
		{program: fileOp("makedirs", boardpy.Str("e/f")), want: "e\ne/f\n"},
		{program: fileOp("makedirs", boardpy.Str("e/f")), want: ""},
		{program: fileOp("tree", boardpy.Str("e/none")), want: "-1\n"},
		{program: fileOp("tree", boardpy.Str("e")), want: hex.EncodeToString([]byte("f")) + " 16384 -1\n"},
		{program: write(m, "x = 1\n")},
		{program: write(tmp, "x = 2\n")},
		{program: compile, want: "ok\n"},
		{program: hashes(m, "e/none", "e"), want: "sha256 " + sum("x = 1\n") + "\n-\n-\n"},
		{program: commit},
		{program: hashes(m, tmp, old), want: "sha256 " + sum("x = 2\n") + "\n-\n-\n"},
		{program: commit, raises: fs.ErrNotExist}, // no temporary: nothing moves
		{program: hashes(m), want: "sha256 " + sum("x = 2\n") + "\n"},
		{program: write(tmp, "x = 3\ny = (\n")},
		{program: compile, want: "syntax\n", starts: true},
		{program: hashes(m, tmp), want: "sha256 " + sum("x = 2\n") + "\n-\n"},
		// A commit cut between its renames: the backup and no final.
		{program: write("e/f/.n.py.wk-old", "n = 1\n")},
		{program: write("e/f/.z.wk-tmp", "half")},
		{program: fileOp("recover", boardpy.Str("e/f")), want: "removed e/f/.z.wk-tmp\nrestored e/f/n.py\n"},
		{program: hashes("e/f/n.py", "e/f/.n.py.wk-old", "e/f/.z.wk-tmp"), want: "sha256 " + sum("n = 1\n") + "\n-\n-\n"},
		// Cut after the switch: the final and its backup; the backup goes.
		{program: write(old, "x = 1\n")},
		{program: fileOp("recover", boardpy.Str("e/f")), want: ""},
		{program: hashes(m, old), want: "sha256 " + sum("x = 2\n") + "\n-\n"},
		{program: write(tmp, "t")},
		{program: fileOp("discard", boardpy.Str(tmp), boardpy.Str("e/f/.none.wk-tmp"))},
		{program: hashes(tmp), want: "-\n"},
		{program: []byte("print('_webrepl_op' in globals())\n"), want: "False\n"},
	}
}

// checkOpRun compares what a program printed or raised with run.
func checkOpRun(t *testing.T, i int, run opRun, out string, exc *Exception) {
	t.Helper()
	if exc != nil {
		err := fsError("op", "path", exc)
		if run.raises == nil || !errors.Is(err, run.raises) {
			t.Errorf("program %d raised %v, want %v:\n%s", i, err, run.raises, run.program)
		}
		return
	}
	if run.raises != nil {
		t.Errorf("program %d printed %q, want %v raised:\n%s", i, out, run.raises, run.program)
		return
	}
	if run.want == "folder" || strings.HasPrefix(run.want, "file ") { // a stat: mode and size, read as statOn does
		var mode, size int64
		if _, err := fmt.Sscan(out, &mode, &size); err != nil {
			t.Errorf("program %d printed %q, not a mode and a size", i, out)
		} else if got := map[bool]string{true: "folder", false: fmt.Sprint("file ", size)}[mode&0x4000 != 0]; got != run.want {
			t.Errorf("program %d: stat says %s (%q), want %s", i, got, out, run.want)
		}
	} else if run.starts && !strings.HasPrefix(out, run.want) {
		t.Errorf("program %d printed %q, want it to start with %q:\n%s", i, out, run.want, run.program)
	} else if !run.starts && out != run.want {
		t.Errorf("program %d printed %q, want %q:\n%s", i, out, run.want, run.program)
	}
}

func TestBoardPythonRealmp(t *testing.T) {
	boardpytest.MicroPython(t) // skips when absent
	flash := t.TempDir()
	run := func(program []byte) (string, *Exception) {
		out, _, err := boardpytest.RunIn(t, flash, string(program))
		if err != nil {
			// The unix port prints the traceback of an uncaught exception
			// on stdout, after the program's output.
			i := strings.Index(out, tracebackHeader)
			if i < 0 {
				t.Fatalf("program failed without a traceback: %v\n%s", err, out)
			}
			return out[:i], parseException([]byte(out[i:]))
		}
		return out, nil
	}
	for i, r := range append(fileOpRuns(), atomicOpRuns()...) {
		out, exc := run(r.program)
		checkOpRun(t, i, r, out, exc)
	}
	// The first program of a connection: the nonce, joined, then the
	// record (on a fresh board the nonce, which stays); the identity added
	// to the record (the unix port has neither os.uname nor
	// machine.unique_id), which the next first program prints with the
	// marker.
	if out, exc := run(helloProgram("ab", "cd")); exc != nil || out != "abcd\nabcd\n" {
		t.Errorf("hello printed %q (%v), want the nonce abcd kept as the marker", out, exc)
	}
	program := append(append(helloProgram("ab", "cd"), identityProgram...), helloProgram("0123", "4567")...)
	if out, exc := run(program); exc != nil || out != "abcd\nabcd\nabcd\n?\n?\n?\n?\n01234567\nabcd\n?\n?\n?\n?\n" {
		t.Errorf("hello, identity, hello printed %q (%v), want the record abcd with four unknowns, twice", out, exc)
	}
	var info connectInfo
	if !info.readRecord("abcd\r\n?\r\n?\r\n?\r\n?\r\n") || info.epoch != "abcd" || info.port != "" || info.uniqueID != "" {
		t.Errorf("the unix port's record reads as %+v", info)
	}
}

func TestBoardPythonSim(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := sim.Start(ctx, sim.Options{Profile: "esp32", Firmware: "1.27"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, err := Dial(ctx, b.URL(), Options{Password: b.Password()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run := func(program []byte) (string, *Exception) {
		var out strings.Builder
		res, err := s.Exec(ctx, program, &out)
		if err != nil {
			t.Fatalf("running %.60q…: %v", program, err)
		}
		return strings.ReplaceAll(out.String(), "\r\n", "\n"), res.Exception
	}
	for i, r := range append(fileOpRuns(), atomicOpRuns()...) {
		out, exc := run(r.program)
		checkOpRun(t, i, r, out, exc)
	}
	// The session left its record at login, the identity included: the
	// first program prints its nonce, then that record.
	out, exc := run(helloProgram("0123", "4567"))
	lines := strings.Split(out, "\n")
	if exc != nil || len(lines) != 7 || lines[0] != "01234567" || lines[1] != s.Board().Boot || lines[2] != "esp32" || len(lines[5]) != 12 {
		t.Errorf("hello printed %q (%v), want the nonce, the login's marker %q, the esp32 port and a 6-byte unique id", out, exc, s.Board().Boot)
	}
	var info connectInfo
	if !info.readRecord(strings.Join(lines[1:], "\n")) || info.epoch != s.Board().Boot || info.port != "esp32" || info.uniqueID != s.Board().UniqueID || info.machine != s.Board().Machine {
		t.Errorf("the record reads as %+v, want what the session learnt, %+v", info, s.Board())
	}
}
