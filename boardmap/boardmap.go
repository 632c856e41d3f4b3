// Package boardmap reads a classroom's board map: one file, written once by
// the teacher, that gives each learner (or group of learners) a board. The
// kernel looks its learner up in it (Choose), and `run --boards` rehearses
// every lesson on every board it names (Boards). It knows neither Jupyter
// nor WebREPL sessions.
//
// The format is plain lines, one entry a line, so that every mistake can be
// named by file and line and the file can carry comments:
//
//	# NAME   = URL [password_file=PATH]    a learner's board
//	# @GROUP = URL [password_file=PATH]    a group's board
//	# NAME   = @GROUP                      the learner uses the group's board
//	# *      = URL [password_file=PATH]    everyone the map does not name
//	alice    = ws://192.168.4.11:8266/  password_file=/etc/webrepl-kernel/passwords/alice
//	@table3  = 192.168.4.13             password_file=/etc/webrepl-kernel/passwords/table3
//	carol    = @table3
//
// Passwords stay out of the map, which every learner's kernel must read:
// each entry names a password file that only its learner can read (mode
// 0600, owned by the learner). The learners of a group each keep a copy of
// the group's password (NAME = @GROUP password_file=PATH); the group's own
// password_file serves the rehearsal, run by the teacher. An inline
// password=PW is accepted only in a map that no other user can read.
package boardmap

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"webrepl-kernel/webrepl"
)

// Where the kernel finds the map.
const (
	// DefaultPath is the system-wide map; a missing file means no map.
	DefaultPath = "/etc/webrepl-kernel/boards.conf"
	// EnvPath overrides DefaultPath; the file it names must exist.
	EnvPath = "WEBREPL_BOARDS"
	// maxMapSize and maxPasswordSize bound what is read from either file.
	maxMapSize      = 1 << 20
	maxPasswordSize = 1024
)

// Entry is one line of the map.
type Entry struct {
	Name         string // "alice", "@table3" or "*"
	Line         int
	URL          string // normalised (ws://HOST:PORT/); "" for NAME = @GROUP
	Group        string // NAME = @GROUP: "@table3"
	PasswordFile string // absolute, or "" (then Password, or none: the kernel asks)
	Password     string // inline (only in a map other users cannot read)
}

// Map is a parsed board map.
type Map struct {
	Path    string
	Entries []Entry
	byName  map[string]int // name → index into Entries
}

// Load reads and checks the map at path: it must be a regular file that
// only its owner can write (anyone else could send the learners' kernels,
// and their passwords, to a board of their choosing).
func Load(path string) (*Map, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("board map: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("board map: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("board map %s: not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o022 != 0 {
		return nil, fmt.Errorf("board map %s: other users can write it (mode %04o), so they could send learners' kernels to another board: chmod go-w %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxMapSize+1))
	if err != nil {
		return nil, fmt.Errorf("board map %s: %w", path, err)
	}
	if len(data) > maxMapSize {
		return nil, fmt.Errorf("board map %s: larger than %d bytes", path, maxMapSize)
	}
	return Parse(path, data, st.Mode().Perm())
}

// Parse checks the map's text; perm is the file's permission bits (an
// inline password is refused when others than the owner can read it).
// Errors read "PATH:LINE: what is wrong".
func Parse(path string, data []byte, perm fs.FileMode) (*Map, error) {
	m := &Map{Path: path, byName: map[string]int{}}
	for i, raw := range strings.Split(string(data), "\n") {
		line := i + 1
		text := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		e, err := parseLine(path, text, perm)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		e.Line = line
		if prev, dup := m.byName[e.Name]; dup {
			return nil, fmt.Errorf("%s:%d: %s already has an entry on line %d", path, line, e.Name, m.Entries[prev].Line)
		}
		m.byName[e.Name] = len(m.Entries)
		m.Entries = append(m.Entries, e)
	}
	for _, e := range m.Entries {
		if e.Group == "" {
			continue
		}
		if _, ok := m.byName[e.Group]; !ok {
			return nil, fmt.Errorf("%s:%d: group %s has no entry in this file (add a line %s = URL password_file=PATH)", path, e.Line, e.Group, e.Group)
		}
	}
	return m, nil
}

const entrySyntax = "want NAME = URL [password_file=PATH], @GROUP = URL [password_file=PATH], NAME = @GROUP or * = URL [password_file=PATH]"

// parseLine reads one entry (without its line number).
func parseLine(path, text string, perm fs.FileMode) (Entry, error) {
	name, rest, ok := strings.Cut(text, "=")
	name = strings.TrimSpace(name)
	fields := strings.Fields(rest)
	if !ok || name == "" || len(fields) == 0 {
		return Entry{}, errors.New(entrySyntax)
	}
	if strings.ContainsAny(name, " \t") {
		return Entry{}, fmt.Errorf("%q: one name an entry (a learner, @GROUP or *), then =", name)
	}
	if name == "@" || (strings.HasPrefix(name, "*") && name != "*") {
		return Entry{}, fmt.Errorf("%q is not a learner, @GROUP or *", name)
	}
	e := Entry{Name: name}
	target, options := fields[0], fields[1:]
	if strings.HasPrefix(target, "@") {
		if strings.HasPrefix(name, "@") || name == "*" {
			return Entry{}, fmt.Errorf("%s = %s: only a learner can belong to a group", name, target)
		}
		if target == "@" {
			return Entry{}, errors.New("@ without a group name")
		}
		e.Group = target
	} else {
		url, err := webrepl.NormalizeURL(target)
		if err != nil {
			return Entry{}, fmt.Errorf("%s: %w", name, err)
		}
		e.URL = url
	}
	for _, opt := range options {
		key, value, _ := strings.Cut(opt, "=")
		switch {
		case value == "" && (key == "password_file" || key == "password"):
			return Entry{}, fmt.Errorf("%s with no value", key)
		case key == "password_file" && e.PasswordFile == "":
			if !filepath.IsAbs(value) {
				value = filepath.Join(filepath.Dir(path), value) // relative to the map's folder
			}
			e.PasswordFile = value
		case key == "password" && e.Password == "":
			if perm&0o044 != 0 {
				return Entry{}, fmt.Errorf("password= in a map other users can read (mode %04o): put the password in a file only its learner can read and name it with password_file=PATH", perm)
			}
			e.Password = value
		case key == "password_file" || key == "password":
			return Entry{}, fmt.Errorf("%s given twice", key)
		default:
			return Entry{}, fmt.Errorf("unknown option %q (want password_file=PATH)", opt)
		}
	}
	if e.Password != "" && e.PasswordFile != "" {
		return Entry{}, errors.New("both password= and password_file=: give one")
	}
	return e, nil
}

// Choice is the board the map gives a learner.
type Choice struct {
	Learner string
	Entry   Entry  // the line that gives the board (the group's, for a member)
	Via     *Entry // NAME = @GROUP: the learner's own line; nil otherwise
	Path    string // the map
}

// Lookup finds the learner's board: their own line (or their group's
// board), else the default (* = URL). ok is false when neither exists.
func (m *Map) Lookup(learner string) (Choice, bool) {
	c := Choice{Learner: learner, Path: m.Path}
	i, ok := m.byName[learner]
	if !ok || strings.HasPrefix(learner, "@") || learner == "*" {
		if i, ok = m.byName["*"]; !ok {
			return Choice{}, false
		}
	}
	e := m.Entries[i]
	if e.Group != "" {
		via := e
		c.Via = &via
		e = m.Entries[m.byName[e.Group]]
	}
	c.Entry = e
	return c, true
}

// Origin says where the board came from, for %board: the map and the
// lines that chose it.
func (c Choice) Origin() string {
	switch {
	case c.Via != nil:
		return fmt.Sprintf("board map %s:%d (%s = %s), group's board on line %d", c.Path, c.Via.Line, c.Via.Name, c.Via.Group, c.Entry.Line)
	case c.Entry.Name == "*":
		return fmt.Sprintf("board map %s:%d (the default, * =; no entry for %s)", c.Path, c.Entry.Line, c.Learner)
	}
	return fmt.Sprintf("board map %s:%d (%s =)", c.Path, c.Entry.Line, c.Entry.Name)
}

// ReadPassword returns the entry's password: inline, from its password
// file, or "" when the entry gives none (the kernel then asks).
func (e Entry) ReadPassword() (string, error) {
	if e.PasswordFile == "" {
		return e.Password, nil
	}
	return ReadPasswordFile(e.PasswordFile)
}

// ReadPassword returns the learner's password for the board: from their
// own line when it names one (NAME = @GROUP password_file=PATH: each
// learner of a group keeps a copy only they can read), else the board's.
func (c Choice) ReadPassword() (string, error) {
	if c.Via != nil && (c.Via.PasswordFile != "" || c.Via.Password != "") {
		return c.Via.ReadPassword()
	}
	return c.Entry.ReadPassword()
}

// ReadPasswordFile reads a password file: a regular file that no one but
// its owner can read or write (as ssh asks of a private key), holding the
// password on its first line.
func ReadPasswordFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return "", fmt.Errorf("cannot read password file %s: permission denied (it must belong to the learner who uses the board, mode 0600)", path)
		}
		return "", fmt.Errorf("password file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("password file %s: not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("password file %s: other users can read or change it (mode %04o); refused: chmod 600 %s (owned by its learner)", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPasswordSize+1))
	if err != nil {
		return "", fmt.Errorf("password file %s: %w", path, err)
	}
	if len(data) > maxPasswordSize {
		return "", fmt.Errorf("password file %s: longer than %d bytes (want the password on one line)", path, maxPasswordSize)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pw := strings.TrimSuffix(first, "\r")
	if pw == "" {
		return "", fmt.Errorf("password file %s: empty (want the password on its first line)", path)
	}
	return pw, nil
}

// Board is one board of the map, as the rehearsal sees it: the entries
// that give the same URL are one board.
type Board struct {
	Name     string // the entries' names, "alice" or "@table3, *"
	URL      string
	Entry    Entry    // the first entry with this URL: its password is used
	Learners []string // who uses it: learners with their own line or in its group
}

// Boards lists the map's boards in the order of their first line.
func (m *Map) Boards() []Board {
	var boards []Board
	index := map[string]int{} // URL → boards index
	for _, e := range m.Entries {
		if e.URL == "" {
			continue
		}
		i, seen := index[e.URL]
		if !seen {
			i = len(boards)
			index[e.URL] = i
			boards = append(boards, Board{URL: e.URL, Entry: e, Name: e.Name})
		} else {
			boards[i].Name += ", " + e.Name
		}
		if !strings.HasPrefix(e.Name, "@") && e.Name != "*" {
			boards[i].Learners = append(boards[i].Learners, e.Name)
		}
	}
	for _, e := range m.Entries {
		if e.Group != "" {
			i := index[m.Entries[m.byName[e.Group]].URL]
			boards[i].Learners = append(boards[i].Learners, e.Name)
		}
	}
	return boards
}

// Learner is the name the kernel looks up: $JUPYTERHUB_USER (set by
// JupyterHub for each learner's server), else the login name.
func Learner(getenv func(string) string) (string, error) {
	if name := getenv("JUPYTERHUB_USER"); name != "" {
		return name, nil
	}
	u, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("finding the login name: %w", err)
	}
	return u.Username, nil
}

// Locate says which map the kernel reads: $WEBREPL_BOARDS, else
// DefaultPath when it exists; "" when there is none.
func Locate(getenv func(string) string) string {
	if p := getenv(EnvPath); p != "" {
		return p
	}
	if _, err := os.Lstat(DefaultPath); errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	return DefaultPath
}
