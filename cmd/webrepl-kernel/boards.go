package main

import (
	"fmt"

	"webrepl-kernel/boardmap"
	"webrepl-kernel/kernelspec"
)

// boardChoice is where the kernel's board comes from at start.
type boardChoice struct {
	url, password, origin string
	problem               error // a map or password file the kernel could not use
}

// chooseBoard picks the kernel's board, most specific first:
//  1. WEBREPL_URL (and WEBREPL_PASSWORD): the kernelspec's env (install
//     --url) or the environment, e.g. `run --url`;
//  2. the board map ($WEBREPL_BOARDS, else /etc/webrepl-kernel/boards.conf
//     when it exists): the learner's line, their group's board, or the
//     default;
//  3. none: the first cell asks for %connect.
//
// %connect overrides any of them later.
func chooseBoard(getenv func(string) string) boardChoice {
	if url := getenv(kernelspec.EnvURL); url != "" {
		return boardChoice{url: url, password: getenv(kernelspec.EnvPassword),
			origin: kernelspec.EnvURL + " (the kernelspec's env, or the environment the kernel was started in)"}
	}
	path := boardmap.Locate(getenv)
	if path == "" {
		return boardChoice{}
	}
	m, err := boardmap.Load(path)
	if err != nil {
		return boardChoice{problem: err}
	}
	// Without a name (no JUPYTERHUB_USER, a uid with no login name) only
	// the default can apply.
	learner, nameErr := boardmap.Learner(getenv)
	if nameErr != nil {
		learner = "(no login name)"
	}
	c, ok := m.Lookup(learner)
	switch {
	case !ok && nameErr != nil:
		return boardChoice{problem: fmt.Errorf("board map %s has no default (* = URL), and %w", path, nameErr)}
	case !ok:
		return boardChoice{problem: fmt.Errorf("board map %s has no line for learner %s and no default (* = URL): ask the teacher", path, learner)}
	}
	choice := boardChoice{url: c.Entry.URL, origin: c.Origin()}
	choice.password, err = c.ReadPassword()
	if err != nil {
		choice.problem = fmt.Errorf("%s (learner %s, %s)", err, learner, c.Origin())
	}
	return choice
}
