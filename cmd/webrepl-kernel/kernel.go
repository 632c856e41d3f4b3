package main

import (
	"context"
	"errors"
)

// These are replaced by the kernel work (issue 4).
func runKernel(ctx context.Context, args []string) error    { return errors.New("not built yet") }
func runInstall(ctx context.Context, args []string) error   { return errors.New("not built yet") }
func runUninstall(ctx context.Context, args []string) error { return errors.New("not built yet") }
