// Package boardsync writes sets of files to a board so that a cut-off
// transfer changes nothing: Install stages every file under a temporary
// name (webrepl.Session.Stage), checked by its SHA-256 on the board, and
// renames them all only when every one is there; on failure the staged
// files are removed. Sync makes a board folder match a local one with it
// (%sync, webrepl-kernel sync); the mip package installs libraries with it.
// It knows no Jupyter.
package boardsync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"webrepl-kernel/webrepl"
)

// File is one file to write: its board path and its content.
type File struct {
	Path string
	Data []byte
}

// Sum is the SHA-256 of data in hex, as webrepl.Session.Hashes reports it.
func Sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// Progress sees the bytes written so far out of all the files' bytes.
type Progress func(done, total int)

// Install writes files to the board all or nothing: the folders they need
// are created, each file is staged and checked, and then all are renamed
// into place in one step on the board. When anything fails before that
// step, the staged files and the folders made are removed, so the board is
// as it was. A cut during the final renames leaves each file old or new,
// never mixed (webrepl.Session.Commit).
func Install(ctx context.Context, s *webrepl.Session, files []File, progress Progress) error {
	if len(files) == 0 {
		return nil
	}
	total := 0
	for _, f := range files {
		total += len(f.Data)
	}
	if progress != nil {
		progress(0, total)
	}
	var made []string
	var staged []string
	fail := func(err error) error {
		cleanup(ctx, s, staged, made)
		return err
	}
	dirs := map[string]bool{}
	for _, f := range files {
		dir := path.Dir(f.Path)
		if dir == "." || dir == "/" || dirs[dir] {
			continue
		}
		dirs[dir] = true
		created, err := s.MkdirAll(ctx, dir)
		made = append(made, created...)
		if err != nil {
			return fail(fmt.Errorf("making folder %s: %w", dir, err))
		}
	}
	tidied := map[string]bool{}
	for _, f := range files {
		dir := webrepl.ParentDir(f.Path)
		if tidied[dir] {
			continue
		}
		tidied[dir] = true
		if _, err := s.Recover(ctx, dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fail(err)
		}
	}
	done := 0
	for _, f := range files {
		var each func(int, int)
		if progress != nil {
			base := done
			each = func(d, _ int) { progress(base+d, total) }
		}
		staged = append(staged, f.Path)
		if _, err := s.Stage(ctx, f.Path, f.Data, each); err != nil {
			return fail(err)
		}
		done += len(f.Data)
	}
	if err := s.Commit(ctx, staged...); err != nil {
		return fail(err)
	}
	return nil
}

// cleanup removes what a failed Install left: the staged temporaries and
// the folders it made (innermost first; a folder that is not empty stays).
// After an Interrupt it does nothing: the temporaries are hidden names that
// the next Recover of their folder removes.
func cleanup(ctx context.Context, s *webrepl.Session, staged, made []string) {
	if ctx.Err() != nil {
		return // interrupted: stop now; the next Recover of each folder tidies
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if err := s.Discard(cctx, staged...); err != nil {
		return // the link is gone; the next Stage in each folder tidies up
	}
	for i := len(made) - 1; i >= 0; i-- {
		if err := s.Remove(cctx, made[i]); err != nil && !errors.Is(err, webrepl.ErrNotEmpty) {
			return
		}
	}
}

// joinBoard joins a board folder and a relative path.
func joinBoard(dir, rel string) string {
	switch dir {
	case "", ".":
		return rel
	}
	return strings.TrimRight(dir, "/") + "/" + rel
}
