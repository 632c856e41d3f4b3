package sim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
)

// WebREPL file-transfer constants (docs/protocol/webrepl.md §2).
const (
	xferHeaderSize = 82
	xferPut        = 1
	xferGet        = 2
	xferGetVer     = 3
	xferGetChunk   = 256
	xferPutStep    = 512
)

// statusOK is the only status record the firmware ever sends.
const statusOK = "WB\x00\x00"

// status is the status record to send, statusError if fault is in force.
func (x *fileTransfer) status(fault Fault) string {
	if x.currentFault() == fault {
		return statusError
	}
	return statusOK
}

type xferState int

const (
	xferHeader  xferState = iota // collecting an 82-byte request
	xferPutting                  // receiving PUT data
	xferGetting                  // answering chunk requests
	xferDead                     // unknown request type: the binary channel stays dead
)

// fileTransfer is the board's binary-frame state machine (modwebrepl.c),
// working on the flash folder. Errors it returns are what kills the session
// on a real board (an exception escaping dupterm's read hook).
type fileTransfer struct {
	flashDir     string
	version      []byte // the GET_VER answer: the modelled firmware (Options.Firmware)
	state        xferState
	header       [xferHeaderSize]byte
	headerLen    int
	file         *os.File
	putRemaining uint32
	putBuf       []byte
	putTarget    string // PUT: where the temporary file goes when complete
	putSize      uint32 // PUT: the size announced in the header
	getSent      int    // GET: data bytes sent so far
	fault        func() Fault
}

// currentFault is the board's fault mode (FaultNone when none is wired).
func (x *fileTransfer) currentFault() Fault {
	if x.fault == nil {
		return FaultNone
	}
	return x.fault()
}

// putTempPrefix names PUT files in progress; the board process skips them.
const putTempPrefix = ".webrepl-put-"

// headerInProgress reports whether a request is partly received; until it
// is complete every byte, whatever its frame type, goes into it (this is
// how a control frame's leaked payload swallows later REPL text, §1.4).
func (x *fileTransfer) headerInProgress() bool {
	return x.state == xferHeader && x.headerLen > 0
}

// feed processes binary-channel bytes in order and returns the frames to
// send back. With headerOnly it stops right after a request header is
// complete (the caller routes the rest elsewhere) and returns how many
// bytes it consumed.
func (x *fileTransfer) feed(data []byte, headerOnly bool) (consumed int, replies [][]byte, err error) {
	for consumed < len(data) {
		switch x.state {
		case xferHeader:
			n := copy(x.header[x.headerLen:], data[consumed:])
			x.headerLen += n
			consumed += n
			if x.headerLen < xferHeaderSize {
				continue
			}
			x.headerLen = 0
			r, err := x.startRequest()
			replies = append(replies, r...)
			if err != nil || headerOnly {
				return consumed, replies, err
			}
		case xferPutting:
			n := min(int(x.putRemaining), len(data)-consumed)
			start := len(x.putBuf)
			x.putBuf = append(x.putBuf, data[consumed:consumed+n]...)
			if x.currentFault() == FaultCorruptPut {
				// The middle byte of the file, if it is in this piece.
				at := int(x.putSize/2) - int(x.putSize-x.putRemaining) + start
				if at >= start && at < len(x.putBuf) {
					x.putBuf[at] ^= 0x20
				}
			}
			consumed += n
			x.putRemaining -= uint32(n)
			if len(x.putBuf) >= xferPutStep || x.putRemaining == 0 {
				if _, err := x.file.Write(x.putBuf); err != nil {
					return consumed, replies, x.fail(fmt.Errorf("writing the uploaded file: %w", err))
				}
				x.putBuf = x.putBuf[:0]
			}
			if x.putRemaining == 0 {
				if err := x.closeFile(); err != nil {
					return consumed, replies, err
				}
				replies = append(replies, []byte(x.status(FaultPutStatus)))
				x.state = xferHeader
			}
		case xferGetting:
			consumed++ // the request byte's value is only assert-checked
			chunk := make([]byte, 2+xferGetChunk)
			n, rerr := io.ReadFull(x.file, chunk[2:])
			if rerr != nil && !errors.Is(rerr, io.EOF) && !errors.Is(rerr, io.ErrUnexpectedEOF) {
				return consumed, replies, x.fail(fmt.Errorf("reading the requested file: %w", rerr))
			}
			binary.LittleEndian.PutUint16(chunk, uint16(n))
			if x.getSent == 0 && n > 0 && x.currentFault() == FaultCorruptGet {
				chunk[2+n/2] ^= 0x20
			}
			x.getSent += n
			replies = append(replies, chunk[:2+n])
			if n == 0 {
				if err := x.closeFile(); err != nil {
					return consumed, replies, err
				}
				replies = append(replies, []byte(statusOK))
				x.state = xferHeader
			}
		case xferDead:
			consumed = len(data)
		}
	}
	return consumed, replies, nil
}

// startRequest acts on a complete 82-byte header (`<2sBBQLH64s`).
func (x *fileTransfer) startRequest() ([][]byte, error) {
	typ := x.header[2]
	if typ == xferGetVer {
		return [][]byte{x.version}, nil
	}
	hostPath, err := x.hostPath(x.header[18:82])
	if err != nil {
		return nil, err
	}
	switch typ {
	case xferPut:
		// Written beside the target and renamed when complete, so that the
		// board process never loads half a file.
		if st, err := os.Stat(hostPath); err == nil && st.IsDir() {
			return nil, errors.New("OSError: [Errno 21] EISDIR")
		}
		f, err := os.CreateTemp(filepath.Dir(hostPath), putTempPrefix+"*")
		if err != nil {
			return nil, boardOSError(err)
		}
		x.file, x.putTarget = f, hostPath
		x.putRemaining = binary.LittleEndian.Uint32(x.header[12:16])
		x.putSize = x.putRemaining
		if x.putRemaining == 0 {
			if err := x.closeFile(); err != nil {
				return nil, err
			}
			return [][]byte{[]byte(statusOK), []byte(x.status(FaultPutStatus))}, nil
		}
		x.state = xferPutting
		return [][]byte{[]byte(statusOK)}, nil
	default:
		f, err := openForReading(hostPath)
		if err != nil {
			return nil, err
		}
		x.file = f
		if typ == xferGet {
			if x.currentFault() == FaultGetStatus {
				if err := x.closeFile(); err != nil {
					return nil, err
				}
				return [][]byte{[]byte(statusError)}, nil
			}
			x.state = xferGetting
			x.getSent = 0
		} else {
			x.state = xferDead
		}
		return [][]byte{[]byte(statusOK)}, nil
	}
}

// hostPath maps the NUL-terminated board path to the flash folder. Board
// paths are cleaned against "/" (the board's current directory), so none
// can leave the folder.
func (x *fileTransfer) hostPath(field []byte) (string, error) {
	end := bytes.IndexByte(field, 0)
	if end < 0 {
		return "", errors.New("file name in the transfer request is not NUL-terminated")
	}
	name := string(field[:end])
	if name == "" {
		return "", errors.New("OSError: [Errno 2] ENOENT (empty file name)")
	}
	return filepath.Join(x.flashDir, filepath.FromSlash(path.Clean("/"+name))), nil
}

func openForReading(hostPath string) (*os.File, error) {
	f, err := os.Open(hostPath)
	if err != nil {
		return nil, boardOSError(err)
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		f.Close()
		return nil, errors.New("OSError: [Errno 21] EISDIR")
	}
	return f, nil
}

// boardOSError words a host error the way MicroPython prints it.
func boardOSError(err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("OSError: [Errno 2] ENOENT: %w", err)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("OSError: [Errno 13] EACCES: %w", err)
	}
	return fmt.Errorf("OSError: %w", err)
}

// closeFile closes the open file; a PUT's temporary file then replaces
// its target.
func (x *fileTransfer) closeFile() error {
	if x.file == nil {
		return nil
	}
	f, target := x.file, x.putTarget
	x.file, x.putTarget = nil, ""
	if err := f.Close(); err != nil {
		if target != "" {
			os.Remove(f.Name())
		}
		return fmt.Errorf("closing the transferred file: %w", err)
	}
	if target != "" {
		if err := os.Rename(f.Name(), target); err != nil {
			os.Remove(f.Name())
			return fmt.Errorf("storing the uploaded file: %w", err)
		}
	}
	return nil
}

func (x *fileTransfer) fail(err error) error {
	x.release()
	return err
}

// release closes a file left open by a session that ended mid-transfer.
// As on the board, an interrupted PUT leaves the part received so far.
func (x *fileTransfer) release() {
	if x.state == xferPutting && len(x.putBuf) > 0 && x.file != nil {
		_, _ = x.file.Write(x.putBuf)
		x.putBuf = x.putBuf[:0]
	}
	_ = x.closeFile()
}
