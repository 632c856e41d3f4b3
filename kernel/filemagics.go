// The file magics: board files from cells. Each is one small handler over
// the Session's file operations (webrepl/files.go), which move file data
// with WebREPL's binary file transfer (docs/protocol/webrepl.md §2.3, §2.4)
// and check every transfer on the board afterwards (SHA-256, or the size
// where the board has no hashlib.sha256). Local paths are relative to
// Config.Dir: the notebook's folder, since Jupyter starts a kernel there.

package kernel

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"webrepl-kernel/internal/boardpy"
	"webrepl-kernel/jupyter"
	"webrepl-kernel/webrepl"
)

const (
	// progressOver: transfers larger than this show a progress bar.
	progressOver = 10_000
	// progressEvery: the bar is redrawn at most this often (and at the end),
	// so a fast link does not flood the frontend with updates.
	progressEvery = 100 * time.Millisecond
	// maxPutSize bounds a local file read for %put: more than any board's
	// flash, and the kernel's memory stays bounded.
	maxPutSize = 64 << 20
)

func fileMagics() []magic {
	return []magic{
		{"%ls", "%ls [DIR]", "list a board folder (default: the current one, / after boot): sizes in bytes, folders end in /", magicLs},
		{"%cat", "%cat FILE", "show a text file from the board", magicCat},
		{"%put", "%put LOCAL [REMOTE] [--force]", "copy a local file (relative to the notebook's folder) to the board, checked on the board before it replaces the old one; a .py that does not compile is refused unless --force", magicPut},
		{"%get", "%get REMOTE [LOCAL]", "copy a board file to the notebook's folder (or LOCAL), checked against the board", magicGet},
		{"%rm", "%rm PATH...", "remove board files or empty folders", magicRm},
		{"%mkdir", "%mkdir PATH...", "make folders on the board", magicMkdir},
		{"%%writefile", "%%writefile [-a] PATH", "write the rest of the cell to a board file (-a: append), checked on the board before it replaces the old one; a .py that does not compile there is refused (--force writes it anyway)", magicWriteFile},
		{"%run", "%run FILE", "run a board file in the board's namespace (its globals stay defined)", magicRun},
	}
}

// fileArgs splits the magic's arguments: whitespace separates them, and
// '…' or "…" keep a name with spaces together.
func fileArgs(raw string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg, quote := false, rune(0)
	for _, r := range raw {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inArg = r, true
		case r == ' ' || r == '\t':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c quote", quote)
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}

// argsBetween parses the arguments and checks their count.
func (c *magicCall) argsBetween(name string, lo, hi int) ([]string, *cellError) {
	args, err := fileArgs(c.raw)
	if err != nil {
		return nil, hostError("UsageError", name+": "+err.Error())
	}
	if len(args) < lo || (hi >= 0 && len(args) > hi) {
		return nil, c.usageError(name)
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") && a != "-" {
			return nil, hostError("UsageError", fmt.Sprintf("%s: unknown option %s (usage: %s)", name, a, usageOf(name)))
		}
	}
	return args, nil
}

func usageOf(name string) string {
	entry, _ := lookupMagic(name)
	return entry.usage
}

// localPath resolves a local path against the notebook's folder.
func (k *Kernel) localPath(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	dir := k.cfg.Dir
	if dir == "" {
		if wd, err := os.Getwd(); err == nil {
			dir = wd
		}
	}
	return filepath.Join(dir, p)
}

// boardFailure turns an error of a file operation into one line. Errors
// the board raised are named as Python names them; link failures keep the
// session (webrepl reconnects on the next operation).
func (c *magicCall) boardFailure(err error) *cellError {
	if interrupted, _ := c.cell.state(); interrupted && errors.Is(err, context.Canceled) {
		if errors.Is(err, webrepl.ErrPutStopped) {
			return hostError("KeyboardInterrupt", err.Error())
		}
		return interruptedError()
	}
	p := ""
	var pe *fs.PathError
	if errors.As(err, &pe) {
		p = pe.Path
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return hostError("FileNotFoundError", "no such file or folder on the board: "+p)
	case errors.Is(err, fs.ErrExist):
		return hostError("FileExistsError", "already exists on the board: "+p)
	case errors.Is(err, webrepl.ErrNotDir):
		return hostError("NotADirectoryError", "not a folder on the board: "+p+" (or a folder in its path is a file)")
	case errors.Is(err, webrepl.ErrIsDir):
		return hostError("IsADirectoryError", "is a folder on the board: "+p)
	case errors.Is(err, webrepl.ErrNoSpace):
		return hostError("OSError", "no space left on the board's flash for "+p)
	case errors.Is(err, webrepl.ErrNotEmpty):
		return hostError("OSError", "folder not empty on the board: "+p+" (remove its files first)")
	case errors.Is(err, fs.ErrPermission):
		return hostError("PermissionError", "permission denied on the board: "+p)
	case errors.Is(err, webrepl.ErrNameTooLong):
		return hostError("ValueError", err.Error())
	case errors.Is(err, webrepl.ErrVerifyFailed), errors.Is(err, webrepl.ErrGetCorrupt):
		return hostError("TransferError", err.Error())
	case errors.Is(err, context.Canceled):
		return hostError("KernelShutdown", "the kernel is shutting down")
	}
	return hostError("ConnectionError", err.Error())
}

// session connects (on first use) and returns the board session.
func (c *magicCall) session() (*webrepl.Session, *cellError) {
	return c.k.connect(c.cell, c.r, c.req, c.io)
}

func magicLs(c *magicCall) *cellError {
	args, failure := c.argsBetween("%ls", 0, 1)
	if failure != nil {
		return failure
	}
	dir := "." // the board's current folder, as ls does: "/" after boot
	if len(args) == 1 {
		dir = args[0]
	}
	s, failure := c.session()
	if failure != nil {
		return failure
	}
	entries, err := s.List(c.cell.ctx, dir)
	if errors.Is(err, webrepl.ErrNotDir) {
		// %ls FILE shows that file, as ls does.
		fi, serr := s.Stat(c.cell.ctx, dir)
		if serr != nil {
			return c.boardFailure(serr)
		}
		fi.Name = dir
		entries, err = []webrepl.FileInfo{fi}, nil
	}
	if err != nil {
		return c.boardFailure(err)
	}
	c.io.stdout(formatListing(entries))
	return nil
}

// formatListing shows one entry a line: size right-aligned, then the
// name; folders have no size and end in "/".
func formatListing(entries []webrepl.FileInfo) string {
	if len(entries) == 0 {
		return "(empty folder)\n"
	}
	width := 1
	for _, e := range entries {
		if !e.IsDir {
			width = max(width, len(fmt.Sprint(e.Size)))
		}
	}
	var b strings.Builder
	for _, e := range entries {
		if e.IsDir {
			fmt.Fprintf(&b, "%*s  %s/\n", width, "", e.Name)
		} else {
			fmt.Fprintf(&b, "%*d  %s\n", width, e.Size, e.Name)
		}
	}
	return b.String()
}

func magicCat(c *magicCall) *cellError {
	args, failure := c.argsBetween("%cat", 1, 1)
	if failure != nil {
		return failure
	}
	s, failure := c.session()
	if failure != nil {
		return failure
	}
	bar := c.newProgress("%cat " + args[0])
	data, _, err := s.GetChecked(c.cell.ctx, args[0], bar.update)
	bar.finish()
	if err != nil {
		return c.boardFailure(err)
	}
	if !utf8.Valid(data) || strings.IndexByte(string(data), 0) >= 0 {
		return hostError("UnicodeError", fmt.Sprintf("%s is not text (%d bytes of binary data): copy it with %%get %s", args[0], len(data), args[0]))
	}
	c.io.stdout(string(data))
	return nil
}

// takeFlag removes the option flag from the magic's arguments and says
// whether it was there.
func (c *magicCall) takeFlag(flag string) bool {
	args, err := fileArgs(c.raw)
	if err != nil {
		return false
	}
	found := false
	kept := args[:0]
	for _, a := range args {
		if a == flag {
			found = true
			continue
		}
		kept = append(kept, a)
	}
	if found {
		quoted := make([]string, len(kept))
		for i, a := range kept {
			quoted[i] = strconv.Quote(a)
		}
		c.raw = strings.Join(quoted, " ")
	}
	return found
}

func magicPut(c *magicCall) *cellError {
	force := c.takeFlag("--force")
	args, failure := c.argsBetween("%put", 1, 2)
	if failure != nil {
		return failure
	}
	local := c.k.localPath(args[0])
	st, err := os.Stat(local)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return hostError("FileNotFoundError", fmt.Sprintf("no such local file: %s (local paths are relative to %s)", args[0], c.k.localPath(".")))
	case err != nil:
		return hostError("OSError", err.Error())
	case st.IsDir():
		return hostError("IsADirectoryError", "a local folder, not a file: "+args[0]+" (%put copies one file)")
	case st.Size() > maxPutSize:
		return hostError("ValueError", fmt.Sprintf("%s is %d bytes, more than any board's flash", args[0], st.Size()))
	}
	data, err := os.ReadFile(local)
	if err != nil {
		return hostError("OSError", err.Error())
	}
	base := filepath.Base(local)
	remote := base
	if len(args) == 2 {
		remote = args[1]
		if strings.HasSuffix(remote, "/") {
			remote += base
		}
	}
	s, failure := c.session()
	if failure != nil {
		return failure
	}
	return c.putFile(s, "%put "+args[0], remote, data, base, force)
}

// putFile writes data to remote with a progress bar and a summary line,
// never half-written: staged under a temporary name, checked, then renamed
// (webrepl.Session.PutAtomic); a .py file is compiled on the board first
// unless force. For %put (base set) a folder as remote takes the file under
// the name base, and the summary says where the file went.
func (c *magicCall) putFile(s *webrepl.Session, what, remote string, data []byte, base string, force bool) *cellError {
	start := time.Now()
	bar := c.newProgress(what)
	opts := func() webrepl.PutOptions {
		return webrepl.PutOptions{Compile: strings.HasSuffix(remote, ".py") && !force}
	}
	res, err := s.PutAtomic(c.cell.ctx, remote, data, opts(), bar.update)
	if errors.Is(err, webrepl.ErrIsDir) && base != "" {
		remote = strings.TrimRight(remote, "/") + "/" + base
		res, err = s.PutAtomic(c.cell.ctx, remote, data, opts(), bar.update)
	}
	bar.finish()
	var syntax *webrepl.SyntaxError
	if errors.As(err, &syntax) {
		return hostError("SyntaxError", fmt.Sprintf("%s (compiled on the board); %s on the board is unchanged — fix the error, or add --force to write it anyway", syntax, remote))
	}
	if err != nil {
		return c.boardFailure(err)
	}
	if base != "" { // %put: say where the file went
		what += " → board " + remote
	}
	c.io.stdout(fmt.Sprintf("%s: %s\n", what, summary(len(data), time.Since(start), res.Check)))
	if res.CompileNote != "" {
		c.io.stdout(fmt.Sprintf("(not compiled on the board: %s)\n", res.CompileNote))
	}
	return nil
}

// summary is the one-line end of a transfer: bytes, seconds, how checked.
func summary(n int, took time.Duration, check webrepl.Check) string {
	how := "verified (SHA-256 computed on the board)"
	if check == webrepl.CheckSize {
		how = "verified by size only (the board has no hashlib.sha256)"
	}
	secs := fmt.Sprintf("%.2f", took.Seconds())
	if took < 100*time.Millisecond {
		secs = fmt.Sprintf("%.3f", took.Seconds())
	}
	return fmt.Sprintf("%d bytes in %s s, %s", n, secs, how)
}

func magicGet(c *magicCall) *cellError {
	args, failure := c.argsBetween("%get", 1, 2)
	if failure != nil {
		return failure
	}
	remote := args[0]
	base := path.Base(strings.TrimRight(remote, "/"))
	shown := base
	if len(args) == 2 {
		shown = args[1]
	}
	local := c.k.localPath(shown)
	if st, err := os.Stat(local); err == nil && st.IsDir() {
		local = filepath.Join(local, base)
		shown = filepath.Join(shown, base)
	}
	if st, err := os.Stat(filepath.Dir(local)); err != nil || !st.IsDir() {
		return hostError("FileNotFoundError", fmt.Sprintf("no such local folder: %s (local paths are relative to %s)",
			filepath.Dir(shown), c.k.localPath(".")))
	}
	s, failure := c.session()
	if failure != nil {
		return failure
	}
	start := time.Now()
	bar := c.newProgress("%get " + remote)
	data, check, err := s.GetChecked(c.cell.ctx, remote, bar.update)
	bar.finish()
	if err != nil {
		return c.boardFailure(err)
	}
	if err := writeLocal(local, data); err != nil {
		return hostError("OSError", "writing "+shown+": "+err.Error())
	}
	c.io.stdout(fmt.Sprintf("%%get %s → %s: %s\n", remote, shown, summary(len(data), time.Since(start), check)))
	return nil
}

// writeLocal replaces the file at name with data in one step (a temporary
// file renamed), so a failed write never leaves half a file.
func writeLocal(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func magicRm(c *magicCall) *cellError {
	return c.onEachBoardPath("%rm", (*webrepl.Session).Remove, "removed ")
}

func magicMkdir(c *magicCall) *cellError {
	return c.onEachBoardPath("%mkdir", (*webrepl.Session).Mkdir, "made folder ")
}

// onEachBoardPath applies op to every path argument of magic in turn, says
// done+path for each, and stops at the first failure.
func (c *magicCall) onEachBoardPath(magic string, op func(*webrepl.Session, context.Context, string) error, done string) *cellError {
	args, failure := c.argsBetween(magic, 1, -1)
	if failure != nil {
		return failure
	}
	s, failure := c.session()
	if failure != nil {
		return failure
	}
	for _, p := range args {
		if err := op(s, c.cell.ctx, p); err != nil {
			return c.boardFailure(err)
		}
		c.io.stdout(done + p + "\n")
	}
	return nil
}

func magicWriteFile(c *magicCall) *cellError {
	raw := strings.TrimSpace(c.raw)
	appendTo, force := false, false
	for changed := true; changed; {
		changed = false
		for _, flag := range []string{"-a ", "--append ", "--force "} {
			if rest, ok := strings.CutPrefix(raw, flag); ok {
				raw, changed = strings.TrimSpace(rest), true
				if flag == "--force " {
					force = true
				} else {
					appendTo = true
				}
			}
		}
	}
	c.raw = raw
	args, failure := c.argsBetween("%%writefile", 1, 1)
	if failure != nil {
		return failure
	}
	// The cell's text as IPython writes it: its lines, each ending in a
	// newline.
	text := c.body
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	s, failure := c.session()
	if failure != nil {
		return failure
	}
	data := []byte(text)
	what := "%%writefile " + args[0]
	if appendTo {
		old, _, err := s.GetChecked(c.cell.ctx, args[0], nil)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return c.boardFailure(err)
		default:
			data = append(old, data...)
			what = "%%writefile -a " + args[0]
		}
	}
	return c.putFile(s, what, args[0], data, "", force)
}

func magicRun(c *magicCall) *cellError {
	args, failure := c.argsBetween("%run", 1, 1)
	if failure != nil {
		return failure
	}
	file := args[0]
	s, failure := c.session()
	if failure != nil {
		return failure
	}
	fi, err := s.Stat(c.cell.ctx, file)
	if err != nil {
		return c.boardFailure(err)
	}
	if fi.IsDir {
		return hostError("IsADirectoryError", "is a folder on the board: "+file+" (%run runs one file)")
	}
	// Compiled under the file's own name, so its tracebacks name the file
	// and its lines; run in the globals of the REPL, like a cell. The file
	// is closed before its code runs.
	code := boardpy.Call(runFile, boardpy.Str(file))
	return c.k.runOnBoard(c.cell, c.r, c.req, c.io, code, func(e boardError) boardError { return dropRunFrames(e, file) })
}

// dropRunFrames removes the frames of %run's own statement: those between
// the cell helper's frame (or, without one, the first frame, which the
// cell path removes as the helper's) and the first frame of the file. A
// traceback without a frame of the file (it vanished before open) is kept.
func dropRunFrames(e boardError, file string) boardError {
	lines := strings.Split(e.Text, "\n")
	first, keep, target := -1, -1, -1
	for i, l := range lines {
		if !strings.HasPrefix(l, "  File ") {
			continue
		}
		if first < 0 {
			first = i
		}
		if strings.HasSuffix(l, ", in "+helperFunc) && keep < 0 {
			keep = i
		}
		if strings.HasPrefix(l, "  File "+strconv.Quote(file)+", line ") || strings.HasPrefix(l, `  File "`+file+`", line `) {
			target = i
			break
		}
	}
	if keep < 0 {
		keep = first
	}
	if target < 0 || keep < 0 || keep >= target {
		return e
	}
	e.Text = strings.Join(append(lines[:keep+1:keep+1], lines[target:]...), "\n")
	return e
}

// progress is one transfer's progress bar: a display_data with its own
// display_id, then update_display_data messages that redraw it in place.
// Transfers of progressOver bytes or less show none.
type progress struct {
	io      cellIO
	what    string
	id      string
	shown   bool
	drawn   time.Time
	done    int
	total   int
	lastPct int
}

func (c *magicCall) newProgress(what string) *progress {
	return &progress{io: c.io, what: what, id: uuid.NewString(), lastPct: -1}
}

// update is the transfer's progress callback.
func (p *progress) update(done, total int) {
	p.done, p.total = done, total
	if total <= progressOver || p.io.silent {
		return
	}
	pct := done * 100 / total
	if p.shown && (pct == p.lastPct || (done < total && time.Since(p.drawn) < progressEvery)) {
		return
	}
	p.draw(pct)
}

// finish draws the bar's last state if an update was skipped.
func (p *progress) finish() {
	if !p.shown || p.total == 0 {
		return
	}
	if pct := p.done * 100 / p.total; pct != p.lastPct {
		p.draw(pct)
	}
}

func (p *progress) draw(pct int) {
	const width = 30
	fill := pct * width / 100
	text := fmt.Sprintf("%s  [%s%s] %3d%%  %d / %d bytes", p.what,
		strings.Repeat("#", fill), strings.Repeat("-", width-fill), pct, p.done, p.total)
	htmlText := fmt.Sprintf(`<progress value="%d" max="%d" style="width:20em"></progress> <code>%s</code> %d%% · %d / %d bytes`,
		p.done, p.total, html.EscapeString(p.what), pct, p.done, p.total)
	data := jupyter.MIMEBundle{"text/plain": text, "text/html": htmlText}
	if !p.shown {
		p.io.k.publish(p.io.r, "display_data", jupyter.DisplayData{Data: data, Metadata: jupyter.Metadata{},
			Transient: &jupyter.Transient{DisplayID: p.id}})
		p.shown = true
	} else {
		p.io.k.publish(p.io.r, "update_display_data", jupyter.UpdateDisplayData{Data: data, Metadata: jupyter.Metadata{},
			Transient: jupyter.Transient{DisplayID: p.id}})
	}
	p.lastPct, p.drawn = pct, time.Now()
}
