// File transfer through the raw REPL, for a link without WebREPL's file
// protocol (a serial port), as mpremote moves files (its transport.py,
// fs_writefile and fs_readfile): the data travels as programs and their
// output. A put writes base64 chunks, each a short raw-paste program (so
// raw-paste's flow control paces them), to the temporary name of atomic.go
// (TempName) in the same folder, checks that file's SHA-256 on the board
// and only then renames it over the target: a cable pulled half-way leaves
// the old file, and the temporary is one the next Recover removes. A put
// that is itself a staging (Stage writes to TempName) writes there
// directly. A get prints the file in base64 lines from one program.

package webrepl

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"webrepl-kernel/internal/boardpy"
)

const (
	// replPutChunk is how many file bytes one write program carries: its
	// base64 (1368 characters) compiles within an ESP8266's heap.
	replPutChunk = 1024
	// replGetChunk is how many bytes each base64 line of a get carries.
	replGetChunk = 384
)

// putREPL writes data to remote through the raw REPL: to a temporary,
// checked by SHA-256 (or size), then renamed into place.
func (s *Session) putREPL(ctx context.Context, l *link, remote string, data []byte, progress func(done, total int)) error {
	staged := strings.HasSuffix(remote, tmpSuffix) // Stage's own temporary: it checks and renames
	tmp := TempName(remote)
	if staged {
		tmp = remote
	}
	total := len(data)
	if progress != nil {
		progress(0, total)
	}
	sent := 0
	fail := func(err error) error {
		// Tidy on the board whatever stopped the write, with a context of
		// its own: the caller's may be what ended.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, cerr := s.helper(cctx, l, "put", remote, fileOp("write_abort", boardpy.Str(tmp))); cerr != nil {
			s.logf("webrepl: removing the temporary %s after a failed put: %v", tmp, cerr)
		}
		if ctx.Err() != nil && sent < total {
			if staged {
				return fmt.Errorf("put: %w after %d of %d bytes; only the temporary %s was written, the file it was to replace is unchanged: %w", ErrPutStopped, sent, total, remote, ctx.Err())
			}
			return fmt.Errorf("put %s: %w after %d of %d bytes; the file on the board is unchanged: %w", remote, ErrPutStopped, sent, total, ctx.Err())
		}
		return err
	}
	if _, err := s.helper(ctx, l, "put", remote, fileOp("write_open", boardpy.Str(tmp))); err != nil {
		return err
	}
	for off := 0; off < total; off += replPutChunk {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		end := min(off+replPutChunk, total)
		chunk := base64.StdEncoding.EncodeToString(data[off:end])
		if _, err := s.helper(ctx, l, "put", remote, []byte(boardpy.Call("_webrepl_w", boardpy.Str(chunk)))); err != nil {
			return fail(err)
		}
		sent = end
		if progress != nil {
			progress(end, total)
		}
	}
	if _, err := s.helper(ctx, l, "put", remote, []byte(boardpy.Call("_webrepl_w", boardpy.Str("")))); err != nil {
		return fail(err)
	}
	if staged {
		return nil
	}
	if _, err := s.verifyOn(ctx, l, tmp, data, true); err != nil {
		return fail(err)
	}
	if _, err := s.helper(ctx, l, "put", remote, fileOp("rename", boardpy.Str(tmp), boardpy.Str(remote))); err != nil {
		return fail(err)
	}
	return nil
}

// getREPL reads remote through the raw REPL: the board prints it in base64
// lines, decoded as they arrive.
func (s *Session) getREPL(ctx context.Context, l *link, remote string, total int, progress func(done, total int)) ([]byte, error) {
	if progress != nil {
		progress(0, total)
	}
	d := &base64Lines{data: make([]byte, 0, total), limit: total + getGrowth, progress: progress, total: total}
	res, err := s.execOn(ctx, l, fileOp("read", boardpy.Str(remote), boardpy.Int(replGetChunk)), d, s.helperPacing())
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", remote, err)
	}
	if res.Exception != nil {
		return nil, fsError("get", remote, res.Exception)
	}
	if err := d.finish(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrGetCorrupt, remote, err)
	}
	return d.data, nil
}

// base64Lines decodes base64 lines written to it in pieces, keeping at
// most limit bytes.
type base64Lines struct {
	line     []byte
	data     []byte
	limit    int
	err      error
	progress func(done, total int)
	total    int
}

func (b *base64Lines) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && b.err == nil {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			b.line = append(b.line, p...)
			if len(b.line) > 4*replGetChunk {
				b.err = errors.New("a line of the board's base64 is too long")
			}
			break
		}
		b.line = append(b.line, p[:i]...)
		p = p[i+1:]
		b.decodeLine()
	}
	return n, nil
}

func (b *base64Lines) decodeLine() {
	line := bytes.TrimSpace(b.line)
	b.line = b.line[:0]
	if len(line) == 0 {
		return
	}
	chunk, err := base64.StdEncoding.DecodeString(string(line))
	if err != nil {
		b.err = fmt.Errorf("bad base64 from the board: %v", err)
		return
	}
	if len(b.data)+len(chunk) > b.limit {
		b.err = fmt.Errorf("the file grew past %d bytes during the transfer", b.limit)
		return
	}
	b.data = append(b.data, chunk...)
	if b.progress != nil {
		b.progress(len(b.data), max(b.total, len(b.data)))
	}
}

func (b *base64Lines) finish() error {
	if b.err == nil && len(bytes.TrimSpace(b.line)) > 0 {
		b.decodeLine()
	}
	return b.err
}
