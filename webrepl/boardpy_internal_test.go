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

// inputRing is the ESP8266's raw REPL input buffer: the login probes must
// arrive whole however the caller paces its own programs (§5.1).
const inputRing = 255

func TestBoardFilesCompile(t *testing.T) {
	boardpytest.FilesCompile(t, boardFiles, "py/*.py")
	programs := map[string][]byte{"probe": probeProgram("0123456789abcdef"), "unique id": uniqueIDProgram, "reset": resetProgram,
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
	// (dial.go, fastEnter).
	hello := helloProgram("01234567", "89abcdef")
	for name, program := range map[string][]byte{"probe": probeProgram("0123456789abcdef"), "unique id": uniqueIDProgram,
		"hello with its keys": append(make([]byte, 7), hello...)} {
		if len(program) >= inputRing {
			t.Errorf("the %s program is %d bytes, not under the %d-byte input ring:\n%s", name, len(program), inputRing, program)
		}
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
	// Login probes: the first marker stays; the unix port has neither
	// os.uname nor machine.
	out, exc := run(append(probeProgram("cafe"), probeProgram("beef")...))
	if want := "cafe\n?\n?\n?\ncafe\n?\n?\n?\n"; exc != nil || out != want {
		t.Errorf("probes printed %q (%v), want %q", out, exc, want)
	}
	if out, exc := run(uniqueIDProgram); exc != nil || out != "?\n" {
		t.Errorf("unique id printed %q (%v), want ?", out, exc)
	}
	// The first program of a connection: the nonce, joined, then the
	// marker (on a fresh board the nonce, which stays) and what os.uname()
	// says; on a board with a marker, that one.
	if out, exc := run(append(helloProgram("ab", "cd"), probeProgram("beef")...)); exc != nil || out != "abcd\nabcd\n?\n?\n?\nabcd\n?\n?\n?\n" {
		t.Errorf("hello then a probe printed %q (%v), want the nonce abcd kept as the marker", out, exc)
	}
	if out, exc := run(append(probeProgram("cafe"), helloProgram("0123", "4567")...)); exc != nil || out != "cafe\n?\n?\n?\n01234567\ncafe\n?\n?\n?\n" {
		t.Errorf("a probe then hello printed %q (%v), want hello to print its nonce and the marker cafe", out, exc)
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
	// The session left its marker at login: a probe prints that one.
	out, exc := run(probeProgram("beef"))
	if lines := strings.Split(out, "\n"); exc != nil || len(lines) != 5 || lines[0] != s.Board().Boot || lines[1] != "esp32" {
		t.Errorf("probe printed %q (%v), want the login's marker %q and the esp32 port", out, exc, s.Board().Boot)
	}
	// The first program prints its nonce, then the marker there, the port.
	out, exc = run(helloProgram("0123", "4567"))
	if lines := strings.Split(out, "\n"); exc != nil || len(lines) != 6 || lines[0] != "01234567" || lines[1] != s.Board().Boot || lines[2] != "esp32" {
		t.Errorf("hello printed %q (%v), want the nonce, the login's marker %q and the esp32 port", out, exc, s.Board().Boot)
	}
	if out, exc := run(uniqueIDProgram); exc != nil || len(strings.TrimSpace(out)) != 12 {
		t.Errorf("unique id printed %q (%v), want 6 bytes in hex", out, exc)
	}
}
