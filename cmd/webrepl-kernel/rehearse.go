package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"webrepl-kernel/boardmap"
	"webrepl-kernel/kernelspec"
	"webrepl-kernel/notebook"
	"webrepl-kernel/rehearsal"
)

// runRehearsal is `run --boards FILE`: every notebook on every board of
// the map (package rehearsal). set: the flags given on the command line.
func runRehearsal(ctx context.Context, set map[string]bool, mapPath string, jobs int, reportPath string, opts notebook.Options, paths []string) error {
	var clash []string
	for _, name := range []string{"url", "password", "sim", "profile", "output", "v"} {
		if set[name] {
			clash = append(clash, "--"+name)
		}
	}
	sort.Strings(clash)
	switch {
	case mapPath == "":
		return usage("--boards needs a board map file")
	case len(clash) > 0:
		return usage("--boards takes the boards and passwords from the map: %s does not go with it", strings.Join(clash, ", "))
	case jobs < 1:
		return badValue("--jobs %d: want 1 or more", jobs)
	}
	for _, p := range paths {
		if !strings.HasSuffix(p, ".ipynb") {
			return badValue("%s: not a notebook (want a .ipynb file)", p)
		}
	}
	m, err := boardmap.Load(mapPath)
	if err != nil {
		return err
	}
	var boards []rehearsal.Board
	for _, b := range m.Boards() {
		pw, err := b.Entry.ReadPassword()
		if err == nil && pw == "" {
			err = fmt.Errorf("%s:%d gives no password for %s: add password_file=PATH (the teacher's copy)", mapPath, b.Entry.Line, b.Entry.Name)
		}
		boards = append(boards, rehearsal.Board{Name: b.Name, URL: b.URL, Learners: b.Learners, Password: pw, PasswordErr: err})
	}
	if len(boards) == 0 {
		return fmt.Errorf("board map %s gives no board (want lines NAME = URL)", mapPath)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this program to start kernels: %w", err)
	}
	fmt.Fprintf(os.Stderr, "run: rehearsing %d notebook(s) on %d board(s) from %s, %d at once\n", len(paths), len(boards), mapPath, jobs)
	rep := rehearsal.Run(ctx, boards, paths, rehearsal.Options{
		Jobs:     jobs,
		Notebook: opts,
		StartKernel: func(url, password string) func(context.Context) (notebook.Kernel, error) {
			return notebook.LaunchKernel([]string{exe, "kernel", "--connection-file", "{connection_file}"},
				[]string{kernelspec.EnvURL + "=" + url, kernelspec.EnvPassword + "=" + password}, os.Stderr)
		},
		Progress: func(b rehearsal.Board, o rehearsal.Outcome) {
			// One write a line: lines from boards running at once do not mix.
			fmt.Fprintf(os.Stderr, "run: %s × %s: %s (%.1fs)\n", b.Name, filepath.Base(o.Lesson), o.Brief(), o.Seconds)
		},
	})
	rep.Map = mapPath
	rep.WriteTable(os.Stdout)
	if reportPath != "" {
		if err := rep.WriteJSON(reportPath); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "run: report written to %s\n", reportPath)
	}
	if !rep.OK {
		return exitError{code: 1}
	}
	return nil
}
