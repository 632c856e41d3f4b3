package webrepl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"webrepl-kernel/internal/boardpy"
)

// Writing a file so that it is never half-written (docs/design.md, "Files
// that are never half-written"): the data goes to a temporary name in the
// same folder (Stage), is checked there by its SHA-256, optionally compiled
// (CheckSyntax), and only then replaces the file (Commit): the old file is
// renamed to a backup name, the temporary to the final name, and the backup
// removed. A transfer cut off at any point leaves the old file or the new
// one; Recover, run before every staging in a folder, removes temporaries
// left behind and finishes a commit that was cut between its renames.
//
// MicroPython's rename differs by file system: littlefs replaces an
// existing destination in one step (lfs2_rename, extmod/vfs_lfsx.c), FAT
// removes it and then renames (fat_vfs_rename, extmod/vfs_fat.c), which
// alone would leave a moment with neither file; the backup closes it.

const (
	tmpSuffix    = ".wk-tmp"
	backupSuffix = ".wk-old"
)

// ErrSyntax: a staged .py file does not compile on the board; the error is
// a *SyntaxError.
var ErrSyntax = errors.New("syntax error")

// SyntaxError is what the board's compile() said of a staged Python file.
type SyntaxError struct {
	Path    string
	Line    int    // 0 when the board named none
	Message string // "invalid syntax"
	Text    string // as the board printed it
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s, line %d: %s", e.Path, e.Line, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Message)
}

func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// splitPath is a board path's folder ("" for the current one) and name.
func splitPath(p string) (dir, base string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i+1], p[i+1:]
}

// TempName is the name remote is staged under: ".NAME.wk-tmp" in its
// folder, or, when that would pass the protocol's 63 bytes, ".wk-HASH.wk-tmp"
// with the first 8 hex digits of the name's SHA-256.
func TempName(remote string) string {
	dir, base := splitPath(remote)
	if t := dir + "." + base + tmpSuffix; len(t) <= MaxNameLen {
		return t
	}
	sum := sha256.Sum256([]byte(base))
	return dir + ".wk-" + hex.EncodeToString(sum[:4]) + tmpSuffix
}

// backupName is where Commit keeps the old remote for the moment of the
// switch (only Python sees it, so it has no length limit).
func backupName(remote string) string {
	dir, base := splitPath(remote)
	return dir + "." + base + backupSuffix
}

// Recover tidies folder after transfers that were cut off (py/recover.py)
// and returns what it changed, one line each ("removed X", "restored Y").
func (s *Session) Recover(ctx context.Context, folder string) ([]string, error) {
	var lines []string
	err := s.withRAW(ctx, func(ctx context.Context, l *link) (err error) {
		lines, err = s.recoverOn(ctx, l, folder)
		return err
	})
	return lines, err
}

func (s *Session) recoverOn(ctx context.Context, l *link, folder string) ([]string, error) {
	lines, err := s.helper(ctx, l, "recover", folder, fileOp("recover", boardpy.Str(strings.TrimSuffix(folder, "/"))))
	for _, line := range lines {
		s.logf("webrepl: after a transfer cut off: %s", line)
	}
	return lines, err
}

// Stage writes data to remote's temporary name (TempName) and checks it by
// its SHA-256 (or size) on the board; remote itself is untouched. Callers
// tidy the folder first (Recover), once, before staging any file in it (a
// Recover removes what was staged). A stage cut off leaves a temporary that
// the next Recover of the folder removes.
func (s *Session) Stage(ctx context.Context, remote string, data []byte, progress func(done, total int)) (Check, error) {
	if err := checkRemoteName(remote); err != nil {
		return "", err
	}
	if uint64(len(data)) > math.MaxUint32 {
		return "", fmt.Errorf("put %s: %d bytes is more than the protocol's 4 GiB limit", remote, len(data))
	}
	tmp := TempName(remote)
	var check Check
	err := s.withRAW(ctx, func(ctx context.Context, l *link) error {
		// The old file stays until the switch, so the whole size must fit
		// (put_check.py); remote being a folder is refused here as well.
		look := fileOp("put_check", boardpy.Str(ParentDir(remote)), boardpy.Str(remote), boardpy.Int(0))
		if _, err := s.helper(ctx, l, "put", remote, look); err != nil {
			return err
		}
		look = fileOp("put_check", boardpy.Str(ParentDir(remote)), boardpy.Str(tmp), boardpy.Int(len(data)))
		if _, err := s.helper(ctx, l, "put", remote, look); err != nil {
			return err
		}
		if err := s.putOn(ctx, l, tmp, data, progress); err != nil {
			return err
		}
		var err error
		check, err = s.verifyOn(ctx, l, tmp, data, true)
		return err
	})
	return check, err
}

// CheckSyntax compiles the staged temporary of remote on the board under
// remote's name (py/compile_check.py). A syntax error removes the temporary
// and is a *SyntaxError (matching ErrSyntax); note is non-empty when the
// board could not check (no compile(), or too little memory).
func (s *Session) CheckSyntax(ctx context.Context, remote string) (note string, err error) {
	err = s.withRAW(ctx, func(ctx context.Context, l *link) error {
		lines, err := s.helper(ctx, l, "compile", remote, fileOp("compile_check", boardpy.Str(TempName(remote)), boardpy.Str(remote)))
		if err != nil {
			return err
		}
		if len(lines) == 0 {
			return fmt.Errorf("compile %s: no answer", remote)
		}
		switch first := lines[0]; {
		case first == "ok":
			return nil
		case strings.HasPrefix(first, "unchecked "):
			note = strings.TrimPrefix(first, "unchecked ")
			return nil
		case first == "syntax":
			return parseSyntaxError(remote, lines[1:])
		}
		return fmt.Errorf("compile %s: unexpected answer %q", remote, lines)
	})
	return note, err
}

// parseSyntaxError reads sys.print_exception's text: a File "…", line N
// line and the exception line last.
func parseSyntaxError(remote string, lines []string) *SyntaxError {
	e := &SyntaxError{Path: remote, Message: "invalid syntax", Text: strings.Join(lines, "\n")}
	for _, line := range lines {
		line = strings.TrimSpace(line)
		if i := strings.LastIndex(line, ", line "); strings.HasPrefix(line, "File ") && i >= 0 {
			num := line[i+len(", line "):]
			if j := strings.IndexByte(num, ','); j >= 0 {
				num = num[:j]
			}
			e.Line, _ = strconv.Atoi(num)
		}
		if msg, ok := strings.CutPrefix(line, "SyntaxError:"); ok {
			e.Message = strings.TrimSpace(msg)
		}
	}
	return e
}

// Commit puts the staged temporaries of remotes in place (py/commit.py):
// nothing moves unless every temporary is there; each file then switches
// from old to new through a backup name, so a cut leaves one of the two.
func (s *Session) Commit(ctx context.Context, remotes ...string) error {
	if len(remotes) == 0 {
		return nil
	}
	args := make([]boardpy.Value, 0, 3*len(remotes))
	for _, r := range remotes {
		args = append(args, boardpy.Str(TempName(r)), boardpy.Str(r), boardpy.Str(backupName(r)))
	}
	return s.withRAW(ctx, func(ctx context.Context, l *link) error {
		_, err := s.helper(ctx, l, "commit", remotes[0], fileOp("commit", args...))
		return err
	})
}

// Discard removes the staged temporaries of remotes that are there.
func (s *Session) Discard(ctx context.Context, remotes ...string) error {
	if len(remotes) == 0 {
		return nil
	}
	args := make([]boardpy.Value, 0, len(remotes))
	for _, r := range remotes {
		args = append(args, boardpy.Str(TempName(r)))
	}
	return s.withRAW(ctx, func(ctx context.Context, l *link) error {
		_, err := s.helper(ctx, l, "discard", remotes[0], fileOp("discard", args...))
		return err
	})
}

// discardAfter removes what a failed transfer staged, best effort, on a
// short deadline of its own. After an Interrupt it is not called (the user
// asked to stop now): what stays is removed by the next Recover there.
func (s *Session) discardAfter(ctx context.Context, remotes ...string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.Discard(dctx, remotes...); err != nil {
		s.logf("webrepl: removing staged files after a failed transfer: %v", err)
	}
}

// PutOptions change PutAtomic.
type PutOptions struct {
	// Compile: compile the file on the board before it replaces the old
	// one; a syntax error keeps the old file (see CheckSyntax).
	Compile bool
}

// PutResult says how a PutAtomic went.
type PutResult struct {
	Check Check
	// CompileNote is set when a compile check was asked for and the board
	// could not do it.
	CompileNote string
}

// PutAtomic writes data to remote so that it is never half-written: Stage,
// CheckSyntax when opts.Compile, Commit. On failure the old file (or no
// file) is on the board as before.
func (s *Session) PutAtomic(ctx context.Context, remote string, data []byte, opts PutOptions, progress func(done, total int)) (PutResult, error) {
	var res PutResult
	if err := checkRemoteName(remote); err != nil {
		return res, err
	}
	_, err := s.Recover(ctx, ParentDir(remote))
	var check Check
	if err == nil {
		check, err = s.Stage(ctx, remote, data, progress)
	}
	if err == nil && opts.Compile {
		res.CompileNote, err = s.CheckSyntax(ctx, remote)
	}
	if err == nil {
		err = s.Commit(ctx, remote)
	}
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, ErrSyntax) {
			s.discardAfter(ctx, remote)
		}
		return PutResult{}, err
	}
	res.Check = check
	return res, nil
}

// Hashes returns, for each path, the SHA-256 of the board file in hex, ""
// when there is no such file, or "size:N" where the board has no
// hashlib.sha256 (py/hashes.py).
func (s *Session) Hashes(ctx context.Context, paths ...string) ([]string, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	args := make([]boardpy.Value, len(paths))
	for i, p := range paths {
		args[i] = boardpy.Str(p)
	}
	var out []string
	err := s.withRAW(ctx, func(ctx context.Context, l *link) error {
		lines, err := s.helper(ctx, l, "hash", paths[0], fileOp("hashes", args...))
		if err != nil {
			return err
		}
		if len(lines) != len(paths) {
			return fmt.Errorf("hash %s: %d answers for %d files", paths[0], len(lines), len(paths))
		}
		for _, line := range lines {
			kind, value, _ := strings.Cut(line, " ")
			switch kind {
			case "-":
				out = append(out, "")
			case "sha256":
				out = append(out, value)
			case "size":
				out = append(out, "size:"+value)
			default:
				return fmt.Errorf("hash %s: unexpected answer %q", paths[0], line)
			}
		}
		return nil
	})
	return out, err
}

// MkdirAll creates folder and the folders above it that are missing and
// returns those it created, outermost first (py/makedirs.py).
func (s *Session) MkdirAll(ctx context.Context, folder string) ([]string, error) {
	folder = strings.TrimRight(folder, "/")
	if folder == "" || folder == "." {
		return nil, nil
	}
	var made []string
	err := s.withRAW(ctx, func(ctx context.Context, l *link) (err error) {
		made, err = s.helper(ctx, l, "mkdir", folder, fileOp("makedirs", boardpy.Str(folder)))
		return err
	})
	return made, err
}

// LibInfo is what mip asks of the board.
type LibInfo struct {
	// MPY is the .mpy bytecode version the firmware loads
	// (sys.implementation._mpy & 0xff); 0 when it says none.
	MPY int
	// LibDir is where packages go by default: the first absolute folder
	// on sys.path ending in /lib, else /lib.
	LibDir string
}

// LibInfo asks the board for its LibInfo (py/mpy_version.py).
func (s *Session) LibInfo(ctx context.Context) (LibInfo, error) {
	var info LibInfo
	err := s.withRAW(ctx, func(ctx context.Context, l *link) error {
		out, exc, err := s.runCapture(ctx, l, []byte(boardSource("mpy_version.py")))
		if err != nil {
			return fmt.Errorf("asking the board for its .mpy version: %w", err)
		}
		if exc != nil {
			return fmt.Errorf("asking the board for its .mpy version: %s: %s", exc.Type, exc.Message)
		}
		lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(string(out), "\r", "")), "\n")
		if len(lines) != 2 {
			return fmt.Errorf("asking the board for its .mpy version: unexpected answer %q", out)
		}
		n, err := strconv.Atoi(strings.TrimSpace(lines[0]))
		if err != nil {
			return fmt.Errorf("asking the board for its .mpy version: unexpected answer %q", out)
		}
		info = LibInfo{MPY: n, LibDir: strings.TrimSpace(lines[1])}
		return nil
	})
	return info, err
}

// TreeEntry is one entry below a folder (Tree): its path relative to that
// folder, with / between names.
type TreeEntry struct {
	Path  string
	Size  int64
	IsDir bool
}

// Tree lists everything below dir (py/tree.py), sorted by path; a missing
// dir matches fs.ErrNotExist.
func (s *Session) Tree(ctx context.Context, dir string) ([]TreeEntry, error) {
	var entries []TreeEntry
	err := s.withRAW(ctx, func(ctx context.Context, l *link) error {
		lines, err := s.helper(ctx, l, "list", dir, fileOp("tree", boardpy.Str(dir)))
		if err != nil {
			return err
		}
		if len(lines) == 1 && lines[0] == "-1" {
			return &fs.PathError{Op: "list", Path: dir, Err: fs.ErrNotExist}
		}
		for _, line := range lines {
			name, isDir, size, err := parseEntry(dir, line)
			if err != nil {
				return err
			}
			entries = append(entries, TreeEntry{Path: name, IsDir: isDir, Size: size})
		}
		return nil
	})
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	return entries, err
}
