package kernel

import (
	"testing"
)

func TestCompletionTarget(t *testing.T) {
	cases := []struct {
		before, object, prefix string
		start                  int
		ok                     bool
	}{
		{"pri", "", "pri", 0, true},
		{"x = os.pa", "os", "pa", 4, true},
		{"machine.Pin.", "machine.Pin", "", 0, true},
		{"f(a.b", "a", "b", 2, true},
		{"é = ab", "", "ab", 4, true},
		{"x = 1.re", "", "", 8, false},
		{"f().x", "", "", 5, false},
		{"'a'.up", "", "", 6, false},
		{"x = ", "", "", 4, false},
		{"x.", "x", "", 0, true},
	}
	for _, c := range cases {
		object, prefix, start, ok := completionTarget([]rune(c.before))
		if ok != c.ok || (ok && (object != c.object || prefix != c.prefix || start != c.start)) {
			t.Errorf("completionTarget(%q) = %q %q %d %v; want %q %q %d %v", c.before, object, prefix, start, ok, c.object, c.prefix, c.start, c.ok)
		}
	}
}
