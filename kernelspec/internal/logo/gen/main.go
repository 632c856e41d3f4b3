// Command gen writes the kernelspec's logo files from the logo package:
//
//	go run ./kernelspec/internal/logo/gen kernelspec/assets
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"webrepl-kernel/kernelspec/internal/logo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: gen OUTPUT_DIR")
	}
	dir := os.Args[1]
	for _, size := range []int{32, 64} {
		data, err := logo.PNG(size)
		if err != nil {
			return err
		}
		name := filepath.Join(dir, fmt.Sprintf("logo-%dx%d.png", size, size))
		if err := os.WriteFile(name, data, 0o644); err != nil {
			return fmt.Errorf("writing logo: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "logo-svg.svg"), logo.SVG(), 0o644); err != nil {
		return fmt.Errorf("writing logo: %w", err)
	}
	return nil
}
