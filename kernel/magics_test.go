package kernel

import (
	"reflect"
	"testing"
)

func TestSplitMagics(t *testing.T) {
	magics, rest := splitMagics("%connect ws://b:8266/ --password pw\n# note\n%lsmagic\nx = 1\n%notmagic")
	want := []magicLine{{name: "%connect", args: []string{"ws://b:8266/", "--password", "pw"}, raw: "ws://b:8266/ --password pw"}, {name: "%lsmagic", args: []string{}}}
	if !reflect.DeepEqual(magics, want) {
		t.Errorf("magics = %#v, want %#v", magics, want)
	}
	if rest != "\n# note\n\nx = 1\n%notmagic" {
		t.Errorf("rest = %q (lines must stay where they were)", rest)
	}
	if m, rest := splitMagics("print(1)"); m != nil || rest != "print(1)" {
		t.Errorf("plain cell changed: %v %q", m, rest)
	}
	if _, rest := splitMagics("%disconnect\n\n"); rest != "" {
		t.Errorf("magic-only cell left code %q", rest)
	}
}

func TestParseConnect(t *testing.T) {
	cases := []struct {
		args          []string
		url, password string
		ok            bool
	}{
		{[]string{"ws://192.168.4.1:8266/"}, "ws://192.168.4.1:8266/", "", true},
		{[]string{"192.168.4.1", "--password", "secret"}, "ws://192.168.4.1:8266/", "secret", true},
		{[]string{"--password=pw", "board.local:9000"}, "ws://board.local:9000/", "pw", true},
		{nil, "", "", false},
		{[]string{"http://x/"}, "", "", false},
		{[]string{"a", "b"}, "", "", false},
		{[]string{"a", "--password"}, "", "", false},
		{[]string{"a", "--verbose"}, "", "", false},
	}
	for _, c := range cases {
		got, err := parseConnect(c.args)
		if (err == nil) != c.ok || (c.ok && (got.url != c.url || got.password != c.password)) {
			t.Errorf("parseConnect(%q) = %+v, %v; want %s %s ok=%v", c.args, got, err, c.url, c.password, c.ok)
		}
	}
}

func TestCompleteMagic(t *testing.T) {
	m, start, ok := completeMagic("x = 1\n%con", 10)
	if !ok || start != 6 || !reflect.DeepEqual(m, []string{"%connect"}) {
		t.Errorf("got %v %d %v", m, start, ok)
	}
	m, _, ok = completeMagic("%", 1)
	if !ok || !reflect.DeepEqual(m, magicNames()) {
		t.Errorf("%% alone: %v %v", m, ok)
	}
	if _, _, ok := completeMagic("print(", 6); ok {
		t.Error("completed a magic in plain code")
	}
}
