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

	"github.com/gorilla/websocket"
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

// readVersion asks GET_VER (§2.5): three bytes, major, minor, micro.
func (s *Session) readVersion(ctx context.Context, l *link) (Version, error) {
	if err := l.write(websocket.BinaryMessage, fileRecord(fileOpGetVer, 0, "")); err != nil {
		return Version{}, err
	}
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

// pyString quotes s as a Python string literal.
func pyString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch {
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// boardCode wraps a helper body (indented one space, the os module is
// "o") in a function that is deleted afterwards, so the user's globals
// stay as they were.
func boardCode(body string) []byte {
	return []byte("def _webrepl_op(o):\n" + body +
		"try:\n _webrepl_op(__import__('os'))\nfinally:\n del _webrepl_op\n")
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
				e.kind = errors.New("not a directory")
			case 21:
				e.kind = errors.New("is a directory")
			case 28:
				e.kind = errors.New("no space left on the board's flash")
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

// helper runs a file-system helper and returns its output lines.
func (s *Session) helper(ctx context.Context, l *link, op, path, body string) ([]string, error) {
	out, exc, err := s.runCapture(ctx, l, boardCode(body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, path, err)
	}
	if exc != nil {
		return nil, fsError(op, path, exc)
	}
	text := strings.TrimRight(string(out), "\n")
	if text == "" {
		return nil, nil
	}
	return strings.Split(text, "\n"), nil
}

func (s *Session) statOn(ctx context.Context, l *link, path string) (FileInfo, error) {
	lines, err := s.helper(ctx, l, "stat", path, " s=o.stat("+pyString(path)+")\n print(s[0],s[6])\n")
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
		body := " d=" + pyString(dir) + "\n" +
			" h=__import__('binascii').hexlify\n" +
			" for e in o.ilistdir(d):\n" +
			"  s=e[3] if len(e)>3 else -1\n" +
			"  if s<0 and e[1]!=0x4000:s=o.stat(d.rstrip('/')+'/'+e[0])[6]\n" +
			"  print(h(e[0].encode()).decode(),e[1],s)\n"
		lines, err := s.helper(ctx, l, "list", dir, body)
		if err != nil {
			return err
		}
		for _, line := range lines {
			var hexName string
			var typ, size int64
			if _, err := fmt.Sscan(line, &hexName, &typ, &size); err != nil {
				return fmt.Errorf("list %s: unexpected answer %q", dir, line)
			}
			name, err := hex.DecodeString(hexName)
			if err != nil {
				return fmt.Errorf("list %s: unexpected answer %q", dir, line)
			}
			fi := FileInfo{Name: string(name), IsDir: typ == 0x4000}
			if !fi.IsDir {
				fi.Size = max(size, 0)
			}
			entries = append(entries, fi)
		}
		return nil
	})
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	return entries, err
}

// Remove deletes a file, or an empty directory.
func (s *Session) Remove(ctx context.Context, path string) error {
	return s.withRAW(ctx, func(ctx context.Context, l *link) error {
		p := pyString(path)
		_, err := s.helper(ctx, l, "remove", path,
			" if o.stat("+p+")[0]&0x4000:o.rmdir("+p+")\n else:o.remove("+p+")\n")
		return err
	})
}

// Mkdir creates one directory; an existing one matches fs.ErrExist.
func (s *Session) Mkdir(ctx context.Context, path string) error {
	return s.withRAW(ctx, func(ctx context.Context, l *link) error {
		_, err := s.helper(ctx, l, "mkdir", path, " o.mkdir("+pyString(path)+")\n")
		return err
	})
}

// parentDir is the directory a board path lives in ("" for a bare name,
// which is relative to the board's current directory).
func parentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	switch {
	case i < 0:
		return ""
	case i == 0:
		return "/"
	}
	return p[:i]
}

// Put writes data to the board file remote over the binary protocol (§2.3)
// and then checks the file on the board: its SHA-256 where hashlib has one,
// its size otherwise. progress, if set, sees the bytes sent so far.
func (s *Session) Put(ctx context.Context, remote string, data []byte, progress func(done, total int)) error {
	if err := checkRemoteName(remote); err != nil {
		return err
	}
	if uint64(len(data)) > math.MaxUint32 {
		return fmt.Errorf("put %s: %d bytes is more than the protocol's 4 GiB limit", remote, len(data))
	}
	return s.withRAW(ctx, func(ctx context.Context, l *link) error {
		// A failed open() on the board drops the whole session (§2.2), so
		// look before leaping.
		var check strings.Builder
		if d := parentDir(remote); d != "" {
			check.WriteString(" if not o.stat(" + pyString(d) + ")[0]&0x4000:raise OSError(20)\n")
		}
		check.WriteString(" try:\n  m=o.stat(" + pyString(remote) + ")[0]\n except OSError:\n  m=0\n if m&0x4000:raise OSError(21)\n")
		if _, err := s.helper(ctx, l, "put", remote, check.String()); err != nil {
			return err
		}
		if err := s.putOn(ctx, l, remote, data, progress); err != nil {
			return err
		}
		return s.verifyOn(ctx, l, remote, data)
	})
}

func (s *Session) putOn(ctx context.Context, l *link, remote string, data []byte, progress func(done, total int)) error {
	if stale := l.file.takeBuffered(); len(stale) > 0 {
		s.logf("webrepl: discarded %d stale file-channel bytes", len(stale))
	}
	total := len(data)
	if progress != nil {
		progress(0, total)
	}
	if err := l.write(websocket.BinaryMessage, fileRecord(fileOpPut, uint32(total), remote)); err != nil {
		return putDropped(remote, err)
	}
	if err := awaitFileStatus(ctx, l, 10*time.Second, "waiting for the board to open "+remote); err != nil {
		return putDropped(remote, err)
	}
	for off := 0; off < total; off += putChunk {
		end := min(off+putChunk, total)
		if err := l.write(websocket.BinaryMessage, data[off:end]); err != nil {
			return putDropped(remote, err)
		}
		if progress != nil {
			progress(end, total)
		}
	}
	// ESP8266 writes about 25 kB/s (§2.3); allow several times that.
	wait := 10*time.Second + time.Duration(total/5000)*time.Second
	if err := awaitFileStatus(ctx, l, wait, "waiting for the board to confirm "+remote+" was written"); err != nil {
		return putDropped(remote, err)
	}
	return nil
}

func putDropped(remote string, err error) error {
	if errors.Is(err, ErrLinkLost) {
		return &droppedError{cause: fmt.Errorf("put %s: the board dropped the connection during the transfer (flash full?): %w", remote, err)}
	}
	return fmt.Errorf("put %s: %w", remote, err)
}

func (s *Session) verifyOn(ctx context.Context, l *link, remote string, data []byte) error {
	p := pyString(remote)
	body := " try:\n  h=__import__('hashlib').sha256()\n except (ImportError,AttributeError):\n" +
		"  print('size',o.stat(" + p + ")[6])\n  return\n" +
		" f=open(" + p + ",'rb')\n try:\n  while 1:\n   b=f.read(512)\n   if not b:break\n   h.update(b)\n" +
		" finally:\n  f.close()\n print('sha256',__import__('binascii').hexlify(h.digest()).decode())\n"
	lines, err := s.helper(ctx, l, "verify", remote, body)
	if err != nil {
		return err
	}
	if len(lines) != 1 {
		return fmt.Errorf("verify %s: unexpected answer %q", remote, lines)
	}
	kind, value, _ := strings.Cut(lines[0], " ")
	switch kind {
	case "sha256":
		sum := sha256.Sum256(data)
		if want := hex.EncodeToString(sum[:]); value != want {
			return fmt.Errorf("%w: %s has SHA-256 %s on the board, %s was sent", ErrVerifyFailed, remote, value, want)
		}
	case "size":
		if value != strconv.Itoa(len(data)) {
			return fmt.Errorf("%w: %s has %s bytes on the board, %d were sent", ErrVerifyFailed, remote, value, len(data))
		}
	default:
		return fmt.Errorf("verify %s: unexpected answer %q", remote, lines[0])
	}
	return nil
}

// Get reads the board file remote over the binary protocol (§2.4).
// progress, if set, sees the bytes received so far out of the size the
// board reported beforehand.
func (s *Session) Get(ctx context.Context, remote string, progress func(done, total int)) ([]byte, error) {
	if err := checkRemoteName(remote); err != nil {
		return nil, err
	}
	var data []byte
	err := s.withRAW(ctx, func(ctx context.Context, l *link) error {
		// A missing file would make the board drop the session (§2.2).
		fi, err := s.statOn(ctx, l, remote)
		if err != nil {
			return err
		}
		if fi.IsDir {
			return fmt.Errorf("get %s: is a directory", remote)
		}
		data, err = s.getOn(ctx, l, remote, int(fi.Size), progress)
		return err
	})
	return data, err
}

func (s *Session) getOn(ctx context.Context, l *link, remote string, total int, progress func(done, total int)) ([]byte, error) {
	if stale := l.file.takeBuffered(); len(stale) > 0 {
		s.logf("webrepl: discarded %d stale file-channel bytes", len(stale))
	}
	if err := l.write(websocket.BinaryMessage, fileRecord(fileOpGet, 0, remote)); err != nil {
		return nil, getDropped(remote, err)
	}
	if err := awaitFileStatus(ctx, l, 10*time.Second, "waiting for the board to open "+remote); err != nil {
		return nil, getDropped(remote, err)
	}
	if progress != nil {
		progress(0, total)
	}
	data := make([]byte, 0, total)
	for {
		if err := l.write(websocket.BinaryMessage, []byte{0}); err != nil {
			return nil, getDropped(remote, err)
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
			return nil, getDropped(remote, stepError(ctx, err, "waiting for the next chunk of "+remote))
		}
		if n == 0 {
			break
		}
		if progress != nil {
			progress(len(data), max(total, len(data)))
		}
	}
	if err := awaitFileStatus(ctx, l, 10*time.Second, "waiting for the end of "+remote); err != nil {
		return nil, getDropped(remote, err)
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
