// Package webrepl is a client for MicroPython's WebREPL: it logs in to a board
// over a WebSocket, keeps the board in its raw REPL, runs programs while
// streaming their output, and moves files over WebREPL's binary protocol.
//
// The protocol facts it relies on are restated in docs/protocol/webrepl.md; the
// section numbers quoted in comments (§3.7, §4.3, …) refer to that document.
// The package knows nothing of Jupyter.
//
// A Console (DialConsole) is the other way in: the board's friendly REPL for
// a person at a terminal, with paced keystrokes and no raw REPL.
//
// One Session owns one board. Exec and the file operations are serialised;
// Interrupt and SendInput may be called from other goroutines while Exec runs.
// Each connection has two goroutines (a frame reader and an idle
// keep-alive), which end when the connection ends; a Console adds its paced
// sender, ending with Close, and ExecInterruptible a watcher of its ctx,
// ending with the call.
package webrepl
