package kernel

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"time"

	"webrepl-kernel/internal/boardpy"
	"webrepl-kernel/jupyter"
)

// completionTimeout bounds each step of asking the board for names (see
// callHelper): completion must stay snappy, and a board that does not
// answer quickly just gets no matches.
const completionTimeout = 3 * time.Second

// dottedName matches the attribute chain that ends at the cursor ("os.pa").
var dottedName = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\.?$|\.$`)

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// pythonKeywords complete on the host; the board's dir() does not list them.
var pythonKeywords = []string{"False", "None", "True", "and", "as", "assert", "async", "await", "break",
	"class", "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
	"if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try",
	"while", "with", "yield"}

// completionTarget splits the text before the cursor into the expression
// whose names are wanted and the prefix typed so far; start is where the
// replaced text begins (in code points). ok is false where nothing completes.
func completionTarget(before []rune) (object, prefix string, start int, ok bool) {
	text := string(before)
	loc := dottedName.FindStringIndex(text)
	if loc == nil || loc[0] == loc[1] {
		return "", "", len(before), false
	}
	// Attributes of a literal or of a call's result ("1.re", "'a'.up",
	// "f().x") would need evaluating more than names: no completion.
	if loc[0] > 0 && strings.ContainsAny(text[loc[0]-1:loc[0]], "0123456789'\".)]}") {
		return "", "", len(before), false
	}
	token := text[loc[0]:]
	if token == "." {
		return "", "", len(before), false
	}
	start = len([]rune(text[:loc[0]]))
	if i := strings.LastIndexByte(token, '.'); i >= 0 {
		return token[:i], token[i+1:], start, true
	}
	return "", token, start, true
}

// completerName is the board-side function that lists the names a dotted
// expression (or, for "", the globals and builtins) offers, defined by
// completerProgram: py/resolve.py, py/members.py and py/complete.py. It
// resolves the expression as the inspector does (no call, no property
// getter) and prints each name on a line of its own after a random
// per-request token, so nothing else printed can pass for a name.
const completerName = "__wk_complete"

// completionLimit bounds the names one completion brings back.
const completionLimit = 2000

// completerCall is the call that lists the names of object starting with
// prefix, each on a line that starts with token.
func completerCall(object, prefix, token string) string {
	return boardpy.Call(completerName, boardpy.Str(object), boardpy.Str(prefix), boardpy.Str(token), boardpy.Int(completionLimit))
}

// boardCompletions asks the connected board which names complete the
// target. It never connects: completing must not log in to a board.
func (k *Kernel) boardCompletions(ctx context.Context, object, prefix string) []string {
	k.mu.Lock()
	s := k.session
	k.mu.Unlock()
	if s == nil {
		return nil
	}
	token, err := answerToken()
	var out string
	if err == nil {
		out, err = k.callHelper(ctx, s, completionTimeout, completerName, completerProgram, completerCall(object, prefix, token))
	}
	if err != nil {
		k.cfg.Logf("kernel: completion on the board: %v", err)
		return nil
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(line, token); ok && identifier.MatchString(name) {
			names = append(names, name)
		}
	}
	return names
}

// codeCompletions completes Python names at the cursor: keywords on the
// host, everything else from the live board when one is connected. Names
// starting with "_" are left out unless the prefix starts with "_".
func (k *Kernel) codeCompletions(ctx context.Context, code string, cursor int) (matches []string, start int) {
	runes := []rune(code)
	object, prefix, start, ok := completionTarget(runes[:cursor])
	if !ok {
		return nil, cursor
	}
	seen := map[string]bool{}
	add := func(name string) {
		full := name
		if object != "" {
			full = object + "." + name
		}
		if !seen[full] {
			seen[full] = true
			matches = append(matches, full)
		}
	}
	if object == "" && prefix != "" {
		for _, kw := range pythonKeywords {
			if strings.HasPrefix(kw, prefix) {
				add(kw)
			}
		}
	}
	// As IPython: _private and __dunder__ names only once the typed
	// prefix starts with "_" (machine.Pin. lists its methods, not its
	// internals).
	showPrivate := strings.HasPrefix(prefix, "_")
	for _, name := range k.boardCompletions(ctx, object, prefix) {
		if showPrivate || !strings.HasPrefix(name, "_") {
			add(name)
		}
	}
	sort.Strings(matches)
	return matches, start
}

// complete answers complete_request: magic names on the host, other names
// from the connected board.
func (k *Kernel) complete(ctx context.Context, r jupyter.Request) {
	var req jupyter.CompleteRequest
	if err := r.Decode(&req); err != nil {
		k.reply(r, jupyter.ErrorReply{Ename: "ValueError", Evalue: err.Error()})
		return
	}
	cursor := req.CursorPos
	if n := len([]rune(req.Code)); cursor < 0 || cursor > n {
		cursor = n
	}
	reply := jupyter.CompleteReply{Status: jupyter.StatusOK, CursorStart: cursor, CursorEnd: cursor}
	if matches, start, ok := completeMagic(req.Code, cursor); ok {
		reply.Matches, reply.CursorStart = matches, start
	} else {
		reply.Matches, reply.CursorStart = k.codeCompletions(ctx, req.Code, cursor)
	}
	k.reply(r, reply)
}
