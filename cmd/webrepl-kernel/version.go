package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// commit is the git commit the binary was built from, stamped by `make
// build` and `make dist` (-ldflags -X main.commit=…, with "-dirty" when the
// tree had uncommitted changes). It is needed where the toolchain records
// none: with GOFLAGS=-buildvcs=false, or from a git worktree.
var commit string

// runVersion prints what this binary is: the version the kernel reports in
// kernel_info, the module version and VCS stamp the Go toolchain recorded
// (go build inside a git checkout records the commit, its time and
// whether the tree had uncommitted changes), and the Go version.
func runVersion(ctx context.Context, fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Printf("webrepl-kernel %s\n", version)
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if commit != "" {
			fmt.Printf("commit %s\n", commit)
		}
		fmt.Printf("build info: not recorded\n%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	}
	fmt.Printf("module %s %s\n", info.Main.Path, info.Main.Version)
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		line := "commit " + rev
		if t := settings["vcs.time"]; t != "" {
			line += " (" + t + ")"
		}
		if settings["vcs.modified"] == "true" {
			line += " with uncommitted changes"
		}
		fmt.Println(line)
	} else if commit != "" {
		fmt.Println("commit " + commit)
	} else {
		fmt.Println("commit not recorded (built outside git or with -buildvcs=false)")
	}
	fmt.Printf("%s %s/%s\n", info.GoVersion, runtime.GOOS, runtime.GOARCH)
	return nil
}
