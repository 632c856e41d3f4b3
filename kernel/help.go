// Help cells: "obj?", "obj??", "?obj", "??obj" and "%magic?" run as cells
// and show the inspection text in the frontend's pager.

package kernel

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"webrepl-kernel/jupyter"
)

// helpQuery is a help cell: "obj?", "obj??", "?obj" or "??obj"; also
// "%magic?".
type helpQuery struct {
	name   string
	detail int
}

var helpCell = regexp.MustCompile(`^(\?{0,2})((?:%%?)?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(\?{0,2})$`)

// parseHelpQuery recognises a cell that is only a help query.
func parseHelpQuery(code string) (helpQuery, bool) {
	m := helpCell.FindStringSubmatch(strings.TrimSpace(code))
	if m == nil || (m[1] == "") == (m[3] == "") {
		return helpQuery{}, false
	}
	return helpQuery{name: m[2], detail: len(m[1]+m[3]) - 1}, true
}

// runHelp runs a help cell: the text Shift-Tab would show, as a "page"
// payload of the execute_reply (what ipykernel sends; frontends show it in
// their pager), or "Object `x` not found." as output, as IPython says it.
func (k *Kernel) runHelp(ctx context.Context, r jupyter.Request, req jupyter.ExecuteRequest, count int, q helpQuery) (*cellError, []any) {
	io := cellIO{k: k, r: r, silent: req.Silent, count: count, store: req.StoreHistory}
	if strings.HasPrefix(q.name, "%") {
		text, ok := magicHelp(q.name)
		if !ok {
			return hostError("UsageError", "unknown magic "+q.name+" (%lsmagic lists them)"), nil
		}
		return nil, pagePayload(text, req.Silent)
	}
	cell := k.startCell(ctx)
	defer k.endCell(cell)
	defer k.boardDone()
	s, failure := k.connect(cell, r, req, io)
	if failure != nil {
		return failure, nil
	}
	cell.setSession(s) // an interrupt stops the inspector too
	text, found := k.inspection(cell.ctx, s, 0, q.name, q.detail)
	cell.setSession(nil)
	if interrupted, _ := cell.state(); interrupted {
		return interruptedError(), nil
	}
	if !found {
		io.stdout(fmt.Sprintf("Object `%s` not found.\n", q.name))
		return nil, nil
	}
	return nil, pagePayload(text, req.Silent)
}

// pagePayload is the execute_reply payload that shows text in the pager
// (docs/protocol/jupyter.md §1.9); a silent request shows nothing.
func pagePayload(text string, silent bool) []any {
	if silent {
		return nil
	}
	return []any{map[string]any{"source": "page", "data": map[string]any{"text/plain": text}, "start": 0}}
}
