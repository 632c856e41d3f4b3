package main

import (
	"context"
	"errors"
)

// These are replaced by the webrepl client work (issue 3).
func runExec(ctx context.Context, args []string) error { return errors.New("not built yet") }
func runPut(ctx context.Context, args []string) error  { return errors.New("not built yet") }
func runGet(ctx context.Context, args []string) error  { return errors.New("not built yet") }
func runLs(ctx context.Context, args []string) error   { return errors.New("not built yet") }
func runRepl(ctx context.Context, args []string) error { return errors.New("not built yet") }
