package rehearsal

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// WriteTable prints the board × lesson table, the problems under it (one
// line a board when all its lessons share one, else one a lesson) and a
// summary line.
func (r *Report) WriteTable(w io.Writer) {
	header := []string{"board"}
	for _, l := range r.Lessons {
		header = append(header, lessonName(l))
	}
	rows := [][]string{header}
	for _, b := range r.Boards {
		row := []string{b.Name}
		for _, o := range b.Results {
			row = append(row, o.Brief())
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(header))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range rows {
		var line strings.Builder
		for i, c := range row {
			line.WriteString(c)
			if i < len(row)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(line.String(), " "))
	}
	problems := r.problems()
	if len(problems) > 0 {
		fmt.Fprintln(w, "\nproblems:")
		for _, p := range problems {
			fmt.Fprintln(w, "  "+p)
		}
	}
	fmt.Fprintln(w, r.summary())
}

// Brief is the table's cell for an outcome: "ok", "cell 3: NameError",
// "unreachable", ….
func (o Outcome) Brief() string {
	if o.Status == Failed && o.Cell > 0 {
		if o.Ename != "" {
			return fmt.Sprintf("cell %d: %s", o.Cell, o.Ename)
		}
		return fmt.Sprintf("cell %d failed", o.Cell)
	}
	return string(o.Status)
}

// problems lists what was not ok, one line each.
func (r *Report) problems() []string {
	var lines []string
	for _, b := range r.Boards {
		board := fmt.Sprintf("%s (%s)", b.Name, b.URL)
		if n := len(b.Results); n > 1 && b.Results[0].Status != OK && b.Results[0].Status != Failed && sameProblem(b.Results) {
			lines = append(lines, fmt.Sprintf("%s: %s: %s", board, b.Results[0].Status, b.Results[0].Error))
			continue
		}
		for _, o := range b.Results {
			switch {
			case o.Status == OK || o.Status == Skipped:
			case o.Status == Failed && o.Cell > 0:
				lines = append(lines, fmt.Sprintf("%s × %s: cell %d %s", board, lessonName(o.Lesson), o.Cell, o.Error))
			default:
				lines = append(lines, fmt.Sprintf("%s × %s: %s: %s", board, lessonName(o.Lesson), o.Status, o.Error))
			}
		}
	}
	return lines
}

func sameProblem(results []Outcome) bool {
	for _, o := range results[1:] {
		if o.Status != results[0].Status || o.Error != results[0].Error {
			return false
		}
	}
	return true
}

// summary is the last line.
func (r *Report) summary() string {
	var parts []string
	for _, s := range statusOrder {
		if n := r.Counts[s]; n > 0 || s == OK || s == Failed {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	return fmt.Sprintf("rehearsal: %d board(s) × %d lesson(s): %s; %d of %d board(s) ready (%.1fs)",
		len(r.Boards), len(r.Lessons), strings.Join(parts, ", "), r.BoardsReady, len(r.Boards), r.Seconds)
}

// WriteJSON writes the report to path (indented JSON), whole or not at all.
func (r *Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
