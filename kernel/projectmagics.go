// The project magics: %sync makes a board folder match a local one, %mip
// installs MicroPython packages from the host (boardsync, mip). Both write
// all or nothing through staged files (webrepl/atomic.go) and show one
// progress bar for the whole run.

package kernel

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"webrepl-kernel/boardsync"
	"webrepl-kernel/mip"
	"webrepl-kernel/webrepl"
)

func projectMagics() []magic {
	return []magic{
		{"%sync", "%sync LOCAL_DIR [BOARD_DIR] [--delete] [--dry-run]", "make a board folder (default /) match a local one: new and changed files (by SHA-256), folders; --delete removes board files gone locally; --dry-run lists the changes", magicSync},
		{"%mip", "%mip install PKG[@VERSION]... [--target DIR] [--no-mpy] [--index URL] | %mip list", "install MicroPython packages (and their dependencies) from micropython-lib's index, github:/gitlab: or a local package.json, fetched by this computer; list shows what is under /lib", magicMip},
	}
}

// splitOptions separates --flags (and the value of those in valued) from
// positional arguments.
func splitOptions(name string, args []string, flags, valued []string) (pos []string, set map[string]string, failure *cellError) {
	set = map[string]string{}
	known := func(list []string, a string) bool {
		for _, f := range list {
			if f == a {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case known(flags, a):
			set[a] = "yes"
		case known(valued, a):
			if i+1 >= len(args) {
				return nil, nil, hostError("UsageError", fmt.Sprintf("%s: %s needs a value (usage: %s)", name, a, usageOf(name)))
			}
			set[a] = args[i+1]
			i++
		case strings.HasPrefix(a, "-") && a != "-":
			return nil, nil, hostError("UsageError", fmt.Sprintf("%s: unknown option %s (usage: %s)", name, a, usageOf(name)))
		default:
			pos = append(pos, a)
		}
	}
	return pos, set, nil
}

func magicSync(c *magicCall) *cellError {
	args, err := fileArgs(c.raw)
	if err != nil {
		return hostError("UsageError", "%sync: "+err.Error())
	}
	pos, set, failure := splitOptions("%sync", args, []string{"--delete", "--dry-run"}, nil)
	if failure != nil {
		return failure
	}
	if len(pos) < 1 || len(pos) > 2 {
		return c.usageError("%sync")
	}
	local := c.k.localPath(pos[0])
	if st, err := os.Stat(local); err != nil || !st.IsDir() {
		return hostError("FileNotFoundError", fmt.Sprintf("no such local folder: %s (local paths are relative to %s)", pos[0], c.k.localPath(".")))
	}
	boardDir := "/"
	if len(pos) == 2 {
		boardDir = pos[1]
	}
	s, failure := c.session()
	if failure != nil {
		return failure
	}
	opts := boardsync.Options{Delete: set["--delete"] != "", DryRun: set["--dry-run"] != ""}
	bar := c.newProgress("%sync " + pos[0] + " → board " + boardDir)
	plan, err := boardsync.Sync(c.cell.ctx, s, local, boardDir, opts, bar.update)
	bar.finish()
	var b strings.Builder
	for _, ch := range plan.Changes {
		b.WriteString(ch.Describe() + "\n")
	}
	if err != nil {
		if b.Len() > 0 && opts.DryRun {
			c.io.stdout(b.String())
		}
		return c.boardFailure(err)
	}
	b.WriteString(plan.Summary(opts.DryRun) + "\n")
	c.io.stdout(b.String())
	return nil
}

func magicMip(c *magicCall) *cellError {
	args, err := fileArgs(c.raw)
	if err != nil {
		return hostError("UsageError", "%mip: "+err.Error())
	}
	pos, set, failure := splitOptions("%mip", args, []string{"--no-mpy"}, []string{"--target", "--index"})
	if failure != nil {
		return failure
	}
	if len(pos) == 0 {
		return c.usageError("%mip")
	}
	switch pos[0] {
	case "list":
		if len(pos) != 1 {
			return c.usageError("%mip")
		}
		return c.mipList(set["--target"])
	case "install":
		if len(pos) < 2 {
			return c.usageError("%mip")
		}
	default:
		return hostError("UsageError", fmt.Sprintf("%%mip: unknown command %s (usage: %s)", pos[0], usageOf("%mip")))
	}
	s, failure := c.session()
	if failure != nil {
		return failure
	}
	opts := mip.Options{Index: set["--index"], Target: set["--target"], NoMPY: set["--no-mpy"] != "",
		Line: func(line string) { c.io.stdout(line + "\n") }}
	bar := c.newProgress("%mip install")
	res, err := mip.Install(c.cell.ctx, s, pos[1:], opts, bar.update)
	bar.finish()
	if err != nil {
		if isBoardError(err) || errors.Is(err, context.Canceled) {
			return c.boardFailure(err)
		}
		return hostError("MipError", err.Error()+" (nothing was installed)")
	}
	c.io.stdout(res.Summary() + "\n")
	return nil
}

// isBoardError: an error of the board's file system or link, which
// boardFailure names; others (the index, the network) are mip's own.
func isBoardError(err error) bool {
	for _, e := range []error{webrepl.ErrNoSpace, webrepl.ErrNotDir, webrepl.ErrIsDir, webrepl.ErrVerifyFailed, webrepl.ErrLinkLost, webrepl.ErrPutStopped} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// mipList shows the files below the lib folder (or dir).
func (c *magicCall) mipList(dir string) *cellError {
	s, failure := c.session()
	if failure != nil {
		return failure
	}
	if dir == "" {
		info, err := s.LibInfo(c.cell.ctx)
		if err != nil {
			return c.boardFailure(err)
		}
		dir = info.LibDir
	}
	entries, err := s.Tree(c.cell.ctx, dir)
	if errors.Is(err, fs.ErrNotExist) {
		entries, err = nil, nil
	}
	if err != nil {
		return c.boardFailure(err)
	}
	if len(entries) == 0 {
		c.io.stdout(fmt.Sprintf("nothing installed in %s\n", dir))
		return nil
	}
	list := make([]webrepl.FileInfo, len(entries))
	for i, e := range entries {
		list[i] = webrepl.FileInfo{Name: e.Path, Size: e.Size, IsDir: e.IsDir}
	}
	c.io.stdout(dir + ":\n" + formatListing(list))
	return nil
}
