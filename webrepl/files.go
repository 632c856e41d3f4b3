package webrepl

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"webrepl-kernel/internal/boardpy"
)

// FileInfo describes one entry of the board's file system.
type FileInfo struct {
	Name  string
	Size  int64
	IsDir bool
}

// File-transfer request types (§2.1).
const (
	fileOpPut    = 1
	fileOpGet    = 2
	fileOpGetVer = 3
	// MaxNameLen is the longest file name WebREPL's file protocol carries.
	MaxNameLen = 63
	putChunk   = 1024 // data frame size, as the reference clients use
)

const fileStatusOK = "WB\x00\x00"

// File-system errors of the board that have no io/fs counterpart; each
// error from List, Stat, Remove, Mkdir, Put and Get that the board raised
// matches one of these, fs.ErrNotExist, fs.ErrExist or fs.ErrPermission
// with errors.Is when its errno is known.
var (
	ErrNotDir   = errors.New("not a folder")                       // ENOTDIR 20
	ErrIsDir    = errors.New("is a folder")                        // EISDIR 21
	ErrNoSpace  = errors.New("no space left on the board's flash") // ENOSPC 28
	ErrNotEmpty = errors.New("folder not empty")                   // ENOTEMPTY 39
	// ErrPutStopped: a Put was cancelled part-way; the board keeps what
	// had arrived, an incomplete file.
	ErrPutStopped = errors.New("stopped")
	// ErrGetCorrupt: the bytes a Get received differ from the file on the
	// board (hash or size computed there after the transfer).
	ErrGetCorrupt = errors.New("the data received does not match the file on the board")
)

// Check says how a transfer was checked on the board after it ended.
type Check string

const (
	// CheckSHA256: the board hashed the file with hashlib.sha256.
	CheckSHA256 Check = "SHA-256"
	// CheckSize: the board has no hashlib.sha256; only the size was compared.
	CheckSize Check = "size"
)

// fileRecord builds the 82-byte request "<2sBBQLH64s" (§2.1).
func fileRecord(op byte, size uint32, name string) []byte {
	rec := make([]byte, 82)
	rec[0], rec[1], rec[2] = 'W', 'A', op
	binary.LittleEndian.PutUint32(rec[12:], size)
	binary.LittleEndian.PutUint16(rec[16:], uint16(len(name)))
	copy(rec[18:], name)
	return rec
}

// checkRemoteName refuses names the board cannot take, before anything is
// sent: the name travels NUL-terminated in 64 bytes, and it is also quoted
// into Python source for the checks around a transfer.
func checkRemoteName(name string) error {
	switch {
	case name == "":
		return errors.New("empty file name")
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: %.70q is %d bytes", ErrNameTooLong, name, len(name))
	case strings.IndexByte(name, 0) >= 0:
		return fmt.Errorf("file name %q contains a NUL byte", name)
	case !utf8.ValidString(name):
		return fmt.Errorf("file name %q is not valid UTF-8", name)
	}
	return nil
}

// askVersion sends GET_VER (§2.5); readVersion reads the answer.
func askVersion(l *link) error {
	return l.writeFile(fileRecord(fileOpGetVer, 0, ""))
}

// readVersion reads the answer to askVersion: three bytes, major, minor,
// micro.
func (s *Session) readVersion(ctx context.Context, l *link) (Version, error) {
	vctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	b, err := l.file.readFull(vctx, 3)
	if err != nil {
		return Version{}, stepError(ctx, err, "waiting for the firmware version (GET_VER)")
	}
	return Version{int(b[0]), int(b[1]), int(b[2])}, nil
}

// awaitFileStatus reads the 4-byte "WB" status record (§2.2).
func awaitFileStatus(ctx context.Context, l *link, timeout time.Duration, step string) error {
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	b, err := l.file.readFull(sctx, 4)
	if err != nil {
		return stepError(ctx, err, step)
	}
	if !bytes.Equal(b, []byte(fileStatusOK)) {
		return fmt.Errorf("unexpected file-transfer status % x from the board (%s)", b, step)
	}
	return nil
}

// boardFSError is an OSError from the board's file system.
type boardFSError struct {
	exc  *Exception
	kind error // fs.ErrNotExist, …, or nil
}

func (e *boardFSError) Error() string {
	if e.kind != nil {
		return fmt.Sprintf("%v (board: %s: %s)", e.kind, e.exc.Type, e.exc.Message)
	}
	return fmt.Sprintf("board raised %s: %s", e.exc.Type, e.exc.Message)
}

func (e *boardFSError) Unwrap() error { return e.kind }

var errnoPattern = regexp.MustCompile(`^(?:\[Errno (\d+)\]|(\d+)$)`)

// fsError maps an exception from a file-system helper to a *fs.PathError
// that matches fs.ErrNotExist, fs.ErrExist or fs.ErrPermission as fits.
func fsError(op, path string, exc *Exception) error {
	e := &boardFSError{exc: exc}
	if exc.Type == "OSError" {
		if m := errnoPattern.FindStringSubmatch(exc.Message); m != nil {
			n, _ := strconv.Atoi(m[1] + m[2])
			switch n {
			case 2:
				e.kind = fs.ErrNotExist
			case 17:
				e.kind = fs.ErrExist
			case 1, 13:
				e.kind = fs.ErrPermission
			case 20:
				e.kind = ErrNotDir
			case 21:
				e.kind = ErrIsDir
			case 28:
				e.kind = ErrNoSpace
			case 39, 66: // Linux and BSD numbering; MicroPython uses the port's
				e.kind = ErrNotEmpty
			}
		}
	}
	return &fs.PathError{Op: op, Path: path, Err: e}
}

// withRAW runs one file-system helper under the session's operation lock.
func (s *Session) withRAW(ctx context.Context, fn func(ctx context.Context, l *link) error) error {
	return s.withReady(ctx, func(ctx context.Context, l *link) error {
		err := fn(ctx, l)
		var dropped *droppedError
		if errors.As(err, &dropped) {
			// Keep the session usable for the next call.
			if rerr := s.reconnectLocked(ctx); rerr != nil {
				s.logf("webrepl: reconnect after a drop: %v", rerr)
			}
			err = dropped.cause
		}
		return err
	})
}

// helper runs a file operation's program (fileOp) and returns its output
// lines.
func (s *Session) helper(ctx context.Context, l *link, op, path string, program []byte) ([]string, error) {
	out, exc, err := s.runCapture(ctx, l, program)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, path, err)
	}
	if exc != nil {
		return nil, fsError(op, path, exc)
	}
	text := strings.TrimRight(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n")
	if text == "" {
		return nil, nil
	}
	return strings.Split(text, "\n"), nil
}

func (s *Session) statOn(ctx context.Context, l *link, path string) (FileInfo, error) {
	lines, err := s.helper(ctx, l, "stat", path, fileOp("stat", boardpy.Str(path)))
	if err != nil {
		return FileInfo{}, err
	}
	var mode, size int64
	if len(lines) != 1 {
		return FileInfo{}, fmt.Errorf("stat %s: unexpected answer %q", path, lines)
	}
	if _, err := fmt.Sscan(lines[0], &mode, &size); err != nil {
		return FileInfo{}, fmt.Errorf("stat %s: unexpected answer %q", path, lines[0])
	}
	name := path
	if i := strings.LastIndexByte(strings.TrimRight(path, "/"), '/'); i >= 0 {
		name = strings.TrimRight(path, "/")[i+1:]
	}
	return FileInfo{Name: name, Size: size, IsDir: mode&0x4000 != 0}, nil
}

// Stat describes one path on the board; a missing one matches fs.ErrNotExist.
func (s *Session) Stat(ctx context.Context, path string) (FileInfo, error) {
	var fi FileInfo
	err := s.withRAW(ctx, func(ctx context.Context, l *link) (err error) {
		fi, err = s.statOn(ctx, l, path)
		return err
	})
	return fi, err
}

// List returns the entries of a board directory, sorted by name.
func (s *Session) List(ctx context.Context, dir string) ([]FileInfo, error) {
	if dir == "" {
		dir = "/"
	}
	var entries []FileInfo
	err := s.withRAW(ctx, func(ctx context.Context, l *link) error {
		lines, err := s.helper(ctx, l, "list", dir, fileOp("list", boardpy.Str(dir)))
		if err != nil {
			return err
		}
		for _, line := range lines {
			name, isDir, size, err := parseEntry(dir, line)
			if err != nil {
				return err
			}
			entries = append(entries, FileInfo{Name: name, IsDir: isDir, Size: size})
		}
		return nil
	})
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	return entries, err
}

// parseEntry reads one "hex-name type size" line that py/list and py/tree
// print for an entry of dir; a folder's size is 0.
func parseEntry(dir, line string) (name string, isDir bool, size int64, err error) {
	var hexName string
	var typ int64
	if _, err := fmt.Sscan(line, &hexName, &typ, &size); err != nil {
		return "", false, 0, fmt.Errorf("list %s: unexpected answer %q", dir, line)
	}
	raw, err := hex.DecodeString(hexName)
	if err != nil {
		return "", false, 0, fmt.Errorf("list %s: unexpected answer %q", dir, line)
	}
	isDir = typ == 0x4000
	if isDir {
		return string(raw), true, 0, nil
	}
	return string(raw), false, max(size, 0), nil
}

// Remove deletes a file, or an empty directory.
func (s *Session) Remove(ctx context.Context, path string) error {
	return s.withRAW(ctx, func(ctx context.Context, l *link) error {
		_, err := s.helper(ctx, l, "remove", path, fileOp("remove", boardpy.Str(path)))
		return err
	})
}

// Mkdir creates one directory; an existing one matches fs.ErrExist.
func (s *Session) Mkdir(ctx context.Context, path string) error {
	return s.withRAW(ctx, func(ctx context.Context, l *link) error {
		_, err := s.helper(ctx, l, "mkdir", path, fileOp("mkdir", boardpy.Str(path)))
		return err
	})
}

// ParentDir is the directory a board path lives in ("" for a bare name,
// which is relative to the board's current directory).
func ParentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	switch {
	case i < 0:
		return ""
	case i == 0:
		return "/"
	}
	return p[:i]
}

// Put writes data to the board file remote over the binary protocol (§2.3),
// or on a serial link through the raw REPL (files_repl.go), and then checks the file on the board: its SHA-256 where hashlib has one,
// its size otherwise. progress, if set, sees the bytes sent so far.
func (s *Session) Put(ctx context.Context, remote string, data []byte, progress func(done, total int)) error {
	_, err := s.PutChecked(ctx, remote, data, progress)
	return err
}

// PutChecked is Put, and says how the file was checked on the board.
func (s *Session) PutChecked(ctx context.Context, remote string, data []byte, progress func(done, total int)) (Check, error) {
	if err := checkRemoteName(remote); err != nil {
		return "", err
	}
	if uint64(len(data)) > math.MaxUint32 {
		return "", fmt.Errorf("put %s: %d bytes is more than the protocol's 4 GiB limit", remote, len(data))
	}
	var check Check
	err := s.withRAW(ctx, func(ctx context.Context, l *link) error {
		// A failed open() or write() on the board drops the whole session
		// (§2.2), so look before leaping (py/put_check.py): the folder, the
		// name, and the free space. A board without statvfs skips the space
		// check.
		look := fileOp("put_check", boardpy.Str(ParentDir(remote)), boardpy.Str(remote), boardpy.Int(len(data)))
		if _, err := s.helper(ctx, l, "put", remote, look); err != nil {
			return err
		}
		if err := s.putOn(ctx, l, remote, data, progress); err != nil {
			return err
		}
		var err error
		check, err = s.verifyOn(ctx, l, remote, data, true)
		return err
	})
	return check, err
}

func (s *Session) putOn(ctx context.Context, l *link, remote string, data []byte, progress func(done, total int)) error {
	if !l.fileChannel() {
		return s.putREPL(ctx, l, remote, data, progress)
	}
	if stale := l.file.takeBuffered(); len(stale) > 0 {
		s.logf("webrepl: discarded %d stale file-channel bytes", len(stale))
	}
	total := len(data)
	if progress != nil {
		progress(0, total)
	}
	sent := 0
	// Once the request is out, the board's file channel is in the middle
	// of a transfer until it sends the closing status; a failure before
	// that leaves it there, so the link is closed and the next operation
	// reconnects rather than feed the board's file parser (§2.1, §2.3).
	fail := func(err error) error {
		l.close()
		if sent < total && errors.Is(err, context.Canceled) {
			if strings.HasSuffix(remote, tmpSuffix) { // staged (atomic.go)
				return fmt.Errorf("put: %w after %d of %d bytes; only the temporary %s was written, the file it was to replace is unchanged: %w", ErrPutStopped, sent, total, remote, err)
			}
			return fmt.Errorf("put %s: %w after %d of %d bytes, the file on the board is incomplete: %w", remote, ErrPutStopped, sent, total, err)
		}
		return putDropped(remote, err)
	}
	if err := l.writeFile(fileRecord(fileOpPut, uint32(total), remote)); err != nil {
		return fail(err)
	}
	if err := awaitFileStatus(ctx, l, 10*time.Second, "waiting for the board to open "+remote); err != nil {
		return fail(err)
	}
	for off := 0; off < total; off += putChunk {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		end := min(off+putChunk, total)
		if err := l.writeFile(data[off:end]); err != nil {
			return fail(err)
		}
		sent = end
		if progress != nil {
			progress(end, total)
		}
	}
	// ESP8266 writes about 25 kB/s (§2.3); allow several times that.
	wait := 10*time.Second + time.Duration(total/5000)*time.Second
	if err := awaitFileStatus(ctx, l, wait, "waiting for the board to confirm "+remote+" was written"); err != nil {
		return fail(err)
	}
	return nil
}

func putDropped(remote string, err error) error {
	if errors.Is(err, ErrLinkLost) {
		return &droppedError{cause: fmt.Errorf("put %s: the board dropped the connection during the transfer (flash full?): %w", remote, err)}
	}
	return fmt.Errorf("put %s: %w", remote, err)
}

// verifyOn checks the board file remote against data, which was sent to
// the board (put) or received from it (get): the board computes the file's
// SHA-256, or its size where hashlib has no sha256.
func (s *Session) verifyOn(ctx context.Context, l *link, remote string, data []byte, sent bool) (Check, error) {
	lines, err := s.helper(ctx, l, "verify", remote, fileOp("verify", boardpy.Str(remote)))
	if err != nil {
		return "", err
	}
	if len(lines) != 1 {
		return "", fmt.Errorf("verify %s: unexpected answer %q", remote, lines)
	}
	mismatch, moved := ErrVerifyFailed, "sent"
	if !sent {
		mismatch, moved = ErrGetCorrupt, "received"
	}
	kind, value, _ := strings.Cut(lines[0], " ")
	switch kind {
	case "sha256":
		sum := sha256.Sum256(data)
		if want := hex.EncodeToString(sum[:]); value != want {
			return "", fmt.Errorf("%w: %s has SHA-256 %.12s… on the board, the %d bytes %s have %.12s…", mismatch, remote, value, len(data), moved, want)
		}
		return CheckSHA256, nil
	case "size":
		if value != strconv.Itoa(len(data)) {
			return "", fmt.Errorf("%w: %s has %s bytes on the board, %d were %s", mismatch, remote, value, len(data), moved)
		}
		return CheckSize, nil
	}
	return "", fmt.Errorf("verify %s: unexpected answer %q", remote, lines[0])
}

// Get reads the board file remote over the binary protocol (§2.4) and
// checks what arrived against the file's SHA-256 (or size) computed on the
// board afterwards; a mismatch matches ErrGetCorrupt. progress, if set, sees
// the bytes received so far out of the size the board reported beforehand.
func (s *Session) Get(ctx context.Context, remote string, progress func(done, total int)) ([]byte, error) {
	data, _, err := s.GetChecked(ctx, remote, progress)
	return data, err
}

// GetChecked is Get, and says how the data was checked on the board.
func (s *Session) GetChecked(ctx context.Context, remote string, progress func(done, total int)) ([]byte, Check, error) {
	if err := checkRemoteName(remote); err != nil {
		return nil, "", err
	}
	var data []byte
	var check Check
	err := s.withRAW(ctx, func(ctx context.Context, l *link) error {
		// A missing file would make the board drop the session (§2.2).
		fi, err := s.statOn(ctx, l, remote)
		if err != nil {
			return err
		}
		if fi.IsDir {
			return &fs.PathError{Op: "get", Path: remote, Err: ErrIsDir}
		}
		data, err = s.getOn(ctx, l, remote, int(fi.Size), progress)
		if err != nil {
			return err
		}
		check, err = s.verifyOn(ctx, l, remote, data, false)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return data, check, nil
}

// getGrowth bounds how much more than its announced size a file may send
// (it is being written while it is read): the hash check reports it, but
// the buffer stays bounded.
const getGrowth = 1 << 20

func (s *Session) getOn(ctx context.Context, l *link, remote string, total int, progress func(done, total int)) ([]byte, error) {
	if !l.fileChannel() {
		return s.getREPL(ctx, l, remote, total, progress)
	}
	if stale := l.file.takeBuffered(); len(stale) > 0 {
		s.logf("webrepl: discarded %d stale file-channel bytes", len(stale))
	}
	// As in putOn: a GET left half-way would take later requests for
	// chunk requests (§2.4.1), so a failure closes the link.
	fail := func(err error) error {
		l.close()
		return getDropped(remote, err)
	}
	if err := l.writeFile(fileRecord(fileOpGet, 0, remote)); err != nil {
		return nil, fail(err)
	}
	if err := awaitFileStatus(ctx, l, 10*time.Second, "waiting for the board to open "+remote); err != nil {
		return nil, fail(err)
	}
	if progress != nil {
		progress(0, total)
	}
	data := make([]byte, 0, total)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fail(err)
		}
		if err := l.writeFile([]byte{0}); err != nil {
			return nil, fail(err)
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		hdr, err := l.file.readFull(cctx, 2)
		n := 0
		if err == nil {
			n = int(binary.LittleEndian.Uint16(hdr))
			var chunk []byte
			chunk, err = l.file.readFull(cctx, n)
			data = append(data, chunk...)
		}
		cancel()
		if err != nil {
			return nil, fail(stepError(ctx, err, "waiting for the next chunk of "+remote))
		}
		if n == 0 {
			break
		}
		if len(data) > total+getGrowth {
			return nil, fail(fmt.Errorf("%w: %s grew past %d bytes during the transfer (%d announced)", ErrGetCorrupt, remote, len(data), total))
		}
		if progress != nil {
			progress(len(data), max(total, len(data)))
		}
	}
	if err := awaitFileStatus(ctx, l, 10*time.Second, "waiting for the end of "+remote); err != nil {
		return nil, fail(err)
	}
	if len(data) != total {
		s.logf("webrepl: %s changed during the transfer: %d bytes announced, %d read", remote, total, len(data))
	}
	return data, nil
}

func getDropped(remote string, err error) error {
	if errors.Is(err, ErrLinkLost) {
		return &droppedError{cause: fmt.Errorf("get %s: %w", remote, err)}
	}
	return fmt.Errorf("get %s: %w", remote, err)
}
