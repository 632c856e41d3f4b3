package kernel

import (
	"errors"
	"fmt"
	"strings"

	"webrepl-kernel/webrepl"
)

// magicLine is one parsed line magic.
type magicLine struct {
	name string   // "%connect"
	args []string // whitespace-separated arguments
	raw  string   // the arguments as typed (for quoted paths)
	body string   // for a %% magic: the rest of the cell
	// cellMagic: a %% magic on the cell's first line, which owns the rest
	// of the cell (IPython's rule); a %% line anywhere else is refused.
	cellMagic bool
}

// splitMagics takes the magic lines at the top of a cell (blank and comment
// lines may sit between them). The rest of the cell is returned with those
// lines blanked, so line numbers on the board stay the cell's. A cell whose
// first line is a %% magic is that magic alone, the rest its body.
func splitMagics(cell string) (magics []magicLine, rest string) {
	lines := strings.Split(cell, "\n")
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if !strings.HasPrefix(line, "%") {
			break
		}
		fields := strings.Fields(line)
		m := magicLine{name: fields[0], args: fields[1:], raw: strings.TrimSpace(line[len(fields[0]):])}
		if strings.HasPrefix(m.name, "%%") && len(magics) == 0 {
			m.cellMagic = true
			m.body = strings.Join(lines[i+1:], "\n")
			return []magicLine{m}, ""
		}
		magics = append(magics, m)
		lines[i] = ""
	}
	if len(magics) == 0 {
		return nil, cell
	}
	rest = strings.Join(lines, "\n")
	if strings.TrimSpace(rest) == "" {
		rest = ""
	}
	return magics, rest
}

// connectArgs are the arguments of %connect.
type connectArgs struct {
	url      string
	password string
	keep     bool // --keep: do not hand the board over to other notebooks
}

func parseConnect(args []string) (connectArgs, error) {
	var c connectArgs
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--password":
			if i+1 >= len(args) {
				return c, errors.New("--password needs a value")
			}
			i++
			c.password = args[i]
		case a == "--keep":
			c.keep = true
		case strings.HasPrefix(a, "--password="):
			c.password = strings.TrimPrefix(a, "--password=")
		case strings.HasPrefix(a, "-"):
			return c, fmt.Errorf("unknown option %s", a)
		case c.url == "":
			c.url = a
		default:
			// Not quoted back: a password typed without --password must
			// not appear in the error.
			return c, fmt.Errorf("unexpected argument %d after the URL (give a password with --password PW)", i+1)
		}
	}
	if c.url == "" {
		return c, errors.New("usage: " + "%connect URL [--password PW] [--keep]")
	}
	u, err := webrepl.NormalizeURL(c.url)
	if err != nil {
		return c, err
	}
	c.url = u
	return c, nil
}

// completeMagic completes a magic name at the cursor. ok is false when the
// cursor is not in a magic name.
func completeMagic(code string, cursor int) (matches []string, start int, ok bool) {
	runes := []rune(code)
	if cursor < 0 || cursor > len(runes) {
		cursor = len(runes)
	}
	lineStart := cursor
	for lineStart > 0 && runes[lineStart-1] != '\n' {
		lineStart--
	}
	word := string(runes[lineStart:cursor])
	if !strings.HasPrefix(word, "%") || strings.ContainsAny(word, " \t") {
		return nil, cursor, false
	}
	for _, name := range magicNames() {
		if strings.HasPrefix(name, word) {
			matches = append(matches, name)
		}
	}
	return matches, lineStart, true
}
