// Package winjob ties child processes to their parent on Windows with a job
// object that kills every process in it when its last handle closes: when
// the parent ends (even killed), Windows closes the handle and the children
// die with it. Kill ends them at once. Elsewhere it does nothing (Linux and
// macOS use process groups and, on Linux, a parent-death signal: see sim/ and
// jupyter/).
package winjob
