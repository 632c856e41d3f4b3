package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"webrepl-kernel/boardsync"
	"webrepl-kernel/mip"
	"webrepl-kernel/webrepl"
)

// runSync: webrepl-kernel sync LOCAL_DIR [BOARD_DIR] (boardsync.Sync).
func runSync(ctx context.Context, fs *flag.FlagSet, args []string) error {
	conn := addConnFlags(fs)
	defer conn.release() // deferred first, so after the session's Close
	del := fs.Bool("delete", false, "remove board files and folders that are not in LOCAL_DIR")
	dry := fs.Bool("dry-run", false, "list what would change, change nothing")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usage("want LOCAL_DIR [BOARD_DIR], got %d arguments", len(pos))
	}
	boardDir := "/"
	if len(pos) == 2 {
		boardDir = pos[1]
	}
	if st, err := os.Stat(pos[0]); err != nil || !st.IsDir() {
		return fmt.Errorf("no such local folder: %s", pos[0])
	}
	s, err := conn.connect(ctx, webrepl.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	opts := boardsync.Options{Delete: *del, DryRun: *dry}
	progress, finish := newProgress(os.Stderr, "sync "+pos[0])
	plan, err := boardsync.Sync(ctx, s, pos[0], boardDir, opts, progress)
	finish()
	for _, c := range plan.Changes {
		fmt.Println(c.Describe())
	}
	if err != nil {
		return fmt.Errorf("sync %s to %s on the board: %w", pos[0], boardDir, err)
	}
	fmt.Println(plan.Summary(opts.DryRun))
	return nil
}

// runMip: webrepl-kernel mip install PKG... | mip list (package mip).
func runMip(ctx context.Context, fs *flag.FlagSet, args []string) error {
	conn := addConnFlags(fs)
	defer conn.release() // deferred first, so after the session's Close
	target := fs.String("target", "", "board folder to install into (default: the board's lib folder, /lib)")
	index := fs.String("index", mip.DefaultIndex, "package index URL")
	noMPY := fs.Bool("no-mpy", false, "install .py files, not .mpy")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || (pos[0] != "install" && pos[0] != "list") {
		return usage("want install PKG[@VERSION]... or list")
	}
	if pos[0] == "install" && len(pos) < 2 {
		return usage("install wants at least one package")
	}
	if pos[0] == "list" && len(pos) != 1 {
		return usage("list takes no arguments")
	}
	s, err := conn.connect(ctx, webrepl.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	if pos[0] == "list" {
		dir := *target
		if dir == "" {
			info, err := s.LibInfo(ctx)
			if err != nil {
				return err
			}
			dir = info.LibDir
		}
		entries, err := s.Tree(ctx, dir)
		if err != nil {
			return fmt.Errorf("listing %s: %w", dir, err)
		}
		for _, e := range entries {
			if e.IsDir {
				fmt.Printf("%8s  %s/\n", "", e.Path)
			} else {
				fmt.Printf("%8d  %s\n", e.Size, e.Path)
			}
		}
		return nil
	}
	opts := mip.Options{Index: *index, Target: *target, NoMPY: *noMPY, Line: func(l string) { fmt.Println(l) }}
	progress, finish := newProgress(os.Stderr, "mip install")
	res, err := mip.Install(ctx, s, pos[1:], opts, progress)
	finish()
	if err != nil {
		return fmt.Errorf("mip install: %w (nothing was installed)", err)
	}
	fmt.Println(res.Summary())
	return nil
}
