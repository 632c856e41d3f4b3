package kernel

import (
	"reflect"
	"testing"
)

func intp(n int) *int { return &n }

func TestHistoryQueries(t *testing.T) {
	var h history
	for i, code := range []string{"x = 1", "print(x)", "1+2", "x = 1", "1+2"} {
		h.add(i+1, code)
	}
	h.setOutput(3, "3")
	cases := []struct {
		name string
		q    historyQuery
		want [][]any
	}{
		{"tail", historyQuery{HistAccessType: "tail", N: intp(2)},
			[][]any{{1, 4, "x = 1"}, {1, 5, "1+2"}}},
		{"tail unique", historyQuery{HistAccessType: "tail", N: intp(10), Unique: true},
			[][]any{{1, 2, "print(x)"}, {1, 4, "x = 1"}, {1, 5, "1+2"}}},
		{"range", historyQuery{HistAccessType: "range", Session: 1, Start: 2, Stop: intp(4)},
			[][]any{{1, 2, "print(x)"}, {1, 3, "1+2"}}},
		{"range current session, open end", historyQuery{HistAccessType: "range", Start: 4},
			[][]any{{1, 4, "x = 1"}, {1, 5, "1+2"}}},
		{"range other session", historyQuery{HistAccessType: "range", Session: -1, Start: 1}, [][]any{}},
		{"range with output", historyQuery{HistAccessType: "range", Start: 2, Stop: intp(4), Output: true},
			[][]any{{1, 2, []any{"print(x)", nil}}, {1, 3, []any{"1+2", "3"}}}},
		{"search glob", historyQuery{HistAccessType: "search", Pattern: "1?2"},
			[][]any{{1, 3, "1+2"}, {1, 5, "1+2"}}},
		{"search star", historyQuery{HistAccessType: "search", Pattern: "*x*"},
			[][]any{{1, 1, "x = 1"}, {1, 2, "print(x)"}, {1, 4, "x = 1"}}},
		{"search unique", historyQuery{HistAccessType: "search", Pattern: "*", Unique: true, N: intp(2)},
			[][]any{{1, 4, "x = 1"}, {1, 5, "1+2"}}},
		{"search class", historyQuery{HistAccessType: "search", Pattern: "[!p]*"},
			[][]any{{1, 1, "x = 1"}, {1, 3, "1+2"}, {1, 4, "x = 1"}, {1, 5, "1+2"}}},
		{"search is case-sensitive and whole", historyQuery{HistAccessType: "search", Pattern: "PRINT*"}, [][]any{}},
	}
	for _, c := range cases {
		got := h.query(c.q)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
