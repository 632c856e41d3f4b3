// Package handover lets the processes of this project on one machine share a
// board whose WebREPL takes one client at a time (docs/protocol/webrepl.md
// §1.6): a process that wants the board asks the one holding it to let go
// instead of being turned away. It knows neither Jupyter nor WebSocket
// frames; callers describe themselves (Options.What, Busy, KeepHow: the
// words other processes' messages use), say when they use the board
// (Acquire/Done) and give a Release function that closes their link.
//
// There is no daemon. Coordination lives in the user's runtime folder
// ($XDG_RUNTIME_DIR, else the OS temp folder), in a subfolder of mode 0700:
// per board URL (hashed) one entry file naming the holder (PID, what it is,
// its unix socket), one socket per process, and one lock file that
// serialises take-overs. A newcomer
// connects to the holder's socket and asks it to let go; an idle holder
// calls Release, answers "released" and reconnects by itself (Acquire) the
// next time it needs the board; a busy or kept holder answers so, and the
// newcomer waits up to Options.Wait, telling the user what it waits for.
// An entry whose process is gone (kill -0 fails, or its socket refuses)
// is stale and overwritten.
//
// Linux and macOS only; elsewhere Supported is false and Acquire does
// nothing, so the board's own single-client rule is all there is.
package handover
