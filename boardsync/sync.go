package boardsync

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"webrepl-kernel/webrepl"
)

// maxLocalTree bounds what Sync reads from the local folder: more than any
// board's flash, and the caller's memory stays bounded.
const maxLocalTree = 64 << 20

// Change is one step of a sync.
type Change struct {
	Kind ChangeKind
	Path string // on the board
	Size int    // bytes to write (New, Changed)
	data []byte
}

// ChangeKind says what a Change does.
type ChangeKind string

const (
	New     ChangeKind = "new"
	Changed ChangeKind = "changed"
	Folder  ChangeKind = "folder" // a folder to create
	Delete  ChangeKind = "delete" // a board file or folder gone locally
)

// Plan is what Sync does or would do.
type Plan struct {
	Changes   []Change
	Unchanged int // files already the same on the board
}

// Options change Sync.
type Options struct {
	Delete bool // remove board files and folders that are not in the local folder
	DryRun bool // only work out the plan
}

// skipLocal: names Sync leaves out on both sides: hidden files and folders
// (.git, .ipynb_checkpoints, and the board's own temporaries) and Python's
// caches.
func skipLocal(name string) bool {
	return strings.HasPrefix(name, ".") || name == "__pycache__"
}

// localTree reads the files and folders below dir, as slash paths.
func localTree(dir string) (files map[string][]byte, dirs []string, err error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, nil, err
	}
	if !st.IsDir() {
		return nil, nil, fmt.Errorf("%s is not a folder", dir)
	}
	files = map[string][]byte{}
	total := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		if skipLocal(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			dirs = append(dirs, rel)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			if total += int(info.Size()); total > maxLocalTree {
				return fmt.Errorf("%s holds more than %d MB, more than any board's flash", dir, maxLocalTree>>20)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[rel] = data
		}
		return nil
	})
	return files, dirs, err
}

// Sync makes the board folder boardDir match the local folder localDir:
// folders missing on the board are created, new and changed files (by
// SHA-256 computed on the board) are written all or nothing (Install), and
// with opts.Delete board files and folders that are not local are removed
// afterwards. Hidden names and __pycache__ are left out on both sides. With
// opts.DryRun only the plan is made. progress sees the bytes written.
func Sync(ctx context.Context, s *webrepl.Session, localDir, boardDir string, opts Options, progress Progress) (Plan, error) {
	files, dirs, err := localTree(localDir)
	if err != nil {
		return Plan{}, fmt.Errorf("reading %s: %w", localDir, err)
	}
	board, err := s.Tree(ctx, boardDir)
	if errors.Is(err, fs.ErrNotExist) {
		board, err = nil, nil
	}
	if err != nil {
		return Plan{}, err
	}
	plan, err := makePlan(ctx, s, boardDir, files, dirs, board, opts.Delete)
	if err != nil || opts.DryRun {
		return plan, err
	}
	if _, err := s.MkdirAll(ctx, boardDir); err != nil {
		return plan, fmt.Errorf("making folder %s: %w", boardDir, err)
	}
	var writes []File
	for _, c := range plan.Changes {
		switch c.Kind {
		case Folder:
			if _, err := s.MkdirAll(ctx, c.Path); err != nil {
				return plan, fmt.Errorf("making folder %s: %w", c.Path, err)
			}
		case New, Changed:
			writes = append(writes, File{Path: c.Path, Data: c.data})
		}
	}
	if err := Install(ctx, s, writes, progress); err != nil {
		return plan, err
	}
	for _, c := range plan.Changes {
		if c.Kind == Delete {
			if err := s.Remove(ctx, c.Path); err != nil {
				return plan, fmt.Errorf("removing %s: %w", c.Path, err)
			}
		}
	}
	return plan, nil
}

// makePlan compares the local tree with the board's: sizes first, then the
// board's SHA-256 of files whose size matches.
func makePlan(ctx context.Context, s *webrepl.Session, boardDir string, files map[string][]byte, dirs []string, board []webrepl.TreeEntry, withDelete bool) (Plan, error) {
	var plan Plan
	onBoard := map[string]webrepl.TreeEntry{}
	for _, e := range board {
		onBoard[e.Path] = e
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		e, ok := onBoard[d]
		switch {
		case !ok:
			plan.Changes = append(plan.Changes, Change{Kind: Folder, Path: joinBoard(boardDir, d)})
		case !e.IsDir:
			return plan, fmt.Errorf("%s is a folder here and a file on the board: remove it there first", joinBoard(boardDir, d))
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var sameSize []string
	for _, name := range names {
		data := files[name]
		e, ok := onBoard[name]
		switch {
		case !ok:
			plan.Changes = append(plan.Changes, Change{Kind: New, Path: joinBoard(boardDir, name), Size: len(data), data: data})
		case e.IsDir:
			return plan, fmt.Errorf("%s is a file here and a folder on the board: remove it there first", joinBoard(boardDir, name))
		case e.Size != int64(len(data)):
			plan.Changes = append(plan.Changes, Change{Kind: Changed, Path: joinBoard(boardDir, name), Size: len(data), data: data})
		default:
			sameSize = append(sameSize, name)
		}
	}
	// Ask for the hashes in batches, so no program grows without bound.
	for len(sameSize) > 0 {
		batch := sameSize[:min(len(sameSize), 32)]
		sameSize = sameSize[len(batch):]
		paths := make([]string, len(batch))
		for i, name := range batch {
			paths[i] = joinBoard(boardDir, name)
		}
		sums, err := s.Hashes(ctx, paths...)
		if err != nil {
			return plan, err
		}
		for i, name := range batch {
			data := files[name]
			if sums[i] == Sum(data) {
				plan.Unchanged++
				continue
			}
			plan.Changes = append(plan.Changes, Change{Kind: Changed, Path: paths[i], Size: len(data), data: data})
		}
	}
	if withDelete {
		local := map[string]bool{}
		for _, d := range dirs {
			local[d] = true
		}
		// Deepest first, so a folder is empty by the time it goes.
		for i := len(board) - 1; i >= 0; i-- {
			e := board[i]
			if local[e.Path] || hiddenPath(e.Path) {
				continue
			}
			if _, isFile := files[e.Path]; isFile {
				continue
			}
			plan.Changes = append(plan.Changes, Change{Kind: Delete, Path: joinBoard(boardDir, e.Path)})
		}
	}
	return plan, nil
}

// hiddenPath: a board path with a name Sync leaves out.
func hiddenPath(p string) bool {
	for _, name := range strings.Split(p, "/") {
		if skipLocal(name) {
			return true
		}
	}
	return false
}

// Describe is one line for a change, as --dry-run lists it.
func (c Change) Describe() string {
	switch c.Kind {
	case New:
		return fmt.Sprintf("new      %s (%d bytes)", c.Path, c.Size)
	case Changed:
		return fmt.Sprintf("changed  %s (%d bytes)", c.Path, c.Size)
	case Folder:
		return fmt.Sprintf("folder   %s/", strings.TrimRight(c.Path, "/"))
	case Delete:
		return fmt.Sprintf("delete   %s", c.Path)
	}
	return string(c.Kind) + " " + c.Path
}

// Summary is the one-line end of a sync.
func (p Plan) Summary(dryRun bool) string {
	counts := map[ChangeKind]int{}
	bytes := 0
	for _, c := range p.Changes {
		counts[c.Kind]++
		bytes += c.Size
	}
	verb := "synced"
	if dryRun {
		verb = "would sync (dry run, nothing changed)"
	}
	return fmt.Sprintf("%s: %d new, %d changed, %d unchanged, %d folders made, %d removed; %d bytes written",
		verb, counts[New], counts[Changed], p.Unchanged, counts[Folder], counts[Delete], bytes)
}
