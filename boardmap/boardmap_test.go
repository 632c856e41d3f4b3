package boardmap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct {
		text string
		perm os.FileMode
		want string
	}{
		{"alice ws://10.0.0.1/\n", 0o644, "m.conf:1: want NAME = URL [password_file=PATH]"},
		{"# comment\n\nalice =\n", 0o644, "m.conf:3: want NAME = URL"},
		{" = 10.0.0.1\n", 0o644, "m.conf:1: want NAME = URL"},
		{"alice bob = 10.0.0.1\n", 0o644, `m.conf:1: "alice bob": one name an entry`},
		{"alice = http://10.0.0.1/\n", 0o644, "m.conf:1: alice: "},
		{"alice = 10.0.0.1\nalice = 10.0.0.2\n", 0o644, "m.conf:2: alice already has an entry on line 1"},
		{"alice = 10.0.0.1 passwd=x\n", 0o644, `m.conf:1: unknown option "passwd=x" (want password_file=PATH)`},
		{"alice = 10.0.0.1 # the blue one\n", 0o644, `m.conf:1: unknown option "#"`},
		{"alice = 10.0.0.1 password_file=\n", 0o644, "m.conf:1: password_file with no value"},
		{"alice = 10.0.0.1 password_file=/a password_file=/b\n", 0o644, "m.conf:1: password_file given twice"},
		{"alice = 10.0.0.1 password=pw\n", 0o644, "m.conf:1: password= in a map other users can read (mode 0644)"},
		{"alice = 10.0.0.1 password=pw\n", 0o640, "m.conf:1: password= in a map other users can read (mode 0640)"},
		{"alice = 10.0.0.1 password=pw password_file=/a\n", 0o600, "m.conf:1: both password= and password_file="},
		{"carol = @table\n", 0o644, "m.conf:1: group @table has no entry in this file"},
		{"@a = 10.0.0.1\n@b = @a\n", 0o644, "m.conf:2: @b = @a: only a learner can belong to a group"},
		{"* = @a\n@a = 10.0.0.1\n", 0o644, "m.conf:1: * = @a: only a learner can belong to a group"},
		{"carol = @\n", 0o644, "m.conf:1: @ without a group name"},
		{"** = 10.0.0.1\n", 0o644, `m.conf:1: "**" is not a learner, @GROUP or *`},
		{"* = 10.0.0.1\n* = 10.0.0.2\n", 0o644, "m.conf:2: * already has an entry on line 1"},
	} {
		_, err := Parse("m.conf", []byte(tc.text), tc.perm)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line starting %q", tc.text, err, tc.want)
		}
	}
}

func TestLookupAndBoards(t *testing.T) {
	text := "# classroom\r\n" +
		"alice   = ws://10.0.0.1:8266/ password_file=/pw/alice\n" +
		"@table  = 10.0.0.2 password_file=pw/table\n" +
		"carol   = @table password_file=/pw/carol\n" +
		"dave    = @table\n" +
		"bob     = 10.0.0.1:8266 password=inline\n" +
		"*       = 10.0.0.3\n"
	m, err := Parse("/etc/wk/boards.conf", []byte(text), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		learner, url, origin, pwSource string
	}{
		{"alice", "ws://10.0.0.1:8266/", "board map /etc/wk/boards.conf:2 (alice =)", "/pw/alice"},
		{"carol", "ws://10.0.0.2:8266/", "board map /etc/wk/boards.conf:4 (carol = @table), group's board on line 3", "/pw/carol"},
		{"dave", "ws://10.0.0.2:8266/", "board map /etc/wk/boards.conf:5 (dave = @table), group's board on line 3", "/etc/wk/pw/table"},
		{"zed", "ws://10.0.0.3:8266/", "board map /etc/wk/boards.conf:7 (the default, * =; no entry for zed)", ""},
		{"@table", "ws://10.0.0.3:8266/", "board map /etc/wk/boards.conf:7 (the default, * =; no entry for @table)", ""},
	} {
		c, ok := m.Lookup(tc.learner)
		source := c.Entry.PasswordFile
		if c.Via != nil && c.Via.PasswordFile != "" {
			source = c.Via.PasswordFile
		}
		if !ok || c.Entry.URL != tc.url || c.Origin() != tc.origin || source != tc.pwSource {
			t.Errorf("Lookup(%s) = %v %+v (origin %q, password from %q); want %s, %q, %q", tc.learner, ok, c, c.Origin(), source, tc.url, tc.origin, tc.pwSource)
		}
	}
	if c, _ := m.Lookup("bob"); c.Entry.Password != "inline" {
		t.Errorf("bob's inline password: %+v", c.Entry)
	}

	boards := m.Boards()
	var got []string
	for _, b := range boards {
		got = append(got, b.Name+" "+b.URL+" "+strings.Join(b.Learners, ","))
	}
	want := []string{"alice, bob ws://10.0.0.1:8266/ alice,bob", "@table ws://10.0.0.2:8266/ carol,dave", "* ws://10.0.0.3:8266/ "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Boards = %q, want %q", got, want)
	}

	noDefault, err := Parse("m", []byte("alice = 10.0.0.1\n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := noDefault.Lookup("bob"); ok {
		t.Error("a learner without a line found a board in a map without a default")
	}
}

func TestLoadChecksTheFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, perm os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, perm); err != nil {
			t.Fatal(err)
		}
		return p
	}
	writable := write("open.conf", "* = 10.0.0.1\n", 0o666)
	if _, err := Load(writable); err == nil || !strings.Contains(err.Error(), "other users can write it (mode 0666)") {
		t.Errorf("group/world-writable map: %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a folder as map: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing map: %v", err)
	}
	ok := write("ok.conf", "* = 10.0.0.1\n", 0o644)
	if m, err := Load(ok); err != nil || len(m.Entries) != 1 {
		t.Errorf("Load(%s) = %v, %v", ok, m, err)
	}
}

func TestReadPasswordFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, perm os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, perm); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if pw, err := ReadPasswordFile(write("good", "s3cret\r\nignored\n", 0o600)); err != nil || pw != "s3cret" {
		t.Errorf("good file: %q, %v", pw, err)
	}
	if pw, err := ReadPasswordFile(write("nonl", "abc", 0o400)); err != nil || pw != "abc" {
		t.Errorf("file without newline: %q, %v", pw, err)
	}
	for _, tc := range []struct {
		path, want string
	}{
		{write("group", "pw\n", 0o640), "other users can read or change it (mode 0640); refused: chmod 600"},
		{write("world", "pw\n", 0o604), "(mode 0604)"},
		{write("empty", "\n", 0o600), "empty (want the password on its first line)"},
		{write("big", strings.Repeat("x", 2000), 0o600), "longer than 1024 bytes"},
		{filepath.Join(dir, "missing"), "no such file"},
		{dir, "not a regular file"},
	} {
		pw, err := ReadPasswordFile(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || pw != "" {
			t.Errorf("%s: %q, %v; want an error with %q", tc.path, pw, err, tc.want)
		}
	}
	if os.Geteuid() != 0 {
		locked := write("locked", "pw\n", 0o000)
		if _, err := ReadPasswordFile(locked); err == nil || !strings.Contains(err.Error(), "permission denied (it must belong to the learner who uses the board, mode 0600)") {
			t.Errorf("unreadable file: %v", err)
		}
	}
}
