package main

import (
	"context"
	"errors"
)

// runSim is replaced by the simulator work (issue 2).
func runSim(ctx context.Context, args []string) error { return errors.New("not built yet") }
