// Package boardpy is what the host needs to send board-side Python that
// lives in .py files (embedded with go:embed by the packages that own
// them): Compact turns a readable file into the short text that crosses the
// link, and Call appends a call of a board-side function whose arguments
// are Python literals made from Go values (Str, Int, Bool). Run-time data
// (tokens, names, paths, cell text) reaches the board only through those
// literals, never by formatting code.
package boardpy
