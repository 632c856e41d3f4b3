//go:build !(linux || darwin || windows)

package sim

import (
	"errors"
	"os"
)

func tryLock(*os.File) (busy bool, err error) {
	return false, errors.New("file locks are not available on this system")
}

func unlockFile(*os.File) {}
