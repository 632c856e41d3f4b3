// Package bench holds the project's benchmarks (bench_test.go): how fast a
// notebook cell reaches a simulated board by raw-paste, by paced raw REPL
// and by the original kernel's 50 ms per line, how many bytes each loses,
// and the throughput of WebREPL file transfer. `make bench` runs them once
// each; every figure comes from one run, as ratios within that run.
package bench
