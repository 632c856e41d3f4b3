// Where the source of what the inspector found can be read: the latest cell
// of this kernel that defined it (skipping cells the board did not compile),
// or the excerpt of the board file the inspector sent.

package kernel

import (
	"fmt"
	"strings"
)

// noteUncompiled remembers a cell the board did not compile: its text
// defined nothing, so inspection must not take a signature from it.
func (k *Kernel) noteUncompiled(count int, failure *cellError) {
	if failure.ename != "SyntaxError" && failure.ename != "IndentationError" {
		return
	}
	if k.uncompiled == nil {
		k.uncompiled = map[int]bool{}
	}
	k.uncompiled[count] = true
}

// cellDefinition finds the latest cell of this kernel that defined name at
// its top level (skipping cells the board could not compile).
func (k *Kernel) cellDefinition(name string) (definition, bool) {
	for i := len(k.history.entries) - 1; i >= 0; i-- {
		e := k.history.entries[i]
		if k.uncompiled[e.line] {
			continue
		}
		if block, ok := findDefinition(strings.Split(e.input, "\n"), name, true); ok {
			return definition{where: fmt.Sprintf("In [%d]", e.line), lines: block}, true
		}
	}
	return definition{}, false
}

// definitionOf is where the source of what the board found can be read.
func (k *Kernel) definitionOf(obj boardObject) (definition, bool) {
	if obj.kind != "class" && obj.kind != "function" || obj.name == "" {
		return definition{}, false
	}
	if obj.owner != "" {
		// A method of a class defined in a cell: inside that class's block,
		// not a top-level def that happens to share its name.
		class, ok := k.cellDefinition(obj.owner)
		if !ok {
			return definition{}, false
		}
		block, ok := findDefinition(class.lines[1:], obj.name, false)
		return definition{where: class.where, lines: block}, ok
	}
	if obj.inGlobals {
		return k.cellDefinition(obj.name)
	}
	if len(obj.fileSource) > 0 {
		if block, ok := findDefinition(obj.fileSource, obj.name, false); ok {
			return definition{where: obj.file + " (on the board)", lines: block}, true
		}
	}
	return definition{}, false
}
