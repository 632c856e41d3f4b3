package kernel

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"webrepl-kernel/jupyter"
	"webrepl-kernel/webrepl"
)

// magicCall is one magic being run: the cell it belongs to and its
// arguments.
type magicCall struct {
	k    *Kernel
	cell *runningCell
	r    jupyter.Request
	req  jupyter.ExecuteRequest
	io   cellIO
	args []string
	raw  string // the arguments as typed
	body string // the cell's text after the first line, for a %% magic
}

// magic is one entry of the magic table: %lsmagic and -h are read from it.
type magic struct {
	name  string // "%ls", or "%%writefile" for a cell magic
	usage string // "%ls [DIR]"
	help  string // what it does, one line
	run   func(c *magicCall) *cellError
}

// magicTable lists every magic, sorted by name. It is built by a function
// (not a package variable) because %lsmagic's handler reads the table.
func magicTable() []magic {
	t := []magic{
		{"%board", "%board", "show the board: URL, firmware, port, unique id, free memory (asks the board) and where it came from", magicBoard},
		{"%connect", "%connect URL [--password PW] [--keep]", "connect to a board's WebREPL (ws://HOST:8266/); --keep: other notebooks wait instead of taking it over", magicConnect},
		{"%disconnect", "%disconnect", "close the WebREPL session so other clients can connect", magicDisconnect},
		{"%lsmagic", "%lsmagic", "list these magics", magicList},
		{"%%plot", "%%plot [--points N]", "run the cell, plotting its printed lines of numbers or name=value pairs live (the last N points, default 500)", magicPlot},
		{"%softreset", "%softreset", "restart the board's interpreter (RAM state is lost, files stay)",
			func(c *magicCall) *cellError { return c.k.resetBoard(c.cell, c.r, c.req, c.io, false) }},
		{"%hardreset", "%hardreset", "reset the board like its reset button (RAM state is lost)",
			func(c *magicCall) *cellError { return c.k.resetBoard(c.cell, c.r, c.req, c.io, true) }},
	}
	t = append(t, fileMagics()...)
	t = append(t, projectMagics()...)
	sort.Slice(t, func(i, j int) bool { return t[i].name < t[j].name })
	return t
}

func lookupMagic(name string) (magic, bool) {
	for _, m := range magicTable() {
		if m.name == name {
			return m, true
		}
	}
	return magic{}, false
}

// line is the magic's %lsmagic line: usage, then what it does.
func (m magic) line() string { return fmt.Sprintf("%-31s %s", m.usage, m.help) }

func magicNames() []string {
	var names []string
	for _, m := range magicTable() {
		names = append(names, m.name)
	}
	return names
}

// wantsHelp is true when the arguments ask for the magic's usage.
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" {
			return true
		}
	}
	return false
}

// runMagic runs one magic: -h prints its usage, anything else its handler.
func (k *Kernel) runMagic(cell *runningCell, r jupyter.Request, req jupyter.ExecuteRequest, io cellIO, m magicLine) *cellError {
	entry, ok := lookupMagic(m.name)
	if !ok {
		return hostError("UsageError", fmt.Sprintf("unknown magic %s (%%lsmagic lists the magics)", m.name))
	}
	if wantsHelp(m.args) {
		io.stdout("usage: " + entry.usage + "\n" + entry.help + "\n")
		return nil
	}
	if strings.HasPrefix(m.name, "%%") && !m.cellMagic {
		return hostError("UsageError", m.name+" must be the first line of the cell (the rest of the cell is its text)")
	}
	return entry.run(&magicCall{k: k, cell: cell, r: r, req: req, io: io, args: m.args, raw: m.raw, body: m.body})
}

// usageError is a magic called with the wrong arguments.
func (c *magicCall) usageError(name string) *cellError {
	entry, _ := lookupMagic(name)
	return hostError("UsageError", "usage: "+entry.usage)
}

func magicList(c *magicCall) *cellError {
	var b strings.Builder
	for _, m := range magicTable() {
		b.WriteString(m.line() + "\n")
	}
	c.io.stdout(b.String())
	return nil
}

func magicDisconnect(c *magicCall) *cellError {
	k := c.k
	k.mu.Lock()
	s := k.session
	k.mu.Unlock()
	if s == nil {
		c.io.stdout("Not connected.\n")
		return nil
	}
	k.dropSession(s)
	c.io.stdout(fmt.Sprintf("Disconnected from %s.\n", s.URL()))
	return nil
}

func magicConnect(c *magicCall) *cellError {
	k := c.k
	args, err := parseConnect(c.args)
	if err != nil {
		return hostError("UsageError", "%connect: "+err.Error())
	}
	k.mu.Lock()
	old := k.session
	k.url = args.url
	k.origin, k.problem = "%connect in this kernel", nil
	k.keep = args.keep || k.cfg.Keep
	if args.password != "" {
		k.password = args.password
	}
	k.mu.Unlock()
	k.addSecret(args.password)
	if old != nil {
		k.dropSession(old)
	}
	_, failure := k.connect(c.cell, c.r, c.req, c.io)
	return failure
}

// magicBoard describes the board the cells run on. Connecting is silent,
// so this is where a user learns which board and firmware answer; it asks
// the board (connecting first if needed) for the free memory.
func magicBoard(c *magicCall) *cellError {
	if len(c.args) > 0 {
		return c.usageError("%board")
	}
	k := c.k
	s, failure := k.connect(c.cell, c.r, c.req, c.io)
	if failure != nil {
		return failure
	}
	var out strings.Builder
	c.cell.setSession(s)
	res, err := s.Exec(c.cell.ctx, []byte(boardFreeMemory), &out)
	c.cell.setSession(nil)
	if err != nil {
		return k.execFailure(c.cell, s, err)
	}
	k.tellAboutBoard(c.io, s) // the board may have reset or changed before the reconnection
	free := "unknown (the board has no gc.mem_free())"
	if n, err := strconv.Atoi(strings.TrimSpace(out.String())); err == nil && res != nil && res.Exception == nil {
		free = fmt.Sprintf("%d bytes (gc.mem_free())", n)
	}
	k.mu.Lock()
	origin := k.origin
	k.mu.Unlock()
	c.io.stdout(describeBoard(s.Board(), free, origin))
	return nil
}

// describeBoard is %board's table; origin says where the board came from
// ("" = not known).
func describeBoard(b webrepl.BoardInfo, free, origin string) string {
	or := func(v, missing string) string {
		if v == "" {
			return missing
		}
		return v
	}
	firmware := "MicroPython " + b.Firmware.String()
	if b.Build != "" {
		firmware += " (" + b.Build + ")"
	}
	port := or(b.Port, "unknown (the board has no os.uname())")
	if b.Machine != "" {
		port += " (" + b.Machine + ")"
	}
	var t strings.Builder
	fmt.Fprintf(&t, "URL:       %s\n", b.URL)
	fmt.Fprintf(&t, "Firmware:  %s\n", firmware)
	fmt.Fprintf(&t, "Port:      %s\n", port)
	fmt.Fprintf(&t, "Unique id: %s\n", or(b.UniqueID, "unknown (the board has no machine.unique_id())"))
	fmt.Fprintf(&t, "Free RAM:  %s\n", free)
	if origin != "" {
		fmt.Fprintf(&t, "Chosen by: %s\n", origin)
	}
	return t.String()
}

// resetBoard resets the board and reconnects (webrepl does both). An
// interrupt abandons the wait, not the reset.
func (k *Kernel) resetBoard(cell *runningCell, r jupyter.Request, req jupyter.ExecuteRequest, io cellIO, hard bool) *cellError {
	s, failure := k.connect(cell, r, req, io)
	if failure != nil {
		return failure
	}
	what, reset := "Soft reset", s.SoftReset
	if hard {
		what, reset = "Hard reset", s.HardReset
	}
	k.setNotices(nil) // the kernel resets the board on purpose: no "reconnecting" lines
	err := reset(cell.ctx)
	k.setNotices(io.stderr)
	k.boardExplained(s, false) // said below, as done or failed
	if err != nil {
		if interrupted, _ := cell.state(); interrupted && errors.Is(err, context.Canceled) {
			k.dropSession(s)
			return interruptedError()
		}
		if !s.Connected() {
			k.dropSession(s)
		}
		return hostError("ConnectionError", err.Error())
	}
	io.stdout(what + " done: the board's RAM state (variables, imports) is cleared; files stay.\n")
	return nil
}
