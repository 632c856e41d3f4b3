package kernel

import (
	"regexp"
	"strings"
)

// historySession is the number this kernel reports as its history session.
// History lives in memory, so every kernel process is session 1.
const historySession = 1

type historyEntry struct {
	line   int // the cell's execution_count
	input  string
	output *string // text/plain of the cell's Out[n], if any
}

// history keeps the inputs of cells run with store_history, on the host.
// Only the shell goroutine touches it.
type history struct {
	entries []historyEntry
}

// add keeps a cell's input, with the value of %connect's --password
// replaced (history_request answers any frontend, and IPython-style
// frontends save history to disk).
func (h *history) add(line int, input string) {
	h.entries = append(h.entries, historyEntry{line: line, input: redactPasswordArgs(input)})
}

func (h *history) setOutput(line int, output string) {
	for i := len(h.entries) - 1; i >= 0; i-- {
		if h.entries[i].line == line {
			h.entries[i].output = &output
			return
		}
	}
}

// historyQuery is the content of history_request.
type historyQuery struct {
	Output         bool   `json:"output"`
	Raw            bool   `json:"raw"`
	HistAccessType string `json:"hist_access_type"`
	Session        int    `json:"session"`
	Start          int    `json:"start"`
	Stop           *int   `json:"stop"`
	N              *int   `json:"n"`
	Pattern        string `json:"pattern"`
	Unique         bool   `json:"unique"`
}

// query answers a history_request with (session, line, input) triples, or
// (session, line, [input, output]) when output is asked for.
func (h *history) query(q historyQuery) [][]any {
	var picked []historyEntry
	switch q.HistAccessType {
	case "range":
		// Session 0 means the current one; negative sessions are earlier
		// kernel processes, whose history this kernel does not keep.
		if q.Session != 0 && q.Session != historySession {
			break
		}
		for _, e := range h.entries {
			if e.line >= q.Start && (q.Stop == nil || *q.Stop <= 0 || e.line < *q.Stop) {
				picked = append(picked, e)
			}
		}
	case "search":
		pattern := q.Pattern
		if pattern == "" {
			pattern = "*"
		}
		match := globRegexp(pattern)
		for _, e := range h.entries {
			if match.MatchString(e.input) {
				picked = append(picked, e)
			}
		}
		if q.Unique {
			picked = keepLatestUnique(picked)
		}
		picked = lastN(picked, q.N)
	default: // "tail", and what a client may send without a type
		picked = h.entries
		if q.Unique {
			picked = keepLatestUnique(picked)
		}
		n := 10
		if q.N != nil {
			n = *q.N
		}
		picked = lastN(picked, &n)
	}
	out := make([][]any, 0, len(picked))
	for _, e := range picked {
		if q.Output {
			var output any // JSON null when the cell had no Out[n]
			if e.output != nil {
				output = *e.output
			}
			out = append(out, []any{historySession, e.line, []any{e.input, output}})
		} else {
			out = append(out, []any{historySession, e.line, e.input})
		}
	}
	return out
}

func lastN(entries []historyEntry, n *int) []historyEntry {
	if n == nil || *n <= 0 || *n >= len(entries) {
		return entries
	}
	return entries[len(entries)-*n:]
}

// keepLatestUnique keeps the latest entry of each distinct input, in order.
func keepLatestUnique(entries []historyEntry) []historyEntry {
	latest := map[string]int{}
	for i, e := range entries {
		latest[e.input] = i
	}
	var out []historyEntry
	for i, e := range entries {
		if latest[e.input] == i {
			out = append(out, e)
		}
	}
	return out
}

// globRegexp turns a glob as IPython's history search takes it (SQLite GLOB:
// * any run, ? one character, [...] a class, case-sensitive, whole input)
// into a regular expression.
func globRegexp(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	runes := []rune(glob)
	for i := 0; i < len(runes); i++ {
		switch c := runes[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			end := i + 1
			if end < len(runes) && (runes[end] == '^' || runes[end] == '!') {
				end++
			}
			if end < len(runes) && runes[end] == ']' {
				end++
			}
			for end < len(runes) && runes[end] != ']' {
				end++
			}
			if end >= len(runes) {
				b.WriteString(regexp.QuoteMeta(string(c)))
				continue
			}
			class := runes[i+1 : end]
			b.WriteByte('[')
			if len(class) > 0 && (class[0] == '^' || class[0] == '!') {
				b.WriteByte('^')
				class = class[1:]
			}
			for _, r := range class {
				if r == '\\' || r == '[' || r == ']' {
					b.WriteByte('\\')
				}
				b.WriteRune(r)
			}
			b.WriteByte(']')
			i = end
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`\z`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		// Only a malformed class can get here; match it literally instead.
		return regexp.MustCompile(`\A` + regexp.QuoteMeta(glob) + `\z`)
	}
	return re
}
